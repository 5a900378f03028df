/**
 * Helpers to look inside a `finite` structure from tests: download its
 * log-joint table, compute statistics for arbitrary weights, and compare
 * Gaussian-mixture statistics with float32-aware tolerances.
 * @module
 */
import type { FiniteStructure } from '@emlab/core';
import type { GmmParams, GmmStats } from '@emlab/models';

/** The full table log p(x_n, z_n = k | θ) `[N][K]` of a finite structure (float64 copies of its entries). @category Testing */
export function logJointTable(structure: FiniteStructure): number[][] {
  const out: number[][] = [];
  const k = structure.nComponents;
  for (const chunk of structure.chunks()) {
    const v = chunk.logJoint();
    for (let i = 0; i < chunk.rows; i++) out[chunk.start + i] = Array.from(v.subarray(i * k, (i + 1) * k));
  }
  return out;
}

/** Statistics of a finite structure for given weights `[N][K]` (block by block, in the structure's precision, added with its algebra). @category Testing */
export function statsForWeights<S>(structure: FiniteStructure<S>, weights: readonly (readonly number[])[]): S {
  const k = structure.nComponents;
  let acc: S | undefined;
  for (const chunk of structure.chunks()) {
    const flat = structure.precision === 'float32' ? new Float32Array(chunk.rows * k) : new Float64Array(chunk.rows * k);
    for (let i = 0; i < chunk.rows; i++) for (let c = 0; c < k; c++) flat[i * k + c] = (weights[chunk.start + i] as readonly number[])[c] as number;
    const part = chunk.stats(flat);
    acc = acc === undefined ? part : structure.algebra.add(acc, part);
  }
  if (acc === undefined) throw new Error('statsForWeights: the structure has no rows');
  return acc;
}

/** Exact posterior responsibilities from a log-joint table, in float64. @category Testing */
export function posteriorFromTable(table: readonly (readonly number[])[]): number[][] {
  return table.map((row) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

/** H(q) = −Σ q log q (0 log 0 = 0), float64. @category Testing */
export function entropyOf(q: readonly (readonly number[])[]): number {
  let h = 0;
  for (const row of q) for (const v of row) if (v > 0) h -= v * Math.log(v);
  return h;
}

/** Σ_n Σ_k q_nk · table_nk (entries with q = 0 skipped, so −∞ never meets 0), float64. @category Testing */
export function expectedUnder(q: readonly (readonly number[])[], table: readonly (readonly number[])[]): number {
  let s = 0;
  q.forEach((row, n) => row.forEach((v, k) => {
    if (v > 0) s += v * ((table[n] as readonly number[])[k] as number);
  }));
  return s;
}

/**
 * Largest discrepancy between two Gaussian-mixture statistics, each entry
 * divided by its natural scale from Cauchy–Schwarz: n_k by max(n_k, 1);
 * s1_ki by sqrt(n_k·s2_kii); s2_kij by sqrt(s2_kii·s2_kjj) (plus a tiny floor).
 * A float32 accumulation over N rows errs by at most ≈ N·2⁻²⁴ in these units.
 * `perm` compares component j of `a` with component perm[j] of `b`.
 * @category Testing
 */
export function gmmStatsDiscrepancy(a: GmmStats, b: GmmStats, perm?: readonly number[]): number {
  if (a.k !== b.k || a.d !== b.d) return Number.POSITIVE_INFINITY;
  const { k, d } = a;
  let worst = 0;
  const upd = (x: number, y: number, scale: number): void => {
    const e = Math.abs(x - y) / Math.max(scale, 1e-300);
    worst = Number.isNaN(e) ? Number.POSITIVE_INFINITY : Math.max(worst, e);
  };
  for (let c = 0; c < k; c++) {
    const cb = perm === undefined ? c : (perm[c] as number);
    const n = Math.max(Math.abs(a.n[c] as number), Math.abs(b.n[cb] as number));
    upd(a.n[c] as number, b.n[cb] as number, Math.max(n, 1));
    const diag = (i: number): number => Math.max(Math.abs(a.s2[c * d * d + i * d + i] as number), Math.abs(b.s2[cb * d * d + i * d + i] as number));
    for (let i = 0; i < d; i++) {
      upd(a.s1[c * d + i] as number, b.s1[cb * d + i] as number, Math.sqrt(Math.max(n, 1e-30) * diag(i)) + 1e-30);
      for (let j = 0; j < d; j++) {
        upd(a.s2[c * d * d + i * d + j] as number, b.s2[cb * d * d + i * d + j] as number, Math.sqrt(diag(i) * diag(j)) + 1e-30);
      }
    }
  }
  return worst;
}

/**
 * Largest discrepancy between two parameter sets in natural units: weights
 * absolutely, means in standard deviations of `expected`'s component
 * (|Δμ_i| / sqrt(Σ_ii)), covariances relative to sqrt(Σ_ii Σ_jj).
 * `perm` compares component j of `actual` with component perm[j] of `expected`.
 * @category Testing
 */
export function gmmParamsDiscrepancy(actual: GmmParams, expected: GmmParams, perm?: readonly number[]): number {
  const k = expected.weights.length;
  if (actual.weights.length !== k) return Number.POSITIVE_INFINITY;
  let worst = 0;
  const upd = (e: number): void => {
    worst = Number.isNaN(e) ? Number.POSITIVE_INFINITY : Math.max(worst, e);
  };
  for (let j = 0; j < k; j++) {
    const c = perm === undefined ? j : (perm[j] as number);
    upd(Math.abs((actual.weights[j] as number) - (expected.weights[c] as number)));
    const cov = expected.covariances[c] as number[][];
    const sd = (i: number): number => Math.sqrt((cov[i] as number[])[i] as number);
    (expected.means[c] as number[]).forEach((m, i) => upd(Math.abs(((actual.means[j] as number[])[i] as number) - m) / sd(i)));
    cov.forEach((row, i) => row.forEach((v, l) => upd(Math.abs((((actual.covariances[j] as number[][])[i] as number[])[l] as number) - v) / (sd(i) * sd(l)))));
  }
  return worst;
}
