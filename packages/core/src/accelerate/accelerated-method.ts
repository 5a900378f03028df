/**
 * Accelerated EM as a fitting method: any model's EM map with an exact E-step,
 * driven by an {@link Accelerator} (SQUAREM, Aitken, parabolic EM,
 * quasi-Newton) in the model's parametrization.
 *
 * One map evaluation at θ is one E-step at `fromVector(θ)` (its log-likelihood
 * is ℓ(θ), plus `logPrior` for MAP models: the objective EM ascends) and one
 * M-step, mapped back with `toVector`. One `fit` iteration is one accelerator
 * step (one or several map evaluations). The record of iteration t:
 * `boundAfterE` = `logLikelihood` = ℓ(θ_t), `boundAfterM` = ℓ(θ_{t+1}) (both
 * exact: every accepted point has been evaluated), `gap` = 0, `entropy` = H(q)
 * at θ_t, `passes` = E-step calls so far in the restart, `eStepMs`/`mStepMs`
 * summed over the step's evaluations, and diagnostics `mapCalls` (map
 * evaluations, including points found invalid before their E-step),
 * `eStepCalls`, `extrapolated`, `accepted`, `rejected`, `rejectedInvalid`,
 * `stepLength`, `proposalLogLikelihood`, `emLogLikelihood` (ℓ(F(θ_t)), the
 * floor no returned point falls below), `emGain` = ℓ(F(θ_t)) − ℓ(θ_t) and
 * `emRate` = ‖F(F(θ_t)) − F(θ_t)‖ / ‖F(θ_t) − θ_t‖ (what the default
 * `accelerated` convergence policy judges by). So `maxIter` bounds E-step calls and a
 * trace plots the bound against E-step calls (`passes`) and against time.
 *
 * @see Varadhan, R. & Roland, C. (2008). Simple and globally convergent methods for accelerating the convergence of any EM algorithm.
 * @see Zhou, H., Alexander, D. & Lange, K. (2011). A quasi-Newton acceleration for high-dimensional optimization algorithms.
 * @module
 */
import { emError, EmError } from '../errors.js';
import type { EStep } from '../estep.js';
import type { FitContext, Method, MethodSession, MethodStep, RestartContext, RestartRun } from '../method.js';
import type { Model, ModelEvent, Parametrization, PreparedData } from '../model.js';
import { nowMs } from '../platform.js';
import { convergencePolicy } from '../convergence.js';
import { createEStep, findEStep, listESteps } from '../registry.js';
import type { IterationRecord, MonotonicityViolation } from '../result.js';
import { monotonicityTolerance } from '../tolerance.js';
import type { Accelerator, AcceleratorStep } from './accelerator.js';
import type { EmMap, EmMapResult } from './em-map.js';
import { isMethod } from '../method.js';
import { fisherGradientNorm } from '../em-method.js';

/** Options of {@link acceleratedMethod}. @category Acceleration */
export interface AcceleratedMethodOptions {
  /** The scheme (e.g. `squarem()`, `quasiNewton({ q: 2 })`); `createAccelerator(name)` builds one by name. */
  readonly accelerator: Accelerator;
  /**
   * The exact E-step whose EM map is accelerated. Default: the `'exact'` method registered for the
   * model's structure kind, looked up when the fit starts (so one method serves every model).
   */
  readonly eStep?: EStep;
}

/** What an accelerated fit reports in `FitResult.report` (the kept restart). @category Acceleration */
export type AcceleratedReport = {
  readonly algorithm: 'accelerated-em';
  readonly accelerator: string;
  readonly acceleratorOptions: Readonly<Record<string, unknown>>;
  /** The model's parametrization the accelerator acts in. */
  readonly parametrization: string;
  readonly dim: number;
  /** Map evaluations of the kept restart (points found invalid before their E-step included). */
  readonly mapCalls: number;
  /** E-step calls of the kept restart (map evaluations that ran the E-step). */
  readonly eStepCalls: number;
  /** Extrapolations proposed, accepted, and rejected (lower log-likelihood than the EM step, or invalid). */
  readonly extrapolations: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly rejectedInvalid: number;
};

/** Errors that mean "θ is outside the model's domain": an invalid point, not a failure. */
const DOMAIN_CODES = new Set(['NOT_POSITIVE_DEFINITE', 'INVALID_PARAMS']);

/** What one map evaluation produced besides (F(θ), ℓ(θ)). */
interface Evaluation<P, S> {
  readonly theta: Float64Array;
  /** F(θ). */
  readonly next: Float64Array;
  readonly params: P;
  readonly stats: S;
  readonly entropy: number;
  /** log p(x | θ) (without the log prior). */
  readonly logLikelihood: number;
  readonly events: readonly ModelEvent[];
  readonly mStepSlack: number;
}

function distance(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += ((a[i] as number) - (b[i] as number)) ** 2;
  return Math.sqrt(s);
}

function sameVector(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Accelerated EM as a {@link Method}: the accelerator drives the model's EM map θ ↦ toVector(M(E(fromVector(θ))))
 * (see the module documentation for what a record holds).
 *
 * Requirements, checked before any work: the model has a `parametrization`, the E-step is `exact`
 * (the accelerators compare log-likelihoods), and the model computes in float64 (the method runs in
 * float64 only: extrapolation needs log-likelihood differences far below float32 resolution).
 * A step never lowers the log-likelihood below that of the plain EM step from the same point (the
 * accelerators' safeguard); points where `fromVector`, `validateParams` or `structure` throw
 * `INVALID_PARAMS` or `NOT_POSITIVE_DEFINITE` are invalid points (a rejected extrapolation).
 *
 * @example
 * ```ts
 * import { acceleratedMethod, fit, squarem } from '@emlab/core';
 * const r = await fit(gmm, rows, { eStep: acceleratedMethod({ accelerator: squarem() }) });
 * // the same: fit(gmm, rows, { accelerate: 'squarem' }) or fit(gmm, rows, { eStep: 'squarem' })
 * console.log(r.logLikelihood, r.eStepCalls, r.report);
 * ```
 * @throws EmError `INVALID_ARGUMENT` when `accelerator` is not an Accelerator or `eStep` not an exact E-step.
 * @category Acceleration
 */
export function acceleratedMethod(options: AcceleratedMethodOptions): Method {
  if (typeof options !== 'object' || options === null) {
    throw emError('INVALID_ARGUMENT', ['options'], options, 'must be { accelerator, eStep? }', 'pass e.g. { accelerator: squarem() }');
  }
  const acc = options.accelerator;
  if (typeof acc !== 'object' || acc === null || typeof acc.start !== 'function' || typeof acc.step !== 'function' || typeof acc.name !== 'string') {
    throw emError('INVALID_ARGUMENT', ['options', 'accelerator'], acc, 'must be an Accelerator (an object with name, start and step)', "pass e.g. squarem() or createAccelerator('quasi-newton')");
  }
  const given = options.eStep;
  if (given !== undefined) checkExactEStep(given, ['options', 'eStep']);
  return {
    name: acc.name,
    kind: given?.kind ?? '*',
    family: 'exact',
    options: { ...acc.options, eStep: given?.name ?? 'exact', ...(given === undefined ? {} : { eStepOptions: given.options }) },
    precisions: ['float64'],
    // The ratio of successive changes of L says little about an accelerated sequence: judge by the plain EM step instead.
    convergence: convergencePolicy('accelerated'),
    check(model) {
      if (typeof model.parametrization !== 'function') {
        throw emError('INVALID_ARGUMENT', ['options', 'accelerate'], acc.name, `needs a model with a parametrization (model ${model.name} has none)`, 'give the model a parametrization hook (Model.parametrization), or fit without acceleration');
      }
      if (given === undefined) {
        try {
          exactEStepFor(model.structureKind);
        } catch (e) {
          if (!(e instanceof EmError) || e.code !== 'UNKNOWN_ESTEP') throw e;
          // A kind without an exact E-step (a GLMM's continuous random effects): say what to use instead.
          const others = listESteps(model.structureKind).filter((r) => r.kind !== '*').map((r) => r.method);
          throw emError(
            'INVALID_ARGUMENT',
            ['options', 'accelerate'],
            acc.name,
            `accelerates the EM map of an exact E-step, and structure kind "${model.structureKind}" (model ${model.name}) has no exact E-step registered`,
            others.length === 0 ? 'fit without acceleration, or register an exact E-step for the kind' : `use a method registered for the kind (${others.join(', ')}), or fit without acceleration`,
          );
        }
      }
    },
    open<D, P, S, PD extends PreparedData>(fc: FitContext<D, P, S, PD>): MethodSession<P> {
      const eStep = given ?? exactEStepFor(fc.model.structureKind);
      const par = fc.model.parametrization?.(fc.prepared);
      if (par === undefined) throw new EmError('INTERNAL', 'acceleratedMethod: the model lost its parametrization after check');
      const reports = new Map<number, AcceleratedReport>();
      return {
        begin: (rc: RestartContext<P>) => acceleratedRestart(acc, eStep, par, fc, rc, (r) => reports.set(rc.restart, r)),
        summary: (kept) => reports.get(kept.restart) ?? emptyReport(acc, par),
        dispose() {},
      };
    },
  };
}

function emptyReport(acc: Accelerator, par: Parametrization<unknown>): AcceleratedReport {
  return { algorithm: 'accelerated-em', accelerator: acc.name, acceleratorOptions: acc.options, parametrization: par.description, dim: par.dim, mapCalls: 0, eStepCalls: 0, extrapolations: 0, accepted: 0, rejected: 0, rejectedInvalid: 0 };
}

/** Throws unless `e` is an exact E-step (not a method). */
function checkExactEStep(e: unknown, path: readonly (string | number)[]): asserts e is EStep {
  if (isMethod(e)) {
    throw emError('INVALID_ARGUMENT', path, (e as Method).name, 'is a fitting method, not an E-step: acceleration wraps the EM map of an exact E-step', "use eStep: 'exact' (the default) with accelerate, or drop accelerate");
  }
  if (typeof e !== 'object' || e === null || typeof (e as EStep).run !== 'function') {
    throw emError('INVALID_ARGUMENT', path, e, 'must be an E-step object', "pass e.g. exactEStep() or leave it out for the model's registered exact E-step");
  }
  if ((e as EStep).family !== 'exact') {
    throw emError('INVALID_ARGUMENT', path, (e as EStep).name, `is a ${(e as EStep).family} E-step: acceleration needs an exact E-step (the accelerators compare exact log-likelihoods)`, "use eStep: 'exact' with accelerate, or drop accelerate");
  }
}

/** The exact E-step registered for a structure kind. */
function exactEStepFor(kind: string): EStep {
  const entry = findEStep(kind, 'exact', ['options', 'eStep']);
  const made = entry.create({});
  checkExactEStep(made, ['options', 'eStep']);
  return made;
}

/**
 * Resolves `fit`'s `eStep`/`eStepOptions` with `accelerate`: the E-step must be exact and not a method.
 * @throws EmError `INVALID_ARGUMENT`, `UNKNOWN_ESTEP`
 * @internal
 */
export function resolveAcceleratedMethod(structureKind: string, eStep: EStep | Method | string | undefined, eStepOptions: Readonly<Record<string, unknown>> | undefined, accelerator: Accelerator): Method {
  const made = typeof eStep === 'string' || eStep === undefined ? createEStep(structureKind, eStep ?? 'exact', eStepOptions) : eStep;
  checkExactEStep(made, ['options', 'eStep']);
  if (made.kind !== structureKind) {
    throw emError('INVALID_ARGUMENT', ['options', 'eStep'], made.name, `runs on structure kind "${made.kind}" but the model has kind "${structureKind}"`, `use an exact E-step registered for "${structureKind}"`);
  }
  return acceleratedMethod({ accelerator, eStep: made });
}

function acceleratedRestart<D, P, S, PD extends PreparedData>(
  acc: Accelerator,
  eStep: EStep,
  par: Parametrization<P>,
  fc: FitContext<D, P, S, PD>,
  rc: RestartContext<P>,
  report: (r: AcceleratedReport) => void,
): RestartRun<P> {
  const model: Model<D, P, S, PD> = fc.model;
  const strict = fc.monotonicity !== 'off';
  let estate: unknown;
  let started = false;
  let disposed = false;
  let calls = 0; // map evaluations (invalid points included)
  let eCalls = 0; // E-step runs
  let t = 0;
  let eMs = 0;
  let mMs = 0;
  let state: AcceleratorStep | undefined;
  // The evaluations of the current and previous step (the returned point's is among them).
  let recent: Evaluation<P, S>[] = [];
  let current: Evaluation<P, S> | undefined;
  const counts = { extrapolations: 0, accepted: 0, rejected: 0, rejectedInvalid: 0 };

  const evaluate = async (theta: Float64Array): Promise<EmMapResult> => {
    calls++;
    const iterRng = rc.rng.child('map', calls);
    const t0 = nowMs();
    let params: P;
    let structure;
    try {
      params = par.fromVector(theta);
      model.validateParams(params);
      structure = model.structure(fc.prepared, params, { precision: 'float64' });
    } catch (e) {
      if (e instanceof EmError && DOMAIN_CODES.has(e.code)) return { invalid: true, reason: e.message };
      throw e;
    }
    let e;
    eCalls++;
    try {
      if (!started) {
        started = true;
        if (eStep.start !== undefined) estate = eStep.start({ rng: rc.rng.child('estep-start'), restart: rc.restart, structure });
      }
      e = await eStep.run(structure, { rng: iterRng.child('estep'), iteration: calls, passes: calls - 1, state: estate, precision: 'float64', ...(fc.signal === undefined ? {} : { signal: fc.signal }) });
    } finally {
      structure.dispose?.();
    }
    const t1 = nowMs();
    const stats = e.stats as S;
    const ll = e.logLikelihood ?? e.bound;
    const m = model.mStep(stats, params, { rng: iterRng.child('mstep'), prepared: fc.prepared, iteration: calls });
    let next: Float64Array;
    try {
      next = par.toVector(m.params);
    } catch (err) {
      if (err instanceof EmError && DOMAIN_CODES.has(err.code)) return { invalid: true, reason: err.message };
      throw err;
    }
    eMs += t1 - t0;
    mMs += nowMs() - t1;
    recent.push({ theta: Float64Array.from(theta), next, params, stats, entropy: e.entropy, logLikelihood: ll, events: m.events ?? [], mStepSlack: m.boundSlack ?? 0 });
    return { next, logLikelihood: ll + (model.logPrior?.(params) ?? 0) };
  };
  const map: EmMap = evaluate;
  const find = (theta: Float64Array): Evaluation<P, S> | undefined => {
    for (let i = recent.length - 1; i >= 0; i--) if (sameVector((recent[i] as Evaluation<P, S>).theta, theta)) return recent[i];
    return undefined;
  };

  const run: RestartRun<P> = {
    async step(): Promise<MethodStep<P>> {
      t++;
      const callsBefore = calls;
      const eCallsBefore = eCalls;
      eMs = 0;
      mMs = 0;
      if (state === undefined) {
        state = await acc.start(par.toVector(rc.params), map);
        current = find(state.theta);
      }
      const from = current as Evaluation<P, S>;
      const before = state;
      const thisStep: Evaluation<P, S>[] = [];
      const mark = recent.length;
      let s = await acc.step(before, map);
      if (s.mapCalls === 0) {
        // An exact fixed point (F(θ) = θ bit for bit): evaluate once more, so the step is an E-step call like any other.
        const again = await map(s.theta);
        if ('next' in again) s = { ...s, evaluation: again, logLikelihood: again.logLikelihood };
      }
      thisStep.push(...recent.slice(mark));
      state = s;
      current = find(s.theta) ?? from;
      recent = recent.slice(-Math.max(8, thisStep.length + 1));
      if (s.extrapolated) counts.extrapolations++;
      if (s.accepted) counts.accepted++;
      if (s.extrapolated && !s.accepted) counts.rejected++;
      if (s.rejection === 'invalid') counts.rejectedInvalid++;

      const events: ModelEvent[] = [];
      for (const ev of thisStep) for (const x of ev.events) if (!events.some((y) => y.type === x.type && y.component === x.component)) events.push(x);
      // Every accepted point is at least as good as F(θ_t), which a regularized M-step may leave below
      // ℓ(θ_t) by that M-step's slack: count it even when θ_t was evaluated in the previous iteration.
      const atBefore = find(before.theta);
      const slack = thisStep.reduce((a, ev) => a + ev.mStepSlack, 0) + (atBefore !== undefined && !thisStep.includes(atBefore) ? atBefore.mStepSlack : 0);
      const violations: MonotonicityViolation[] = [];
      const lBefore = before.logLikelihood;
      const lAfter = s.logLikelihood;
      if (strict && !events.some((x) => x.type === 'reinitialized')) {
        const tolerance = monotonicityTolerance(lBefore, lAfter, fc.totalWeight, 0, 'float64') + slack;
        if (lAfter < lBefore - tolerance) violations.push({ halfStep: 'M', drop: lBefore - lAfter, tolerance });
      }
      // The plain EM step from θ_t: its gain and rate ‖F(F(θ)) − F(θ)‖ / ‖F(θ) − θ‖ (the `accelerated` convergence policy).
      const p1 = before.evaluation.next;
      const at1 = find(p1);
      const step0 = distance(p1, before.theta);
      const emGain = s.mapCalls === 0 || step0 === 0 ? 0 : s.emLogLikelihood - lBefore;
      const emRate = at1 === undefined || step0 === 0 ? 0 : distance(at1.next, p1) / step0;
      const diagnostics: Record<string, number> = {
        emGain,
        emRate,
        mapCalls: calls - callsBefore,
        eStepCalls: eCalls - eCallsBefore,
        extrapolated: s.extrapolated ? 1 : 0,
        accepted: s.accepted ? 1 : 0,
        rejected: s.extrapolated && !s.accepted ? 1 : 0,
        rejectedInvalid: s.rejection === 'invalid' ? 1 : 0,
        emLogLikelihood: s.emLogLikelihood,
        ...(s.stepLength === undefined ? {} : { stepLength: s.stepLength }),
        ...(s.proposalLogLikelihood === undefined ? {} : { proposalLogLikelihood: s.proposalLogLikelihood }),
      };
      const record: IterationRecord = {
        iteration: t,
        boundAfterE: lBefore,
        boundAfterM: lAfter,
        logLikelihood: from.logLikelihood,
        gap: 0,
        entropy: from.entropy,
        boundStdErr: null,
        mStepSlack: slack,
        roundoffScale: 0,
        precision: 'float64',
        passes: eCalls,
        eStepMs: eMs,
        mStepMs: mMs,
        diagnostics,
        events,
        violations,
      };
      report({ algorithm: 'accelerated-em', accelerator: acc.name, acceleratorOptions: acc.options, parametrization: par.description, dim: par.dim, mapCalls: calls, eStepCalls: eCalls, ...counts });
      return { record, params: (current as Evaluation<P, S>).params, eStepCalls: eCalls - eCallsBefore };
    },
    gradientNorm() {
      if (current === undefined) return undefined;
      // Fisher's identity: with q exact at θ, ∇θ E_q log p(x, z | θ) = ∇ log p(x | θ).
      return fisherGradientNorm(model, par, current.stats, current.theta, fc.totalWeight);
    },
    degenerate() {
      if (model.degenerate === undefined || current === undefined) return [];
      return model.degenerate(current.stats, current.params);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      if (started && eStep.dispose !== undefined) eStep.dispose(estate);
    },
  };
  return run;
}
