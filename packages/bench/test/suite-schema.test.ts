/**
 * The published JSON Schema (benchmarks/suite.schema.json): generated from the one suite schema by
 * benchmarks/write-suite-schema.mjs, current (this test fails when it is stale), valid draft 2020-12,
 * accepting the default suite and the shorthands, and rejecting what validateSuite rejects.
 */
import { readFile } from 'node:fs/promises';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { suiteJsonSchema, validateSuite } from '@emlab/bench';

const FILE = new URL('../../../benchmarks/suite.schema.json', import.meta.url);
const DEFAULT_SUITE = new URL('../../../benchmarks/suites/default.json', import.meta.url);

describe('benchmarks/suite.schema.json', () => {
  it('is current (regenerate: npx tsc -b packages/bench && node benchmarks/write-suite-schema.mjs)', async () => {
    const committed = await readFile(FILE, 'utf8');
    expect(committed).toBe(`${JSON.stringify(await suiteJsonSchema(), null, 2)}\n`);
  });

  it('accepts what validateSuite accepts and rejects unknown keys, bad values and options of a data-set kind', async () => {
    const ajv = new Ajv2020.default({ allErrors: true, strict: false });
    const validate = ajv.compile(JSON.parse(await readFile(FILE, 'utf8')) as object);
    const suite = JSON.parse(await readFile(DEFAULT_SUITE, 'utf8')) as Record<string, unknown>;
    expect(validate(suite), JSON.stringify(validate.errors)).toBe(true);
    expect(() => validateSuite(suite)).not.toThrow();
    const shorthand = { datasets: [{ csv: 'a.csv' }, { builtin: 'mix5' }, { bif: 'asia', nSamples: 10 }, { generator: 'gaussianMixture', options: { nSamples: 10, nComponents: 2, nFeatures: 2, seed: 1 } }], models: [{ type: 'gmm' }], esteps: ['exact'] };
    expect(validate(shorthand), JSON.stringify(validate.errors)).toBe(true);
    expect(() => validateSuite(shorthand)).not.toThrow();
    for (const bad of [
      { ...suite, extra: 1 },
      { ...suite, seeds: [1.5] },
      { ...suite, stopping: { maxIter: 0 } },
      { ...suite, datasets: [{ id: 'x', kind: 'gaussian-mixture', options: { nSamples: 10, nComponents: 2, nFeatures: 2, seed: 1, nRows: 3 } }] },
      { ...suite, datasets: [{ id: 'x', kind: 'csv', options: {} }] },
    ]) {
      expect(validate(bad), JSON.stringify(bad).slice(0, 120)).toBe(false);
    }
  });
});
