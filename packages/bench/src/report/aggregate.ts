/**
 * What the report shows, computed from a `results.json` document: one
 * section per (data set, model) with per-run series (no averaging across
 * seeds: every run is its own line), the paired comparison per shared start,
 * win/tie/loss counts, and the final-metric tables (mean ± sd over seeds).
 * Pure functions, no rendering.
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

/** The table's rows, in order; a row is shown only when some run of the section has a value. @category Report */
export const METRIC_COLUMNS: readonly MetricColumn[] = [
  { key: 'bound', label: 'final bound', unit: 'L(q, θ)', value: (r) => r.metrics.bound },
  { key: 'trainLogLikelihood', label: 'log-likelihood', unit: 'train, total', value: (r) => r.metrics.trainLogLikelihood },
  { key: 'trainLogLikelihoodPerRow', label: 'log-likelihood / row', unit: 'train', value: (r) => r.metrics.trainLogLikelihoodPerRow },
  { key: 'logPrior', label: 'log prior', unit: 'log p(θ), MAP', value: (r) => r.metrics.logPrior },
  { key: 'heldOutLogLikelihood', label: 'held-out log-likelihood', unit: 'total', value: (r) => r.metrics.heldOutLogLikelihood },
  { key: 'heldOutLogLikelihoodPerRow', label: 'held-out log-lik. / row', unit: '', value: (r) => r.metrics.heldOutLogLikelihoodPerRow },
  { key: 'nIter', label: 'iterations', unit: '', value: (r) => r.metrics.nIter },
  { key: 'passes', label: 'passes', unit: 'over the data', value: (r) => r.metrics.passes },
  { key: 'eStepCalls', label: 'E-step calls', unit: 'all restarts', value: (r) => r.metrics.eStepCalls },
  { key: 'fitMs', label: 'time', unit: 'fit, ms', value: (_r, t) => t?.fitMs ?? null },
  { key: 'iterationsToBest', label: 'iterations to best', unit: 'within 1e-3 rel.', value: (r) => r.metrics.iterationsToBest },
  { key: 'timeToBestMs', label: 'time to best', unit: 'ms', value: (_r, t) => t?.timeToBestMs ?? null },
  { key: 'parameterError', label: 'parameter error', unit: 'matched, MAE', value: (r) => r.metrics.parameterError },
  { key: 'adjustedRandIndex', label: 'ARI', unit: 'vs true labels', value: (r) => r.metrics.adjustedRandIndex },
  { key: 'stationarity', label: 'stationarity', unit: '‖∇ log p‖₂', value: (r) => r.metrics.stationarity },
];

/** One method's column of a section's table. @category Report */
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
 * One point of one run's line. `lo`/`hi` are the ± 2 standard-error band of a Monte Carlo estimate
 * (null otherwise).
 * @category Report
 */
export interface SeriesPoint {
  readonly run: string;
  readonly method: string;
  readonly seed: string;
  readonly x: number;
  readonly y: number;
  readonly lo: number | null;
  readonly hi: number | null;
}

/** One run's final bound against the best final bound of its start. @category Report */
export interface PairedPoint {
  /** The group (shared start). */
  readonly group: string;
  readonly seed: string;
  readonly method: string;
  readonly bound: number;
  /** The best final bound of the start (Monte Carlo estimates count only when no other method ran). */
  readonly best: number;
  /** bound − best (≤ 0 except for a Monte Carlo estimate above it). */
  readonly delta: number;
  /** max(best − bound, floor): what the log-scale plot draws. */
  readonly shortfall: number;
  /** The final standard error of a Monte Carlo estimate, else null. */
  readonly stdErr: number | null;
}

/** Pairwise outcome counts of one method on shared starts. @category Report */
export interface WinTieLoss {
  readonly method: string;
  readonly wins: number;
  readonly ties: number;
  readonly losses: number;
  /** Against each other method. */
  readonly vs: Readonly<Record<string, { readonly wins: number; readonly ties: number; readonly losses: number }>>;
}

/** Per-run series of a section, by chart. @category Report */
export interface RunSeries {
  /** boundAfterM against iteration (with ± 2 SE bands for Monte Carlo estimates). */
  readonly boundIteration: readonly SeriesPoint[];
  /** boundAfterM against cumulative fit time (ms); empty without timings. */
  readonly boundTime: readonly SeriesPoint[];
  /** best bound of the start − boundAfterM against iteration, floored for the log scale. */
  readonly distance: readonly SeriesPoint[];
  /** gap = log-likelihood − bound, for approximate methods. */
  readonly gap: readonly SeriesPoint[];
  /** boundAfterM against cumulative E-step calls; empty unless some run counts calls other than one per iteration. */
  readonly boundCalls: readonly SeriesPoint[];
  /** boundAfterM against passes over the data; empty unless some run's passes differ from its iterations. */
  readonly boundPasses: readonly SeriesPoint[];
  /** Monte Carlo sample size against iteration; empty unless some run reports it. */
  readonly sampleSize: readonly SeriesPoint[];
}

/** One (data set, model) of the report. @category Report */
export interface ReportSection extends RunSeries {
  /** `${dataset}/${model}`. */
  readonly id: string;
  readonly dataset: string;
  readonly model: string;
  readonly datasetDescription: string | null;
  readonly modelDescription: string | null;
  /** Whether the model's M-step is MAP and some run has a non-zero log prior (the bound then includes it). */
  readonly map: boolean;
  /** Methods present in the section, in suite order. */
  readonly methods: readonly string[];
  /** Seeds present, in suite order. */
  readonly seeds: readonly (number | string)[];
  /** Keys of {@link METRIC_COLUMNS} with at least one value. */
  readonly columns: readonly string[];
  readonly table: readonly TableRow[];
  /** Final bound minus the best final bound of the same start, per run. */
  readonly paired: readonly PairedPoint[];
  readonly winTieLoss: readonly WinTieLoss[];
  /** The log-scale floor used for `distance` and `paired.shortfall`. */
  readonly floor: number;
  /** (method, reason) pairs the suite skipped here. */
  readonly skipped: readonly { readonly method: string; readonly reason: string }[];
}

/** Relative difference below which two final bounds tie (besides their Monte Carlo error). @category Report */
export const TIE_RELATIVE = 1e-6;

/** The log-scale floor relative to |best bound|: shortfalls below it are drawn at it. @category Report */
export const FLOOR_RELATIVE = 1e-10;

function familyOf(results: BenchResults, method: string): string {
  return results.methods.find((m) => m.id === method)?.family ?? 'unknown';
}

/** Whether a method's E-step approximates the posterior (so its gap is worth plotting). @category Report */
export function isApproximate(family: string): boolean {
  return family !== 'exact' && family !== 'gradient';
}

function orderBy<T>(order: readonly T[], present: Iterable<T>): T[] {
  const set = new Set(present);
  const out = order.filter((x) => set.has(x));
  for (const x of set) if (!out.includes(x)) out.push(x);
  return out;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A run's points: x from `xOf(i)`, y from `yOf(iteration)`; non-finite values and non-increasing x left out. */
function points(run: RunRecord, xOf: (i: number) => number | null | undefined, yOf: (it: RunRecord['trace'][number]) => number | null, band = false): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  run.trace.forEach((it, i) => {
    const x = xOf(i);
    const y = yOf(it);
    if (!finite(x) || !finite(y)) return;
    if (out.length > 0 && x <= (out.at(-1) as SeriesPoint).x) return;
    const se = band && finite(it.boundStdErr) ? it.boundStdErr : null;
    out.push({ run: run.id, method: run.method, seed: String(run.seed), x, y, lo: se === null ? null : y - 2 * se, hi: se === null ? null : y + 2 * se });
  });
  return out;
}

function winTieLoss(methods: readonly string[], finals: ReadonlyMap<string, ReadonlyMap<string, { bound: number; se: number }>>): WinTieLoss[] {
  return methods.map((a) => {
    const vs: Record<string, { wins: number; ties: number; losses: number }> = {};
    let wins = 0;
    let ties = 0;
    let losses = 0;
    for (const b of methods) {
      if (b === a) continue;
      const c = { wins: 0, ties: 0, losses: 0 };
      for (const byMethod of finals.values()) {
        const x = byMethod.get(a);
        const y = byMethod.get(b);
        if (x === undefined || y === undefined) continue;
        const d = x.bound - y.bound;
        const tol = Math.max(Math.hypot(x.se, y.se), TIE_RELATIVE * Math.max(Math.abs(x.bound), Math.abs(y.bound)));
        if (d > tol) c.wins++;
        else if (d < -tol) c.losses++;
        else c.ties++;
      }
      vs[b] = c;
      wins += c.wins;
      ties += c.ties;
      losses += c.losses;
    }
    return { method: a, wins, ties, losses, vs };
  });
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
  const monteCarlo = new Set(results.methods.filter((m) => m.family === 'monte-carlo').map((m) => m.id));
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

      // Best bound per start (the runner's rule: the largest boundAfterM of any iteration of any run from
      // the start; Monte Carlo estimates only when no other method ran), and the floor of the log scales.
      const bestOf = new Map<string, number>();
      for (const g of new Set(ok.map((r) => r.group))) {
        const mine = ok.filter((r) => r.group === g);
        const setters = mine.some((r) => !monteCarlo.has(r.method)) ? mine.filter((r) => !monteCarlo.has(r.method)) : mine;
        const values = setters.flatMap((r) => r.trace.map((it) => it.boundAfterM)).filter(finite);
        if (values.length > 0) bestOf.set(g, Math.max(...values));
      }
      const bests = [...new Set(ok.map((r) => r.group))].map((g) => bestOf.get(g)).filter(finite);
      const floor = FLOOR_RELATIVE * Math.max(1, ...bests.map((b) => Math.abs(b)));
      const byIteration = (r: RunRecord) => (i: number) => r.trace[i]?.iteration;
      const byTime = (r: RunRecord) => (i: number) => results.timings?.runs[r.id]?.elapsedMs[i];
      const byCalls = (r: RunRecord) => (i: number) => r.trace[i]?.eStepCalls ?? r.trace[i]?.iteration;
      const byPasses = (r: RunRecord) => (i: number) => r.trace[i]?.passes;
      const ordered = methods.flatMap((m) => ok.filter((r) => r.method === m));
      const boundIteration = ordered.flatMap((r) => points(r, byIteration(r), (it) => it.boundAfterM, true));
      const boundTime = ordered.flatMap((r) => points(r, byTime(r), (it) => it.boundAfterM, true));
      const distance = ordered.flatMap((r) => {
        const best = bestOf.get(r.group);
        return finite(best) ? points(r, byIteration(r), (it) => Math.max(best - it.boundAfterM, floor)) : [];
      });
      const gap = ordered.filter((r) => isApproximate(familyOf(results, r.method))).flatMap((r) => points(r, byIteration(r), (it) => it.gap));
      const callsDiffer = ordered.some((r) => r.trace.some((it) => it.eStepCalls !== null && it.eStepCalls !== it.iteration));
      const passesDiffer = ordered.some((r) => r.trace.some((it) => finite(it.passes) && it.passes !== it.iteration));
      const boundCalls = callsDiffer ? ordered.flatMap((r) => points(r, byCalls(r), (it) => it.boundAfterM, true)) : [];
      const boundPasses = passesDiffer ? ordered.flatMap((r) => points(r, byPasses(r), (it) => it.boundAfterM, true)) : [];
      const sampleSize = ordered.flatMap((r) => points(r, byIteration(r), (it) => it.sampleSize));

      // Paired view and win/tie/loss on final bounds of shared starts.
      const finals = new Map<string, Map<string, { bound: number; se: number }>>();
      for (const r of ordered) {
        if (!finite(r.metrics.bound)) continue;
        const last = r.trace.at(-1);
        const se = finite(last?.boundStdErr) ? (last?.boundStdErr as number) : 0;
        let g = finals.get(r.group);
        if (g === undefined) {
          g = new Map();
          finals.set(r.group, g);
        }
        g.set(r.method, { bound: r.metrics.bound, se });
      }
      const paired: PairedPoint[] = [];
      for (const [group, byMethod] of finals) {
        const entries = [...byMethod.entries()];
        const setters = entries.some(([m]) => !monteCarlo.has(m)) ? entries.filter(([m]) => !monteCarlo.has(m)) : entries;
        const best = Math.max(...setters.map(([, v]) => v.bound));
        const seed = String(ok.find((r) => r.group === group)?.seed ?? '');
        for (const [method, v] of entries) {
          paired.push({ group, seed, method, bound: v.bound, best, delta: v.bound - best, shortfall: Math.max(best - v.bound, floor), stdErr: monteCarlo.has(method) ? v.se : null });
        }
      }
      const summary = results.models.find((m) => m.id === model);
      sections.push({
        id: `${dataset}/${model}`,
        dataset,
        model,
        datasetDescription: results.datasets.find((d) => d.id === dataset)?.description ?? null,
        modelDescription: describeModel(results, model),
        map: (summary?.map ?? false) && ok.some((r) => finite(r.metrics.logPrior) && r.metrics.logPrior !== 0),
        methods,
        seeds,
        columns,
        table,
        boundIteration,
        boundTime,
        distance,
        gap,
        boundCalls,
        boundPasses,
        sampleSize,
        paired,
        winTieLoss: winTieLoss(methods, finals),
        floor,
        skipped: (results.skipped ?? []).filter((s) => s.dataset === dataset && s.model === model).map((s) => ({ method: s.method, reason: s.reason })),
      });
    }
  }
  return sections;
}

/**
 * The model's name and its options as the suite gives them (the same for every
 * data set; options implied by the data, such as a true K, are not repeated here).
 */
function describeModel(results: BenchResults, id: string): string | null {
  const summary = results.models.find((m) => m.id === id);
  const spec = results.manifest.suite.models.find((m) => m.id === id);
  if (summary === undefined && spec === undefined) return null;
  const opts = Object.entries(spec?.options ?? {}).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return `${summary?.name ?? spec?.type ?? id}${opts.length > 0 ? ` (${opts.join(', ')})` : ''}`;
}
