/**
 * Averages of unit statistics (balanced pairwise sums, so statistics whose
 * `add` costs grow with their size — node lists — stay O(n log n)), and the
 * mean and standard error of per-unit values.
 * @module
 */
import type { StatsAlgebra } from '@emlab/core';

/** Σ_i w_i S_i / Σ_i w_i by pairwise addition. @internal */
export function weightedAverage<S>(algebra: StatsAlgebra<S>, items: readonly { readonly stats: S; readonly weight: number }[]): S {
  if (items.length === 0) throw new Error('weightedAverage: no items');
  let total = 0;
  for (const it of items) total += it.weight;
  let level: S[] = items.map((it) => (items.length === 1 && it.weight === total ? it.stats : algebra.scale(it.stats, it.weight / total)));
  while (level.length > 1) {
    const next: S[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(algebra.add(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

/**
 * Splits S consecutive draws of a chain into batches for batch means: ⌊√S⌋ batches of (nearly) equal
 * size (one batch of each draw when S < 4), as `[B + 1]` boundaries.
 * @internal
 */
export function batchBounds(S: number): number[] {
  const B = S < 4 ? S : Math.floor(Math.sqrt(S));
  return Array.from({ length: B + 1 }, (_, b) => Math.round((b * S) / B));
}

/**
 * The size-weighted mean of per-unit values (units are batch means of draws) and its standard error
 * by weighted batch means, SE² = Σ_u n_u (v_u − v̄)² / ((U − 1) N): each unit's mean has variance
 * ≈ σ²/n_u when its draws are independent or its batch is long beside the chain's autocorrelation.
 * NaN with fewer than two units.
 * @internal
 */
export function unitMeanAndStdErr(values: ArrayLike<number>, sizes: ArrayLike<number>): { mean: number; stdErr: number } {
  const U = values.length;
  let N = 0;
  let mean = 0;
  for (let u = 0; u < U; u++) {
    N += sizes[u]!;
    mean += sizes[u]! * values[u]!;
  }
  mean /= N;
  if (U < 2) return { mean, stdErr: Number.NaN };
  let s = 0;
  for (let u = 0; u < U; u++) s += sizes[u]! * (values[u]! - mean) ** 2;
  return { mean, stdErr: Math.sqrt(s / ((U - 1) * N)) };
}
