/**
 * Types of the generalized linear mixed model (GLMM) with Gaussian random
 * effects per group:
 *
 *   y_gi | b_g ~ f(y | η_gi),  η_gi = x_giᵀ β + z_giᵀ b_g,  b_g ~ N(0, Σ_b),
 *
 * with f Poisson (log link) or Bernoulli (logit link). The latent variables
 * are the b_g ∈ ℝ^q, one per group.
 *
 * @module
 */

/** Response family with its canonical link: `poisson` (log) or `logistic` (Bernoulli, logit). @category GLMM */
export type GlmmFamily = 'poisson' | 'logistic';

/** The families. @category GLMM */
export const GLMM_FAMILIES: readonly GlmmFamily[] = ['poisson', 'logistic'];

/** Structure of Σ_b: `full` (q×q symmetric positive definite) or `diagonal` (independent random effects). @category GLMM */
export type RandomCovarianceType = 'full' | 'diagonal';

/** A dense row-major matrix `[rows, cols]`. @category GLMM */
export interface GlmmMatrix {
  readonly values: ArrayLike<number>;
  readonly rows: number;
  readonly cols: number;
}

/**
 * GLMM data as the user gives it: one entry per row, in any order.
 * `x` and `z` are `[n, p]` and `[n, q]`, as arrays of rows or dense row-major matrices.
 * @category GLMM
 */
export interface GlmmDataInput {
  readonly family: GlmmFamily;
  /** `[n]` group id of each row (integers or strings; rows of a group need not be adjacent). */
  readonly group: ArrayLike<number> | readonly (number | string)[];
  /** `[n]` responses: counts ≥ 0 (Poisson) or 0/1 (logistic). */
  readonly y: ArrayLike<number>;
  /** `[n, p]` fixed-effect covariates (include a column of ones for an intercept). */
  readonly x: readonly (readonly number[])[] | GlmmMatrix;
  /** `[n, q]` random-effect covariates: `[1]` (random intercept) or `[1, t]` (intercept and slope). */
  readonly z: readonly (readonly number[])[] | GlmmMatrix;
}

/**
 * Validated GLMM data, rows stably sorted by group so that group g is the
 * contiguous row range `groupStart[g] .. groupStart[g + 1] − 1`.
 * @category GLMM
 */
export interface GlmmData {
  readonly family: GlmmFamily;
  /** Number of rows n. */
  readonly nRows: number;
  /** Number of fixed effects p. */
  readonly p: number;
  /** Number of random effects per group q. */
  readonly q: number;
  /** Number of groups G. */
  readonly nGroups: number;
  /** `[n]` responses, sorted rows. */
  readonly y: Float64Array;
  /** `[n, p]` row-major fixed-effect covariates, sorted rows. */
  readonly x: Float64Array;
  /** `[n, q]` row-major random-effect covariates, sorted rows. */
  readonly z: Float64Array;
  /** `[G + 1]` first row of each group, and n at the end. */
  readonly groupStart: Int32Array;
  /** `[G]` the group ids, in sorted order (numbers ascending, or strings by code unit). */
  readonly groupIds: readonly (number | string)[];
  /** `[n]` the input row index of each sorted row. */
  readonly order: Int32Array;
  /** `[G]` Σ_i log y_gi! per group (Poisson), zeros (logistic): the constant −c(y) of log p(y | b), summed. */
  readonly logFactorialSum: Float64Array;
}

/**
 * GLMM parameters.
 * @category GLMM
 */
export interface GlmmParams {
  /** `[p]` fixed effects β. */
  readonly beta: Float64Array;
  /** `[q, q]` row-major random-effect covariance Σ_b (symmetric positive definite). */
  readonly sigma: Float64Array;
}

/**
 * One group's rows, as views into {@link GlmmData} (no copies).
 * @category GLMM
 */
export interface GlmmGroup {
  readonly family: GlmmFamily;
  /** Rows in the group n_g. */
  readonly n: number;
  readonly p: number;
  readonly q: number;
  /** `[n_g]`. */
  readonly y: Float64Array;
  /** `[n_g, p]`. */
  readonly x: Float64Array;
  /** `[n_g, q]`. */
  readonly z: Float64Array;
  /** Σ_i log y_i! (0 for logistic). */
  readonly logFactorialSum: number;
}
