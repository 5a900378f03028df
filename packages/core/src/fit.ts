/**
 * `fit`: coordinate ascent on L(q, θ), written once for every model and E-step.
 *
 * @see Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete data via the EM algorithm.
 * @see Neal, R. M. & Hinton, G. E. (1998). A view of the EM algorithm that justifies incremental, sparse, and other variants.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.js';
import { EmError, emError } from './errors.js';
import { boundKindOf, type EStep } from './estep.js';
import type { MStepResult, Model, ModelEvent, PreparedData } from './model.js';
import { createEStep } from './registry.js';
import type { ConvergenceReason, FitResult, IterationRecord, MonotonicityViolation, RestartSummary } from './result.js';
import { createRng, validateSeed, type Rng, type Seed } from './rng.js';
import { convergenceScale, monotonicityTolerance } from './tolerance.js';
import { VERSION } from './version.js';

/** What to do when an exact or restricted E-step lowers the bound beyond tolerance. @category Fitting */
export type MonotonicityPolicy = 'warn' | 'throw' | 'off';

/** Passed to `onIteration` next to the record. @category Fitting */
export interface IterationInfo {
  readonly restart: number;
  readonly nInit: number;
  readonly maxIter: number;
}

/**
 * Options of {@link fit} (scikit-learn names in camelCase).
 * @typeParam P - the model's parameters (for `init` given as parameters).
 * @category Fitting
 */
export interface FitOptions<P = unknown> {
  /** An E-step object, or a method name resolved in the registry for the model's structure kind. Default `'exact'`. */
  readonly eStep?: EStep | string;
  /** Options for a named `eStep` (ignored when `eStep` is an object). */
  readonly eStepOptions?: Readonly<Record<string, unknown>>;
  /** Maximum iterations per restart. Default 100. */
  readonly maxIter?: number;
  /** Stop when `|ΔL| ≤ tol · max(|L|, N)` (see `tolerance.ts`). Default 1e-6; 0 runs `maxIter` iterations. */
  readonly tol?: number;
  /** Restarts; the best final bound is kept. Default 1. */
  readonly nInit?: number;
  /** An initialization method of the model (its first one by default) or given parameters (warm start). */
  readonly init?: string | P;
  /** Root seed. Default 0 (emlab is deterministic unless told otherwise). */
  readonly seed?: Seed;
  /** Called after every iteration; return `false` or `'stop'` to stop. */
  readonly onIteration?: (record: IterationRecord, info: IterationInfo) => void | boolean | 'stop';
  /** Stops between iterations; the result so far is returned with reason `'aborted'`. */
  readonly signal?: AbortSignal;
  /** Default `'warn'`. Monte Carlo E-steps are never checked strictly. */
  readonly monotonicity?: MonotonicityPolicy;
  /** Validate the data before fitting. Default true. */
  readonly validate?: boolean;
  /** Receives warnings (non-convergence, monotonicity). Default: `process.emitWarning`. */
  readonly onWarning?: (message: string) => void;
}

const MC_WINDOW = 5;

/** Checks the options (module-internal: `fitGradient` checks the ones it shares with `fit` here too). @throws EmError `INVALID_ARGUMENT` */
export function checkOptions<P>(o: FitOptions<P>): void {
  const int = (name: keyof FitOptions, min: number): void => {
    const v = o[name];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw emError('INVALID_ARGUMENT', ['options', name], v, `must be an integer >= ${min}`, `pass ${name} >= ${min}`);
    }
  };
  int('maxIter', 1);
  int('nInit', 1);
  if (o.tol !== undefined && (typeof o.tol !== 'number' || !Number.isFinite(o.tol) || o.tol < 0)) {
    throw emError('INVALID_ARGUMENT', ['options', 'tol'], o.tol, 'must be a finite number >= 0', 'pass e.g. tol: 1e-6 (0 runs exactly maxIter iterations)');
  }
  if (o.seed !== undefined) validateSeed(o.seed);
  if (o.monotonicity !== undefined && !['warn', 'throw', 'off'].includes(o.monotonicity)) {
    throw emError('INVALID_ARGUMENT', ['options', 'monotonicity'], o.monotonicity, "must be 'warn', 'throw' or 'off'", "pass monotonicity: 'warn'");
  }
  for (const fn of ['onIteration', 'onWarning'] as const) {
    if (o[fn] !== undefined && typeof o[fn] !== 'function') {
      throw emError('INVALID_ARGUMENT', ['options', fn], o[fn], 'must be a function', `pass a function or leave ${fn} unset`);
    }
  }
  if (o.signal !== undefined && (typeof o.signal !== 'object' || o.signal === null || typeof o.signal.aborted !== 'boolean')) {
    throw emError('INVALID_ARGUMENT', ['options', 'signal'], o.signal, 'must be an AbortSignal', 'pass controller.signal from an AbortController');
  }
  if (o.eStep !== undefined && typeof o.eStep !== 'string' && (typeof o.eStep !== 'object' || typeof o.eStep.run !== 'function')) {
    throw emError('INVALID_ARGUMENT', ['options', 'eStep'], o.eStep, 'must be an E-step object or a registered method name', "pass e.g. eStep: 'exact' or exactEStep()");
  }
}

/** The `init` option: given parameters, or a method name (default the model's first). @throws EmError `INVALID_ARGUMENT` for an unknown name */
export function resolveInit<D, P, S, PD extends PreparedData>(model: Model<D, P, S, PD>, init: string | P | undefined): string | P {
  const chosen = init ?? model.initMethods[0] ?? 'given';
  if (typeof chosen === 'string' && !model.initMethods.includes(chosen)) {
    throw emError('INVALID_ARGUMENT', ['options', 'init'], chosen, `is not an initialization method of ${model.name} (known: ${model.initMethods.join(', ')})`, 'pass one of those names or parameters to start from');
  }
  return chosen;
}

function resolveEStep<D, P, S, PD extends PreparedData>(model: Model<D, P, S, PD>, o: FitOptions<P>): EStep {
  const e = o.eStep ?? 'exact';
  if (typeof e === 'string') return createEStep(model.structureKind, e, o.eStepOptions);
  if (e.kind !== model.structureKind) {
    throw emError('INVALID_ARGUMENT', ['options', 'eStep'], e.name, `runs on structure kind "${e.kind}" but model "${model.name}" has kind "${model.structureKind}"`, `use an E-step registered for "${model.structureKind}" (listESteps("${model.structureKind}"))`);
  }
  return e;
}

/** @internal */
export const nowMs = (): number => performance.now();
/** Lets timers, `signal` and I/O run between iterations. @internal */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What one restart of a fitting loop ends with (`fit`'s and `fitGradient`'s). @internal */
export interface RestartOutcome<P> {
  readonly params: P;
  readonly trace: IterationRecord[];
  readonly bound: number;
  readonly converged: boolean;
  readonly reason: ConvergenceReason;
}

/**
 * Fits a model by EM: the one loop (init → E → M → bound → convergence → best of `nInit`).
 *
 * Each iteration records L after the E-step and after the M-step, the exact
 * log-likelihood when the E-step computed it, the gap, H(q), times and the
 * E-step's diagnostics. Exact and restricted E-steps are checked for
 * monotonicity at both half-steps with {@link monotonicityTolerance}.
 * Non-convergence sets `converged: false` and warns; it never throws.
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
export async function fit<D, P, S, PD extends PreparedData>(
  model: Model<D, P, S, PD>,
  data: D,
  options: FitOptions<P> = {},
): Promise<FitResult<P>> {
  checkOptions(options);
  const maxIter = options.maxIter ?? 100;
  const tol = options.tol ?? 1e-6;
  const seed = options.seed ?? 0;
  const policy = options.monotonicity ?? 'warn';
  const init = resolveInit(model, options.init);
  const given = typeof init !== 'string';
  const nInit = given ? 1 : (options.nInit ?? 1);
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    if (options.onWarning) options.onWarning(message);
    else process.emitWarning(message, { code: 'EMLAB_WARNING' });
  };
  if (given && (options.nInit ?? 1) > 1) warn(`nInit=${options.nInit} ignored: init is given parameters, so every restart would be identical`);
  const eStep = resolveEStep(model, options);
  if (options.validate ?? true) model.validate(data);
  if (given) model.validateParams(init, data);
  if (options.signal?.aborted) throw new EmError('ABORTED', 'fit was aborted before it started', { path: ['options', 'signal'] });

  const backend = await initBackend();
  const rootRng = createRng(seed);
  const prepared = model.prepare(data);
  const startTensors = tf.memory().numTensors;
  try {
    let best: (RestartOutcome<P> & { restart: number }) | undefined;
    const restarts: RestartSummary[] = [];
    for (let r = 0; r < nInit; r++) {
      const rng = rootRng.child('restart', r);
      const params0 = given ? (init as P) : model.init(prepared, init as string, rng.child('init'));
      const outcome = await runRestart(model, prepared, eStep, params0, rng, { maxIter, tol, policy, r, nInit, options, warn });
      restarts.push({ restart: r, bound: outcome.bound, nIter: outcome.trace.length, converged: outcome.converged });
      if (best === undefined || outcome.bound > best.bound || Number.isNaN(best.bound)) best = { ...outcome, restart: r };
      if (outcome.reason === 'aborted' || outcome.reason === 'callback') break;
    }
    if (best === undefined) throw new EmError('INTERNAL', 'no restart ran');
    if (!best.converged && best.reason === 'max-iter') {
      warn(`${model.name} with E-step "${eStep.name}" did not converge in maxIter=${maxIter} iterations (restart ${best.restart}); increase maxIter, loosen tol (${tol}), or check the trace`);
    }
    const logLikelihood = model.logLikelihood ? model.logLikelihood(prepared, best.params) : null;
    const leaked = tf.memory().numTensors - startTensors;
    if (leaked !== 0) warn(`${leaked} tensors were not freed during the fit (model ${model.name}, E-step ${eStep.name}); please report this`);
    return {
      format: 'emlab/fit-result',
      formatVersion: 1,
      model: { name: model.name, options: model.options },
      params: best.params,
      bound: best.bound,
      boundKind: boundKindOf(eStep.family),
      logLikelihood,
      converged: best.converged,
      convergenceReason: best.reason,
      nIter: best.trace.length,
      trace: best.trace,
      restart: best.restart,
      restarts,
      seed,
      eStep: { name: eStep.name, kind: eStep.kind, family: eStep.family, options: eStep.options },
      options: { maxIter, tol, nInit, init: given ? 'given' : (init as string), monotonicity: policy },
      nRows: prepared.nRows,
      ...(model.summarizeData === undefined ? {} : { data: model.summarizeData(prepared) }),
      backend,
      version: VERSION,
      warnings,
    };
  } finally {
    prepared.dispose();
  }
}

interface LoopSettings<P> {
  readonly maxIter: number;
  readonly tol: number;
  readonly policy: MonotonicityPolicy;
  readonly r: number;
  readonly nInit: number;
  readonly options: FitOptions<P>;
  readonly warn: (m: string) => void;
}

async function runRestart<D, P, S, PD extends PreparedData>(
  model: Model<D, P, S, PD>,
  prepared: PD,
  eStep: EStep,
  params0: P,
  rng: Rng,
  s: LoopSettings<P>,
): Promise<RestartOutcome<P>> {
  const n = prepared.nRows;
  const strict = eStep.family !== 'monte-carlo' && s.policy !== 'off';
  const trace: IterationRecord[] = [];
  let params = params0;
  let state: unknown = undefined;
  let reason: ConvergenceReason = 'max-iter';
  let warnedMonotone = false;
  for (let t = 1; t <= s.maxIter; t++) {
    if (s.options.signal?.aborted) {
      if (trace.length === 0 && s.r === 0) throw new EmError('ABORTED', 'fit was aborted before the first iteration finished', { path: ['options', 'signal'] });
      reason = 'aborted';
      break;
    }
    const iterRng = rng.child('iter', t);
    const t0 = nowMs();
    const structure = model.structure(prepared, params);
    let e;
    try {
      e = eStep.run(structure, { rng: iterRng.child('estep'), iteration: t, state });
    } finally {
      structure.dispose?.();
    }
    const t1 = nowMs();
    const stats = e.stats as S;
    // Both half-step bounds are measured with the same float64 yardstick, the model's
    // E_q[log p(x, z | θ)] from the statistics plus H(q): L(q_t, θ_t) and L(q_t, θ_{t+1}).
    // The E-step's own float32 value is kept as the diagnostic `eStepBound`.
    const boundAfterE = model.expectedLogJoint(stats, params) + e.entropy;
    const m: MStepResult<P> = model.mStep(stats, params, { rng: iterRng.child('mstep'), prepared, iteration: t });
    const boundAfterM = model.expectedLogJoint(stats, m.params) + e.entropy;
    const scaleE = model.roundoffScale?.(stats, params) ?? 0;
    const roundoffScale = Math.max(scaleE, model.roundoffScale?.(stats, m.params) ?? 0);
    const t2 = nowMs();

    const events: readonly ModelEvent[] = m.events ?? [];
    const violations: MonotonicityViolation[] = [];
    if (strict) {
      const prev = trace[trace.length - 1];
      const check = (halfStep: 'E' | 'M', before: number, after: number, scale: number, slack = 0): void => {
        const tolerance = monotonicityTolerance(before, after, n, scale) + slack;
        if (after < before - tolerance) violations.push({ halfStep, drop: before - after, tolerance });
      };
      if (prev !== undefined && !reinitialized(prev.events)) check('E', prev.boundAfterM, boundAfterE, Math.max(prev.roundoffScale, scaleE));
      if (!reinitialized(events)) check('M', boundAfterE, boundAfterM, roundoffScale, m.boundSlack ?? 0);
    }
    const record: IterationRecord = {
      iteration: t,
      boundAfterE,
      boundAfterM,
      logLikelihood: e.logLikelihood ?? null,
      gap: e.logLikelihood === undefined ? null : e.logLikelihood + (model.logPrior?.(params) ?? 0) - boundAfterE,
      entropy: e.entropy,
      boundStdErr: e.boundStdErr ?? null,
      mStepSlack: m.boundSlack ?? 0,
      roundoffScale,
      eStepMs: t1 - t0,
      mStepMs: t2 - t1,
      diagnostics: { ...e.diagnostics, eStepBound: e.bound },
      events,
      violations,
    };
    trace.push(record);
    params = m.params;
    state = e.state;

    if (violations.length > 0) {
      const v = violations[0] as MonotonicityViolation;
      const msg = `the bound decreased by ${v.drop.toExponential(3)} (tolerance ${v.tolerance.toExponential(3)}) at the ${v.halfStep}-step of iteration ${t}, restart ${s.r}, E-step "${eStep.name}"`;
      if (s.policy === 'throw') {
        throw new EmError('MONOTONICITY_VIOLATION', `${msg}. Remedy: check the model's M-step and statistics, or pass monotonicity: 'warn'`, { path: ['trace', t], value: v });
      }
      if (!warnedMonotone) {
        warnedMonotone = true;
        s.warn(`${msg}; further violations in this restart are recorded in the trace only`);
      }
    }
    const verdict = s.options.onIteration?.(record, { restart: s.r, nInit: s.nInit, maxIter: s.maxIter });
    if (verdict === false || verdict === 'stop') {
      reason = 'callback';
      break;
    }
    if (hasConverged(trace, s.tol, n, eStep.family === 'monte-carlo')) {
      reason = 'tol';
      break;
    }
    await yieldToEventLoop();
  }
  const last = trace[trace.length - 1];
  const bound = last === undefined ? Number.NaN : last.boundAfterM;
  return { params, trace, bound, converged: reason === 'tol', reason };
}

/** A reinitialization may lower the bound legitimately: such half-steps are not checked or counted. */
function reinitialized(events: readonly ModelEvent[]): boolean {
  return events.some((e) => e.type === 'reinitialized');
}

function hasConverged(trace: readonly IterationRecord[], tol: number, n: number, monteCarlo: boolean): boolean {
  const t = trace.length;
  if (t < 2) return false;
  const last = trace[t - 1] as IterationRecord;
  const prev = trace[t - 2] as IterationRecord;
  // tol = 0 means "run maxIter iterations"; a reinitialization restarts the count.
  if (tol === 0) return false;
  if (reinitialized(last.events) || reinitialized(prev.events)) return false;
  if (!monteCarlo) return Math.abs(last.boundAfterM - prev.boundAfterM) <= tol * convergenceScale(prev.boundAfterM, n);
  // Monte Carlo: compare the means of the last two windows of MC_WINDOW iterations; the
  // change must be below tol or within two standard errors of the difference.
  if (t < 2 * MC_WINDOW) return false;
  const window = (from: number): { mean: number; se2: number } => {
    let mean = 0;
    let se2 = 0;
    for (let i = from; i < from + MC_WINDOW; i++) {
      const rec = trace[i] as IterationRecord;
      mean += rec.boundAfterM / MC_WINDOW;
      se2 += (rec.boundStdErr ?? 0) ** 2 / (MC_WINDOW * MC_WINDOW);
    }
    return { mean, se2 };
  };
  const a = window(t - 2 * MC_WINDOW);
  const b = window(t - MC_WINDOW);
  const diff = Math.abs(b.mean - a.mean);
  return diff <= Math.max(tol * convergenceScale(a.mean, n), 2 * Math.sqrt(a.se2 + b.se2));
}
