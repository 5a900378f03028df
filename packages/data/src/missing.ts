/**
 * Missing entries in numeric tables: masking mechanisms (to make benchmark
 * data with known hidden values) and the heuristic baselines EM is compared
 * with (drop incomplete rows, fill with zeros, fill with column means).
 * Tables are row-major `{ values, rows, cols }` with NaN for a missing entry.
 * @module
 */
import { createRng, emError, numberOption, rejectUnknownOptions, type Seed } from '@emlab/core';

/** A dense row-major numeric matrix; NaN marks a missing entry (a `NumericMatrix` from the CSV reader is one). @category Missing data */
export interface NumericMatrix {
  readonly values: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/**
 * How entries go missing.
 * - `mcar` (missing completely at random): every entry independently with probability `rate`.
 * - `mar` (missing at random): column 0 is always observed; an entry of another column is missing
 *   with probability 2·rate·q, q ∈ [0, 1) the rank of the row's column-0 value divided by N, so
 *   rows with large x₀ lose more entries (the mechanism depends on observed values only).
 * @category Missing data
 */
export type MissingMechanism = 'mcar' | 'mar';

/** Options of {@link maskMissing}. @category Missing data */
export interface MaskOptions {
  /** Fraction of entries to hide, in [0, 1) (`mar`: of the entries of columns 1…D−1, at most 0.5). */
  readonly rate: number;
  /** Default `'mcar'`. */
  readonly mechanism?: MissingMechanism;
  /** Default 0. */
  readonly seed?: Seed;
}

function checkTable(t: NumericMatrix, name: string): void {
  if (typeof t !== 'object' || t === null || !(t.values instanceof Float64Array) || !Number.isInteger(t.rows) || !Number.isInteger(t.cols) || t.values.length !== t.rows * t.cols) {
    throw emError('INVALID_DATA', [name], t, 'must be { values: Float64Array, rows, cols } with values.length === rows * cols', 'pass a table such as the one readNumericCsv returns');
  }
}

/**
 * Hides entries of a complete table by a seeded mechanism.
 * @returns the masked table (NaN where hidden) and the mask (1 = hidden).
 * @throws EmError `INVALID_ARGUMENT` for a bad option, `INVALID_DATA` when the table already has NaN.
 * @category Missing data
 */
export function maskMissing(table: NumericMatrix, options: MaskOptions): { table: NumericMatrix; mask: Uint8Array } {
  checkTable(table, 'table');
  rejectUnknownOptions(options as unknown as Record<string, unknown>, ['rate', 'mechanism', 'seed'], 'maskMissing');
  const mechanism = options.mechanism ?? 'mcar';
  if (mechanism !== 'mcar' && mechanism !== 'mar') throw emError('INVALID_ARGUMENT', ['maskMissing', 'mechanism'], mechanism, "is not a mechanism", "use 'mcar' or 'mar'");
  const rate = numberOption(options.rate, ['maskMissing', 'rate'], 0, mechanism === 'mar' ? 0.5 : 1);
  if (rate >= 1) throw emError('INVALID_ARGUMENT', ['maskMissing', 'rate'], rate, 'must be below 1', 'pass a rate in [0, 1)');
  const { rows, cols } = table;
  if (table.values.some(Number.isNaN)) throw emError('INVALID_DATA', ['table'], 'NaN', 'already has missing entries', 'mask a complete table');
  if (mechanism === 'mar' && cols < 2) throw emError('INVALID_ARGUMENT', ['maskMissing', 'mechanism'], mechanism, 'needs at least 2 columns (column 0 drives the missingness)', "use 'mcar'");
  const rng = createRng(options.seed ?? 0).child('mask', mechanism);
  const mask = new Uint8Array(rows * cols);
  if (mechanism === 'mcar') {
    for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < rate ? 1 : 0;
  } else {
    const byX0 = Array.from({ length: rows }, (_, r) => r).sort((a, b) => (table.values[a * cols] as number) - (table.values[b * cols] as number) || a - b);
    const rank = new Float64Array(rows);
    byX0.forEach((r, q) => (rank[r] = q / rows));
    for (let r = 0; r < rows; r++) for (let c = 1; c < cols; c++) mask[r * cols + c] = rng.uniform() < 2 * rate * (rank[r] as number) ? 1 : 0;
  }
  const values = table.values.slice();
  for (let i = 0; i < mask.length; i++) if (mask[i] === 1) values[i] = Number.NaN;
  return { table: { values, rows, cols }, mask };
}

/**
 * Baseline: keeps only the rows with no missing entry (listwise deletion).
 * @throws EmError `INVALID_DATA` when no row is complete.
 * @category Missing data
 */
export function dropIncompleteRows(table: NumericMatrix): NumericMatrix & { kept: Int32Array } {
  checkTable(table, 'table');
  const { rows, cols } = table;
  const kept: number[] = [];
  for (let r = 0; r < rows; r++) {
    let ok = true;
    for (let c = 0; c < cols && ok; c++) ok = !Number.isNaN(table.values[r * cols + c] as number);
    if (ok) kept.push(r);
  }
  if (kept.length === 0) throw emError('INVALID_DATA', ['table'], rows, 'has no complete row', 'fit through the missing entries instead (gaussianMixture accepts NaN)');
  const values = new Float64Array(kept.length * cols);
  kept.forEach((r, i) => values.set(table.values.subarray(r * cols, (r + 1) * cols), i * cols));
  return { values, rows: kept.length, cols, kept: Int32Array.from(kept) };
}

/**
 * Baseline: replaces every missing entry by 0 (`'zero'`) or by its column's
 * mean over observed entries (`'mean'`).
 * @throws EmError `INVALID_DATA` when a column has no observed value (`'mean'`).
 * @category Missing data
 */
export function fillMissing(table: NumericMatrix, how: 'zero' | 'mean'): NumericMatrix {
  checkTable(table, 'table');
  if (how !== 'zero' && how !== 'mean') throw emError('INVALID_ARGUMENT', ['how'], how, 'is not a fill method', "use 'zero' or 'mean'");
  const { rows, cols } = table;
  const fill = new Float64Array(cols);
  if (how === 'mean') {
    for (let c = 0; c < cols; c++) {
      let sum = 0;
      let n = 0;
      for (let r = 0; r < rows; r++) {
        const v = table.values[r * cols + c] as number;
        if (!Number.isNaN(v)) {
          sum += v;
          n++;
        }
      }
      if (n === 0) throw emError('INVALID_DATA', ['table', 'column', c], 0, `column ${c} has no observed value`, 'drop the column');
      fill[c] = sum / n;
    }
  }
  const values = table.values.map((v, i) => (Number.isNaN(v) ? (fill[i % cols] as number) : v));
  return { values, rows, cols };
}
