/**
 * Row caches: data larger than memory. One conversion pass reads a CSV,
 * Parquet or Arrow file as a stream (CSV line by line, Parquet by row ranges
 * with hyparquet, Arrow by record batches with apache-arrow) and writes its rows
 * as raw float64 (row-major, NaN = missing) to a cache file with a small JSON
 * description beside it; then a {@link RowSource} reads any block of rows from
 * the cache with one positional read, as often as a fit needs. The cache is
 * reused while the source file's size and modification time are unchanged.
 * @module
 */
import { closeSync, createReadStream, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { splitCsvLine } from '../csv-lines.js';
import { EmError, emError } from '../errors.js';
import { registerRowSourceOpener, type RowSource } from '../row-source.js';
import { streamLines } from './files.js';

/** Input formats of {@link openRowSource}. @category Data */
export type RowFileFormat = 'csv' | 'parquet' | 'arrow';

/** Options of {@link openRowSource}. @category Data */
export interface RowSourceOptions {
  /** Default: from the extension (`.csv`, `.parquet`/`.pq`, `.arrow`/`.feather`/`.ipc`/`.arrows`). */
  readonly format?: RowFileFormat;
  /** Directory of the cache (default: `emlab-row-cache` in the system's temporary directory). */
  readonly cacheDir?: string;
  /** Convert again even when a cache for this file exists. Default false. */
  readonly rebuild?: boolean;
  /** Cells that mean "missing" in a CSV. Default `['', 'NA', 'NaN', 'nan', '?']`. */
  readonly missingMarkers?: readonly string[];
  /** Called every 65 536 rows of the conversion pass. */
  readonly onProgress?: (progress: { readonly rows: number; readonly bytes: number }) => void;
}

/** The JSON file that describes a row cache. */
interface CacheMeta {
  readonly format: 'emlab/row-cache';
  readonly formatVersion: 1;
  readonly source: { readonly path: string; readonly size: number; readonly mtimeMs: number; readonly format: RowFileFormat };
  readonly nRows: number;
  readonly columns: readonly string[];
  /** The rows file, beside this one. */
  readonly rowsFile: string;
  readonly littleEndian: true;
}

/** Rows per write during conversion. */
const CHUNK_ROWS = 65_536;

const DEFAULT_MISSING = ['', 'NA', 'NaN', 'nan', '?'];

function formatOf(path: string, given: RowFileFormat | undefined): RowFileFormat {
  if (given !== undefined) return given;
  const ext = extname(path).toLowerCase();
  if (ext === '.csv' || ext === '.txt') return 'csv';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.arrow' || ext === '.feather' || ext === '.ipc' || ext === '.arrows') return 'arrow';
  throw emError('INVALID_ARGUMENT', ['path'], path, `has extension ${JSON.stringify(ext)}: the format is unknown`, 'name the file .csv, .parquet or .arrow, or pass format');
}

/** Collects rows into chunks and writes them to the cache file. */
class RowWriter {
  private buf: Float64Array | undefined;
  private filled = 0;
  rows = 0;
  columns: string[] | undefined;
  constructor(
    private readonly fd: number,
    private readonly onProgress: RowSourceOptions['onProgress'],
  ) {}

  setColumns(columns: string[]): void {
    this.columns = columns;
    this.buf = new Float64Array(CHUNK_ROWS * columns.length);
  }

  /** The slot for the next row's values (`nColumns` of them). */
  next(): Float64Array {
    const cols = (this.columns as string[]).length;
    if (this.filled === CHUNK_ROWS) this.flush();
    const row = (this.buf as Float64Array).subarray(this.filled * cols, (this.filled + 1) * cols);
    this.filled++;
    this.rows++;
    if (this.rows % CHUNK_ROWS === 0) this.onProgress?.({ rows: this.rows, bytes: this.rows * cols * 8 });
    return row;
  }

  flush(): void {
    if (this.filled === 0 || this.buf === undefined) return;
    const bytes = new Uint8Array(this.buf.buffer, 0, this.filled * (this.columns as string[]).length * 8);
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    this.filled = 0;
  }
}

function cellValue(v: unknown, path: string, row: number, col: number): number {
  if (v === null || v === undefined) return Number.NaN;
  const x = typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? Number(v) : v;
  if (typeof x !== 'number') throw emError('INVALID_DATA', [path, row, col], v, 'is not a number', 'give the model numeric columns only');
  if (x === Number.POSITIVE_INFINITY || x === Number.NEGATIVE_INFINITY) throw emError('INVALID_DATA', [path, row, col], x, 'is infinite', 'remove or clip infinite values, or mark the cell missing');
  return x;
}

async function convertCsv(path: string, w: RowWriter, missing: ReadonlySet<string>): Promise<void> {
  let lineNo = 0;
  let cols = 0;
  await streamLines(path, {
    line(raw: string) {
      lineNo++;
      const text = lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      if (text.trim() === '') {
        if (w.columns === undefined) return;
        throw emError('PARSE_ERROR', [path, lineNo], '', 'is a blank line inside the table', 'remove blank lines between rows');
      }
      const fail = (problem: string): EmError => emError('PARSE_ERROR', [path, lineNo], text.slice(0, 40), problem, 'fix the CSV (RFC 4180 quoting, one header line)');
      const cells = splitCsvLine(text, fail);
      if (w.columns === undefined) {
        w.setColumns(cells);
        cols = cells.length;
        return;
      }
      if (cells.length !== cols) throw emError('PARSE_ERROR', [path, lineNo], text.slice(0, 40), `has ${cells.length} cells but the header has ${cols}`, 'give every row one cell per column');
      const row = w.next();
      for (let c = 0; c < cols; c++) {
        const cell = cells[c] as string;
        if (missing.has(cell)) {
          row[c] = Number.NaN;
          continue;
        }
        const v = Number(cell);
        if (Number.isNaN(v)) throw emError('PARSE_ERROR', [path, lineNo, c], cell, 'is not a number', `use numbers, or a missing marker (${[...missing].map((m) => JSON.stringify(m)).join(', ')})`);
        row[c] = cellValue(v, path, lineNo, c);
      }
    },
  });
  if (w.columns === undefined) throw emError('PARSE_ERROR', [path], path, 'has no header line', 'give the CSV a header of column names');
}

async function convertParquet(path: string, w: RowWriter): Promise<void> {
  const { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } = await import('hyparquet');
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const columns = parquetSchema(metadata).children.map((c) => c.element.name);
  w.setColumns(columns);
  const n = Number(metadata.num_rows);
  for (let start = 0; start < n; start += CHUNK_ROWS) {
    const end = Math.min(n, start + CHUNK_ROWS);
    let rows: unknown[][] = [];
    await parquetRead({ file, metadata, rowStart: start, rowEnd: end, onComplete: (r: unknown[][]) => (rows = r) });
    rows.forEach((r, i) => {
      const slot = w.next();
      for (let c = 0; c < columns.length; c++) slot[c] = cellValue(r[c], path, start + i, c);
    });
  }
}

async function convertArrow(path: string, w: RowWriter): Promise<void> {
  const { RecordBatchReader } = await import('apache-arrow');
  const reader = await RecordBatchReader.from(createReadStream(path));
  let row = 0;
  for await (const batch of reader) {
    if (w.columns === undefined) w.setColumns(batch.schema.fields.map((f) => f.name));
    const cols = (w.columns as string[]).length;
    const vectors = Array.from({ length: cols }, (_, c) => batch.getChildAt(c));
    for (let i = 0; i < batch.numRows; i++, row++) {
      const slot = w.next();
      for (let c = 0; c < cols; c++) slot[c] = cellValue(vectors[c]?.get(i), path, row, c);
    }
  }
  if (w.columns === undefined) throw emError('PARSE_ERROR', [path], path, 'holds no record batch', 'write the table with at least one batch');
}

/** Where the cache of a source file lives. */
function cachePaths(source: string, cacheDir: string | undefined): { dir: string; meta: string; rows: string } {
  const abs = resolve(source);
  const dir = cacheDir === undefined ? join(tmpdir(), 'emlab-row-cache') : resolve(cacheDir);
  const key = `${basename(abs).replace(/[^A-Za-z0-9._-]/g, '_')}-${createHash('sha256').update(abs).digest('hex').slice(0, 12)}`;
  return { dir, meta: join(dir, `${key}.json`), rows: join(dir, `${key}.f64`) };
}

function readMeta(path: string): CacheMeta | undefined {
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as CacheMeta;
    return m.format === 'emlab/row-cache' && m.formatVersion === 1 ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Converts a CSV, Parquet or Arrow file to a row cache (one streaming pass), unless an up-to-date
 * cache exists; returns the cache's description file (its locator).
 * @throws EmError `IO_ERROR` (unreadable file, full disk), `PARSE_ERROR` (malformed CSV),
 *   `INVALID_DATA` (a non-numeric or infinite cell, naming row and column), `INVALID_ARGUMENT` (unknown format).
 * @category Data
 */
export async function convertToRowCache(path: string, options: RowSourceOptions = {}): Promise<string> {
  const format = formatOf(path, options.format);
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw emError('IO_ERROR', ['path'], path, 'cannot be read', 'check the path: the file must exist and be readable', e);
  }
  const { dir, meta, rows } = cachePaths(path, options.cacheDir);
  const old = options.rebuild === true ? undefined : readMeta(meta);
  if (old !== undefined && old.source.size === st.size && old.source.mtimeMs === st.mtimeMs && old.source.format === format && existsSync(rows)) return meta;
  const tmpRows = `${rows}.${process.pid}.tmp`;
  let fd: number;
  try {
    mkdirSync(dir, { recursive: true });
    fd = openSync(tmpRows, 'w');
  } catch (e) {
    throw emError('IO_ERROR', ['options', 'cacheDir'], dir, 'does not accept the cache file', 'pass a writable cacheDir with room for rows × columns × 8 bytes', e);
  }
  const w = new RowWriter(fd, options.onProgress);
  try {
    if (format === 'csv') await convertCsv(path, w, new Set(options.missingMarkers ?? DEFAULT_MISSING));
    else if (format === 'parquet') await convertParquet(path, w);
    else await convertArrow(path, w);
    w.flush();
  } catch (e) {
    closeSync(fd);
    // Nothing half-written stays behind.
    rmSync(tmpRows, { force: true });
    throw e instanceof EmError ? e : emError('IO_ERROR', ['path'], path, `could not be converted (${(e as Error).message})`, 'check the file (and the disk space of the cache directory)', e);
  }
  closeSync(fd);
  if (w.rows === 0) {
    rmSync(tmpRows, { force: true });
    throw emError('INVALID_DATA', ['path'], path, 'has no rows', 'pass a table with at least one row');
  }
  // The old description goes first: a cache is never described by a description of other rows.
  rmSync(meta, { force: true });
  renameSync(tmpRows, rows);
  const doc: CacheMeta = { format: 'emlab/row-cache', formatVersion: 1, source: { path: resolve(path), size: st.size, mtimeMs: st.mtimeMs, format }, nRows: w.rows, columns: w.columns as string[], rowsFile: basename(rows), littleEndian: true };
  const tmpMeta = `${meta}.${process.pid}.tmp`;
  const mfd = openSync(tmpMeta, 'w');
  writeSync(mfd, `${JSON.stringify(doc)}\n`);
  closeSync(mfd);
  renameSync(tmpMeta, meta);
  return meta;
}

/**
 * Opens a row cache by its description file (what {@link convertToRowCache} returns, and a row
 * source's `locator`): every `read` is one positional read of the rows file.
 * @throws EmError `IO_ERROR` when the cache is missing or truncated.
 * @category Data
 */
export function openRowCache(metaPath: string): RowSource {
  const meta = readMeta(metaPath);
  if (meta === undefined) throw emError('IO_ERROR', ['path'], metaPath, 'is not an emlab row cache', 'convert the data again (openRowSource)');
  const rowsPath = join(resolve(metaPath, '..'), meta.rowsFile);
  let fd: number;
  try {
    fd = openSync(rowsPath, 'r');
  } catch (e) {
    throw emError('IO_ERROR', ['path'], rowsPath, 'cannot be opened', 'convert the data again (openRowSource)', e);
  }
  const cols = meta.columns.length;
  const expected = meta.nRows * cols * 8;
  if (fstatSync(fd).size !== expected) {
    closeSync(fd);
    throw emError('IO_ERROR', ['path'], rowsPath, `has ${fstatSync(fd).size} bytes, expected ${expected}`, 'convert the data again with rebuild: true');
  }
  const stats = { rowsRead: 0, bytesRead: 0 };
  // The file stays open for the life of the process (a fit may read it from several places).
  return {
    kind: 'row-source',
    nRows: meta.nRows,
    nColumns: cols,
    columns: meta.columns,
    locator: resolve(metaPath),
    stats,
    read(start: number, rows: number, out?: Float64Array): Float64Array {
      if (!(Number.isSafeInteger(start) && Number.isSafeInteger(rows) && start >= 0 && rows >= 0 && start + rows <= meta.nRows)) {
        throw new EmError('INTERNAL', `row cache ${metaPath}: rows ${start}…${start + rows - 1} are outside 0…${meta.nRows - 1}`);
      }
      const target = out ?? new Float64Array(rows * cols);
      const bytes = new Uint8Array(target.buffer, target.byteOffset, rows * cols * 8);
      let off = 0;
      while (off < bytes.length) {
        const got = readSync(fd, bytes, off, bytes.length - off, start * cols * 8 + off);
        if (got === 0) throw emError('IO_ERROR', ['path'], rowsPath, 'ended early', 'convert the data again with rebuild: true');
        off += got;
      }
      stats.rowsRead += rows;
      stats.bytesRead += bytes.length;
      return target;
    },
  };
}

/**
 * A {@link RowSource} over a CSV, Parquet or Arrow file: converted once to a row cache (see
 * {@link convertToRowCache}), then read in blocks. What `fit` takes for data larger than memory.
 * @example
 * ```ts
 * const rows = await openRowSource('big.parquet', { onProgress: (p) => console.log(p.rows) });
 * const result = await fit(gaussianMixture({ nComponents: 16 }), rows, { precision: 'float32' });
 * ```
 * @throws EmError as {@link convertToRowCache} and {@link openRowCache}.
 * @category Data
 */
export async function openRowSource(path: string, options: RowSourceOptions = {}): Promise<RowSource> {
  return openRowCache(await convertToRowCache(path, options));
}

registerRowSourceOpener(openRowCache);
