/**
 * Hidden-Markov-model types: data, parameters, statistics, and the emission
 * interface every emission family (built-in or user-written) implements.
 * @module
 */
import type { FloatArray, MStepResult, Rng, StatsAlgebra } from '@emlab/core';
import type { DenseMatrix } from '../gmm/gmm-types.js';

/**
 * Observations of one or many sequences, rows in time order (sequences concatenated), NaN for a
 * missing cell:
 * - `{ x, lengths }`: `x` rows `[ΣT][D]` (or a dense row-major matrix), `lengths` `[S]` sequence lengths (each ≥ 1, summing to ΣT);
 * - a dense matrix `{ values, rows, cols }` with an optional `lengths` field (what the CSV reader returns);
 * - `number[][]`: one sequence.
 * Without `lengths` the rows are one sequence.
 * @category Hidden Markov models
 */
export type HmmData =
  | { readonly x: readonly (readonly number[])[] | DenseMatrix; readonly lengths?: ArrayLike<number> }
  | (DenseMatrix & { readonly lengths?: ArrayLike<number> })
  | readonly (readonly number[])[];

/** Observations as a float64 row-major matrix `[rows × cols]` (NaN missing). @category Hidden Markov models */
export interface ObservationMatrix {
  readonly values: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/** Parameters every emission family's parameters carry: its `type` name. @category Hidden Markov models */
export interface EmissionParamsBase {
  readonly type: string;
}

/**
 * HMM parameters, plain JSON (probabilities, not logs: a structural zero is 0).
 * @typeParam E - the emission family's parameters.
 * @category Hidden Markov models
 */
export interface HmmParams<E extends EmissionParamsBase = EmissionParamsBase> {
  /** `[K]` p(z_1 = k), summing to 1. */
  readonly initial: number[];
  /** `[K][K]` p(z_{t+1} = j | z_t = i), row i summing to 1 (row = from-state). */
  readonly transition: number[][];
  /** The emission family's parameters (`type` names the family). */
  readonly emission: E;
}

/**
 * Sufficient statistics of an HMM, float64, additive over sequences.
 * @typeParam S - the emission family's statistics.
 * @category Hidden Markov models
 */
export interface HmmStats<S = unknown> {
  /** `[K]` Σ_s w_s q(z_{s,1} = k). */
  readonly initial: Float64Array;
  /** `[K × K]` Σ_s w_s Σ_t q(z_t = i, z_{t+1} = j). */
  readonly transitions: Float64Array;
  /** `[K]` Σ_s w_s Σ_t q(z_t = k): the expected occupancy of each state. */
  readonly occupancy: Float64Array;
  readonly emission: S;
}

/**
 * One block of consecutive rows `[rowStart, rowStart + rows)` of an emission family at parameters θ_e.
 * @category Hidden Markov models
 */
export interface EmissionBlock<S> {
  /**
   * `[rows × K]` log p(x_t | z_t = k, θ_e), every constant included: 0 for a fully missing row, the
   * log-density of the observed cells for a partly missing one, −∞ for an impossible observation.
   */
  logDensity(): FloatArray;
  /** Statistics for weights `[rows × K]` (w_tk = w_s q(z_t = k), zero rows allowed). Must not keep the array. */
  stats(weights: FloatArray): S;
  /**
   * `[rows × K]` entropy of a further latent part of step t given z_t = k (missing Gaussian cells,
   * the mixture component of a mixture emission), when the family has one. Absent means 0.
   */
  latentEntropy?(): FloatArray;
  /** Like `stats` with that further part drawn from its exact conditional (sampling E-steps). Absent means `stats`. */
  sampleStats?(weights: FloatArray, rng: Rng): S;
}

/** What an emission family's `init` returns. @category Hidden Markov models */
export interface EmissionInit<P> {
  readonly params: P;
  /** `[rows]` a state per row (−1: none), e.g. k-means labels: the HMM starts its initial and transition probabilities from them. */
  readonly labels?: Int32Array;
}

/** The sequence layout an emission family's `init` may use (e.g. to average features over time). @category Hidden Markov models */
export interface EmissionInitLayout {
  /** `[S + 1]` first row of each sequence, and the number of rows at the end. */
  readonly offsets: Int32Array;
  /** k-means on observations averaged over a centred window of this many steps within each sequence (1: single observations). */
  readonly window: number;
}

/** What an emission family's M-step gets besides the statistics. @category Hidden Markov models */
export interface EmissionMStepContext<PE> {
  /** Stream for reinitializing an empty state. */
  readonly rng: Rng;
  readonly prepared: PE;
  /** Its parameter letters the M-step updates (a subset of `letters`; the others stay at `prev`). */
  readonly update: string;
}

/**
 * An emission family: the interface for user emissions. Everything is float64 host code on plain
 * arrays; the HMM (`hiddenMarkovModel`) owns the chain, the loop and the E-steps.
 *
 * @typeParam P - its parameters (plain JSON with a `type` field).
 * @typeParam S - its sufficient statistics (plain data, additive).
 * @typeParam PE - its prepared observations.
 * Contract: `logDensity` includes every constant and gives 0 for a fully missing step; `stats` is
 * additive over rows and linear in the weights; `mStep` maximizes `expectedLogLikelihood` (which is
 * E_q[log p(x | z)] computed from the statistics, every constant included) for the letters in
 * `ctx.update`; a further latent part of a step (a mixture component, missing cells) reports its
 * entropy through `latentEntropy`, so the chain E-steps' bounds stay complete.
 *
 * @example
 * ```ts
 * // A complete exponential-emission family is in docs/hmm.md ("User emissions"); use it as
 * const model = hiddenMarkovModel({ nStates: 2, emission: exponential });
 * const result = await fit(model, { x: waitingTimes, lengths }, { init: 'random', nInit: 3 });
 * ```
 * @category Hidden Markov models
 */
export interface HmmEmission<P extends EmissionParamsBase = EmissionParamsBase, S = unknown, PE = unknown> {
  /** Family name (the `type` of its parameters), e.g. `'gaussian'`. */
  readonly type: string;
  /** Its options as plain JSON (recorded in results). */
  readonly options: Readonly<Record<string, unknown>>;
  /** One letter per parameter group for the HMM's `params` / `initParams` (e.g. `'mc'`: means, covariances); `'e'` selects them all. */
  readonly letters: string;
  /** Initialization methods it supports (the HMM's `init` names; the first is the default). */
  readonly initMethods: readonly string[];
  readonly stats: StatsAlgebra<S>;
  /** Checks the observations (values, column count); throws `INVALID_DATA` naming row and column. */
  validate(x: ObservationMatrix): void;
  /** Prepares the observations once per fit (or per prediction call). */
  prepare(x: ObservationMatrix): PE;
  /** Initial parameters for K states by a named method, from a seeded stream. */
  init(prepared: PE, nStates: number, method: string, rng: Rng, layout: EmissionInitLayout): EmissionInit<P>;
  /** Rows `[rowStart, rowStart + rows)` at `params`. */
  block(prepared: PE, params: P, rowStart: number, rows: number): EmissionBlock<S>;
  /** argmax over its parameters of E_q[log p(x | z, θ_e)] from statistics (letters not in `ctx.update` stay at `prev`). */
  mStep(stats: S, prev: P, ctx: EmissionMStepContext<PE>): MStepResult<P>;
  /** E_q[log p(x | z, θ_e)] from statistics, every constant included (float64). */
  expectedLogLikelihood(stats: S, params: P): number;
  /** Free parameters among the letters in `update` (BIC/AIC). */
  nParameters(params: P, update: string): number;
  /**
   * Checks parameters for K states (and, given observations, that they fit them: width, categories);
   * throws `INVALID_PARAMS` (or `INVALID_DATA` for observations the parameters cannot score).
   */
  validateParams(params: unknown, nStates: number, x?: ObservationMatrix): asserts params is P;
  /** One observation row `[D]` drawn given state `state`. */
  sample(params: P, state: number, rng: Rng): Float64Array;
}
