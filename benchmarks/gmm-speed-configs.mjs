/**
 * Configurations of the Gaussian-mixture speed benchmark (shared by the
 * driver and its child processes).
 */
export const CONFIGS = {
  a: { name: 'a', nSamples: 100_000, nFeatures: 8, nComponents: 8, seed: 20_001 },
  b: { name: 'b', nSamples: 1_000_000, nFeatures: 16, nComponents: 16, seed: 20_002 },
};

/** Iterations timed on both sides (tol = 0, so exactly this many run). */
export const MAX_ITER = 20;
/** Covariance regularization, emlab's default and the value passed to scikit-learn. */
export const REG_COVAR = 1e-6;
/** Minimum distance between true means, in cluster scales (overlapping clusters, so EM keeps moving). */
export const SEPARATION = 2;

/**
 * The "GFLOP/s equivalent" count: 4·N·K·D² flops per EM iteration (the
 * Mahalanobis terms of the E-step, 2·N·K·D², and the weighted second moments of
 * the M-step, 2·N·K·D²). Lower-order terms are ignored; the figure is the same
 * for both implementations, so it is a rescaled speed, not a measured flop count.
 */
export function flopsPerIteration({ nSamples: n, nFeatures: d, nComponents: k }) {
  return 4 * n * k * d * d;
}
