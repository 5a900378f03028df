/**
 * Gauss–Hermite quadrature for the weight e^(−x²):
 * ∫ f(x) e^(−x²) dx ≈ Σ_k w_k f(x_k), exact for polynomials of degree ≤ 2n − 1.
 * @module
 */
import { emError } from '@emlab/core';
import { symmetricTridiagonalEigen } from './symmetric-tridiagonal.js';

/** The largest number of nodes offered. @category GLMM */
export const MAX_GAUSS_HERMITE_NODES = 100;

/** An n-point Gauss–Hermite rule. @category GLMM */
export interface GaussHermiteRule {
  readonly n: number;
  /** `[n]` nodes x_k, ascending, symmetric about 0 (exactly). */
  readonly nodes: Float64Array;
  /** `[n]` weights w_k > 0 (Σ w_k = √π). */
  readonly weights: Float64Array;
  /** `[n]` log w_k, accurate even where w_k is tiny (n = 100: w ≈ 6e-79 at the ends). */
  readonly logWeights: Float64Array;
}

const cache = new Map<number, GaussHermiteRule>();

/**
 * The orthonormal Hermite polynomials at x: returns [p_{n−1}(x), p_n(x), Σ_{k<n} p_k(x)²],
 * with p_0 = π^(−1/4), p_{k+1} = (√2 x p_k − √k p_{k−1}) / √(k+1).
 */
function hermiteRecurrence(n: number, x: number): [number, number, number] {
  let prev = 0;
  let cur = Math.pow(Math.PI, -0.25);
  let sumSq = 0;
  for (let k = 0; k < n; k++) {
    sumSq += cur * cur;
    const next = (Math.SQRT2 * x * cur - Math.sqrt(k) * prev) / Math.sqrt(k + 1);
    prev = cur;
    cur = next;
  }
  return [prev, cur, sumSq];
}

/**
 * The n-point Gauss–Hermite rule, 1 ≤ n ≤ 100, cached per n.
 *
 * Golub–Welsch: the nodes are the eigenvalues of the Jacobi matrix of the
 * Hermite recurrence (zero diagonal, off-diagonal √(k/2), k = 1 … n−1), found
 * by implicit-shift QL and then polished by one Newton step on the
 * orthonormal Hermite polynomial p_n (p_n' = √(2n) p_{n−1}). The weight is
 * √π v_{1k}² with v_k the unit eigenvector; that eigenvector is
 * (p_0(x_k), …, p_{n−1}(x_k)) normalized, so w_k = 1 / Σ_{j<n} p_j(x_k)²,
 * which this evaluates by the three-term recurrence instead of reading it off
 * the QL rotations: the same number, but with full relative accuracy even for
 * the tiny weights at the ends of large rules (the QL first components are
 * only accurate to ε absolutely). Nodes and weights are then symmetrized
 * (x_{n−1−k} = −x_k exactly, the middle node of an odd rule is 0).
 *
 * @throws EmError `INVALID_ARGUMENT` unless n is an integer in [1, 100].
 * @see Golub, G. H. & Welsch, J. H. (1969). Calculation of Gauss quadrature rules. Math. Comp. 23, 221–230.
 * @category GLMM
 */
export function gaussHermite(n: number): GaussHermiteRule {
  if (!Number.isInteger(n) || n < 1 || n > MAX_GAUSS_HERMITE_NODES) {
    throw emError('INVALID_ARGUMENT', ['nQuad'], n, `must be an integer in [1, ${MAX_GAUSS_HERMITE_NODES}]`, 'pass e.g. 25 nodes');
  }
  const hit = cache.get(n);
  if (hit !== undefined) return hit;
  const off = Float64Array.from({ length: n - 1 }, (_, k) => Math.sqrt((k + 1) / 2));
  const { values } = symmetricTridiagonalEigen(new Float64Array(n), off);
  const nodes = new Float64Array(n);
  const logWeights = new Float64Array(n);
  const sqrt2n = Math.sqrt(2 * n);
  for (let k = 0; k < n; k++) {
    let x = values[k]!;
    const [pPrev, pN] = hermiteRecurrence(n, x);
    if (pPrev !== 0) x -= pN / (sqrt2n * pPrev);
    nodes[k] = x;
    logWeights[k] = -Math.log(hermiteRecurrence(n, x)[2]);
  }
  // Symmetrize.
  for (let k = 0; k < n >> 1; k++) {
    const j = n - 1 - k;
    const x = 0.5 * (nodes[j]! - nodes[k]!);
    const lw = 0.5 * (logWeights[j]! + logWeights[k]!);
    nodes[k] = -x;
    nodes[j] = x;
    logWeights[k] = lw;
    logWeights[j] = lw;
  }
  if (n % 2 === 1) nodes[n >> 1] = 0;
  const rule: GaussHermiteRule = { n, nodes, weights: logWeights.map(Math.exp), logWeights };
  cache.set(n, rule);
  return rule;
}
