/**
 * The delta method: the covariance of g(θ̂) from the covariance of θ̂ and the Jacobian of g.
 *
 * @module
 */
import { emError } from '../errors.js';
import { squareSide } from './covariance-from-information.js';

/** Covariance and standard errors of g(θ̂). @category Standard errors */
export interface DeltaMethodResult {
  /** J Σ Jᵀ, `[m, m]` row-major, exactly symmetric. */
  readonly covariance: Float64Array;
  /** √diag(J Σ Jᵀ), `[m]`. */
  readonly standardErrors: Float64Array;
}

/**
 * Cov(g(θ̂)) ≈ J Cov(θ̂) Jᵀ with J = dg(θ̂).
 *
 * @param cov Cov(θ̂), `[p, p]` row-major (p = √cov.length).
 * @param jacobian dg(θ̂), `[m, p]` row-major (m = jacobian.length / p), e.g. from {@link numericalJacobian}.
 * @throws `INVALID_ARGUMENT` if `cov` is not a finite square matrix or `jacobian` is not a finite `[m, p]` matrix.
 * @example
 * ```ts
 * // standard errors of the mixture weights from those of the logits
 * const { standardErrors } = deltaMethod(cov, numericalJacobian(softmax, logits));
 * ```
 * @category Standard errors
 */
export function deltaMethod(cov: Float64Array, jacobian: Float64Array): DeltaMethodResult {
  const p = squareSide(cov, 'cov');
  if (!(jacobian instanceof Float64Array) || jacobian.length === 0 || jacobian.length % p !== 0 || jacobian.some((v) => !Number.isFinite(v))) {
    throw emError(
      'INVALID_ARGUMENT',
      ['jacobian'],
      jacobian,
      `must be a finite row-major [m, p] Float64Array with p = ${p} columns`,
      'pass dg(θ) with one row per output and one column per parameter',
    );
  }
  const m = jacobian.length / p;
  // A = J Σ, `[m, p]`.
  const A = new Float64Array(m * p);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < p; k++) {
      const jik = jacobian[i * p + k]!;
      if (jik === 0) continue;
      for (let j = 0; j < p; j++) A[i * p + j] = A[i * p + j]! + jik * cov[k * p + j]!;
    }
  }
  const covariance = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      // (J Σ Jᵀ)_ij, averaged with _ji so the result is exactly symmetric.
      let sij = 0;
      let sji = 0;
      for (let k = 0; k < p; k++) {
        sij += A[i * p + k]! * jacobian[j * p + k]!;
        sji += A[j * p + k]! * jacobian[i * p + k]!;
      }
      const v = 0.5 * (sij + sji);
      covariance[i * m + j] = v;
      covariance[j * m + i] = v;
    }
  }
  const standardErrors = Float64Array.from({ length: m }, (_, i) => Math.sqrt(Math.max(0, covariance[i * m + i]!)));
  return { covariance, standardErrors };
}
