/**
 * Suite models from core's model registry: `type` is any registered name or
 * alias, options are checked against the registration's option schema (with
 * `suite.models[m].options.…` paths), and options a data set implies (a true
 * K, a network) fill in what the suite leaves out.
 * @module
 */
import { checkOption, findModel, parseOptions, type Model, type ModelRegistration } from '@emlab/core';
import { emError } from '@emlab/core';
import { NUMERIC_TABLE } from './dataset-registry.js';
import type { MaterializedDataset } from './materialize.js';
import type { ModelSpec, Suite } from './suite-schema.js';
import { reanchor } from './suite.js';

/** A model of any registered type. @internal */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyModel = Model<any, any, any, any>;

/** The registration of `suite.models[m]`. @throws EmError at `suite.models[m].type` @internal */
export function modelRegistration(suite: Suite, m: number): ModelRegistration {
  return findModel((suite.models[m] as ModelSpec).type, ['suite', 'models', m, 'type']);
}

/**
 * The data format a registration reads: `'numeric-table'`, the `dataType` of a custom registration,
 * or null (a custom registration without one runs only on data sets it lists).
 * @internal
 */
export function dataFormatOf(reg: ModelRegistration): string | null {
  const data = reg.data ?? { format: NUMERIC_TABLE };
  if (data.format === NUMERIC_TABLE) return NUMERIC_TABLE;
  return (data as { dataType?: string }).dataType ?? null;
}

/**
 * Checks the options `suite.models[m]` gives (unknown keys, values) before any work; required options
 * may still come from a data set.
 * @throws EmError at `suite.models[m].options.key`
 * @internal
 */
export function checkModelOptions(suite: Suite, m: number): ModelRegistration {
  const reg = modelRegistration(suite, m);
  const spec = suite.models[m] as ModelSpec;
  const known = Object.keys(reg.options);
  for (const [key, value] of Object.entries(spec.options)) {
    const path = ['suite', 'models', m, 'options', key];
    const opt = reg.options[key];
    if (opt === undefined) throw emError('INVALID_ARGUMENT', path, value, `is not an option of model ${reg.name}`, known.length > 0 ? `use one of: ${known.join(', ')}` : `${reg.name} takes no options`);
    checkOption(opt, value, path);
  }
  return reg;
}

/** Whether `suite.models[m]` runs on a data set: listed, or (no list) the data set's format is the one the model reads. @internal */
export function modelApplies(suite: Suite, m: number, data: Pick<MaterializedDataset, 'id' | 'format'>): boolean {
  const spec = suite.models[m] as ModelSpec;
  if (spec.datasets !== undefined) return spec.datasets.includes(data.id);
  return dataFormatOf(modelRegistration(suite, m)) === data.format;
}

/**
 * Builds `suite.models[m]` for a data set: the suite's options, plus the options the data set implies
 * for keys of the model's schema the suite leaves out, validated by the schema.
 * @throws EmError anchored at `suite.models[m].options…`
 * @internal
 */
export function buildModel(suite: Suite, m: number, data: Pick<MaterializedDataset, 'id' | 'modelDefaults'>): AnyModel {
  const spec = suite.models[m] as ModelSpec;
  const reg = modelRegistration(suite, m);
  const path = ['suite', 'models', m, 'options'];
  const merged: Record<string, unknown> = { ...spec.options };
  for (const [key, value] of Object.entries(data.modelDefaults ?? {})) {
    if (key in reg.options && merged[key] === undefined) merged[key] = value;
  }
  const options = parseOptions(reg.options, merged, { owner: reg.name, pathOf: (k) => [...path, k] });
  try {
    return reg.create(options) as AnyModel;
  } catch (e) {
    throw reanchor(e, path);
  }
}
