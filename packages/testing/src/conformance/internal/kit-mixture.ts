/**
 * The kit's own `finite` model: a mixture of diagonal Gaussians on rows with
 * missing entries (NaN), in plain float64 arrays. Given z_n = k the entries
 * are independent, so a missing entry's exact conditional is its component's
 * marginal N(μ_kj, σ²_kj): every block has the continuous-latent hooks
 * (`latentEntropy`, `sampleStats`) that core's block loop must apply for
 * every finite E-step. `checkEStep` fits it with the E-step under test.
 *
 * Statistics per component k and column j: n_k = Σ w_nk, s1_kj = Σ w_nk E[x_nj],
 * s2_kj = Σ w_nk E[x_nj²] (observed entries as they are; missing ones
 * μ_kj and μ_kj² + σ²_kj at the E-step's θ, or a draw with `sampleStats`).
 * @module
 */
import { emError, type FiniteChunk, type FiniteStructure, type MStepResult, type Model, type PreparedData, type Rng, type StatsAlgebra } from '@emlab/core';

/** Parameters: weights `[K]`, means and variances `[K][D]`. */
export interface KitParams {
  readonly weights: number[];
  readonly means: number[][];
  readonly variances: number[][];
}

/** Statistics: n `[K]`, s1 and s2 `[K·D]`. */
export interface KitStats {
  readonly n: number[];
  readonly s1: number[];
  readonly s2: number[];
}

interface KitPrepared extends PreparedData {
  readonly x: Float64Array;
  readonly d: number;
  readonly weights: Float64Array | undefined;
  readonly totalWeight: number;
  /** Per column: the observed variance (the regularization's unit). */
  readonly scale: Float64Array;
}

/** Rows per block (small, so every structure has several blocks). */
const BLOCK = 5;
/**
 * Variance floor relative to the column's observed variance (an exactly maximized regularized
 * objective, see `mStep`): large enough that a component collapsing onto one row keeps its
 * statistics well conditioned in float64.
 */
const REG = 1e-3;
const LOG_2PI = Math.log(2 * Math.PI);

const algebra: StatsAlgebra<KitStats> = {
  zero: (like) => ({ n: like.n.map(() => 0), s1: like.s1.map(() => 0), s2: like.s2.map(() => 0) }),
  add: (a, b) => ({ n: a.n.map((v, i) => v + (b.n[i] as number)), s1: a.s1.map((v, i) => v + (b.s1[i] as number)), s2: a.s2.map((v, i) => v + (b.s2[i] as number)) }),
  scale: (a, c) => ({ n: a.n.map((v) => v * c), s1: a.s1.map((v) => v * c), s2: a.s2.map((v) => v * c) }),
};

/** log N(x; μ, σ²). */
const logNormal = (x: number, mu: number, v: number): number => -0.5 * (LOG_2PI + Math.log(v) + ((x - mu) * (x - mu)) / v);

/**
 * The kit's missing-entry mixture with K components (see the module documentation).
 * @throws EmError `INVALID_ARGUMENT` when K is not an integer >= 1.
 */
export function kitMixture(nComponents: number): Model<number[][], KitParams, KitStats, KitPrepared> {
  if (!Number.isSafeInteger(nComponents) || nComponents < 1) throw emError('INVALID_ARGUMENT', ['kitMixture', 'nComponents'], nComponents, 'must be an integer >= 1', 'pass e.g. 2');
  const k = nComponents;
  const validate = (data: number[][]): void => {
    if (!Array.isArray(data) || data.length === 0 || !data.every((r) => Array.isArray(r))) throw emError('INVALID_DATA', ['data'], data, 'must be a non-empty array of rows', 'pass rows of numbers (NaN = missing)');
    const d = (data[0] as number[]).length;
    if (d < 1) throw emError('INVALID_DATA', ['data', 0], data[0], 'must have at least one entry', 'pass rows of numbers');
    const seen = new Array<number>(d).fill(0);
    data.forEach((row, r) => {
      if (row.length !== d) throw emError('INVALID_DATA', ['data', r], row, `has ${row.length} entries, row 0 has ${d}`, 'give every row the same width');
      row.forEach((v, j) => {
        if (typeof v !== 'number' || v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) throw emError('INVALID_DATA', ['data', r, j], v, 'must be a finite number or NaN (missing)', 'fix the cell');
        if (!Number.isNaN(v)) seen[j] = (seen[j] as number) + 1;
      });
    });
    seen.forEach((n, j) => {
      if (n < 2) throw emError('INVALID_DATA', ['data', 'column', j], n, 'has fewer than 2 observed values', 'drop the column or pass more rows');
    });
    if (data.length < k) throw emError('INVALID_DATA', ['data'], data.length, `has fewer rows than nComponents = ${k}`, 'pass more rows');
  };
  const validateParams = (params: unknown, data?: number[][]): asserts params is KitParams => {
    const p = params as Partial<KitParams> | null;
    const bad = (path: (string | number)[], v: unknown, problem: string): never => {
      throw emError('INVALID_PARAMS', ['params', ...path], v, problem, 'pass parameters of a previous fit of this model');
    };
    if (typeof p !== 'object' || p === null) bad([], p, 'must be { weights, means, variances }');
    const w = p?.weights;
    if (!Array.isArray(w) || w.length !== k) bad(['weights'], w, `must be ${k} numbers`);
    let sum = 0;
    (w as number[]).forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(['weights', i], v, 'must be a finite number >= 0');
      sum += v;
    });
    if (Math.abs(sum - 1) > 1e-9) bad(['weights'], sum, 'must sum to 1');
    const d = data?.[0]?.length ?? (Array.isArray(p?.means?.[0]) ? (p?.means?.[0] as number[]).length : 0);
    for (const key of ['means', 'variances'] as const) {
      const m = p?.[key];
      if (!Array.isArray(m) || m.length !== k) bad([key], m, `must be ${k} rows`);
      (m as number[][]).forEach((row, c) => {
        if (!Array.isArray(row) || row.length !== d || d < 1) bad([key, c], row, `must have ${d} entries`);
        row.forEach((v, j) => {
          if (typeof v !== 'number' || !Number.isFinite(v) || (key === 'variances' && !(v > 0))) bad([key, c, j], v, key === 'variances' ? 'must be a finite number > 0' : 'must be a finite number');
        });
      });
    }
  };
  const structure = (pd: KitPrepared, params: KitParams): FiniteStructure<KitStats> => {
    const { d, x } = pd;
    const n = pd.x.length / d;
    const chunks: FiniteChunk<KitStats>[] = [];
    const logW = params.weights.map((w) => Math.log(w));
    for (let start = 0; start < n; start += BLOCK) {
      const rows = Math.min(BLOCK, n - start);
      const cell = (r: number, j: number): number => x[(start + r) * d + j] as number;
      const moments = (weights: ArrayLike<number>, draw?: Rng): KitStats => {
        const out = { n: new Array<number>(k).fill(0), s1: new Array<number>(k * d).fill(0), s2: new Array<number>(k * d).fill(0) };
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < k; c++) {
            const w = weights[r * k + c] as number;
            if (w === 0) continue;
            out.n[c] = (out.n[c] as number) + w;
            for (let j = 0; j < d; j++) {
              const v = cell(r, j);
              const mu = (params.means[c] as number[])[j] as number;
              const s2 = (params.variances[c] as number[])[j] as number;
              let m1: number;
              let m2: number;
              if (!Number.isNaN(v)) {
                m1 = v;
                m2 = v * v;
              } else if (draw !== undefined) {
                m1 = mu + Math.sqrt(s2) * draw.normal();
                m2 = m1 * m1;
              } else {
                m1 = mu;
                m2 = mu * mu + s2;
              }
              out.s1[c * d + j] = (out.s1[c * d + j] as number) + w * m1;
              out.s2[c * d + j] = (out.s2[c * d + j] as number) + w * m2;
            }
          }
        }
        return out;
      };
      chunks.push({
        rows,
        start,
        ...(pd.weights === undefined ? {} : { weights: pd.weights.subarray(start, start + rows) }),
        logJoint: () => {
          const t = new Float64Array(rows * k);
          for (let r = 0; r < rows; r++) {
            for (let c = 0; c < k; c++) {
              let s = logW[c] as number;
              for (let j = 0; j < d; j++) {
                const v = cell(r, j);
                if (!Number.isNaN(v)) s += logNormal(v, (params.means[c] as number[])[j] as number, (params.variances[c] as number[])[j] as number);
              }
              t[r * k + c] = s;
            }
          }
          return t;
        },
        latentEntropy: () => {
          const h = new Float64Array(rows * k);
          for (let r = 0; r < rows; r++) {
            for (let c = 0; c < k; c++) {
              let s = 0;
              for (let j = 0; j < d; j++) if (Number.isNaN(cell(r, j))) s += 0.5 * (LOG_2PI + 1 + Math.log((params.variances[c] as number[])[j] as number));
              h[r * k + c] = s;
            }
          }
          return h;
        },
        latentVariance: () => {
          // A drawn Gaussian entry's log density is −(log 2πσ² + χ²_1)/2: variance 1/2 per missing entry.
          const v = new Float64Array(rows * k);
          for (let r = 0; r < rows; r++) {
            let m = 0;
            for (let j = 0; j < d; j++) if (Number.isNaN(cell(r, j))) m++;
            v.fill(m / 2, r * k, (r + 1) * k);
          }
          return v;
        },
        stats: (w) => moments(w),
        sampleStats: (w, rng) => moments(w, rng),
      });
    }
    return { kind: 'finite', precision: 'float64', nRows: n, nComponents: k, algebra, chunks: () => chunks };
  };
  const expectedLogJoint = (s: KitStats, p: KitParams): number => {
    const d = (p.means[0] as number[]).length;
    let total = 0;
    for (let c = 0; c < k; c++) {
      const n = s.n[c] as number;
      if (n === 0) continue;
      total += n * Math.log(p.weights[c] as number);
      for (let j = 0; j < d; j++) {
        const mu = (p.means[c] as number[])[j] as number;
        const v = (p.variances[c] as number[])[j] as number;
        total += -0.5 * n * (LOG_2PI + Math.log(v)) - ((s.s2[c * d + j] as number) - 2 * mu * (s.s1[c * d + j] as number) + n * mu * mu) / (2 * v);
      }
    }
    return total;
  };
  return {
    name: 'kit-missing-mixture',
    structureKind: 'finite',
    options: { nComponents: k },
    initMethods: ['random'],
    stats: algebra,
    acceptsWeights: true,
    validate,
    validateParams,
    prepare(data, ctx) {
      const d = (data[0] as number[]).length;
      const n = data.length;
      if (ctx.weights !== undefined && ctx.weights.length !== n) {
        throw emError('INVALID_ARGUMENT', ['options', 'weights'], ctx.weights, `has ${ctx.weights.length} entries but the data has ${n} rows`, 'pass one weight per row');
      }
      const x = new Float64Array(n * d);
      data.forEach((row, r) => row.forEach((v, j) => (x[r * d + j] = v)));
      const weights = ctx.weights === undefined ? undefined : Float64Array.from(ctx.weights);
      // The observed (weighted) variance per column: the unit of the variance floor.
      const scale = new Float64Array(d);
      for (let j = 0; j < d; j++) {
        let m = 0;
        let m2 = 0;
        let c = 0;
        for (let r = 0; r < n; r++) {
          const v = x[r * d + j] as number;
          const w = weights === undefined ? 1 : (weights[r] as number);
          if (Number.isNaN(v) || w === 0) continue;
          c += w;
          m += w * v;
          m2 += w * v * v;
        }
        scale[j] = Math.max(m2 / c - (m / c) * (m / c), 1e-12);
      }
      const totalWeight = weights === undefined ? n : weights.reduce((a, b) => a + b, 0);
      return { nRows: n, x, d, weights, totalWeight, scale, dispose() {} };
    },
    init(pd, method, rng) {
      if (method !== 'random') throw emError('INVALID_ARGUMENT', ['options', 'init'], method, 'is not an initialization method of kit-missing-mixture', "use 'random'");
      const { d, x } = pd;
      const n = x.length / d;
      const means: number[][] = [];
      for (let c = 0; c < k; c++) {
        const r = rng.int(n);
        // A missing entry starts at a jittered column scale around 0 + the first observed value of the column.
        means.push(Array.from({ length: d }, (_, j) => {
          const v = x[r * d + j] as number;
          if (!Number.isNaN(v)) return v;
          for (let s = 0; s < n; s++) if (!Number.isNaN(x[s * d + j] as number)) return (x[s * d + j] as number) + Math.sqrt(pd.scale[j] as number) * rng.normal();
          return 0;
        }));
      }
      return { weights: new Array<number>(k).fill(1 / k), means, variances: Array.from({ length: k }, () => Array.from(pd.scale)) };
    },
    structure: (pd, params) => structure(pd, params),
    /**
     * argmax of E_q log p(x, z | θ) − Σ_kj n_k r_j / (2σ²_kj) (r_j = REG · the column's variance):
     * π = n/W, μ = s1/n, σ² = s2/n − μ² + r. A component with n_k = 0 keeps μ and σ² (weight 0).
     * boundSlack: that objective cannot fall, so E log p falls by at most Σ n_k r_j/2 · (1/σ²_old − 1/σ²_new).
     */
    mStep(s, prev, ctx): MStepResult<KitParams> {
      const d = (prev.means[0] as number[]).length;
      const total = s.n.reduce((a, b) => a + b, 0);
      let slack = 0;
      const means = prev.means.map((m) => m.slice());
      const variances = prev.variances.map((v) => v.slice());
      for (let c = 0; c < k; c++) {
        const n = s.n[c] as number;
        if (!(n > 0)) continue;
        for (let j = 0; j < d; j++) {
          const mu = (s.s1[c * d + j] as number) / n;
          const r = REG * (ctx.prepared.scale[j] as number);
          const v = Math.max((s.s2[c * d + j] as number) / n - mu * mu, 0) + r;
          slack += ((n * r) / 2) * (1 / ((prev.variances[c] as number[])[j] as number) - 1 / v);
          (means[c] as number[])[j] = mu;
          (variances[c] as number[])[j] = v;
        }
      }
      return { params: { weights: s.n.map((n) => n / total), means, variances }, boundSlack: Math.max(0, slack) };
    },
    expectedLogJoint,
    logLikelihood(pd, params) {
      let total = 0;
      for (const chunk of structure(pd, params).chunks()) {
        const t = chunk.logJoint();
        for (let r = 0; r < chunk.rows; r++) {
          const w = chunk.weights === undefined ? 1 : (chunk.weights[r] as number);
          if (w === 0) continue;
          let m = Number.NEGATIVE_INFINITY;
          for (let c = 0; c < k; c++) m = Math.max(m, t[r * k + c] as number);
          let e = 0;
          for (let c = 0; c < k; c++) e += Math.exp((t[r * k + c] as number) - m);
          total += w * (m + Math.log(e));
        }
      }
      return total;
    },
    nParameters: (p) => k - 1 + 2 * k * (p.means[0] as number[]).length,
    /** The magnitudes summed in `expectedLogJoint`: Σ_kj (s2 + 2|μ s1| + n μ²) / (2σ²), large for a nearly collapsed component. */
    roundoffScale(s, p) {
      const d = (p.means[0] as number[]).length;
      let total = 0;
      for (let c = 0; c < k; c++) {
        const n = s.n[c] as number;
        for (let j = 0; j < d; j++) {
          const mu = (p.means[c] as number[])[j] as number;
          total += (Math.abs(s.s2[c * d + j] as number) + 2 * Math.abs(mu * (s.s1[c * d + j] as number)) + n * mu * mu) / (2 * ((p.variances[c] as number[])[j] as number));
        }
      }
      return total;
    },
  };
}
