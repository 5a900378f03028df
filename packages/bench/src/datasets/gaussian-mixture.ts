/**
 * Data-set kind `gaussian-mixture`: rows drawn from a random Gaussian mixture
 * (`makeGaussianMixture` from @emlab/data); the truth (weights, means,
 * covariances, labels) is known.
 * @module
 */
import type { OptionSchema } from '@emlab/core';
import { makeGaussianMixture, type GaussianMixtureOptions } from '@emlab/data';
import { registerDatasetKind } from '../dataset-registry.js';
import { seedOption } from './seed-option.js';
import { reanchor } from '../suite.js';
import { mixtureTruthError } from './mixture-truth.js';
import { numericTableContent } from './numeric-table.js';

/** Options of the `gaussian-mixture` data-set kind (makeGaussianMixture's). @category Data sets */
export const GAUSSIAN_MIXTURE_DATASET_OPTIONS = {
  nSamples: { type: 'integer', min: 1, required: true, description: 'rows to draw' },
  nComponents: { type: 'integer', min: 1, max: 10_000, required: true, description: 'components K' },
  nFeatures: { type: 'integer', min: 1, max: 100_000, required: true, description: 'features D' },
  seed: seedOption('root seed of the draw', { required: true }),
  separation: { type: 'number', min: 0, exclusiveMin: true, description: 'minimum distance between means, in cluster scales (default 4)' },
  covariance: { type: 'enum', values: ['full', 'diag', 'spherical', 'tied'], description: 'shape of the true covariances (default full)' },
  weights: { type: 'number-list', min: 0, max: 1, description: 'mixing weights, K numbers summing to 1 (default random, each >= 0.5/K)' },
} as const satisfies OptionSchema;

registerDatasetKind({
  kind: 'gaussian-mixture',
  description: 'rows drawn from a random Gaussian mixture (makeGaussianMixture); truth and labels known',
  options: GAUSSIAN_MIXTURE_DATASET_OPTIONS,
  format: 'numeric-table',
  missing: ['mcar', 'mar'],
  size: (o) => (o['nSamples'] as number) * (o['nFeatures'] as number),
  async materialize(o, ctx) {
    let g;
    try {
      g = makeGaussianMixture(o as unknown as GaussianMixtureOptions);
    } catch (e) {
      throw reanchor(e, [...ctx.path, 'options']);
    }
    const desc = `gaussianMixture ${g.rows}×${g.cols}, K=${g.truth.weights.length}, ${String(o['covariance'] ?? 'full')} covariances, separation ${String(o['separation'] ?? 4)}, seed ${String(o['seed'])}`;
    return numericTableContent(
      { values: Float64Array.from(g.x), rows: g.rows, cols: g.cols },
      { description: desc, truth: g.truth, labels: g.labels, parameterError: mixtureTruthError(g.truth), modelDefaults: { nComponents: g.truth.weights.length } },
      ctx,
    );
  },
});
