/**
 * The Gaussian mixture's gradient adapter: its log-likelihood as a
 * differentiable function of unconstrained coordinates ϑ, for core's
 * `fitGradient` (gradient-ascent baseline) and `stationarity` check.
 * Registered for models named `'gmm'` when this module is imported (it is,
 * by `@emlab/models`' index).
 *
 * Coordinates, in standardized units (data centred by the column means x̄ in
 * float64 and divided by a scale s_j: the column's standard deviation for
 * `full`, `diag` and `tied`, one common scale √(mean variance) for
 * `spherical`, so that a spherical covariance stays spherical; 1 for a
 * constant column). With S = diag(s), μ̃ = S⁻¹(μ − x̄), Σ̃ = S⁻¹ Σ S⁻¹:
 *
 * - weights: K−1 logits a_k = log π_k − log π_K (the last logit is fixed at 0:
 *   no gauge direction, so the gradient norm has no null component);
 * - means: μ̃_k, K·D numbers, row-major;
 * - `full`: per component the upper-triangular U_k with Σ̃_k⁻¹ = U_k U_kᵀ
 *   (U = L⁻ᵀ for Σ̃ = L Lᵀ, scikit-learn's precision Cholesky), its D(D+1)/2
 *   entries i ≤ j row-major with the diagonal stored as log U_ii;
 * - `tied`: one such U, shared;
 * - `diag`: log Σ̃_k,jj, K·D numbers; `spherical`: log σ̃²_k, K numbers.
 *
 * log p(x_n | θ) = log Σ_k exp(log π_k − D/2 log 2π + log|U_k| − ½‖(x̃_n − μ̃_k)ᵀU_k‖²) − Σ_j log s_j,
 * with every constant, so it equals the model's `logLikelihood` (to float32
 * roundoff). The maximum-likelihood objective has no `regCovar` term: EM's
 * regularized optimum differs from it by O(regCovar).
 *
 * Missing entries (NaN) are rejected with `INVALID_DATA`: the gradient
 * baseline covers complete data only. The stationarity check on such data goes
 * through Fisher's identity instead (the model's `parametrization` hook, with
 * the same coordinates from `gmm-coordinates.ts`).
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  emError,
  logSumExpRowsDifferentiable,
  registerGradientAdapter,
  type AnyModel,
  type GradientAdapter,
  type GradientProblem,
} from '@emlab/core';
import { validateGmmParams } from './gmm-validate.js';
import { BLOCK_ROWS, columnMoments, readMatrix } from './gmm-data.js';
import { gmmCoordinates, gmmParametrization, gmmScale, upperPairs } from './gmm-coordinates.js';
import { gmmParameterCount } from './gmm-math.js';
import { COVARIANCE_TYPES, type CovarianceType, type GmmData, type GmmParams } from './gmm-types.js';

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Length of ϑ for a mixture of K components of dimension D: one coordinate per
 * free parameter, so it is {@link gmmParameterCount} (the count BIC uses).
 * @category Gaussian mixtures
 */
export const gmmGradientDim: (type: CovarianceType, k: number, d: number) => number = gmmParameterCount;

/**
 * The adapter for a Gaussian mixture with `nComponents` components and the
 * given covariance type (what `registerGradientAdapter('gmm', ...)` builds from the model).
 * @throws EmError `INVALID_ARGUMENT`
 * @category Gaussian mixtures
 */
export function gmmGradientAdapter(nComponents: number, covarianceType: CovarianceType): GradientAdapter<GmmData, GmmParams> {
  if (!Number.isInteger(nComponents) || nComponents < 1) throw emError('INVALID_ARGUMENT', ['nComponents'], nComponents, 'must be an integer >= 1', 'pass the number of components');
  if (!COVARIANCE_TYPES.includes(covarianceType)) throw emError('INVALID_ARGUMENT', ['covarianceType'], covarianceType, 'is not a covariance type', `use one of ${COVARIANCE_TYPES.join(', ')}`);
  return {
    parametrization: gmmParametrization(covarianceType),
    prepare: (data) => prepareGmmGradient(data, nComponents, covarianceType),
    accepts: (data) => {
      const { values, cols } = readMatrix(data);
      checkComplete(values, cols);
    },
  };
}

/** The gradient objective is the complete-data log-likelihood: every entry must be finite. */
function checkComplete(values: Float64Array, d: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) {
      throw emError('INVALID_DATA', ['data', Math.floor(i / d), i % d], v,
        Number.isNaN(v) ? 'is NaN: gradient ascent and the stationarity check support complete data only' : 'is infinite',
        Number.isNaN(v) ? 'compare methods on complete rows, or use EM with the missing-data model' : 'remove or clip infinite values');
    }
  }
}

function prepareGmmGradient(data: GmmData, k: number, type: CovarianceType): GradientProblem<GmmParams> {
  const { values, rows: n, cols: d } = readMatrix(data);
  checkComplete(values, d);
  if (n < k) throw emError('INVALID_DATA', ['data'], n, `has ${n} rows, fewer than nComponents = ${k}`, 'reduce nComponents or pass more rows');
  // Centring and scale in float64: the same column moments the model's prepare uses.
  const { offset, variance } = columnMoments(values, n, d);
  const scale = gmmScale(variance, type);
  const logScaleSum = scale.reduce((a, b) => a + Math.log(b), 0);
  const blocks: tf.Tensor2D[] = [];
  for (let start = 0; start < n; start += BLOCK_ROWS) {
    const m = Math.min(BLOCK_ROWS, n - start);
    const z = new Float32Array(m * d);
    for (let r = 0; r < m; r++) for (let c = 0; c < d; c++) z[r * d + c] = ((values[(start + r) * d + c] as number) - (offset[c] as number)) / (scale[c] as number);
    blocks.push(tf.tensor2d(z, [m, d]));
  }

  const pairs = upperPairs(d);
  const p = pairs.length;
  const coords = gmmCoordinates(k, d, type, offset, scale);
  const dim = coords.dim;
  const meanAt = k - 1;
  const covAt = meanAt + k * d;
  const covDim = dim - covAt;
  const triangular = type === 'full' || type === 'tied';
  // Constants on the device: the logit embedding [K−1, K] = [I | 0], and for triangular
  // factors the diagonal mask [1, P] and the selection [P, D·D] placing entries into U.
  const consts: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    consts.push(t);
    return t;
  };
  let embed: tf.Tensor2D | undefined;
  if (k > 1) {
    const e = new Float32Array((k - 1) * k);
    for (let i = 0; i < k - 1; i++) e[i * k + i] = 1;
    embed = keep(tf.tensor2d(e, [k - 1, k]));
  }
  let diagMask: tf.Tensor2D | undefined;
  let offMask: tf.Tensor2D | undefined;
  let select: tf.Tensor2D | undefined;
  if (triangular) {
    const dm = new Float32Array(p);
    const sel = new Float32Array(p * d * d);
    pairs.forEach(([i, j], q) => {
      if (i === j) dm[q] = 1;
      sel[q * d * d + i * d + j] = 1;
    });
    diagMask = keep(tf.tensor2d(dm, [1, p]));
    offMask = keep(tf.tensor2d(dm.map((v) => 1 - v), [1, p]));
    select = keep(tf.tensor2d(sel, [p, d * d]));
  }
  const constant = -0.5 * d * LOG_2PI - logScaleSum;

  /** Factors U `[G, D, D]` (G = K or 1) and their log-determinants `[1, G]` from the covariance coordinates. */
  const factors = (cov: tf.Tensor1D, g: number): { u: tf.Tensor3D; logDet: tf.Tensor2D } => {
    const cp = tf.reshape(cov, [g, p]);
    const diagPart = tf.mul(cp, diagMask as tf.Tensor2D);
    const entries = tf.add(tf.mul(tf.exp(diagPart), diagMask as tf.Tensor2D), tf.mul(cp, offMask as tf.Tensor2D));
    return { u: tf.reshape(tf.matMul(entries as tf.Tensor2D, select as tf.Tensor2D), [g, d, d]), logDet: tf.reshape(tf.sum(diagPart, 1), [1, g]) };
  };

  const blockLogLikelihood = (b: number, theta: tf.Tensor1D): tf.Scalar => {
    const x = blocks[b] as tf.Tensor2D;
    const m = x.shape[0];
    const logits: tf.Tensor2D = embed === undefined ? tf.zeros([1, 1]) : tf.matMul(tf.reshape(tf.slice(theta, [0], [k - 1]), [1, k - 1]), embed);
    const logW = tf.sub(logits, tf.reshape(logSumExpRowsDifferentiable(logits), [1, 1]));
    const mu = tf.reshape(tf.slice(theta, [meanAt], [k * d]), [k, d]);
    const cov = tf.slice(theta, [covAt], [covDim]) as tf.Tensor1D;
    let maha: tf.Tensor; // [m, K]
    let logDet: tf.Tensor; // [1, K] or [1, 1]: −½ log|Σ̃_k|
    if (type === 'full') {
      const f = factors(cov, k);
      const uAll = tf.reshape(tf.transpose(f.u, [1, 0, 2]), [d, k * d]);
      const xu = tf.matMul(x, uAll);
      const muU = tf.reshape(tf.matMul(tf.reshape(mu, [k, 1, d]) as tf.Tensor3D, f.u), [1, k * d]);
      maha = tf.sum(tf.reshape(tf.square(tf.sub(xu, muU)), [m, k, d]), 2);
      logDet = f.logDet;
    } else if (type === 'tied') {
      const f = factors(cov, 1);
      const u = tf.reshape(f.u, [d, d]);
      const xu = tf.reshape(tf.matMul(x, u), [m, 1, d]);
      const muU = tf.reshape(tf.matMul(mu, u), [1, k, d]);
      maha = tf.sum(tf.square(tf.sub(xu, muU)), 2);
      logDet = f.logDet;
    } else {
      const diff2 = tf.square(tf.sub(tf.reshape(x, [m, 1, d]), tf.reshape(mu, [1, k, d])));
      if (type === 'diag') {
        const logVar = tf.reshape(cov, [k, d]);
        maha = tf.sum(tf.mul(diff2, tf.reshape(tf.exp(tf.mul(logVar, -1)), [1, k, d])), 2);
        logDet = tf.reshape(tf.mul(tf.sum(logVar, 1), -0.5), [1, k]);
      } else {
        maha = tf.mul(tf.sum(diff2, 2), tf.reshape(tf.exp(tf.mul(cov, -1)), [1, k]));
        logDet = tf.reshape(tf.mul(cov, -0.5 * d), [1, k]);
      }
    }
    const table = tf.add(tf.add(tf.add(logW, logDet), constant), tf.mul(maha, -0.5)) as tf.Tensor2D;
    return tf.sum(logSumExpRowsDifferentiable(table));
  };

  const toUnconstrained = (params: GmmParams): Float64Array => {
    validateGmmParams(params, k, d);
    return coords.toUnconstrained(params);
  };

  return {
    nRows: n,
    dim,
    nBlocks: blocks.length,
    toUnconstrained,
    fromUnconstrained: coords.fromUnconstrained,
    blockLogLikelihood,
    dispose() {
      for (const t of blocks) t.dispose();
      for (const t of consts) t.dispose();
    },
  };
}

function adapterForModel(model: AnyModel): GradientAdapter<GmmData, GmmParams> {
  const o = model.options as { nComponents?: unknown; covarianceType?: unknown };
  return gmmGradientAdapter(o.nComponents as number, (o.covarianceType ?? 'full') as CovarianceType);
}

registerGradientAdapter('gmm', adapterForModel as (model: AnyModel) => GradientAdapter<unknown, unknown>);
