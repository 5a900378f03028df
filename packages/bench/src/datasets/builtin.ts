/**
 * Data-set kind `builtin`: a built-in data set of @emlab/data by name (truth
 * and labels known).
 * @module
 */
import type { OptionSchema } from '@emlab/core';
import { builtinDatasets, loadBuiltin } from '@emlab/data';
import { registerDatasetKind } from '../dataset-registry.js';
import { reanchor } from '../suite.js';
import { mixtureTruthError } from './mixture-truth.js';
import { numericTableContent } from './numeric-table.js';

/** Options of the `builtin` data-set kind. @category Data sets */
export const BUILTIN_DATASET_OPTIONS = {
  name: { type: 'enum', values: Object.keys(builtinDatasets), required: true, description: 'the built-in data set (emlab demo --help lists them)' },
} as const satisfies OptionSchema;

registerDatasetKind({
  kind: 'builtin',
  description: 'a built-in data set of @emlab/data by name; truth and labels known',
  options: BUILTIN_DATASET_OPTIONS,
  format: 'numeric-table',
  missing: ['mcar', 'mar'],
  async materialize(o, ctx) {
    const name = o['name'] as string;
    let g;
    try {
      g = loadBuiltin(name);
    } catch (e) {
      throw reanchor(e, [...ctx.path, 'options', 'name'], 1);
    }
    return numericTableContent(
      { values: Float64Array.from(g.x), rows: g.rows, cols: g.cols },
      { description: `${name}: ${g.description}`, truth: g.truth, labels: g.labels, parameterError: mixtureTruthError(g.truth), modelDefaults: { nComponents: g.truth.weights.length } },
      ctx,
    );
  },
});
