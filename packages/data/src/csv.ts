/**
 * Numeric CSV input and output.
 *
 * The reader streams the file line by line (core's `streamLines`: UTF-8, or
 * UTF-16 with a byte-order mark) into a geometrically grown `Float64Array`, so
 * memory stays near 8 bytes per cell. The in-memory variant
 * {@link parseNumericCsv} feeds the same line processor, so both behave
 * identically. The writer is atomic and streams its text in chunks.
 *
 * @module
 */
import { CsvLineReader, emError, parseOptions, splitCsvLine, type ErrorPath, type OptionSchema } from '@emlab/core';
import { streamLines, writeFileAtomic } from '@emlab/core/node';

/**
 * A numeric table read from CSV: column names plus a row-major matrix.
 *
 * Structurally compatible with the `{ values, rows, cols }` data form that
 * emlab models accept.
 *
 * @example
 * ```ts
 * const t = await readNumericCsv('data.csv');
 * const firstCell = t.values[0 * t.cols + 0];
 * ```
 * @category Data
 */
export interface NumericTable {
  /** Column names from the header row, in file order. */
  columns: string[];
  /** Number of data rows (the header is not counted). */
  rows: number;
  /** Number of columns (`columns.length`). */
  cols: number;
  /** Row-major cell values, `rows * cols` entries; missing cells are NaN. */
  values: Float64Array;
  /** Number of cells that were missing (NaN) in `values`. */
  missing: number;
}

/**
 * Options of {@link readNumericCsv} and {@link parseNumericCsv}.
 * @category Data
 */
export interface CsvReadOptions {
  /**
   * Cell texts (after trimming and unquoting) read as missing values (NaN).
   * Case-sensitive. Default {@link DEFAULT_MISSING_MARKERS}.
   */
  readonly missingMarkers?: readonly string[];
  /**
   * Cells that are not finite numbers (`Infinity`, `-Infinity`, and numbers beyond float64's range
   * such as `1e400`): `'error'` (default) reports the line and column; `'keep'` reads them as ±Infinity.
   */
  readonly nonFinite?: 'error' | 'keep';
}

/**
 * Options of {@link parseNumericCsv}.
 * @category Data
 */
export interface CsvParseOptions extends CsvReadOptions {
  /** Name used for the text in error paths and messages. Default `'<csv>'`. */
  readonly name?: string;
}

/**
 * The default missing-value markers: `''`, `'NA'`, `'NaN'`, `'nan'` and `'?'`.
 * @category Data
 */
export const DEFAULT_MISSING_MARKERS: readonly string[] = Object.freeze(['', 'NA', 'NaN', 'nan', '?']);

/** Strict decimal number syntax (plus ±Infinity, which `String(x)` writes). */
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?Infinity$/;

const INITIAL_ROW_CAPACITY = 1024;

/** The option table of the readers (validation, defaults, docs). */
const READ_OPTIONS = {
  missingMarkers: {
    type: 'custom',
    shape: 'an array of strings',
    description: 'cell texts read as missing values (NaN)',
    check: (v, path) => {
      if (!Array.isArray(v) || !v.every((m) => typeof m === 'string')) throw emError('INVALID_ARGUMENT', path, v, 'must be an array of strings', 'pass e.g. missingMarkers: ["", "NA", "?"]');
      return [...(v as string[])];
    },
  },
  nonFinite: { type: 'enum', values: ['error', 'keep'], default: 'error', description: 'infinite or overflowing cells: an error naming line and column, or kept as ±Infinity' },
  name: { type: 'string', description: 'name of the text in error messages (parseNumericCsv only)' },
} as const satisfies OptionSchema;

interface ReadSettings {
  readonly markers: Set<string>;
  readonly keepNonFinite: boolean;
  readonly name: string | undefined;
}

function checkReadOptions(opts: unknown, owner: string, allowName: boolean): ReadSettings {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null || Array.isArray(opts))) {
    throw emError('INVALID_ARGUMENT', ['options'], opts, `must be an options object for ${owner}`, 'pass e.g. { missingMarkers: ["", "NA"] } or omit it');
  }
  if (!allowName && opts !== undefined && 'name' in opts) {
    throw emError('INVALID_ARGUMENT', ['options', 'name'], (opts as { name?: unknown }).name, `is not an option of ${owner} (errors name the file)`, 'drop it');
  }
  const o = parseOptions(READ_OPTIONS, opts, { owner, pathOf: (k) => ['options', k] });
  return {
    markers: new Set((o['missingMarkers'] as string[] | undefined) ?? DEFAULT_MISSING_MARKERS),
    keepNonFinite: o['nonFinite'] === 'keep',
    name: o['name'] as string | undefined,
  };
}

function quoteList(items: Iterable<string>): string {
  return [...items].map((s) => JSON.stringify(s)).join(', ');
}

/**
 * Incremental line processor shared by the streamed and in-memory readers.
 * Feed physical lines (without terminators) with {@link CsvLineProcessor.line},
 * then call {@link CsvLineProcessor.finish}.
 */
class CsvLineProcessor extends CsvLineReader {
  private readonly name: string;
  private readonly markers: Set<string>;
  private readonly keepNonFinite: boolean;
  private columns: string[] | undefined;
  private cols = 0;
  private rows = 0;
  private missing = 0;
  private buffer = new Float64Array(0);

  constructor(name: string, settings: ReadSettings) {
    super();
    this.name = name;
    this.markers = settings.markers;
    this.keepNonFinite = settings.keepNonFinite;
  }

  finish(): NumericTable {
    if (this.columns === undefined) {
      throw emError('PARSE_ERROR', [this.name], this.name, 'the file is empty: line 1 should be a header row of column names', 'add a header row such as "x1,x2,x3" followed by numeric rows');
    }
    if (this.rows === 0) {
      throw emError('PARSE_ERROR', [this.name], this.name, `has a header (line ${this.headerLine}) but no data rows`, 'add at least one row of numbers after the header');
    }
    return {
      columns: this.columns,
      rows: this.rows,
      cols: this.cols,
      values: this.buffer.slice(0, this.rows * this.cols),
      missing: this.missing,
    };
  }

  protected header(text: string, lineNo: number): void {
    const names = splitCsvLine(text, (problem) =>
      emError('PARSE_ERROR', [this.name, 'header'], text, `line ${lineNo}: ${problem}`, 'fix the quoting of the header row'),
    );
    const seen = new Map<string, number>();
    names.forEach((name, i) => {
      if (name === '') {
        throw emError('PARSE_ERROR', [this.name, 'header', 'column', i + 1], text, `line ${lineNo}: header column ${i + 1} has an empty name`, 'give every column a non-empty name in the header row');
      }
      const prev = seen.get(name);
      if (prev !== undefined) {
        throw emError('PARSE_ERROR', [this.name, 'header', 'column', name], name, `line ${lineNo}: column name ${JSON.stringify(name)} appears twice (columns ${prev + 1} and ${i + 1})`, 'give every column a unique name in the header row');
      }
      seen.set(name, i);
    });
    this.columns = names;
    this.cols = names.length;
    this.buffer = new Float64Array(INITIAL_ROW_CAPACITY * this.cols);
  }

  protected row(text: string, lineNo: number): void {
    const columns = this.columns as string[];
    const r = this.rows;
    const cells = splitCsvLine(text, (problem) =>
      emError('PARSE_ERROR', [this.name, 'row', r], text, `line ${lineNo}: ${problem}`, 'fix the quoting: a quoted cell must end with a closing double quote, and a literal quote inside it is written as ""'),
    );
    if (cells.length !== this.cols) {
      throw emError(
        'PARSE_ERROR',
        [this.name, 'row', r],
        text,
        `line ${lineNo}: expected ${this.cols} cells (one per header column) but found ${cells.length}`,
        `give every row exactly ${this.cols} comma-separated cells; leave a cell empty for a missing value`,
      );
    }
    const need = (r + 1) * this.cols;
    if (need > this.buffer.length) {
      const grown = new Float64Array(Math.max(need, this.buffer.length * 2));
      grown.set(this.buffer);
      this.buffer = grown;
    }
    const base = r * this.cols;
    for (let c = 0; c < cells.length; c++) {
      const cell = cells[c] as string;
      if (this.markers.has(cell)) {
        this.buffer[base + c] = Number.NaN;
        this.missing++;
      } else if (NUMBER_RE.test(cell)) {
        const v = Number(cell);
        if (!this.keepNonFinite && !Number.isFinite(v)) {
          const column = columns[c] as string;
          const what = /Infinity/.test(cell) ? 'is infinite' : 'overflows float64 (beyond ±1.8e308)';
          throw emError(
            'PARSE_ERROR',
            [this.name, 'row', r, 'column', column],
            cell,
            `line ${lineNo}, column ${c + 1} (${JSON.stringify(column)}): cell ${JSON.stringify(cell)} ${what}`,
            'fix the cell (rescale the column, or clip the value), or leave it empty for a missing value',
          );
        }
        this.buffer[base + c] = v;
      } else {
        const column = columns[c] as string;
        throw emError(
          'PARSE_ERROR',
          [this.name, 'row', r, 'column', column],
          cell,
          `line ${lineNo}, column ${c + 1} (${JSON.stringify(column)}): cell ${JSON.stringify(cell)} is not a number`,
          `fix the cell, or if it marks a missing value add it to missingMarkers (currently ${quoteList(this.markers) || 'none'})`,
        );
      }
    }
    this.rows++;
  }
}

/**
 * Reads a numeric CSV file with a header row, streaming it line by line.
 *
 * Cells are trimmed; surrounding double quotes are stripped (RFC 4180: quoted
 * cells may contain commas and line breaks, `""` is a literal quote). Cells
 * equal to a missing marker become NaN and are counted in `missing`. UTF-8
 * (with or without a BOM) and UTF-16 with a BOM are read; `\r\n` line endings
 * and trailing blank lines are accepted.
 *
 * @param path - The file to read.
 * @param opts - `missingMarkers` (default `['', 'NA', 'NaN', 'nan', '?']`), `nonFinite` (default `'error'`).
 * @throws EmError `IO_ERROR` if the file cannot be opened or read.
 * @throws EmError `PARSE_ERROR` for an empty file, text that is not valid UTF-8
 *   (naming the encoding), an empty or duplicate column name, a row with the
 *   wrong number of cells, a non-numeric, infinite or overflowing cell, an
 *   unterminated quoted cell or no data rows; the message names the 1-based
 *   line number (and the column, by 1-based index and name).
 * @throws EmError `INVALID_ARGUMENT` for malformed options.
 * @example
 * ```ts
 * const table = await readNumericCsv('measurements.csv', { missingMarkers: ['', 'NA'] });
 * console.log(table.columns, table.rows, table.missing);
 * ```
 * @category Data
 */
export async function readNumericCsv(path: string, opts?: CsvReadOptions): Promise<NumericTable> {
  if (typeof path !== 'string' || path === '') {
    throw emError('INVALID_ARGUMENT', ['path'], path, 'must be a non-empty file path', 'pass the path of a CSV file');
  }
  const processor = new CsvLineProcessor(path, checkReadOptions(opts, 'readNumericCsv', false));
  await streamLines(path, processor);
  return processor.finish();
}

/**
 * Parses numeric CSV text held in memory; same rules and errors as
 * {@link readNumericCsv}.
 *
 * @param text - The CSV text (header row first).
 * @param opts - `missingMarkers`, and `name` used in error messages (default `'<csv>'`).
 * @throws EmError `PARSE_ERROR` (see {@link readNumericCsv}), `INVALID_ARGUMENT` for malformed options.
 * @example
 * ```ts
 * const t = parseNumericCsv('a,b\n1,2\n3,NA\n');
 * // t.rows === 2, t.missing === 1
 * ```
 * @category Data
 */
export function parseNumericCsv(text: string, opts?: CsvParseOptions): NumericTable {
  if (typeof text !== 'string') {
    throw emError('INVALID_ARGUMENT', ['text'], text, 'must be a string', 'pass the CSV content as a string, or use readNumericCsv for a file');
  }
  const settings = checkReadOptions(opts, 'parseNumericCsv', true);
  const processor = new CsvLineProcessor(settings.name ?? '<csv>', settings);
  processor.text(text);
  return processor.finish();
}

function csvQuote(name: string): string {
  if (/[",\r\n]/.test(name) || name !== name.trim()) return `"${name.replace(/"/g, '""')}"`;
  return name;
}

/** Checks the writer's arguments; returns the row count. */
function checkTable(columns: readonly string[], values: ArrayLike<number>, cols: number): number {
  if (!Number.isInteger(cols) || cols < 1) {
    throw emError('INVALID_ARGUMENT', ['cols'], cols, 'must be an integer >= 1', 'pass the number of columns');
  }
  if (!Array.isArray(columns) || columns.length !== cols) {
    throw emError('INVALID_ARGUMENT', ['columns'], columns, `must be an array of ${cols} column names`, 'pass one name per column');
  }
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (typeof c !== 'string' || c.trim() === '' || seen.has(c)) {
      throw emError('INVALID_ARGUMENT', ['columns', i], c, 'must be a non-empty, unique string', 'give every column a distinct name');
    }
    seen.add(c);
  });
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number' || values.length % cols !== 0) {
    throw emError('INVALID_ARGUMENT', ['values'], values, `must have a multiple of cols = ${cols} entries`, 'pass row-major values with rows * cols entries');
  }
  return values.length / cols;
}

/**
 * A numeric matrix as CSV text in chunks of about 64 KiB (header row first): what
 * {@link writeNumericCsv} writes, for callers that write files their own way
 * (e.g. several outputs committed together). Arguments are checked at once.
 *
 * @throws EmError `INVALID_ARGUMENT` for inconsistent shapes or bad column names.
 * @example
 * ```ts
 * [...numericCsvChunks(['x', 'y'], new Float64Array([1, 2, NaN, 4]), 2)].join(''); // 'x,y\n1,2\n,4\n'
 * ```
 * @category Data
 */
export function numericCsvChunks(columns: readonly string[], values: ArrayLike<number>, cols: number): Iterable<string> {
  const rows = checkTable(columns, values, cols);
  return {
    *[Symbol.iterator]() {
      let chunk = `${columns.map(csvQuote).join(',')}\n`;
      for (let r = 0; r < rows; r++) {
        let line = '';
        for (let c = 0; c < cols; c++) {
          const v = values[r * cols + c] as number;
          if (c > 0) line += ',';
          if (!Number.isNaN(v)) line += String(v);
        }
        chunk += `${line}\n`;
        if (chunk.length >= 1 << 16) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk.length > 0) yield chunk;
    },
  };
}

/**
 * Writes a numeric matrix as CSV with a header row, atomically (a temporary
 * file renamed over `path` once every byte is written: a failed write leaves
 * the previous file as it was and no partial file).
 *
 * NaN is written as an empty cell; other numbers with full precision
 * (`String(x)`), so {@link readNumericCsv} reads back identical values
 * (infinite ones with `nonFinite: 'keep'`).
 * Column names containing commas, quotes or surrounding spaces are quoted.
 *
 * @param path - The file to create or replace.
 * @param columns - Column names (`cols` of them, non-empty, unique).
 * @param values - Row-major values, a multiple of `cols` entries.
 * @param cols - Number of columns.
 * @param errorPath - How errors name the destination (e.g. a CLI flag). Default `['path']`.
 * @throws EmError `INVALID_ARGUMENT` for inconsistent shapes or bad column names.
 * @throws EmError `IO_ERROR` if the file cannot be written.
 * @example
 * ```ts
 * await writeNumericCsv('out.csv', ['x', 'y'], new Float64Array([1, 2, NaN, 4]), 2);
 * // x,y\n1,2\n,4\n
 * ```
 * @category Data
 */
export async function writeNumericCsv(path: string, columns: readonly string[], values: ArrayLike<number>, cols: number, errorPath: ErrorPath = ['path']): Promise<void> {
  if (typeof path !== 'string' || path === '') {
    throw emError('INVALID_ARGUMENT', ['path'], path, 'must be a non-empty file path', 'pass the path of the CSV file to write');
  }
  await writeFileAtomic(path, numericCsvChunks(columns, values, cols), errorPath);
}

/**
 * Converts a table's values to an array of rows.
 *
 * @throws EmError `INVALID_ARGUMENT` if `values.length !== rows * cols`.
 * @example
 * ```ts
 * tableToRows(parseNumericCsv('a,b\n1,2\n3,4')); // [[1, 2], [3, 4]]
 * ```
 * @category Data
 */
export function tableToRows(t: NumericTable): number[][] {
  if (t.values.length !== t.rows * t.cols) {
    throw emError('INVALID_ARGUMENT', ['table', 'values'], t.values, `must have rows·cols = ${t.rows}·${t.cols} entries`, 'pass a table produced by readNumericCsv or parseNumericCsv');
  }
  const out: number[][] = new Array<number[]>(t.rows);
  for (let r = 0; r < t.rows; r++) out[r] = Array.from(t.values.subarray(r * t.cols, (r + 1) * t.cols));
  return out;
}
