/**
 * The Gaussian mixture's unconstrained coordinates ϑ (see `gmm-gradient.ts`
 * for the full description): K−1 logits, standardized means, and per
 * covariance type the log-diagonal upper Cholesky factor of the standardized
 * precision, log variances, or one log variance. Shared by the gradient
 * adapter (autodiff of the log-likelihood) and the model's `parametrization`
 * hook (the stationarity check through Fisher's identity, e.g. with missing entries).
 * @module
 */
import { cholesky, emError, invertLower } from '@emlab/core';
import { gmmParameterCount } from './gmm-math.js';
import type { CovarianceType, GmmParams } from './gmm-types.js';

/** The parametrization, in one line (recorded in results). @category Gaussian mixtures */
export function gmmParametrization(type: CovarianceType): string {
  const cov = {
    full: 'per component the upper Cholesky factor U of the standardized precision (Σ̃⁻¹ = U Uᵀ), entries i ≤ j row-major, diagonal as log',
    tied: 'one shared upper Cholesky factor U of the standardized precision (Σ̃⁻¹ = U Uᵀ), entries i ≤ j row-major, diagonal as log',
    diag: 'log standardized variances, K·D',
    spherical: 'log standardized variance per component (common scale for all columns)',
  }[type];
  return `gmm/${type}: K−1 softmax logits (last fixed at 0); K·D means, centred and standardized; ${cov}`;
}

/** Upper-triangle (i ≤ j) index pairs of a D×D matrix, row-major. */
export function upperPairs(d: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) out.push([i, j]);
  return out;
}

/**
 * The standardizing scale s_j from per-column variances: each column's
 * standard deviation, or for `spherical` one common √(mean variance); 1 for a
 * constant column.
 * @category Gaussian mixtures
 */
export function gmmScale(variance: Float64Array, type: CovarianceType): Float64Array {
  const d = variance.length;
  const scale = new Float64Array(d);
  if (type === 'spherical') {
    const mean = variance.reduce((a, b) => a + b, 0) / d;
    scale.fill(mean > 0 ? Math.sqrt(mean) : 1);
  } else {
    for (let c = 0; c < d; c++) scale[c] = (variance[c] as number) > 0 ? Math.sqrt(variance[c] as number) : 1;
  }
  return scale;
}

/**
 * ϑ ↔ parameters for K components in D dimensions about `offset` (x̄) and `scale` (s).
 * `toUnconstrained` does not validate (callers do); a covariance that is not positive definite is `INVALID_PARAMS`.
 * @category Gaussian mixtures
 */
export function gmmCoordinates(
  k: number,
  d: number,
  type: CovarianceType,
  offset: Float64Array,
  scale: Float64Array,
): { dim: number; toUnconstrained(params: GmmParams): Float64Array; fromUnconstrained(theta: ArrayLike<number>): GmmParams } {
  const pairs = upperPairs(d);
  const p = pairs.length;
  const dim = gmmParameterCount(type, k, d); // one coordinate per free parameter
  const meanAt = k - 1;
  const covAt = meanAt + k * d;
  const toUnconstrained = (params: GmmParams): Float64Array => {
    const theta = new Float64Array(dim);
    const logPi = params.weights.map((w) => Math.log(Math.max(w, 1e-300)));
    for (let c = 0; c < k - 1; c++) theta[c] = (logPi[c] as number) - (logPi[k - 1] as number);
    for (let c = 0; c < k; c++) {
      const mean = params.means[c] as number[];
      for (let j = 0; j < d; j++) theta[meanAt + c * d + j] = ((mean[j] as number) - (offset[j] as number)) / (scale[j] as number);
    }
    const standardized = (c: number): Float64Array => {
      const cov = params.covariances[c] as number[][];
      const a = new Float64Array(d * d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] = ((cov[i] as number[])[j] as number) / ((scale[i] as number) * (scale[j] as number));
      return a;
    };
    const writeFactor = (c: number, at: number): void => {
      const L = cholesky(standardized(c), d);
      if (L === null) throw emError('INVALID_PARAMS', ['params', 'covariances', c], params.covariances[c], 'is not positive definite', 'pass a positive definite covariance');
      const inv = invertLower(L, d); // L⁻¹, lower; U = L⁻ᵀ, upper
      pairs.forEach(([i, j], q) => {
        theta[at + q] = i === j ? -Math.log(L[i * d + i] as number) : (inv[j * d + i] as number);
      });
    };
    if (type === 'full') for (let c = 0; c < k; c++) writeFactor(c, covAt + c * p);
    else if (type === 'tied') writeFactor(0, covAt);
    else if (type === 'diag') {
      for (let c = 0; c < k; c++) {
        const a = standardized(c);
        for (let j = 0; j < d; j++) theta[covAt + c * d + j] = Math.log(a[j * d + j] as number);
      }
    } else {
      for (let c = 0; c < k; c++) {
        const a = standardized(c);
        let tr = 0;
        for (let j = 0; j < d; j++) tr += a[j * d + j] as number;
        theta[covAt + c] = Math.log(tr / d);
      }
    }
    return theta;
  };

  const fromUnconstrained = (thetaIn: ArrayLike<number>): GmmParams => {
    if (thetaIn.length !== dim) throw emError('INVALID_ARGUMENT', ['theta'], thetaIn, `must have length ${dim}`, 'pass a vector from toUnconstrained');
    const theta = Float64Array.from(thetaIn);
    const logits = new Float64Array(k);
    for (let c = 0; c < k - 1; c++) logits[c] = theta[c] as number;
    const top = Math.max(...logits);
    let z = 0;
    for (let c = 0; c < k; c++) z += Math.exp((logits[c] as number) - top);
    const weights = Array.from(logits, (a) => Math.exp(a - top) / z);
    const means: number[][] = [];
    for (let c = 0; c < k; c++) means.push(Array.from({ length: d }, (_, j) => (offset[j] as number) + (scale[j] as number) * (theta[meanAt + c * d + j] as number)));
    const toOriginal = (st: Float64Array): number[][] => {
      const out: number[][] = Array.from({ length: d }, () => new Array<number>(d).fill(0));
      for (let i = 0; i < d; i++) {
        for (let j = i; j < d; j++) {
          const v = (st[i * d + j] as number) * (scale[i] as number) * (scale[j] as number);
          (out[i] as number[])[j] = v;
          (out[j] as number[])[i] = v;
        }
      }
      return out;
    };
    const covFromFactor = (at: number): number[][] => {
      const lowerInv = new Float64Array(d * d); // Uᵀ = L⁻¹
      pairs.forEach(([i, j], q) => {
        const v = theta[at + q] as number;
        lowerInv[j * d + i] = i === j ? Math.exp(v) : v;
      });
      const L = invertLower(lowerInv, d);
      const st = new Float64Array(d * d);
      for (let i = 0; i < d; i++) {
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let q = 0; q <= j; q++) s += (L[i * d + q] as number) * (L[j * d + q] as number);
          st[i * d + j] = s;
          st[j * d + i] = s;
        }
      }
      return toOriginal(st);
    };
    const covariances: number[][][] = [];
    if (type === 'tied') {
      const shared = covFromFactor(covAt);
      for (let c = 0; c < k; c++) covariances.push(shared.map((row) => row.slice()));
    } else {
      for (let c = 0; c < k; c++) {
        if (type === 'full') {
          covariances.push(covFromFactor(covAt + c * p));
          continue;
        }
        const st = new Float64Array(d * d);
        for (let j = 0; j < d; j++) st[j * d + j] = Math.exp(theta[covAt + (type === 'diag' ? c * d + j : c)] as number);
        covariances.push(toOriginal(st));
      }
    }
    return { covarianceType: type, weights, means, covariances };
  };

  return { dim, toUnconstrained, fromUnconstrained };
}
