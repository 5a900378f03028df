/**
 * `fit` and the step API: coordinate ascent on L(q, θ), written once for
 * every model, E-step and method.
 *
 * `fitSteps` is the engine: options and data checks (before any work),
 * preparation, restarts, each restart's iterations, convergence, callbacks and
 * the result. `fit` is a loop over it. A caller who wants to drive the loop
 * iterates `fitSteps(...)` (or calls `step()`), seeing every iteration's record
 * with the parameters, and gets the same `FitResult` from `result()`.
 *
 * @see Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete data via the EM algorithm.
 * @see Neal, R. M. & Hinton, G. E. (1998). A view of the EM algorithm that justifies incremental, sparse, and other variants.
 * @module
 */
import type { Accelerator } from './accelerate/accelerator.js';
import { resolveAcceleratedMethod } from './accelerate/accelerated-method.js';
import { ACCELERATOR_NAMES, createAccelerator, type AcceleratorName } from './accelerate/create-accelerator.js';
import { initBackend } from './backend.js';
import { CONVERGENCE_POLICIES, convergencePolicy, isConvergencePolicy, type ConvergenceInput, type ConvergencePolicy, type ConvergencePolicyName, type ConvergenceVerdict } from './convergence.js';
import { emMethod, isAbort } from './em-method.js';
import { EmError, emError } from './errors.js';
import { boundKindOf, type EStep } from './estep.js';
import { isMethod, type Method, type MethodSession, type RestartRun } from './method.js';
import { AUTO_FLOAT64_COST, type DegenerateComponent, type Model, type PreparedData } from './model.js';
import { emitWarning, yieldToEventLoop } from './platform.js';
import { checkPrecision, type Precision, type PrecisionOption } from './precision.js';
import { createEStep, findEStep } from './registry.js';
import type { ConvergenceReason, FitResult, IterationRecord, MonotonicityPolicy, RestartSummary } from './result.js';
import { createRng, validateSeed, type Rng, type Seed } from './rng.js';
import { checkShardable, resolveShardEngine, type ShardEngine } from './shard.js';
import { VERSION } from './version.js';

/** Passed to `onIteration` next to the record. @category Fitting */
export interface IterationInfo<P = unknown> {
  readonly restart: number;
  readonly nInit: number;
  readonly maxIter: number;
  /** θ after this iteration (plain JSON, original units). */
  readonly params: P;
}

/** A phase of a fit, for progress output on long runs. @category Fitting */
export interface FitProgress {
  readonly phase: 'preparing' | 'initializing' | 'iterating' | 'finishing';
  readonly restart?: number;
  /** Milliseconds the previous phase took. */
  readonly ms?: number;
}

/**
 * Options of {@link fit} (scikit-learn names in camelCase). Unknown options are errors.
 * @typeParam P - the model's parameters (for `init` given as parameters).
 * @category Fitting
 */
export interface FitOptions<P = unknown> {
  /** An E-step, a method object, or a registered method name for the model's structure kind. Default the model's `defaultMethod`, else `'exact'`. */
  readonly eStep?: EStep | Method | string;
  /** Options for a named `eStep` (an error beside an E-step object, which carries its own). */
  readonly eStepOptions?: Readonly<Record<string, unknown>>;
  /**
   * Accelerate the EM map of the (exact) E-step: an accelerator name (`'squarem'`, `'aitken'`,
   * `'parabolic'`, `'quasi-newton'`, or `'em'` for plain EM through the same machinery) or an
   * `Accelerator` object carrying its options (`squarem({ method: 'S1' })`). The fit then runs
   * `acceleratedMethod` in float64 in the model's parametrization; `maxIter` and the trace's
   * `passes` count E-step calls. Needs a model with a `parametrization` and an exact E-step.
   */
  readonly accelerate?: AcceleratorName | Accelerator;
  /** Maximum passes over the data per restart. Default 1000. */
  readonly maxIter?: number;
  /** Tolerance of the convergence policy (default: the policy's, 1e-10 for `aitken`); 0 runs `maxIter` passes. */
  readonly tol?: number;
  /** A convergence policy or a built-in name (see `convergence.ts`). Default: the E-step's own, else `'aitken'` (`'monte-carlo'` for Monte Carlo E-steps). */
  readonly convergence?: ConvergencePolicyName | ConvergencePolicy;
  /** Restarts; the best final bound is kept (non-degenerate ones first). Default 1. */
  readonly nInit?: number;
  /** An initialization method of the model (its first one by default) or given parameters (warm start). */
  readonly init?: string | P;
  /** Root seed. Default 0 (emlab is deterministic unless told otherwise). */
  readonly seed?: Seed;
  /** Row weights `[rows]` (frequency or importance weights, finite, ≥ 0); the bound, BIC and N use their sum. */
  readonly weights?: ArrayLike<number>;
  /** `'auto'` (default), `'float64'` or `'float32'` (see `precision.ts`). */
  readonly precision?: PrecisionOption;
  /** Keep θ in the trace: `true` every iteration, `k` every k-th (and the last). Default false. */
  readonly recordParams?: boolean | number;
  /** Keep the best restart even when it is degenerate and a non-degenerate one exists. Default false. */
  readonly allowDegenerate?: boolean;
  /** Called after every iteration with θ in `info.params`; return `false` or `'stop'` to stop. */
  readonly onIteration?: (record: IterationRecord, info: IterationInfo<P>) => void | boolean | 'stop';
  /** Called when a phase of the fit starts (progress output). */
  readonly onProgress?: (progress: FitProgress) => void;
  /** Stops the fit; the result so far is returned with reason `'aborted'` (an error before the first iteration). */
  readonly signal?: AbortSignal;
  /** Default `'warn'`. Monte Carlo E-steps are never checked strictly. */
  readonly monotonicity?: MonotonicityPolicy;
  /** Validate the data before fitting. Default true. */
  readonly validate?: boolean;
  /** Receives warnings (non-convergence, monotonicity). Default: `process.emitWarning` (`console.warn` in a browser). */
  readonly onWarning?: (message: string) => void;
  /**
   * Shards each E-step over workers: a number of worker threads (Node, after `import
   * '@emlab/core/node'`; 1, the default, runs in this thread) or a {@link ShardEngine} (e.g. remote
   * workers). Blocks are added in a fixed order, so the result is bit-identical for every worker
   * count. Needs a model with sharding hooks and a shardable E-step (exact, hard, stochastic).
   */
  readonly workers?: number | ShardEngine;
}

const OPTION_KEYS: readonly (keyof FitOptions)[] = [
  'eStep', 'eStepOptions', 'accelerate', 'maxIter', 'tol', 'convergence', 'nInit', 'init', 'seed', 'weights', 'precision', 'recordParams', 'allowDegenerate',
  'onIteration', 'onProgress', 'signal', 'monotonicity', 'validate', 'onWarning', 'workers',
];

/** Default `maxIter` of {@link fit}. @category Fitting */
export const DEFAULT_MAX_ITER = 1000;

/**
 * Checks the options of `fit` (every method shares them).
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @internal
 */
export function checkOptions<P>(o: FitOptions<P>): void {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw emError('INVALID_ARGUMENT', ['options'], o, 'must be an options object', 'pass {} or leave it out');
  }
  for (const key of Object.keys(o)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      const near = OPTION_KEYS.find((k) => k.toLowerCase() === key.toLowerCase() || k.toLowerCase() === key.toLowerCase().replace(/s$/, ''));
      throw emError('INVALID_ARGUMENT', ['options', key], (o as Record<string, unknown>)[key], 'is not an option of fit', near !== undefined ? `did you mean ${near}?` : `use one of: ${OPTION_KEYS.join(', ')}`);
    }
  }
  const int = (name: 'maxIter' | 'nInit', min: number): void => {
    const v = o[name];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw emError('INVALID_ARGUMENT', ['options', name], v, `must be an integer >= ${min}`, `pass ${name} >= ${min}`);
    }
  };
  int('maxIter', 1);
  int('nInit', 1);
  if (o.tol !== undefined && (typeof o.tol !== 'number' || !Number.isFinite(o.tol) || o.tol < 0)) {
    throw emError('INVALID_ARGUMENT', ['options', 'tol'], o.tol, 'must be a finite number >= 0', 'pass e.g. tol: 1e-10 (0 runs exactly maxIter iterations)');
  }
  if (o.seed !== undefined) validateSeed(o.seed);
  if (o.monotonicity !== undefined && !['warn', 'throw', 'off'].includes(o.monotonicity)) {
    throw emError('INVALID_ARGUMENT', ['options', 'monotonicity'], o.monotonicity, "must be 'warn', 'throw' or 'off'", "pass monotonicity: 'warn'");
  }
  for (const fn of ['onIteration', 'onWarning', 'onProgress'] as const) {
    if (o[fn] !== undefined && typeof o[fn] !== 'function') {
      throw emError('INVALID_ARGUMENT', ['options', fn], o[fn], 'must be a function', `pass a function or leave ${fn} unset`);
    }
  }
  if (o.signal !== undefined && (typeof o.signal !== 'object' || o.signal === null || typeof o.signal.aborted !== 'boolean')) {
    throw emError('INVALID_ARGUMENT', ['options', 'signal'], o.signal, 'must be an AbortSignal', 'pass controller.signal from an AbortController');
  }
  if (o.eStep !== undefined && typeof o.eStep !== 'string' && (typeof o.eStep !== 'object' || o.eStep === null || (typeof (o.eStep as EStep).run !== 'function' && !isMethod(o.eStep)))) {
    throw emError('INVALID_ARGUMENT', ['options', 'eStep'], o.eStep, 'must be an E-step object, a method object or a registered method name', "pass e.g. eStep: 'exact' or exactEStep()");
  }
  if (o.eStepOptions !== undefined) {
    if (typeof o.eStepOptions !== 'object' || o.eStepOptions === null || Array.isArray(o.eStepOptions)) {
      throw emError('INVALID_ARGUMENT', ['options', 'eStepOptions'], o.eStepOptions, 'must be an options object', 'pass e.g. eStepOptions: { nDraws: 4 }');
    }
    if (typeof o.eStep === 'object') {
      throw emError('INVALID_ARGUMENT', ['options', 'eStepOptions'], o.eStepOptions, 'conflicts with an E-step object, which carries its own options', 'pass the options to the E-step factory (e.g. stochasticEStep({ nDraws: 4 })), or give eStep as a name');
    }
  }
  if (o.precision !== undefined) checkPrecision(o.precision);
  if (o.accelerate !== undefined) {
    const a = o.accelerate as unknown;
    const ok = typeof a === 'string' ? (ACCELERATOR_NAMES as readonly string[]).includes(a) : typeof a === 'object' && a !== null && typeof (a as Accelerator).step === 'function' && typeof (a as Accelerator).start === 'function';
    if (!ok) throw emError('INVALID_ARGUMENT', ['options', 'accelerate'], a, `must be an accelerator name (${ACCELERATOR_NAMES.join(', ')}) or an Accelerator object`, "pass e.g. accelerate: 'squarem'");
    if (isMethod(o.eStep)) throw emError('INVALID_ARGUMENT', ['options', 'accelerate'], a, `conflicts with eStep = method "${o.eStep.name}": acceleration wraps an exact E-step's EM map`, "drop accelerate, or pass an exact E-step (eStep: 'exact')");
  }
  if (o.convergence !== undefined && typeof o.convergence !== 'string' && !isConvergencePolicy(o.convergence)) {
    throw emError('INVALID_ARGUMENT', ['options', 'convergence'], o.convergence, 'must be a policy name or a ConvergencePolicy object', "pass e.g. convergence: 'aitken'");
  }
  if (o.recordParams !== undefined && typeof o.recordParams !== 'boolean' && (typeof o.recordParams !== 'number' || !Number.isSafeInteger(o.recordParams) || o.recordParams < 1)) {
    throw emError('INVALID_ARGUMENT', ['options', 'recordParams'], o.recordParams, 'must be true, false or an integer k >= 1 (every k-th iteration)', 'pass recordParams: true');
  }
  for (const b of ['allowDegenerate', 'validate'] as const) {
    if (o[b] !== undefined && typeof o[b] !== 'boolean') throw emError('INVALID_ARGUMENT', ['options', b], o[b], 'must be true or false', `pass ${b}: true or leave it out`);
  }
}

/** The `init` option: given parameters, or a method name (default the model's first). @throws EmError `INVALID_ARGUMENT` for an unknown name @internal */
export function resolveInit<D, P, S, PD extends PreparedData>(model: Model<D, P, S, PD>, init: string | P | undefined): string | P {
  const chosen = init ?? model.initMethods[0] ?? 'given';
  if (typeof chosen === 'string' && !model.initMethods.includes(chosen)) {
    throw emError('INVALID_ARGUMENT', ['options', 'init'], chosen, `is not an initialization method of ${model.name} (known: ${model.initMethods.join(', ')})`, 'pass one of those names or parameters to start from');
  }
  return chosen;
}

/**
 * Resolves the `eStep` option to a method for a model.
 * @throws EmError `UNKNOWN_ESTEP`, `INVALID_ARGUMENT`
 * @category Fitting
 */
export function resolveMethod(structureKind: string, eStep: EStep | Method | string | undefined, eStepOptions?: Readonly<Record<string, unknown>>): Method {
  const e = eStep ?? 'exact';
  const made = typeof e === 'string' ? createEStep(structureKind, e, eStepOptions) : e;
  const method = isMethod(made) ? made : emMethod(made);
  if (method.kind !== '*' && method.kind !== structureKind) {
    throw emError('INVALID_ARGUMENT', ['options', 'eStep'], method.name, `runs on structure kind "${method.kind}" but the model has kind "${structureKind}"`, `use a method registered for "${structureKind}" (listESteps("${structureKind}"))`);
  }
  return method;
}

/** Checks row weights against the number of rows. @throws EmError `INVALID_ARGUMENT` @internal */
function checkWeights(weights: ArrayLike<number>): Float64Array {
  if (typeof weights !== 'object' || weights === null || typeof weights.length !== 'number') {
    throw emError('INVALID_ARGUMENT', ['options', 'weights'], weights, 'must be an array of numbers, one per row', 'pass e.g. weights: [1, 2, 1, ...]');
  }
  const w = Float64Array.from(weights);
  let total = 0;
  for (let i = 0; i < w.length; i++) {
    const v = w[i] as number;
    if (!Number.isFinite(v) || v < 0) throw emError('INVALID_ARGUMENT', ['options', 'weights', i], weights[i], 'must be a finite number >= 0', 'pass non-negative finite weights (0 leaves a row out)');
    total += v;
  }
  if (!(total > 0)) throw emError('INVALID_ARGUMENT', ['options', 'weights'], total, 'sum to 0: every row would be left out', 'give some rows a positive weight');
  return w;
}

/** The precisions a fit may use, and where it starts. */
function planPrecision(requested: PrecisionOption, model: Model<any, any, any, any>, method: Method): { start: Precision; canRefine: boolean; allowed: Precision[] } { // eslint-disable-line @typescript-eslint/no-explicit-any
  const modelP = model.precisions ?? ['float64'];
  const allowed = (['float32', 'float64'] as const).filter((p) => modelP.includes(p) && method.precisions.includes(p));
  if (allowed.length === 0) {
    throw emError('INVALID_ARGUMENT', ['options', 'eStep'], method.name, `computes in ${method.precisions.join('/')} but model ${model.name} only in ${modelP.join('/')}`, 'use a method and model that share a precision');
  }
  if (requested !== 'auto') {
    if (!allowed.includes(requested)) {
      throw emError('INVALID_ARGUMENT', ['options', 'precision'], requested, `is not available for model ${model.name} with method ${method.name} (available: ${allowed.join(', ')})`, `pass precision: '${allowed[0]}' or 'auto'`);
    }
    return { start: requested, canRefine: false, allowed: [requested] };
  }
  if (allowed.length === 1) return { start: allowed[0] as Precision, canRefine: false, allowed };
  return { start: 'float32', canRefine: true, allowed };
}

/** One iteration as the step API reports it. @category Fitting */
export interface FitStep<P> {
  readonly restart: number;
  readonly record: IterationRecord;
  /** θ after this iteration (plain JSON). */
  readonly params: P;
  /** Whether this was the restart's last iteration, and why it stopped. */
  readonly done: ConvergenceReason | null;
  /** E-step calls this iteration made (1 for EM; several for an accelerated step, see `MethodStep.eStepCalls`). */
  readonly eStepCalls: number;
}

/**
 * A fit driven step by step: iterate it (`for await (const s of run)`), or call `step()`; `result()`
 * finishes it (running the remaining iterations) and returns the same `FitResult` as `fit`.
 * Leaving a `for await` loop early, or calling `dispose()`, frees everything.
 * @category Fitting
 */
export interface FitRun<P> extends AsyncIterable<FitStep<P>> {
  /** Runs one iteration; null once the fit is finished (then `result()` is ready). */
  step(): Promise<FitStep<P> | null>;
  /** Runs to the end and returns the result. */
  result(): Promise<FitResult<P>>;
  /** Stops and frees prepared data and E-step state (the fit cannot continue). */
  dispose(): Promise<void>;
}

/**
 * Fits a model by EM (or another registered method): the one loop — init → E → M → bound →
 * convergence → best of `nInit` — with the Neal–Hinton record of every iteration.
 *
 * @example
 * ```ts
 * import { fit } from '@emlab/core';
 * import '@emlab/exact';
 * import { gaussianMixture } from '@emlab/models';
 * const result = await fit(gaussianMixture({ nComponents: 3 }), rows, { seed: 1 });
 * console.log(result.logLikelihood, result.params.means);
 * ```
 * @throws EmError `INVALID_ARGUMENT` (options), `INVALID_DATA` (data), `INVALID_PARAMS` (given init),
 *   `UNKNOWN_ESTEP`, `MONOTONICITY_VIOLATION` (with `monotonicity: 'throw'`), `ABORTED` (aborted before the first iteration).
 * @category Fitting
 */
export async function fit<D, P, S, PD extends PreparedData>(model: Model<D, P, S, PD>, data: D, options: FitOptions<P> = {}): Promise<FitResult<P>> {
  const run = fitSteps(model, data, options);
  try {
    return await run.result();
  } finally {
    await run.dispose();
  }
}

/**
 * The step API: the same engine as {@link fit}, one iteration at a time. Options and data are
 * checked now (synchronously); nothing is prepared until the first step.
 *
 * @example
 * ```ts
 * const run = fitSteps(model, rows, { seed: 0 });
 * for await (const { record, params } of run) console.log(record.iteration, record.boundAfterM, params);
 * const result = await run.result();
 * ```
 * @throws EmError as {@link fit}, for options and data.
 * @category Fitting
 */
export function fitSteps<D, P, S, PD extends PreparedData>(model: Model<D, P, S, PD>, data: D, options: FitOptions<P> = {}): FitRun<P> {
  const setup = checkFit(model, data, options);
  const gen = engine(model, data, options, setup);
  let result: FitResult<P> | undefined;
  let closed = false;
  const step = async (): Promise<FitStep<P> | null> => {
    if (result !== undefined || closed) return null;
    const n = await gen.next();
    if (n.done) {
      result = n.value;
      return null;
    }
    return n.value;
  };
  return {
    step,
    async result() {
      while (result === undefined) {
        if (closed) throw new EmError('ABORTED', 'the fit was disposed before it finished', { path: ['fitSteps'] });
        await step();
      }
      return result;
    },
    async dispose() {
      if (closed) return;
      closed = true;
      await gen.return(undefined as unknown as FitResult<P>);
    },
    [Symbol.asyncIterator]() {
      return {
        next: async () => {
          const s = await step();
          return s === null ? { done: true, value: undefined } : { done: false, value: s };
        },
        return: async () => {
          if (result === undefined) {
            closed = true;
            await gen.return(undefined as unknown as FitResult<P>);
          }
          return { done: true, value: undefined };
        },
      };
    },
  };
}

interface Setup<P> {
  readonly method: Method;
  readonly maxIter: number;
  readonly seed: Seed;
  readonly policy: MonotonicityPolicy;
  readonly init: string | P;
  readonly given: boolean;
  readonly nInit: number;
  readonly weights: Float64Array | undefined;
  readonly requested: PrecisionOption;
  readonly plan: { start: Precision; canRefine: boolean; allowed: Precision[] };
  readonly convergence: ConvergencePolicy;
  readonly recordEvery: number;
  readonly warnings: string[];
  readonly warn: (m: string) => void;
  readonly shards: ShardEngine | undefined;
}

function checkFit<D, P, S, PD extends PreparedData>(model: Model<D, P, S, PD>, data: D, options: FitOptions<P>): Setup<P> {
  checkOptions(options);
  if (typeof model !== 'object' || model === null || typeof (model as Model<D, P, S, PD>).structure !== 'function') {
    throw emError('INVALID_ARGUMENT', ['model'], model, 'is not a model', 'pass a model object, e.g. gaussianMixture({ nComponents: 3 }) from @emlab/models');
  }
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    if (options.onWarning) options.onWarning(message);
    else emitWarning(message);
  };
  // The model's default method stands in for a missing eStep; acceleration always wraps an exact E-step.
  const method = options.accelerate === undefined
    ? resolveMethod(model.structureKind, options.eStep ?? model.defaultMethod, options.eStepOptions)
    : resolveAcceleratedMethod(model.structureKind, options.eStep, options.eStepOptions, typeof options.accelerate === 'string' ? createAccelerator(options.accelerate) : options.accelerate);
  const init = resolveInit(model, options.init);
  const given = typeof init !== 'string';
  if (given && (options.nInit ?? 1) > 1) warn(`nInit=${options.nInit} ignored: init is given parameters, so every restart would be identical`);
  const requested = options.precision ?? 'auto';
  const plan = planPrecision(requested, model, method);
  const convergence = typeof options.convergence === 'object'
    ? options.convergence
    : options.convergence !== undefined
      ? convergencePolicy(options.convergence, options.tol)
      : method.convergence !== undefined && options.tol === undefined
        ? method.convergence
        : method.convergence?.withTol !== undefined && options.tol !== undefined
          ? method.convergence.withTol(options.tol)
        : method.convergence !== undefined && (CONVERGENCE_POLICIES as readonly string[]).includes(method.convergence.name)
          // A method's built-in policy (accelerated EM's) with the user's tolerance.
          ? convergencePolicy(method.convergence.name as ConvergencePolicyName, options.tol)
          : convergencePolicy(method.family === 'monte-carlo' ? 'monte-carlo' : 'aitken', options.tol);
  if (typeof options.convergence === 'object' && options.tol !== undefined) {
    throw emError('INVALID_ARGUMENT', ['options', 'tol'], options.tol, 'conflicts with a convergence policy object, which carries its own tolerance', 'set the tolerance on the policy (convergencePolicy(name, tol)) or give convergence as a name');
  }
  if (options.weights !== undefined && !model.acceptsWeights) {
    throw emError('INVALID_ARGUMENT', ['options', 'weights'], 'weights', `are not supported by model ${model.name}`, 'drop the weights, or expand weighted rows into repeated rows');
  }
  const weights = options.weights === undefined ? undefined : checkWeights(options.weights);
  if (options.validate ?? true) model.validate(data);
  method.check?.(model, data);
  if (given) model.validateParams(init, data);
  const shards = options.workers === undefined ? undefined : resolveShardEngine(options.workers);
  if (shards !== undefined) checkShardable(model, method.eStep, method.name);
  const recordEvery = options.recordParams === true ? 1 : typeof options.recordParams === 'number' ? options.recordParams : 0;
  return {
    method,
    maxIter: options.maxIter ?? DEFAULT_MAX_ITER,
    seed: options.seed ?? 0,
    // Gradient ascent is not monotone: nothing to check.
    policy: options.monotonicity ?? (method.family === 'gradient' ? 'off' : 'warn'),
    init,
    given,
    nInit: given ? 1 : (options.nInit ?? 1),
    weights,
    requested,
    plan,
    convergence,
    recordEvery,
    warnings,
    warn,
    shards,
  };
}

interface RestartEnd<P> {
  readonly restart: number;
  readonly params: P;
  readonly trace: IterationRecord[];
  readonly bound: number;
  readonly reason: ConvergenceReason;
  readonly verdict: ConvergenceVerdict | undefined;
  readonly degenerate: readonly DegenerateComponent[];
}

/** The fit as a generator of steps, returning the result. */
async function* engine<D, P, S, PD extends PreparedData>(model: Model<D, P, S, PD>, data: D, options: FitOptions<P>, s: Setup<P>): AsyncGenerator<FitStep<P>, FitResult<P>> {
  if (options.signal?.aborted) throw new EmError('ABORTED', 'fit was aborted before it started', { path: ['options', 'signal'] });
  const backend = await initBackend();
  const rootRng = createRng(s.seed);
  const progress = options.onProgress;
  let phaseStart = performance.now();
  const phase = (p: FitProgress['phase'], restart?: number): void => {
    const now = performance.now();
    progress?.({ phase: p, ...(restart === undefined ? {} : { restart }), ms: now - phaseStart });
    phaseStart = now;
  };
  phase('preparing');
  const prepared = model.prepare(data, { ...(s.weights === undefined ? {} : { weights: s.weights }), precisions: s.plan.allowed });
  let session: MethodSession<P> | undefined;
  let eStepCalls = 0;
  try {
    const totalWeight = prepared.totalWeight ?? prepared.nRows;
    const costAt = (p: P): number => model.iterationCost?.(prepared, p) ?? prepared.nRows * 100;
    let vectors: ((p: P) => Float64Array) | null | undefined;
    const toVector = (): ((p: P) => Float64Array) | undefined => {
      if (vectors === undefined) {
        const par = model.parametrization?.(prepared);
        vectors = par === undefined ? null : (p: P) => par.toVector(p);
      }
      return vectors ?? undefined;
    };
    const restarts: RestartSummary[] = [];
    const ends: RestartEnd<P>[] = [];
    for (let r = 0; r < s.nInit; r++) {
      const rng = rootRng.child('restart', r);
      phase('initializing', r);
      const params0 = s.given ? (s.init as P) : model.init(prepared, s.init as string, rng.child('init'));
      // auto: float64 throughout when it costs little (the model's estimate at the start), else float32 first.
      const first: Precision = s.plan.canRefine ? (costAt(params0) <= AUTO_FLOAT64_COST ? 'float64' : 'float32') : s.plan.start;
      session ??= await s.method.open({
        model, data, prepared, totalWeight, warn: s.warn, monotonicity: s.policy, signal: options.signal,
        ...(s.shards === undefined ? {} : { shards: { engine: s.shards, precisions: s.plan.allowed } }),
      });
      phase('iterating', r);
      const run = await session.begin({ params: params0, rng, restart: r, precision: { start: first, canRefine: s.plan.canRefine && first === 'float32' } });
      let end: RestartEnd<P>;
      try {
        const it = runRestart(run, params0, r, s, options, totalWeight, toVector);
        for (;;) {
          const n = await it.next();
          if (n.done) {
            end = n.value;
            break;
          }
          eStepCalls += n.value.eStepCalls;
          yield n.value;
        }
      } finally {
        run.dispose();
      }
      ends.push(end);
      restarts.push({ restart: r, bound: end.bound, nIter: end.trace.length, converged: end.reason === 'tol', reason: end.reason, degenerate: end.degenerate });
      if (end.reason === 'aborted' || end.reason === 'callback') break;
    }
    phase('finishing');
    const best = pickBest(ends, options.allowDegenerate ?? false);
    if (best === undefined) throw new EmError('INTERNAL', 'no restart ran');
    if (best.degenerate.length > 0 && ends.some((e) => e.degenerate.length === 0)) {
      s.warn(`restart ${best.restart} was kept although it is degenerate (allowDegenerate): ${best.degenerate.map((d) => `component ${d.component}: ${d.reason}`).join('; ')}`);
    } else if (best.degenerate.length > 0) {
      s.warn(`every restart ended degenerate; restart ${best.restart} is kept: ${best.degenerate.map((d) => `component ${d.component}: ${d.reason}`).join('; ')}. Remedy: fewer components, a larger regularization, or more restarts`);
    }
    if (best.reason === 'max-iter') {
      s.warn(`${model.name} with method "${s.method.name}" did not converge in maxIter=${s.maxIter} passes (restart ${best.restart}; ${s.convergence.name} value ${fmt(best.verdict?.value)} > tol ${s.convergence.tol}); increase maxIter, loosen tol, or check the trace`);
    } else if (best.reason === 'noise-floor') {
      s.warn(`${model.name} with method "${s.method.name}" stopped at the float32 noise floor before meeting tol ${s.convergence.tol} (restart ${best.restart}); use precision 'float64' or 'auto' for this tolerance, or loosen tol`);
    }
    const finalPrecision = s.plan.allowed.includes('float64') ? 'float64' : (s.plan.allowed[0] as Precision);
    const params = model.canonicalParams === undefined ? best.params : model.canonicalParams(best.params);
    let ll = await finalLogLikelihood(model, prepared, params, finalPrecision, rootRng.child('final'));
    if (ll.evaluated) eStepCalls++;
    // Gradient ascent's bound is log p(x | θ) at its final parameters (its own evaluation of it).
    if (ll.value === null && s.method.family === 'gradient') ll = { value: best.bound, evaluated: false };
    const kept = best.trace;
    const last = kept[kept.length - 1];
    const used: Precision[] = [];
    for (const rec of kept) if (used[used.length - 1] !== rec.precision) used.push(rec.precision);
    const report = session?.summary?.({ params, restart: best.restart });
    return {
      format: 'emlab/fit-result',
      formatVersion: 2,
      model: { name: model.name, options: model.options },
      params,
      bound: best.bound,
      boundKind: boundKindOf(s.method.family),
      logLikelihood: ll.value,
      converged: best.reason === 'tol',
      convergenceReason: best.reason,
      convergence: { policy: s.convergence.name, tol: s.convergence.tol, description: s.convergence.description, value: best.verdict !== undefined && Number.isFinite(best.verdict.value) ? best.verdict.value : null },
      nIter: kept.length,
      passes: last?.passes ?? 0,
      eStepCalls,
      trace: kept,
      restart: best.restart,
      restarts,
      degenerate: best.degenerate,
      seed: s.seed,
      method: { name: s.method.name, kind: s.method.kind, family: s.method.family, options: s.method.options },
      options: {
        maxIter: s.maxIter,
        tol: s.convergence.tol,
        nInit: s.nInit,
        init: s.given ? 'given' : (s.init as string),
        monotonicity: s.policy,
        precision: s.requested,
        convergence: s.convergence.name,
        weighted: s.weights !== undefined,
      },
      precision: { requested: s.requested, used },
      nRows: prepared.nRows,
      totalWeight,
      ...(model.summarizeData === undefined ? {} : { data: model.summarizeData(prepared) }),
      backend,
      version: VERSION,
      warnings: s.warnings,
      ...(report === undefined ? {} : { report }),
    };
  } finally {
    session?.dispose();
    prepared.dispose();
  }
}

const fmt = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toExponential(2));

/** Best final bound; non-degenerate restarts first unless `allowDegenerate`; NaN bounds last. */
function pickBest<P>(ends: readonly RestartEnd<P>[], allowDegenerate: boolean): RestartEnd<P> | undefined {
  const better = (a: RestartEnd<P>, b: RestartEnd<P> | undefined): boolean => {
    if (b === undefined) return true;
    if (!allowDegenerate && (a.degenerate.length === 0) !== (b.degenerate.length === 0)) return a.degenerate.length === 0;
    if (Number.isNaN(b.bound)) return !Number.isNaN(a.bound);
    return a.bound > b.bound;
  };
  let best: RestartEnd<P> | undefined;
  for (const e of ends) if (better(e, best)) best = e;
  return best;
}

/** One restart's iterations, yielding each step; returns how it ended. */
async function* runRestart<P>(
  run: RestartRun<P>,
  params0: P,
  r: number,
  s: Setup<P>,
  options: FitOptions<P>,
  totalWeight: number,
  toVector: () => ((p: P) => Float64Array) | undefined,
): AsyncGenerator<FitStep<P>, RestartEnd<P>> {
  const trace: IterationRecord[] = [];
  const passTrace: IterationRecord[] = [];
  const passParams: P[] = [params0];
  let params = params0;
  let reason: ConvergenceReason = 'max-iter';
  let verdict: ConvergenceVerdict | undefined;
  let warnedMonotone = false;
  let passes = 0;
  let precisionFrom = 0; // index in passTrace where the current precision began
  while (passes < s.maxIter) {
    if (options.signal?.aborted) {
      if (trace.length === 0 && r === 0) throw new EmError('ABORTED', 'fit was aborted before the first iteration finished', { path: ['options', 'signal'] });
      reason = 'aborted';
      break;
    }
    let step;
    try {
      step = await run.step();
    } catch (e) {
      if (isAbort(e) && trace.length > 0) {
        reason = 'aborted';
        break;
      }
      throw e;
    }
    let record = step.record;
    params = step.params;
    const before = passes;
    passes = record.passes;
    const passDone = Math.floor(passes + 1e-9) > Math.floor(before + 1e-9);
    if (passDone) {
      passTrace.push(record);
      passParams.push(params);
      if (passParams.length > 3) passParams.shift();
      if (passTrace.length >= 2 && passTrace[passTrace.length - 2]?.precision !== record.precision) precisionFrom = passTrace.length - 1;
      if (s.convergence.tol > 0) {
        const window = passTrace.slice(precisionFrom);
        const input: ConvergenceInput = {
          trace: window,
          totalWeight,
          precision: record.precision,
          family: s.method.family,
          parameterHistory: () => {
            const v = toVector();
            return v === undefined ? undefined : passParams.slice(Math.max(0, passParams.length - 3)).map(v);
          },
          gradientNorm: () => run.gradientNorm?.(),
        };
        verdict = s.convergence.check(input);
        if (Number.isFinite(verdict.value)) record = { ...record, convergence: { value: verdict.value, threshold: verdict.threshold } };
        passTrace[passTrace.length - 1] = record;
      }
    }
    if (s.recordEvery > 0 && (record.iteration % s.recordEvery === 0 || passes >= s.maxIter)) record = { ...record, params };
    trace.push(record);
    if (record.violations.length > 0) {
      // In float64 a drop on an ill-conditioned half-step is the data's roundoff amplified by a near-singular
      // Σ⁻¹ (no finer arithmetic exists): recorded and warned about, not thrown. Any other violation throws.
      const roundoffOnly = (x: (typeof record.violations)[number]): boolean => x.illConditioned === true && record.precision === 'float64';
      const v = record.violations.find((x) => !roundoffOnly(x)) ?? (record.violations[0] as (typeof record.violations)[number]);
      const msg = `the bound decreased by ${v.drop.toExponential(3)} (tolerance ${v.tolerance.toExponential(3)}) at the ${v.halfStep}-step of iteration ${record.iteration}, restart ${r}, method "${s.method.name}" (${record.precision})${v.illConditioned === true ? ", on an ill-conditioned half-step (see its 'ill-conditioned' event: the drop may be roundoff amplified by a near-singular covariance; regularize, e.g. a larger regCovar, for a well-conditioned fit)" : ''}`;
      if (s.policy === 'throw' && !roundoffOnly(v)) {
        throw new EmError('MONOTONICITY_VIOLATION', `${msg}. Remedy: check the model's M-step and statistics, or pass monotonicity: 'warn'`, { path: ['trace', record.iteration], value: v });
      }
      if (!warnedMonotone) {
        warnedMonotone = true;
        s.warn(`${msg}; further violations in this restart are recorded in the trace only`);
      }
    }
    let stop: ConvergenceReason | null = null;
    // An unsettled iteration (β < 1 of an annealing schedule, a sparse step between refreshes) is not where the method converges.
    if (verdict !== undefined && passDone && s.convergence.tol > 0 && record.unsettled === undefined) {
      if (verdict.converged) stop = 'tol';
      else if (verdict.floor) {
        if (run.refine?.()) precisionFrom = passTrace.length;
        else stop = 'noise-floor';
      }
    }
    const cb = options.onIteration?.(record, { restart: r, nInit: s.nInit, maxIter: s.maxIter, params });
    if (cb === false || cb === 'stop') stop = 'callback';
    if (stop === null && passes >= s.maxIter) stop = 'max-iter';
    yield { restart: r, record, params, done: stop, eStepCalls: step.eStepCalls ?? 1 };
    if (stop !== null) {
      reason = stop;
      break;
    }
    await yieldToEventLoop();
  }
  const last = trace[trace.length - 1];
  return { restart: r, params, trace, bound: last === undefined ? Number.NaN : last.boundAfterM, reason, verdict, degenerate: run.degenerate?.() ?? [] };
}

/** log p(x | θ) at the kept parameters: the model's own, else one call of the registered exact E-step. */
async function finalLogLikelihood<D, P, S, PD extends PreparedData>(model: Model<D, P, S, PD>, prepared: PD, params: P, precision: Precision, rng: Rng): Promise<{ value: number | null; evaluated: boolean }> {
  if (model.logLikelihood !== undefined) return { value: model.logLikelihood(prepared, params), evaluated: false };
  let entry;
  try {
    entry = findEStep(model.structureKind, 'exact');
  } catch {
    return { value: null, evaluated: false };
  }
  if (entry.family !== 'exact') return { value: null, evaluated: false };
  const made = entry.create({});
  if (isMethod(made)) return { value: null, evaluated: false };
  const structure = model.structure(prepared, params, { precision });
  let state: unknown;
  try {
    if (made.start !== undefined) state = made.start({ rng: rng.child('estep-start'), restart: -1, structure });
    const e = await made.run(structure, { rng, iteration: 1, passes: 0, state, precision });
    return { value: e.logLikelihood ?? null, evaluated: true };
  } finally {
    if (made.start !== undefined) made.dispose?.(state);
    structure.dispose?.();
  }
}

/**
 * log p(x | θ) of a model on data at given parameters, in float64 when the model computes in it:
 * the model's `logLikelihood` hook, else one call of the exact E-step registered for its structure
 * kind; null when neither exists. Row weights multiply the per-row terms.
 * @example
 * ```ts
 * const heldOut = await logLikelihoodOf(gmm, testRows, result.params);
 * ```
 * @throws EmError `INVALID_DATA`, `INVALID_PARAMS`, `INVALID_ARGUMENT` (weights).
 * @category Fitting
 */
export async function logLikelihoodOf<D, P, S, PD extends PreparedData>(
  model: Model<D, P, S, PD>,
  data: D,
  params: P,
  options: { readonly weights?: ArrayLike<number>; readonly validate?: boolean } = {},
): Promise<number | null> {
  if (options.validate ?? true) model.validate(data);
  model.validateParams(params, data);
  if (options.weights !== undefined && !model.acceptsWeights) {
    throw emError('INVALID_ARGUMENT', ['options', 'weights'], 'weights', `are not supported by model ${model.name}`, 'drop the weights');
  }
  const weights = options.weights === undefined ? undefined : checkWeights(options.weights);
  const precisions = model.precisions ?? ['float64'];
  const precision: Precision = precisions.includes('float64') ? 'float64' : (precisions[0] as Precision);
  if (precision === 'float32') await initBackend();
  const prepared = model.prepare(data, { ...(weights === undefined ? {} : { weights }), precisions: [precision] });
  try {
    return (await finalLogLikelihood(model, prepared, params, precision, createRng(0).child('log-likelihood'))).value;
  } finally {
    prepared.dispose();
  }
}

/**
 * The starting parameters `fit` would use for restart `restart` (same `init`, `seed` and stream), e.g.
 * to start several methods from one shared point.
 * @throws EmError as `fit` for options and data.
 * @category Fitting
 */
export async function initialParams<D, P, S, PD extends PreparedData>(
  model: Model<D, P, S, PD>,
  data: D,
  options: Pick<FitOptions<P>, 'init' | 'seed' | 'validate' | 'weights'> = {},
  restart = 0,
): Promise<P> {
  checkOptions(options);
  const init = resolveInit(model, options.init);
  if (options.validate ?? true) model.validate(data);
  if (typeof init !== 'string') {
    model.validateParams(init, data);
    return init;
  }
  await initBackend();
  const weights = options.weights === undefined ? undefined : checkWeights(options.weights);
  const prepared = model.prepare(data, { ...(weights === undefined ? {} : { weights }), precisions: model.precisions ?? ['float64'] });
  try {
    return model.init(prepared, init, createRng(options.seed ?? 0).child('restart', restart).child('init'));
  } finally {
    prepared.dispose();
  }
}
