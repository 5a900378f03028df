/**
 * The Gaussian component family with any of mclust's 14 covariance
 * parameterizations (and the univariate E and V), built on the Gaussian
 * mixture's float64 host kernels (`hostChunks`: a triangular solve per row
 * and component, missing entries as latent variables with their exact
 * conditional) and on `covarianceMStep`. The `gmm` model's `full`, `diag`,
 * `spherical` and `tied` covariances are this family's VVV, VVI, VII and EEE.
 * @module
 */
import { cholesky, emError, parseOptions, type FloatArray, type ModelEvent, type OptionSchema, type Rng } from '@emlab/core';
import { factorCovariances, gaussianMoments, gmmExpectedLogJoint, gmmStatsAlgebra, type CovarianceFactors } from '../../gmm/gmm-math.js';
import { hostChunks, type PatternSegment } from '../../gmm/gmm-missing.js';
import type { GmmParams, GmmStats } from '../../gmm/gmm-types.js';
import { COVARIANCE_MODEL_DESCRIPTORS, COVARIANCE_MODELS, covarianceMStep, covarianceParameterCount, DegenerateComponentError, type CovarianceModel } from '../covariance-models.js';
import { EMPTY_COMPONENT_WEIGHT, type ComponentFamily, type FamilyBlock, type FamilyColumnsView, type FamilyData, type FamilyMStepContext, type FamilyMStepResult, type FamilyStructure } from '../component-family.js';
import { addLogDensity, addMoments, gaussianFactors, mirrorUpper } from '../internal/gaussian-kernel.js';
import { badParams, covarianceRoundoffScale, checkNumbers, columnMoments, flatMatrices, nestedMatrices, nestedRows, permuted } from '../internal/arrays.js';

/** Parameters of a Gaussian family: K means and covariances in the data's units. @category General mixtures */
export interface GaussianFamilyParams {
  /** The covariance parameterization the covariances belong to. */
  readonly covariance: CovarianceModel;
  /** `[K][D]`. */
  readonly means: number[][];
  /** `[K][D][D]`, symmetric positive definite, in the parameterization's family. */
  readonly covariances: number[][][];
}

/** Options of {@link gaussianFamily}. @category General mixtures */
export interface GaussianFamilyOptions {
  /** Its columns (names or 0-based indices); default every column no other family names. */
  readonly columns?: readonly (string | number)[];
  /** mclust's parameterization (default `'VVV'`; `E`/`V` need one column). */
  readonly covariance?: CovarianceModel;
  /** Ridge: the M-step maximizes with W_k + regCovar·n_k·I (regCovar added to VVV/VVI/VII/EEE diagonals). Default 0 (maximum likelihood). */
  readonly regCovar?: number;
  /** Relative tolerance of the iterative covariance M-steps (VEI, VEE, EVE, VVE, VEV). Default √ε ≈ 1.5e-8 (mclust's); warm-started, so any tolerance keeps the bound non-decreasing. */
  readonly mstepTol?: number;
  /** Most iterations of an iterative covariance M-step. Default 10 000. */
  readonly mstepMaxIter?: number;
}

/** Option table of {@link gaussianFamily}. @category General mixtures */
export const GAUSSIAN_FAMILY_OPTIONS = {
  covariance: { type: 'enum', values: COVARIANCE_MODELS, default: 'VVV', description: "mclust's covariance parameterization (E and V: one column)" },
  regCovar: { type: 'number', min: 0, default: 0, description: 'ridge: M-step of W_k + regCovar·n_k·I (0: maximum likelihood)' },
  mstepTol: { type: 'number', min: 0, default: Math.sqrt(Number.EPSILON), description: "relative tolerance of iterative covariance M-steps (default √ε ≈ 1.5e-8, mclust's)" },
  mstepMaxIter: { type: 'integer', min: 0, default: 10_000, description: 'most iterations of an iterative covariance M-step' },
} as const satisfies OptionSchema;

/** Prepared data of a Gaussian family. @internal */
export interface GaussianPrepared {
  readonly data: FamilyData;
  readonly d: number;
  /** Weighted column means over observed entries (the centring). */
  readonly offset: Float64Array;
  /** Weighted column variances over observed entries. */
  readonly variance: Float64Array;
  /** Runs of consecutive prepared rows with one missingness pattern and at least one observed entry. */
  readonly segments: readonly PatternSegment[];
  /** Centred rows with missing entries at 0 (the column mean), `[nRows × D]`. */
  readonly filled: Float64Array;
  /** 1 when the row has an observed entry in these columns. */
  readonly observed: Uint8Array;
  readonly anyMissing: boolean;
}

type Stats = GmmStats;

function toGmm(params: GaussianFamilyParams): GmmParams {
  return { covarianceType: 'full', weights: params.means.map(() => 1), means: params.means, covariances: params.covariances };
}

/** Cholesky factors per parameters object: the bound after the M-step and the next E-step share them. */
const factorCache = new WeakMap<object, { gmm: GmmParams; factors: CovarianceFactors }>();
function factored(params: GaussianFamilyParams): { gmm: GmmParams; factors: CovarianceFactors } {
  let f = factorCache.get(params);
  if (f === undefined) {
    const gmm = toGmm(params);
    f = { gmm, factors: factorCovariances(gmm) };
    factorCache.set(params, f);
  }
  return f;
}

/** Segments of prepared rows by missingness pattern (runs), with centred observed values. */
function buildSegments(data: FamilyData, offset: Float64Array): { segments: PatternSegment[]; filled: Float64Array; observed: Uint8Array; anyMissing: boolean } {
  const n = data.nRows;
  const d = data.columns.length;
  const filled = new Float64Array(n * d);
  const observed = new Uint8Array(n);
  const segments: PatternSegment[] = [];
  let anyMissing = false;
  let runStart = 0;
  let runKey = '';
  const close = (end: number): void => {
    if (end <= runStart) return;
    const obs = Int32Array.from([...runKey].flatMap((ch, c) => (ch === '1' ? [c] : [])));
    const mis = Int32Array.from([...runKey].flatMap((ch, c) => (ch === '0' ? [c] : [])));
    if (obs.length === 0) return;
    const count = end - runStart;
    const o = obs.length;
    const xo = new Float64Array(count * o);
    for (let i = 0; i < count; i++) for (let j = 0; j < o; j++) xo[i * o + j] = filled[(runStart + i) * d + (obs[j] as number)] as number;
    segments.push({ obs, mis, start: runStart, count, xo });
  };
  for (let r = 0; r < n; r++) {
    let key = '';
    for (let c = 0; c < d; c++) {
      const v = data.values[r * d + c] as number;
      if (Number.isNaN(v)) {
        key += '0';
        anyMissing = true;
      } else {
        key += '1';
        filled[r * d + c] = v - (offset[c] as number);
        observed[r] = 1;
      }
    }
    if (r === 0) runKey = key;
    else if (key !== runKey) {
      close(r);
      runStart = r;
      runKey = key;
    }
  }
  close(n);
  return { segments, filled, observed, anyMissing };
}

/** Index of the first segment ending after `row`. */
function firstSegment(segments: readonly PatternSegment[], row: number): number {
  let lo = 0;
  let hi = segments.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const s = segments[mid] as PatternSegment;
    if (s.start + s.count <= row) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function zeroStats(k: number, d: number, ref: Float64Array): Stats {
  return { k, d, n: new Float64Array(k), s1: new Float64Array(k * d), s2: new Float64Array(k * d * d), ref: ref.slice() };
}

/** The next ridge when a pooled estimate is singular: 10× the last, at least 1e-10 of the mean column variance. */
function nextRidge(ridge: number, variance: Float64Array): number {
  let mean = 0;
  for (const v of variance) mean += v / variance.length;
  const floor = 1e-10 * Math.max(mean, Number.MIN_VALUE);
  return Math.max(ridge * 10, floor);
}

function traceOfInverse(cov: Float64Array, base: number, d: number): number {
  // tr(Σ⁻¹) through a Cholesky factor (Σ is positive definite here).
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = cov[base + i * d + j] as number;
      for (let m = 0; m < j; m++) s -= (L[i * d + m] as number) * (L[j * d + m] as number);
      L[i * d + j] = i === j ? Math.sqrt(s) : s / (L[j * d + j] as number);
    }
  }
  // tr(Σ⁻¹) = ‖L⁻¹‖_F².
  let t = 0;
  const col = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    col.fill(0);
    for (let i = c; i < d; i++) {
      let s = i === c ? 1 : 0;
      for (let m = c; m < i; m++) s -= (L[i * d + m] as number) * (col[m] as number);
      col[i] = s / (L[i * d + i] as number);
      t += (col[i] as number) ** 2;
    }
  }
  return t;
}

/**
 * The Gaussian M-step of one parameterization from GmmStats, with the
 * degenerate-component policy: empty components (and those the mixture
 * reports empty) and components whose covariance is singular in this model
 * are left out of the fit and reinitialized at a data row with a copy of the
 * largest fitted component's covariance (which keeps the model's family);
 * a singular pooled estimate gets a ridge (10× escalation, a `regularized`
 * event and the exact slack of that ridge).
 * @internal
 */
export function gaussianFamilyMStep(
  model: CovarianceModel,
  stats: Stats,
  prevCovariances: Float64Array | undefined,
  prepared: { readonly offset: Float64Array; readonly variance: Float64Array; readonly filled: Float64Array; readonly d: number },
  options: { readonly regCovar: number; readonly tol: number; readonly maxIter: number },
  ctx: FamilyMStepContext,
  scatterOverride?: { readonly means: Float64Array; readonly scatter: Float64Array },
): { means: Float64Array; covariances: Float64Array; events: ModelEvent[]; boundSlack: number; reinitialized: number[] } {
  const { k: K, d: D } = stats;
  const moments = scatterOverride === undefined ? gaussianMoments(stats) : { nk: stats.n, means: scatterOverride.means, scatter: scatterOverride.scatter };
  const { nk, means, scatter } = moments;
  const removed = new Set<number>(ctx.empty);
  for (let k = 0; k < K; k++) if (!((nk[k] as number) >= EMPTY_COMPONENT_WEIGHT)) removed.add(k);
  const events: ModelEvent[] = [];
  const covariances = new Float64Array(K * D * D);
  let ridge = options.regCovar;
  const cap = nextRidge(0, prepared.variance) * 1e10;
  let fittedIdx: number[] = [];
  for (;;) {
    const idx = Array.from({ length: K }, (_, k) => k).filter((k) => !removed.has(k));
    if (idx.length === 0) break;
    const m = idx.length;
    const counts = Float64Array.from(idx, (k) => nk[k] as number);
    const scatters = new Float64Array(m * D * D);
    idx.forEach((k, j) => scatters.set(scatter.subarray(k * D * D, (k + 1) * D * D), j * D * D));
    // A scatter's diagonal is a sum of non-negative terms; s2 − n δδᵀ can round below 0 (a component
    // that holds one distinct point, sampled statistics): that is 0.
    for (let j = 0; j < m; j++) for (let i = 0; i < D; i++) if ((scatters[j * D * D + i * D + i] as number) < 0) scatters[j * D * D + i * D + i] = 0;
    let prev: Float64Array | undefined;
    // Closed forms are the global maximum: a start only matters to the iterative models.
    if (prevCovariances !== undefined && COVARIANCE_MODEL_DESCRIPTORS[model].iterative) {
      prev = new Float64Array(m * D * D);
      idx.forEach((k, j) => (prev as Float64Array).set(prevCovariances.subarray(k * D * D, (k + 1) * D * D), j * D * D));
    }
    try {
      const r = covarianceMStep(model, { nComponents: m, dim: D, counts, scatters }, { regCovar: ridge, tol: options.tol, maxIter: options.maxIter, minCount: 0, ...(prev === undefined ? {} : { prev }) });
      idx.forEach((k, j) => covariances.set(r.covariances.subarray(j * D * D, (j + 1) * D * D), k * D * D));
      fittedIdx = idx;
      break;
    } catch (e) {
      if (!(e instanceof DegenerateComponentError)) throw e;
      if (e.component >= 0 && m > 1) {
        removed.add(idx[e.component] as number);
        continue;
      }
      ridge = nextRidge(ridge, prepared.variance);
      if (ridge > cap) throw e;
    }
  }
  if (ridge > options.regCovar) {
    events.push({ type: 'regularized', detail: `the ${model} covariance M-step needed a ridge of ${ridge.toExponential(2)} (regCovar ${options.regCovar}): a pooled estimate was singular`, value: ridge });
  }
  // Reinitialize the components left out: a data row as mean, a copy of the largest fitted covariance.
  let donor = -1;
  for (const k of fittedIdx) if (donor < 0 || (nk[k] as number) > (nk[donor] as number)) donor = k;
  const reinitialized = [...removed].sort((a, b) => a - b);
  for (const k of reinitialized) {
    const row = ctx.pickRow(ctx.rng);
    for (let j = 0; j < D; j++) means[k * D + j] = (prepared.filled[row * D + j] as number) + (prepared.offset[j] as number);
    if (donor >= 0) covariances.copyWithin(k * D * D, donor * D * D, (donor + 1) * D * D);
    else {
      // Nothing could be fitted: the data's variances (a spherical matrix for spherical models, so the family is kept).
      const desc = COVARIANCE_MODEL_DESCRIPTORS[model];
      let meanVar = 0;
      for (const v of prepared.variance) meanVar += v / D;
      for (let j = 0; j < D; j++) covariances[k * D * D + j * D + j] = Math.max(desc.shape === 'identity' ? meanVar : (prepared.variance[j] as number), 1e-12) + ridge;
    }
    events.push({ type: 'reinitialized', component: k, detail: `component ${k} was ${(nk[k] as number) < EMPTY_COMPONENT_WEIGHT || ctx.empty.includes(k) ? 'empty' : `singular under ${model}`}; reinitialized at data row ${row}`, value: row });
  }
  let boundSlack = 0;
  if (prevCovariances !== undefined && ridge > 0) {
    for (const k of fittedIdx) boundSlack += 0.5 * ridge * (nk[k] as number) * (traceOfInverse(prevCovariances, k * D * D, D) - traceOfInverse(covariances, k * D * D, D));
    boundSlack = Math.max(0, boundSlack);
  }
  return { means, covariances, events, boundSlack, reinitialized };
}

/** Checks that the columns are observed enough for a K-component Gaussian of `model` (shared with Student-t). @internal */
export function validateGaussianColumns(view: FamilyColumnsView, nComponents: number, model: CovarianceModel, allowMissing: boolean, family: string): void {
  const d = view.columns.length;
  if ((model === 'E' || model === 'V') && d !== 1) {
    throw emError('INVALID_ARGUMENT', ['options', 'family', 'covariance'], model, `is univariate but the ${family} family has ${d} columns`, 'use EII or VII for several columns');
  }
  const observed = new Float64Array(d);
  const together = new Uint8Array(d * d);
  const row = new Int32Array(d);
  for (let r = 0; r < view.rows; r++) {
    let o = 0;
    for (let j = 0; j < d; j++) {
      if (Number.isNaN(view.at(r, j))) {
        if (!allowMissing) {
          throw emError('INVALID_DATA', ['data', r, view.columns[j] as number], Number.NaN, `is missing, and the ${family} family does not handle missing entries (column ${view.names[j]})`, 'impute or drop rows with missing entries in these columns, or model them with the gaussian family');
        }
      } else row[o++] = j;
    }
    for (let a = 0; a < o; a++) {
      const i = row[a] as number;
      observed[i] = (observed[i] as number) + 1;
      for (let b = a; b < o; b++) together[i * d + (row[b] as number)] = 1;
    }
  }
  for (let j = 0; j < d; j++) {
    const n = observed[j] as number;
    if (n === 0) throw emError('INVALID_DATA', ['data', 'column', view.columns[j] as number], 0, `column ${view.names[j]} has no observed value`, 'drop the column: nothing can be learned about it');
    if (n < nComponents) {
      throw emError('INVALID_DATA', ['data', 'column', view.columns[j] as number], n, `column ${view.names[j]} has ${n} observed values, fewer than nComponents = ${nComponents}`, 'reduce nComponents, drop the column, or pass more rows with it observed');
    }
  }
  if (COVARIANCE_MODEL_DESCRIPTORS[model].orientation !== 'identity') {
    for (let i = 0; i < d; i++) {
      for (let j = i + 1; j < d; j++) {
        if (together[i * d + j] === 0) {
          throw emError('INVALID_DATA', ['data', 'columns', `${view.names[i]},${view.names[j]}`], 0, `columns ${view.names[i]} and ${view.names[j]} are never observed in the same row, so their covariance cannot be estimated`, 'use a diagonal or spherical model (e.g. VVI, VII), or pass rows where both are observed');
        }
      }
    }
  }
}

/** Checks Gaussian-family parameters (shared with Student-t). @internal */
export function validateGaussianParams(params: unknown, nComponents: number, d: number | undefined, model: CovarianceModel, path: readonly (string | number)[]): void {
  if (typeof params !== 'object' || params === null) badParams(path, params, 'must be an object { covariance, means, covariances }', 'pass parameters from a fit result');
  const p = params as Record<string, unknown>;
  if (p['covariance'] !== model) badParams([...path, 'covariance'], p['covariance'], `must be '${model}' (this family's parameterization)`, 'start from parameters of a fit with the same covariance model');
  const first = Array.isArray(p['means']) ? (p['means'] as unknown[])[0] : undefined;
  const D = d ?? (Array.isArray(first) ? first.length : 0);
  if (D < 1) badParams([...path, 'means'], p['means'], 'must be K arrays of D numbers', 'pass one mean vector per component');
  checkNumbers(p['means'], [nComponents, D], [...path, 'means'], 'the means');
  checkNumbers(p['covariances'], [nComponents, D, D], [...path, 'covariances'], 'the covariances');
  const covs = p['covariances'] as number[][][];
  covs.forEach((mat, k) => {
    let scale = 0;
    for (const row of mat) for (const v of row) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < i; j++) {
        const a = (mat[i] as number[])[j] as number;
        const b = (mat[j] as number[])[i] as number;
        if (Math.abs(a - b) > 1e-8 * Math.max(scale, 1e-300)) badParams([...path, 'covariances', k, i, j], a, `differs from entry [${j}][${i}] = ${b}: the matrix is not symmetric`, 'symmetrize it, e.g. (S + Sᵀ)/2');
      }
    }
    if (cholesky(flatMatrices([mat], D), D) === null) badParams([...path, 'covariances', k], mat, `is not positive definite (component ${k})`, 'pass a positive definite covariance');
  });
}

/**
 * A Gaussian component family with mclust's parameterization `covariance`.
 *
 * log p(x | z = k) = log N(x_o | μ_k,o, Σ_k,oo) over the observed entries x_o
 * (missing entries are latent: their conditional given x_o and z enters the
 * statistics and H(q)). The M-step is the weighted mean and
 * `covarianceMStep` (iterative models to `mstepTol`, warm-started at the
 * previous covariances so E_q log p never decreases); with `regCovar` > 0 it
 * maximizes the ridge-regularized objective and reports the exact slack.
 *
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @example
 * ```ts
 * const mix = mixtureModel({ nComponents: 3, family: [gaussianFamily({ covariance: 'VEV' })] });
 * ```
 * @see Celeux & Govaert (1995), Gaussian parsimonious clustering models, Pattern Recognition 28(5).
 * @see Fraley & Raftery (2002), Model-based clustering, discriminant analysis, and density estimation, JASA 97.
 * @category General mixtures
 */
export function gaussianFamily(options: GaussianFamilyOptions = {}): ComponentFamily<GaussianFamilyParams, GmmStats, GaussianPrepared> {
  const { columns, ...rest } = options;
  const o = parseOptions(GAUSSIAN_FAMILY_OPTIONS, rest, { owner: 'gaussianFamily', pathOf: (k) => ['options', 'family', k] });
  const model = o['covariance'] as CovarianceModel;
  const mopts = { regCovar: o['regCovar'] as number, tol: o['mstepTol'] as number, maxIter: o['mstepMaxIter'] as number };
  const univariate = COVARIANCE_MODEL_DESCRIPTORS[model].univariate;
  return {
    name: 'gaussian',
    columns,
    missing: 'latent',
    spec: { family: 'gaussian', ...(columns === undefined ? {} : { columns: [...columns] }), ...o },
    arity: { min: 1, max: univariate ? 1 : Number.POSITIVE_INFINITY },
    algebra: gmmStatsAlgebra,
    validate(view, nComponents) {
      validateGaussianColumns(view, nComponents, model, true, 'gaussian');
    },
    prepare(data) {
      const d = data.columns.length;
      const { mean: offset, variance } = columnMoments(data.values, data.nRows, d, data.weights);
      const seg = buildSegments(data, offset);
      return { data, d, offset, variance, ...seg };
    },
    initialStats(prep, K, start, rows, weights) {
      const d = prep.d;
      const stats = zeroStats(K, d, new Float64Array(K * d));
      for (let c = 0; c < K; c++) stats.ref.set(prep.offset, c * d);
      for (let i = 0; i < rows; i++) {
        const r = start + i;
        if (prep.observed[r] === 0) continue;
        const base = r * d;
        for (let c = 0; c < K; c++) {
          const w = weights[i * K + c] as number;
          if (w === 0) continue;
          stats.n[c] = (stats.n[c] as number) + w;
          for (let a = 0; a < d; a++) {
            const wa = w * (prep.filled[base + a] as number);
            stats.s1[c * d + a] = (stats.s1[c * d + a] as number) + wa;
            for (let b = 0; b < d; b++) stats.s2[c * d * d + a * d + b] = (stats.s2[c * d * d + a * d + b] as number) + wa * (prep.filled[base + b] as number);
          }
        }
      }
      return stats;
    },
    structure(prep, params, K): FamilyStructure<GmmStats> {
      const d = prep.d;
      const gp = toGmm(params);
      const factors = gaussianFactors(params.means, params.covariances, prep.offset);
      if (factors === null) throw emError('INVALID_PARAMS', ['params', 'covariances'], params.covariances, 'are not all positive definite', 'pass positive definite covariances');
      const segments = prep.segments;
      return {
        block(start, rows): FamilyBlock<GmmStats> {
          const end = start + rows;
          // Complete parts through the flat kernel, parts with missing entries through hostChunks.
          const complete: { start: number; count: number }[] = [];
          const partial: PatternSegment[] = [];
          for (let s = firstSegment(segments, start); s < segments.length; s++) {
            const seg = segments[s] as PatternSegment;
            if (seg.start >= end) break;
            const a = Math.max(start, seg.start);
            const b = Math.min(end, seg.start + seg.count);
            const o = seg.obs.length;
            if (o === d) complete.push({ start: a, count: b - a });
            else partial.push({ obs: seg.obs, mis: seg.mis, start: a, count: b - a, xo: seg.xo.subarray((a - seg.start) * o, (b - seg.start) * o) });
          }
          const chunks = partial.length === 0 ? [] : hostChunks(partial, gp, factors.centredMeans, prep.offset, undefined);
          const placed = (fn: (ch: (typeof chunks)[number]) => Float64Array | Float32Array | undefined): Float64Array => {
            const out = new Float64Array(rows * K);
            for (const ch of chunks) {
              const t = fn(ch);
              if (t !== undefined) out.set(t, (ch.start - start) * K);
            }
            return out;
          };
          const sum = (fn: (ch: (typeof chunks)[number], w: FloatArray) => GmmStats, weights: FloatArray): GmmStats => {
            let acc: GmmStats | undefined;
            if (complete.length > 0) {
              acc = zeroStats(K, d, factors.means);
              for (const part of complete) addMoments(factors, prep.filled, part.start, part.count, weights, part.start - start, acc);
              mirrorUpper(acc);
            }
            for (const ch of chunks) {
              const from = (ch.start - start) * K;
              const part = fn(ch, weights.subarray(from, from + ch.rows * K));
              acc = acc === undefined ? part : gmmStatsAlgebra.add(acc, part);
            }
            return acc ?? zeroStats(K, d, factors.means);
          };
          const block: FamilyBlock<GmmStats> = {
            logDensity: () => {
              const out = placed((ch) => ch.logJoint());
              for (const part of complete) addLogDensity(factors, prep.filled, part.start, part.count, out, part.start - start);
              return out;
            },
            stats: (w) => sum((ch, ws) => ch.stats(ws), w),
          };
          if (!prep.anyMissing) return block;
          return {
            ...block,
            latentEntropy: () => placed((ch) => ch.latentEntropy?.()),
            sampleStats: (w, rng: Rng) => sum((ch, ws) => (ch.sampleStats === undefined ? ch.stats(ws) : ch.sampleStats(ws, rng.child('gaussian', ch.start))), w),
          };
        },
      };
    },
    mStep(stats, prev, prep, ctx): FamilyMStepResult<GaussianFamilyParams> {
      const K = stats.k;
      const d = stats.d;
      const r = gaussianFamilyMStep(model, stats, prev === undefined ? undefined : flatMatrices(prev.covariances, d), prep, mopts, ctx);
      return { params: { covariance: model, means: nestedRows(r.means, K, d), covariances: nestedMatrices(r.covariances, K, d) }, events: r.events, boundSlack: r.boundSlack };
    },
    expectedLogJoint(stats, params) {
      const f = factored(params);
      return gmmExpectedLogJoint(stats, f.gmm, f.factors);
    },
    roundoffScale(stats, params) {
      return covarianceRoundoffScale(stats.n, params.covariances, { means: params.means, ref: stats.ref });
    },
    nParameters(params) {
      const K = params.means.length;
      const d = (params.means[0] as number[]).length;
      return covarianceParameterCount(model, K, d) + K * d;
    },
    validateParams(params, nComponents, prep, path): asserts params is GaussianFamilyParams {
      validateGaussianParams(params, nComponents, prep?.d, model, path);
    },
    permute(params, order) {
      return { covariance: params.covariance, means: permuted(params.means, order), covariances: permuted(params.covariances, order) };
    },
    componentMean(params, k) {
      return (params.means[k] as number[])[0] as number;
    },
  };
}

