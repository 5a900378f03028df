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

/**
 * One point of a per-method series: mean and range over seeds at `x` (an
 * iteration, or elapsed ms). A run that has stopped keeps its last value, so
 * after its first point every run counts at every later `x`.
 * @category Report
 */
export interface SeriesPoint {
  readonly method: string;
  readonly x: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  /** Seeds that contributed. */
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
  /** boundAfterM against iteration. */
  readonly bound: readonly SeriesPoint[];
  /** boundAfterM against cumulative fit time (ms); empty without timings. */
  readonly boundTime: readonly SeriesPoint[];
  /** gap = log-likelihood − bound against iteration, for methods that are neither exact nor the gradient baseline. */
  readonly gap: readonly SeriesPoint[];
}

function familyOf(results: BenchResults, method: string): string {
  return results.methods.find((m) => m.id === method)?.family ?? 'unknown';
}

/** Whether a method's E-step approximates the posterior (so its gap is worth plotting). @category Report */
export function isApproximate(family: string): boolean {
  return family !== 'exact' && family !== 'gradient';
}

/** A run's curve: (x, y) pairs in increasing x, non-finite and null values left out. */
type Curve = readonly (readonly [number, number])[];

/**
 * Mean and range over curves on the union of their x values; a curve counts
 * from its first x on, with its latest value at or before x (so a stopped run
 * keeps its final value).
 */
function aggregate(method: string, curves: readonly Curve[]): SeriesPoint[] {
  const xs = [...new Set(curves.flatMap((c) => c.map(([x]) => x)))].sort((a, b) => a - b);
  const at = curves.map(() => -1);
  const out: SeriesPoint[] = [];
  for (const x of xs) {
    const ys: number[] = [];
    curves.forEach((c, i) => {
      let j = at[i] as number;
      while (j + 1 < c.length && (c[j + 1] as readonly [number, number])[0] <= x) j++;
      at[i] = j;
      if (j >= 0) ys.push((c[j] as readonly [number, number])[1]);
    });
    out.push({ method, x, mean: ys.reduce((a, b) => a + b, 0) / ys.length, min: Math.min(...ys), max: Math.max(...ys), n: ys.length });
  }
  return out;
}

function curve(run: RunRecord, xOf: (i: number) => number | null | undefined, pick: (it: RunRecord['trace'][number]) => number | null): Curve {
  const out: [number, number][] = [];
  run.trace.forEach((it, i) => {
    const x = xOf(i);
    const y = pick(it);
    if (typeof x === 'number' && Number.isFinite(x) && y !== null && Number.isFinite(y) && (out.length === 0 || x > (out.at(-1) as [number, number])[0])) out.push([x, y]);
  });
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
      const okOf = (m: string): RunRecord[] => ok.filter((r) => r.method === m);
      const byIteration = (r: RunRecord) => (i: number) => r.trace[i]?.iteration;
      const byTime = (r: RunRecord) => (i: number) => results.timings?.runs[r.id]?.elapsedMs[i];
      const bound = methods.flatMap((m) => aggregate(m, okOf(m).map((r) => curve(r, byIteration(r), (it) => it.boundAfterM))));
      const boundTime = methods.flatMap((m) => aggregate(m, okOf(m).map((r) => curve(r, byTime(r), (it) => it.boundAfterM))));
      const gap = methods
        .filter((m) => isApproximate(familyOf(results, m)))
        .flatMap((m) => aggregate(m, okOf(m).map((r) => curve(r, byIteration(r), (it) => it.gap))));
      sections.push({
        id: `${dataset}/${model}`,
        dataset,
        model,
        datasetDescription: results.datasets.find((d) => d.id === dataset)?.description ?? null,
        modelDescription: describeModel(results, model),
        methods,
        seeds,
        columns,
        table,
        bound,
        boundTime,
        gap,
      });
    }
  }
  return sections;
}

/**
 * The model's name and its options as the suite gives them (the same for every
 * data set; options filled in per data set, such as nComponents from the true
 * K, are not repeated here).
 */
function describeModel(results: BenchResults, id: string): string | null {
  const summary = results.models.find((m) => m.id === id);
  const spec = results.manifest.suite.models.find((m) => m.id === id);
  if (summary === undefined && spec === undefined) return null;
  const opts = Object.entries(spec?.options ?? {}).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return `${summary?.name ?? spec?.type ?? id}${opts.length > 0 ? ` (${opts.join(', ')})` : ''}`;
}
