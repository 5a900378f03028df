/**
 * EM as a method: an E-step, the model's M-step, the Neal–Hinton record of
 * both half-steps, the monotonicity check, and precision (float32 → float64).
 *
 * @see Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete data via the EM algorithm.
 * @see Neal, R. M. & Hinton, G. E. (1998). A view of the EM algorithm that justifies incremental, sparse, and other variants.
 * @module
 */
import { EmError } from './errors.js';
import type { EStep, EStepResult } from './estep.js';
import type { FitContext, Method, MethodSession, MethodStep, RestartContext, RestartRun } from './method.js';
import type { MStepResult, Model, ModelEvent, Parametrization, PreparedData } from './model.js';
import { centralGradient } from './gradient/central-difference.js';
import { nowMs } from './platform.js';
import type { Precision } from './precision.js';
import { PRECISIONS, unitRoundoff } from './precision.js';
import type { IterationRecord, MonotonicityViolation } from './result.js';
import { mergeShardOutcomes, replayShardStructure, type ShardSession } from './shard.js';
import type { LatentStructure } from './structures.js';
import { beyondConditioningCap, MONOTONICITY_FACTOR, monotonicityTolerance } from './tolerance.js';

/** A reinitialization may lower the bound legitimately: such half-steps are not checked. */
export function reinitialized(events: readonly ModelEvent[]): boolean {
  return events.some((e) => e.type === 'reinitialized');
}

/**
 * ‖∇θ E_q[log p(x, z | θ)] / W‖₂ at θ (a vector of the parametrization `par`), by central
 * differences in float64, for the statistics of q. With q exact at θ this is ‖∇ log p(x | θ)‖ / W
 * (Fisher's identity); with q sampled, its Monte Carlo estimate. What the `gradient` convergence
 * policy reads from every method.
 * @category Methods
 */
export function fisherGradientNorm<P, S>(model: Model<any, P, S, any>, par: Parametrization<P>, stats: S, theta: Float64Array, totalWeight: number): number { // eslint-disable-line @typescript-eslint/no-explicit-any
  const grad = centralGradient((v) => model.expectedLogJoint(stats, par.fromVector(v)), theta, totalWeight);
  let sq = 0;
  for (const g of grad) sq += g * g;
  return Math.sqrt(sq);
}

/**
 * EM with an E-step: the method `fit` builds for every E-step.
 * @category Methods
 */
export function emMethod(eStep: EStep): Method {
  return {
    name: eStep.name,
    kind: eStep.kind,
    family: eStep.family,
    options: eStep.options,
    precisions: eStep.precisions ?? PRECISIONS,
    ...(eStep.convergence === undefined ? {} : { convergence: eStep.convergence }),
    eStep,
    async open<D, P, S, PD extends PreparedData>(fc: FitContext<D, P, S, PD>): Promise<MethodSession<P>> {
      // A sharded fit: the workers get the prepared data once, then θ every iteration.
      const shards = fc.shards === undefined
        ? undefined
        : await fc.shards.engine.open({ model: fc.model, prepared: fc.prepared, eStep: { kind: eStep.kind, name: eStep.name, options: eStep.options }, precisions: fc.shards.precisions });
      let closed = false;
      return {
        begin: (rc: RestartContext<P>) => emRestart(eStep, fc, rc, shards),
        dispose() {
          if (closed || shards === undefined) return;
          closed = true;
          // Closing stops worker threads or tells remote workers to drop the fit; nothing to wait for.
          shards.close().catch(() => undefined);
        },
      };
    },
  };
}

/**
 * The structure an iteration's E-step runs over: the model's, or in a sharded fit a replay of the
 * block outcomes the shards computed at θ (added in block order by the E-step's block loop).
 */
async function structureAt<D, P, S, PD extends PreparedData>(fc: FitContext<D, P, S, PD>, params: P, precision: Precision, shards: ShardSession | undefined, request: { rngPath: string; iteration: number; passes: number }): Promise<LatentStructure> {
  if (shards === undefined) return fc.model.structure(fc.prepared, params, { precision });
  const replies = await shards.evaluate({ params, precision, ...request });
  return replayShardStructure(mergeShardOutcomes(replies), { nRows: fc.prepared.nRows, algebra: fc.model.stats as never, precision, structure: () => fc.model.structure(fc.prepared, params, { precision }) });
}

function emRestart<D, P, S, PD extends PreparedData>(eStep: EStep, fc: FitContext<D, P, S, PD>, rc: RestartContext<P>, shards?: ShardSession): RestartRun<P> {
  const model: Model<D, P, S, PD> = fc.model;
  const strict = eStep.family !== 'monte-carlo' && fc.monotonicity !== 'off';
  let precision: Precision = rc.precision.start;
  let switched = false;
  let params = rc.params;
  let state: unknown;
  let started = false;
  let disposed = false;
  let prev: IterationRecord | undefined;
  let lastStats: S | undefined;
  let lastParamsBefore: P | undefined;
  let t = 0;
  let passes = 0;
  let warnedIllConditioned = false;
  let degenerateSeen = new Set<number>();

  const run: RestartRun<P> = {
    async step(): Promise<MethodStep<P>> {
      t++;
      const iterRng = rc.rng.child('iter', t);
      const t0 = nowMs();
      const eStepRng = iterRng.child('estep');
      const structure = await structureAt(fc, params, precision, shards, { rngPath: eStepRng.path, iteration: t, passes });
      let e: EStepResult;
      try {
        if (!started) {
          started = true;
          if (eStep.start !== undefined) state = eStep.start({ rng: rc.rng.child('estep-start'), restart: rc.restart, structure });
        }
        e = await eStep.run(structure, { rng: eStepRng, iteration: t, passes, state, precision, ...(fc.signal === undefined ? {} : { signal: fc.signal }) });
      } finally {
        structure.dispose?.();
      }
      const t1 = nowMs();
      const stats = e.stats as S;
      // Both half-step bounds are measured with the same yardstick, the model's float64
      // E_q[log p(x, z | θ)] from the statistics plus H(q): L(q_t, θ_t) and L(q_t, θ_{t+1}).
      const boundAfterE = model.expectedLogJoint(stats, params) + e.entropy;
      const m: MStepResult<P> = model.mStep(stats, params, { rng: iterRng.child('mstep'), prepared: fc.prepared, iteration: t });
      const boundAfterM = model.expectedLogJoint(stats, m.params) + e.entropy;
      // A bound of −∞ or NaN makes every later comparison meaningless (and the convergence verdict
      // misleading): stop with the reason instead of iterating on it.
      // A restricted q may put mass where p(x, z | θ) = 0 (mean field against a deterministic CPT),
      // and a MAP start may have log p(θ) = −∞ (a zero CPT entry under a Dirichlet prior): bounds of
      // −∞ the M-step repairs. So only NaN, or log p(x | θ) = −∞ from an exact E-step (the data are
      // impossible under θ), stops the fit.
      if (Number.isNaN(boundAfterE) || boundAfterE === Infinity || (eStep.family === 'exact' && e.logLikelihood === -Infinity)) {
        throw new EmError(t === 1 ? 'INVALID_PARAMS' : 'INTERNAL', `${model.name}: the bound L(q, θ) is ${boundAfterE} (log p(x | θ) = ${e.logLikelihood ?? 'not computed'}) at iteration ${t} (${eStep.name} E-step, ${precision})${t === 1 ? ': the starting parameters give the data probability 0 or an undefined density' : ': the previous M-step produced parameters under which the data have probability 0'}`, {
          path: t === 1 ? ['options', 'init'] : ['params'],
          value: boundAfterE,
          remedy: t === 1 ? 'start from parameters with full support (or use the model\'s own initialization)' : 'report this with the data: an M-step must keep every observed value possible (MAP pseudo-counts avoid it meanwhile)',
        });
      }
      if (!Number.isFinite(boundAfterM)) {
        throw new EmError('INTERNAL', `${model.name}: the M-step of iteration ${t} produced parameters whose bound is ${boundAfterM} (from ${boundAfterE})`, {
          path: ['params'],
          value: boundAfterM,
          remedy: 'report this with the data; MAP pseudo-counts or a larger regularization avoid it meanwhile',
        });
      }
      const scaleE = model.roundoffScale?.(stats, params) ?? 0;
      const roundoffScale = Math.max(scaleE, model.roundoffScale?.(stats, m.params) ?? 0);
      const t2 = nowMs();

      const events: ModelEvent[] = [...(m.events ?? [])];
      // A component that turns degenerate (a spurious maximum in the making) is marked once.
      if (model.degenerate !== undefined) {
        const now = model.degenerate(stats, m.params);
        for (const dc of now) {
          if (!degenerateSeen.has(dc.component)) events.push({ type: 'degenerate', component: dc.component, detail: `component ${dc.component} is degenerate: ${dc.reason}` });
        }
        degenerateSeen = new Set(now.map((dc) => dc.component));
      }
      const ill = beyondConditioningCap(boundAfterE, fc.totalWeight, roundoffScale);
      if (ill) {
        const u = unitRoundoff(precision);
        events.push({ type: 'ill-conditioned', detail: `the model's conditioning magnitude ${roundoffScale.toExponential(2)} exceeds what the ${precision} monotonicity check can allow for: bound changes below about ${(MONOTONICITY_FACTOR * u * roundoffScale).toExponential(1)} are roundoff`, value: roundoffScale });
        if (!warnedIllConditioned && precision === 'float32' && !rc.precision.canRefine) {
          warnedIllConditioned = true;
          fc.warn(`${model.name}: the fit is ill-conditioned for float32 arithmetic (conditioning ${roundoffScale.toExponential(2)}); use precision 'float64' or 'auto' for trustworthy bounds`);
        }
        // float64: the event only; a drop the roundoff actually causes is warned about as a marked violation.
      }
      const exempt = switched ? 'precision switched to float64 (the E-half compares bounds of two arithmetics)' : e.exempt;
      const violations: MonotonicityViolation[] = [];
      if (strict) {
        const check = (halfStep: 'E' | 'M', before: number, after: number, scale: number, slack = 0): void => {
          const tolerance = monotonicityTolerance(before, after, fc.totalWeight, scale, precision) + slack;
          if (!(after < before - tolerance)) return;
          // Beyond the conditioning cap, a drop within the uncapped roundoff estimate 64 · u · S may be the
          // data's roundoff amplified by Σ⁻¹: recorded, and marked. A larger drop is never marked.
          const roundoff = MONOTONICITY_FACTOR * unitRoundoff(precision) * Math.max(Math.abs(before), Math.abs(after), fc.totalWeight, scale) + slack;
          const illConditioned = beyondConditioningCap(Math.min(before, after), fc.totalWeight, scale) && before - after <= roundoff;
          violations.push({ halfStep, drop: before - after, tolerance, ...(illConditioned ? { illConditioned: true as const } : {}) });
        };
        if (prev !== undefined && !reinitialized(prev.events) && exempt === undefined) check('E', prev.boundAfterM, boundAfterE, Math.max(prev.roundoffScale, scaleE));
        if (!reinitialized(events)) check('M', boundAfterE, boundAfterM, roundoffScale, m.boundSlack ?? 0);
      }
      passes += e.coverage ?? 1;
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
        precision,
        passes,
        eStepMs: t1 - t0,
        mStepMs: t2 - t1,
        diagnostics: { ...e.diagnostics, eStepBound: e.bound },
        events,
        violations,
        ...(exempt === undefined ? {} : { exempt }),
        ...(e.unsettled === undefined ? {} : { unsettled: e.unsettled }),
      };
      switched = false;
      prev = record;
      lastStats = stats;
      lastParamsBefore = params;
      params = m.params;
      if (ill && rc.precision.canRefine) run.refine?.();
      return { record, params };
    },
    refine() {
      if (!rc.precision.canRefine || precision === 'float64') return false;
      precision = 'float64';
      switched = true;
      return true;
    },
    gradientNorm() {
      const p = model.parametrization?.(fc.prepared);
      if (p === undefined || lastStats === undefined || lastParamsBefore === undefined) return undefined;
      // Fisher's identity: at θ_t with q_t exact, ∇θ E_q log p(x, z | θ) = ∇ log p(x | θ_t).
      return fisherGradientNorm(model, p, lastStats, p.toVector(lastParamsBefore), fc.totalWeight);
    },
    degenerate() {
      if (model.degenerate === undefined || lastStats === undefined) return [];
      return model.degenerate(lastStats, params);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      if (started && eStep.dispose !== undefined) eStep.dispose(state);
    },
  };
  return run;
}

/** Thrown inside a run when its signal fired: `fit` ends the restart with reason `aborted`. @internal */
export function isAbort(e: unknown): boolean {
  return e instanceof EmError && e.code === 'ABORTED';
}
