/**
 * Results as Parquet (for pandas, polars, DuckDB, Arrow): `runs.parquet`,
 * one row per run with the columns of `runs.csv` (typed, nullable), and
 * `iterations.parquet`, one row per iteration of every successful run.
 * Written with hyparquet-writer (pure JavaScript), loaded only when asked for.
 * @module
 */
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { BenchResults } from './results.js';
import { RUNS_CSV_COLUMNS, type RunColumn } from './runs-csv.js';

type ColumnData = { name: string; data: unknown[]; type: 'STRING' | 'DOUBLE' | 'INT32' | 'INT64' | 'BOOLEAN'; nullable?: boolean };

const PARQUET_TYPE: Readonly<Record<RunColumn['type'], ColumnData['type']>> = { string: 'STRING', double: 'DOUBLE', int: 'INT32', boolean: 'BOOLEAN' };

function value(type: RunColumn['type'], v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (type === 'string') return String(v);
  if (type === 'boolean') return Boolean(v);
  if (typeof v !== 'number' || Number.isNaN(v)) return null;
  return v;
}

/**
 * `runs.parquet` bytes: one row per run, the columns of `runs.csv` (strings, doubles, 32-bit
 * integers, booleans; null where the CSV has an empty cell).
 * @category Results
 */
export function runsParquet(results: BenchResults): Uint8Array {
  const columnData: ColumnData[] = RUNS_CSV_COLUMNS.map((c) => ({
    name: c.name,
    type: PARQUET_TYPE[c.type],
    nullable: true,
    data: results.runs.map((r) => value(c.type, c.get(r, results.timings.runs[r.id]))),
  }));
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}

/** The columns of `iterations.parquet`, in order. @category Results */
export const ITERATION_COLUMNS = ['run', 'dataset', 'model', 'method', 'seed', 'iteration', 'boundAfterE', 'boundAfterM', 'logLikelihood', 'gap', 'boundStdErr', 'entropy', 'passes', 'eStepCalls', 'sampleSize', 'precision', 'elapsedMs'] as const;

/**
 * `iterations.parquet` bytes: one row per iteration of every successful run (`run` is the run id;
 * `elapsedMs` the cumulative fit time after the iteration).
 * @category Results
 */
export function iterationsParquet(results: BenchResults): Uint8Array {
  const cols: Record<(typeof ITERATION_COLUMNS)[number], unknown[]> = Object.fromEntries(ITERATION_COLUMNS.map((k) => [k, []])) as never;
  for (const r of results.runs) {
    const t = results.timings.runs[r.id];
    r.trace.forEach((it, i) => {
      cols.run.push(r.id);
      cols.dataset.push(r.dataset);
      cols.model.push(r.model);
      cols.method.push(r.method);
      cols.seed.push(String(r.seed));
      cols.iteration.push(it.iteration);
      cols.boundAfterE.push(value('double', it.boundAfterE));
      cols.boundAfterM.push(value('double', it.boundAfterM));
      cols.logLikelihood.push(value('double', it.logLikelihood));
      cols.gap.push(value('double', it.gap));
      cols.boundStdErr.push(value('double', it.boundStdErr));
      cols.entropy.push(value('double', it.entropy));
      cols.passes.push(value('double', it.passes));
      cols.eStepCalls.push(value('double', it.eStepCalls));
      cols.sampleSize.push(value('double', it.sampleSize));
      cols.precision.push(it.precision);
      cols.elapsedMs.push(value('double', t?.elapsedMs[i] ?? null));
    });
  }
  const type = (k: string): ColumnData['type'] => (['run', 'dataset', 'model', 'method', 'seed', 'precision'].includes(k) ? 'STRING' : k === 'iteration' ? 'INT32' : 'DOUBLE');
  const columnData: ColumnData[] = ITERATION_COLUMNS.map((k) => ({ name: k, type: type(k), nullable: true, data: cols[k] }));
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}
