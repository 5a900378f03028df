/**
 * Tolerances for tests, derived from float32 roundoff.
 * @module
 */
/** Relative tolerance for a float32 quantity computed with O(D) operations and compared to a float64 reference. @category Testing */
export const FLOAT32_REL_TOL = 1e-4;

/** Responsibilities must sum to 1 within this (issue requirement). @category Testing */
export const RESP_SUM_TOL = 1e-5;

/**
 * `|a − b| ≤ rel · max(|a|, |b|, floor)`; `floor` keeps the check meaningful near 0.
 * @category Testing
 */
export function closeRel(a: number, b: number, rel = FLOAT32_REL_TOL, floor = 1): boolean {
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), floor);
}

