/**
 * `runs.csv`: one row per run, final metrics and timings.
 * @module
 */
import type { BenchResults, RunRecord, RunTimings } from './results.js';

/** The columns of `runs.csv`, in order, with how each is read from the results. @category Results */
export const RUNS_CSV_COLUMNS: readonly { readonly name: string; readonly get: (r: RunRecord, t: RunTimings | undefined) => unknown }[] = [
  { name: 'index', get: (r) => r.index },
  { name: 'id', get: (r) => r.id },
  { name: 'group', get: (r) => r.group },
  { name: 'dataset', get: (r) => r.dataset },
  { name: 'model', get: (r) => r.model },
  { name: 'method', get: (r) => r.method },
  { name: 'seed', get: (r) => r.seed },
  { name: 'status', get: (r) => r.status },
  { name: 'initHash', get: (r) => r.initHash },
  { name: 'nIter', get: (r) => r.metrics.nIter },
  { name: 'converged', get: (r) => r.metrics.converged },
  { name: 'convergenceReason', get: (r) => r.metrics.convergenceReason },
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
  { name: 'timeToBestMs', get: (_r, t) => t?.timeToBestMs ?? null },
  { name: 'fitMs', get: (_r, t) => t?.fitMs ?? null },
  { name: 'totalMs', get: (_r, t) => t?.totalMs ?? null },
  { name: 'nWarnings', get: (r) => r.warnings.length },
  { name: 'error', get: (r) => r.error?.message ?? null },
];

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
