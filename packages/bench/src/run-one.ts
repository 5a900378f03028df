/**
 * One run of a suite: build the model, fit from the group's shared start
 * with one method, and compute the run's metrics. The same code runs in the
 * main thread (`workers: 1`) and in worker threads.
 * @module
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { EmError, createEStep, findEStep, fit, hasGradientAdapter, isMethod, listESteps, logLikelihoodOf, stationarity, type FitResult, type GradientReport, type Model, type PreparedData } from '@emlab/core';
import { bayesianNetwork, gaussianMixture, type BayesNet, type BayesianNetworkOptions, type BnParams } from '@emlab/models';
import type { MixtureTruth } from '@emlab/data';
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { cptError } from './bn-support.js';
import { materializeDataset, type MaterializedDataset } from './datasets.js';
import { adjustedRandIndex, mixtureParameterError } from './metrics.js';
import type { RunIteration, RunMetrics, RunRecord, RunTimings } from './results.js';
import { reanchor } from './suite.js';
import type { MethodSpec, ModelSpec, Suite } from './suite-types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModel = Model<any, any, any, PreparedData>;

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

/**
 * Builds the model of `suite.models[m]` for a data set (gmm `nComponents`
 * defaults to the data set's true K).
 * @throws EmError anchored at `suite.models[m].options…`
 * @internal
 */
export function buildModel(suite: Suite, m: number, data: MaterializedDataset): AnyModel {
  const spec = suite.models[m] as ModelSpec;
  const path = ['suite', 'models', m, 'options'];
  if (spec.type === 'gmm') {
    const truth = data.truth as MixtureTruth | null;
    const options = { ...spec.options } as Record<string, unknown>;
    if (options['nComponents'] === undefined) {
      if (truth === null) {
        throw new EmError('INVALID_ARGUMENT', `suite.models[${m}].options.nComponents = undefined: is required for data set "${data.id}" (no known true K). Remedy: set "nComponents"`, { path: [...path, 'nComponents'] });
      }
      options['nComponents'] = truth.weights.length;
    }
    try {
      return gaussianMixture(options as never) as unknown as AnyModel;
    } catch (e) {
      throw reanchor(e, path);
    }
  }
  const net = data.network as BayesNet | undefined;
  if (net === undefined) {
    throw new EmError('INVALID_ARGUMENT', `suite.models[${m}].datasets: data set "${data.id}" is not network data. Remedy: run "bn" models on data sets with "bif"`, { path: ['suite', 'models', m, 'datasets'] });
  }
  const options = { ...spec.options } as Record<string, unknown>;
  if (options['hidden'] === undefined && (data.hidden ?? []).length > 0) options['hidden'] = [...(data.hidden ?? [])];
  try {
    return bayesianNetwork(net, options as BayesianNetworkOptions) as unknown as AnyModel;
  } catch (e) {
    throw reanchor(e, path);
  }
}

/** The initialization method of `suite.models[m]`, and where it was set (for errors). @internal */
export function initMethodOf(suite: Suite, m: number, model: AnyModel): { method: string; path: (string | number)[] } {
  const spec = suite.models[m] as ModelSpec;
  if (spec.init !== undefined) return { method: spec.init, path: ['suite', 'models', m, 'init'] };
  if (suite.init !== null) return { method: suite.init, path: ['suite', 'init'] };
  return { method: model.initMethods[0] ?? 'given', path: ['suite', 'init'] };
}

/**
 * Whether method `suite.esteps[j]` can run on `model` and the data: registered for its structure kind,
 * and accepted by the method's own check (the gradient baseline needs a gradient adapter that takes the data). @internal
 */
export function methodAvailable(suite: Suite, j: number, model: AnyModel, data?: MaterializedDataset): boolean {
  const spec = suite.esteps[j] as MethodSpec;
  if (!listESteps(model.structureKind).some((e) => e.method === spec.method)) return false;
  try {
    const m = createEStep(model.structureKind, spec.method, spec.options);
    if (isMethod(m)) m.check?.(model, data?.train);
    return true;
  } catch {
    return false;
  }
}

/** Whether model `m` runs on data set `d`. @internal */
export function modelApplies(suite: Suite, m: number, data: MaterializedDataset): boolean {
  const spec = suite.models[m] as ModelSpec;
  if (spec.datasets !== undefined) return spec.datasets.includes(data.id);
  return spec.type === 'gmm' ? data.kind === 'numeric' : data.kind === 'bn';
}

/**
 * Checks a method against the registry for a model (E-step name and options,
 * or the gradient baseline's availability).
 * @throws EmError anchored at `suite.esteps[j]…`
 * @internal
 */
export function checkMethod(suite: Suite, j: number, model: AnyModel): void {
  const spec = suite.esteps[j] as MethodSpec;
  let made;
  try {
    made = createEStep(model.structureKind, spec.method, spec.options);
  } catch (e) {
    if (e instanceof EmError && e.code === 'UNKNOWN_ESTEP') throw reanchor(e, ['suite', 'esteps', j, 'method'], 2);
    throw reanchor(e, ['suite', 'esteps', j, 'options']);
  }
  if (isMethod(made)) {
    try {
      made.check?.(model, undefined);
    } catch (e) {
      throw reanchor(e, ['suite', 'esteps', j, 'method'], 2);
    }
  }
}

/** Whether numeric training data have NaN entries. @internal */
export function hasMissing(data: MaterializedDataset): boolean {
  if (data.kind !== 'numeric') return data.summary.missing !== null;
  const v = (data.train as { values: Float64Array }).values;
  for (let i = 0; i < v.length; i++) if (Number.isNaN(v[i])) return true;
  return false;
}

/** Methods' family for summaries. @internal */
export function methodFamily(kind: string, spec: MethodSpec): string {
  return findEStep(kind, spec.method).family;
}

/** Per-process caches of materialized data sets and models. @internal */
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

/** The outcome of a run that threw: status `'error'`, empty metrics and trace. @internal */
export function errorOutcome(suite: Suite, task: RunTask, code: string, message: string, warnings: readonly string[] = [], totalMs = 0): RunOutcome {
  const metrics: RunMetrics = {
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
  };
  const record: RunRecord = { ...recordBase(suite, task), status: 'error', error: { code, message }, initHash: task.initHash, metrics, trace: [], warnings };
  return { record, timings: { totalMs, fitMs: 0, elapsedMs: [], timeToBestMs: null } };
}

async function heldOutLogLikelihood(model: AnyModel, test: unknown, params: unknown): Promise<number | null> {
  if (test === null) return null;
  return logLikelihoodOf(model, test, params);
}

function tryNumber(fn: () => number | null): number | null {
  try {
    const v = fn();
    return v === null || Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/**
 * ‖∇_ϑ (1/N) log p(x | θ)‖₂ at `params` (core's `stationarity`), or null when the
 * model has neither a gradient adapter (autodiff) nor a parametrization hook (Fisher's identity).
 */
async function stationarityNorm(model: AnyModel, data: unknown, params: unknown): Promise<number | null> {
  if (!hasGradientAdapter(model) && model.parametrization === undefined) return null;
  return (await stationarity(model, data, params)).gradNorm;
}

async function tryNumberAsync(fn: () => Promise<number | null>): Promise<number | null> {
  try {
    const v = await fn();
    return v === null || Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/**
 * Runs one task to completion (not interruptible mid-run except through `signal`,
 * in which case it returns null and nothing is recorded).
 * @internal
 */
export async function runTask(ctx: RunContext, task: RunTask, signal?: AbortSignal): Promise<RunOutcome | null> {
  const suite = ctx.suite;
  const t0 = performance.now();
  const data = await ctx.dataset(task.datasetIndex);
  const modelSpec = suite.models[task.modelIndex] as ModelSpec;
  const methodSpec = suite.esteps[task.methodIndex] as MethodSpec;
  const warnings: string[] = [];
  let result: FitResult;
  let fitMs = 0;
  let ownStationarity: number | undefined;
  const model = buildModel(suite, task.modelIndex, data);
  try {
    const common = {
      init: task.init,
      seed: task.seed,
      maxIter: suite.stopping.maxIter,
      tol: suite.stopping.tol,
      onWarning: (m: string) => warnings.push(m),
      ...(signal === undefined ? {} : { signal }),
    };
    const f0 = performance.now();
    result = await fit(model, data.train, { ...common, eStep: methodSpec.method, eStepOptions: methodSpec.options, monotonicity: 'warn' });
    // A method that checks stationarity itself (the gradient baseline) reports it; others get it computed below.
    ownStationarity = (result.report as GradientReport | undefined)?.stationarity?.gradNorm;
    fitMs = performance.now() - f0;
  } catch (e) {
    if (signal?.aborted) return null;
    return errorOutcome(suite, task, e instanceof EmError ? e.code : 'INTERNAL', (e as Error).message, warnings, performance.now() - t0);
  }
  if (result.convergenceReason === 'aborted' || signal?.aborted) return null;

  const trace: RunIteration[] = result.trace.map((r) => ({
    iteration: r.iteration,
    boundAfterE: r.boundAfterE,
    boundAfterM: r.boundAfterM,
    logLikelihood: r.logLikelihood,
    gap: r.gap,
    boundStdErr: r.boundStdErr,
    entropy: r.entropy ?? null,
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
  const testLL = await tryNumberAsync(() => heldOutLogLikelihood(model, data.test, params));
  let ari: number | null = null;
  const predict = (model as unknown as { predict?: (p: unknown, d: unknown) => number[] }).predict;
  if (data.trainLabels !== null && typeof predict === 'function') {
    ari = tryNumber(() => adjustedRandIndex(predict.call(model, params, data.train), data.trainLabels as Int32Array));
  }
  let paramError: number | null = null;
  if (modelSpec.type === 'gmm' && data.truth !== null) {
    paramError = tryNumber(() => mixtureParameterError(params as never, data.truth as MixtureTruth)?.error ?? null);
  } else if (modelSpec.type === 'bn' && data.network !== undefined) {
    paramError = tryNumber(() => cptError(params as BnParams, data.network as BayesNet, (model as unknown as { hidden: readonly string[] }).hidden ?? []));
  }
  // The gradient baseline reports the check at its final parameters; every other method gets it computed here.
  const gradNorm = ownStationarity !== undefined && Number.isFinite(ownStationarity) ? ownStationarity : await tryNumberAsync(() => stationarityNorm(model, data.train, params));
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
  };
  const record: RunRecord = { ...recordBase(suite, task), status: 'ok', error: null, initHash: task.initHash, metrics, trace, warnings: [...result.warnings] };
  return { record, timings: { totalMs: performance.now() - t0, fitMs, elapsedMs, timeToBestMs: null } };
}
