/**
 * Gaussian-mixture parameter and statistics types.
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { RowSource } from '@emlab/core';

/** Covariance structure, as in scikit-learn. @category Gaussian mixtures */
export type CovarianceType = 'full' | 'diag' | 'spherical' | 'tied';

/** The covariance types. @category Gaussian mixtures */
export const COVARIANCE_TYPES: readonly CovarianceType[] = ['full', 'diag', 'spherical', 'tied'];

/**
 * Gaussian-mixture parameters, plain JSON in the data's original units.
 * `covariances` are always full D×D matrices (diagonal ones have zero
 * off-diagonals; tied ones repeat the shared matrix K times).
 * @category Gaussian mixtures
 */
export interface GmmParams {
  readonly covarianceType: CovarianceType;
  /** `[K]`, non-negative, summing to 1. */
  readonly weights: number[];
  /** `[K][D]`. */
  readonly means: number[][];
  /** `[K][D][D]`, symmetric positive definite. */
  readonly covariances: number[][][];
  /**
   * Per-column units of `covariances` (`[D]`, powers of two): present only when a column is so far
   * from unit scale (e.g. values around 1e300) that its covariances are not representable in
   * original units; then Σ = diag(scale) · covariances · diag(scale). Means are always in original units.
   */
  readonly scale?: number[];
}

/**
 * Sufficient statistics of a Gaussian mixture, float64, additive over rows.
 * Moments are taken about a reference point per component (`ref`, the means
 * the E-step ran at) for accuracy: s1 = Σ_n w_nk (x_n − ref_k),
 * s2 = Σ_n w_nk (x_n − ref_k)(x_n − ref_k)ᵀ. Statistics are only added when
 * their references are equal.
 * @category Gaussian mixtures
 */
export interface GmmStats {
  readonly k: number;
  readonly d: number;
  /** `[K]` Σ_n w_nk. */
  readonly n: Float64Array;
  /** `[K·D]`. */
  readonly s1: Float64Array;
  /** `[K·D·D]`. */
  readonly s2: Float64Array;
  /** `[K·D]` reference points (in the data's frame units, see `gmm-frame.ts`). */
  readonly ref: Float64Array;
  /** The frame the statistics are measured in (per-column scales), absent when every scale is 1. */
  readonly frame?: Float64Array;
}

/**
 * Data a Gaussian mixture accepts: rows of numbers, a 2-D tensor, a dense row-major matrix (e.g. a CSV
 * table), or a {@link RowSource} (rows read from disk block by block: data larger than memory, see
 * `@emlab/core/node`'s `openRowSource`).
 * @category Gaussian mixtures
 */
export type GmmData = readonly (readonly number[])[] | tf.Tensor2D | DenseMatrix | RowSource;

/** A dense row-major matrix. @category Gaussian mixtures */
export interface DenseMatrix {
  readonly values: ArrayLike<number>;
  readonly rows: number;
  readonly cols: number;
}
