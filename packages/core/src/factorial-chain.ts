/**
 * The `factorial-chain` structure kind: M independent hidden Markov chains
 * per sequence that emit one observation together (factorial HMMs,
 * Ghahramani & Jordan 1997), and the product-chain helpers its exact E-step
 * uses.
 *
 * The state of step t is s_t = (s_t^1, …, s_t^M), chain m with K_m states,
 * its own initial distribution π_m and transition matrix A_m; the emission
 * p(x_t | s_t) couples the chains. An E-step reads the per-chain tables and
 * either the joint emission table over all Π_m K_m joint states (exact
 * forward–backward on the product chain: small products only), or, for a
 * q that factorizes over chains, the expected emission log-density of one
 * chain's states given the other chains' marginals (structured mean field).
 * It returns weighted per-chain marginals, counts and the summed second
 * moments of the stacked state indicators, from which the model builds its
 * statistics.
 *
 * @module
 */
import { emError } from './errors.js';
import type { StatsAlgebra } from './stats.js';
import type { LatentStructure } from './structures.js';

/** What a factorial-chain E-step hands to `stats`. @category Structures */
export interface FactorialChainCounts {
  /** Per chain m: `[ΣT × K_m]` w_s q(s_t^m = k). */
  readonly marginals: readonly Float64Array[];
  /**
   * `[ΣK × ΣK]` Σ_s w_s Σ_t E_q[e_t e_tᵀ], e_t the stacked one-hot indicators of all chains' states
   * (offset of chain m = Σ_{l<m} K_l): diagonal blocks diag(Σ w q^m), off-diagonal blocks the pairwise
   * marginals of two chains (products of marginals when q factorizes).
   */
  readonly pairs: Float64Array;
  /** Per chain: `[K_m]` Σ_s w_s q(s_1^m = k). */
  readonly initialCounts: readonly Float64Array[];
  /** Per chain: `[K_m × K_m]` Σ_s w_s Σ_t q(s_t^m = i, s_{t+1}^m = j). */
  readonly transitionCounts: readonly Float64Array[];
}

/**
 * M hidden Markov chains per sequence with a joint emission, at θ (float64 host arrays).
 * @category Structures
 */
export interface FactorialChainStructure<S = unknown> extends LatentStructure {
  readonly kind: 'factorial-chain';
  /** `[M]` K_m, the number of states of each chain. */
  readonly nStates: readonly number[];
  readonly nSequences: number;
  /** ΣT, time steps over all sequences. */
  readonly nRows: number;
  /** `[S]` sequence lengths (each ≥ 1). */
  readonly lengths: Int32Array;
  /** `[S]` sequence weights; absent: all 1. */
  readonly weights?: Float64Array;
  readonly algebra: StatsAlgebra<S>;
  /** Per chain: `[K_m]` log π_m (−∞: structural zero). */
  readonly logInitial: readonly Float64Array[];
  /** Per chain: `[K_m × K_m]` log A_m, row = from-state. */
  readonly logTransition: readonly Float64Array[];
  /**
   * `[ΣT × Π_m K_m]` log p(x_t | s_t = c) for every joint state c (mixed radix, chain 0 most
   * significant: c = ((k_1 · K_2 + k_2) · K_3 + k_3) …), every constant included. For exact inference
   * on the product chain; only sensible when Π_m K_m is small.
   */
  jointLogEmission(): Float64Array;
  /**
   * `[ΣT × K_m]` E[log p(x_t | s_t) | s_t^m = k] with the other chains' states independent with the
   * given unweighted marginals (`marginals[l]` `[ΣT × K_l]`, l ≠ m; `marginals[m]` is ignored), every
   * constant included: the emission of chain m's structured mean-field update, and, summed against
   * q^m, E_q log p(x_t | s_t) for any q that factorizes over chains.
   */
  meanFieldLogEmission(m: number, marginals: readonly Float64Array[]): Float64Array;
  /** Sufficient statistics from the weighted counts (the structure must not keep the arrays). */
  stats(counts: FactorialChainCounts): S;
}

/** Narrows a structure to `factorial-chain`. @category Structures */
export function isFactorialChainStructure(s: LatentStructure): s is FactorialChainStructure {
  return s.kind === 'factorial-chain';
}

/**
 * The product chain of a factorial structure as one HMM over Π_m K_m joint states: log initial
 * Σ_m log π_m(k_m), log transition Σ_m log A_m(k_m, k'_m), the joint emission table. For exact
 * forward–backward (`forwardBackward`) on small products.
 * @throws EmError `INVALID_ARGUMENT` when Π_m K_m exceeds `maxStates`.
 * @category Structures
 */
export function productChain(s: FactorialChainStructure, maxStates = 4096): { nStates: number; digits: Int32Array; logInitial: Float64Array; logTransition: Float64Array } {
  const ks = s.nStates;
  let n = 1;
  for (const k of ks) n *= k;
  if (n > maxStates) {
    throw emError('INVALID_ARGUMENT', ['structure', 'nStates'], [...ks], `give a product chain of ${n} joint states, more than ${maxStates} (exact inference costs O(ΣT · ${n}²))`, "use the structured mean-field E-step ('mean-field') for factorial models this large");
  }
  const m = ks.length;
  const digits = new Int32Array(n * m);
  for (let c = 0; c < n; c++) {
    let rest = c;
    for (let l = m - 1; l >= 0; l--) {
      digits[c * m + l] = rest % (ks[l] as number);
      rest = Math.floor(rest / (ks[l] as number));
    }
  }
  const logInitial = new Float64Array(n);
  const logTransition = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    let v = 0;
    for (let l = 0; l < m; l++) v += (s.logInitial[l] as Float64Array)[digits[c * m + l] as number] as number;
    logInitial[c] = v;
    for (let d = 0; d < n; d++) {
      let t = 0;
      for (let l = 0; l < m; l++) t += (s.logTransition[l] as Float64Array)[(digits[c * m + l] as number) * (ks[l] as number) + (digits[d * m + l] as number)] as number;
      logTransition[c * n + d] = t;
    }
  }
  return { nStates: n, digits, logInitial, logTransition };
}
