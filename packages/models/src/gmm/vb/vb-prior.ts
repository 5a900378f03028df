/**
 * The prior of variational Bayes for Gaussian mixtures, with scikit-learn's
 * defaults (`BayesianGaussianMixture._check_parameters`, scikit-learn 1.2).
 * @module
 */
import { cholesky, emError } from '@emlab/core';
import { checkMatrix } from './vb-check.js';
import { VB_COVARIANCE_TYPES, VB_WEIGHT_PRIOR_TYPES } from './vb-types.js';
import type { VbCovarianceType, VbMatrix, VbPrior, VbPriorOptions, VbWeightPriorType } from './vb-types.js';

const OPTION_NAMES = ['weightConcentrationPriorType', 'weightConcentrationPrior', 'meanPrecisionPrior', 'meanPrior', 'degreesOfFreedomPrior', 'covariancePrior'];

/** A finite number > min (an open interval, as scikit-learn's `Interval(Real, min, None, closed='neither')`). */
function positiveOption(value: unknown, name: string, min: number, remedy: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > min)) {
    throw emError('INVALID_ARGUMENT', ['options', name], value, `must be a finite number > ${min}`, remedy);
  }
  return value;
}

/** Column means and the unbiased (N − 1) covariance matrix, two-pass, `[D]` and `[D, D]`. */
function dataMoments(x: VbMatrix): { mean: Float64Array; cov: Float64Array } {
  const { values, rows, cols: d } = x;
  const mean = new Float64Array(d);
  for (let n = 0; n < rows; n++) for (let i = 0; i < d; i++) mean[i] = (mean[i] as number) + (values[n * d + i] as number);
  for (let i = 0; i < d; i++) mean[i] = (mean[i] as number) / rows;
  const cov = new Float64Array(d * d);
  const diff = new Float64Array(d);
  for (let n = 0; n < rows; n++) {
    for (let i = 0; i < d; i++) diff[i] = (values[n * d + i] as number) - (mean[i] as number);
    for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) cov[i * d + j] = (cov[i * d + j] as number) + (diff[i] as number) * (diff[j] as number);
  }
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      const v = (cov[i * d + j] as number) / (rows - 1);
      cov[i * d + j] = v;
      cov[j * d + i] = v;
    }
  }
  return { mean, cov };
}

/** The covariance prior given by the user, as a full `[D, D]` matrix, checked for the covariance type. */
function givenCovariancePrior(value: unknown, type: VbCovarianceType, d: number): Float64Array {
  const path = ['options', 'covariancePrior'];
  const out = new Float64Array(d * d);
  if (type === 'spherical') {
    const v = positiveOption(value, 'covariancePrior', 0, 'pass one variance > 0 for covarianceType spherical');
    for (let i = 0; i < d; i++) out[i * d + i] = v;
    return out;
  }
  const isArrayLike = (a: unknown): a is ArrayLike<unknown> => typeof a === 'object' && a !== null && typeof (a as { length?: unknown }).length === 'number';
  if (type === 'diag') {
    if (!isArrayLike(value) || value.length !== d) {
      throw emError('INVALID_ARGUMENT', path, value, `must be ${d} variances for covarianceType diag`, 'pass one variance > 0 per feature');
    }
    for (let i = 0; i < d; i++) {
      const v = value[i];
      if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) {
        throw emError('INVALID_ARGUMENT', [...path, i], v, 'must be a finite number > 0', 'pass one variance > 0 per feature');
      }
      out[i * d + i] = v;
    }
    return out;
  }
  // full / tied: d rows of d numbers, or d·d numbers row-major.
  const entry = (i: number, j: number): unknown => {
    if (!isArrayLike(value)) return undefined;
    if (value.length === d * d && typeof value[0] === 'number') return value[i * d + j];
    const row = value[i];
    return isArrayLike(row) && row.length === d ? row[j] : undefined;
  };
  if (!isArrayLike(value) || !(value.length === d || value.length === d * d)) {
    throw emError('INVALID_ARGUMENT', path, value, `must be a ${d}x${d} matrix for covarianceType ${type}`, 'pass a symmetric positive definite matrix (rows, or d·d numbers row-major)');
  }
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      const v = entry(i, j);
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw emError('INVALID_ARGUMENT', [...path, i, j], v, `must be a finite number (a ${d}x${d} matrix)`, 'pass a symmetric positive definite matrix');
      }
      out[i * d + j] = v;
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) {
      const a = out[i * d + j] as number;
      const b = out[j * d + i] as number;
      // numpy.allclose(a, aᵀ), as scikit-learn's _check_precision_matrix.
      if (!(Math.abs(a - b) <= 1e-8 + 1e-5 * Math.abs(b))) {
        throw emError('INVALID_ARGUMENT', [...path, i, j], a, `must equal entry [${j}][${i}] = ${b} (the matrix must be symmetric)`, 'pass a symmetric positive definite matrix');
      }
      const s = 0.5 * (a + b);
      out[i * d + j] = s;
      out[j * d + i] = s;
    }
  }
  if (cholesky(out, d) === null) {
    throw emError('NOT_POSITIVE_DEFINITE', path, value, 'is not positive definite', 'pass a positive definite matrix, e.g. the data covariance (the default)');
  }
  return out;
}

/** The default covariance prior (scikit-learn's: the data's N − 1 covariance, its diagonal, or its mean variance). */
function defaultCovariancePrior(cov: Float64Array, type: VbCovarianceType, d: number, rows: number): Float64Array {
  if (rows < 2) {
    throw emError('INVALID_DATA', ['x', 'rows'], rows, 'must be >= 2 for the default covariancePrior (the data covariance)', 'pass more rows or give options.covariancePrior');
  }
  const out = new Float64Array(d * d);
  if (type === 'full' || type === 'tied') {
    out.set(cov);
    if (cholesky(out, d) === null) {
      throw emError(
        'INVALID_DATA',
        ['x'],
        `${rows}x${d}`,
        'has a singular covariance matrix (a constant column, or a column that is a linear combination of others), so the default covariancePrior is not positive definite',
        'drop the redundant columns or give options.covariancePrior',
      );
    }
    return out;
  }
  let mean = 0;
  for (let i = 0; i < d; i++) {
    const v = cov[i * d + i] as number;
    if (type === 'diag' && !(v > 0)) {
      throw emError('INVALID_DATA', ['x', 'column', i], v, 'is a constant column, so its default prior variance is 0', 'drop the column or give options.covariancePrior');
    }
    out[i * d + i] = v;
    mean += v;
  }
  if (type === 'diag') return out;
  mean /= d;
  if (!(mean > 0)) {
    throw emError('INVALID_DATA', ['x'], `${rows}x${d}`, 'has only constant columns, so the default spherical prior variance is 0', 'give options.covariancePrior');
  }
  out.fill(0);
  for (let i = 0; i < d; i++) out[i * d + i] = mean;
  return out;
}

/**
 * The Normal–Wishart / Dirichlet (or stick-breaking) prior, with scikit-learn's defaults from the data.
 *
 * Defaults (scikit-learn 1.2): weightConcentrationPriorType `'dirichlet_process'`,
 * weightConcentrationPrior 1/K, meanPrecisionPrior 1, meanPrior the column
 * means, degreesOfFreedomPrior D, covariancePrior the unbiased (N − 1) data
 * covariance (`full`, `tied`), its diagonal (`diag`) or the mean of its
 * diagonal (`spherical`). The covariance prior is W₀⁻¹ and is stored as a full
 * `[D, D]` matrix for every type.
 *
 * @param x Data `[N, D]`, row-major.
 * @param nComponents K ≥ 1 (the truncation level for the stick-breaking prior).
 * @param covarianceType Decides the shape and default of `covariancePrior`.
 * @param options Scikit-learn's prior parameters in camelCase.
 * @throws EmError `INVALID_DATA` for a non-finite entry, a bad shape, or (default
 *   covariance prior) fewer than 2 rows or a singular data covariance.
 * @throws EmError `INVALID_ARGUMENT` for an unknown option, a bad type name, a
 *   concentration, mean precision or covariance entry that is not > 0, a mean
 *   prior of the wrong length, degreesOfFreedomPrior ≤ D − 1, a non-symmetric
 *   covariance prior.
 * @throws EmError `NOT_POSITIVE_DEFINITE` for a given full/tied covariance prior that is not.
 * @example
 * ```ts
 * const prior = vbPrior({ values, rows: 200, cols: 2 }, 5, 'full', { weightConcentrationPrior: 0.01 });
 * ```
 * @see Bishop (2006), Pattern Recognition and Machine Learning, §10.2 (eq. 10.39–10.40);
 *   scikit-learn's `BayesianGaussianMixture`.
 * @category Variational Bayes
 */
export function vbPrior(x: VbMatrix, nComponents: number, covarianceType: VbCovarianceType, options: VbPriorOptions = {}): VbPrior {
  if (typeof options !== 'object' || options === null) {
    throw emError('INVALID_ARGUMENT', ['options'], options, 'must be an object', 'pass prior options or omit them');
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) {
      throw emError('INVALID_ARGUMENT', ['options', key], (options as Record<string, unknown>)[key], 'is not a prior option', `use one of: ${OPTION_NAMES.join(', ')}`);
    }
  }
  if (!Number.isInteger(nComponents) || nComponents < 1) {
    throw emError('INVALID_ARGUMENT', ['nComponents'], nComponents, 'must be an integer >= 1', 'pass the number of components K (the truncation level)');
  }
  if (!VB_COVARIANCE_TYPES.includes(covarianceType)) {
    throw emError('INVALID_ARGUMENT', ['covarianceType'], covarianceType, `must be one of ${VB_COVARIANCE_TYPES.join(', ')}`, "pass 'full', 'diag', 'spherical' or 'tied'");
  }
  const weightType: VbWeightPriorType = options.weightConcentrationPriorType ?? 'dirichlet_process';
  if (!VB_WEIGHT_PRIOR_TYPES.includes(weightType)) {
    throw emError('INVALID_ARGUMENT', ['options', 'weightConcentrationPriorType'], weightType, `must be one of ${VB_WEIGHT_PRIOR_TYPES.join(', ')}`, "pass 'dirichlet_process' or 'dirichlet_distribution'");
  }
  if (options.weightConcentrationPrior !== undefined) positiveOption(options.weightConcentrationPrior, 'weightConcentrationPrior', 0, 'pass a concentration > 0 (default 1/K)');
  if (options.meanPrecisionPrior !== undefined) positiveOption(options.meanPrecisionPrior, 'meanPrecisionPrior', 0, 'pass a mean precision > 0 (default 1)');
  checkMatrix(x, 'x');
  const needMoments = options.meanPrior === undefined || options.covariancePrior === undefined;
  return priorFrom(needMoments ? dataMoments(x) : undefined, x.cols, x.rows, nComponents, covarianceType, weightType, options);
}

/**
 * {@link vbPrior} from data moments instead of the data: the mean `[D]` and the covariance `[D, D]`
 * with denominator W − 1 (W = Σ row weights; N − 1 for unweighted rows, as scikit-learn), used for
 * the defaults of `meanPrior` and `covariancePrior`. What a model with row weights calls.
 * @param moments - mean and covariance, or undefined when both priors are given.
 * @param nFeatures - D.
 * @param totalWeight - W (the default covariance prior needs W ≥ 2).
 * @throws EmError as {@link vbPrior}.
 * @category Variational Bayes
 */
export function vbPriorFromMoments(
  moments: { readonly mean: Float64Array; readonly cov: Float64Array } | undefined,
  nFeatures: number,
  totalWeight: number,
  nComponents: number,
  covarianceType: VbCovarianceType,
  options: VbPriorOptions = {},
): VbPrior {
  if (typeof options !== 'object' || options === null) {
    throw emError('INVALID_ARGUMENT', ['options'], options, 'must be an object', 'pass prior options or omit them');
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) {
      throw emError('INVALID_ARGUMENT', ['options', key], (options as Record<string, unknown>)[key], 'is not a prior option', `use one of: ${OPTION_NAMES.join(', ')}`);
    }
  }
  if (!Number.isInteger(nComponents) || nComponents < 1) {
    throw emError('INVALID_ARGUMENT', ['nComponents'], nComponents, 'must be an integer >= 1', 'pass the number of components K (the truncation level)');
  }
  if (!VB_COVARIANCE_TYPES.includes(covarianceType)) {
    throw emError('INVALID_ARGUMENT', ['covarianceType'], covarianceType, `must be one of ${VB_COVARIANCE_TYPES.join(', ')}`, "pass 'full', 'diag', 'spherical' or 'tied'");
  }
  const weightType: VbWeightPriorType = options.weightConcentrationPriorType ?? 'dirichlet_process';
  if (!VB_WEIGHT_PRIOR_TYPES.includes(weightType)) {
    throw emError('INVALID_ARGUMENT', ['options', 'weightConcentrationPriorType'], weightType, `must be one of ${VB_WEIGHT_PRIOR_TYPES.join(', ')}`, "pass 'dirichlet_process' or 'dirichlet_distribution'");
  }
  if ((options.meanPrior === undefined || options.covariancePrior === undefined) && moments === undefined) {
    throw emError('INVALID_ARGUMENT', ['moments'], moments, 'are needed for the default meanPrior / covariancePrior', 'pass the data moments or give both priors');
  }
  return priorFrom(moments, nFeatures, totalWeight, nComponents, covarianceType, weightType, options);
}

function priorFrom(
  moments: { readonly mean: Float64Array; readonly cov: Float64Array } | undefined,
  d: number,
  rows: number,
  nComponents: number,
  covarianceType: VbCovarianceType,
  weightType: VbWeightPriorType,
  options: VbPriorOptions,
): VbPrior {
  const weightConcentrationPrior =
    options.weightConcentrationPrior === undefined ? 1 / nComponents : positiveOption(options.weightConcentrationPrior, 'weightConcentrationPrior', 0, 'pass a concentration > 0 (default 1/K)');
  const meanPrecisionPrior = options.meanPrecisionPrior === undefined ? 1 : positiveOption(options.meanPrecisionPrior, 'meanPrecisionPrior', 0, 'pass a mean precision > 0 (default 1)');
  const degreesOfFreedomPrior =
    options.degreesOfFreedomPrior === undefined ? d : positiveOption(options.degreesOfFreedomPrior, 'degreesOfFreedomPrior', d - 1, `pass degrees of freedom > D - 1 = ${d - 1} (default D = ${d})`);
  let meanPrior: Float64Array;
  if (options.meanPrior === undefined) {
    meanPrior = (moments as { mean: Float64Array }).mean;
  } else {
    const m = options.meanPrior;
    if (typeof m !== 'object' || m === null || m.length !== d) {
      throw emError('INVALID_ARGUMENT', ['options', 'meanPrior'], m, `must have D = ${d} entries`, 'pass one prior mean per feature (default the data mean)');
    }
    meanPrior = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      const v = m[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw emError('INVALID_ARGUMENT', ['options', 'meanPrior', i], v, 'must be a finite number', 'pass finite prior means');
      }
      meanPrior[i] = v;
    }
  }
  const covariancePrior =
    options.covariancePrior === undefined
      ? defaultCovariancePrior((moments as { cov: Float64Array }).cov, covarianceType, d, rows)
      : givenCovariancePrior(options.covariancePrior, covarianceType, d);
  return {
    nComponents,
    nFeatures: d,
    weightConcentrationPriorType: weightType,
    weightConcentrationPrior,
    meanPrecisionPrior,
    meanPrior,
    degreesOfFreedomPrior,
    covariancePrior,
  };
}
