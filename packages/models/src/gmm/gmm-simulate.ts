/**
 * Parametric-bootstrap draws for Gaussian mixtures: the model's `simulate` hook.
 * @module
 */
import type { Rng } from '@emlab/core';
import { factorCovariances } from './gmm-math.js';
import { readMatrix } from './gmm-data.js';
import type { DenseMatrix, GmmData, GmmParams } from './gmm-types.js';

/**
 * A data set drawn from the mixture at `params`, shaped like `like`: as many rows and columns, each
 * row drawn independently (component by `rng.categorical`, then μ + L ε), and the cells that are
 * missing (NaN) in `like` missing again, so a bootstrap replicate keeps the missingness pattern.
 * @returns a row-major `{ values, rows, cols }` matrix.
 * @throws EmError `INVALID_DATA` for a malformed `like`, `NOT_POSITIVE_DEFINITE` for a covariance that is not.
 * @category Gaussian mixtures
 */
export function gmmSimulate(params: GmmParams, like: GmmData, rng: Rng): DenseMatrix {
  const { values: mask, rows, cols } = readMatrix(like, 'like');
  // Covariances declared in per-column units (`params.scale`): draw in those units (the stored
  // matrices are factored as they are), then scale.
  const { chol } = factorCovariances(params);
  const u = params.scale;
  const d = cols;
  const values = new Float64Array(rows * cols);
  const eps = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    const c = rng.categorical(params.weights);
    const L = chol[c] as Float64Array;
    const mu = params.means[c] as number[];
    for (let j = 0; j < d; j++) eps[j] = rng.normal();
    for (let i = 0; i < d; i++) {
      let z = 0;
      for (let j = 0; j <= i; j++) z += (L[i * d + j] as number) * (eps[j] as number);
      const v = (mu[i] as number) + (u === undefined ? 1 : (u[i] as number)) * z;
      values[r * cols + i] = Number.isNaN(mask[r * cols + i] as number) ? Number.NaN : v;
    }
  }
  return { values, rows, cols };
}
