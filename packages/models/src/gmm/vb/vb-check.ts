/**
 * Argument checks shared by the variational-Bayes functions (raised before any work).
 * @module
 */
import { emError } from '@emlab/core';
import type { VbMatrix, VbPosterior } from './vb-types.js';

/**
 * Checks a data matrix: positive integer shape matching `values.length`, every entry finite.
 * @throws EmError `INVALID_DATA` naming the row and column of a non-finite entry.
 * @internal
 */
export function checkMatrix(x: VbMatrix, name = 'x', nFeatures?: number): void {
  if (typeof x !== 'object' || x === null || !(x.values instanceof Float64Array)) {
    throw emError('INVALID_DATA', [name], x, 'must be { values: Float64Array, rows, cols } (row-major)', 'pass a dense row-major float64 matrix');
  }
  const { rows, cols, values } = x;
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1 || values.length !== rows * cols) {
    throw emError(
      'INVALID_DATA',
      [name],
      `${rows}x${cols} with ${values.length} values`,
      'must have integer rows >= 1 and cols >= 1 with values.length = rows * cols',
      'pass a dense row-major float64 matrix of matching size',
    );
  }
  if (nFeatures !== undefined && cols !== nFeatures) {
    throw emError('INVALID_DATA', [name, 'cols'], cols, `must equal the model's number of features ${nFeatures}`, 'pass data with the columns the prior was built from');
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) {
      const r = Math.floor(i / cols);
      const c = i % cols;
      throw emError('INVALID_DATA', [name, r, c], v, 'must be finite (variational Bayes here takes complete data)', 'remove or impute the row');
    }
  }
}

/**
 * Checks responsibilities `[rows, K]`: a Float64Array of that length with finite entries ≥ 0.
 * @throws EmError `INVALID_ARGUMENT`.
 * @internal
 */
export function checkResp(resp: Float64Array, rows: number, k: number, name = 'resp'): void {
  if (!(resp instanceof Float64Array) || !Number.isInteger(rows) || resp.length !== rows * k) {
    throw emError('INVALID_ARGUMENT', [name], resp, `must be a Float64Array of length rows * K = ${rows * k} (row-major [${rows}, ${k}])`, 'pass one row of K responsibilities per data row');
  }
  for (let i = 0; i < resp.length; i++) {
    const v = resp[i] as number;
    if (!(v >= 0) || !Number.isFinite(v)) {
      throw emError('INVALID_ARGUMENT', [name, Math.floor(i / k), i % k], v, 'must be a finite number >= 0', 'pass responsibilities q(z_n = k) in [0, 1]');
    }
  }
}

/**
 * Checks that a posterior's arrays have the shapes of its prior (K, D).
 * @throws EmError `INVALID_PARAMS`.
 * @internal
 */
export function checkPosterior(posterior: VbPosterior): void {
  const { nComponents: k, nFeatures: d } = posterior.prior;
  const w = posterior.weightConcentration;
  const sizes: [string, number, number][] = [
    ['meanPrecision', posterior.meanPrecision.length, k],
    ['means', posterior.means.length, k * d],
    ['degreesOfFreedom', posterior.degreesOfFreedom.length, k],
    ['covariances', posterior.covariances.length, k * d * d],
    ['precisionsCholesky', posterior.precisionsCholesky.length, k * d * d],
  ];
  if (w.type === 'dirichlet_distribution') sizes.push(['weightConcentration.alpha', w.alpha.length, k]);
  else sizes.push(['weightConcentration.beta1', w.beta1.length, k], ['weightConcentration.beta2', w.beta2.length, k]);
  for (const [name, got, want] of sizes) {
    if (got !== want) {
      throw emError('INVALID_PARAMS', ['posterior', ...name.split('.')], got, `has length ${got}, expected ${want} (K = ${k}, D = ${d})`, 'pass a posterior built by vbUpdate for this prior');
    }
  }
}
