/**
 * The multivariate Student-t component family (McLachlan & Peel 2000, ch. 7):
 * with a latent scale per row, u_n | z_n = k ~ Gamma(ν_k/2, rate ν_k/2) and
 * x_n | u_n, z_n = k ~ N(μ_k, Σ_k / u_n), so x_n | z_n = k is t_{ν_k}(μ_k, Σ_k).
 * The scale's exact conditional, Gamma(a, b) with a = (ν + D)/2 and
 * b = (ν + δ)/2 (δ the Mahalanobis distance), enters the statistics through
 * E[u] = a/b and E[log u] = ψ(a) − log b, and H(q) through its entropy, so
 * the bound includes every constant and equals log p(x | θ) after an exact
 * E-step. Σ_k can follow any of mclust's 14 parameterizations.
 * @module
 */
import { cholesky, digamma, emError, invertLower, logDetFromCholesky, logGamma, parseOptions, type FloatArray, type ModelEvent, type OptionSchema, type StatsAlgebra } from '@emlab/core';
import { rereference } from '../../gmm/gmm-math.js';
import type { GmmStats } from '../../gmm/gmm-types.js';
import { COVARIANCE_MODELS, covarianceParameterCount, type CovarianceModel } from '../covariance-models.js';
import type { ComponentFamily, FamilyBlock, FamilyData, FamilyMStepResult } from '../component-family.js';
import { badParams, covarianceRoundoffScale, columnMoments, flatMatrices, nestedMatrices, nestedRows, permuted } from '../internal/arrays.js';
import { gaussianFamilyMStep, validateGaussianColumns, validateGaussianParams } from './gaussian-family.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Parameters: means, scale matrices Σ_k (the covariance is ν/(ν − 2) Σ_k for ν > 2) and degrees of freedom. @category General mixtures */
export interface StudentTFamilyParams {
  readonly covariance: CovarianceModel;
  /** `[K][D]`. */
  readonly means: number[][];
  /** Scale matrices `[K][D][D]`. */
  readonly covariances: number[][][];
  /** ν_k > 0, `[K]`. */
  readonly dof: number[];
}

/** How the degrees of freedom are estimated. @category General mixtures */
export type DofConstraint = 'variable' | 'equal' | number;

/** Options of {@link studentTFamily}. @category General mixtures */
export interface StudentTFamilyOptions {
  /** Its columns (names or 0-based indices); default every column no other family names. */
  readonly columns?: readonly (string | number)[];
  /** mclust's parameterization of the scale matrices (default `'VVV'`). */
  readonly covariance?: CovarianceModel;
  /** `'variable'` (one ν per component, default), `'equal'` (one common ν) or a fixed ν > 0. */
  readonly dof?: DofConstraint;
  /** ν at initialization (default 10). */
  readonly dofStart?: number;
  /** Smallest and largest ν the M-step may return (default 0.5 and 1000). */
  readonly dofMin?: number;
  readonly dofMax?: number;
  /** Ridge of the scale M-step (as the Gaussian family's). Default 0. */
  readonly regCovar?: number;
  /** Tolerance and iteration limit of iterative scale M-steps. Defaults √ε ≈ 1.5e-8 and 10 000. */
  readonly mstepTol?: number;
  readonly mstepMaxIter?: number;
}

/** Option table of {@link studentTFamily} (besides `columns` and `dof`). @category General mixtures */
export const STUDENT_T_FAMILY_OPTIONS = {
  covariance: { type: 'enum', values: COVARIANCE_MODELS, default: 'VVV', description: "mclust's parameterization of the scale matrices" },
  dof: {
    type: 'custom',
    shape: "'variable', 'equal' or a number > 0",
    default: 'variable',
    description: 'degrees of freedom: one per component, one common, or fixed',
    check: (v, path) => {
      if (v === 'variable' || v === 'equal' || (typeof v === 'number' && Number.isFinite(v) && v > 0)) return v;
      throw emError('INVALID_ARGUMENT', path, v, "must be 'variable', 'equal' or a number > 0", "pass dof: 'variable' (default) or e.g. dof: 4");
    },
    parse: (text) => (text === 'variable' || text === 'equal' ? text : Number(text)),
  },
  dofStart: { type: 'number', min: 0, exclusiveMin: true, default: 10, description: 'degrees of freedom at initialization' },
  dofMin: { type: 'number', min: 0, exclusiveMin: true, default: 0.5, description: 'smallest degrees of freedom' },
  dofMax: { type: 'number', min: 0, exclusiveMin: true, default: 1000, description: 'largest degrees of freedom' },
  regCovar: { type: 'number', min: 0, default: 0, description: 'ridge of the scale M-step' },
  mstepTol: { type: 'number', min: 0, default: Math.sqrt(Number.EPSILON), description: 'relative tolerance of iterative scale M-steps (default √ε)' },
  mstepMaxIter: { type: 'integer', min: 0, default: 10_000, description: 'most iterations of an iterative scale M-step' },
} as const satisfies OptionSchema;

/**
 * Statistics of the Student-t family: n_k = Σ w, su_k = Σ w E[u], slogu_k = Σ w E[log u],
 * and u-weighted moments about `ref` (original units): s1 = Σ w E[u](x − ref), s2 = Σ w E[u](x − ref)(x − ref)ᵀ.
 * @category General mixtures
 */
export interface StudentTStats {
  readonly k: number;
  readonly d: number;
  readonly n: Float64Array;
  readonly su: Float64Array;
  readonly slogu: Float64Array;
  readonly s1: Float64Array;
  readonly s2: Float64Array;
  readonly ref: Float64Array;
}

/** Prepared data of a Student-t family. @internal */
export interface StudentTPrepared {
  readonly data: FamilyData;
  readonly d: number;
  readonly offset: Float64Array;
  readonly variance: Float64Array;
  /** Centred rows `[nRows × D]` (no missing entries). */
  readonly filled: Float64Array;
}

const asGmm = (s: StudentTStats): GmmStats => ({ k: s.k, d: s.d, n: s.su, s1: s.s1, s2: s.s2, ref: s.ref });

const algebra: StatsAlgebra<StudentTStats> = {
  zero: (like) => ({ k: like.k, d: like.d, n: new Float64Array(like.k), su: new Float64Array(like.k), slogu: new Float64Array(like.k), s1: new Float64Array(like.s1.length), s2: new Float64Array(like.s2.length), ref: like.ref.slice() }),
  add: (a, b) => {
    // Moments are re-referenced with the u-weights (su) in the role of counts.
    const m = rereference(asGmm(b), a.ref);
    const sum = (x: Float64Array, y: Float64Array): Float64Array => x.map((v, i) => v + (y[i] as number));
    return { k: a.k, d: a.d, n: sum(a.n, b.n), su: sum(a.su, b.su), slogu: sum(a.slogu, b.slogu), s1: sum(a.s1, m.s1), s2: sum(a.s2, m.s2), ref: a.ref.slice() };
  },
  scale: (a, c) => ({ k: a.k, d: a.d, n: a.n.map((v) => v * c), su: a.su.map((v) => v * c), slogu: a.slogu.map((v) => v * c), s1: a.s1.map((v) => v * c), s2: a.s2.map((v) => v * c), ref: a.ref.slice() }),
};

function emptyStats(k: number, d: number, ref: Float64Array): StudentTStats {
  return { k, d, n: new Float64Array(k), su: new Float64Array(k), slogu: new Float64Array(k), s1: new Float64Array(k * d), s2: new Float64Array(k * d * d), ref: ref.slice() };
}

/** Adds w·(eu, elogu) and w·eu·(v, v vᵀ) to component c. */
function addRow(s: StudentTStats, c: number, w: number, eu: number, elogu: number, v: Float64Array): void {
  const d = s.d;
  s.n[c] = (s.n[c] as number) + w;
  s.su[c] = (s.su[c] as number) + w * eu;
  s.slogu[c] = (s.slogu[c] as number) + w * elogu;
  const wu = w * eu;
  for (let a = 0; a < d; a++) {
    const wa = wu * (v[a] as number);
    s.s1[c * d + a] = (s.s1[c * d + a] as number) + wa;
    for (let b = a; b < d; b++) s.s2[c * d * d + a * d + b] = (s.s2[c * d * d + a * d + b] as number) + wa * (v[b] as number);
  }
}

function mirror(s: StudentTStats): StudentTStats {
  const d = s.d;
  for (let c = 0; c < s.k; c++) for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) s.s2[c * d * d + a * d + b] = s.s2[c * d * d + b * d + a] as number;
  return s;
}


/**
 * The ν maximizing n[(ν/2) log(ν/2) − log Γ(ν/2)] + (ν/2)(Σ w E[log u] − Σ w E[u]) on [lo, hi]:
 * the root of log(ν/2) + 1 − ψ(ν/2) + (slogu − su)/n, which decreases in ν (the objective is
 * concave), by bisection on log ν to 1e-12 relative; a bound when the root lies outside.
 * @internal
 */
export function dofMStep(n: number, su: number, slogu: number, lo: number, hi: number): number {
  const c = (slogu - su) / n;
  const h = (nu: number): number => Math.log(nu / 2) + 1 - digamma(nu / 2) + c;
  if (h(hi) >= 0) return hi;
  if (h(lo) <= 0) return lo;
  let a = Math.log(lo);
  let b = Math.log(hi);
  for (let i = 0; i < 200 && b - a > 1e-12; i++) {
    const m = 0.5 * (a + b);
    if (h(Math.exp(m)) > 0) a = m;
    else b = m;
  }
  return Math.exp(0.5 * (a + b));
}

/**
 * A multivariate Student-t component family (EM with a latent Gamma scale per
 * row, McLachlan & Peel 2000): the mean is the E[u]-weighted mean, the scale
 * matrices come from `covarianceMStep` on the E[u]-weighted scatter with the
 * counts n_k (any of mclust's parameterizations), and ν maximizes its part
 * of E_q log p by a one-dimensional root search (ECM: each update given the
 * others, so the bound never decreases). Missing entries are rejected.
 * Free parameters: the Gaussian count, plus K (`dof: 'variable'`), 1 (`'equal'`) or 0 (fixed).
 *
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @example
 * ```ts
 * mixtureModel({ nComponents: 2, family: [studentTFamily({ covariance: 'EEE', dof: 'equal' })] });
 * ```
 * @see McLachlan & Peel (2000), Finite Mixture Models, Wiley, ch. 7.
 * @see Peel & McLachlan (2000), Robust mixture modelling using the t distribution, Statistics and Computing 10.
 * @category General mixtures
 */
export function studentTFamily(options: StudentTFamilyOptions = {}): ComponentFamily<StudentTFamilyParams, StudentTStats, StudentTPrepared> {
  const { columns, ...rest } = options;
  const o = parseOptions(STUDENT_T_FAMILY_OPTIONS, rest, { owner: 'studentTFamily', pathOf: (k) => ['options', 'family', k] });
  const model = o['covariance'] as CovarianceModel;
  const dof = o['dof'] as DofConstraint;
  const lo = o['dofMin'] as number;
  const hi = o['dofMax'] as number;
  if (!(lo < hi)) throw emError('INVALID_ARGUMENT', ['options', 'family', 'dofMin'], lo, `must be below dofMax = ${hi}`, 'pass dofMin < dofMax');
  const start = typeof dof === 'number' ? dof : Math.min(hi, Math.max(lo, o['dofStart'] as number));
  const mopts = { regCovar: o['regCovar'] as number, tol: o['mstepTol'] as number, maxIter: o['mstepMaxIter'] as number };
  return {
    name: 't',
    columns,
    missing: 'none',
    spec: { family: 't', ...(columns === undefined ? {} : { columns: [...columns] }), ...o },
    arity: { min: 1, max: model === 'E' || model === 'V' ? 1 : Number.POSITIVE_INFINITY },
    algebra,
    validate(view, k) {
      validateGaussianColumns(view, k, model, false, 't');
    },
    prepare(data) {
      const d = data.columns.length;
      const { mean: offset, variance } = columnMoments(data.values, data.nRows, d, data.weights);
      const filled = new Float64Array(data.nRows * d);
      for (let i = 0; i < filled.length; i++) filled[i] = (data.values[i] as number) - (offset[i % d] as number);
      return { data, d, offset, variance, filled };
    },
    initialStats(prep, k, startRow, rows, weights) {
      const d = prep.d;
      const ref = new Float64Array(k * d);
      for (let c = 0; c < k; c++) ref.set(prep.offset, c * d);
      const s = emptyStats(k, d, ref);
      for (let i = 0; i < rows; i++) {
        const v = prep.filled.subarray((startRow + i) * d, (startRow + i + 1) * d);
        for (let c = 0; c < k; c++) {
          const w = weights[i * k + c] as number;
          if (w !== 0) addRow(s, c, w, 1, 0, v);
        }
      }
      return mirror(s);
    },
    structure(prep, params, k) {
      const d = prep.d;
      const linv: Float64Array[] = [];
      const constant = new Float64Array(k);
      const nu = Float64Array.from(params.dof);
      const centred = new Float64Array(k * d);
      const ref = new Float64Array(k * d);
      for (let c = 0; c < k; c++) {
        const L = cholesky(flatMatrices([params.covariances[c] as number[][]], d), d);
        if (L === null) throw emError('INVALID_PARAMS', ['params', 'covariances', c], params.covariances[c], 'is not positive definite', 'pass positive definite scale matrices');
        linv.push(invertLower(L, d));
        const v = nu[c] as number;
        constant[c] = logGamma((v + d) / 2) - logGamma(v / 2) - (d / 2) * Math.log(v * Math.PI) - 0.5 * logDetFromCholesky(L, d);
        for (let j = 0; j < d; j++) {
          ref[c * d + j] = (params.means[c] as number[])[j] as number;
          centred[c * d + j] = (ref[c * d + j] as number) - (prep.offset[j] as number);
        }
      }
      return {
        block(startRow, rows): FamilyBlock<StudentTStats> {
          let delta: Float64Array | undefined;
          const mahalanobis = (): Float64Array => {
            if (delta !== undefined) return delta;
            const out = new Float64Array(rows * k);
            const u = new Float64Array(d);
            for (let c = 0; c < k; c++) {
              const Li = linv[c] as Float64Array;
              for (let i = 0; i < rows; i++) {
                const base = (startRow + i) * d;
                for (let j = 0; j < d; j++) u[j] = (prep.filled[base + j] as number) - (centred[c * d + j] as number);
                let ss = 0;
                for (let a = 0; a < d; a++) {
                  let v = 0;
                  for (let j = 0; j <= a; j++) v += (Li[a * d + j] as number) * (u[j] as number);
                  ss += v * v;
                }
                out[i * k + c] = ss;
              }
            }
            delta = out;
            return out;
          };
          return {
            logDensity() {
              const dl = mahalanobis();
              const out = new Float64Array(rows * k);
              for (let i = 0; i < rows; i++) {
                for (let c = 0; c < k; c++) {
                  const v = nu[c] as number;
                  out[i * k + c] = (constant[c] as number) - 0.5 * (v + d) * Math.log1p((dl[i * k + c] as number) / v);
                }
              }
              return out;
            },
            latentEntropy() {
              const dl = mahalanobis();
              const out = new Float64Array(rows * k);
              for (let c = 0; c < k; c++) {
                const v = nu[c] as number;
                const a = 0.5 * (v + d);
                const base = a + logGamma(a) + (1 - a) * digamma(a);
                for (let i = 0; i < rows; i++) out[i * k + c] = base - Math.log(0.5 * (v + (dl[i * k + c] as number)));
              }
              return out;
            },
            stats(w: FloatArray) {
              const dl = mahalanobis();
              const s = emptyStats(k, d, ref);
              const v = new Float64Array(d);
              for (let c = 0; c < k; c++) {
                const n = nu[c] as number;
                const a = 0.5 * (n + d);
                const psi = digamma(a);
                for (let i = 0; i < rows; i++) {
                  const wc = w[i * k + c] as number;
                  if (wc === 0) continue;
                  const b = 0.5 * (n + (dl[i * k + c] as number));
                  const base = (startRow + i) * d;
                  for (let j = 0; j < d; j++) v[j] = (prep.filled[base + j] as number) - (centred[c * d + j] as number);
                  addRow(s, c, wc, a / b, psi - Math.log(b), v);
                }
              }
              return mirror(s);
            },
          };
        },
      };
    },
    mStep(stats, prev, prep, ctx): FamilyMStepResult<StudentTFamilyParams> {
      const { k, d } = stats;
      // Means: the E[u]-weighted means; scatter about them with the u-weights.
      const means = new Float64Array(k * d);
      const scatter = new Float64Array(k * d * d);
      for (let c = 0; c < k; c++) {
        const su = stats.su[c] as number;
        const shift = new Float64Array(d);
        for (let j = 0; j < d; j++) {
          shift[j] = su > 0 ? (stats.s1[c * d + j] as number) / su : 0;
          means[c * d + j] = (stats.ref[c * d + j] as number) + (shift[j] as number);
        }
        for (let a = 0; a < d; a++) {
          for (let b = a; b < d; b++) {
            const m = 0.5 * ((stats.s2[c * d * d + a * d + b] as number) + (stats.s2[c * d * d + b * d + a] as number)) - su * (shift[a] as number) * (shift[b] as number);
            scatter[c * d * d + a * d + b] = m;
            scatter[c * d * d + b * d + a] = m;
          }
        }
      }
      const counts = { k, d, n: stats.n, s1: stats.s1, s2: stats.s2, ref: stats.ref };
      const r = gaussianFamilyMStep(model, counts, prev === undefined ? undefined : flatMatrices(prev.covariances, d), prep, mopts, ctx, { means, scatter });
      const fitted = (c: number): boolean => !r.reinitialized.includes(c);
      const nu: number[] = [];
      if (typeof dof === 'number') for (let c = 0; c < k; c++) nu.push(dof);
      else if (prev === undefined) for (let c = 0; c < k; c++) nu.push(start);
      else if (dof === 'equal') {
        let n = 0;
        let su = 0;
        let slogu = 0;
        for (let c = 0; c < k; c++) {
          if (!fitted(c)) continue;
          n += stats.n[c] as number;
          su += stats.su[c] as number;
          slogu += stats.slogu[c] as number;
        }
        const v = n > 0 ? dofMStep(n, su, slogu, lo, hi) : (prev.dof[0] as number);
        for (let c = 0; c < k; c++) nu.push(v);
      } else {
        for (let c = 0; c < k; c++) nu.push(fitted(c) && (stats.n[c] as number) > 0 ? dofMStep(stats.n[c] as number, stats.su[c] as number, stats.slogu[c] as number, lo, hi) : start);
      }
      const events: ModelEvent[] = [...r.events];
      return { params: { covariance: model, means: nestedRows(r.means, k, d), covariances: nestedMatrices(r.covariances, k, d), dof: nu }, events, boundSlack: r.boundSlack };
    },
    expectedLogJoint(stats, params) {
      const { k, d } = stats;
      let total = 0;
      for (let c = 0; c < k; c++) {
        const n = stats.n[c] as number;
        if (n === 0) continue;
        const L = cholesky(flatMatrices([params.covariances[c] as number[][]], d), d);
        if (L === null) return Number.NEGATIVE_INFINITY;
        const nu = params.dof[c] as number;
        const su = stats.su[c] as number;
        const P = invertLower(L, d);
        // tr(Σ⁻¹ M) with M the u-weighted scatter about μ: ‖L⁻¹ (·)‖ summed through s2, s1 and the shift.
        const sh = new Float64Array(d);
        for (let j = 0; j < d; j++) sh[j] = ((params.means[c] as number[])[j] as number) - (stats.ref[c * d + j] as number);
        let tr = 0;
        for (let i = 0; i < d; i++) {
          for (let j = 0; j < d; j++) {
            const m = (stats.s2[c * d * d + i * d + j] as number) - (stats.s1[c * d + i] as number) * (sh[j] as number) - (sh[i] as number) * (stats.s1[c * d + j] as number) + su * (sh[i] as number) * (sh[j] as number);
            // (Σ⁻¹)_ij = Σ_r P_ri P_rj
            let inv = 0;
            for (let q = Math.max(i, j); q < d; q++) inv += (P[q * d + i] as number) * (P[q * d + j] as number);
            tr += inv * m;
          }
        }
        total += n * (-0.5 * d * LOG_2PI - 0.5 * logDetFromCholesky(L, d) + 0.5 * nu * Math.log(nu / 2) - logGamma(nu / 2)) + (0.5 * (d + nu) - 1) * (stats.slogu[c] as number) - 0.5 * nu * su - 0.5 * tr;
      }
      return total;
    },
    roundoffScale(stats, params) {
      return covarianceRoundoffScale(stats.n, params.covariances);
    },
    nParameters(params) {
      const k = params.means.length;
      const d = (params.means[0] as number[]).length;
      return covarianceParameterCount(model, k, d) + k * d + (typeof dof === 'number' ? 0 : dof === 'equal' ? 1 : k);
    },
    validateParams(params, k, prep, path): asserts params is StudentTFamilyParams {
      validateGaussianParams(params, k, prep?.d, model, path);
      const v = (params as { dof?: unknown }).dof;
      if (!Array.isArray(v) || v.length !== k) badParams([...path, 'dof'], v, `must be an array of nComponents = ${k} numbers`, 'pass one ν per component');
      v.forEach((x, c) => {
        if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) badParams([...path, 'dof', c], x, 'must be a number > 0', 'pass positive degrees of freedom');
      });
      if (dof === 'equal' && v.some((x) => x !== v[0])) badParams([...path, 'dof'], v, "must be equal for dof: 'equal'", 'pass one common ν');
    },
    permute(params, order) {
      return { covariance: params.covariance, means: permuted(params.means, order), covariances: permuted(params.covariances, order), dof: permuted(params.dof, order) };
    },
    componentMean(params, k) {
      return (params.means[k] as number[])[0] as number;
    },
  };
}
