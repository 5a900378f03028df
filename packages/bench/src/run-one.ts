/**
 * One run of a suite: build the model, fit from the group's shared start
 * with one method, and compute the run's metrics. The same code runs in the
 * main thread and in worker threads. Nothing here knows a model or method by
 * name: metrics follow the data set (truth, labels) and the model's
 * capabilities (`predict`, `logPrior`, a gradient adapter or parametrization).
 * @module
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { EmError, fit, hasGradientAdapter, logLikelihoodOf, stationarity, type FitResult, type IterationRecord } from '@emlab/core';
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import '@emlab/models';
import { materializeDataset, type MaterializedDataset } from './materialize.js';
import { adjustedRandIndex } from './metrics.js';
import { buildModel, type AnyModel } from './models.js';
import type { RunFitInfo, RunIteration, RunMetrics, RunRecord, RunTimings } from './results.js';
import type { MethodSpec, ModelSpec, Suite } from './suite-schema.js';

/** One planned run, as sent to a worker (plain data). @internal */
export interface RunTask {
  readonly index: number;
  readonly id: string;
  readonly group: string;
  readonly datasetIndex: number;
  readonly modelIndex: number;
  readonly methodIndex: number;
  readonly seed: number | string;
  /** The group's initial parameters (shared by every method). */
  readonly init: unknown;
  /** Hash of `init` (the group's `initHash`). */
  readonly initHash: string;
}

/** What a run produces: the deterministic record and its timings. @internal */
export interface RunOutcome {
  readonly record: RunRecord;
  readonly timings: RunTimings;
}

/** Imports a suite's plug-in modules (relative to `baseDir`). @internal */
export async function importPlugins(plugins: readonly string[], baseDir: string): Promise<void> {
  for (let i = 0; i < plugins.length; i++) {
    const spec = plugins[i] as string;
    const url = spec.startsWith('.') || spec.startsWith('/') ? pathToFileURL(resolve(baseDir, spec)).href : spec;
    try {
      await import(url);
    } catch (e) {
      throw new EmError('IO_ERROR', `suite.plugins[${i}] = ${JSON.stringify(spec)}: cannot be imported (${(e as Error).message}). Remedy: check the path (relative to the suite file) and that the module loads with node`, {
        path: ['suite', 'plugins', i],
        value: spec,
        cause: e,
      });
    }
  }
}

/** Per-process cache of materialized data sets. @internal */
export class RunContext {
  private readonly data = new Map<number, Promise<MaterializedDataset>>();
  constructor(
    readonly suite: Suite,
    readonly baseDir: string,
  ) {}

  dataset(i: number): Promise<MaterializedDataset> {
    let p = this.data.get(i);
    if (p === undefined) {
      p = materializeDataset(this.suite, i, this.baseDir);
      this.data.set(i, p);
    }
    return p;
  }
}

/** The fields of a run's record that do not depend on how it went. */
function recordBase(suite: Suite, task: RunTask): Pick<RunRecord, 'id' | 'index' | 'group' | 'dataset' | 'model' | 'method' | 'seed'> {
  return {
    id: task.id,
    index: task.index,
    group: task.group,
    dataset: (suite.datasets[task.datasetIndex] as Suite['datasets'][number]).id,
    model: (suite.models[task.modelIndex] as ModelSpec).id,
    method: (suite.esteps[task.methodIndex] as MethodSpec).id,
    seed: task.seed,
  };
}

const EMPTY_METRICS: RunMetrics = {
  bound: null,
  boundKind: null,
  trainLogLikelihood: null,
  trainLogLikelihoodPerRow: null,
  heldOutLogLikelihood: null,
  heldOutLogLikelihoodPerRow: null,
  nIter: 0,
  converged: false,
  convergenceReason: 'error',
  iterationsToBest: null,
  parameterError: null,
  adjustedRandIndex: null,
  stationarity: null,
  passes: null,
  eStepCalls: null,
  precision: null,
  convergencePolicy: null,
  convergenceValue: null,
  nDegenerate: null,
  logPrior: null,
};

/** The outcome of a run that failed: status `'error'`, empty metrics and trace. @internal */
export function errorOutcome(
  suite: Suite,
  task: RunTask,
  code: string,
  message: string,
  extra: { warnings?: readonly string[]; totalMs?: number; attempts?: number; failures?: RunTimings['failures'] } = {},
): RunOutcome {
  const record: RunRecord = { ...recordBase(suite, task), status: 'error', error: { code, message }, initHash: task.initHash, fit: null, metrics: EMPTY_METRICS, trace: [], warnings: extra.warnings ?? [] };
  return { record, timings: { totalMs: extra.totalMs ?? 0, fitMs: 0, elapsedMs: [], timeToBestMs: null, attempts: extra.attempts ?? 1, failures: extra.failures ?? [] } };
}

/** A finite number from a metric that may throw or be undefined, else null. */
async function metric(fn: () => number | null | undefined | Promise<number | null | undefined>): Promise<number | null> {
  try {
    const v = await fn();
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** Monte Carlo sample size of an iteration, when the E-step reports one. */
function sampleSizeOf(r: IterationRecord): number | null {
  const d = r.diagnostics;
  const v = d['sampleSize'] ?? d['nDraws'];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Cumulative E-step calls after each iteration, when the records count them. */
function eStepCallsOf(trace: readonly IterationRecord[]): (number | null)[] {
  let acc = 0;
  return trace.map((r) => {
    const own = (r as { eStepCalls?: unknown }).eStepCalls;
    const per = r.diagnostics['eStepCalls'];
    if (typeof own === 'number') return own;
    if (typeof per === 'number') {
      acc += per;
      return acc;
    }
    return null;
  });
}

function fitInfo(result: FitResult): RunFitInfo {
  return {
    method: { name: result.method.name, kind: result.method.kind, family: result.method.family, options: result.method.options },
    precision: { requested: result.precision.requested, used: [...result.precision.used] },
    passes: result.passes,
    eStepCalls: result.eStepCalls,
    convergence: { policy: result.convergence.policy, tol: result.convergence.tol, description: result.convergence.description, value: result.convergence.value },
    degenerate: result.degenerate.map((d) => ({ component: d.component, reason: d.reason })),
  };
}

/** Signals a run stopped by its time limit (the serial runner's `AbortSignal` reason). @internal */
export class RunTimeout extends Error {
  constructor(readonly timeMs: number) {
    super(`the run took longer than limits.timeMs = ${timeMs} ms`);
  }
}

/**
 * Runs one task to completion. Returns null when `signal` aborted it (nothing is recorded), an error
 * outcome for an `EmError` (a deterministic failure: bad data for this model, a monotonicity
 * violation, ...), and throws anything else (a crash: the runner records it and tries again).
 * @internal
 */
export async function runTask(ctx: RunContext, task: RunTask, signal?: AbortSignal): Promise<RunOutcome | null> {
  const suite = ctx.suite;
  const t0 = performance.now();
  const data = await ctx.dataset(task.datasetIndex);
  const methodSpec = suite.esteps[task.methodIndex] as MethodSpec;
  const warnings: string[] = [];
  let result: FitResult;
  let fitMs = 0;
  let model: AnyModel;
  try {
    model = buildModel(suite, task.modelIndex, data);
    const f0 = performance.now();
    result = await fit(model, data.train, {
      init: task.init,
      seed: task.seed,
      maxIter: suite.stopping.maxIter,
      ...(suite.stopping.tol === null ? {} : { tol: suite.stopping.tol }),
      ...(suite.stopping.convergence === null ? {} : { convergence: suite.stopping.convergence }),
      ...(suite.precision === null ? {} : { precision: suite.precision }),
      eStep: methodSpec.method,
      eStepOptions: methodSpec.options,
      monotonicity: 'warn',
      onWarning: (m: string) => warnings.push(m),
      ...(signal === undefined ? {} : { signal }),
    });
    fitMs = performance.now() - f0;
  } catch (e) {
    if (signal?.aborted) {
      if (signal.reason instanceof RunTimeout) return errorOutcome(suite, task, 'TIMEOUT', signal.reason.message, { warnings, totalMs: performance.now() - t0 });
      return null;
    }
    if (e instanceof EmError) return errorOutcome(suite, task, e.code, e.message, { warnings, totalMs: performance.now() - t0 });
    throw e;
  }
  if (result.convergenceReason === 'aborted' || signal?.aborted) {
    if (signal?.reason instanceof RunTimeout) return errorOutcome(suite, task, 'TIMEOUT', signal.reason.message, { warnings, totalMs: performance.now() - t0 });
    return null;
  }

  const calls = eStepCallsOf(result.trace);
  const trace: RunIteration[] = result.trace.map((r, i) => ({
    iteration: r.iteration,
    boundAfterE: r.boundAfterE,
    boundAfterM: r.boundAfterM,
    logLikelihood: r.logLikelihood,
    gap: r.gap,
    boundStdErr: r.boundStdErr,
    entropy: r.entropy ?? null,
    passes: r.passes,
    eStepCalls: calls[i] ?? null,
    sampleSize: sampleSizeOf(r),
    precision: r.precision,
  }));
  const elapsedMs: number[] = [];
  let acc = 0;
  for (const r of result.trace) {
    acc += (r.eStepMs ?? 0) + (r.mStepMs ?? 0);
    elapsedMs.push(acc);
  }
  const params = result.params;
  const nTrain = data.summary.nTrain;
  const nTest = data.summary.nTest;
  const trainLL = result.logLikelihood;
  const testLL = data.test === null ? null : await metric(() => logLikelihoodOf(model, data.test, params));
  // Capabilities, not names: labels and a predict method give the ARI; a truth and the data set's comparison the parameter error.
  const predict = (model as unknown as { predict?: (p: unknown, d: unknown) => ArrayLike<number> }).predict;
  const ari = data.trainLabels !== null && typeof predict === 'function' ? await metric(() => adjustedRandIndex(Array.from(predict.call(model, params, data.train)), data.trainLabels as Int32Array)) : null;
  const paramError = data.truth !== null && data.parameterError !== undefined ? await metric(() => data.parameterError?.(params, model)) : null;
  const gradNorm = hasGradientAdapter(model) || model.parametrization !== undefined ? await metric(async () => (await stationarity(model, data.train, params)).gradNorm) : null;
  const logPrior = model.logPrior === undefined ? null : await metric(() => model.logPrior?.(params));
  const metrics: RunMetrics = {
    bound: result.bound,
    boundKind: result.boundKind,
    trainLogLikelihood: trainLL,
    trainLogLikelihoodPerRow: trainLL === null ? null : trainLL / nTrain,
    heldOutLogLikelihood: testLL,
    heldOutLogLikelihoodPerRow: testLL === null || nTest === 0 ? null : testLL / nTest,
    nIter: result.nIter,
    converged: result.converged,
    convergenceReason: result.convergenceReason,
    iterationsToBest: null,
    parameterError: paramError,
    adjustedRandIndex: ari,
    stationarity: gradNorm,
    passes: result.passes,
    eStepCalls: result.eStepCalls,
    precision: result.precision.used.join('+'),
    convergencePolicy: result.convergence.policy,
    convergenceValue: result.convergence.value !== null && Number.isFinite(result.convergence.value) ? result.convergence.value : null,
    nDegenerate: result.degenerate.length,
    logPrior,
  };
  const record: RunRecord = { ...recordBase(suite, task), status: 'ok', error: null, initHash: task.initHash, fit: fitInfo(result), metrics, trace, warnings: [...result.warnings] };
  return { record, timings: { totalMs: performance.now() - t0, fitMs, elapsedMs, timeToBestMs: null, attempts: 1, failures: [] } };
}
