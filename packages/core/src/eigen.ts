/**
 * Float64 eigen-decomposition of small symmetric matrices (cyclic Jacobi) and
 * the singular value decomposition of small square matrices (one-sided
 * Jacobi), for the covariance parameterizations of `covarianceMStep`.
 *
 * Conventions as in `@emlab/core`'s `linalg.ts`: matrices are row-major
 * `Float64Array`s passed as `(a, n)`; inputs are never mutated. Eigen- and
 * singular vectors are the *columns* of the returned n×n matrices, in the
 * order of decreasing eigen- or singular value, each with its entry of largest
 * magnitude made positive (the first such entry on ties), so the output is a
 * deterministic function of the input.
 *
 * Jacobi methods are chosen for accuracy on the tiny matrices met here
 * (n ≤ a few tens): they reach full relative accuracy of the eigenvalues of
 * well-scaled positive definite matrices and need no tridiagonalization.
 *
 * @module
 */
import { emError } from './errors.js';

const EPS = Number.EPSILON;
const MAX_SWEEPS = 100;

/**
 * Eigenvalues (decreasing) and orthonormal eigenvectors (columns) of a symmetric matrix.
 * @category Linear algebra
 */
export interface SymmetricEigen {
  /** Eigenvalues, `[n]`, in decreasing order. */
  readonly values: Float64Array;
  /** Eigenvectors, `[n, n]` row-major; column j belongs to `values[j]`. */
  readonly vectors: Float64Array;
}

/**
 * Singular value decomposition a = U diag(s) Vᵀ of a square matrix.
 * @category Linear algebra
 */
export interface SquareSvd {
  /** Left singular vectors, `[n, n]` row-major, as columns (orthonormal, completed where s = 0). */
  readonly u: Float64Array;
  /** Singular values, `[n]`, decreasing, ≥ 0. */
  readonly s: Float64Array;
  /** Right singular vectors, `[n, n]` row-major, as columns. */
  readonly v: Float64Array;
}

function checkSquare(a: Float64Array, n: number, name: string): void {
  if (!Number.isInteger(n) || n < 1) {
    throw emError('INVALID_ARGUMENT', ['n'], n, 'must be an integer >= 1', 'pass the matrix dimension n');
  }
  if (!(a instanceof Float64Array) || a.length !== n * n) {
    throw emError('INVALID_ARGUMENT', [name], a, `must be a Float64Array of length n * n = ${n * n} (row-major ${n}×${n})`, 'pass a row-major Float64Array of matching size');
  }
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) {
      throw emError('INVALID_ARGUMENT', [name, Math.floor(i / n), i % n], a[i], 'must be finite', 'remove NaN or infinite entries before decomposing');
    }
  }
}

/** Reorders columns of `vectors` by decreasing `values` and fixes signs; returns fresh arrays. */
function sortColumns(values: Float64Array, vectors: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => values[j]! - values[i]! || i - j);
  const vs = new Float64Array(n);
  const vec = new Float64Array(n * n);
  order.forEach((src, dst) => {
    vs[dst] = values[src]!;
    let big = 0;
    let sign = 1;
    for (let r = 0; r < n; r++) {
      const x = vectors[r * n + src]!;
      if (Math.abs(x) > big) {
        big = Math.abs(x);
        sign = x < 0 ? -1 : 1;
      }
    }
    for (let r = 0; r < n; r++) vec[r * n + dst] = sign * vectors[r * n + src]!;
  });
  return { values: vs, vectors: vec };
}

/**
 * Eigen-decomposition a = V diag(values) Vᵀ of a symmetric n×n matrix by cyclic Jacobi rotations.
 *
 * Only the symmetric part (a + aᵀ)/2 is used. Sweeps stop when no
 * off-diagonal entry is significant relative to its diagonal neighbours
 * (|a_pq| below ε/100 of both |a_pp| and |a_qq|) or after 100 sweeps
 * (convergence is quadratic; n ≤ 30 needs fewer than 12 in practice).
 *
 * @param a Row-major `[n, n]` symmetric matrix.
 * @param n Dimension.
 * @returns Eigenvalues decreasing, eigenvectors as columns.
 * @throws `INVALID_ARGUMENT` if the sizes disagree or an entry is not finite.
 * @see Golub & Van Loan, *Matrix Computations* (4th ed.), §8.5 (the cyclic Jacobi method).
 * @category Linear algebra
 */
export function symmetricEigen(a: Float64Array, n: number): SymmetricEigen {
  checkSquare(a, n, 'a');
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] = 0.5 * (a[i * n + j]! + a[j * n + i]!);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;

  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q]!;
        if (apq === 0) continue;
        const app = A[p * n + p]!;
        const aqq = A[q * n + q]!;
        // An entry negligible next to both diagonal entries is set to zero (it cannot change them in float64).
        if (Math.abs(apq) * 100 <= EPS * Math.abs(app) && Math.abs(apq) * 100 <= EPS * Math.abs(aqq)) {
          A[p * n + q] = 0;
          A[q * n + p] = 0;
          continue;
        }
        rotated = true;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.abs(theta) > 1e150 ? 1 / (2 * theta) : (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A ← Jᵀ A J with J the rotation in the (p, q) plane.
        for (let k = 0; k < n; k++) {
          if (k === p || k === q) continue;
          const akp = A[k * n + p]!;
          const akq = A[k * n + q]!;
          const nkp = c * akp - s * akq;
          const nkq = s * akp + c * akq;
          A[k * n + p] = nkp;
          A[p * n + k] = nkp;
          A[k * n + q] = nkq;
          A[q * n + k] = nkq;
        }
        A[p * n + p] = app - t * apq;
        A[q * n + q] = aqq + t * apq;
        A[p * n + q] = 0;
        A[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p]!;
          const vkq = V[k * n + q]!;
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
    if (!rotated) break;
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = A[i * n + i]!;
  return sortColumns(values, V, n);
}

/**
 * Completes the columns of `u` flagged in `missing` to an orthonormal basis
 * (Gram–Schmidt, twice, against the other columns, trying unit vectors in order).
 */
function completeColumns(u: Float64Array, n: number, missing: boolean[]): void {
  const done: number[] = [];
  for (let j = 0; j < n; j++) if (!missing[j]) done.push(j);
  let candidate = 0;
  for (let j = 0; j < n; j++) {
    if (!missing[j]) continue;
    for (; candidate < n; candidate++) {
      const v = new Float64Array(n);
      v[candidate] = 1;
      for (let pass = 0; pass < 2; pass++) {
        for (const c of done) {
          let dot = 0;
          for (let r = 0; r < n; r++) dot += u[r * n + c]! * v[r]!;
          for (let r = 0; r < n; r++) v[r] = v[r]! - dot * u[r * n + c]!;
        }
      }
      let norm = 0;
      for (let r = 0; r < n; r++) norm += v[r]! * v[r]!;
      norm = Math.sqrt(norm);
      if (norm > 0.5) {
        for (let r = 0; r < n; r++) u[r * n + j] = v[r]! / norm;
        done.push(j);
        candidate++;
        break;
      }
    }
  }
}

/**
 * Singular value decomposition a = U diag(s) Vᵀ of a square n×n matrix by one-sided (Hestenes) Jacobi.
 *
 * Columns of a working copy of `a` are rotated pairwise until every pair is
 * orthogonal to working precision; the singular values are the column norms.
 * Columns of U for zero singular values are completed to an orthonormal basis,
 * so U and V are always orthogonal.
 *
 * @param a Row-major `[n, n]`.
 * @param n Dimension.
 * @throws `INVALID_ARGUMENT` if the sizes disagree or an entry is not finite.
 * @see Demmel & Veselić (1992), "Jacobi's method is more accurate than QR", SIAM J. Matrix Anal. Appl. 13(4).
 * @category Linear algebra
 */
export function squareSvd(a: Float64Array, n: number): SquareSvd {
  checkSquare(a, n, 'a');
  const U = new Float64Array(a);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let r = 0; r < n; r++) {
          const up = U[r * n + p]!;
          const uq = U[r * n + q]!;
          alpha += up * up;
          beta += uq * uq;
          gamma += up * uq;
        }
        if (gamma === 0 || Math.abs(gamma) <= EPS * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.abs(zeta) > 1e150 ? 1 / (2 * zeta) : (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let r = 0; r < n; r++) {
          const up = U[r * n + p]!;
          const uq = U[r * n + q]!;
          U[r * n + p] = c * up - s * uq;
          U[r * n + q] = s * up + c * uq;
          const vp = V[r * n + p]!;
          const vq = V[r * n + q]!;
          V[r * n + p] = c * vp - s * vq;
          V[r * n + q] = s * vp + c * vq;
        }
      }
    }
    if (!rotated) break;
  }
  const sv = new Float64Array(n);
  let smax = 0;
  for (let j = 0; j < n; j++) {
    let norm = 0;
    for (let r = 0; r < n; r++) norm += U[r * n + j]! * U[r * n + j]!;
    sv[j] = Math.sqrt(norm);
    smax = Math.max(smax, sv[j]!);
  }
  const missing: boolean[] = [];
  for (let j = 0; j < n; j++) {
    const sj = sv[j]!;
    // Columns whose norm is at rounding level of the largest carry no direction: complete them instead.
    if (sj <= n * EPS * smax || sj === 0) {
      missing.push(true);
      sv[j] = sj === 0 ? 0 : sj;
    } else {
      missing.push(false);
      for (let r = 0; r < n; r++) U[r * n + j] = U[r * n + j]! / sj;
    }
  }
  if (missing.some((m) => m)) completeColumns(U, n, missing);
  // Sort by decreasing singular value, carrying U and V columns along; fix signs on V and mirror them on U.
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => sv[j]! - sv[i]! || i - j);
  const u = new Float64Array(n * n);
  const v = new Float64Array(n * n);
  const s = new Float64Array(n);
  order.forEach((src, dst) => {
    s[dst] = sv[src]!;
    let big = 0;
    let sign = 1;
    for (let r = 0; r < n; r++) {
      const x = V[r * n + src]!;
      if (Math.abs(x) > big) {
        big = Math.abs(x);
        sign = x < 0 ? -1 : 1;
      }
    }
    for (let r = 0; r < n; r++) {
      v[r * n + dst] = sign * V[r * n + src]!;
      u[r * n + dst] = sign * U[r * n + src]!;
    }
  });
  return { u, s, v };
}

/**
 * The orthogonal matrix Q maximizing tr(Fᵀ Q) (orthogonal Procrustes): Q = U Vᵀ from F = U diag(s) Vᵀ.
 * @param f Row-major `[n, n]`.
 * @throws `INVALID_ARGUMENT` if the sizes disagree or an entry is not finite.
 * @see Schönemann (1966), "A generalized solution of the orthogonal Procrustes problem", Psychometrika 31.
 * @category Linear algebra
 */
export function procrustesRotation(f: Float64Array, n: number): Float64Array {
  const { u, v } = squareSvd(f, n);
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += u[i * n + k]! * v[j * n + k]!;
      q[i * n + j] = sum;
    }
  }
  return q;
}
