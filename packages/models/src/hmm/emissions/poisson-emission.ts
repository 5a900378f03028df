/**
 * Poisson emissions: independent Poisson counts per column given the state.
 * @module
 */
import { emError, logGamma, type Rng, type StatsAlgebra } from '@emlab/core';
import type { EmissionBlock, EmissionInit, HmmEmission, ObservationMatrix } from '../hmm-types.js';
import { kmeansLabels, windowAverage } from '../internal/kmeans.js';

/** Parameters of Poisson emissions. @category Hidden Markov models */
export interface PoissonEmissionParams {
  readonly type: 'poisson';
  /** `[K][D]` rates λ_kd ≥ 0 (0: the state only emits 0 in that column). */
  readonly rates: number[][];
}

/** Statistics of Poisson emissions. @category Hidden Markov models */
export interface PoissonEmissionStats {
  /** `[K·D]` Σ_t w_tk over steps where column d is observed. */
  readonly n: Float64Array;
  /** `[K·D]` Σ_t w_tk x_td over observed cells. */
  readonly s: Float64Array;
  /** Σ_t Σ_k w_tk Σ_d log x_td! over observed cells (the θ-free constant of E log p). */
  readonly logFactorial: number;
}

/** Prepared Poisson observations. @category Hidden Markov models */
export interface PoissonPrepared {
  readonly x: ObservationMatrix;
  /** `[rows·cols]` log x! (NaN where missing). */
  readonly logFactorial: Float64Array;
  /** `[cols]` mean of the observed counts of each column. */
  readonly means: Float64Array;
}

const poissonAlgebra: StatsAlgebra<PoissonEmissionStats> = {
  zero: (like) => ({ n: new Float64Array(like.n.length), s: new Float64Array(like.s.length), logFactorial: 0 }),
  add: (a, b) => ({ n: a.n.map((v, i) => v + (b.n[i] as number)), s: a.s.map((v, i) => v + (b.s[i] as number)), logFactorial: a.logFactorial + b.logFactorial }),
  scale: (a, c) => ({ n: a.n.map((v) => v * c), s: a.s.map((v) => v * c), logFactorial: a.logFactorial * c }),
};

/** One Poisson(λ) draw: inversion by sequential search, in pieces of rate ≤ 30 (a sum of Poissons is Poisson). @category Hidden Markov models */
export function poissonDraw(rate: number, rng: Rng): number {
  let total = 0;
  let left = rate;
  while (left > 0) {
    const l = Math.min(left, 30);
    left -= l;
    let p = Math.exp(-l);
    let cdf = p;
    const u = rng.uniform();
    let x = 0;
    while (u > cdf && p > 0) {
      x++;
      p *= l / x;
      cdf += p;
    }
    total += x;
  }
  return total;
}

/** Column means of the observed cells. */
function columnMeans(x: ObservationMatrix): Float64Array {
  const sum = new Float64Array(x.cols);
  const n = new Float64Array(x.cols);
  for (let r = 0; r < x.rows; r++) {
    for (let c = 0; c < x.cols; c++) {
      const v = x.values[r * x.cols + c] as number;
      if (Number.isNaN(v)) continue;
      sum[c] = (sum[c] as number) + v;
      n[c] = (n[c] as number) + 1;
    }
  }
  return sum.map((v, c) => ((n[c] as number) > 0 ? v / (n[c] as number) : 0));
}

/**
 * Poisson emissions: p(x_t | z_t = k) = Π_d Poisson(x_td; λ_kd) over the observed cells (a missing
 * cell drops its factor, a fully missing step contributes 0). The M-step is λ_kd = Σ w x / Σ w over
 * observed cells (a state that saw no observed cell of a column keeps its rate). Parameter letter:
 * `l` (rates). Initialization: `kmeans` (k-means on the counts, missing cells at the column mean;
 * cluster means as rates) or `random` (column means times uniform factors in [0.5, 1.5]); both floor
 * rates at 10⁻³ of the column mean so no state starts unable to emit a count.
 *
 * @example
 * ```ts
 * const model = hiddenMarkovModel({ nStates: 3, emission: 'poisson' });
 * ```
 * @category Hidden Markov models
 */
export function poissonEmission(): HmmEmission<PoissonEmissionParams, PoissonEmissionStats, PoissonPrepared> {
  return {
    type: 'poisson',
    options: {},
    letters: 'l',
    initMethods: ['kmeans', 'random'],
    stats: poissonAlgebra,
    validate(x) {
      for (let i = 0; i < x.values.length; i++) {
        const v = x.values[i] as number;
        if (Number.isNaN(v)) continue;
        if (!(Number.isSafeInteger(v) && v >= 0)) {
          throw emError('INVALID_DATA', ['data', Math.floor(i / x.cols), i % x.cols], v, 'must be a count (an integer >= 0) for Poisson emissions', 'pass counts, or mark the cell missing (NaN)');
        }
      }
    },
    prepare(x) {
      const logFactorial = new Float64Array(x.values.length);
      for (let i = 0; i < x.values.length; i++) {
        const v = x.values[i] as number;
        logFactorial[i] = Number.isNaN(v) ? Number.NaN : logGamma(v + 1);
      }
      return { x, logFactorial, means: columnMeans(x) };
    },
    init(prep, k, method, rng, layout): EmissionInit<PoissonEmissionParams> {
      const { x, means } = prep;
      const d = x.cols;
      const floor = (c: number): number => 1e-3 * (means[c] as number) + 1e-12;
      if (method === 'random') {
        return { params: { type: 'poisson', rates: Array.from({ length: k }, () => Array.from({ length: d }, (_, c) => Math.max((means[c] as number) * (0.5 + rng.uniform()), floor(c)))) } };
      }
      const filled = x.values.map((v, i) => (Number.isNaN(v) ? (means[i % d] as number) : v));
      const labels = kmeansLabels(windowAverage(filled, x.rows, d, layout.offsets, layout.window), x.rows, d, k, rng.child('kmeans'));
      const sum = new Float64Array(k * d);
      const cnt = new Float64Array(k * d);
      for (let r = 0; r < x.rows; r++) {
        const z = labels[r] as number;
        for (let c = 0; c < d; c++) {
          const v = x.values[r * d + c] as number;
          if (Number.isNaN(v)) continue;
          sum[z * d + c] = (sum[z * d + c] as number) + v;
          cnt[z * d + c] = (cnt[z * d + c] as number) + 1;
        }
      }
      for (let r = 0; r < x.rows; r++) {
        let observed = false;
        for (let c = 0; c < d && !observed; c++) observed = !Number.isNaN(x.values[r * d + c] as number);
        if (!observed && layout.window <= 1) labels[r] = -1;
      }
      const rates = Array.from({ length: k }, (_, z) => Array.from({ length: d }, (_, c) => Math.max((cnt[z * d + c] as number) > 0 ? (sum[z * d + c] as number) / (cnt[z * d + c] as number) : (means[c] as number), floor(c))));
      return { params: { type: 'poisson', rates }, labels };
    },
    block(prep, params, r0, rows): EmissionBlock<PoissonEmissionStats> {
      const { x, logFactorial } = prep;
      const d = x.cols;
      const k = params.rates.length;
      const logRate = Float64Array.from(params.rates.flat(), Math.log);
      const rate = Float64Array.from(params.rates.flat());
      return {
        logDensity() {
          const out = new Float64Array(rows * k);
          for (let t = 0; t < rows; t++) {
            const base = (r0 + t) * d;
            for (let s = 0; s < k; s++) {
              let v = 0;
              for (let c = 0; c < d; c++) {
                const xv = x.values[base + c] as number;
                if (Number.isNaN(xv)) continue;
                const l = rate[s * d + c] as number;
                v += (xv > 0 ? xv * (logRate[s * d + c] as number) : 0) - l - (logFactorial[base + c] as number);
              }
              out[t * k + s] = v;
            }
          }
          return out;
        },
        stats(w) {
          const n = new Float64Array(k * d);
          const s = new Float64Array(k * d);
          let lf = 0;
          for (let t = 0; t < rows; t++) {
            const base = (r0 + t) * d;
            for (let z = 0; z < k; z++) {
              const wt = w[t * k + z] as number;
              if (wt === 0) continue;
              for (let c = 0; c < d; c++) {
                const xv = x.values[base + c] as number;
                if (Number.isNaN(xv)) continue;
                n[z * d + c] = (n[z * d + c] as number) + wt;
                s[z * d + c] = (s[z * d + c] as number) + wt * xv;
                lf += wt * (logFactorial[base + c] as number);
              }
            }
          }
          return { n, s, logFactorial: lf };
        },
      };
    },
    mStep(stats, prev, ctx) {
      if (!ctx.update.includes('l')) return { params: prev };
      const d = (prev.rates[0] as number[]).length;
      const rates = prev.rates.map((row, z) => row.map((old, c) => {
        const n = stats.n[z * d + c] as number;
        return n > 0 ? (stats.s[z * d + c] as number) / n : old;
      }));
      return { params: { type: 'poisson', rates } };
    },
    expectedLogLikelihood(stats, params) {
      const d = (params.rates[0] as number[]).length;
      let total = -stats.logFactorial;
      params.rates.forEach((row, z) => row.forEach((l, c) => {
        const s = stats.s[z * d + c] as number;
        const n = stats.n[z * d + c] as number;
        if (s > 0) total += s * Math.log(l);
        if (n > 0) total -= n * l;
      }));
      return total;
    },
    nParameters: (params, update) => (update.includes('l') ? params.rates.length * (params.rates[0] as number[]).length : 0),
    validateParams(params: unknown, k: number, x?: ObservationMatrix): asserts params is PoissonEmissionParams {
      const p = params as Partial<PoissonEmissionParams> | null;
      const bad = (path: (string | number)[], value: unknown, problem: string, remedy: string): never => {
        throw emError('INVALID_PARAMS', ['params', 'emission', ...path], value, problem, remedy);
      };
      if (typeof p !== 'object' || p === null || p.type !== 'poisson') bad(['type'], p?.type, "must be 'poisson' for Poisson emissions", 'pass parameters of a Poisson-emission HMM');
      const rates = (p as Partial<PoissonEmissionParams>).rates;
      if (!Array.isArray(rates) || rates.length !== k) bad(['rates'], rates, `must have one row per state (K = ${k})`, `pass ${k} rows of rates`);
      const d = x?.cols ?? (Array.isArray(rates?.[0]) ? (rates[0] as number[]).length : 0);
      if (d < 1) bad(['rates', 0], rates?.[0], 'must be a non-empty array of rates', 'pass one rate per column');
      (rates as number[][]).forEach((row, z) => {
        if (!Array.isArray(row) || row.length !== d) bad(['rates', z], row, `must have one rate per column (${d})`, 'pass one rate per data column');
        row.forEach((v, c) => {
          if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(['rates', z, c], v, 'must be a finite number >= 0', 'pass non-negative rates');
        });
      });
    },
    sample: (params, state, rng) => Float64Array.from(params.rates[state] as number[], (l) => poissonDraw(l, rng)),
  };
}
