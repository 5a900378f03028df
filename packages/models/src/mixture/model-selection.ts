/**
 * Model selection criteria with mclust's sign conventions: BIC and ICL are
 * "higher is better" (2 log L − p log n), unlike scikit-learn's `bic`, which is
 * −2 log L + p log n (lower is better); the two differ only in sign.
 * @module
 */
import { emError, integerOption } from '@emlab/core';

function finite(value: unknown, path: readonly (string | number)[], what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw emError('INVALID_ARGUMENT', path, value, `must be a finite number (${what})`, `pass the ${what}`);
  }
  return value;
}

/**
 * The Bayesian information criterion as mclust defines it: 2 log L − p log n (higher is better).
 *
 * @param logLik The maximized log-likelihood log L (natural log).
 * @param nParams Free parameters p, e.g. `mixtureParameterCount`.
 * @param n Number of observations (rows) the likelihood is of.
 * @throws `INVALID_ARGUMENT` for a non-finite logLik, p < 0 or n < 1.
 * @example
 * ```ts
 * const score = bic(result.logLikelihood, mixtureParameterCount('VVV', 3, 2), nRows);
 * ```
 * @see Schwarz (1978), "Estimating the dimension of a model", Ann. Statist. 6(2).
 * @see Fraley & Raftery (2002), JASA 97, §2.6 (the mclust convention).
 * @category Model selection
 */
export function bic(logLik: number, nParams: number, n: number): number {
  finite(logLik, ['logLik'], 'log-likelihood');
  integerOption(nParams, ['nParams'], 0);
  integerOption(n, ['n'], 1);
  return 2 * logLik - nParams * Math.log(n);
}

/**
 * The integrated complete-data likelihood criterion as mclust's `icl` computes it: BIC + 2 Σ_n Σ_k c_nk log z_nk.
 *
 * c is the hard MAP classification of z: c_nk = 1 for the first k of row n
 * with the largest z_nk (mclust's `which.max`), 0 elsewhere; a term with
 * z_nk = 0 counts 0. Equivalently BIC + 2 Σ_n log max_k z_nk, i.e. BIC
 * penalized by twice the classification entropy of the hard assignment.
 *
 * @param bicValue The BIC with mclust's sign ({@link bic}).
 * @param z Posterior probabilities z_nk ∈ [0, 1], `[nRows, nComponents]` row-major.
 * @throws `INVALID_ARGUMENT` for a non-finite BIC, a size mismatch, or an entry of z outside [0, 1].
 * @see Biernacki, Celeux & Govaert (2000), "Assessing a mixture model for clustering with the integrated completed likelihood", IEEE TPAMI 22(7).
 * @category Model selection
 */
export function icl(bicValue: number, z: Float64Array, nRows: number, nComponents: number): number {
  finite(bicValue, ['bic'], 'BIC');
  const N = integerOption(nRows, ['nRows'], 0);
  const K = integerOption(nComponents, ['nComponents'], 1);
  if (!(z instanceof Float64Array) || z.length !== N * K) {
    throw emError('INVALID_ARGUMENT', ['z'], z, `must be a Float64Array of length nRows * nComponents = ${N * K}`, 'pass the responsibilities as one row-major [nRows, nComponents] Float64Array');
  }
  let sum = 0;
  for (let n = 0; n < N; n++) {
    let best = -1;
    for (let k = 0; k < K; k++) {
      const v = z[n * K + k]!;
      if (!(v >= 0 && v <= 1)) throw emError('INVALID_ARGUMENT', ['z', n, k], v, 'must be a probability in [0, 1]', 'pass posterior probabilities');
      if (v > best) best = v;
    }
    if (best > 0) sum += Math.log(best);
  }
  return bicValue + 2 * sum;
}
