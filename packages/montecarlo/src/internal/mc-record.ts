/**
 * The Neal–Hinton record of one Monte Carlo iteration, and the restart
 * plumbing MCEM and SAEM share with `emMethod` (gradient norm by Fisher's
 * identity, degenerate parts, precision).
 *
 * Monte Carlo bounds: the sampler estimates log p(x | θ_t) (± its standard
 * error); boundAfterE is that estimate (plus log p(θ_t) for MAP models, as for
 * exact E-steps), the entropy is what makes boundAfterE = Q(stats, θ_t) + H,
 * and boundAfterM = boundAfterE + Q(stats, θ_{t+1}) − Q(stats, θ_t), so the
 * M-half's gain is exact given the statistics.
 * @module
 */
import type { IterationRecord, Model, MStepResult, Precision } from '@emlab/core';
import type { Estimate } from '../samplers/sampler.js';

/** What one iteration produced. @internal */
export interface McIterationInput<P, S> {
  readonly iteration: number;
  readonly passes: number;
  readonly precision: Precision;
  readonly stats: S;
  readonly paramsBefore: P;
  readonly m: MStepResult<P>;
  readonly estimate: Estimate | undefined;
  readonly logLikelihood: number | undefined;
  readonly diagnostics: Readonly<Record<string, number>>;
  readonly eStepMs: number;
  readonly mStepMs: number;
  readonly exempt?: string;
}

/** The record of a Monte Carlo iteration (see the module notes). @internal */
export function monteCarloRecord<P, S>(model: Model<any, P, S, any>, it: McIterationInput<P, S>): IterationRecord { // eslint-disable-line @typescript-eslint/no-explicit-any
  const qBefore = model.expectedLogJoint(it.stats, it.paramsBefore);
  const qAfter = model.expectedLogJoint(it.stats, it.m.params);
  const prior = model.logPrior?.(it.paramsBefore) ?? 0;
  const boundAfterE = it.estimate === undefined ? qBefore : it.estimate.value + prior;
  const roundoffScale = Math.max(model.roundoffScale?.(it.stats, it.paramsBefore) ?? 0, model.roundoffScale?.(it.stats, it.m.params) ?? 0);
  return {
    iteration: it.iteration,
    boundAfterE,
    boundAfterM: boundAfterE + (qAfter - qBefore),
    logLikelihood: it.logLikelihood ?? null,
    gap: it.logLikelihood === undefined ? null : it.logLikelihood + prior - boundAfterE,
    entropy: boundAfterE - qBefore,
    boundStdErr: it.estimate?.stdErr ?? null,
    mStepSlack: it.m.boundSlack ?? 0,
    roundoffScale,
    precision: it.precision,
    passes: it.passes,
    eStepMs: it.eStepMs,
    mStepMs: it.mStepMs,
    diagnostics: { ...it.diagnostics, ...(it.estimate === undefined ? {} : { eStepBound: it.estimate.value }), deltaQHat: qAfter - qBefore },
    events: it.m.events ?? [],
    violations: [],
    ...(it.exempt === undefined ? {} : { exempt: it.exempt }),
  };
}
