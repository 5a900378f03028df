/**
 * A `chain` latent structure from given tables, and brute-force enumeration
 * of every state path, for unit tests of chain E-steps without any model: the
 * structure's statistics are the weighted marginals and counts themselves, so
 * a test sees exactly what the E-step chose.
 * @module
 */
import fc from 'fast-check';
import type { ChainChunk, ChainStructure, FloatArray, StatsAlgebra } from '@emlab/core';

/** A small HMM as plain tables (log-space; −∞ allowed). @category Testing */
export interface ChainTables {
  readonly nStates: number;
  /** `[S]` sequence lengths (each ≥ 1). */
  readonly lengths: readonly number[];
  /** `[K]` log initial probabilities. */
  readonly logInitial: readonly number[];
  /** `[K][K]` log transition probabilities (row = from-state). */
  readonly logTransition: readonly (readonly number[])[];
  /** `[ΣT][K]` emission log-densities (a row of zeros: a missing step). */
  readonly logEmission: readonly (readonly number[])[];
  /** `[S]` sequence weights (default all 1). */
  readonly weights?: readonly number[];
  /** `[ΣT][K]` entropy of a further latent part per step and state (`ChainChunk.latentEntropy`). */
  readonly latentEntropy?: readonly (readonly number[])[];
}

/** Statistics of {@link chainTableStructure}: what the E-step handed to `stats`, placed at global rows. @category Testing */
export interface ChainTableStats {
  /** `[ΣT × K]` weighted marginals w_s γ_t(k) (zeros for blocks not yet seen). */
  readonly gamma: Float64Array;
  /** `[K × K]` weighted transition counts. */
  readonly transitions: Float64Array;
  /** `[K]` weighted initial counts. */
  readonly initial: Float64Array;
  /** Number of `sampleStats` calls (Monte Carlo E-steps) among the parts added. */
  readonly sampled: number;
}

const addArrays = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v + (b[i] as number));

/** zero / add / scale of {@link ChainTableStats}. @category Testing */
export const chainTableStatsAlgebra: StatsAlgebra<ChainTableStats> = {
  zero: (like) => ({ gamma: new Float64Array(like.gamma.length), transitions: new Float64Array(like.transitions.length), initial: new Float64Array(like.initial.length), sampled: 0 }),
  add: (a, b) => ({ gamma: addArrays(a.gamma, b.gamma), transitions: addArrays(a.transitions, b.transitions), initial: addArrays(a.initial, b.initial), sampled: a.sampled + b.sampled }),
  scale: (a, c) => ({ gamma: a.gamma.map((v) => v * c), transitions: a.transitions.map((v) => v * c), initial: a.initial.map((v) => v * c), sampled: a.sampled * c }),
};

/**
 * A `ChainStructure` serving `tables` in blocks of `blockSequences` whole sequences (emission
 * tables in float64, or float32 with `precision`); `stats` records what it is given. No tensors.
 * @category Testing
 */
export function chainTableStructure(tables: ChainTables, blockSequences = 2, options: { readonly precision?: 'float32' | 'float64' } = {}): ChainStructure<ChainTableStats> {
  const precision = options.precision ?? 'float64';
  const k = tables.nStates;
  const nRows = tables.lengths.reduce((a, b) => a + b, 0);
  const logInitial = Float64Array.from(tables.logInitial);
  const logTransition = Float64Array.from(tables.logTransition.flat());
  const chunks: ChainChunk<ChainTableStats>[] = [];
  let rowStart = 0;
  for (let start = 0; start < tables.lengths.length; start += blockSequences) {
    const lengths = Int32Array.from(tables.lengths.slice(start, start + blockSequences));
    const rows = lengths.reduce((a, b) => a + b, 0);
    const r0 = rowStart;
    const flat = precision === 'float32' ? new Float32Array(rows * k) : new Float64Array(rows * k);
    for (let r = 0; r < rows; r++) for (let c = 0; c < k; c++) flat[r * k + c] = (tables.logEmission[r0 + r] as readonly number[])[c] as number;
    const record = (g: FloatArray, trans: Float64Array, init: Float64Array, sampled: number): ChainTableStats => {
      const gamma = new Float64Array(nRows * k);
      for (let i = 0; i < rows * k; i++) gamma[r0 * k + i] = g[i] as number;
      return { gamma, transitions: Float64Array.from(trans), initial: Float64Array.from(init), sampled };
    };
    const h = tables.latentEntropy;
    chunks.push({
      start,
      rowStart: r0,
      lengths,
      ...(tables.weights === undefined ? {} : { weights: Float64Array.from(tables.weights.slice(start, start + blockSequences)) }),
      logInitial,
      logTransition,
      logEmission: () => flat.slice(),
      stats: (g, trans, init) => record(g, trans, init, 0),
      ...(h === undefined
        ? {}
        : {
            latentEntropy: () => Float64Array.from(h.slice(r0, r0 + rows).flat()),
            sampleStats: (g: FloatArray, trans: Float64Array, init: Float64Array) => record(g, trans, init, 1),
          }),
    });
    rowStart += rows;
  }
  return { kind: 'chain', precision, nStates: k, nSequences: tables.lengths.length, nRows, algebra: chainTableStatsAlgebra, chunks: () => chunks };
}

/** Per-sequence results of {@link bruteForceChain}, from enumerating all K^T paths. @category Testing */
export interface ChainBruteForce {
  /** `[S]` log p(x_s). */
  readonly logLikelihoods: number[];
  /** `[ΣT][K]` posterior marginals (zero rows for impossible sequences). */
  readonly gamma: number[][];
  /** `[S][K][K]` expected transition counts per sequence (unweighted). */
  readonly transitions: number[][][];
  /** `[S][K]` posterior of the first state. */
  readonly initial: number[][];
  /** `[S]` H(q_s) of the posterior over paths. */
  readonly entropies: number[];
  /** `[S]` E_q[log p(x_s, z)]. */
  readonly expectedLogJoints: number[];
  /** `[S]` max_z log p(x_s, z). */
  readonly bestLogJoints: number[];
  /** `[S]` every path attaining the maximum (each `[T]`). */
  readonly bestPaths: number[][][];
}

/** log p(x_s, z) of one path (−∞ allowed), terms added in time order. @category Testing */
export function pathLogJoint(t: ChainTables, rowStart: number, path: readonly number[]): number {
  let v = (t.logInitial[path[0] as number] as number) + ((t.logEmission[rowStart] as readonly number[])[path[0] as number] as number);
  for (let i = 1; i < path.length; i++) {
    v += ((t.logTransition[path[i - 1] as number] as readonly number[])[path[i] as number] as number) + ((t.logEmission[rowStart + i] as readonly number[])[path[i] as number] as number);
  }
  return v;
}

/**
 * Enumerates every state path of every sequence (K^T each: keep K^T small) in float64 and returns the
 * exact posterior quantities and the best paths.
 * @category Testing
 */
export function bruteForceChain(t: ChainTables): ChainBruteForce {
  const k = t.nStates;
  const out: ChainBruteForce = { logLikelihoods: [], gamma: [], transitions: [], initial: [], entropies: [], expectedLogJoints: [], bestLogJoints: [], bestPaths: [] };
  let rowStart = 0;
  for (const len of t.lengths) {
    const paths: { path: number[]; lj: number }[] = [];
    const path = new Array<number>(len).fill(0);
    for (let n = 0; n < k ** len; n++) {
      let rest = n;
      for (let i = len - 1; i >= 0; i--) {
        path[i] = rest % k;
        rest = Math.floor(rest / k);
      }
      paths.push({ path: [...path], lj: pathLogJoint(t, rowStart, path) });
    }
    const m = Math.max(...paths.map((p) => p.lj));
    const gamma = Array.from({ length: len }, () => new Array<number>(k).fill(0));
    const trans = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    const init = new Array<number>(k).fill(0);
    if (m === Number.NEGATIVE_INFINITY) {
      out.logLikelihoods.push(m);
      out.entropies.push(0);
      out.expectedLogJoints.push(m);
      out.bestPaths.push([]);
    } else {
      let total = 0;
      for (const p of paths) total += Math.exp(p.lj - m);
      const logP = m + Math.log(total);
      let entropy = 0;
      let elj = 0;
      for (const p of paths) {
        const q = Math.exp(p.lj - logP);
        if (q === 0) continue;
        entropy -= q * (p.lj - logP);
        elj += q * p.lj;
        (init as number[])[p.path[0] as number] = (init[p.path[0] as number] as number) + q;
        for (let i = 0; i < len; i++) (gamma[i] as number[])[p.path[i] as number] = ((gamma[i] as number[])[p.path[i] as number] as number) + q;
        for (let i = 1; i < len; i++) (trans[p.path[i - 1] as number] as number[])[p.path[i] as number] = ((trans[p.path[i - 1] as number] as number[])[p.path[i] as number] as number) + q;
      }
      out.logLikelihoods.push(logP);
      out.entropies.push(entropy);
      out.expectedLogJoints.push(elj);
      out.bestPaths.push(paths.filter((p) => p.lj === m).map((p) => p.path));
    }
    out.bestLogJoints.push(m);
    out.gamma.push(...gamma);
    out.transitions.push(trans);
    out.initial.push(init);
    rowStart += len;
  }
  return out;
}

/** Log of a probability row with structural zeros (−∞). */
const logRow = (p: readonly number[]): number[] => {
  const s = p.reduce((a, b) => a + b, 0);
  return p.map((v) => (v === 0 ? Number.NEGATIVE_INFINITY : Math.log(v / s)));
};

const probabilityRow = (k: number): fc.Arbitrary<number[]> =>
  fc
    .array(fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: fc.double({ min: 0.05, max: 1, noNaN: true }) }), { minLength: k, maxLength: k })
    .filter((r) => r.some((v) => v > 0))
    .map(logRow);

const emissionRow = (k: number): fc.Arbitrary<number[]> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(new Array<number>(k).fill(0)) },
    { weight: 6, arbitrary: fc.array(fc.oneof({ weight: 1, arbitrary: fc.constant(Number.NEGATIVE_INFINITY) }, { weight: 7, arbitrary: fc.double({ min: -8, max: 2, noNaN: true }) }), { minLength: k, maxLength: k }) },
  );

/**
 * Small random HMMs for brute-force checks (K ≤ 3, T ≤ 5, S ≤ 4: at most 243 paths per sequence):
 * structural zeros in the initial distribution and transitions, emission rows that are missing (all 0)
 * or in [−8, 2] with occasional −∞, sequence weights 0, 1, 2 or fractional, and with `withEntropy` a
 * latent-entropy table in [0, 3].
 * @category Testing
 */
export const chainTablesArb = (withEntropy = false): fc.Arbitrary<ChainTables> =>
  fc
    .record({ k: fc.integer({ min: 1, max: 3 }), lengths: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }) })
    .chain(({ k, lengths }) => {
      const rows = lengths.reduce((a, b) => a + b, 0);
      return fc.record({
        nStates: fc.constant(k),
        lengths: fc.constant(lengths),
        logInitial: probabilityRow(k),
        logTransition: fc.array(probabilityRow(k), { minLength: k, maxLength: k }),
        logEmission: fc.array(emissionRow(k), { minLength: rows, maxLength: rows }),
        weights: fc.array(fc.oneof(fc.constant(1), fc.constant(0), fc.constant(2), fc.double({ min: 0.1, max: 3, noNaN: true })), { minLength: lengths.length, maxLength: lengths.length }),
        latentEntropy: withEntropy ? fc.array(fc.array(fc.double({ min: 0, max: 3, noNaN: true }), { minLength: k, maxLength: k }), { minLength: rows, maxLength: rows }) : fc.constant(undefined),
      });
    })
    .map((t) => (t.latentEntropy === undefined ? { ...t, latentEntropy: undefined } : t) as ChainTables);

