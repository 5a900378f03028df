/**
 * Gaussian-mixture validation: the data (before any work) and given parameters.
 * @module
 */
import { choleskyWithJitter, emError, EmError } from '@emlab/core';
import { BLOCK_ROWS, featureCount, inspectMatrix } from './gmm-data.js';
import { COVARIANCE_TYPES, type CovarianceType, type GmmData, type GmmParams } from './gmm-types.js';

/** Bytes of one tensor or host array a fit may allocate: 1 GiB (TensorFlow.js's wasm memory holds at most a few). */
export const GMM_MAX_ALLOCATION_BYTES = 2 ** 30;

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * Checks, before any work, that a fit's largest allocations fit: the float32 table of quadratic
 * features `[min(rows, BLOCK_ROWS) × (D² + D + 1)]` (initialization and the fast E-step path) and
 * the float64 covariances (`K × D × D`, one `D × D` when tied). Wide data otherwise crash the wasm
 * backend ("table index is out of bounds") or run out of memory after minutes.
 * @throws EmError `INVALID_DATA` naming the number of columns (or components) and the sizes.
 * @category Gaussian mixtures
 */
export function checkGmmSize(rows: number, cols: number, k: number, covarianceType: CovarianceType): void {
  const blockRows = Math.min(rows, BLOCK_ROWS);
  const features = blockRows * featureCount(cols, 'full') * 4;
  if (features > GMM_MAX_ALLOCATION_BYTES) {
    throw emError('INVALID_DATA', ['data'], `${cols} columns`, `is too wide: a Gaussian mixture needs a ${blockRows} × ${featureCount(cols, 'full')} float32 table of quadratic features (${gib(features)}), beyond the ${gib(GMM_MAX_ALLOCATION_BYTES)} limit of one allocation`, 'reduce the number of columns (select or project them, e.g. principal components)');
  }
  const covariances = (covarianceType === 'tied' ? 1 : k) * cols * cols * 8;
  if ((covarianceType === 'full' || covarianceType === 'tied') && covariances > GMM_MAX_ALLOCATION_BYTES) {
    throw emError('INVALID_DATA', ['data'], `${cols} columns`, `is too wide for ${covarianceType} covariances: ${covarianceType === 'tied' ? 'one' : k} ${cols} × ${cols} float64 matrices need ${gib(covariances)}, beyond the ${gib(GMM_MAX_ALLOCATION_BYTES)} limit`, "use covarianceType 'diag' or 'spherical', fewer components, or fewer columns");
  }
}

/**
 * Checks Gaussian-mixture data: shape, size (see {@link checkGmmSize}), ±Infinity, fewer rows (with an observed entry) than
 * components, a column with no observed value or fewer observed values than components, and for
 * `full`/`tied` covariances two columns never observed in the same row (their covariance is not
 * identifiable). NaN entries are missing values.
 * @throws EmError `INVALID_DATA` naming the row, column or columns.
 * @category Gaussian mixtures
 */
export function validateGmmData(data: GmmData, k: number, covarianceType: CovarianceType): void {
  const { rows, cols, at } = inspectMatrix(data, 'data');
  checkGmmSize(rows, cols, k, covarianceType);
  if (k > rows) {
    throw emError('INVALID_DATA', ['data'], rows, `has ${rows} rows, fewer than nComponents = ${k}`, 'reduce nComponents or pass more rows');
  }
  const observed = new Float64Array(cols);
  const together = new Uint8Array(cols * cols);
  let anyMissing = false;
  let usable = 0;
  const row = new Int32Array(cols);
  for (let r = 0; r < rows; r++) {
    let o = 0;
    for (let c = 0; c < cols; c++) if (!Number.isNaN(at(r * cols + c))) row[o++] = c;
    if (o < cols) anyMissing = true;
    if (o > 0) usable++;
    for (let a = 0; a < o; a++) {
      const i = row[a] as number;
      observed[i] = (observed[i] as number) + 1;
      for (let b = a; b < o; b++) together[i * cols + (row[b] as number)] = 1;
    }
  }
  if (!anyMissing) return;
  if (k > usable) {
    throw emError('INVALID_DATA', ['data'], usable, `has ${usable} rows with an observed entry (${rows - usable} rows are entirely missing), fewer than nComponents = ${k}`, 'reduce nComponents or pass more rows with observed values');
  }
  for (let c = 0; c < cols; c++) {
    const n = observed[c] as number;
    if (n === 0) throw emError('INVALID_DATA', ['data', 'column', c], 0, `column ${c} has no observed value`, 'drop the column: nothing can be learned about it');
    if (n < k) {
      throw emError('INVALID_DATA', ['data', 'column', c], n, `column ${c} has ${n} observed values, fewer than nComponents = ${k}: not enough to estimate every component's variance of it`, 'reduce nComponents, drop the column, or pass more rows with it observed');
    }
  }
  if (covarianceType === 'full' || covarianceType === 'tied') {
    for (let i = 0; i < cols; i++) {
      for (let j = i + 1; j < cols; j++) {
        if (together[i * cols + j] === 0) {
          throw emError('INVALID_DATA', ['data', 'columns', `${i},${j}`], 0, `columns ${i} and ${j} are never observed in the same row, so their covariance cannot be estimated`, "use covarianceType 'diag' or 'spherical', or pass rows where both are observed");
        }
      }
    }
  }
}

/**
 * Checks Gaussian-mixture parameters: shapes `[K]`, `[K][D]`, `[K][D][D]`,
 * finite values, weights ≥ 0 summing to 1 (within 1e-6), symmetric positive
 * definite covariances.
 * @throws EmError `INVALID_PARAMS` naming the field and component.
 * @category Gaussian mixtures
 */
export function validateGmmParams(params: unknown, k: number, d: number | undefined, covarianceType?: CovarianceType): asserts params is GmmParams {
  const bad = (path: (string | number)[], value: unknown, problem: string, remedy: string): never => {
    throw emError('INVALID_PARAMS', ['params', ...path], value, problem, remedy);
  };
  if (typeof params !== 'object' || params === null) bad([], params, 'must be an object { weights, means, covariances }', 'pass parameters from a FitResult or build them with that shape');
  const p = params as Partial<GmmParams>;
  if (p.covarianceType !== undefined && !COVARIANCE_TYPES.includes(p.covarianceType)) bad(['covarianceType'], p.covarianceType, 'is not a covariance type', `use one of ${COVARIANCE_TYPES.join(', ')}`);
  const w = p.weights;
  if (!Array.isArray(w) || w.length !== k) bad(['weights'], w, `must be an array of nComponents = ${k} numbers`, `pass ${k} weights`);
  let sum = 0;
  (w as number[]).forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(['weights', i], v, 'must be a finite number >= 0', 'pass non-negative weights');
    sum += v;
  });
  if (Math.abs(sum - 1) > 1e-6) bad(['weights'], sum, 'sum to this, not 1 (within 1e-6)', 'normalize the weights to sum to 1');
  const m = p.means;
  if (!Array.isArray(m) || m.length !== k) bad(['means'], m, `must be an array of nComponents = ${k} rows`, `pass ${k} mean vectors`);
  const dim = d ?? (Array.isArray(m?.[0]) ? (m[0] as number[]).length : 0);
  if (dim < 1) bad(['means', 0], m?.[0], 'must be a non-empty array of numbers', 'pass mean vectors of length D');
  (m as number[][]).forEach((row, c) => {
    if (!Array.isArray(row) || row.length !== dim) bad(['means', c], row, `must have length D = ${dim}`, 'pass mean vectors with one entry per feature');
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) bad(['means', c, j], v, 'must be a finite number', 'fix the mean');
    });
  });
  const s = p.covariances;
  if (!Array.isArray(s) || s.length !== k) bad(['covariances'], s, `must be an array of nComponents = ${k} matrices`, `pass ${k} D×D matrices`);
  (s as number[][][]).forEach((mat, c) => {
    if (!Array.isArray(mat) || mat.length !== dim) bad(['covariances', c], mat, `must be a ${dim}×${dim} matrix`, 'pass full D×D covariance matrices');
    const flat = new Float64Array(dim * dim);
    let scale = 0;
    mat.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== dim) bad(['covariances', c, i], row, `must have length ${dim}`, 'pass full D×D covariance matrices');
      row.forEach((v, j) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) bad(['covariances', c, i, j], v, 'must be a finite number', 'fix the covariance');
        flat[i * dim + j] = v;
        scale = Math.max(scale, Math.abs(v));
      });
    });
    for (let i = 0; i < dim; i++) {
      for (let j = 0; j < i; j++) {
        if (Math.abs((flat[i * dim + j] as number) - (flat[j * dim + i] as number)) > 1e-8 * Math.max(scale, 1e-300)) {
          bad(['covariances', c, i, j], flat[i * dim + j], `differs from entry [${j}][${i}] = ${flat[j * dim + i]}: the matrix is not symmetric`, 'symmetrize it, e.g. (S + Sᵀ)/2');
        }
      }
    }
    try {
      choleskyWithJitter(flat, dim, { component: c, maxJitter: 0 });
    } catch (e) {
      if (!(e instanceof EmError)) throw e;
      bad(['covariances', c], mat, `is not positive definite (component ${c})`, 'pass a positive definite covariance, e.g. add a small multiple of the identity');
    }
  });
  const sc = p.scale;
  if (sc !== undefined) {
    if (!Array.isArray(sc) || sc.length !== dim) bad(['scale'], sc, `must be an array of D = ${dim} column scales`, 'omit scale (covariances in original units) or give one positive number per column');
    (sc as number[]).forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) bad(['scale', i], v, 'must be a finite number > 0', 'give positive column scales (powers of two, as fit reports them)');
    });
  }
  if (covarianceType !== undefined) checkCovarianceStructure(params as GmmParams, covarianceType);
}

/**
 * Given parameters must have the structure of the model's covariance type: the same
 * `covarianceType` when they name one, zero off-diagonals for diag and spherical, equal diagonals
 * for spherical, one shared matrix for tied.
 * @throws EmError `INVALID_PARAMS` naming the component and entry.
 */
function checkCovarianceStructure(p: GmmParams, type: CovarianceType): void {
  const bad = (path: (string | number)[], value: unknown, problem: string): never => {
    throw emError('INVALID_PARAMS', ['params', ...path], value, problem, `start from parameters of a '${type}' model (e.g. a result of one), or fit with the covariance type the parameters have`);
  };
  if (p.covarianceType !== undefined && p.covarianceType !== type) bad(['covarianceType'], p.covarianceType, `belongs to a '${p.covarianceType}' model, not this '${type}' one`);
  const first = p.covariances[0] as number[][];
  p.covariances.forEach((mat, c) => {
    const scale = Math.max(1e-300, ...mat.map((row, i) => Math.abs(row[i] as number)));
    mat.forEach((row, i) => row.forEach((v, j) => {
      if ((type === 'diag' || type === 'spherical') && i !== j && Math.abs(v) > 1e-12 * scale) bad(['covariances', c, i, j], v, `is off the diagonal of a '${type}' covariance, which must be 0`);
      if (type === 'spherical' && i === j && Math.abs(v - (mat[0]?.[0] as number)) > 1e-9 * scale) bad(['covariances', c, i, i], v, `differs from entry [0][0] = ${mat[0]?.[0]}: a spherical covariance has one variance`);
      if (type === 'tied' && Math.abs(v - ((first[i] as number[])[j] as number)) > 1e-9 * scale) bad(['covariances', c, i, j], v, `differs from component 0's entry (${(first[i] as number[])[j]}): tied components share one covariance`);
    }));
  });
}
