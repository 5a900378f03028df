/**
 * Covariance and standard errors from an information matrix, by Cholesky.
 *
 * @module
 */
import { emError } from '../errors.js';
import { cholesky, inverseFromCholesky, toMatrix } from '../linalg.js';

/** Covariance I⁻¹ and standard errors √diag(I⁻¹). @category Standard errors */
export interface CovarianceEstimate {
  /** I⁻¹, `[p, p]` row-major. */
  readonly covariance: Float64Array;
  /** √(I⁻¹)_ii, `[p]`. */
  readonly standardErrors: Float64Array;
}

/** The side p of a square matrix stored in a Float64Array, or an INVALID_ARGUMENT error. */
export function squareSide(a: unknown, name: string): number {
  const n = a instanceof Float64Array ? Math.round(Math.sqrt(a.length)) : -1;
  if (!(a instanceof Float64Array) || a.length === 0 || n * n !== a.length) {
    throw emError('INVALID_ARGUMENT', [name], a, 'must be a non-empty square matrix as a row-major Float64Array of length p²', 'pass the p×p matrix row by row');
  }
  for (const v of a) {
    if (!Number.isFinite(v)) throw emError('INVALID_ARGUMENT', [name], a, 'must hold finite numbers only', 'check how the matrix was computed');
  }
  return n;
}

/**
 * Inverts an information matrix through its Cholesky factor and returns the covariance and standard errors.
 *
 * Only the lower triangle is read. When I is not (numerically) positive
 * definite, the error names the first parameter k whose leading (k+1)×(k+1)
 * block fails: parameters 0…k−1 are fine on their own, parameter k is not
 * determined given them (a flat or downward direction of the log-likelihood:
 * not a maximum, or an unidentified parameter).
 *
 * @param information I, `[p, p]` row-major.
 * @throws `NOT_POSITIVE_DEFINITE` with path `['information', k]` and the matrix as `value`.
 * @throws `INVALID_ARGUMENT` if `information` is not a finite square matrix.
 * @category Standard errors
 */
export function covarianceFromInformation(information: Float64Array): CovarianceEstimate {
  const p = squareSide(information, 'information');
  const L = cholesky(information, p);
  if (L === null) {
    // The largest PD leading block: leading blocks of a PD block are PD, so bisect.
    const leadingPd = (s: number): boolean => {
      const b = new Float64Array(s * s);
      for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) b[i * s + j] = information[i * p + j]!;
      return cholesky(b, s) !== null;
    };
    let lo = 0; // leading block of size lo is PD (size 0 trivially)
    let hi = p; // size hi is not
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (leadingPd(mid)) lo = mid;
      else hi = mid;
    }
    const k = hi - 1;
    throw emError(
      'NOT_POSITIVE_DEFINITE',
      ['information', k],
      toMatrix(information, p),
      `the information matrix is not positive definite: its Cholesky factorization fails at parameter ${k} (the log-likelihood is flat or curves upward along it given parameters 0..${k - 1})`,
      'check that θ is a local maximum (converge further), and that parameter ' +
        `${k} is identified (fix or drop redundant parameters, e.g. one softmax logit per mixture)`,
    );
  }
  const covariance = inverseFromCholesky(L, p);
  const standardErrors = Float64Array.from({ length: p }, (_, i) => Math.sqrt(covariance[i * p + i]!));
  return { covariance, standardErrors };
}
