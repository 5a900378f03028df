/**
 * A K-component Poisson mixture written as a plug-in model in plain JavaScript (structure kind
 * `finite`, float64 host arrays, no tensors), with every optional hook the acceleration, online-EM
 * and standard-error code uses: `parametrization` (K−1 logits, log rates), `logLikelihood`,
 * `louis` (natural coordinates π_1…π_{K−1}, λ_1…λ_K) and `simulate`.
 */
import { emError, LouisAccumulator, logGamma, type FiniteChunk, type FiniteStructure, type LouisTerms, type Model, type Parametrization, type PreparedData, type Rng, type StatsAlgebra } from '@emlab/core';

export interface PoissonParams {
  readonly weights: number[];
  readonly rates: number[];
}
export interface PoissonStats {
  /** Σ_n w_nk, Σ_n w_nk x_n, Σ_n w_nk log x_n!. */
  readonly n: Float64Array;
  readonly sx: Float64Array;
  readonly slf: Float64Array;
}
interface Prepared extends PreparedData {
  readonly x: Float64Array;
  readonly lf: Float64Array;
}
export type PoissonData = readonly number[];

const algebra: StatsAlgebra<PoissonStats> = {
  zero: (l) => ({ n: new Float64Array(l.n.length), sx: new Float64Array(l.n.length), slf: new Float64Array(l.n.length) }),
  add: (a, b) => ({ n: a.n.map((v, i) => v + (b.n[i] as number)), sx: a.sx.map((v, i) => v + (b.sx[i] as number)), slf: a.slf.map((v, i) => v + (b.slf[i] as number)) }),
  scale: (a, c) => ({ n: a.n.map((v) => v * c), sx: a.sx.map((v) => v * c), slf: a.slf.map((v) => v * c) }),
};

/** Natural coordinates (π_1 … π_{K−1}, λ_1 … λ_K). */
export function poissonNatural(k: number): Parametrization<PoissonParams> {
  return {
    description: 'poisson natural: K−1 weights, K rates',
    dim: 2 * k - 1,
    toVector: (p) => Float64Array.from([...p.weights.slice(0, k - 1), ...p.rates]),
    fromVector: (v) => {
      const w = Array.from(v).slice(0, k - 1);
      return { weights: [...w, 1 - w.reduce((a, b) => a + b, 0)], rates: Array.from(v).slice(k - 1) };
    },
  };
}

/**
 * `rawRates`: the parametrization holds the rates themselves instead of their logarithms, so an
 * extrapolated θ can hold a negative rate (an invalid point: tests of rejected extrapolations).
 */
export function poissonMixture(k: number, options: { readonly rawRates?: boolean } = {}): Model<PoissonData, PoissonParams, PoissonStats, Prepared> {
  const raw = options.rawRates ?? false;
  const logJointOf = (p: Prepared, params: PoissonParams): Float64Array => {
    const t = new Float64Array(p.nRows * k);
    for (let r = 0; r < p.nRows; r++) {
      const x = p.x[r] as number;
      for (let c = 0; c < k; c++) {
        const lam = params.rates[c] as number;
        t[r * k + c] = Math.log(params.weights[c] as number) + x * Math.log(lam) - lam - (p.lf[r] as number);
      }
    }
    return t;
  };
  const model: Model<PoissonData, PoissonParams, PoissonStats, Prepared> = {
    name: 'poisson-mixture',
    structureKind: 'finite',
    options: { k },
    initMethods: ['spread'],
    stats: algebra,
    validate(data) {
      if (!Array.isArray(data) || data.length < k) throw emError('INVALID_DATA', ['data'], data, `must be an array of at least ${k} counts`, 'pass counts');
      data.forEach((x, i) => {
        if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) throw emError('INVALID_DATA', ['data', i], x, 'must be a count', 'pass non-negative integers');
      });
    },
    validateParams(params: unknown): asserts params is PoissonParams {
      const p = params as PoissonParams;
      if (typeof p !== 'object' || p === null || !Array.isArray(p.weights) || !Array.isArray(p.rates) || p.weights.length !== k || p.rates.length !== k) throw emError('INVALID_PARAMS', ['params'], params, 'must be { weights, rates }', 'pass K weights and rates');
      p.rates.forEach((l, i) => {
        if (!Number.isFinite(l) || l <= 0) throw emError('INVALID_PARAMS', ['params', 'rates', i], l, 'must be a positive number', 'pass positive rates');
      });
      p.weights.forEach((w, i) => {
        if (!Number.isFinite(w) || w < 0) throw emError('INVALID_PARAMS', ['params', 'weights', i], w, 'must be >= 0', 'pass weights');
      });
    },
    prepare(data, ctx) {
      const x = Float64Array.from(data);
      return { nRows: x.length, totalWeight: ctx.weights?.reduce((a, b) => a + b, 0) ?? x.length, x, lf: x.map((v) => logGamma(v + 1)), dispose() {} };
    },
    init(p) {
      const sorted = Array.from(p.x).sort((a, b) => a - b);
      return { weights: new Array<number>(k).fill(1 / k), rates: Array.from({ length: k }, (_, c) => Math.max(0.5, sorted[Math.floor(((c + 0.5) / k) * sorted.length)] as number)) };
    },
    structure(p, params): FiniteStructure<PoissonStats> {
      const table = logJointOf(p, params);
      const chunk: FiniteChunk<PoissonStats> = {
        rows: p.nRows,
        start: 0,
        logJoint: () => table,
        stats: (w) => {
          const s = algebra.zero({ n: new Float64Array(k), sx: new Float64Array(k), slf: new Float64Array(k) });
          for (let r = 0; r < p.nRows; r++) {
            for (let c = 0; c < k; c++) {
              const q = w[r * k + c] as number;
              s.n[c] = (s.n[c] as number) + q;
              s.sx[c] = (s.sx[c] as number) + q * (p.x[r] as number);
              s.slf[c] = (s.slf[c] as number) + q * (p.lf[r] as number);
            }
          }
          return s;
        },
      };
      return { kind: 'finite', precision: 'float64', nRows: p.nRows, nComponents: k, algebra, chunks: () => [chunk] };
    },
    mStep(s) {
      const total = s.n.reduce((a, b) => a + b, 0);
      return { params: { weights: Array.from(s.n, (v) => v / total), rates: Array.from(s.sx, (v, c) => v / (s.n[c] as number)) } };
    },
    expectedLogJoint(s, params) {
      let t = 0;
      for (let c = 0; c < k; c++) t += (s.n[c] as number) * (Math.log(params.weights[c] as number) - (params.rates[c] as number)) + (s.sx[c] as number) * Math.log(params.rates[c] as number) - (s.slf[c] as number);
      return t;
    },
    logLikelihood(p, params) {
      const t = logJointOf(p, params);
      let ll = 0;
      for (let r = 0; r < p.nRows; r++) {
        let m = Number.NEGATIVE_INFINITY;
        for (let c = 0; c < k; c++) m = Math.max(m, t[r * k + c] as number);
        let z = 0;
        for (let c = 0; c < k; c++) z += Math.exp((t[r * k + c] as number) - m);
        ll += m + Math.log(z);
      }
      return ll;
    },
    parametrization() {
      return {
        description: raw ? 'poisson: K−1 logits, rates' : 'poisson: K−1 logits, log rates',
        dim: 2 * k - 1,
        toVector: (p) => Float64Array.from([...p.weights.slice(0, k - 1).map((w) => Math.log(w / (p.weights[k - 1] as number))), ...p.rates.map(raw ? (x: number) => x : Math.log)]),
        fromVector: (v) => {
          const e = [...Array.from(v).slice(0, k - 1).map(Math.exp), 1];
          const z = e.reduce((a, b) => a + b, 0);
          return { weights: e.map((x) => x / z), rates: Array.from(v).slice(k - 1).map(raw ? (x: number) => x : Math.exp) };
        },
      };
    },
    louis(p, params): LouisTerms<PoissonParams> {
      const acc = new LouisAccumulator(2 * k - 1);
      const t = logJointOf(p, params);
      const q = new Float64Array(k);
      for (let r = 0; r < p.nRows; r++) {
        let m = Number.NEGATIVE_INFINITY;
        for (let c = 0; c < k; c++) m = Math.max(m, t[r * k + c] as number);
        let z = 0;
        for (let c = 0; c < k; c++) z += (q[c] = Math.exp((t[r * k + c] as number) - m));
        for (let c = 0; c < k; c++) q[c] = (q[c] as number) / z;
        const x = p.x[r] as number;
        acc.addRow(1, q, (c) => {
          const idx = [...Array.from({ length: k - 1 }, (_, j) => j), k - 1 + c];
          const mm = idx.length;
          const score = new Float64Array(mm);
          const hess = new Float64Array(mm * mm);
          const piK = params.weights[k - 1] as number;
          for (let j = 0; j < k - 1; j++) {
            score[j] = (c === j ? 1 / (params.weights[j] as number) : 0) - (c === k - 1 ? 1 / piK : 0);
            for (let jj = 0; jj < k - 1; jj++) hess[j * mm + jj] = (c === j && j === jj ? -1 / (params.weights[j] as number) ** 2 : 0) - (c === k - 1 ? 1 / piK ** 2 : 0);
          }
          const lam = params.rates[c] as number;
          score[mm - 1] = x / lam - 1;
          hess[mm * mm - 1] = -x / (lam * lam);
          return { index: idx, score, hessian: hess };
        });
      }
      return { coordinates: poissonNatural(k), ...acc.result() };
    },
    simulate(params, like, rng: Rng) {
      return like.map(() => {
        const c = rng.categorical(params.weights);
        const l = Math.exp(-(params.rates[c] as number));
        let x = 0;
        let prod = rng.uniform();
        while (prod > l) {
          x++;
          prod *= rng.uniform();
        }
        return x;
      });
    },
  };
  return model;
}
