/**
 * The exponential-family pieces of the GLMM response: with the canonical
 * link, log f(y | η) = y η − A(η) − c(y), where A is the cumulant function
 * (Poisson: A = exp, c(y) = log y!; Bernoulli/logit: A = softplus, c = 0).
 * A' is the mean and A'' the variance function; both families have A'' > 0,
 * so log f is concave in η.
 * @module
 */
import type { GlmmFamily } from './glmm-types.js';

/**
 * softplus(η) = log(1 + e^η), without overflow or cancellation.
 * @category GLMM
 */
export function softplus(eta: number): number {
  return eta > 0 ? eta + Math.log1p(Math.exp(-eta)) : Math.log1p(Math.exp(eta));
}

/**
 * The logistic function 1 / (1 + e^(−η)), without overflow.
 * @category GLMM
 */
export function sigmoid(eta: number): number {
  if (eta >= 0) return 1 / (1 + Math.exp(-eta));
  const e = Math.exp(eta);
  return e / (1 + e);
}

/**
 * Cumulant A(η): exp(η) (Poisson) or softplus(η) (logistic).
 * @category GLMM
 */
export function cumulant(family: GlmmFamily, eta: number): number {
  return family === 'poisson' ? Math.exp(eta) : softplus(eta);
}

/**
 * A(η), A'(η) (the mean) and A''(η) (the variance function) written into `out[0..2]`.
 * @category GLMM
 */
export function cumulantDerivatives(family: GlmmFamily, eta: number, out: Float64Array): void {
  if (family === 'poisson') {
    const e = Math.exp(eta);
    out[0] = e;
    out[1] = e;
    out[2] = e;
    return;
  }
  // e = exp(−|η|) ∈ (0, 1]: σ(|η|) = 1 / (1 + e), σ(−|η|) = e / (1 + e).
  const e = Math.exp(-Math.abs(eta));
  const inv = 1 / (1 + e);
  out[0] = Math.max(eta, 0) + Math.log1p(e);
  out[1] = eta >= 0 ? inv : e * inv;
  out[2] = e * inv * inv;
}
