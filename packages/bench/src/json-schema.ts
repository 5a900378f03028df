/**
 * The suite file's JSON Schema (draft 2020-12), generated from the one suite
 * schema (`suite-schema.ts`, via @valibot/to-json-schema) plus the option
 * schemas of the registered data-set kinds. `benchmarks/suite.schema.json`
 * is this, written by `benchmarks/write-suite-schema.mjs` (a test checks it is
 * current). Editors use it for completion and checks when a suite names it in
 * `"$schema"`.
 * @module
 */
import type { OptionSchema, OptionSpec } from '@emlab/core';
import { listDatasetKinds } from './dataset-registry.js';
import './datasets/index.js';
import { DATASET_SHORTHAND_SCHEMAS, SUITE_SCHEMA } from './suite-schema.js';

type Json = Record<string, unknown>;

function optionJson(spec: OptionSpec): Json {
  const base: Json = { description: spec.description };
  if (spec.default !== undefined) base['default'] = spec.default;
  switch (spec.type) {
    case 'integer':
    case 'number': {
      const out: Json = { type: spec.type, ...base };
      if (spec.min !== undefined) out[spec.type === 'number' && spec.exclusiveMin ? 'exclusiveMinimum' : 'minimum'] = spec.min;
      if (spec.max !== undefined) out[spec.type === 'number' && spec.exclusiveMax ? 'exclusiveMaximum' : 'maximum'] = spec.max;
      return out;
    }
    case 'boolean':
      return { type: 'boolean', ...base };
    case 'enum':
      return { type: 'string', enum: [...spec.values], ...base };
    case 'string':
      return { type: 'string', ...base };
    case 'number-list': {
      const items: Json = { type: 'number' };
      if (spec.min !== undefined) items['minimum'] = spec.min;
      if (spec.max !== undefined) items['maximum'] = spec.max;
      return { type: 'array', items, minItems: 1, ...base };
    }
    case 'custom':
      return { ...base, description: `${spec.description} (${spec.shape})` };
  }
}

/** An option table as a JSON Schema object (unknown keys rejected, required keys listed). @internal */
export function optionSchemaJson(schema: OptionSchema): Json {
  const required = Object.entries(schema).filter(([, s]) => s.required === true).map(([k]) => k);
  return {
    type: 'object',
    properties: Object.fromEntries(Object.entries(schema).map(([k, s]) => [k, optionJson(s)])),
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
}

/**
 * The suite file's JSON Schema: the suite schema, with each built-in (and registered) data-set kind's
 * options and the shorthand data-set forms.
 * @example
 * ```ts
 * await writeFile('suite.schema.json', JSON.stringify(await suiteJsonSchema(), null, 2) + '\n');
 * ```
 * @category Suites
 */
export async function suiteJsonSchema(): Promise<Record<string, unknown>> {
  const { toJsonSchema } = await import('@valibot/to-json-schema');
  const root = toJsonSchema(SUITE_SCHEMA, { errorMode: 'ignore' }) as Json;
  const kinds = listDatasetKinds();
  const datasets = (root['properties'] as Json)['datasets'] as Json;
  const canonical = datasets['items'] as Json;
  ((canonical['properties'] as Json)['kind'] as Json)['examples'] = kinds.map((k) => k.kind);
  canonical['allOf'] = kinds.map((k) => ({
    if: { properties: { kind: { const: k.kind } }, required: ['kind'] },
    then: { properties: { options: { ...optionSchemaJson(k.options), description: `${k.kind}: ${k.description}` } } },
  }));
  const shorthands = Object.values(DATASET_SHORTHAND_SCHEMAS).map((s) => {
    const j = toJsonSchema(s, { errorMode: 'ignore' }) as Json;
    delete j['$schema'];
    return j;
  });
  datasets['items'] = { anyOf: [canonical, ...shorthands] };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'emlab benchmark suite',
    description: 'A grid of data sets × models × methods × seeds run by `emlab bench` (docs/bench.md). Model and method options are checked against their registrations when the suite runs.',
    ...Object.fromEntries(Object.entries(root).filter(([k]) => k !== '$schema')),
  };
}
