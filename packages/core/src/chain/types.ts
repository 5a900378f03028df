/**
 * Types shared by the hidden-Markov-model (`chain`) kernels.
 *
 * A {@link ChainBatch} holds S sequences of one HMM with K states: their
 * emission log-densities concatenated in time order, and the initial and
 * transition log-probabilities shared by all sequences. The kernels
 * (`forwardBackward`, `viterbi`, `ffbs`) are pure float64 loops over it.
 *
 * Conventions every kernel keeps:
 *
 * - Row `r` of a `[ΣT, K]` array is time step `r − offset_s` of the sequence
 *   `s` it falls in (`offset_s = Σ_{s' < s} lengths[s']`).
 * - −∞ is a structural zero (an impossible initial state, transition or
 *   emission); its statistics are exact zeros and 0 · (−∞) = 0 in every
 *   expectation.
 * - A sequence with no path of positive probability (its evidence is
 *   impossible) has log p = −∞, all-zero rows in `gamma` (never NaN) and adds
 *   nothing to the statistics; its paths are filled with −1.
 * - Statistics (counts) and totals are weighted by `weights`; per-row outputs
 *   (`gamma`, one-hot rows, state frequencies) and per-sequence values are not.
 *
 * @module
 */

/**
 * S sequences of one HMM with K states, concatenated in time order.
 *
 * @example
 * ```ts
 * const batch: ChainBatch = {
 *   nStates: 2,
 *   lengths: Int32Array.of(3, 1),
 *   logEmission: new Float64Array(4 * 2), // 0 everywhere: all four steps missing
 *   logInitial: Float64Array.of(Math.log(0.5), Math.log(0.5)),
 *   logTransition: Float64Array.of(Math.log(0.9), Math.log(0.1), -Infinity, 0),
 * };
 * ```
 * @category Chain
 */
export interface ChainBatch {
  /** K, the number of hidden states (integer ≥ 1). */
  readonly nStates: number;
  /** `[S]` sequence lengths, each ≥ 1; they sum to ΣT, the rows of `logEmission`. */
  readonly lengths: Int32Array;
  /**
   * `[ΣT, K]` row-major: log p(x_t | z_t = k) with every constant; 0 in every
   * column for a fully missing step, −∞ for an impossible emission.
   */
  readonly logEmission: Float64Array;
  /** `[K]` log p(z_1 = k) (−∞ allowed). */
  readonly logInitial: Float64Array;
  /** `[K, K]` row-major, row = from-state: log p(z_{t+1} = j | z_t = i) (−∞ = structural zero). */
  readonly logTransition: Float64Array;
  /** `[S]` frequency weights (finite, ≥ 0); statistics and totals are multiplied by them. Default all 1. */
  readonly weights?: Float64Array;
}

/**
 * How `forwardBackward` keeps its recursions in range.
 *
 * - `'scaled'`: probabilities normalized at every step (Rabiner 1989), each
 *   emission row shifted by its maximum over the states the chain can be in;
 *   the fast default. A filtered probability below ~1e-308 is lost (becomes 0),
 *   so a smoothed marginal that later evidence lifts from such a state comes
 *   out 0 (in the tests, 3e-21 comes out as 0); use `'log'` when that matters.
 * - `'log'`: log-sum-exp recursions, normalized at every step; never under-
 *   or overflows (a filtered probability below 1e-308 is kept as its log), ~4× slower.
 * - `'unscaled'`: the textbook products; underflows on long sequences (a
 *   sequence whose p(x) underflows to 0 is reported as impossible). For tests.
 *
 * @category Chain
 */
export type ForwardBackwardVariant = 'scaled' | 'log' | 'unscaled';

/** Caller-owned output buffers for `forwardBackward` (overwritten). @category Chain */
export interface ForwardBackwardBuffers {
  /** `[ΣT, K]` for `gamma`. */
  readonly gamma?: Float64Array;
  /** `[S]` for `logLikelihoods`. */
  readonly logLikelihoods?: Float64Array;
}

/** Options of `forwardBackward`. @category Chain */
export interface ForwardBackwardOptions {
  /** Default `'scaled'`. */
  readonly variant?: ForwardBackwardVariant;
  /** Only the forward pass: log-likelihoods, no posteriors (no `[ΣT, K]` buffer is touched). Default false. */
  readonly likelihoodOnly?: boolean;
  /** Output buffers to write into instead of allocating. */
  readonly out?: ForwardBackwardBuffers;
}

/** The log-likelihood part of a forward pass. @category Chain */
export interface ChainLikelihood {
  /** `[S]` log p(x_s) per sequence (unweighted; −∞ for impossible evidence). */
  readonly logLikelihoods: Float64Array;
  /** Σ_s w_s log p(x_s) (a sequence with w_s = 0 adds 0, even when impossible). */
  readonly logLikelihood: number;
}

/** What `forwardBackward` returns: the exact posterior's marginals and statistics. @category Chain */
export interface ForwardBackwardResult extends ChainLikelihood {
  /** `[ΣT, K]` posterior marginals γ_t(k) = p(z_t = k | x_s) (unweighted; zero rows for impossible sequences). */
  readonly gamma: Float64Array;
  /** `[K, K]` Σ_s w_s Σ_t ξ_{s,t}(i, j), ξ_t(i, j) = p(z_t = i, z_{t+1} = j | x_s). */
  readonly transitionCounts: Float64Array;
  /** `[K]` Σ_s w_s γ_{s,1}(k). */
  readonly initialCounts: Float64Array;
  /** Σ_s w_s E_q[log p(x_s, z_s)] under the posterior q (−∞ if a weighted sequence is impossible). */
  readonly expectedLogJoint: number;
  /** Σ_s w_s H(q_s) = logLikelihood − expectedLogJoint, summed over possible sequences. */
  readonly entropy: number;
}

/** Caller-owned output buffers for `viterbi` (overwritten). @category Chain */
export interface ViterbiBuffers {
  /** `[ΣT]` for `path`. */
  readonly path?: Int32Array;
  /** `[ΣT, K]` for `gamma`. */
  readonly gamma?: Float64Array;
}

/** Options of `viterbi`. @category Chain */
export interface ViterbiOptions {
  /** Output buffers to write into instead of allocating. */
  readonly out?: ViterbiBuffers;
}

/** What `viterbi` returns: the best path and its hard statistics. @category Chain */
export interface ViterbiResult {
  /** `[ΣT]` the most probable state path of every sequence, concatenated (−1 for impossible sequences). */
  readonly path: Int32Array;
  /** `[S]` log p(x_s, ẑ_s) of the best path (unweighted; −∞ for impossible sequences). */
  readonly logJoints: Float64Array;
  /** Σ_s w_s log p(x_s, ẑ_s): the hard-EM (classification) objective. */
  readonly logJoint: number;
  /** `[ΣT, K]` one-hot rows of the path (unweighted; zero rows for impossible sequences). */
  readonly gamma: Float64Array;
  /** `[K, K]` Σ_s w_s · (number of i → j transitions on ẑ_s). */
  readonly transitionCounts: Float64Array;
  /** `[K]` Σ_s w_s · 1[ẑ_{s,1} = k]. */
  readonly initialCounts: Float64Array;
}

/** Caller-owned output buffers for `ffbs` (overwritten). @category Chain */
export interface FfbsBuffers {
  /** `[nPaths, ΣT]` for `paths`. */
  readonly paths?: Int32Array;
  /** `[ΣT, K]` for `stateFrequencies`. */
  readonly stateFrequencies?: Float64Array;
}

/** Options of `ffbs`. @category Chain */
export interface FfbsOptions {
  /**
   * Global index of the batch's first sequence (default 0): sequence s draws
   * from `rng.child('sequence', sequenceOffset + s)`, so splitting a data set
   * into batches with the right offsets gives the same draws.
   */
  readonly sequenceOffset?: number;
  /** Keep the drawn paths (default true); false returns `paths: null` and needs no `[nPaths, ΣT]` buffer. */
  readonly keepPaths?: boolean;
  /** Output buffers to write into instead of allocating. */
  readonly out?: FfbsBuffers;
}

/** What `ffbs` returns: posterior draws and their Monte Carlo statistics. @category Chain */
export interface FfbsResult extends ChainLikelihood {
  /** `[nPaths, ΣT]` row p is the p-th draw of every sequence, concatenated (−1 for impossible sequences); null when `keepPaths` is false. */
  readonly paths: Int32Array | null;
  /** `[nPaths, S]` log p(x_s, z_s^{(p)}) of every draw (−∞ for impossible sequences). */
  readonly logJoints: Float64Array;
  /** `[S]` mean over draws of log p(x_s, z_s) (an unbiased estimate of E_q[log p(x_s, z_s)]). */
  readonly logJointMeans: Float64Array;
  /** `[S]` sample variance (denominator nPaths − 1) of log p(x_s, z_s) over draws; NaN when nPaths = 1, 0 for impossible sequences. */
  readonly logJointVariances: Float64Array;
  /** Σ_s w_s · logJointMeans[s]. */
  readonly logJoint: number;
  /** `[ΣT, K]` fraction of draws in state k at each step (unweighted; zero rows for impossible sequences). */
  readonly stateFrequencies: Float64Array;
  /** `[K, K]` Σ_s w_s · (mean over draws of the number of i → j transitions). */
  readonly transitionCounts: Float64Array;
  /** `[K]` Σ_s w_s · (fraction of draws starting in k). */
  readonly initialCounts: Float64Array;
}
