/**
 * Types of variational Bayes for Gaussian mixtures (scikit-learn's
 * `BayesianGaussianMixture` model): data, priors, weighted statistics and the
 * posterior hyperparameters.
 *
 * The model, for every covariance type: π from a Dirichlet(α₀, …, α₀) prior or
 * a stick-breaking (Dirichlet-process) prior with Beta(1, γ₀) sticks;
 * z_n | π ~ Categorical(π); (μ_k, Λ_k) ~ Normal–Wishart, μ_k | Λ_k ~
 * N(m₀, (β₀ Λ_k)⁻¹), Λ_k ~ Wishart(W₀, ν₀) with W₀⁻¹ = `covariancePrior`;
 * x_n | z_n = k ~ N(μ_k, Λ_k⁻¹). The covariance type restricts the
 * variational family q(μ_k, Λ_k) = N(μ_k | m_k, (β_k Λ_k)⁻¹) Wishart(Λ_k | W_k, ν_k):
 * `full` leaves W_k free; `diag` makes W_k diagonal; `spherical` makes it a
 * multiple of the identity; `tied` makes (W_k, ν_k) one pair shared by every
 * component. (Λ_k itself is a full matrix under q in every case: that is what
 * scikit-learn's expectations E[log |Λ_k|] = Σ_i ψ((ν_k − i)/2) + D log 2 + log |W_k|
 * and its bound compute.) scikit-learn's updates are then exact coordinate
 * ascent on the ELBO within that family.
 *
 * @module
 */

/** The covariance type: what the variational family allows of the Wishart scale W_k. @category Variational Bayes */
export type VbCovarianceType = 'full' | 'diag' | 'spherical' | 'tied';

/** All covariance types. @category Variational Bayes */
export const VB_COVARIANCE_TYPES: readonly VbCovarianceType[] = ['full', 'diag', 'spherical', 'tied'];

/**
 * The prior on the mixture weights, named as scikit-learn's `weight_concentration_prior_type`:
 * a truncated stick-breaking (Dirichlet-process) prior or a finite Dirichlet distribution.
 * @category Variational Bayes
 */
export type VbWeightPriorType = 'dirichlet_process' | 'dirichlet_distribution';

/** All weight prior types. @category Variational Bayes */
export const VB_WEIGHT_PRIOR_TYPES: readonly VbWeightPriorType[] = ['dirichlet_process', 'dirichlet_distribution'];

/** A dense row-major float64 matrix `[rows, cols]` (structurally a `DenseMatrix` of `@emlab/models`). @category Variational Bayes */
export interface VbMatrix {
  readonly values: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Prior options, scikit-learn's names in camelCase; every one has scikit-learn's default.
 * @category Variational Bayes
 */
export interface VbPriorOptions {
  /** `'dirichlet_process'` (default, as scikit-learn) or `'dirichlet_distribution'`. */
  readonly weightConcentrationPriorType?: VbWeightPriorType;
  /** γ₀ (stick-breaking) or α₀ (Dirichlet), > 0. Default 1 / nComponents. */
  readonly weightConcentrationPrior?: number;
  /** β₀ > 0. Default 1. */
  readonly meanPrecisionPrior?: number;
  /** m₀, `[D]`. Default the data mean. */
  readonly meanPrior?: ArrayLike<number>;
  /** ν₀ > D − 1. Default D. */
  readonly degreesOfFreedomPrior?: number;
  /**
   * W₀⁻¹ in the covariance type's shape: `full`/`tied` a D×D symmetric positive
   * definite matrix (rows), `diag` D positive variances, `spherical` one positive
   * variance. Default the data's unbiased (N − 1) covariance matrix
   * (`full`/`tied`), its diagonal (`diag`), or the mean of its diagonal
   * (`spherical`), as scikit-learn.
   */
  readonly covariancePrior?: number | ArrayLike<number> | readonly ArrayLike<number>[];
}

/**
 * A validated prior with every default filled in.
 * @category Variational Bayes
 */
export interface VbPrior {
  /** K, the number of components (the truncation level for the stick-breaking prior). */
  readonly nComponents: number;
  /** D. */
  readonly nFeatures: number;
  readonly weightConcentrationPriorType: VbWeightPriorType;
  /** γ₀ or α₀. */
  readonly weightConcentrationPrior: number;
  /** β₀. */
  readonly meanPrecisionPrior: number;
  /** m₀, `[D]`. */
  readonly meanPrior: Float64Array;
  /** ν₀. */
  readonly degreesOfFreedomPrior: number;
  /**
   * W₀⁻¹ as a full `[D, D]` row-major matrix (diagonal for `diag`, a multiple of
   * the identity for `spherical` when built by {@link vbPrior}).
   */
  readonly covariancePrior: Float64Array;
}

/**
 * Weighted statistics of the data under q(z), as scikit-learn's
 * `_estimate_gaussian_parameters` computes them (for every covariance type:
 * the full per-component matrices; `vbUpdate` takes the part its type needs).
 * @category Variational Bayes
 */
export interface VbStats {
  readonly nComponents: number;
  readonly nFeatures: number;
  /** `[K]` N_k = Σ_n r_nk + 10ε (scikit-learn's guard against empty components; ε = 2⁻⁵²). */
  readonly nk: Float64Array;
  /** `[K, D]` x̄_k = Σ_n r_nk x_n / N_k. */
  readonly means: Float64Array;
  /** `[K, D, D]` S_k = Σ_n r_nk (x_n − x̄_k)(x_n − x̄_k)ᵀ / N_k + regCovar · I. */
  readonly covariances: Float64Array;
  /** The regCovar added to the diagonal of each S_k. */
  readonly regCovar: number;
}

/**
 * q(π): Dirichlet(α₁, …, α_K) or, for the stick-breaking prior, independent
 * sticks v_k ~ Beta(β1_k, β2_k) with π_k = v_k Π_{j<k} (1 − v_j).
 * @category Variational Bayes
 */
export type VbWeightConcentration =
  | { readonly type: 'dirichlet_distribution'; readonly alpha: Float64Array }
  | { readonly type: 'dirichlet_process'; readonly beta1: Float64Array; readonly beta2: Float64Array };

/**
 * Posterior hyperparameters of q(π) Π_k q(μ_k, Λ_k), with scikit-learn's
 * attribute names in camelCase. Full `[K, D, D]` matrices for every covariance
 * type (diagonal for `diag`, multiples of I for `spherical`, K equal copies for
 * `tied`).
 * @category Variational Bayes
 */
export interface VbPosterior {
  readonly covarianceType: VbCovarianceType;
  readonly prior: VbPrior;
  /** q(π) (scikit-learn's `weight_concentration_`). */
  readonly weightConcentration: VbWeightConcentration;
  /** `[K]` β_k (`mean_precision_`). */
  readonly meanPrecision: Float64Array;
  /** `[K, D]` m_k (`means_`). */
  readonly means: Float64Array;
  /** `[K]` ν_k (`degrees_of_freedom_`; K equal entries for `tied`). */
  readonly degreesOfFreedom: Float64Array;
  /** `[K, D, D]` Σ_k = W_k⁻¹ / ν_k = E_q[Λ_k]⁻¹ (`covariances_`). */
  readonly covariances: Float64Array;
  /** `[K, D, D]` upper-triangular U_k with U_k U_kᵀ = Σ_k⁻¹ (`precisions_cholesky_`). */
  readonly precisionsCholesky: Float64Array;
}
