/**
 * The `continuous` structure kind: one continuous latent vector b_g ∈ ℝ^q per
 * group (random effects of a mixed model, a latent position per item), the
 * groups independent given θ.
 *
 * No exact E-step exists in general: the posterior p(b_g | x_g, θ) is known
 * only up to its normalizer. E-steps consume the structure through
 *
 * - the per-group log joint log p(x_g, b | θ), every constant included, with
 *   its gradient and Hessian in b (Metropolis–Hastings targets, Laplace modes,
 *   importance sampling);
 * - the model's statistics from weighted draws of every b_g (Monte Carlo
 *   E-steps) or from a Gaussian q_g = N(m_g, V_g) per group (Laplace and other
 *   Gaussian E-steps), with E_{q_g}[log p(x_g, b | θ)] for the Gaussian bound;
 * - optionally the exact log p(x_g | θ) (quadrature, when the model has one),
 *   so the gap stays measurable, and a hook for SAEM's simulated annealing.
 *
 * Everything is float64 host arrays: a continuous E-step never touches tensors.
 *
 * @module
 */
import type { StatsAlgebra } from './stats.js';
import type { LatentStructure } from './structures.js';

/** log p(x_g, b | θ) with its derivatives in b. @category Structures */
export interface ContinuousDerivatives {
  readonly value: number;
  /** `[q]` ∇_b log p(x_g, b | θ). */
  readonly gradient: Float64Array;
  /** `[q × q]` row-major ∇²_b log p(x_g, b | θ). */
  readonly hessian: Float64Array;
}

/** The mode of log p(x_g, b | θ) in b and the curvature there (the Laplace q is N(mode, negHessian⁻¹)). @category Structures */
export interface ContinuousMode {
  /** `[q]` argmax_b log p(x_g, b | θ). */
  readonly mode: Float64Array;
  /** log p(x_g, mode | θ). */
  readonly logJoint: number;
  /** `[q × q]` −∇²_b log p(x_g, b | θ) at the mode (symmetric positive definite). */
  readonly negHessian: Float64Array;
  /** Whether the search met its tolerance. */
  readonly converged: boolean;
}

/**
 * A continuous latent vector per group.
 * @typeParam S - the model's statistics.
 * @category Structures
 */
export interface ContinuousStructure<S = unknown> extends LatentStructure {
  readonly kind: 'continuous';
  /** Number of groups G (independent latent vectors). */
  readonly nGroups: number;
  /** Dimension q of each latent vector. */
  readonly dim: number;
  readonly algebra: StatsAlgebra<S>;
  /** log p(x_g, b | θ), every constant included; −∞ outside the support. `b` `[q]` is not kept. */
  logJoint(group: number, b: Float64Array): number;
  /** log p(x_g, b | θ), its gradient and its Hessian in b. */
  logJointDerivatives(group: number, b: Float64Array): ContinuousDerivatives;
  /** The mode in b (Newton), from `start` (e.g. the previous iteration's mode) when given. Absent: E-steps run their own Newton search on `logJointDerivatives`. */
  mode?(group: number, start?: ArrayLike<number>): ContinuousMode;
  /**
   * The statistics of weighted draws of every b_g: `draws` `[G × nDraws × q]` row-major, `weights`
   * `[G × nDraws]` non-negative (normalized per group; default equal). The result is
   * E_q[statistics] for q the weighted empirical distribution of the draws, so
   * `expectedLogJoint(drawStats(...), θ)` is the weighted average of Σ_g log p(x_g, b_gs | θ).
   */
  drawStats(draws: Float64Array, nDraws: number, weights?: Float64Array): S;
  /** The statistics of a Gaussian q_g = N(m_g, V_g) per group: `means` `[G × q]`, `covs` `[G × q × q]`. */
  gaussianStats(means: Float64Array, covs: Float64Array): S;
  /** E_{N(mean, cov)}[log p(x_g, b | θ)], every constant included (`mean` `[q]`, `cov` `[q × q]`). */
  gaussianExpectedLogJoint(group: number, mean: Float64Array, cov: Float64Array): number;
  /** log p(x_g | θ) = log ∫ p(x_g, b | θ) db when the model can compute it (quadrature). */
  logMarginal?(group: number): number;
  /**
   * SAEM's simulated annealing (saemix's `alpha.sa`): statistics whose M-step keeps every variance
   * parameter at least `factor` times its value at this structure's θ, so variances shrink by at
   * most that factor per iteration in the first phase. Absent: the model offers no annealing.
   */
  annealStats?(stats: S, factor: number): S;
}

/** Narrows a structure to `continuous`. @category Structures */
export function isContinuousStructure(s: LatentStructure): s is ContinuousStructure {
  return s.kind === 'continuous';
}
