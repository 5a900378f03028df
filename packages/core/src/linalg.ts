/**
 * Small dense linear algebra in plain JavaScript float64, for what TensorFlow.js
 * lacks (Cholesky, triangular solves, log-determinants).
 *
 * Conventions: matrices are `Float64Array`s in row-major order; a square n×n
 * matrix is passed as `(a, n)` with `a.length === n * n`. No function mutates
 * its inputs; every result is a fresh array.
 *
 * @module
 */
import { emError } from './errors.js';
import type { ErrorPath } from './errors.js';

/** Machine epsilon; a Cholesky pivot ≤ n·ε·|a_ii| counts as numerically singular. */
const EPS = Number.EPSILON;

/** Validates that `a` holds an n×n matrix. */
function checkSquare(a: Float64Array, n: number, name: string): void {
  if (!Number.isInteger(n) || n < 0) {
    throw emError('INVALID_ARGUMENT', ['n'], n, 'must be an integer >= 0', 'pass the matrix dimension n');
  }
  if (!(a instanceof Float64Array) || a.length !== n * n) {
    throw emError(
      'INVALID_ARGUMENT',
      [name],
      a,
      `must be a Float64Array of length n * n = ${n * n} (row-major ${n}×${n})`,
      'pass a row-major Float64Array of matching size (see fromMatrix)',
    );
  }
}

/** Validates that `b` is a vector of length n. */
function checkVector(b: Float64Array, n: number, name: string): void {
  if (!(b instanceof Float64Array) || b.length !== n) {
    throw emError(
      'INVALID_ARGUMENT',
      [name],
      b,
      `must be a Float64Array of length n = ${n}`,
      'pass a Float64Array whose length matches the matrix dimension',
    );
  }
}

/**
 * Cholesky factor L (lower triangular, L Lᵀ = a), or `null` if a is not numerically positive definite.
 *
 * Only the lower triangle of `a` is read. The result has zeros above the
 * diagonal. `null` is returned when a pivot is non-finite or ≤ n·ε·|a_ii|
 * (i.e. ≤ 0 up to rounding noise of a singular matrix).
 *
 * @throws `INVALID_ARGUMENT` if `a.length !== n * n`.
 * @category Linear algebra
 */
export function cholesky(a: Float64Array, n: number): Float64Array | null {
  checkSquare(a, n, 'a');
  const L = new Float64Array(n * n);
  const floor = n * EPS;
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let sum = a[ri + j]!;
      for (let k = 0; k < j; k++) sum -= L[ri + k]! * L[rj + k]!;
      if (i === j) {
        if (!Number.isFinite(sum) || !(sum > floor * Math.abs(a[ri + i]!))) return null;
        L[ri + i] = Math.sqrt(sum);
      } else {
        L[ri + j] = sum / L[rj + j]!;
      }
    }
  }
  return L;
}

/**
 * A Cholesky factor together with the jitter that was needed and the log-determinant.
 * @category Linear algebra
 */
export interface JitteredCholesky {
  /** Lower-triangular factor of `a + jitter·I`. */
  L: Float64Array;
  /** The multiple of the identity that was added (0 if none was needed). */
  jitter: number;
  /** log det(a + jitter·I) = 2 Σ log L_ii. */
  logDet: number;
}

/**
 * Cholesky with escalating diagonal jitter: tries 0, then 1e-10·s, 1e-9·s, … up to `maxJitter`.
 *
 * `s` is the mean absolute diagonal of `a` (1 if that is 0). The default
 * `maxJitter` is 1e-2·s; the last attempt always uses exactly `maxJitter`.
 * Only the lower triangle of `a` enters the factorization, but every entry is
 * checked for finiteness.
 *
 * @param opts.component Component index, used in the error message and path.
 * @param opts.what What the matrix is, for the message (default `'covariance'`).
 * @param opts.path Error path (default `['covariances', component]`).
 * @param opts.maxJitter Largest jitter to try (default 1e-2·s).
 * @throws `NOT_POSITIVE_DEFINITE` if `a` has non-finite entries or every jitter fails.
 * @throws `INVALID_ARGUMENT` if `a.length !== n * n` or `maxJitter` is not finite and ≥ 0.
 * @category Linear algebra
 */
export function choleskyWithJitter(
  a: Float64Array,
  n: number,
  opts: { component?: number; what?: string; path?: readonly (string | number)[]; maxJitter?: number } = {},
): JitteredCholesky {
  checkSquare(a, n, 'a');
  const { component, what } = opts;

  let finite = true;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) {
      finite = false;
      break;
    }
  }
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.abs(a[i * n + i]!) / n;
  if (!(s > 0) || !Number.isFinite(s)) s = 1;

  const maxJitter = opts.maxJitter ?? 1e-2 * s;
  if (!Number.isFinite(maxJitter) || maxJitter < 0) {
    throw emError(
      'INVALID_ARGUMENT',
      ['options', 'maxJitter'],
      maxJitter,
      'must be a finite number >= 0',
      'pass maxJitter >= 0 or omit it (default 1e-2 times the mean diagonal)',
    );
  }

  if (finite) {
    const attempt = (jitter: number): JitteredCholesky | null => {
      let m = a;
      if (jitter > 0) {
        m = new Float64Array(a);
        for (let i = 0; i < n; i++) m[i * n + i] = m[i * n + i]! + jitter;
      }
      const L = cholesky(m, n);
      return L === null ? null : { L, jitter, logDet: logDetFromCholesky(L, n) };
    };
    const first = attempt(0);
    if (first !== null) return first;
    for (let factor = 1e-10; ; factor *= 10) {
      const jitter = factor * s;
      if (jitter >= maxJitter * (1 - 1e-9)) break;
      const r = attempt(jitter);
      if (r !== null) return r;
    }
    if (maxJitter > 0) {
      const r = attempt(maxJitter);
      if (r !== null) return r;
    }
  }

  const subject = `${what ?? 'covariance'}${component === undefined ? '' : ` of component ${component}`}`;
  const path: ErrorPath = opts.path ?? (component === undefined ? ['covariances'] : ['covariances', component]);
  throw emError(
    'NOT_POSITIVE_DEFINITE',
    path,
    toMatrix(a, n),
    `${subject} is not positive definite even after adding ${maxJitter} to its diagonal`,
    'increase regCovar, reduce the number of components, or check the data for constant or duplicated columns',
  );
}

/**
 * log det(L Lᵀ) = 2 Σ log L_ii from a Cholesky factor.
 * @throws `INVALID_ARGUMENT` if `L.length !== n * n`.
 * @category Linear algebra
 */
export function logDetFromCholesky(L: Float64Array, n: number): number {
  checkSquare(L, n, 'L');
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(L[i * n + i]!);
  return 2 * s;
}

/**
 * Solves L x = b for lower-triangular L by forward substitution.
 * @throws `INVALID_ARGUMENT` on a size mismatch.
 * @category Linear algebra
 */
export function solveLower(L: Float64Array, n: number, b: Float64Array): Float64Array {
  checkSquare(L, n, 'L');
  checkVector(b, n, 'b');
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= L[ri + k]! * x[k]!;
    x[i] = sum / L[ri + i]!;
  }
  return x;
}

/**
 * Solves U x = b for upper-triangular U by back substitution.
 * @throws `INVALID_ARGUMENT` on a size mismatch.
 * @category Linear algebra
 */
export function solveUpper(U: Float64Array, n: number, b: Float64Array): Float64Array {
  checkSquare(U, n, 'U');
  checkVector(b, n, 'b');
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    let sum = b[i]!;
    for (let k = i + 1; k < n; k++) sum -= U[ri + k]! * x[k]!;
    x[i] = sum / U[ri + i]!;
  }
  return x;
}

/**
 * Solves Lᵀ x = b for lower-triangular L, without forming the transpose.
 * @throws `INVALID_ARGUMENT` on a size mismatch.
 * @category Linear algebra
 */
export function solveLowerTransposed(L: Float64Array, n: number, b: Float64Array): Float64Array {
  checkSquare(L, n, 'L');
  checkVector(b, n, 'b');
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = b[i]!;
    for (let k = i + 1; k < n; k++) sum -= L[k * n + i]! * x[k]!;
    x[i] = sum / L[i * n + i]!;
  }
  return x;
}

/**
 * Inverse of a lower-triangular matrix (itself lower triangular).
 * @throws `INVALID_ARGUMENT` if `L.length !== n * n`.
 * @category Linear algebra
 */
export function invertLower(L: Float64Array, n: number): Float64Array {
  checkSquare(L, n, 'L');
  const X = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    // Column j of X solves L x = e_j; entries above row j are zero.
    X[j * n + j] = 1 / L[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let sum = 0;
      for (let k = j; k < i; k++) sum -= L[ri + k]! * X[k * n + j]!;
      X[ri + j] = sum / L[ri + i]!;
    }
  }
  return X;
}

/**
 * Solves (L Lᵀ) x = b given the Cholesky factor L.
 * @throws `INVALID_ARGUMENT` on a size mismatch.
 * @category Linear algebra
 */
export function choleskySolve(L: Float64Array, n: number, b: Float64Array): Float64Array {
  return solveLowerTransposed(L, n, solveLower(L, n, b));
}

/**
 * Symmetric inverse (L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹ from a Cholesky factor.
 * @throws `INVALID_ARGUMENT` if `L.length !== n * n`.
 * @category Linear algebra
 */
export function inverseFromCholesky(L: Float64Array, n: number): Float64Array {
  const M = invertLower(L, n);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = i; k < n; k++) sum += M[k * n + i]! * M[k * n + j]!;
      out[i * n + j] = sum;
      out[j * n + i] = sum;
    }
  }
  return out;
}

/**
 * Product a·b of two n×n matrices.
 * @throws `INVALID_ARGUMENT` on a size mismatch.
 * @category Linear algebra
 */
export function matMul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  checkSquare(a, n, 'a');
  checkSquare(b, n, 'b');
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[ri + k]!;
      if (aik === 0) continue;
      const rk = k * n;
      for (let j = 0; j < n; j++) c[ri + j] = c[ri + j]! + aik * b[rk + j]!;
    }
  }
  return c;
}

/**
 * Transpose aᵀ of an n×n matrix.
 * @throws `INVALID_ARGUMENT` if `a.length !== n * n`.
 * @category Linear algebra
 */
export function transpose(a: Float64Array, n: number): Float64Array {
  checkSquare(a, n, 'a');
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j]!;
  return t;
}

/**
 * Symmetric part (a + aᵀ)/2 of an n×n matrix.
 * @throws `INVALID_ARGUMENT` if `a.length !== n * n`.
 * @category Linear algebra
 */
export function symmetrize(a: Float64Array, n: number): Float64Array {
  checkSquare(a, n, 'a');
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    s[i * n + i] = a[i * n + i]!;
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (a[i * n + j]! + a[j * n + i]!);
      s[i * n + j] = v;
      s[j * n + i] = v;
    }
  }
  return s;
}

/**
 * The n×n identity matrix.
 * @throws `INVALID_ARGUMENT` if n is not an integer ≥ 0.
 * @category Linear algebra
 */
export function identity(n: number): Float64Array {
  if (!Number.isInteger(n) || n < 0) {
    throw emError('INVALID_ARGUMENT', ['n'], n, 'must be an integer >= 0', 'pass the matrix dimension n');
  }
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
}

/**
 * Squared Mahalanobis distance (x−μ)ᵀ (L Lᵀ)⁻¹ (x−μ) via one forward solve.
 * @throws `INVALID_ARGUMENT` on a size mismatch.
 * @category Linear algebra
 */
export function mahalanobisSq(L: Float64Array, n: number, x: Float64Array, mu: Float64Array): number {
  checkSquare(L, n, 'L');
  checkVector(x, n, 'x');
  checkVector(mu, n, 'mu');
  const z = new Float64Array(n);
  let q = 0;
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let sum = x[i]! - mu[i]!;
    for (let k = 0; k < i; k++) sum -= L[ri + k]! * z[k]!;
    const zi = sum / L[ri + i]!;
    z[i] = zi;
    q += zi * zi;
  }
  return q;
}

/**
 * {@link choleskyWithJitter} over a batch, with `component` set to each matrix's index.
 * @throws `NOT_POSITIVE_DEFINITE` naming the first failing component.
 * @throws `INVALID_ARGUMENT` on a size mismatch or a bad `maxJitter`.
 * @category Linear algebra
 */
export function choleskyBatch(
  mats: readonly Float64Array[],
  n: number,
  opts: { what?: string; maxJitter?: number } = {},
): JitteredCholesky[] {
  return mats.map((m, component) => {
    const o: { component: number; what?: string; maxJitter?: number } = { component };
    if (opts.what !== undefined) o.what = opts.what;
    if (opts.maxJitter !== undefined) o.maxJitter = opts.maxJitter;
    return choleskyWithJitter(m, n, o);
  });
}

/**
 * Converts a row-major n×n Float64Array to nested arrays.
 * @throws `INVALID_ARGUMENT` if `a.length !== n * n`.
 * @category Linear algebra
 */
export function toMatrix(a: Float64Array, n: number): number[][] {
  checkSquare(a, n, 'a');
  const m: number[][] = [];
  for (let i = 0; i < n; i++) m.push(Array.from(a.subarray(i * n, (i + 1) * n)));
  return m;
}

/**
 * Converts a square nested array to a row-major Float64Array.
 * @throws `INVALID_ARGUMENT` (path `['matrix']`) if the matrix is not square.
 * @category Linear algebra
 */
export function fromMatrix(m: readonly (readonly number[])[]): Float64Array {
  const n = m.length;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = m[i];
    if (!Array.isArray(row) || row.length !== n) {
      throw emError(
        'INVALID_ARGUMENT',
        ['matrix'],
        m,
        `must be square: row ${i} has ${Array.isArray(row) ? row.length : 'no'} entries, expected ${n}`,
        'pass an n×n array of arrays of numbers',
      );
    }
    for (let j = 0; j < n; j++) out[i * n + j] = row[j]!;
  }
  return out;
}
