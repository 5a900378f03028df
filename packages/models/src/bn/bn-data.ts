/**
 * Discrete data for Bayesian networks: CSV files whose header names nodes and whose cells are
 * state names (or state indices).
 *
 * Same conventions as `@emlab/data`'s numeric CSV reader: streamed line by line
 * (`createReadStream` + `readline`) into a geometrically grown `Int32Array` (4 bytes per cell),
 * unquoted cells trimmed (quoted cells kept exactly), RFC 4180 double quotes, a UTF-8 BOM, `\r\n` and trailing blank lines accepted,
 * missing markers `''`, `NA`, `NaN`, `nan`, `?` by default. The in-memory {@link parseBnCsv} feeds
 * the same line processor.
 *
 * A cell is read as: the node's state of that name; else a missing marker (→ −1); else a state
 * index `0 … states−1`; else an error. (So a state really named `NA` stays a state.)
 *
 * @module
 */
import { CsvLineReader, emError, splitCsvLine } from '@emlab/core';
import { streamLines } from '@emlab/core/node';
import type { BayesNet, BnData, BnNode } from './bn-types.js';
import { checkNetworkStructure } from './bn-validate.js';

/** Options of {@link parseBnCsv} and {@link readBnCsv}. @category Bayesian networks */
export interface BnCsvOptions {
  /** Nodes declared hidden: a column for one of them is an error. Nodes absent from the header are hidden anyway. */
  readonly hidden?: readonly string[];
  /** Cell texts read as missing (after trimming and unquoting). Default `['', 'NA', 'NaN', 'nan', '?']`. */
  readonly missingMarkers?: readonly string[];
  /** Name of the text in error messages ({@link parseBnCsv} only). Default `'<csv>'`. */
  readonly name?: string;
  /**
   * A column of row weights (finite numbers >= 0, e.g. counts of identical rows), left out of the
   * data and returned as `weights`; a missing or bad weight is an error naming the line and column.
   */
  readonly weightsColumn?: string;
}

/** Data read with a weights column: the data and its row weights. @category Bayesian networks */
export type WeightedBnData = BnData & { readonly weights?: Float64Array };

/** The default missing-cell markers (as in `@emlab/data`). @category Bayesian networks */
export const BN_MISSING_MARKERS: readonly string[] = Object.freeze(['', 'NA', 'NaN', 'nan', '?']);

const INITIAL_ROWS = 1024;
const INDEX_RE = /^\d+$/;

interface Checked {
  readonly nodeIndex: Map<string, number>;
  readonly hidden: Set<string>;
  readonly markers: Set<string>;
  readonly weightsColumn: string | undefined;
}

const WEIGHT_RE = /^[+]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function checkOptions(net: BayesNet, options: unknown): Checked {
  const nodeIndex = checkNetworkStructure(net);
  if (options === undefined) return { nodeIndex, hidden: new Set(), markers: new Set(BN_MISSING_MARKERS), weightsColumn: undefined };
  if (typeof options !== 'object' || options === null) {
    throw emError('INVALID_ARGUMENT', ['options'], options, 'must be an options object', 'pass e.g. { hidden: ["either"] } or omit it');
  }
  const o = options as BnCsvOptions;
  for (const key of Object.keys(o)) {
    if (!['hidden', 'missingMarkers', 'name', 'weightsColumn'].includes(key)) throw emError('INVALID_ARGUMENT', ['options', key], (o as Record<string, unknown>)[key], 'is not an option of the BN CSV reader', 'use hidden, missingMarkers, name or weightsColumn');
  }
  const hidden = new Set<string>();
  if (o.hidden !== undefined) {
    if (!Array.isArray(o.hidden)) throw emError('INVALID_ARGUMENT', ['options', 'hidden'], o.hidden, 'must be an array of node names', 'pass e.g. hidden: ["either"]');
    for (const h of o.hidden as unknown[]) {
      if (typeof h !== 'string' || !nodeIndex.has(h)) {
        throw emError('INVALID_ARGUMENT', ['options', 'hidden'], h, 'is not a node of the network', `name nodes of the network (${[...nodeIndex.keys()].slice(0, 12).join(', ')}${nodeIndex.size > 12 ? ', ...' : ''})`);
      }
      hidden.add(h);
    }
  }
  let markers = new Set(BN_MISSING_MARKERS);
  if (o.missingMarkers !== undefined) {
    if (!Array.isArray(o.missingMarkers) || !o.missingMarkers.every((m) => typeof m === 'string')) {
      throw emError('INVALID_ARGUMENT', ['options', 'missingMarkers'], o.missingMarkers, 'must be an array of strings', 'pass e.g. missingMarkers: ["", "NA", "?"]');
    }
    markers = new Set(o.missingMarkers);
  }
  if (o.name !== undefined && typeof o.name !== 'string') throw emError('INVALID_ARGUMENT', ['options', 'name'], o.name, 'must be a string', 'pass a name for error messages');
  if (o.weightsColumn !== undefined && (typeof o.weightsColumn !== 'string' || o.weightsColumn === '' || nodeIndex.has(o.weightsColumn))) {
    throw emError('INVALID_ARGUMENT', ['options', 'weightsColumn'], o.weightsColumn, 'must be the name of a column that is not a node', 'name the column of row weights');
  }
  return { nodeIndex, hidden, markers, weightsColumn: o.weightsColumn };
}

class BnCsvProcessor extends CsvLineReader {
  private columns: string[] | undefined;
  /** Position of the weights column in the file (-1: none). */
  private weightAt = -1;
  private weights = new Float64Array(0);
  private lookups: Map<string, number>[] = [];
  private cards: number[] = [];
  private rows = 0;
  private buffer = new Int32Array(0);

  constructor(
    private readonly name: string,
    private readonly net: BayesNet,
    private readonly checked: Checked,
  ) {
    super();
  }

  finish(): WeightedBnData {
    if (this.columns === undefined) {
      throw emError('PARSE_ERROR', [this.name], this.name, 'the file is empty: line 1 should be a header row of node names', 'add a header row naming the observed nodes, e.g. "asia,smoke,xray", followed by rows of states');
    }
    if (this.rows === 0) {
      throw emError('PARSE_ERROR', [this.name], this.name, `has a header (line ${this.headerLine}) but no data rows`, 'add at least one row of states after the header');
    }
    const data = { columns: this.columns, nRows: this.rows, values: this.buffer.slice(0, this.rows * this.columns.length) };
    return this.weightAt < 0 ? data : { ...data, weights: this.weights.slice(0, this.rows) };
  }

  protected header(text: string, lineNo: number): void {
    const all = splitCsvLine(text, (problem) => emError('PARSE_ERROR', [this.name, 'header'], text, `line ${lineNo}: ${problem}`, 'fix the quoting of the header row'), { keepQuoted: true });
    const { nodeIndex, hidden, weightsColumn } = this.checked;
    if (weightsColumn !== undefined) {
      this.weightAt = all.indexOf(weightsColumn);
      if (this.weightAt < 0) {
        throw emError('PARSE_ERROR', [this.name, 'header'], weightsColumn, `line ${lineNo}: the weights column ${JSON.stringify(weightsColumn)} is not in the header (${all.join(', ')})`, "name one of the header's columns");
      }
      this.weights = new Float64Array(INITIAL_ROWS);
    }
    const names = all.filter((_, c) => c !== this.weightAt);
    const seen = new Map<string, number>();
    names.forEach((col, at) => {
      const c = this.weightAt >= 0 && at >= this.weightAt ? at + 1 : at; // the column's position in the file
      const where = [this.name, 'header', 'column', c + 1];
      if (col === '') throw emError('PARSE_ERROR', where, col, `line ${lineNo}, column ${c + 1}: empty column name`, 'name every column after a node of the network');
      const prev = seen.get(col);
      if (prev !== undefined) throw emError('PARSE_ERROR', [this.name, 'header', 'column', col], col, `line ${lineNo}: column ${JSON.stringify(col)} appears twice (columns ${prev + 1} and ${c + 1})`, 'give every node one column');
      seen.set(col, c);
      const i = nodeIndex.get(col);
      if (i === undefined) {
        const known = [...nodeIndex.keys()];
        throw emError(
          'PARSE_ERROR',
          [this.name, 'header', 'column', col],
          col,
          `line ${lineNo}, column ${c + 1}: ${JSON.stringify(col)} is not a node of network ${JSON.stringify(this.net.name)}`,
          `name columns after nodes (${known.slice(0, 12).join(', ')}${known.length > 12 ? ', ...' : ''}), or drop the column`,
        );
      }
      if (hidden.has(col)) {
        throw emError('INVALID_DATA', [this.name, 'header', 'column', col], col, `line ${lineNo}, column ${c + 1}: node ${JSON.stringify(col)} is declared hidden but the data has a column for it`, 'drop the column from the data, or do not declare the node hidden');
      }
      const node = this.net.nodes[i] as BnNode;
      const lookup = new Map<string, number>();
      node.states.forEach((s, k) => lookup.set(s, k));
      this.lookups.push(lookup);
      this.cards.push(node.states.length);
    });
    this.columns = names;
    this.buffer = new Int32Array(INITIAL_ROWS * names.length);
  }

  protected row(text: string, lineNo: number): void {
    const columns = this.columns as string[];
    const cols = columns.length;
    const r = this.rows;
    let cells = splitCsvLine(text, (problem) => emError('PARSE_ERROR', [this.name, 'row', r], text, `line ${lineNo}: ${problem}`, 'fix the quoting: a quoted cell ends with a double quote, a literal quote is written ""'), { keepQuoted: true });
    const width = cols + (this.weightAt < 0 ? 0 : 1);
    if (cells.length !== width) {
      throw emError('PARSE_ERROR', [this.name, 'row', r], text, `line ${lineNo} (data row ${r + 1}): expected ${width} cells (one per header column) but found ${cells.length}`, `give every row exactly ${width} comma-separated cells; leave a cell empty for a missing value`);
    }
    if (this.weightAt >= 0) {
      const cell = (cells[this.weightAt] as string).trim();
      const w = Number(cell);
      if (!WEIGHT_RE.test(cell) || !Number.isFinite(w)) {
        const column = this.checked.weightsColumn as string;
        throw emError('PARSE_ERROR', [this.name, 'row', r, 'column', column], cell, `line ${lineNo} (data row ${r + 1}), column ${this.weightAt + 1} (${JSON.stringify(column)}): weight ${JSON.stringify(cell)} is not a finite number >= 0`, 'give every row a weight >= 0 (0 leaves a row out)');
      }
      if (r >= this.weights.length) {
        const grown = new Float64Array(this.weights.length * 2);
        grown.set(this.weights);
        this.weights = grown;
      }
      this.weights[r] = w;
      cells = cells.filter((_, c) => c !== this.weightAt);
    }
    const need = (r + 1) * cols;
    if (need > this.buffer.length) {
      const grown = new Int32Array(Math.max(need, this.buffer.length * 2));
      grown.set(this.buffer);
      this.buffer = grown;
    }
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const cell = cells[c] as string;
      const k = (this.lookups[c] as Map<string, number>).get(cell);
      if (k !== undefined) {
        this.buffer[base + c] = k;
      } else if (this.checked.markers.has(cell)) {
        this.buffer[base + c] = -1;
      } else if (INDEX_RE.test(cell) && Number(cell) < (this.cards[c] as number)) {
        this.buffer[base + c] = Number(cell);
      } else {
        const column = columns[c] as string;
        const states = [...(this.lookups[c] as Map<string, number>).keys()];
        throw emError(
          'PARSE_ERROR',
          [this.name, 'row', r, 'column', column],
          cell,
          `line ${lineNo} (data row ${r + 1}), column ${JSON.stringify(column)}: ${JSON.stringify(cell)} is not a state of ${column} (states: ${states.join(', ')}) nor a state index 0..${states.length - 1}`,
          'fix the cell, or leave it empty for a missing value',
        );
      }
    }
    this.rows++;
  }
}

/**
 * Parses CSV text of discrete observations of a network's nodes (see the module notes).
 *
 * @param text - The CSV text, header row first.
 * @param net - The network whose nodes the columns name.
 * @param options - `hidden` nodes, `missingMarkers`, `name` for messages, `weightsColumn`.
 * @returns `columns` in header order, `values[r * columns.length + c]` state indices, −1 missing;
 *   `weights` `[nRows]` with `weightsColumn`.
 * @throws EmError `PARSE_ERROR` (empty file, no rows, unknown or duplicate column, ragged row,
 *   unknown state: message with line, data row and column), `INVALID_DATA` (a column for a node
 *   declared hidden), `INVALID_ARGUMENT` (options, malformed network).
 * @example
 * ```ts
 * const data = parseBnCsv('smoke,xray\nyes,no\nno,\n', asia); // xray missing in row 2
 * ```
 * @category Bayesian networks
 */
export function parseBnCsv(text: string, net: BayesNet, options?: BnCsvOptions): WeightedBnData {
  if (typeof text !== 'string') throw emError('INVALID_ARGUMENT', ['text'], text, 'must be a string', 'pass the CSV content, or use readBnCsv for a file');
  const checked = checkOptions(net, options);
  const p = new BnCsvProcessor(options?.name ?? '<csv>', net, checked);
  p.text(text);
  return p.finish();
}

/**
 * Reads a CSV file of discrete observations, streaming it line by line; same rules and errors as
 * {@link parseBnCsv}, plus `IO_ERROR`.
 *
 * @example
 * ```ts
 * const net = await readNetwork('asia.bif');
 * const data = await readBnCsv('asia.csv', net, { hidden: ['either'] });
 * ```
 * @category Bayesian networks
 */
export async function readBnCsv(path: string, net: BayesNet, options?: Omit<BnCsvOptions, 'name'>): Promise<WeightedBnData> {
  if (typeof path !== 'string' || path === '') throw emError('INVALID_ARGUMENT', ['path'], path, 'must be a non-empty file path', 'pass the path of a CSV file');
  const p = new BnCsvProcessor(path, net, checkOptions(net, options));
  await streamLines(path, p);
  return p.finish();
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Checks that `data` fits `net`: columns are distinct nodes, `values` has `nRows × columns`
 * entries, every value is −1 or a state index of its node.
 * @throws EmError `INVALID_DATA` naming the column (and row), `INVALID_ARGUMENT` for a malformed network.
 * @category Bayesian networks
 */
export function checkBnData(data: BnData, net: BayesNet): void {
  const nodeIndex = checkNetworkStructure(net);
  if (typeof data !== 'object' || data === null || !Array.isArray(data.columns) || !(data.values instanceof Int32Array) || !Number.isInteger(data.nRows) || data.nRows < 0) {
    throw emError('INVALID_DATA', ['data'], data, 'must be BnData { columns: string[], nRows, values: Int32Array }', 'read it with readBnCsv or parseBnCsv, or sample it with sampleNetwork');
  }
  const cols = data.columns.length;
  if (data.values.length !== data.nRows * cols) {
    throw emError('INVALID_DATA', ['data', 'values'], data.values, `has ${data.values.length} entries but nRows × columns = ${data.nRows} × ${cols} = ${data.nRows * cols}`, 'give one value per row and column');
  }
  const seen = new Set<string>();
  const cards = data.columns.map((col, c) => {
    const i = typeof col === 'string' ? nodeIndex.get(col) : undefined;
    if (i === undefined) throw emError('INVALID_DATA', ['data', 'columns', c], col, 'is not a node of the network', 'name columns after nodes of the network');
    if (seen.has(col)) throw emError('INVALID_DATA', ['data', 'columns', c], col, 'appears twice', 'give every node at most one column');
    seen.add(col);
    return (net.nodes[i] as BnNode).states.length;
  });
  for (let r = 0; r < data.nRows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = data.values[r * cols + c] as number;
      if (v < -1 || v >= (cards[c] as number)) {
        throw emError('INVALID_DATA', ['data', 'row', r, 'column', data.columns[c] as string], v, `row ${r + 1}, column ${JSON.stringify(data.columns[c])}: not a state index of the node (0..${(cards[c] as number) - 1}) nor -1 (missing)`, 'use state indices of the node, or -1 for a missing cell');
      }
    }
  }
}

/**
 * Writes data as CSV text: a header of node names, state names in the cells, missing cells empty.
 * Names with commas, quotes or surrounding spaces are quoted; {@link parseBnCsv} reads it back
 * exactly.
 *
 * @throws EmError `INVALID_DATA` (see {@link checkBnData}).
 * @example
 * ```ts
 * await writeFile('sample.csv', writeBnCsv(sampleNetwork(asia, 1000, 0), asia));
 * ```
 * @category Bayesian networks
 */
export function writeBnCsv(data: BnData, net: BayesNet): string {
  checkBnData(data, net);
  const nodeIndex = checkNetworkStructure(net);
  const cols = data.columns.length;
  const names = data.columns.map((col) => (net.nodes[nodeIndex.get(col) as number] as BnNode).states.map(csvCell));
  const lines: string[] = [data.columns.map(csvCell).join(',')];
  const cells = new Array<string>(cols);
  for (let r = 0; r < data.nRows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = data.values[r * cols + c] as number;
      cells[c] = v < 0 ? '' : ((names[c] as string[])[v] as string);
    }
    // A one-column row that is missing would be a blank line (skipped at the end of a file): quote it.
    lines.push(cols === 1 && cells[0] === '' ? '""' : cells.join(','));
  }
  return `${lines.join('\n')}\n`;
}
