/**
 * What the report shows, computed from a `results.json` document: one
 * section per (data set, model), the per-method series (mean and spread over
 * seeds) and the final-metric tables (mean ± sd over seeds). Pure functions,
 * no rendering.
 * @module
 */
import type { BenchResults, RunRecord, RunTimings } from '../results.js';

/** Mean, sample standard deviation and count of the finite values. @category Report */
export interface MeanSd {
  readonly mean: number;
  /** Sample standard deviation (n − 1 in the denominator), or null when n < 2. */
  readonly sd: number | null;
  /** How many finite values went in. */
  readonly n: number;
}

/**
 * Mean and sample sd of the finite numbers in `values` (null, NaN and ±Infinity are skipped);
 * null when there are none.
 * @category Report
 */
export function meanSd(values: readonly (number | null | undefined)[]): MeanSd | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length < 2) return { mean, sd: null, n: 1 };
  const ss = xs.reduce((a, b) => a + (b - mean) * (b - mean), 0);
  return { mean, sd: Math.sqrt(ss / (xs.length - 1)), n: xs.length };
}

/** A column of the final-metrics table. @category Report */
export interface MetricColumn {
  readonly key: string;
  readonly label: string;
  /** Shown under the label. */
  readonly unit: string;
  /** Read the value of one successful run (null when absent). */
  readonly value: (run: RunRecord, timing: RunTimings | undefined) => number | null;
}

/** The table's columns, in order; a column is shown only when some run of the section has a value. @category Report */
export const METRIC_COLUMNS: readonly MetricColumn[] = [
  { key: 'bound', label: 'final bound', unit: 'L(q, θ)', value: (r) => r.metrics.bound },
  { key: 'trainLogLikelihood', label: 'log-likelihood', unit: 'train, total', value: (r) => r.metrics.trainLogLikelihood },
  { key: 'trainLogLikelihoodPerRow', label: 'log-likelihood / row', unit: 'train', value: (r) => r.metrics.trainLogLikelihoodPerRow },
  { key: 'heldOutLogLikelihood', label: 'held-out log-likelihood', unit: 'total', value: (r) => r.metrics.heldOutLogLikelihood },
  { key: 'heldOutLogLikelihoodPerRow', label: 'held-out log-lik. / row', unit: '', value: (r) => r.metrics.heldOutLogLikelihoodPerRow },
  { key: 'nIter', label: 'iterations', unit: '', value: (r) => r.metrics.nIter },
  { key: 'fitMs', label: 'time', unit: 'fit, ms', value: (_r, t) => t?.fitMs ?? null },
  { key: 'iterationsToBest', label: 'iterations to best', unit: 'within 1e-3 rel.', value: (r) => r.metrics.iterationsToBest },
  { key: 'timeToBestMs', label: 'time to best', unit: 'ms', value: (_r, t) => t?.timeToBestMs ?? null },
  { key: 'parameterError', label: 'parameter error', unit: 'matched, MAE', value: (r) => r.metrics.parameterError },
  { key: 'adjustedRandIndex', label: 'ARI', unit: 'vs true labels', value: (r) => r.metrics.adjustedRandIndex },
  { key: 'stationarity', label: 'stationarity', unit: '‖∇ log p‖₂', value: (r) => r.metrics.stationarity },
];

/** One method's row of a section's table. @category Report */
export interface TableRow {
  readonly method: string;
  readonly family: string;
  readonly boundKind: string | null;
  /** Runs of this method in the section (all statuses). */
  readonly nRuns: number;
  /** Runs that ended with status `'error'` (left out of every number). */
  readonly nErrors: number;
  /** Successful runs that converged. */
  readonly nConverged: number;
  /** By column key; null when no run had a value. */
  readonly cells: Readonly<Record<string, MeanSd | null>>;
}

/** One point of a per-method series: mean and range over the seeds that reached `iteration`. @category Report */
export interface SeriesPoint {
  readonly method: string;
  readonly iteration: number;
  /** Mean elapsed time (ms) at this iteration over the same seeds, or null without timings. */
  readonly timeMs: number | null;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** One (data set, model) of the report. @category Report */
export interface ReportSection {
  /** `${dataset}/${model}`. */
  readonly id: string;
  readonly dataset: string;
  readonly model: string;
  readonly datasetDescription: string | null;
  readonly modelDescription: string | null;
  /** Methods present in the section, in suite order. */
  readonly methods: readonly string[];
  /** Seeds present, in suite order. */
  readonly seeds: readonly (number | string)[];
  /** Keys of {@link METRIC_COLUMNS} with at least one value. */
  readonly columns: readonly string[];
  readonly table: readonly TableRow[];
  /** boundAfterM per iteration. */
  readonly bound: readonly SeriesPoint[];
  /** gap = log-likelihood − bound per iteration, for methods that are neither exact nor the gradient baseline. */
  readonly gap: readonly SeriesPoint[];
}

function familyOf(results: BenchResults, method: string): string {
  return results.methods.find((m) => m.id === method)?.family ?? 'unknown';
}

/** Whether a method's E-step approximates the posterior (so its gap is worth plotting). @category Report */
export function isApproximate(family: string): boolean {
  return family !== 'exact' && family !== 'gradient';
}

function series(runs: readonly RunRecord[], timings: BenchResults['timings'] | undefined, pick: (it: RunRecord['trace'][number]) => number | null, method: string): SeriesPoint[] {
  const maxIter = runs.reduce((m, r) => Math.max(m, r.trace.length), 0);
  const out: SeriesPoint[] = [];
  for (let i = 0; i < maxIter; i++) {
    const ys: number[] = [];
    const ts: number[] = [];
    for (const r of runs) {
      const it = r.trace[i];
      if (it === undefined) continue;
      const y = pick(it);
      if (y === null || !Number.isFinite(y)) continue;
      ys.push(y);
      const t = timings?.runs[r.id]?.elapsedMs[i];
      if (typeof t === 'number' && Number.isFinite(t)) ts.push(t);
    }
    if (ys.length === 0) continue;
    const iteration = runs.find((r) => r.trace[i] !== undefined)?.trace[i]?.iteration ?? i + 1;
    out.push({
      method,
      iteration,
      timeMs: ts.length === ys.length ? ts.reduce((a, b) => a + b, 0) / ts.length : null,
      mean: ys.reduce((a, b) => a + b, 0) / ys.length,
      min: Math.min(...ys),
      max: Math.max(...ys),
      n: ys.length,
    });
  }
  return out;
}

function orderBy<T>(order: readonly T[], present: Iterable<T>): T[] {
  const set = new Set(present);
  const out = order.filter((x) => set.has(x));
  for (const x of set) if (!out.includes(x)) out.push(x);
  return out;
}

/**
 * The report's sections: one per (data set, model) that has runs, in suite order.
 * @category Report
 */
export function buildSections(results: BenchResults): ReportSection[] {
  const datasetOrder = orderBy(results.datasets.map((d) => d.id), results.runs.map((r) => r.dataset));
  const modelOrder = orderBy(results.models.map((m) => m.id), results.runs.map((r) => r.model));
  const methodOrder = results.methods.map((m) => m.id);
  const seedOrder = results.manifest.seeds;
  const sections: ReportSection[] = [];
  for (const dataset of datasetOrder) {
    for (const model of modelOrder) {
      const runs = results.runs.filter((r) => r.dataset === dataset && r.model === model);
      if (runs.length === 0) continue;
      const methods = orderBy(methodOrder, runs.map((r) => r.method));
      const seeds = orderBy(seedOrder, runs.map((r) => r.seed));
      const ok = runs.filter((r) => r.status === 'ok');
      const table: TableRow[] = methods.map((method) => {
        const mine = runs.filter((r) => r.method === method);
        const good = mine.filter((r) => r.status === 'ok');
        const cells: Record<string, MeanSd | null> = {};
        for (const c of METRIC_COLUMNS) cells[c.key] = meanSd(good.map((r) => c.value(r, results.timings?.runs[r.id])));
        return {
          method,
          family: familyOf(results, method),
          boundKind: good.find((r) => r.metrics.boundKind !== null)?.metrics.boundKind ?? null,
          nRuns: mine.length,
          nErrors: mine.length - good.length,
          nConverged: good.filter((r) => r.metrics.converged).length,
          cells,
        };
      });
      const columns = METRIC_COLUMNS.filter((c) => table.some((row) => row.cells[c.key] != null)).map((c) => c.key);
      const bound = methods.flatMap((m) => series(ok.filter((r) => r.method === m), results.timings, (it) => it.boundAfterM, m));
      const gap = methods
        .filter((m) => isApproximate(familyOf(results, m)))
        .flatMap((m) => series(ok.filter((r) => r.method === m), results.timings, (it) => it.gap, m));
      sections.push({
        id: `${dataset}/${model}`,
        dataset,
        model,
        datasetDescription: results.datasets.find((d) => d.id === dataset)?.description ?? null,
        modelDescription: describeModel(results.models.find((m) => m.id === model)),
        methods,
        seeds,
        columns,
        table,
        bound,
        gap,
      });
    }
  }
  return sections;
}

function describeModel(m: BenchResults['models'][number] | undefined): string | null {
  if (m === undefined) return null;
  const opts = Object.entries(m.options).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return `${m.name}${opts.length > 0 ? ` (${opts.join(', ')})` : ''}`;
}
