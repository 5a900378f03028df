/**
 * Louis' identity: the observed information from complete-data quantities under the exact posterior.
 *
 * @module
 */
import { emError } from '../errors.js';
import { covarianceFromInformation, squareSide } from './covariance-from-information.js';

/** Posterior expectations of complete-data derivatives, summed over independent rows. @category Standard errors */
export interface LouisInputs {
  /** Σ_n E_{q_n}[∇² log p(x_n, z_n | θ)], `[p, p]` row-major. */
  readonly expectedCompleteHessian: Float64Array;
  /** Σ_n E_{q_n}[s_n s_nᵀ] with s_n = ∇ log p(x_n, z_n | θ) the row's complete-data score, `[p, p]` row-major. */
  readonly expectedScoreOuter: Float64Array;
  /** Per-row E_{q_n}[s_n], `[N, p]` row-major (one row per observation). */
  readonly expectedScore: Float64Array;
}

/** Observed information with its inverse and standard errors. @category Standard errors */
export interface LouisInformation {
  /** I(θ) = −∇² log p(x | θ), `[p, p]` row-major, exactly symmetric. */
  readonly information: Float64Array;
  /** I(θ)⁻¹, `[p, p]` row-major. */
  readonly covariance: Float64Array;
  /** √diag(I(θ)⁻¹), `[p]`. */
  readonly standardErrors: Float64Array;
}

/**
 * The observed information I(θ) by Louis' identity, for rows that are independent given θ.
 *
 * With q_n = p(z_n | x_n, θ) the exact posterior of row n and s_n its complete-data score,
 *
 *   I(θ) = −Σ_n E_{q_n}[∇² log p(x_n, z_n | θ)] − Σ_n ( E_{q_n}[s_n s_nᵀ] − E_{q_n}[s_n] E_{q_n}[s_n]ᵀ ),
 *
 * i.e. the expected complete information minus the posterior covariance of the
 * total complete-data score, which for independent rows is the sum of the
 * per-row covariances: the cross terms E[s_n] E[s_m]ᵀ (n ≠ m) cancel. That is
 * why the expected scores are passed per row (their sum is the gradient of
 * ℓ, 0 at the MLE, but the rows' own means are not 0). The identity holds at
 * any θ, not only at the MLE. The result is symmetrized; its inverse comes
 * from {@link covarianceFromInformation}.
 *
 * @throws `INVALID_ARGUMENT` if the inputs are not finite `[p, p]`, `[p, p]`, `[N, p]` matrices.
 * @throws `NOT_POSITIVE_DEFINITE` with path `['information', k]` when I is not positive definite (k = first failing parameter).
 * @see Louis, T. A. (1982). Finding the observed information matrix when using the EM algorithm. *JRSS B* 44, 226–233.
 * @category Standard errors
 */
export function louisInformation(inputs: LouisInputs): LouisInformation {
  const { expectedCompleteHessian: H, expectedScoreOuter: S2, expectedScore: S } = inputs;
  const p = squareSide(H, 'expectedCompleteHessian');
  if (squareSide(S2, 'expectedScoreOuter') !== p) {
    throw emError('INVALID_ARGUMENT', ['expectedScoreOuter'], S2, `must be p×p with p = ${p}, like expectedCompleteHessian`, 'pass Σ_n E[s_n s_nᵀ] over the same parameters');
  }
  if (!(S instanceof Float64Array) || S.length % p !== 0 || S.some((v) => !Number.isFinite(v))) {
    throw emError(
      'INVALID_ARGUMENT',
      ['expectedScore'],
      S,
      `must be a finite row-major [N, p] Float64Array with p = ${p}`,
      'pass the per-row posterior mean of the complete-data score, one row per observation',
    );
  }
  const n = S.length / p;
  // Σ_n E[s_n] E[s_n]ᵀ, lower triangle.
  const M = new Float64Array(p * p);
  for (let r = 0; r < n; r++) {
    const o = r * p;
    for (let i = 0; i < p; i++) {
      const si = S[o + i]!;
      if (si === 0) continue;
      for (let j = 0; j <= i; j++) M[i * p + j] = M[i * p + j]! + si * S[o + j]!;
    }
  }
  const information = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      const hij = 0.5 * (H[i * p + j]! + H[j * p + i]!);
      const sij = 0.5 * (S2[i * p + j]! + S2[j * p + i]!);
      const v = M[i * p + j]! - sij - hij;
      information[i * p + j] = v;
      information[j * p + i] = v;
    }
  }
  const { covariance, standardErrors } = covarianceFromInformation(information);
  return { information, covariance, standardErrors };
}
