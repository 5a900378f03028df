/**
 * HMM data from CSV: time-ordered rows, an optional sequence-id column, the
 * observation columns (numbers, or category labels for categorical emissions).
 *
 * Rows of one sequence keep their file order; sequences are ordered by their
 * first row (interleaved ids are grouped, and `order` maps the grouped rows
 * back to the file's rows). Same CSV conventions as the other readers:
 * streamed line by line, RFC 4180 quotes, a UTF-8 BOM, CRLF, missing markers
 * `''`, `NA`, `NaN`, `nan`, `?` by default.
 * @module
 */
import { CsvLineReader, emError, splitCsvLine } from '@emlab/core';
import { streamLines } from '@emlab/core/node';

/** Options of {@link parseHmmCsv} and {@link readHmmCsv}. @category Hidden Markov models */
export interface HmmCsvOptions {
  /** Observation columns, in this order (default: every column but the sequence column). */
  readonly columns?: readonly string[];
  /** Column of sequence ids (default: none, the rows are one sequence). */
  readonly sequenceColumn?: string;
  /** Cells are category labels (categorical emissions) instead of numbers. Default false. */
  readonly categorical?: boolean;
  /**
   * Known labels per observation column (e.g. from fitted parameters): codes follow them and any
   * other label is an error. Default: the labels seen, sorted (numerically when every label is a number).
   */
  readonly categories?: readonly (readonly string[])[];
  /** Cell texts read as missing. Default `['', 'NA', 'NaN', 'nan', '?']`. */
  readonly missingMarkers?: readonly string[];
  /** Name of the text in messages ({@link parseHmmCsv} only). Default `'<csv>'`. */
  readonly name?: string;
}

/** HMM data read from CSV: what `fit` and the model's API accept, plus the file's layout. @category Hidden Markov models */
export interface HmmTable {
  /** `[rows × cols]` row-major, grouped by sequence (NaN missing; category codes for categorical data). */
  readonly values: Float64Array;
  readonly rows: number;
  readonly cols: number;
  /** `[S]` sequence lengths. */
  readonly lengths: Int32Array;
  /** The observation columns' names. */
  readonly columns: string[];
  /** `[S]` the sequence ids (`['1']` without a sequence column). */
  readonly sequenceIds: string[];
  /** `[rows]` file row (0-based, header excluded) of each grouped row. */
  readonly order: Int32Array;
  /** Category labels per column (categorical data). */
  readonly categories?: string[][];
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DEFAULT_MARKERS: readonly string[] = ['', 'NA', 'NaN', 'nan', '?'];

class HmmCsvReader extends CsvLineReader {
  private header_: string[] | undefined;
  private pick: number[] = [];
  private seqCol = -1;
  private rows = 0;
  private buffer = new Float64Array(0);
  private seqOf = new Int32Array(0);
  private readonly ids = new Map<string, number>();
  private readonly labels: Map<string, number>[] = [];
  private readonly markers: Set<string>;

  constructor(
    private readonly name: string,
    private readonly o: HmmCsvOptions,
  ) {
    super();
    this.markers = new Set(o.missingMarkers ?? DEFAULT_MARKERS);
  }

  protected header(text: string, lineNo: number): void {
    const { names, index } = this.namedColumns(text, lineNo, this.name);
    if (this.o.sequenceColumn !== undefined) {
      const c = index.get(this.o.sequenceColumn);
      if (c === undefined) throw emError('INVALID_ARGUMENT', ['options', 'sequenceColumn'], this.o.sequenceColumn, `is not a column of ${this.name} (columns: ${names.join(', ')})`, 'name the column that holds the sequence ids');
      this.seqCol = c;
    }
    const wanted = this.o.columns ?? names.filter((_, c) => c !== this.seqCol);
    if (wanted.length === 0) throw emError('INVALID_ARGUMENT', ['options', 'columns'], wanted, `selects no observation column of ${this.name}`, 'name at least one column of observations');
    this.pick = wanted.map((n) => {
      const c = index.get(n);
      if (c === undefined) throw emError('INVALID_ARGUMENT', ['options', 'columns'], n, `is not a column of ${this.name} (columns: ${names.join(', ')})`, 'name existing columns, comma-separated');
      if (c === this.seqCol) throw emError('INVALID_ARGUMENT', ['options', 'columns'], n, 'is the sequence column', 'list only observation columns');
      return c;
    });
    const cats = this.o.categories;
    if (cats !== undefined && cats.length !== wanted.length) {
      throw emError('INVALID_ARGUMENT', ['options', 'categories'], cats.length, `lists labels for ${cats.length} columns but ${wanted.length} are read`, 'give labels for every observation column');
    }
    for (let j = 0; j < wanted.length; j++) this.labels.push(new Map((cats?.[j] ?? []).map((l, code) => [l, code])));
    this.header_ = [...wanted];
  }

  protected row(text: string, lineNo: number): void {
    const header = this.header_ as string[];
    const r = this.rows;
    const cells = splitCsvLine(text, (problem) => emError('PARSE_ERROR', [this.name, 'row', r], text, `line ${lineNo}: ${problem}`, 'fix the quoting'));
    const width = this.pick.length;
    const need = (r + 1) * width;
    if (need > this.buffer.length) {
      const grown = new Float64Array(Math.max(need, 2 * this.buffer.length, 1024 * width));
      grown.set(this.buffer);
      this.buffer = grown;
      const seq = new Int32Array(grown.length / width);
      seq.set(this.seqOf);
      this.seqOf = seq;
    }
    const expected = Math.max(...this.pick, this.seqCol) + 1;
    if (cells.length < expected) {
      throw emError('PARSE_ERROR', [this.name, 'row', r], text, `line ${lineNo} (data row ${r + 1}): has ${cells.length} cells, fewer than the header's columns`, 'give every row one cell per header column (empty for a missing value)');
    }
    if (this.seqCol >= 0) {
      const id = cells[this.seqCol] as string;
      if (this.markers.has(id)) throw emError('PARSE_ERROR', [this.name, 'row', r, 'column', this.o.sequenceColumn as string], id, `line ${lineNo} (data row ${r + 1}): the sequence id is missing`, 'give every row a sequence id');
      let s = this.ids.get(id);
      if (s === undefined) this.ids.set(id, (s = this.ids.size));
      this.seqOf[r] = s;
    }
    const known = this.o.categories !== undefined;
    for (let j = 0; j < width; j++) {
      const cell = cells[this.pick[j] as number] as string;
      let v: number;
      if (this.markers.has(cell)) v = Number.NaN;
      else if (this.o.categorical === true) {
        const map = this.labels[j] as Map<string, number>;
        let code = map.get(cell);
        if (code === undefined) {
          if (known) {
            throw emError('INVALID_DATA', [this.name, 'row', r, 'column', header[j] as string], cell, `line ${lineNo} (data row ${r + 1}): ${JSON.stringify(cell)} is an unknown category of ${header[j]} (known: ${[...map.keys()].join(', ')})`, 'fix the cell, mark it missing, or refit with this category');
          }
          map.set(cell, (code = map.size));
        }
        v = code;
      } else {
        if (!NUMBER_RE.test(cell)) throw emError('PARSE_ERROR', [this.name, 'row', r, 'column', header[j] as string], cell, `line ${lineNo} (data row ${r + 1}): not a number`, 'fix the cell or leave it empty for a missing value');
        v = Number(cell);
      }
      this.buffer[r * width + j] = v;
    }
    this.rows++;
  }

  finish(): HmmTable {
    if (this.header_ === undefined) throw emError('PARSE_ERROR', [this.name], this.name, 'the file is empty: line 1 should be a header row', 'add a header row naming the columns');
    if (this.rows === 0) throw emError('PARSE_ERROR', [this.name], this.name, 'has a header but no data rows', 'add rows of observations');
    const width = this.pick.length;
    const n = this.rows;
    let values = this.buffer.slice(0, n * width);
    // Categorical labels in a stable order: as given, else sorted (numerically when all are numbers).
    let categories: string[][] | undefined;
    if (this.o.categorical === true) {
      categories = this.labels.map((map, j) => {
        const seen = [...map.keys()];
        if (this.o.categories !== undefined) return [...(this.o.categories[j] as readonly string[])];
        const numeric = seen.every((l) => NUMBER_RE.test(l));
        const sorted = [...seen].sort((a, b) => (numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0));
        const recode = new Map(sorted.map((l, code) => [map.get(l) as number, code]));
        for (let r = 0; r < n; r++) {
          const v = values[r * width + j] as number;
          if (!Number.isNaN(v)) values[r * width + j] = recode.get(v) as number;
        }
        return sorted;
      });
    }
    // Group rows by sequence id (stable: file order within a sequence, sequences by first row).
    const nSeq = Math.max(1, this.ids.size);
    const lengths = new Int32Array(nSeq);
    const seqOf = this.seqCol >= 0 ? this.seqOf.subarray(0, n) : new Int32Array(n);
    for (let r = 0; r < n; r++) lengths[seqOf[r] as number] = (lengths[seqOf[r] as number] as number) + 1;
    const start = new Int32Array(nSeq);
    for (let s = 1; s < nSeq; s++) start[s] = (start[s - 1] as number) + (lengths[s - 1] as number);
    const order = new Int32Array(n);
    let identity = true;
    for (let r = 0; r < n; r++) {
      const s = seqOf[r] as number;
      const pos = start[s] as number;
      order[pos] = r;
      start[s] = pos + 1;
      if (pos !== r) identity = false;
    }
    if (!identity) {
      const grouped = new Float64Array(n * width);
      for (let p = 0; p < n; p++) grouped.set(values.subarray((order[p] as number) * width, ((order[p] as number) + 1) * width), p * width);
      values = grouped;
    }
    const sequenceIds = this.seqCol >= 0 ? [...this.ids.keys()] : ['1'];
    return { values, rows: n, cols: width, lengths, columns: this.header_, sequenceIds, order, ...(categories === undefined ? {} : { categories }) };
  }
}

/**
 * Parses CSV text of HMM observations (see the module notes).
 * @throws EmError `PARSE_ERROR` (empty file, no rows, short rows, a cell that is not a number, a
 *   missing sequence id: line, row and column named), `INVALID_DATA` (an unknown category when
 *   `categories` are given), `INVALID_ARGUMENT` (unknown `columns` or `sequenceColumn`).
 * @example
 * ```ts
 * const t = parseHmmCsv('id,x\na,1.5\na,2\nb,0.3\n', { sequenceColumn: 'id' }); // lengths [2, 1]
 * ```
 * @category Hidden Markov models
 */
export function parseHmmCsv(text: string, options: HmmCsvOptions = {}): HmmTable {
  const p = new HmmCsvReader(options.name ?? '<csv>', options);
  p.text(text);
  return p.finish();
}

/**
 * Reads a CSV file of HMM observations, streaming it line by line; same rules as {@link parseHmmCsv}, plus `IO_ERROR`.
 * @example
 * ```ts
 * const data = await readHmmCsv('rolls.csv', { sequenceColumn: 'session', columns: ['face'], categorical: true });
 * ```
 * @category Hidden Markov models
 */
export async function readHmmCsv(path: string, options: Omit<HmmCsvOptions, 'name'> = {}): Promise<HmmTable> {
  if (typeof path !== 'string' || path === '') throw emError('INVALID_ARGUMENT', ['path'], path, 'must be a non-empty file path', 'pass the path of a CSV file');
  const p = new HmmCsvReader(path, options);
  await streamLines(path, p);
  return p.finish();
}
