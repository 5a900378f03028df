/**
 * Data of general mixtures: the accepted forms, column resolution (names or
 * indices) for each family, and preparation: rows grouped by missingness
 * pattern over the modelled columns (complete rows first, in order), rows
 * with every modelled column missing left out, each family's columns copied
 * in that order, row weights carried along.
 * @module
 */
import { emError, type PreparedData } from '@emlab/core';
import { inspectMatrix } from '../gmm/gmm-data.js';
import type { ComponentFamily, FamilyColumnsView, FamilyData } from './component-family.js';

/**
 * Data a general mixture accepts: rows of numbers, or a dense row-major
 * matrix with optional column names (e.g. `readNumericCsv`'s table). NaN
 * marks a missing entry; categorical and count columns hold integer codes.
 * @category General mixtures
 */
export type MixtureData =
  | readonly (readonly number[])[]
  | { readonly values: ArrayLike<number>; readonly rows: number; readonly cols: number; readonly columns?: readonly string[] };

/** Data prepared for a general mixture. @category General mixtures */
export interface MixturePrepared extends PreparedData {
  /** Prepared rows (rows with every modelled column missing are left out). */
  readonly nRows: number;
  /** Rows of the caller's data. */
  readonly nOriginalRows: number;
  /** Prepared position → caller's row index, or undefined when it is the identity. */
  readonly order: Int32Array | undefined;
  /** Caller's rows left out because every modelled column is missing. */
  readonly allMissingRows: Int32Array;
  /** Row weights in prepared order, or undefined. */
  readonly weights: Float64Array | undefined;
  readonly totalWeight: number;
  /** Each family's columns. */
  readonly families: readonly FamilyData[];
  /** Each family's prepared data. */
  readonly prepared: readonly unknown[];
  /** Every modelled column in prepared order, `[nRows × nUsed]`, NaN missing (initialization). */
  readonly used: { readonly columns: readonly number[]; readonly values: Float64Array };
  /** Number of missing cells among the modelled columns of the prepared rows. */
  readonly nMissingCells: number;
}

/** The caller's data as a row-major accessor, its shape and column names. */
export interface MixtureTable {
  readonly rows: number;
  readonly cols: number;
  readonly names: readonly string[];
  at(i: number): number;
}

/**
 * Shape and value checks (±Infinity rejected, NaN missing) without copying.
 * @throws EmError `INVALID_DATA` naming the row and column.
 * @category General mixtures
 */
export function inspectMixtureData(data: MixtureData): MixtureTable {
  const { rows, cols, at } = inspectMatrix(data as Parameters<typeof inspectMatrix>[0], 'data');
  const given = !Array.isArray(data) && typeof data === 'object' && data !== null ? (data as { columns?: unknown }).columns : undefined;
  let names: string[];
  if (Array.isArray(given) && given.length === cols && given.every((c) => typeof c === 'string')) names = [...(given as string[])];
  else names = Array.from({ length: cols }, (_, c) => `x${c}`);
  return { rows, cols, names, at };
}

/**
 * Each family's columns as indices: names are looked up in the header, numbers
 * are 0-based indices; a family without `columns` takes every column no other
 * family names. Every column at most once.
 * @throws EmError `INVALID_ARGUMENT` naming the family and column.
 * @category General mixtures
 */
export function resolveFamilyColumns(families: readonly ComponentFamily[], names: readonly string[], cols: number): number[][] {
  const taken = new Map<number, number>();
  const out: (number[] | undefined)[] = families.map((f, i) => {
    if (f.columns === undefined) return undefined;
    return f.columns.map((c, j) => {
      const path = ['options', 'family', i, 'columns', j];
      let idx: number;
      if (typeof c === 'number') {
        if (!Number.isInteger(c) || c < 0 || c >= cols) throw emError('INVALID_ARGUMENT', path, c, `is not a column index of the data (0 … ${cols - 1})`, 'pass 0-based column indices or column names');
        idx = c;
      } else {
        idx = names.indexOf(c);
        if (idx < 0) throw emError('INVALID_ARGUMENT', path, c, `is not a column of the data (columns: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', ...' : ''})`, 'name columns of the table header, or pass 0-based indices');
      }
      const owner = taken.get(idx);
      if (owner !== undefined) throw emError('INVALID_ARGUMENT', path, c, `is already modelled by family ${owner} (${families[owner]?.name})`, 'give every column to at most one family');
      taken.set(idx, i);
      return idx;
    });
  });
  const rest = Array.from({ length: cols }, (_, c) => c).filter((c) => !taken.has(c));
  const open = families.map((f, i) => (f.columns === undefined ? i : -1)).filter((i) => i >= 0);
  if (open.length > 1) {
    throw emError('INVALID_ARGUMENT', ['options', 'family', open[1] as number, 'columns'], undefined, 'is missing, and another family also takes "every other column"', 'name the columns of every family but at most one');
  }
  const resolved = out.map((c, i) => c ?? (open[0] === i ? rest : []));
  resolved.forEach((c, i) => {
    const f = families[i] as ComponentFamily;
    if (c.length < f.arity.min || c.length > f.arity.max) {
      const want = f.arity.min === f.arity.max ? `exactly ${f.arity.min}` : f.arity.max === Number.POSITIVE_INFINITY ? `at least ${f.arity.min}` : `${f.arity.min} to ${f.arity.max}`;
      throw emError('INVALID_ARGUMENT', ['options', 'family', i, 'columns'], c.map((j) => names[j]), `gives the ${f.name} family ${c.length} column(s); it takes ${want}`, f.columns === undefined ? 'name its columns, or leave fewer columns for it' : 'name the right number of columns');
    }
  });
  return resolved;
}

/** A caller-order view of some columns (validation). */
export function columnsView(table: MixtureTable, columns: readonly number[]): FamilyColumnsView {
  return { rows: table.rows, columns, names: columns.map((c) => table.names[c] as string), at: (row, j) => table.at(row * table.cols + (columns[j] as number)) };
}

/**
 * Prepares data for the families (columns already resolved): rows grouped by
 * missingness pattern over the modelled columns (complete rows first, each
 * group in the caller's order), rows with nothing modelled observed left out.
 * @throws EmError `INVALID_ARGUMENT` when weights and rows disagree.
 * @category General mixtures
 */
export function prepareMixtureData(table: MixtureTable, families: readonly ComponentFamily[], columns: readonly number[][], weights?: Float64Array): MixturePrepared {
  const { rows, cols } = table;
  if (weights !== undefined && weights.length !== rows) {
    throw emError('INVALID_ARGUMENT', ['options', 'weights'], weights, `has ${weights.length} entries but the data has ${rows} rows`, 'pass one weight per row');
  }
  const used = [...new Set(columns.flat())].sort((a, b) => a - b);
  const u = used.length;
  // Row patterns over the modelled columns.
  const keys = new Array<string>(rows);
  let anyMissing = false;
  const allMissing: number[] = [];
  for (let r = 0; r < rows; r++) {
    let key = '';
    let seen = 0;
    for (const c of used) {
      const miss = Number.isNaN(table.at(r * cols + c));
      key += miss ? '0' : '1';
      if (!miss) seen++;
    }
    keys[r] = key;
    if (seen < u) anyMissing = true;
    if (seen === 0) allMissing.push(r);
  }
  let order: Int32Array | undefined;
  if (anyMissing) {
    const groups = new Map<string, number[]>();
    const complete = '1'.repeat(u);
    const empty = '0'.repeat(u);
    groups.set(complete, []);
    for (let r = 0; r < rows; r++) {
      const key = keys[r] as string;
      if (key === empty) continue;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = []));
      g.push(r);
    }
    order = Int32Array.from([...groups.values()].flat());
  }
  const n = order === undefined ? rows : order.length;
  const rowOf = (p: number): number => (order === undefined ? p : (order[p] as number));
  const pw = weights === undefined ? undefined : order === undefined ? weights : Float64Array.from(order, (r) => weights[r] as number);
  let totalWeight = n;
  if (pw !== undefined) {
    totalWeight = 0;
    for (const w of pw) totalWeight += w;
  }
  const gather = (cs: readonly number[]): Float64Array => {
    const out = new Float64Array(n * cs.length);
    for (let p = 0; p < n; p++) {
      const base = rowOf(p) * cols;
      for (let j = 0; j < cs.length; j++) out[p * cs.length + j] = table.at(base + (cs[j] as number));
    }
    return out;
  };
  const usedValues = gather(used);
  let nMissingCells = 0;
  for (const v of usedValues) if (Number.isNaN(v)) nMissingCells++;
  const familyData: FamilyData[] = columns.map((cs) => ({
    nRows: n,
    columns: cs,
    names: cs.map((c) => table.names[c] as string),
    values: gather(cs),
    weights: pw,
    totalWeight,
  }));
  const prepared = families.map((f, i) => f.prepare(familyData[i] as FamilyData));
  return {
    nRows: n,
    nOriginalRows: rows,
    order,
    allMissingRows: Int32Array.from(allMissing),
    weights: pw,
    totalWeight,
    families: familyData,
    prepared,
    used: { columns: used, values: usedValues },
    nMissingCells,
    dispose() {},
  };
}

/** Per-prepared-position values back in the caller's row order; left-out rows get `fill(row)`. @category General mixtures */
export function toCallerOrder<T>(prepared: MixturePrepared, perPosition: readonly T[], fill: (row: number) => T): T[] {
  if (prepared.order === undefined) return [...perPosition];
  const out = new Array<T>(prepared.nOriginalRows);
  prepared.order.forEach((r, p) => (out[r] = perPosition[p] as T));
  for (const r of prepared.allMissingRows) out[r] = fill(r);
  return out;
}
