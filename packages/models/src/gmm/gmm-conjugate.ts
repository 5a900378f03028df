/**
 * The Gaussian mixture's conjugate hook (`Model.conjugate`): variational
 * Bayes over θ = (π, μ, Λ) with scikit-learn's `BayesianGaussianMixture`
 * prior (Dirichlet or truncated stick-breaking weights, Normal–Wishart
 * components), binding the maths in `vb/` to the model's statistics.
 *
 * The statistics are the model's own {@link GmmStats} (moments about
 * reference points), so the `vb` method can run any registered `finite`
 * E-step on q(z); the posterior update converts them to scikit-learn's
 * (N_k + 10ε, x̄_k, S_k + regCovar·I) exactly (no second pass over the data).
 * Complete data only (a missing entry is an `INVALID_DATA` error).
 *
 * @see Bishop, C. M. (2006). Pattern Recognition and Machine Learning, §10.2.
 * @see Blei, D. M. & Jordan, M. I. (2006). Variational inference for Dirichlet process mixtures.
 * @module
 */
import { cholesky, emError, invertLower, type ConjugateHooks, type FiniteChunk, type FiniteStructure, type OptionSchema } from '@emlab/core';
import { BLOCK_ROWS, columnMoments, readMatrix, type GmmPrepared } from './gmm-data.js';
import { frameFor } from './gmm-frame.js';
import { gmmStatsAlgebra, packParams, rereference } from './gmm-math.js';
import type { CovarianceType, GmmData, GmmParams, GmmStats } from './gmm-types.js';
import { vbKlDivergence } from './vb/vb-elbo.js';
import { vbExpectedLogDetPrecision, vbExpectedLogWeights, vbLogTable } from './vb/vb-log-table.js';
import { vbExpectedWeights, vbPredictiveLogDensity } from './vb/vb-predictive.js';
import { vbPriorFromMoments } from './vb/vb-prior.js';
import { VB_EMPTY_GUARD } from './vb/vb-statistics.js';
import { VB_WEIGHT_PRIOR_TYPES, type VbPosterior, type VbPrior, type VbPriorOptions, type VbStats, type VbWeightConcentration } from './vb/vb-types.js';
import { vbUpdate } from './vb/vb-update.js';

const LOG_2PI = Math.log(2 * Math.PI);

const jsonValue = (what: string) => (text: string, path: readonly (string | number)[]): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw emError('INVALID_ARGUMENT', path, text, `is not JSON (${what})`, 'pass e.g. covariancePrior=[[1,0],[0,1]]');
  }
};

/**
 * The prior options of variational Bayes for a Gaussian mixture (scikit-learn's names in camelCase,
 * scikit-learn's defaults; see `vbPrior`).
 * @category Gaussian mixtures
 */
export const GMM_VB_PRIOR_OPTIONS = {
  weightConcentrationPriorType: { type: 'enum', values: VB_WEIGHT_PRIOR_TYPES, default: 'dirichlet_process', description: 'stick-breaking (truncated Dirichlet process) or finite Dirichlet prior on the weights' },
  weightConcentrationPrior: { type: 'number', min: 0, exclusiveMin: true, description: 'γ₀ (stick-breaking) or α₀ (Dirichlet); default 1/K' },
  meanPrecisionPrior: { type: 'number', min: 0, exclusiveMin: true, description: 'β₀; default 1' },
  meanPrior: { type: 'number-list', description: 'm₀, one number per feature; default the data mean' },
  degreesOfFreedomPrior: { type: 'number', description: 'ν₀ > D − 1; default D' },
  covariancePrior: {
    type: 'custom',
    shape: 'a D×D matrix (full, tied), D variances (diag) or one variance (spherical)',
    description: "W₀⁻¹; default the data covariance (N − 1), its diagonal or its mean variance, by covariance type",
    check: (v) => v,
    parse: jsonValue('a matrix, a list or a number'),
  },
} as const satisfies OptionSchema;

/** Weighted column means and the (W − 1)-denominator covariance of the prepared rows (original units). */
function weightedMoments(prepared: GmmPrepared): { mean: Float64Array; cov: Float64Array } {
  const d = prepared.nFeatures;
  const n = prepared.nRows;
  const x = prepared.centred;
  const w = prepared.weights;
  const total = prepared.totalWeight;
  const centre = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const wr = w === undefined ? 1 : (w[r] as number);
    for (let i = 0; i < d; i++) centre[i] = (centre[i] as number) + wr * (x[r * d + i] as number);
  }
  for (let i = 0; i < d; i++) centre[i] = (centre[i] as number) / total;
  const cov = new Float64Array(d * d);
  const diff = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const wr = w === undefined ? 1 : (w[r] as number);
    if (wr === 0) continue;
    for (let i = 0; i < d; i++) diff[i] = (x[r * d + i] as number) - (centre[i] as number);
    for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) cov[i * d + j] = (cov[i * d + j] as number) + wr * (diff[i] as number) * (diff[j] as number);
  }
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      const v = (cov[i * d + j] as number) / (total - 1);
      cov[i * d + j] = v;
      cov[j * d + i] = v;
    }
  }
  const mean = new Float64Array(d);
  for (let i = 0; i < d; i++) mean[i] = (prepared.offset[i] as number) + (centre[i] as number);
  return { mean, cov };
}

/**
 * scikit-learn's statistics (N_k + 10ε, x̄_k, S_k + regCovar·I) from a Gaussian mixture's moments
 * about reference points (exact algebra: x̄_k = (n_k ref_k + s1_k) / (n_k + 10ε), S_k from s2_k
 * re-centred at x̄_k).
 * @category Gaussian mixtures
 */
export function vbStatsFromMoments(stats: GmmStats, regCovar: number): VbStats {
  const { k, d } = stats;
  const nk = new Float64Array(k);
  const means = new Float64Array(k * d);
  const covariances = new Float64Array(k * d * d);
  for (let c = 0; c < k; c++) {
    const n = stats.n[c] as number;
    const guarded = n + VB_EMPTY_GUARD;
    nk[c] = guarded;
    const delta = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      const ref = stats.ref[c * d + i] as number;
      const m = (n * ref + (stats.s1[c * d + i] as number)) / guarded;
      means[c * d + i] = m;
      delta[i] = m - ref;
    }
    const base = c * d * d;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) {
        const s2 = 0.5 * ((stats.s2[base + i * d + j] as number) + (stats.s2[base + j * d + i] as number));
        const a = stats.s1[c * d + i] as number;
        const b = stats.s1[c * d + j] as number;
        const scatter = s2 - a * (delta[j] as number) - (delta[i] as number) * b + n * (delta[i] as number) * (delta[j] as number);
        const v = scatter / guarded + (i === j ? regCovar : 0);
        covariances[base + i * d + j] = v;
        covariances[base + j * d + i] = v;
      }
    }
  }
  return { nComponents: k, nFeatures: d, nk, means, covariances, regCovar };
}

/** (r/2) Σ_k n_k tr(Σ_k⁻¹): the regCovar penalty the update maximizes the ELBO minus (see `vbRegCovarPenalty`). */
function penalty(posterior: VbPosterior, n: Float64Array, regCovar: number): number {
  const { nComponents: k, nFeatures: d } = posterior.prior;
  let total = 0;
  for (let c = 0; c < k; c++) {
    let trace = 0;
    for (let e = 0; e < d * d; e++) trace += (posterior.precisionsCholesky[c * d * d + e] as number) ** 2;
    total += (n[c] as number) * trace;
  }
  return 0.5 * regCovar * total;
}

/** Σ_k⁻¹ = U Uᵀ from the precision Cholesky factor, `[D, D]`. */
function precisionOf(posterior: VbPosterior, c: number, d: number): Float64Array {
  const u = posterior.precisionsCholesky;
  const base = c * d * d;
  const p = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let l = Math.max(i, j); l < d; l++) s += (u[base + i * d + l] as number) * (u[base + j * d + l] as number);
      p[i * d + j] = s;
      p[j * d + i] = s;
    }
  }
  return p;
}

/**
 * E_q(z) E_q(θ)[log p(x, z | θ)] from statistics: Σ_k n_k (E log π_k + ½ E log |Λ_k| − (D/2) log 2π
 * − D/(2β_k)) − ½ tr(Σ_k⁻¹ M_k), with M_k the second moment about m_k and Σ_k⁻¹ = ν_k W_k = E_q Λ_k.
 * Equals Σ_nk w_nk · vbLogTable_nk for the weights the statistics came from.
 * @category Gaussian mixtures
 */
export function vbExpectedLogJoint(stats: GmmStats, posterior: VbPosterior): number {
  const { nComponents: k, nFeatures: d } = posterior.prior;
  const re = rereference(stats, posterior.means);
  const logW = vbExpectedLogWeights(posterior);
  const logDet = vbExpectedLogDetPrecision(posterior);
  let total = 0;
  for (let c = 0; c < k; c++) {
    const n = re.n[c] as number;
    if (n === 0) continue;
    const p = precisionOf(posterior, c, d);
    let trace = 0;
    for (let e = 0; e < d * d; e++) trace += (p[e] as number) * (re.s2[c * d * d + e] as number);
    total += n * ((logW[c] as number) + 0.5 * (logDet[c] as number) - 0.5 * d * LOG_2PI - (0.5 * d) / (posterior.meanPrecision[c] as number)) - 0.5 * trace;
  }
  return total;
}

const toRows = (a: Float64Array, rows: number, cols: number): number[][] => Array.from({ length: rows }, (_, r) => Array.from(a.subarray(r * cols, (r + 1) * cols)));

/** The posterior (with its prior) as plain JSON. @category Gaussian mixtures */
export function vbPosteriorToJson(posterior: VbPosterior): Readonly<Record<string, unknown>> {
  const { nComponents: k, nFeatures: d } = posterior.prior;
  const p = posterior.prior;
  const w = posterior.weightConcentration;
  return {
    covarianceType: posterior.covarianceType,
    prior: {
      nComponents: k,
      nFeatures: d,
      weightConcentrationPriorType: p.weightConcentrationPriorType,
      weightConcentrationPrior: p.weightConcentrationPrior,
      meanPrecisionPrior: p.meanPrecisionPrior,
      meanPrior: Array.from(p.meanPrior),
      degreesOfFreedomPrior: p.degreesOfFreedomPrior,
      covariancePrior: toRows(p.covariancePrior, d, d),
    },
    weightConcentration: w.type === 'dirichlet_distribution' ? { type: w.type, alpha: Array.from(w.alpha) } : { type: w.type, beta1: Array.from(w.beta1), beta2: Array.from(w.beta2) },
    meanPrecision: Array.from(posterior.meanPrecision),
    means: toRows(posterior.means, k, d),
    degreesOfFreedom: Array.from(posterior.degreesOfFreedom),
    covariances: Array.from({ length: k }, (_, c) => toRows(posterior.covariances.subarray(c * d * d, (c + 1) * d * d), d, d)),
  };
}

/**
 * A posterior from {@link vbPosteriorToJson} (e.g. `FitResult.report.posterior` of the `vb` method).
 * @throws EmError `INVALID_PARAMS` naming the field.
 * @category Gaussian mixtures
 */
export function vbPosteriorFromJson(json: Readonly<Record<string, unknown>>): VbPosterior {
  const bad = (field: string, value: unknown, problem: string): never => {
    throw emError('INVALID_PARAMS', ['posterior', field], value, problem, "pass the report.posterior of a 'vb' fit of this model");
  };
  const num = (v: unknown, field: string): number => (typeof v === 'number' && Number.isFinite(v) ? v : bad(field, v, 'must be a finite number'));
  const flat = (v: unknown, field: string, length: number): Float64Array => {
    const out = Float64Array.from((Array.isArray(v) ? (v as unknown[]).flat(2) : []) as number[]);
    if (out.length !== length || out.some((x) => !Number.isFinite(x))) bad(field, v, `must hold ${length} finite numbers`);
    return out;
  };
  const p = (json['prior'] ?? {}) as Record<string, unknown>;
  const k = num(p['nComponents'], 'prior.nComponents');
  const d = num(p['nFeatures'], 'prior.nFeatures');
  const type = json['covarianceType'] as CovarianceType;
  if (!['full', 'diag', 'spherical', 'tied'].includes(type)) bad('covarianceType', type, 'must be full, diag, spherical or tied');
  const weightType = p['weightConcentrationPriorType'];
  if (weightType !== 'dirichlet_process' && weightType !== 'dirichlet_distribution') bad('prior.weightConcentrationPriorType', weightType, 'must be dirichlet_process or dirichlet_distribution');
  const prior: VbPrior = {
    nComponents: k,
    nFeatures: d,
    weightConcentrationPriorType: weightType as VbPrior['weightConcentrationPriorType'],
    weightConcentrationPrior: num(p['weightConcentrationPrior'], 'prior.weightConcentrationPrior'),
    meanPrecisionPrior: num(p['meanPrecisionPrior'], 'prior.meanPrecisionPrior'),
    meanPrior: flat(p['meanPrior'], 'prior.meanPrior', d),
    degreesOfFreedomPrior: num(p['degreesOfFreedomPrior'], 'prior.degreesOfFreedomPrior'),
    covariancePrior: flat(p['covariancePrior'], 'prior.covariancePrior', d * d),
  };
  const wc = (json['weightConcentration'] ?? {}) as Record<string, unknown>;
  const weightConcentration: VbWeightConcentration =
    weightType === 'dirichlet_distribution'
      ? { type: 'dirichlet_distribution', alpha: flat(wc['alpha'], 'weightConcentration.alpha', k) }
      : { type: 'dirichlet_process', beta1: flat(wc['beta1'], 'weightConcentration.beta1', k), beta2: flat(wc['beta2'], 'weightConcentration.beta2', k) };
  const covariances = flat(json['covariances'], 'covariances', k * d * d);
  const precisionsCholesky = new Float64Array(k * d * d);
  for (let c = 0; c < k; c++) {
    const l = cholesky(covariances.slice(c * d * d, (c + 1) * d * d), d);
    if (l === null) bad('covariances', c, `component ${c} is not positive definite`);
    const linv = invertLower(l as Float64Array, d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) precisionsCholesky[c * d * d + i * d + j] = linv[j * d + i] as number;
  }
  return {
    covarianceType: type,
    prior,
    weightConcentration,
    meanPrecision: flat(json['meanPrecision'], 'meanPrecision', k),
    means: flat(json['means'], 'means', k * d),
    degreesOfFreedom: flat(json['degreesOfFreedom'], 'degreesOfFreedom', k),
    covariances,
    precisionsCholesky,
  };
}

/**
 * The conjugate hook of a Gaussian mixture with K components, a covariance type and regCovar
 * (`GaussianMixture.conjugate`). See the module documentation.
 * @category Gaussian mixtures
 */
export function gmmConjugate(nComponents: number, covarianceType: CovarianceType, regCovar: number): ConjugateHooks<GmmData, GmmParams, GmmStats, GmmPrepared, VbPrior, VbPosterior> {
  return {
    priorOptions: GMM_VB_PRIOR_OPTIONS,
    check(data) {
      const { values, rows, cols } = readMatrix(data);
      for (let i = 0; i < rows * cols; i++) {
        if (Number.isNaN(values[i])) {
          throw emError('INVALID_DATA', ['data', Math.floor(i / cols), i % cols], Number.NaN, 'is missing; variational Bayes over the mixture parameters takes complete data', 'impute or drop the incomplete rows, or fit by EM (missing entries are latent there)');
        }
      }
      // Columns far from unit scale are fitted in a frame of powers of two (gmm-frame.ts); the VB maths here works in original units.
      const { offset, variance } = columnMoments(values, rows, cols);
      const maxDev = new Float64Array(cols);
      for (let i = 0; i < values.length; i++) maxDev[i % cols] = Math.max(maxDev[i % cols] as number, Math.abs((values[i] as number) - (offset[i % cols] as number)));
      const frame = frameFor(Float64Array.from(variance, Math.sqrt), maxDev);
      if (frame !== undefined) {
        const c = frame.findIndex((f) => f !== 1);
        throw emError('INVALID_DATA', ['data', 'column', c], Math.sqrt(variance[c] as number), 'has a spread outside [2^-40, 2^40]; variational Bayes over the mixture parameters works in original units only', 'rescale the column (e.g. standardize the data) or fit by EM');
      }
    },
    prior(prepared, options) {
      if (prepared.frame !== undefined) {
        throw emError('INVALID_DATA', ['data'], Array.from(prepared.frame), 'has columns whose spread is outside [2^-40, 2^40] (scaled by these powers of two); variational Bayes over the mixture parameters works in original units only', 'rescale the columns (e.g. standardize the data) or fit by EM');
      }
      if (prepared.missing !== undefined) {
        throw emError('INVALID_DATA', ['data'], `${prepared.missing.nMissingCells} missing cells`, 'has missing entries; variational Bayes over the mixture parameters takes complete data', 'impute or drop the incomplete rows, or fit by EM (missing entries are latent there)');
      }
      const needMoments = options['meanPrior'] === undefined || options['covariancePrior'] === undefined;
      const moments = needMoments ? weightedMoments(prepared) : undefined;
      return vbPriorFromMoments(moments, prepared.nFeatures, prepared.totalWeight, nComponents, covarianceType, options as VbPriorOptions);
    },
    posterior(stats, prior, previous) {
      const posterior = vbUpdate(vbStatsFromMoments(stats, regCovar), prior, covarianceType);
      if (previous === undefined || regCovar === 0) return { posterior };
      return { posterior, slack: Math.max(0, penalty(previous, stats.n, regCovar) - penalty(posterior, stats.n, regCovar)) };
    },
    structure(prepared, posterior) {
      const d = prepared.nFeatures;
      const k = nComponents;
      const n = prepared.nRows;
      const ref = posterior.means;
      const rowsOf = (start: number, rows: number): Float64Array => {
        const x = new Float64Array(rows * d);
        for (let r = 0; r < rows; r++) for (let i = 0; i < d; i++) x[r * d + i] = (prepared.centred[(start + r) * d + i] as number) + (prepared.offset[i] as number);
        return x;
      };
      const chunk = (start: number, rows: number): FiniteChunk<GmmStats> => ({
        rows,
        start,
        ...(prepared.weights === undefined ? {} : { weights: prepared.weights.subarray(start, start + rows) }),
        logJoint: () => vbLogTable({ values: rowsOf(start, rows), rows, cols: d }, posterior),
        stats: (w) => {
          const x = rowsOf(start, rows);
          const nk = new Float64Array(k);
          const s1 = new Float64Array(k * d);
          const s2 = new Float64Array(k * d * d);
          const diff = new Float64Array(d);
          for (let c = 0; c < k; c++) {
            const base = c * d * d;
            for (let r = 0; r < rows; r++) {
              const wr = w[r * k + c] as number;
              if (wr === 0) continue;
              nk[c] = (nk[c] as number) + wr;
              for (let i = 0; i < d; i++) diff[i] = (x[r * d + i] as number) - (ref[c * d + i] as number);
              for (let i = 0; i < d; i++) {
                const a = wr * (diff[i] as number);
                s1[c * d + i] = (s1[c * d + i] as number) + a;
                for (let j = 0; j <= i; j++) s2[base + i * d + j] = (s2[base + i * d + j] as number) + a * (diff[j] as number);
              }
            }
            for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) s2[base + j * d + i] = s2[base + i * d + j] as number;
          }
          return { k, d, n: nk, s1, s2, ref: ref.slice() };
        },
      });
      const lists = new Map<number, FiniteChunk<GmmStats>[]>();
      const structure: FiniteStructure<GmmStats> = {
        kind: 'finite',
        precision: 'float64',
        nRows: n,
        nComponents: k,
        algebra: gmmStatsAlgebra,
        chunks(o) {
          const size = o?.maxRows === undefined || !(o.maxRows >= 1) ? BLOCK_ROWS : Math.min(BLOCK_ROWS, Math.floor(o.maxRows));
          let list = lists.get(size);
          if (list === undefined) {
            list = [];
            for (let start = 0; start < n; start += size) list.push(chunk(start, Math.min(size, n - start)));
            lists.set(size, list);
          }
          return list;
        },
      };
      return structure;
    },
    expectedLogJoint: vbExpectedLogJoint,
    klDivergence: (posterior) => vbKlDivergence(posterior),
    pointEstimate(posterior) {
      const w = vbExpectedWeights(posterior);
      const total = w.reduce((a, b) => a + b, 0);
      return packParams(covarianceType, w.map((v) => v / total), posterior.means, posterior.covariances, posterior.prior.nFeatures);
    },
    toJson: vbPosteriorToJson,
    predictiveLogDensity(json, data) {
      const posterior = vbPosteriorFromJson(json);
      const x = readMatrix(data);
      if (x.values.some((v) => Number.isNaN(v))) {
        throw emError('INVALID_DATA', ['data'], 'NaN', 'has missing entries; the predictive density here takes complete rows', 'drop or impute incomplete rows');
      }
      return vbPredictiveLogDensity(x, posterior);
    },
  };
}
