/**
 * The GLMM at given parameters as a `continuous` latent structure: one
 * random-effect vector b_g per group, with the per-group log joint and its
 * derivatives, the Laplace mode, statistics from draws or a Gaussian q, the
 * exact log p(y_g) by adaptive Gauss–Hermite quadrature, and SAEM's annealing.
 * @module
 */
import type { ContinuousStructure } from '@emlab/core';
import { aghqGroupLogLikelihood, DEFAULT_AGHQ_NODES } from './aghq.js';
import { groupLogJoint, groupLogJointDerivatives, groupTargets, laplaceMode, type GroupTarget } from './glmm-math.js';
import { annealGlmmStats, glmmStatsAlgebra, glmmStatsFromDraws, glmmStatsFromLatent, type GlmmStats } from './glmm-stats.js';
import type { GlmmData, GlmmParams } from './glmm-types.js';
import { expectedLogLikelihoodGaussian, expectedLogPrior } from './laplace-q.js';

/** Options of {@link glmmStructure}. @category GLMM */
export interface GlmmStructureOptions {
  /** AGHQ nodes per dimension for `logMarginal` (default 25). */
  readonly nQuad?: number;
}

/**
 * The `continuous` structure of GLMM data at validated parameters (float64 host arithmetic).
 * @throws EmError `INVALID_PARAMS` (see `validateGlmmParams`).
 * @category GLMM
 */
export function glmmStructure(data: GlmmData, params: GlmmParams, options: GlmmStructureOptions = {}): ContinuousStructure<GlmmStats> {
  const targets: GroupTarget[] = groupTargets(data, params);
  const nQuad = options.nQuad ?? DEFAULT_AGHQ_NODES;
  const target = (g: number): GroupTarget => targets[g]!;
  return {
    kind: 'continuous',
    precision: 'float64',
    nGroups: data.nGroups,
    dim: data.q,
    algebra: glmmStatsAlgebra,
    logJoint: (g, b) => groupLogJoint(target(g), b),
    logJointDerivatives: (g, b) => {
      const d = groupLogJointDerivatives(target(g), b);
      return { value: d.value, gradient: d.gradient, hessian: d.hessian };
    },
    mode: (g, start) => {
      const m = laplaceMode(target(g), start === undefined ? {} : { start });
      return { mode: m.mode, logJoint: m.logJoint, negHessian: m.negHessian, converged: m.converged };
    },
    drawStats: (draws, nDraws, weights) => glmmStatsFromDraws(data, draws, nDraws, weights),
    gaussianStats: (means, covs) => glmmStatsFromLatent(data, { kind: 'gaussian', means, covs }),
    gaussianExpectedLogJoint: (g, mean, cov) => {
      const t = target(g);
      const gq = { mean, cov };
      return expectedLogLikelihoodGaussian(t, gq) + expectedLogPrior(t.prior, gq);
    },
    logMarginal: (g) => aghqGroupLogLikelihood(target(g), nQuad),
    annealStats: (stats, factor) => annealGlmmStats(stats, params.sigma, factor),
  };
}
