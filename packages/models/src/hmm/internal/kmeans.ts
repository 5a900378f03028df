/**
 * k-means for HMM initialization: k-means++ seeding then Lloyd iterations,
 * float64 on the host, from a seeded stream.
 * @module
 * @internal
 */
import type { Rng } from '@emlab/core';

/** Lloyd iterations after seeding (stops earlier when no label changes). */
export const KMEANS_ITERATIONS = 25;

/**
 * Labels `[n]` of k-means on `values` `[n × d]` (no NaN: fill missing cells first): k-means++ seeding
 * (D² sampling) then at most `KMEANS_ITERATIONS` Lloyd iterations. An empty cluster keeps its centre.
 */
export function kmeansLabels(values: Float64Array, n: number, d: number, k: number, rng: Rng): Int32Array {
  const centres = new Float64Array(k * d);
  const dist = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const labels = new Int32Array(n);
  const sq = (i: number, c: number): number => {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const diff = (values[i * d + j] as number) - (centres[c * d + j] as number);
      s += diff * diff;
    }
    return s;
  };
  for (let c = 0; c < k; c++) {
    let pick: number;
    if (c === 0) pick = rng.int(n);
    else {
      let total = 0;
      for (let i = 0; i < n; i++) total += dist[i] as number;
      pick = total > 0 ? rng.categorical(dist) : rng.int(n);
    }
    for (let j = 0; j < d; j++) centres[c * d + j] = values[pick * d + j] as number;
    for (let i = 0; i < n; i++) {
      const s = sq(i, c);
      if (s < (dist[i] as number)) {
        dist[i] = s;
        labels[i] = c;
      }
    }
  }
  const counts = new Float64Array(k);
  for (let it = 0; it < KMEANS_ITERATIONS; it++) {
    counts.fill(0);
    const sums = new Float64Array(k * d);
    for (let i = 0; i < n; i++) {
      const z = labels[i] as number;
      counts[z] = (counts[z] as number) + 1;
      for (let j = 0; j < d; j++) sums[z * d + j] = (sums[z * d + j] as number) + (values[i * d + j] as number);
    }
    for (let c = 0; c < k; c++) if ((counts[c] as number) > 0) for (let j = 0; j < d; j++) centres[c * d + j] = (sums[c * d + j] as number) / (counts[c] as number);
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let top = Number.POSITIVE_INFINITY;
      for (let c = 0; c < k; c++) {
        const s = sq(i, c);
        if (s < top) {
          top = s;
          best = c;
        }
      }
      if (best !== labels[i]) {
        labels[i] = best;
        changed++;
      }
    }
    if (changed === 0) break;
  }
  return labels;
}

/**
 * Features averaged over a centred window of `window` steps that stays inside each sequence
 * (`offsets` `[S + 1]`); `window` 1 returns `values` itself. Rows `[n × d]`, time order, no NaN.
 */
export function windowAverage(values: Float64Array, n: number, d: number, offsets: Int32Array, window: number): Float64Array {
  if (window <= 1) return values;
  const out = new Float64Array(n * d);
  const half = Math.floor(window / 2);
  for (let s = 0; s + 1 < offsets.length; s++) {
    const a = offsets[s] as number;
    const b = offsets[s + 1] as number;
    // Running sums over [t − half, t + half] ∩ [a, b).
    const sum = new Float64Array(d);
    let lo = a;
    let hi = a;
    for (let t = a; t < b; t++) {
      const from = Math.max(a, t - half);
      const to = Math.min(b, t + half + 1);
      while (hi < to) {
        for (let j = 0; j < d; j++) sum[j] = (sum[j] as number) + (values[hi * d + j] as number);
        hi++;
      }
      while (lo < from) {
        for (let j = 0; j < d; j++) sum[j] = (sum[j] as number) - (values[lo * d + j] as number);
        lo++;
      }
      for (let j = 0; j < d; j++) out[t * d + j] = (sum[j] as number) / (hi - lo);
    }
  }
  return out;
}
