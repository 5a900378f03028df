/**
 * Data for a registered model from the command line's files, as its
 * registration's `data` spec says: `numeric-table` → `@emlab/data`'s CSV
 * reader (one file; `--weights-column` takes row weights out of it);
 * `custom` → the registration's own `read(files, options)`.
 * @module
 */
import { statSync } from 'node:fs';
import { EmError, emError, type ModelRegistration } from '@emlab/core';
import { readNumericCsv, type NumericTable } from '@emlab/data';
import { NO_VALUE, aboutFlag, badFlag } from './cli-error.js';
import { BIG_DATA_CELLS, BIG_FILE_BYTES, type Progress } from './progress.js';

/** What a command fits. */
export interface ModelData {
  /** What `fit` receives. */
  readonly data: unknown;
  /** The model's options after reading (a custom reader may replace file paths by what they hold). */
  readonly options: Readonly<Record<string, unknown>>;
  /** Row weights (`--weights-column`). */
  readonly weights?: Float64Array;
  /** The numeric table (numeric-table models), without the weights column. */
  readonly table?: NumericTable;
  /** The column names of streamed rows (`--stream`: no table in memory). */
  readonly columns?: readonly string[];
  /** One line: the files and (numeric tables) the data's shape and the weights column. */
  readonly summary: string;
}

/**
 * Takes the weights column out of a table.
 * @throws EmError `INVALID_ARGUMENT` naming `--weights-column`, the row and the value.
 */
export function takeWeightsColumn(table: NumericTable, name: string, file: string): { table: NumericTable; weights: Float64Array } {
  const at = table.columns.indexOf(name);
  if (at < 0) throw badFlag('--weights-column', name, `is not a column of ${file} (columns: ${table.columns.join(', ')})`, "name one of the header's columns");
  if (table.cols === 1) throw badFlag('--weights-column', name, `is the only column of ${file}: no data would be left to fit`, 'add the data columns, or drop --weights-column');
  const weights = new Float64Array(table.rows);
  const cols = table.cols - 1;
  const values = new Float64Array(table.rows * cols);
  let total = 0;
  let missing = 0;
  for (let r = 0; r < table.rows; r++) {
    const w = table.values[r * table.cols + at] as number;
    if (Number.isNaN(w)) throw badFlag('--weights-column', name, `data row ${r + 1} has no weight (an empty or missing cell)`, 'give every row a weight (0 leaves a row out)');
    if (w < 0) throw badFlag('--weights-column', name, `data row ${r + 1} has weight ${w}, which is negative`, 'give every row a weight >= 0 (0 leaves a row out)');
    weights[r] = w;
    total += w;
    for (let c = 0, o = 0; c < table.cols; c++) {
      if (c === at) continue;
      const v = table.values[r * table.cols + c] as number;
      if (Number.isNaN(v)) missing++;
      values[r * cols + o++] = v;
    }
  }
  if (!(total > 0)) throw badFlag('--weights-column', name, 'has only zero weights: every row would be left out', 'give some rows a positive weight');
  return { table: { columns: table.columns.filter((_, c) => c !== at), rows: table.rows, cols, values, missing }, weights };
}

/**
 * Takes a column named by a model option (a registration's `columnOptions`, e.g. `--init-labels
 * COLUMN`) out of a table: its values (NaN for missing cells) and the table without it.
 * @throws EmError `INVALID_ARGUMENT` at `['options', key]` (the command names the flag).
 */
export function takeOptionColumn(table: NumericTable, key: string, name: string, file: string): { table: NumericTable; values: Float64Array } {
  const at = table.columns.indexOf(name);
  if (at < 0) throw emError('INVALID_ARGUMENT', ['options', key], name, `is not a column of ${file} (columns: ${table.columns.join(', ')})`, "name one of the header's columns");
  if (table.cols === 1) throw emError('INVALID_ARGUMENT', ['options', key], name, `is the only column of ${file}: no data would be left to fit`, 'add the data columns');
  const cols = table.cols - 1;
  const out = new Float64Array(table.rows);
  const values = new Float64Array(table.rows * cols);
  let missing = 0;
  for (let r = 0; r < table.rows; r++) {
    out[r] = table.values[r * table.cols + at] as number;
    for (let c = 0, o = 0; c < table.cols; c++) {
      if (c === at) continue;
      const v = table.values[r * table.cols + c] as number;
      if (Number.isNaN(v)) missing++;
      values[r * cols + o++] = v;
    }
  }
  return { table: { columns: table.columns.filter((_, c) => c !== at), rows: table.rows, cols, values, missing }, values: out };
}

/** Whether the options name a column for one of the registration's `columnOptions` (the model is then built after reading). */
export function namesColumns(registration: ModelRegistration, options: Readonly<Record<string, unknown>>): boolean {
  const spec = registration.data ?? { format: 'numeric-table' as const };
  return spec.format === 'numeric-table' && (spec.columnOptions ?? []).some((k) => typeof options[k] === 'string');
}

const bytes = (n: number): string => (n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(1)} GiB` : `${(n / (1 << 20)).toFixed(1)} MiB`);

/**
 * Reads the data of `registration` from `files`.
 * @throws EmError naming the files, rows and columns (CSV), `--weights-column`, or the registration's own errors.
 */
export async function readModelData(
  registration: ModelRegistration,
  files: readonly string[],
  options: Readonly<Record<string, unknown>>,
  o: { readonly weightsColumn?: string | undefined; readonly progress: Progress; readonly example: string },
): Promise<ModelData> {
  const spec = registration.data ?? { format: 'numeric-table' as const };
  if (spec.format === 'numeric-table') {
    const [file, ...extra] = files;
    if (file === undefined) throw badFlag('<data.csv>', NO_VALUE, 'is missing', `pass it: ${o.example}`);
    if (extra.length > 0) throw badFlag('argv', extra.join(' '), `unexpected extra arguments (--model ${registration.name} reads one CSV file)`, `pass exactly one data file: ${o.example}`);
    let size = 0;
    try {
      size = statSync(file).size;
    } catch {
      // the reader reports a missing or unreadable file
    }
    if (size >= BIG_FILE_BYTES) o.progress.markBig();
    o.progress.note(`reading ${file}${size > 0 ? ` (${bytes(size)})` : ''}`);
    const t0 = performance.now();
    let table = await readNumericCsv(file);
    if (table.rows * table.cols >= BIG_DATA_CELLS) o.progress.markBig();
    o.progress.note(`read ${table.rows} rows × ${table.cols} columns in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    let weights: Float64Array | undefined;
    if (o.weightsColumn !== undefined) ({ table, weights } = takeWeightsColumn(table, o.weightsColumn, file));
    const taken: string[] = [];
    let withColumns: Record<string, unknown> = { ...options };
    for (const key of spec.columnOptions ?? []) {
      const name = options[key];
      if (typeof name !== 'string') continue;
      const got = takeOptionColumn(table, key, name, file);
      table = got.table;
      withColumns = { ...withColumns, [key]: got.values };
      taken.push(`${key} from column ${JSON.stringify(name)}`);
    }
    const summary = `${file}: ${table.rows} rows × ${table.cols} columns (${table.columns.join(', ')})${o.weightsColumn === undefined ? '' : `; row weights from column ${JSON.stringify(o.weightsColumn)}`}${taken.length === 0 ? '' : `; ${taken.join(', ')}`}`;
    return { data: table, options: withColumns, ...(weights === undefined ? {} : { weights }), table, summary };
  }
  o.progress.note(`reading ${files.join(', ')}`);
  let read;
  try {
    read = await spec.read(files, options, o.weightsColumn === undefined ? {} : { weightsColumn: o.weightsColumn });
  } catch (e) {
    // A bad weight is named by the reader (file, line, column); say which flag asked for it.
    if (o.weightsColumn !== undefined && e instanceof EmError && (e.path.includes(o.weightsColumn) || e.value === o.weightsColumn)) throw aboutFlag(e, '--weights-column', o.weightsColumn);
    throw e;
  }
  if (o.weightsColumn !== undefined && read.weights === undefined) {
    throw badFlag('--weights-column', o.weightsColumn, `is not supported for --model ${registration.name}: its registration reads its own data files and does not read row weights`, 'drop --weights-column, or repeat weighted rows in the data');
  }
  const weights = read.weights === undefined ? undefined : Float64Array.from(read.weights);
  return { data: read.data, options: read.options, ...(weights === undefined ? {} : { weights }), summary: files.join(', ') };
}
