/**
 * Built-in synthetic data sets, generated on demand from fixed seeds.
 * @module
 */
import { emError } from '@emlab/core';
import { makeGaussianMixture, type GeneratedMixture } from './generators.js';

/**
 * A registry entry: what the data set is and how to generate it.
 * @category Data
 */
export interface BuiltinDatasetSpec {
  /** One-line human description (sizes, structure, seed). */
  readonly description: string;
  /** Draws the data set (deterministic: same result on every call). */
  readonly generate: () => GeneratedMixture;
}

/**
 * A loaded built-in data set. Also usable directly as `{ values, rows, cols }` model data.
 * @category Data
 */
export interface BuiltinDataset extends GeneratedMixture {
  /** Registry name, e.g. `'blobs3'`. */
  name: string;
  /** Human description. */
  description: string;
  /** Column names `x1 … xD`. */
  columns: string[];
}

/**
 * The built-in data sets by name.
 *
 * - `blobs3`: 600 × 2, 3 well-separated full-covariance Gaussian clusters (seed 7).
 * - `blobs5d`: 2000 × 5, 4 well-separated full-covariance Gaussian clusters (seed 11).
 * - `overlap2`: 500 × 2, 2 overlapping full-covariance Gaussian clusters (seed 3).
 * - `mix5`: 5000 × 4, 5 partly overlapping full-covariance Gaussian clusters (seed 5); the `npm start` demo.
 *
 * @example
 * ```ts
 * for (const [name, spec] of Object.entries(builtinDatasets)) console.log(name, spec.description);
 * ```
 * @category Data
 */
export const builtinDatasets: Readonly<Record<string, BuiltinDatasetSpec>> = Object.freeze({
  blobs3: {
    description: '600 rows × 2 features: 3 well-separated Gaussian clusters with full covariances (seed 7)',
    generate: () => makeGaussianMixture({ nSamples: 600, nComponents: 3, nFeatures: 2, seed: 7, covariance: 'full' }),
  },
  blobs5d: {
    description: '2000 rows × 5 features: 4 well-separated Gaussian clusters with full covariances (seed 11)',
    generate: () => makeGaussianMixture({ nSamples: 2000, nComponents: 4, nFeatures: 5, seed: 11, covariance: 'full' }),
  },
  overlap2: {
    description: '500 rows × 2 features: 2 overlapping Gaussian clusters (separation 1.5) with full covariances (seed 3)',
    generate: () => makeGaussianMixture({ nSamples: 500, nComponents: 2, nFeatures: 2, seed: 3, covariance: 'full', separation: 1.5 }),
  },
  mix5: {
    description: '5000 rows × 4 features: 5 partly overlapping Gaussian clusters (separation 1.5) with full covariances (seed 5)',
    generate: () => makeGaussianMixture({ nSamples: 5000, nComponents: 5, nFeatures: 4, seed: 5, covariance: 'full', separation: 1.5 }),
  },
});

/**
 * Generates a built-in data set by name.
 *
 * @throws EmError `INVALID_ARGUMENT` for an unknown name (the message lists the known names).
 * @example
 * ```ts
 * const data = loadBuiltin('blobs3');
 * // data.rows === 600, data.cols === 2, data.columns = ['x1', 'x2']
 * ```
 * @category Data
 */
export function loadBuiltin(name: string): BuiltinDataset {
  const spec = Object.hasOwn(builtinDatasets, name) ? builtinDatasets[name] : undefined;
  if (spec === undefined) {
    const known = Object.keys(builtinDatasets);
    throw emError('INVALID_ARGUMENT', ['name'], name, `is not a built-in data set (known: ${known.join(', ')})`, `pass one of ${known.join(', ')}`);
  }
  const g = spec.generate();
  return {
    name,
    description: spec.description,
    columns: Array.from({ length: g.cols }, (_, i) => `x${i + 1}`),
    x: g.x,
    values: g.x,
    rows: g.rows,
    cols: g.cols,
    labels: g.labels,
    truth: g.truth,
  };
}
