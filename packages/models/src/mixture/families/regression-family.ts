/**
 * Mixtures of linear regressions (DeSarbo & Cron 1988; Leisch's flexmix): the
 * component family is the conditional distribution of a response given
 * covariates, y | x, z = k ~ N(β_k0 + x β_k, σ_k²). The covariates are not
 * modelled, so the mixture's likelihood is the conditional one, p(y | x).
 * A missing response is marginalized (the row contributes nothing to this
 * family); missing covariates are rejected.
 * @module
 */
import { cholesky, choleskySolve, emError, parseOptions, type FloatArray, type ModelEvent, type OptionSchema, type StatsAlgebra } from '@emlab/core';
import type { ComponentFamily, FamilyBlock, FamilyData, FamilyMStepResult } from '../component-family.js';
import { badParams, checkNumbers, permuted } from '../internal/arrays.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Parameters: coefficients `[K][p]` (intercept first when fitted) and residual variances `[K]`, in the data's units. @category General mixtures */
export interface RegressionFamilyParams {
  readonly coefficients: number[][];
  readonly variances: number[];
}

/** Options of {@link regressionFamily}. @category General mixtures */
export interface RegressionFamilyOptions {
  /** The response first, then the covariates (names or 0-based indices). Required. */
  readonly columns?: readonly (string | number)[];
  /** Fit an intercept per component (default true). */
  readonly intercept?: boolean;
  /** `'variable'` (one σ² per component, default) or `'equal'`. */
  readonly variance?: 'variable' | 'equal';
  /** Ridge added to the normal equations' diagonal (original units of the centred covariates; default 0). */
  readonly ridge?: number;
}

/** Option table of {@link regressionFamily} (besides `columns`). @category General mixtures */
export const REGRESSION_FAMILY_OPTIONS = {
  intercept: { type: 'boolean', default: true, description: 'fit an intercept per component' },
  variance: { type: 'enum', values: ['variable', 'equal'], default: 'variable', description: 'one residual variance per component, or one common' },
  ridge: { type: 'number', min: 0, default: 0, description: 'ridge on the normal equations (0: least squares)' },
} as const satisfies OptionSchema;

/**
 * Statistics in centred coordinates (design [1, x − x̄] with the intercept, x
 * without; response y − ȳ or y): n_k, XᵀWX `[K·p·p]`, XᵀWy `[K·p]`, yᵀWy `[K]`.
 * @category General mixtures
 */
export interface RegressionStats {
  readonly k: number;
  readonly p: number;
  /** The centring: response and covariate means the statistics are taken about (0 without an intercept). */
  readonly yRef: number;
  readonly xRef: Float64Array;
  readonly n: Float64Array;
  readonly xx: Float64Array;
  readonly xy: Float64Array;
  readonly yy: Float64Array;
}

/** Prepared data of a regression family. @internal */
export interface RegressionPrepared {
  readonly data: FamilyData;
  readonly p: number;
  /** Centred design `[nRows × p]`. */
  readonly design: Float64Array;
  /** Centred response `[nRows]` (NaN missing). */
  readonly y: Float64Array;
  /** Response and covariate means (0 without an intercept). */
  readonly yMean: number;
  readonly xMean: Float64Array;
  readonly yVariance: number;
}

const algebra: StatsAlgebra<RegressionStats> = {
  zero: (l) => ({ k: l.k, p: l.p, yRef: l.yRef, xRef: l.xRef, n: new Float64Array(l.k), xx: new Float64Array(l.xx.length), xy: new Float64Array(l.xy.length), yy: new Float64Array(l.k) }),
  add: (a, b) => {
    const c = recentre(b, a.yRef, a.xRef);
    const s = (x: Float64Array, y: Float64Array): Float64Array => x.map((v, i) => v + (y[i] as number));
    return { k: a.k, p: a.p, yRef: a.yRef, xRef: a.xRef, n: s(a.n, c.n), xx: s(a.xx, c.xx), xy: s(a.xy, c.xy), yy: s(a.yy, c.yy) };
  },
  scale: (a, c) => ({ k: a.k, p: a.p, yRef: a.yRef, xRef: a.xRef, n: a.n.map((v) => v * c), xx: a.xx.map((v) => v * c), xy: a.xy.map((v) => v * c), yy: a.yy.map((v) => v * c) }),
};

/**
 * The same statistics about other means (float64): with the intercept's design row d = [1, x − x̄] and
 * e = y − ȳ, moving to (ȳ', x̄') maps d to T d, T = [[1, 0], [x̄ − x̄', I]], and e to e + (ȳ − ȳ') d₀, so
 * XᵀWX' = T XᵀWX Tᵀ, XᵀWe' = T (XᵀWe + δ XᵀWX e₀) and eᵀWe' = eᵀWe + 2δ (XᵀWe)₀ + δ² n. Statistics of
 * separately prepared data sets then add exactly. Without an intercept there is no centring.
 */
function recentre(s: RegressionStats, yRef: number, xRef: Float64Array): RegressionStats {
  const same = s.yRef === yRef && s.xRef.every((v, i) => v === xRef[i]);
  if (same) return s;
  const { k, p } = s;
  const q = xRef.length;
  if (p !== q + 1) throw emError('INVALID_ARGUMENT', ['stats'], 'regression statistics', 'are centred differently but the model has no intercept', 'add statistics of one model only');
  const dy = s.yRef - yRef;
  const T = new Float64Array(p * p);
  T[0] = 1;
  for (let j = 0; j < q; j++) {
    T[(j + 1) * p] = (s.xRef[j] as number) - (xRef[j] as number);
    T[(j + 1) * p + j + 1] = 1;
  }
  const xx = new Float64Array(k * p * p);
  const xy = new Float64Array(k * p);
  const yy = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const A = s.xx.subarray(c * p * p, (c + 1) * p * p);
    const b = s.xy.subarray(c * p, (c + 1) * p);
    // b' = T (b + δ A e₀)
    const bb = new Float64Array(p);
    for (let i = 0; i < p; i++) bb[i] = (b[i] as number) + dy * (A[i * p] as number);
    for (let i = 0; i < p; i++) {
      let v = 0;
      for (let j = 0; j < p; j++) v += (T[i * p + j] as number) * (bb[j] as number);
      xy[c * p + i] = v;
    }
    // A' = T A Tᵀ
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        let v = 0;
        for (let a = 0; a < p; a++) {
          const tia = T[i * p + a] as number;
          if (tia === 0) continue;
          for (let e = 0; e < p; e++) v += tia * (A[a * p + e] as number) * (T[j * p + e] as number);
        }
        xx[c * p * p + i * p + j] = v;
      }
    }
    yy[c] = (s.yy[c] as number) + 2 * dy * (b[0] as number) + dy * dy * (s.n[c] as number);
  }
  return { k, p, yRef, xRef, n: s.n.slice(), xx, xy, yy };
}

function accumulate(prep: RegressionPrepared, k: number, start: number, rows: number, w: FloatArray): RegressionStats {
  const p = prep.p;
  const s = algebra.zero({ k, p, yRef: prep.yMean, xRef: prep.xMean, n: new Float64Array(k), xx: new Float64Array(k * p * p), xy: new Float64Array(k * p), yy: new Float64Array(k) });
  for (let i = 0; i < rows; i++) {
    const r = start + i;
    const y = prep.y[r] as number;
    if (Number.isNaN(y)) continue;
    const base = r * p;
    for (let c = 0; c < k; c++) {
      const wc = w[i * k + c] as number;
      if (wc === 0) continue;
      s.n[c] = (s.n[c] as number) + wc;
      s.yy[c] = (s.yy[c] as number) + wc * y * y;
      for (let a = 0; a < p; a++) {
        const wa = wc * (prep.design[base + a] as number);
        s.xy[c * p + a] = (s.xy[c * p + a] as number) + wa * y;
        for (let b = a; b < p; b++) s.xx[c * p * p + a * p + b] = (s.xx[c * p * p + a * p + b] as number) + wa * (prep.design[base + b] as number);
      }
    }
  }
  for (let c = 0; c < k; c++) for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) s.xx[c * p * p + a * p + b] = s.xx[c * p * p + b * p + a] as number;
  return s;
}

/** Coefficients in centred coordinates from original ones: β0' = β0 + x̄ β − ȳ. */
function toCentred(ref: { readonly yMean: number; readonly xMean: Float64Array; readonly p: number }, beta: readonly number[], intercept: boolean): Float64Array {
  const out = Float64Array.from(beta);
  if (intercept) {
    let v = (beta[0] as number) - ref.yMean;
    for (let j = 1; j < ref.p; j++) v += (beta[j] as number) * (ref.xMean[j - 1] as number);
    out[0] = v;
  }
  return out;
}

/** Original coefficients from centred ones. */
function fromCentred(prep: RegressionPrepared, beta: Float64Array, intercept: boolean): number[] {
  const out = Array.from(beta);
  if (intercept) {
    let v = (beta[0] as number) + prep.yMean;
    for (let j = 1; j < prep.p; j++) v -= (beta[j] as number) * (prep.xMean[j - 1] as number);
    out[0] = v;
  }
  return out;
}

/** Σ w (y − xβ)² from the statistics (clamped at 0 against rounding). */
function rss(s: RegressionStats, c: number, beta: Float64Array): number {
  const p = s.p;
  let v = s.yy[c] as number;
  for (let a = 0; a < p; a++) {
    v -= 2 * (beta[a] as number) * (s.xy[c * p + a] as number);
    for (let b = 0; b < p; b++) v += (beta[a] as number) * (s.xx[c * p * p + a * p + b] as number) * (beta[b] as number);
  }
  return Math.max(v, 0);
}

/**
 * Mixture-of-regressions component family: y | x, z = k ~ N(x̃ β_k, σ_k²)
 * with x̃ = [1, x] (or x without an intercept). `columns` lists the response
 * first, then the covariates. M-step: weighted least squares per component
 * (normal equations by Cholesky, in centred coordinates), then σ_k² =
 * RSS_k / n_k (or Σ RSS / Σ n for `variance: 'equal'`). A component whose
 * normal equations are singular or whose residual variance is 0 (it fits
 * fewer rows than coefficients exactly) is reinitialized.
 * Free parameters: K·p coefficients + K (or 1) variances.
 *
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @example
 * ```ts
 * mixtureModel({ nComponents: 2, family: [regressionFamily({ columns: ['y', 'x1', 'x2'] })] });
 * ```
 * @see DeSarbo & Cron (1988), A maximum likelihood methodology for clusterwise linear regression, J. Classification 5.
 * @see Leisch (2004), FlexMix: a general framework for finite mixture models and latent class regression in R, JSS 11(8).
 * @category General mixtures
 */
export function regressionFamily(options: RegressionFamilyOptions = {}): ComponentFamily<RegressionFamilyParams, RegressionStats, RegressionPrepared> {
  const { columns, ...rest } = options;
  const o = parseOptions(REGRESSION_FAMILY_OPTIONS, rest, { owner: 'regressionFamily', pathOf: (k) => ['options', 'family', k] });
  const intercept = o['intercept'] as boolean;
  const equal = o['variance'] === 'equal';
  const ridge = o['ridge'] as number;
  if (columns === undefined) throw emError('INVALID_ARGUMENT', ['options', 'family', 'columns'], undefined, 'is required by the regression family (the response first, then the covariates)', "pass e.g. columns: ['y', 'x1', 'x2'] (CLI: regression(y~x1,x2))");
  return {
    name: 'regression',
    columns,
    missing: 'response',
    spec: { family: 'regression', columns: [...columns], ...o },
    arity: { min: intercept ? 1 : 2, max: Number.POSITIVE_INFINITY },
    algebra,
    validate(view) {
      let seen = 0;
      for (let r = 0; r < view.rows; r++) {
        if (!Number.isNaN(view.at(r, 0))) seen++;
        for (let j = 1; j < view.columns.length; j++) {
          if (Number.isNaN(view.at(r, j))) throw emError('INVALID_DATA', ['data', r, view.columns[j] as number], Number.NaN, `is missing: covariate ${view.names[j]} of the regression family is not modelled, so it cannot be missing`, 'drop or impute rows with missing covariates');
        }
      }
      if (seen === 0) throw emError('INVALID_DATA', ['data', 'column', view.columns[0] as number], 0, `the response ${view.names[0]} has no observed value`, 'pass rows with the response observed');
    },
    prepare(data) {
      const c = data.columns.length;
      const q = c - 1;
      const p = q + (intercept ? 1 : 0);
      const n = data.nRows;
      let yMean = 0;
      let wy = 0;
      const xMean = new Float64Array(q);
      let wx = 0;
      for (let r = 0; r < n; r++) {
        const w = data.weights === undefined ? 1 : (data.weights[r] as number);
        const y = data.values[r * c] as number;
        if (!Number.isNaN(y)) {
          yMean += w * y;
          wy += w;
        }
        for (let j = 0; j < q; j++) xMean[j] = (xMean[j] as number) + w * (data.values[r * c + 1 + j] as number);
        wx += w;
      }
      yMean = intercept && wy > 0 ? yMean / wy : 0;
      for (let j = 0; j < q; j++) xMean[j] = intercept && wx > 0 ? (xMean[j] as number) / wx : 0;
      const design = new Float64Array(n * p);
      const y = new Float64Array(n);
      let yVariance = 0;
      for (let r = 0; r < n; r++) {
        const yr = data.values[r * c] as number;
        y[r] = Number.isNaN(yr) ? Number.NaN : yr - yMean;
        if (!Number.isNaN(yr)) yVariance += ((data.weights === undefined ? 1 : (data.weights[r] as number)) * (yr - yMean) ** 2) / Math.max(wy, 1e-300);
        if (intercept) design[r * p] = 1;
        for (let j = 0; j < q; j++) design[r * p + (intercept ? 1 : 0) + j] = (data.values[r * c + 1 + j] as number) - (xMean[j] as number);
      }
      return { data, p, design, y, yMean, xMean, yVariance };
    },
    initialStats(prep, k, start, rows, weights) {
      return accumulate(prep, k, start, rows, weights);
    },
    structure(prep, params, k) {
      const p = prep.p;
      const betas = params.coefficients.map((b) => toCentred(prep, b, intercept));
      return {
        block(start, rows): FamilyBlock<RegressionStats> {
          return {
            logDensity() {
              const out = new Float64Array(rows * k);
              for (let i = 0; i < rows; i++) {
                const r = start + i;
                const y = prep.y[r] as number;
                if (Number.isNaN(y)) continue;
                for (let c = 0; c < k; c++) {
                  const beta = betas[c] as Float64Array;
                  let fitted = 0;
                  for (let a = 0; a < p; a++) fitted += (beta[a] as number) * (prep.design[r * p + a] as number);
                  const v = params.variances[c] as number;
                  out[i * k + c] = -0.5 * (LOG_2PI + Math.log(v)) - ((y - fitted) ** 2) / (2 * v);
                }
              }
              return out;
            },
            stats: (w) => accumulate(prep, k, start, rows, w),
          };
        },
      };
    },
    mStep(given, _prev, prep, ctx): FamilyMStepResult<RegressionFamilyParams> {
      // In the prepared data's centring (statistics of other row sets may be centred elsewhere).
      const stats = recentre(given, prep.yMean, prep.xMean);
      const { k, p } = stats;
      const events: ModelEvent[] = [];
      const betas: Float64Array[] = [];
      const rssOf = new Float64Array(k);
      const bad = new Set<number>(ctx.empty);
      for (let c = 0; c < k; c++) {
        if (bad.has(c)) {
          betas.push(new Float64Array(p));
          continue;
        }
        const A = stats.xx.slice(c * p * p, (c + 1) * p * p);
        for (let a = intercept ? 1 : 0; a < p; a++) A[a * p + a] = (A[a * p + a] as number) + ridge;
        const L = cholesky(A, p);
        if (L === null) {
          bad.add(c);
          betas.push(new Float64Array(p));
          continue;
        }
        const beta = choleskySolve(L, p, stats.xy.slice(c * p, (c + 1) * p));
        betas.push(beta);
        rssOf[c] = rss(stats, c, beta);
      }
      const variances = new Array<number>(k).fill(0);
      const floor = 1e-12 * Math.max(prep.yVariance, Number.MIN_VALUE);
      if (equal) {
        let n = 0;
        let total = 0;
        for (let c = 0; c < k; c++) {
          if (bad.has(c)) continue;
          n += stats.n[c] as number;
          total += rssOf[c] as number;
        }
        const v = n > 0 ? total / n : prep.yVariance;
        if (!(v > floor)) for (let c = 0; c < k; c++) bad.add(c);
        variances.fill(v);
      } else {
        for (let c = 0; c < k; c++) {
          if (bad.has(c)) continue;
          const v = (rssOf[c] as number) / (stats.n[c] as number);
          if (!(v > floor)) bad.add(c);
          else variances[c] = v;
        }
      }
      // Reinitialize: the pooled variance, and a line through a random row with the largest component's slopes.
      let donor = -1;
      for (let c = 0; c < k; c++) if (!bad.has(c) && (donor < 0 || (stats.n[c] as number) > (stats.n[donor] as number))) donor = c;
      for (const c of [...bad].sort((a, b) => a - b)) {
        const r = ctx.pickRow(ctx.rng);
        const beta = donor >= 0 ? (betas[donor] as Float64Array).slice() : new Float64Array(p);
        const y = prep.y[r] as number;
        if (intercept) {
          let fitted = 0;
          for (let a = 1; a < p; a++) fitted += (beta[a] as number) * (prep.design[r * p + a] as number);
          beta[0] = Number.isNaN(y) ? 0 : y - fitted;
        }
        betas[c] = beta;
        if (!equal || !((variances[c] as number) > floor)) variances[c] = Math.max(prep.yVariance, floor);
        events.push({ type: 'reinitialized', component: c, detail: `component ${c} was ${ctx.empty.includes(c) ? 'empty' : 'degenerate (singular normal equations or zero residual variance)'}; reinitialized through data row ${r}`, value: r });
      }
      if (equal) {
        const v = variances.find((_x, c) => !bad.has(c)) ?? Math.max(prep.yVariance, floor);
        variances.fill(v);
      }
      return { params: { coefficients: betas.map((b) => fromCentred(prep, b, intercept)), variances }, events };
    },
    expectedLogJoint(stats, params) {
      // Centring does not change residuals, so the statistics' coordinates can be used with centred β.
      let total = 0;
      for (let c = 0; c < stats.k; c++) {
        const n = stats.n[c] as number;
        if (n === 0) continue;
        const v = params.variances[c] as number;
        const beta = toCentred({ yMean: stats.yRef, xMean: stats.xRef, p: stats.p }, params.coefficients[c] as number[], intercept);
        total += -0.5 * n * (LOG_2PI + Math.log(v)) - rss(stats, c, beta) / (2 * v);
      }
      return total;
    },
    // Rounding in (y − xβ)²/σ_k² is relative to the squared response over σ_k²: Σ_k yᵀW_k y / σ_k².
    roundoffScale(stats, params) {
      let scale = 0;
      for (let k = 0; k < stats.k; k++) scale += (stats.yy[k] as number) / Math.max(params.variances[k] as number, Number.MIN_VALUE);
      return Number.isFinite(scale) ? scale : Number.POSITIVE_INFINITY;
    },
    nParameters(params) {
      const k = params.coefficients.length;
      return k * (params.coefficients[0] as number[]).length + (equal ? 1 : k);
    },
    validateParams(params, k, prep, path): asserts params is RegressionFamilyParams {
      if (typeof params !== 'object' || params === null) badParams(path, params, 'must be an object { coefficients, variances }', 'pass parameters from a fit result');
      const co = (params as Record<string, unknown>)['coefficients'];
      const first = Array.isArray(co) ? (co as unknown[])[0] : undefined;
      const p = prep?.p ?? (Array.isArray(first) ? first.length : 0);
      if (p < 1) badParams([...path, 'coefficients'], co, 'must be K arrays of p numbers', 'pass one coefficient vector per component');
      checkNumbers(co, [k, p], [...path, 'coefficients'], 'the coefficients');
      checkNumbers((params as Record<string, unknown>)['variances'], [k], [...path, 'variances'], 'the residual variances', (v) => (v > 0 ? undefined : 'must be a variance > 0'));
    },
    permute(params, order) {
      return { coefficients: permuted(params.coefficients, order), variances: permuted(params.variances, order) };
    },
    componentMean(params, k) {
      return (params.coefficients[k] as number[])[0] as number;
    },
  };
}
