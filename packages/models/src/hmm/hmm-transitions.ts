/**
 * The Markov-chain part of an HMM as small pure float64 functions: masks of
 * structural zeros, M-steps of the initial distribution and the transition
 * matrix (maximum likelihood or MAP with Dirichlet pseudo-counts), the
 * stationary distribution and the generalized M-step when the initial
 * distribution is tied to it, Dirichlet log-densities, parameter counts.
 * @module
 */
import { logGamma } from '@emlab/core';

/** How the initial distribution is handled. @category Hidden Markov models */
export type InitialMode = 'free' | 'fixed' | 'stationary';

/** Transition topologies. `left-right`: state i moves to i or i + 1 only (and every sequence starts in state 0). @category Hidden Markov models */
export type Topology = 'ergodic' | 'left-right';

/** Structural zeros of the chain: 1 where a probability may be positive. @category Hidden Markov models */
export interface ChainMasks {
  /** `[K]`. */
  readonly initial: Uint8Array;
  /** `[K × K]` row-major. */
  readonly transition: Uint8Array;
}

/**
 * The masks of a topology, intersected with the positive entries of given starting probabilities.
 * @category Hidden Markov models
 */
export function chainMasks(k: number, topology: Topology, initialProbs?: readonly number[], transitionMatrix?: readonly (readonly number[])[]): ChainMasks {
  const initial = new Uint8Array(k);
  const transition = new Uint8Array(k * k);
  for (let i = 0; i < k; i++) {
    initial[i] = topology === 'left-right' && i > 0 ? 0 : 1;
    if (initialProbs !== undefined && !((initialProbs[i] as number) > 0)) initial[i] = 0;
    for (let j = 0; j < k; j++) {
      let allowed = topology === 'ergodic' || j === i || j === i + 1;
      if (transitionMatrix !== undefined && !(((transitionMatrix[i] as readonly number[])[j] as number) > 0)) allowed = false;
      transition[i * k + j] = allowed ? 1 : 0;
    }
  }
  return { initial, transition };
}

/**
 * Maximizes Σ_j (c_j + a·m_j) log p_j over distributions p on the mask m: p_j ∝ c_j + a for allowed j.
 * A row with nothing to go on (all counts and pseudo-counts 0) keeps `prev`.
 * @param counts - expected counts, `[n]` starting at `offset`.
 * @category Hidden Markov models
 */
export function dirichletMode(counts: ArrayLike<number>, mask: ArrayLike<number>, pseudoCount: number, prev: readonly number[], offset = 0): number[] {
  const n = prev.length;
  let total = 0;
  for (let j = 0; j < n; j++) if (mask[offset + j]) total += (counts[offset + j] as number) + pseudoCount;
  if (!(total > 0)) return [...prev];
  const out = new Array<number>(n);
  for (let j = 0; j < n; j++) out[j] = mask[offset + j] ? ((counts[offset + j] as number) + pseudoCount) / total : 0;
  return out;
}

/** Row-wise {@link dirichletMode} of a `[K × K]` count matrix. @category Hidden Markov models */
export function transitionMode(counts: Float64Array, mask: Uint8Array, pseudoCount: number, prev: readonly (readonly number[])[]): number[][] {
  return prev.map((row, i) => dirichletMode(counts, mask, pseudoCount, [...row], i * row.length));
}

/** Σ_j c_j log p_j with 0 · log p = 0 (−∞ when c_j > 0 = p_j). @category Hidden Markov models */
export function weightedLogSum(counts: ArrayLike<number>, p: ArrayLike<number>, offset = 0): number {
  let s = 0;
  for (let j = 0; j < p.length; j++) {
    const c = counts[offset + j] as number;
    if (c > 0) s += c * Math.log(p[j] as number);
  }
  return s;
}

/**
 * log Dir(p | α) with α_j = 1 + a on the mask (entries off the mask are outside the support and
 * left out): log Γ(Σα) − Σ log Γ(α_j) + Σ (α_j − 1) log p_j, every constant included.
 * @category Hidden Markov models
 */
export function dirichletLogDensity(p: readonly number[], mask: ArrayLike<number>, pseudoCount: number, offset = 0): number {
  let m = 0;
  let s = 0;
  for (let j = 0; j < p.length; j++) {
    if (!mask[offset + j]) continue;
    m++;
    if (pseudoCount > 0) s += pseudoCount * Math.log(p[j] as number);
  }
  if (m <= 1) return 0; // a single allowed entry is fixed at 1: no density
  return logGamma(m * (1 + pseudoCount)) - m * logGamma(1 + pseudoCount) + s;
}

/**
 * The stationary distribution π = π A of a transition matrix, from the rows of the lazy chain's
 * power ((I + A)/2)^(2^n) by repeated squaring, rows renormalized after every squaring (averaged
 * over rows, i.e. from a uniform start, which also defines it for reducible chains). Exact to
 * roundoff for irreducible chains; 64 squarings reach 2⁶⁴ steps, enough for any chain whose
 * second eigenvalue is below 1 − 1e-15.
 * @category Hidden Markov models
 */
export function stationaryDistribution(a: readonly (readonly number[])[]): number[] {
  const k = a.length;
  let m = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) m[i * k + j] = 0.5 * ((a[i] as readonly number[])[j] as number) + (i === j ? 0.5 : 0);
  const next = new Float64Array(k * k);
  for (let it = 0; it < 64; it++) {
    let change = 0;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let r = 0; r < k; r++) s += (m[i * k + r] as number) * (m[r * k + j] as number);
        next[i * k + j] = s;
        change = Math.max(change, Math.abs(s - (m[i * k + j] as number)));
      }
    }
    // Renormalize the rows: without it roundoff in a row sum doubles with every squaring.
    for (let i = 0; i < k; i++) {
      let sum = 0;
      for (let j = 0; j < k; j++) sum += next[i * k + j] as number;
      for (let j = 0; j < k; j++) next[i * k + j] = (next[i * k + j] as number) / sum;
    }
    m = Float64Array.from(next);
    if (change <= 1e-16) break;
  }
  const pi = new Array<number>(k).fill(0);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) pi[j] = (pi[j] as number) + (m[i * k + j] as number) / k;
  const total = pi.reduce((x, y) => x + y, 0);
  return pi.map((v) => v / total);
}

/** Σ_k n_k log π_k(A) + Σ_ij (c_ij + a·m_ij) log A_ij: the objective of the stationary M-step. */
function stationaryObjective(initialCounts: Float64Array, counts: Float64Array, mask: Uint8Array, pseudoCount: number, a: readonly (readonly number[])[]): number {
  const k = a.length;
  let f = weightedLogSum(initialCounts, stationaryDistribution(a));
  for (let i = 0; i < k; i++) {
    const row = a[i] as readonly number[];
    for (let j = 0; j < k; j++) {
      const c = (counts[i * k + j] as number) + (mask[i * k + j] ? pseudoCount : 0);
      if (c > 0) f += c * Math.log(row[j] as number);
    }
  }
  return f;
}

/**
 * The generalized M-step of a transition matrix whose stationary distribution is the initial
 * distribution: maximizing Σ_k n_k log π_k(A) + Σ_ij (c_ij + a) log A_ij has no closed form, so the
 * step moves from `prev` towards the transition counts' mode A* along A(α) = (1 − α) A_prev + α A*,
 * taking the first α in 1, ½, ¼, … 2⁻³⁰ that does not lower the objective (else `prev`): the
 * objective, hence L(q, θ), never decreases (a GEM step; Dempster, Laird & Rubin 1977, §3).
 * @returns the new matrix and its stationary distribution.
 * @category Hidden Markov models
 */
export function stationaryTransitionStep(initialCounts: Float64Array, counts: Float64Array, mask: Uint8Array, pseudoCount: number, prev: readonly (readonly number[])[]): { transition: number[][]; initial: number[] } {
  const target = transitionMode(counts, mask, pseudoCount, prev);
  const f0 = stationaryObjective(initialCounts, counts, mask, pseudoCount, prev);
  for (let alpha = 1; alpha >= 2 ** -30; alpha /= 2) {
    const a = prev.map((row, i) => row.map((v, j) => (1 - alpha) * v + alpha * ((target[i] as number[])[j] as number)));
    if (stationaryObjective(initialCounts, counts, mask, pseudoCount, a) >= f0) return { transition: a, initial: stationaryDistribution(a) };
  }
  const same = prev.map((row) => [...row]);
  return { transition: same, initial: stationaryDistribution(same) };
}

/** Number of free probabilities of a distribution on a mask (allowed entries − 1, at least 0). @category Hidden Markov models */
export function freeProbabilities(mask: ArrayLike<number>, offset: number, n: number): number {
  let m = 0;
  for (let j = 0; j < n; j++) if (mask[offset + j]) m++;
  return Math.max(0, m - 1);
}

/** A Dirichlet(1) draw on a mask (uniform over the simplex of allowed entries). @category Hidden Markov models */
export function uniformSimplexDraw(mask: ArrayLike<number>, offset: number, n: number, uniform: () => number): number[] {
  const out = new Array<number>(n).fill(0);
  let total = 0;
  for (let j = 0; j < n; j++) {
    if (!mask[offset + j]) continue;
    const e = -Math.log(1 - uniform());
    out[j] = e;
    total += e;
  }
  return out.map((v) => v / total);
}
