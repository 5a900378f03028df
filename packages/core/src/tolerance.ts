/**
 * Monotonicity tolerances derived from the arithmetic's unit roundoff.
 *
 * A half-step may lower the bound by at most
 * `δ = 64 · u · max(|L_before|, |L_after|, W, min(S, 2¹⁰ · max(|L|, W)))`
 * before it counts as a violation, with u = 2⁻²⁴ (float32) or 2⁻⁵³ (float64):
 * about 3.8e-6 relative in float32 and 7e-15 relative in float64. The factor
 * 64 covers the log-sum-exp, the matmuls and the block sums; W (the total row
 * weight) keeps δ meaningful when L is near 0; S is the model's
 * `roundoffScale` (its conditioning: errors in near-singular directions are
 * amplified by Σ⁻¹). S is capped at 2¹⁰ · max(|L|, W) (so δ never exceeds 7.3e-12
 * relative in float64), so that no data set can switch the check off: beyond
 * the cap the fit records an `ill-conditioned` event (and precision `auto`
 * moves to float64) instead of allowing thousands of nats. An M-step that maximizes a regularized objective
 * adds its exact `boundSlack`.
 *
 * @module
 */
import { unitRoundoff, type Precision } from './precision.js';

/** float32 unit roundoff, 2⁻²⁴. @category Numerics */
export const FLOAT32_UNIT_ROUNDOFF = 2 ** -24;

/** The factor in {@link monotonicityTolerance}. @category Numerics */
export const MONOTONICITY_FACTOR = 64;

/** S beyond this multiple of max(|L|, W) is capped (and flagged as ill-conditioned). @category Numerics */
export const CONDITIONING_CAP = 2 ** 10;

/**
 * Largest decrease of the bound a half-step may show and still count as monotone.
 * @param before - bound before the half-step.
 * @param after - bound after it.
 * @param totalWeight - W, the total row weight the bound sums over.
 * @param roundoffScale - the model's conditioning magnitude S (default 0), capped at {@link CONDITIONING_CAP} · max(|L|, W).
 * @param precision - the arithmetic both bounds were computed in (default float32).
 * @category Numerics
 */
export function monotonicityTolerance(before: number, after: number, totalWeight: number, roundoffScale = 0, precision: Precision = 'float32'): number {
  const base = Math.max(Math.abs(before), Math.abs(after), totalWeight);
  return MONOTONICITY_FACTOR * unitRoundoff(precision) * Math.max(base, Math.min(roundoffScale, CONDITIONING_CAP * base));
}

/**
 * Whether S exceeds the cap of {@link monotonicityTolerance} (the fit is ill-conditioned for this
 * check: bound changes below 64 · u · S may be roundoff).
 * @category Numerics
 */
export function beyondConditioningCap(bound: number, totalWeight: number, roundoffScale: number): boolean {
  return roundoffScale > CONDITIONING_CAP * Math.max(Math.abs(bound), totalWeight);
}

/** The scale relative tolerances refer to: `max(|L|, W)`. @category Numerics */
export function convergenceScale(bound: number, totalWeight: number): number {
  return Math.max(Math.abs(bound), totalWeight);
}
