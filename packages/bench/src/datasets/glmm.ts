/**
 * Data-set kind `glmm`: grouped Poisson or logistic data from a generalized
 * linear mixed model with Gaussian random effects (`generateGlmmData` of
 * `@emlab/models`: x = [1, t, normals...], z = [1] or [1, t]). The held-out
 * split takes whole groups (a group's random effect is shared by its rows).
 * The truth is the generating (β, Σ_b); the data imply the model's `family`.
 * @module
 */
import { emError, type OptionSchema } from '@emlab/core';
import { generateGlmmData, type GlmmDataInput, type GlmmFamily } from '@emlab/models';
import { registerDatasetKind } from '../dataset-registry.js';
import { seedOption } from './seed-option.js';
import { reanchor } from '../suite.js';
import { splitRows } from './numeric-table.js';

/** The data type of GLMM data (`GlmmModelData`): what the `glmm` model registration reads. @category Data sets */
export const GLMM_TABLE = 'glmm-table';

/** Options of the `glmm` data-set kind. @category Data sets */
export const GLMM_DATASET_OPTIONS = {
  family: { type: 'enum', values: ['poisson', 'logistic'], required: true, description: 'response family: poisson (log link) or logistic (logit link)' },
  nGroups: { type: 'integer', min: 2, max: 1_000_000, required: true, description: 'groups (one random-effect vector each)' },
  groupSize: { type: 'integer', min: 1, max: 100_000, required: true, description: 'rows per group' },
  beta: { type: 'number-list', required: true, description: 'fixed effects β: intercept, slope on t, then one per extra normal covariate' },
  sigma: { type: 'number-list', required: true, description: 'Σ_b row-major: [σ²] (random intercept) or [σ₁₁, σ₁₂, σ₂₁, σ₂₂] (intercept and slope on t)' },
  seed: seedOption('root seed of the generator', { default: 0 }),
} as const satisfies OptionSchema;

/** Rows of the given groups (whole groups), as GLMM input. */
function takeGroups(input: GlmmDataInput, groupSize: number, groups: readonly number[]): GlmmDataInput {
  const x = input.x as { values: Float64Array; rows: number; cols: number };
  const z = input.z as { values: Float64Array; rows: number; cols: number };
  const n = groups.length * groupSize;
  const out = { group: new Int32Array(n), y: new Float64Array(n), x: new Float64Array(n * x.cols), z: new Float64Array(n * z.cols) };
  let r = 0;
  for (const g of groups) {
    for (let i = 0; i < groupSize; i++, r++) {
      const src = g * groupSize + i;
      out.group[r] = g;
      out.y[r] = input.y[src] as number;
      out.x.set(x.values.subarray(src * x.cols, (src + 1) * x.cols), r * x.cols);
      out.z.set(z.values.subarray(src * z.cols, (src + 1) * z.cols), r * z.cols);
    }
  }
  return { family: input.family, group: out.group, y: out.y, x: { values: out.x, rows: n, cols: x.cols }, z: { values: out.z, rows: n, cols: z.cols } };
}

/**
 * Mean absolute error of fitted (β, Σ_b) against the truth over every entry of β and Σ_b, or null
 * when the parameters do not have that shape.
 * @category Metrics
 */
export function glmmParameterError(params: unknown, beta: readonly number[], sigma: readonly number[]): number | null {
  const p = params as { beta?: unknown; sigma?: unknown } | null;
  if (p === null || typeof p !== 'object' || !Array.isArray(p.beta) || !Array.isArray(p.sigma) || p.beta.length !== beta.length) return null;
  const flat = (p.sigma as unknown[]).flat();
  if (flat.length !== sigma.length || flat.some((v) => typeof v !== 'number') || (p.beta as unknown[]).some((v) => typeof v !== 'number')) return null;
  let sum = 0;
  beta.forEach((b, j) => (sum += Math.abs((p.beta as number[])[j] as number - b)));
  sigma.forEach((s, j) => (sum += Math.abs((flat[j] as number) - s)));
  return sum / (beta.length + sigma.length);
}

registerDatasetKind({
  kind: 'glmm',
  description: 'grouped Poisson or logistic data from a mixed model with Gaussian random effects (random intercept, optionally a slope); held out by whole groups; truth known',
  options: GLMM_DATASET_OPTIONS,
  format: GLMM_TABLE,
  size(o) {
    return (o['nGroups'] as number) * (o['groupSize'] as number) * ((o['beta'] as number[]).length + 2);
  },
  check(o, ctx) {
    const s = o['sigma'] as number[];
    if (s.length !== 1 && s.length !== 4) throw emError('INVALID_ARGUMENT', [...ctx.path, 'options', 'sigma'], s, 'must have 1 entry (random intercept) or 4 (a 2 × 2 Σ_b, row-major)', 'pass e.g. [0.5] or [0.5, 0, 0, 0.1]');
  },
  async materialize(o, ctx) {
    const family = o['family'] as GlmmFamily;
    const nGroups = o['nGroups'] as number;
    const groupSize = o['groupSize'] as number;
    const beta = o['beta'] as number[];
    const sigma = o['sigma'] as number[];
    const q = sigma.length === 4 ? 2 : 1;
    const seed = o['seed'] as number | string;
    let input: GlmmDataInput;
    try {
      input = generateGlmmData({ family, nGroups, groupSize, beta, sigma: q === 1 ? [[sigma[0] as number]] : [sigma.slice(0, 2), sigma.slice(2, 4)], seed }).input;
    } catch (e) {
      throw reanchor(e, [...ctx.path, 'options'], 1);
    }
    // Whole groups are held out: the split draws group indices.
    const { train, test } = splitRows(nGroups, ctx.heldOut, ctx.id);
    return {
      format: GLMM_TABLE,
      train: test.length === 0 ? input : takeGroups(input, groupSize, train),
      test: test.length === 0 ? null : takeGroups(input, groupSize, test),
      trainLabels: null,
      truth: { beta, sigma },
      modelDefaults: { family },
      parameterError: (params) => glmmParameterError(params, beta, sigma),
      description: `${family} GLMM: ${nGroups} groups × ${groupSize} rows, β = [${beta.join(', ')}], Σ_b = [${sigma.join(', ')}] (seed ${String(seed)}); held out by whole groups`,
      nRows: nGroups * groupSize,
      nTrain: train.length * groupSize,
      nTest: test.length * groupSize,
      nFeatures: beta.length + q + 1,
      missing: null,
    };
  },
});
