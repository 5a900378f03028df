/**
 * Metrics against a Gaussian-mixture truth, for the kinds that know one
 * (`gaussian-mixture`, `builtin`).
 * @module
 */
import type { MixtureTruth } from '@emlab/data';
import { mixtureParameterError, type MixtureParamsLike } from '../metrics.js';

function looksLikeMixture(p: unknown): p is MixtureParamsLike {
  const o = p as Partial<MixtureParamsLike> | null;
  return typeof o === 'object' && o !== null && Array.isArray(o.weights) && Array.isArray(o.means) && Array.isArray(o.covariances);
}

/**
 * Parameter error of fitted mixture parameters (weights, means, covariances) against the truth after
 * Hungarian matching; null for parameters of another shape (another model family on the same data).
 * @internal
 */
export function mixtureTruthError(truth: MixtureTruth): (params: unknown) => number | null {
  return (params) => {
    if (!looksLikeMixture(params)) return null;
    const d = truth.means[0]?.length ?? 0;
    const square = params.covariances.every((c) => Array.isArray(c) && c.length === d && c.every((row) => Array.isArray(row) && row.length === d));
    if (!square) return null;
    return mixtureParameterError(params, truth)?.error ?? null;
  };
}
