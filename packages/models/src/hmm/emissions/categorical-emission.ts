/**
 * Categorical emissions: one or several categorical columns, independent
 * given the state.
 * @module
 */
import { emError, type StatsAlgebra } from '@emlab/core';
import type { EmissionBlock, EmissionInit, HmmEmission, ObservationMatrix } from '../hmm-types.js';
import { kmeansLabels, windowAverage } from '../internal/kmeans.js';
import { uniformSimplexDraw } from '../hmm-transitions.js';

/** Parameters of categorical emissions. @category Hidden Markov models */
export interface CategoricalEmissionParams {
  readonly type: 'categorical';
  /** `[K][D][C_d]` p(x_td = c | z_t = k): a distribution per state and column. */
  readonly probabilities: number[][][];
  /** `[D][C_d]` category labels (as read from a CSV file), when known: code c of column d is `categories[d][c]`. */
  readonly categories?: string[][];
}

/** Statistics of categorical emissions: `[K × ΣC]` expected counts, columns laid out one after the other. @category Hidden Markov models */
export interface CategoricalEmissionStats {
  readonly counts: Float64Array;
}

/** Prepared categorical observations: integer codes, −1 missing. @category Hidden Markov models */
export interface CategoricalPrepared {
  readonly rows: number;
  readonly cols: number;
  /** `[rows·cols]` codes (−1 missing). */
  readonly codes: Int32Array;
  /** `[D]` categories per column. */
  readonly nCategories: Int32Array;
  /** `[D + 1]` offsets of the columns in a row of counts. */
  readonly offsets: Int32Array;
}

/** Options of {@link categoricalEmission}. @category Hidden Markov models */
export interface CategoricalEmissionOptions {
  /** Categories per column (one number for every column, or one per column); default: the largest code seen + 1. */
  readonly nCategories?: readonly number[];
  /** Category labels per column (kept in the parameters; their counts fix `nCategories`). */
  readonly categories?: readonly (readonly string[])[];
}

const categoricalAlgebra: StatsAlgebra<CategoricalEmissionStats> = {
  zero: (like) => ({ counts: new Float64Array(like.counts.length) }),
  add: (a, b) => ({ counts: a.counts.map((v, i) => v + (b.counts[i] as number)) }),
  scale: (a, c) => ({ counts: a.counts.map((v) => v * c) }),
};

/**
 * Categorical emissions: p(x_t | z_t = k) = Π_d B_kd[x_td] over the observed columns; cells are
 * category codes 0 … C_d − 1 (NaN missing), a code outside a column's categories is an error. The
 * M-step normalizes the expected counts (a state that saw no observed cell of a column keeps its
 * distribution). Parameter letter: `e`. Initialization: `kmeans` (k-means on one-hot codes, then the
 * clusters' category frequencies with one pseudo-count each) or `random` (uniform draws on the simplex).
 *
 * @example
 * ```ts
 * // The occasionally dishonest casino: one column of die faces coded 0..5.
 * const model = hiddenMarkovModel({ nStates: 2, emission: 'categorical', nCategories: [6] });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for bad options.
 * @category Hidden Markov models
 */
export function categoricalEmission(options: CategoricalEmissionOptions = {}): HmmEmission<CategoricalEmissionParams, CategoricalEmissionStats, CategoricalPrepared> {
  const labels = options.categories?.map((c) => [...c]);
  const given = options.nCategories ?? labels?.map((c) => c.length);
  if (given !== undefined && (!Array.isArray(given) || given.length === 0 || given.some((c) => !(Number.isSafeInteger(c) && c >= 1)))) {
    throw emError('INVALID_ARGUMENT', ['options', 'nCategories'], given, 'must be a non-empty list of integers >= 1 (categories per column)', 'pass e.g. nCategories: [6] for one column of six categories');
  }
  if (labels !== undefined && options.nCategories !== undefined && labels.some((c, d) => c.length !== categoriesOf(options.nCategories as readonly number[], d, labels.length))) {
    throw emError('INVALID_ARGUMENT', ['options', 'categories'], labels.map((c) => c.length), 'do not match nCategories', 'give as many labels per column as categories, or only one of the two options');
  }
  const nCategoriesFor = (x: ObservationMatrix): Int32Array => {
    if (given !== undefined) {
      if (given.length !== 1 && given.length !== x.cols) {
        throw emError('INVALID_DATA', ['data'], x.cols, `has ${x.cols} columns but nCategories lists ${given.length}`, 'give one category count per column (or one for all)');
      }
      return Int32Array.from({ length: x.cols }, (_, d) => categoriesOf(given, d, x.cols));
    }
    const out = new Int32Array(x.cols).fill(1);
    for (let i = 0; i < x.values.length; i++) {
      const v = x.values[i] as number;
      if (!Number.isNaN(v)) out[i % x.cols] = Math.max(out[i % x.cols] as number, v + 1);
    }
    return out;
  };
  return {
    type: 'categorical',
    options: { ...(options.nCategories === undefined ? {} : { nCategories: [...options.nCategories] }), ...(labels === undefined ? {} : { categories: labels }) },
    letters: 'e',
    initMethods: ['kmeans', 'random'],
    stats: categoricalAlgebra,
    validate(x) {
      checkCodes(x, given === undefined ? undefined : nCategoriesFor(x), labels);
    },
    prepare(x) {
      const nCategories = nCategoriesFor(x);
      const offsets = new Int32Array(x.cols + 1);
      for (let d = 0; d < x.cols; d++) offsets[d + 1] = (offsets[d] as number) + (nCategories[d] as number);
      const codes = Int32Array.from(x.values, (v) => (Number.isNaN(v) ? -1 : v));
      return { rows: x.rows, cols: x.cols, codes, nCategories, offsets };
    },
    init(prep, k, method, rng, layout): EmissionInit<CategoricalEmissionParams> {
      const { rows, cols, codes, nCategories, offsets } = prep;
      const width = offsets[cols] as number;
      const withLabels = (probabilities: number[][][]): CategoricalEmissionParams => ({ type: 'categorical', probabilities, ...(labels === undefined ? {} : { categories: labels.map((c) => [...c]) }) });
      if (method === 'random') {
        return { params: withLabels(Array.from({ length: k }, () => Array.from(nCategories, (c) => uniformSimplexDraw(new Uint8Array(c).fill(1), 0, c, () => rng.uniform())))) };
      }
      const oneHot = new Float64Array(rows * width);
      for (let r = 0; r < rows; r++) for (let d = 0; d < cols; d++) {
        const c = codes[r * cols + d] as number;
        if (c >= 0) oneHot[r * width + (offsets[d] as number) + c] = 1;
      }
      const z = kmeansLabels(windowAverage(oneHot, rows, width, layout.offsets, layout.window), rows, width, k, rng.child('kmeans'));
      const counts = new Float64Array(k * width).fill(1);
      for (let r = 0; r < rows; r++) {
        let observed = false;
        for (let d = 0; d < cols; d++) {
          const c = codes[r * cols + d] as number;
          if (c < 0) continue;
          observed = true;
          counts[(z[r] as number) * width + (offsets[d] as number) + c] = (counts[(z[r] as number) * width + (offsets[d] as number) + c] as number) + 1;
        }
        if (!observed && layout.window <= 1) z[r] = -1;
      }
      return { params: withLabels(normalize(counts, k, nCategories, offsets)), labels: z };
    },
    block(prep, params, r0, rows): EmissionBlock<CategoricalEmissionStats> {
      const { cols, codes, offsets } = prep;
      const k = params.probabilities.length;
      const width = offsets[cols] as number;
      const logB = new Float64Array(k * width);
      params.probabilities.forEach((byCol, s) => byCol.forEach((p, d) => p.forEach((v, c) => (logB[s * width + (offsets[d] as number) + c] = Math.log(v)))));
      return {
        logDensity() {
          const out = new Float64Array(rows * k);
          for (let t = 0; t < rows; t++) {
            for (let d = 0; d < cols; d++) {
              const c = codes[(r0 + t) * cols + d] as number;
              if (c < 0) continue;
              const o = (offsets[d] as number) + c;
              for (let s = 0; s < k; s++) out[t * k + s] = (out[t * k + s] as number) + (logB[s * width + o] as number);
            }
          }
          return out;
        },
        stats(w) {
          const counts = new Float64Array(k * width);
          for (let t = 0; t < rows; t++) {
            for (let d = 0; d < cols; d++) {
              const c = codes[(r0 + t) * cols + d] as number;
              if (c < 0) continue;
              const o = (offsets[d] as number) + c;
              for (let s = 0; s < k; s++) counts[s * width + o] = (counts[s * width + o] as number) + (w[t * k + s] as number);
            }
          }
          return { counts };
        },
      };
    },
    mStep(stats, prev, ctx) {
      if (!ctx.update.includes('e')) return { params: prev };
      const k = prev.probabilities.length;
      const nCategories = Int32Array.from(prev.probabilities[0] as number[][], (p) => p.length);
      const offsets = new Int32Array(nCategories.length + 1);
      for (let d = 0; d < nCategories.length; d++) offsets[d + 1] = (offsets[d] as number) + (nCategories[d] as number);
      const next = normalize(stats.counts, k, nCategories, offsets, prev.probabilities);
      return { params: { ...prev, probabilities: next } };
    },
    expectedLogLikelihood(stats, params) {
      let total = 0;
      let o = 0;
      const width = stats.counts.length / params.probabilities.length;
      params.probabilities.forEach((byCol, s) => {
        o = s * width;
        for (const p of byCol) for (const v of p) {
          const c = stats.counts[o++] as number;
          if (c > 0) total += c * Math.log(v);
        }
      });
      return total;
    },
    nParameters: (params, update) => (update.includes('e') ? params.probabilities.length * (params.probabilities[0] as number[][]).reduce((a, p) => a + p.length - 1, 0) : 0),
    validateParams(params: unknown, k: number, x?: ObservationMatrix): asserts params is CategoricalEmissionParams {
      const p = params as Partial<CategoricalEmissionParams> | null;
      const bad = (path: (string | number)[], value: unknown, problem: string, remedy: string): never => {
        throw emError('INVALID_PARAMS', ['params', 'emission', ...path], value, problem, remedy);
      };
      if (typeof p !== 'object' || p === null || p.type !== 'categorical') bad(['type'], p?.type, "must be 'categorical' for categorical emissions", 'pass parameters of a categorical-emission HMM');
      const probs = (p as Partial<CategoricalEmissionParams>).probabilities;
      if (!Array.isArray(probs) || probs.length !== k) bad(['probabilities'], probs, `must have one entry per state (K = ${k})`, `pass ${k} entries`);
      const first = (probs as number[][][])[0];
      if (!Array.isArray(first) || first.length === 0) bad(['probabilities', 0], first, 'must list one distribution per column', 'pass [K][D][C] probabilities');
      const shape = (first as number[][]).map((c) => (Array.isArray(c) ? c.length : 0));
      (probs as number[][][]).forEach((byCol, s) => {
        if (!Array.isArray(byCol) || byCol.length !== shape.length) bad(['probabilities', s], byCol, `must have ${shape.length} columns like state 0`, 'give every state a distribution per column');
        byCol.forEach((dist, d) => {
          if (!Array.isArray(dist) || dist.length !== shape[d] || dist.length === 0) bad(['probabilities', s, d], dist, `must have ${shape[d]} categories like state 0`, 'give every state the same categories');
          let sum = 0;
          dist.forEach((v, c) => {
            if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(['probabilities', s, d, c], v, 'must be a probability', 'pass numbers in [0, 1]');
            sum += v;
          });
          if (Math.abs(sum - 1) > 1e-9) bad(['probabilities', s, d], sum, 'sum to this, not 1 (within 1e-9)', 'normalize each distribution');
        });
      });
      const cats = (p as Partial<CategoricalEmissionParams>).categories;
      if (cats !== undefined && (!Array.isArray(cats) || cats.length !== shape.length || cats.some((c, d) => !Array.isArray(c) || c.length !== shape[d] || c.some((l) => typeof l !== 'string')))) {
        bad(['categories'], cats, 'must list one label per category of every column', 'pass [D][C] strings or leave categories out');
      }
      if (x !== undefined) {
        if (x.cols !== shape.length) throw emError('INVALID_DATA', ['data'], x.cols, `has ${x.cols} columns but the parameters have ${shape.length}`, 'pass data with the columns the model was fitted on');
        checkCodes(x, Int32Array.from(shape), cats);
      }
    },
    sample: (params, state, rng) => Float64Array.from(params.probabilities[state] as number[][], (p) => rng.categorical(p)),
  };
}

/** C_d from a per-column list or a single count for every column. */
function categoriesOf(given: readonly number[], d: number, cols: number): number {
  return (given.length === 1 && cols >= 1 ? given[0] : given[d]) as number;
}

/** Every observed cell a code 0 … C_d − 1. @throws EmError `INVALID_DATA` naming row and column (an unknown category). */
function checkCodes(x: ObservationMatrix, nCategories: Int32Array | undefined, labels: readonly (readonly string[])[] | undefined): void {
  for (let i = 0; i < x.values.length; i++) {
    const v = x.values[i] as number;
    if (Number.isNaN(v)) continue;
    const d = i % x.cols;
    const bound = nCategories?.[d];
    if (!(Number.isSafeInteger(v) && v >= 0) || (bound !== undefined && v >= bound)) {
      const known = labels?.[d] === undefined ? (bound === undefined ? 'codes 0, 1, 2, …' : `codes 0..${bound - 1}`) : `codes 0..${(labels[d] as readonly string[]).length - 1} (${(labels[d] as readonly string[]).join(', ')})`;
      throw emError('INVALID_DATA', ['data', Math.floor(i / x.cols), d], v, `is an unknown category of column ${d} (known: ${known})`, 'recode the cell to a known category, mark it missing (NaN), or refit with this category');
    }
  }
}

/** Counts `[K × ΣC]` → distributions `[K][D][C_d]` (a column with no count keeps `prev`, else uniform). */
function normalize(counts: Float64Array, k: number, nCategories: Int32Array, offsets: Int32Array, prev?: readonly (readonly (readonly number[])[])[]): number[][][] {
  const width = offsets[nCategories.length] as number;
  return Array.from({ length: k }, (_, s) => Array.from(nCategories, (c, d) => {
    const o = s * width + (offsets[d] as number);
    let total = 0;
    for (let j = 0; j < c; j++) total += counts[o + j] as number;
    if (!(total > 0)) return prev === undefined ? new Array<number>(c).fill(1 / c) : [...((prev[s] as readonly (readonly number[])[])[d] as readonly number[])];
    return Array.from({ length: c }, (_, j) => (counts[o + j] as number) / total);
  }));
}
