/**
 * An HMM's `chain` structure at θ: blocks of whole sequences whose emission
 * tables come from the emission family (float64 host kernels), with the log
 * initial distribution and log transition matrix shared by every block.
 * @module
 */
import type { ChainChunk, ChainStructure, FloatArray, PreparedData, Rng, StatsAlgebra } from '@emlab/core';
import type { SequenceBlock } from './hmm-data.js';
import type { EmissionParamsBase, HmmEmission, HmmParams, HmmStats, ObservationMatrix } from './hmm-types.js';

/** Data prepared for an HMM. @category Hidden Markov models */
export interface HmmPrepared<PE = unknown> extends PreparedData {
  /** ΣT, the number of time steps. */
  readonly nRows: number;
  /** S, the number of sequences. */
  readonly nSequences: number;
  /** `[S]` lengths and `[S + 1]` first rows. */
  readonly lengths: Int32Array;
  readonly offsets: Int32Array;
  /** `[S]` sequence weights, or undefined (all 1). */
  readonly weights: Float64Array | undefined;
  /** W = Σ_s w_s T_s, the weighted number of time steps. */
  readonly totalWeight: number;
  readonly blocks: readonly SequenceBlock[];
  readonly x: ObservationMatrix;
  /** The emission family's prepared observations. */
  readonly emission: PE;
  /** Missing cells, and time steps with every cell missing. */
  readonly nMissingCells: number;
  readonly nStepsAllMissing: number;
}

/** Elementwise sum of two float64 arrays. */
const plus = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v + (b[i] as number));

/** zero / add / scale of {@link HmmStats} over an emission family's algebra. @category Hidden Markov models */
export function hmmStatsAlgebra<S>(emission: StatsAlgebra<S>): StatsAlgebra<HmmStats<S>> {
  return {
    zero: (like) => ({ initial: new Float64Array(like.initial.length), transitions: new Float64Array(like.transitions.length), occupancy: new Float64Array(like.occupancy.length), emission: emission.zero(like.emission) }),
    add: (a, b) => ({ initial: plus(a.initial, b.initial), transitions: plus(a.transitions, b.transitions), occupancy: plus(a.occupancy, b.occupancy), emission: emission.add(a.emission, b.emission) }),
    scale: (a, c) => ({ initial: a.initial.map((v) => v * c), transitions: a.transitions.map((v) => v * c), occupancy: a.occupancy.map((v) => v * c), emission: emission.scale(a.emission, c) }),
  };
}

/** log of probabilities (0 → −∞, a structural zero). */
export function logProbabilities(p: readonly number[]): Float64Array {
  return Float64Array.from(p, (v) => Math.log(v));
}

/** Column sums of a `[rows × K]` table. */
function columnSums(g: FloatArray, k: number): Float64Array {
  const out = new Float64Array(k);
  for (let i = 0; i < g.length; i++) out[i % k] = (out[i % k] as number) + (g[i] as number);
  return out;
}

/**
 * The `chain` structure of an HMM at `params` (float64).
 * @category Hidden Markov models
 */
export function hmmStructure<P extends EmissionParamsBase, S, PE>(prepared: HmmPrepared<PE>, params: HmmParams<P>, emission: HmmEmission<P, S, PE>, algebra: StatsAlgebra<HmmStats<S>>): ChainStructure<HmmStats<S>> {
  const k = params.initial.length;
  const logInitial = logProbabilities(params.initial);
  const logTransition = logProbabilities(params.transition.flat());
  const chunks = prepared.blocks.map((b): ChainChunk<HmmStats<S>> => {
    const eb = emission.block(prepared.emission, params.emission, b.rowStart, b.rows);
    const pack = (emissionStats: S, gamma: FloatArray, trans: Float64Array, init: Float64Array): HmmStats<S> => ({
      initial: Float64Array.from(init),
      transitions: Float64Array.from(trans),
      occupancy: columnSums(gamma, k),
      emission: emissionStats,
    });
    return {
      start: b.start,
      rowStart: b.rowStart,
      lengths: prepared.lengths.subarray(b.start, b.start + b.count),
      ...(prepared.weights === undefined ? {} : { weights: prepared.weights.subarray(b.start, b.start + b.count) }),
      logInitial,
      logTransition,
      logEmission: () => eb.logDensity(),
      stats: (gamma, trans, init) => pack(eb.stats(gamma), gamma, trans, init),
      ...(eb.latentEntropy === undefined ? {} : { latentEntropy: () => (eb.latentEntropy as () => FloatArray)() }),
      ...(eb.sampleStats === undefined
        ? {}
        : { sampleStats: (gamma: FloatArray, trans: Float64Array, init: Float64Array, rng: Rng) => pack((eb.sampleStats as (w: FloatArray, r: Rng) => S)(gamma, rng), gamma, trans, init) }),
    };
  });
  return { kind: 'chain', precision: 'float64', nStates: k, nSequences: prepared.nSequences, nRows: prepared.nRows, algebra, chunks: () => chunks };
}
