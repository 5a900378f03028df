/**
 * Tolerances derived from float32 roundoff.
 *
 * Tensors are float32 (unit roundoff u = 2⁻²⁴ ≈ 5.96e-8). A bound is a sum of
 * per-row terms each computed with O(D) float32 operations and summed in
 * float32 within a block of rows, then in float64 across blocks.
 *
 * **Monotonicity tolerance.** A half-step may lower the bound by at most
 * `δ = 64 · u · max(|L_before|, |L_after|, N, S)` (≈ 3.8e-6 relative) before it
 * counts as a violation. The factor 64 covers the log-sum-exp, the
 * Mahalanobis matmul and the block sums; N keeps δ meaningful when L is near 0;
 * S is the model's `roundoffScale` (conditioning: for a Gaussian mixture
 * Σ_k n_k tr(Σ_k) tr(Σ_k⁻¹) / D, which is ≈ N·D for well-conditioned
 * covariances and grows when a component collapses, because float32 errors in
 * its near-zero scatter directions are multiplied by Σ_k⁻¹). An M-step that
 * maximizes a regularized objective adds its `boundSlack` to δ.
 *
 * **Convergence.** `fit` stops when `|L_t − L_{t−1}| ≤ tol · max(|L_{t−1}|, N)`:
 * a relative change of the bound once the average per-row bound exceeds 1 nat
 * in magnitude, a per-row absolute change below that.
 *
 * @module
 */

/** float32 unit roundoff, 2⁻²⁴. @category Numerics */
export const FLOAT32_UNIT_ROUNDOFF = 2 ** -24;

/** The factor in {@link monotonicityTolerance}. @category Numerics */
export const MONOTONICITY_FACTOR = 64;

/**
 * Largest decrease of the bound a half-step may show and still count as monotone.
 * @param before - bound before the half-step.
 * @param after - bound after it.
 * @param nRows - number of rows the bound sums over.
 * @param roundoffScale - the model's conditioning magnitude S (default 0).
 * @category Numerics
 */
export function monotonicityTolerance(before: number, after: number, nRows: number, roundoffScale = 0): number {
  return MONOTONICITY_FACTOR * FLOAT32_UNIT_ROUNDOFF * Math.max(Math.abs(before), Math.abs(after), nRows, roundoffScale);
}

/** The scale `tol` is relative to: `max(|L|, N)`. @category Numerics */
export function convergenceScale(bound: number, nRows: number): number {
  return Math.max(Math.abs(bound), nRows);
}
