/**
 * `runs.csv`: one row per run, final metrics and timings.
 * @module
 */
import type { BenchResults, RunRecord, RunTimings } from './results.js';

/** A column of the per-run tables (`runs.csv`, `runs.parquet`): its name, Parquet type and reader. @category Results */
export interface RunColumn {
  readonly name: string;
  /** `string`, `double`, `int` or `boolean` (nullable in every case). */
  readonly type: 'string' | 'double' | 'int' | 'boolean';
  readonly get: (r: RunRecord, t: RunTimings | undefined) => unknown;
}

const TYPES: Readonly<Record<string, RunColumn['type']>> = {
  index: 'int', nIter: 'int', passes: 'double', eStepCalls: 'int', iterationsToBest: 'int', nDegenerate: 'int', attempts: 'int', nWarnings: 'int',
  converged: 'boolean',
  id: 'string', group: 'string', dataset: 'string', model: 'string', method: 'string', seed: 'string', methodName: 'string', family: 'string', status: 'string', errorCode: 'string', initHash: 'string',
  convergenceReason: 'string', convergencePolicy: 'string', precision: 'string', boundKind: 'string', error: 'string',
};

const RAW_COLUMNS: readonly Omit<RunColumn, 'type'>[] = [
  { name: 'index', get: (r) => r.index },
  { name: 'id', get: (r) => r.id },
  { name: 'group', get: (r) => r.group },
  { name: 'dataset', get: (r) => r.dataset },
  { name: 'model', get: (r) => r.model },
  { name: 'method', get: (r) => r.method },
  { name: 'seed', get: (r) => r.seed },
  { name: 'methodName', get: (r) => r.fit?.method.name ?? null },
  { name: 'family', get: (r) => r.fit?.method.family ?? null },
  { name: 'status', get: (r) => r.status },
  { name: 'errorCode', get: (r) => r.error?.code ?? null },
  { name: 'initHash', get: (r) => r.initHash },
  { name: 'nIter', get: (r) => r.metrics.nIter },
  { name: 'converged', get: (r) => r.metrics.converged },
  { name: 'convergenceReason', get: (r) => r.metrics.convergenceReason },
  { name: 'convergencePolicy', get: (r) => r.metrics.convergencePolicy },
  { name: 'convergenceValue', get: (r) => r.metrics.convergenceValue },
  { name: 'passes', get: (r) => r.metrics.passes },
  { name: 'eStepCalls', get: (r) => r.metrics.eStepCalls },
  { name: 'precision', get: (r) => r.metrics.precision },
  { name: 'bound', get: (r) => r.metrics.bound },
  { name: 'boundKind', get: (r) => r.metrics.boundKind },
  { name: 'trainLogLikelihood', get: (r) => r.metrics.trainLogLikelihood },
  { name: 'trainLogLikelihoodPerRow', get: (r) => r.metrics.trainLogLikelihoodPerRow },
  { name: 'heldOutLogLikelihood', get: (r) => r.metrics.heldOutLogLikelihood },
  { name: 'heldOutLogLikelihoodPerRow', get: (r) => r.metrics.heldOutLogLikelihoodPerRow },
  { name: 'iterationsToBest', get: (r) => r.metrics.iterationsToBest },
  { name: 'parameterError', get: (r) => r.metrics.parameterError },
  { name: 'adjustedRandIndex', get: (r) => r.metrics.adjustedRandIndex },
  { name: 'stationarity', get: (r) => r.metrics.stationarity },
  { name: 'logPrior', get: (r) => r.metrics.logPrior },
  { name: 'nDegenerate', get: (r) => r.metrics.nDegenerate },
  { name: 'timeToBestMs', get: (_r, t) => t?.timeToBestMs ?? null },
  { name: 'fitMs', get: (_r, t) => t?.fitMs ?? null },
  { name: 'totalMs', get: (_r, t) => t?.totalMs ?? null },
  { name: 'attempts', get: (_r, t) => t?.attempts ?? null },
  { name: 'nWarnings', get: (r) => r.warnings.length },
  { name: 'error', get: (r) => r.error?.message ?? null },
];

/** The columns of `runs.csv` and `runs.parquet`, in order, with how each is read from the results. @category Results */
export const RUNS_CSV_COLUMNS: readonly RunColumn[] = RAW_COLUMNS.map((c) => ({ ...c, type: TYPES[c.name] ?? 'double' }));

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * `runs.csv` text: a header row and one row per run, in run order. Numbers
 * are written with JavaScript's shortest round-trip form (they parse back to
 * the exact values in `results.json`); null is an empty cell.
 * @category Results
 */
export function runsCsv(results: BenchResults): string {
  const lines = [RUNS_CSV_COLUMNS.map((c) => c.name).join(',')];
  for (const r of results.runs) lines.push(RUNS_CSV_COLUMNS.map((c) => cell(c.get(r, results.timings.runs[r.id]))).join(','));
  return `${lines.join('\n')}\n`;
}
