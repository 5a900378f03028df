/**
 * Suite validation: defaults, and typed errors naming the JSON path in the
 * file, raised before any run starts (structure here; registry, model options
 * and data sets through runSuite).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSuite, runSuite, validateSuite } from '@emlab/bench';
import { catchEmError as errorOf, catchEmErrorAsync as errorOfAsync } from '@emlab/testing';

const base = {
  datasets: [{ id: 'd', generator: 'gaussianMixture', options: { nSamples: 60, nComponents: 2, nFeatures: 2, seed: 1 } }],
  models: [{ type: 'gmm', options: {} }],
  esteps: ['exact', 'hard', { method: 'stochastic', options: { nDraws: 2 } }],
  seeds: [0],
  stopping: { maxIter: 3 },
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emlab-suite-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('validateSuite', () => {
  it('fills in defaults', () => {
    const s = validateSuite(base);
    expect(s.format).toBe('emlab/suite');
    expect(s.esteps.map((e) => e.id)).toEqual(['exact', 'hard', 'stochastic']);
    expect(s.models[0]?.id).toBe('gmm');
    expect(s.stopping).toEqual({ maxIter: 3, tol: 1e-6 });
    expect(s.heldOut).toBeNull();
    expect(s.init).toBeNull(); // each model's default (gmm kmeans++, bn random)
    expect(s.plugins).toEqual([]);
    expect(validateSuite(s)).toEqual(s); // idempotent: a validated suite (as in the manifest) validates to itself
  });

  it.each([
    [{ ...base, seeds: [0, 1.5] }, /^suite\.seeds\[1\] = 1\.5: .*Remedy: /],
    [{ ...base, seeds: [0, 0] }, /^suite\.seeds\[1\] = 0: repeats an earlier seed/],
    [{ ...base, datasets: [] }, /^suite\.datasets = array of length 0: must be a non-empty array/],
    [{ ...base, datasets: [{ id: 'x' }] }, /^suite\.datasets\[0\] = object: has none of/],
    [{ ...base, datasets: [{ id: 'x', builtin: 'mix5', csv: 'a.csv' }] }, /^suite\.datasets\[0\] = object: has more than one of "builtin", "csv"/],
    [{ ...base, datasets: [{ ...base.datasets[0], missing: { rate: 1.5, mechanism: 'mcar' } }] }, /^suite\.datasets\[0\]\.missing\.rate = 1\.5: must be a number in \[0, 1\)/],
    [{ ...base, datasets: [{ ...base.datasets[0], missing: { rate: 0.1, mechanism: 'mnar' } }] }, /^suite\.datasets\[0\]\.missing\.mechanism = "mnar"/],
    [{ ...base, models: [{ type: 'hmm' }] }, /^suite\.models\[0\]\.type = "hmm": is not a model type/],
    [{ ...base, models: [{ type: 'gmm', datasets: ['nope'] }] }, /^suite\.models\[0\]\.datasets\[0\] = "nope": is not the id of a data set/],
    [{ ...base, esteps: ['exact', 'exact'] }, /^suite\.esteps\[1\]\.id = "exact": repeats the id of suite\.esteps\[0\]/],
    [{ ...base, esteps: [{ method: 'exact', option: {} }] }, /^suite\.esteps\[0\]\.option = object: is not a known field here/],
    [{ ...base, stopping: { maxIter: 0 } }, /^suite\.stopping\.maxIter = 0: must be an integer >= 1/],
    [{ ...base, stopping: { tol: -1 } }, /^suite\.stopping\.tol = -1/],
    [{ ...base, heldOut: { fraction: 1 } }, /^suite\.heldOut\.fraction = 1: must be a number in \[0, 1\)/],
    [{ ...base, plugins: [3] }, /^suite\.plugins\[0\] = 3: must be a module path/],
    [{ ...base, extra: 1 }, /^suite\.extra = 1: is not a known field here/],
    [[1], /^suite = array of length 1: must be an object/],
  ])('rejects %#', (raw, pattern) => {
    const e = errorOf(() => validateSuite(raw));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(pattern);
    expect(e.message).toMatch(/Remedy: /);
  });
});

describe('runSuite checks against the registry, models and data before any run', () => {
  it.each([
    [{ ...base, esteps: ['exact', 'hard', { method: 'stochastic', options: { nDraws: -1 } }] }, 'INVALID_ARGUMENT', /^suite\.esteps\[2\]\.options\.nDraws = -1: must be an integer in \[1, 10000\]\. Remedy: /],
    [{ ...base, esteps: ['exact', { method: 'stochastic', options: { draws: 2 } }] }, 'INVALID_ARGUMENT', /^suite\.esteps\[1\]\.options\.draws = 2: is not an option of stochasticEStep/],
    [{ ...base, esteps: ['exact', 'gibbs'] }, 'UNKNOWN_ESTEP', /^suite\.esteps\[1\]\.method = "gibbs": no method registered/],
    [{ ...base, models: [{ type: 'gmm', options: { covarianceType: 'round' } }] }, 'INVALID_ARGUMENT', /^suite\.models\[0\]\.options\.covarianceType = "round"/],
    [{ ...base, datasets: [{ id: 'd', generator: 'gaussianMixture', options: { nSamples: 0, nComponents: 2, nFeatures: 2, seed: 1 } }] }, 'INVALID_ARGUMENT', /^suite\.datasets\[0\]\.options\.nSamples = 0: must be an integer >= 1/],
    [{ ...base, datasets: [{ id: 'd', builtin: 'nope' }] }, 'INVALID_ARGUMENT', /^suite\.datasets\[0\]\.builtin = "nope": is not a built-in data set/],
    [{ ...base, datasets: [{ id: 'd', csv: 'missing.csv' }], models: [{ type: 'gmm', options: { nComponents: 2 } }] }, 'IO_ERROR', /^suite\.datasets\[0\]\.csv = /],
    [{ ...base, datasets: [{ id: 'd', csv: 'x.csv' }] }, 'INVALID_ARGUMENT', /^suite\.models\[0\]\.options\.nComponents = undefined: is required/],
    [{ ...base, init: 'spectral' }, 'INVALID_ARGUMENT', /^suite\.init = "spectral": is not an initialization method/],
    [{ ...base, plugins: ['./no-such-plugin.mjs'] }, 'IO_ERROR', /^suite\.plugins\[0\] = "\.\/no-such-plugin\.mjs": cannot be imported/],
  ])('rejects %#', async (raw, code, pattern) => {
    await writeFile(join(dir, 'x.csv'), 'a,b\n1,2\n3,4\n5,7\n');
    const e = await errorOfAsync(runSuite(raw, { workers: 1, baseDir: dir }));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(pattern);
  });

  it('loadSuite reports JSON syntax errors and unreadable files', async () => {
    await writeFile(join(dir, 'bad.json'), '{ "datasets": [ }');
    expect((await errorOfAsync(loadSuite(join(dir, 'bad.json')))).code).toBe('PARSE_ERROR');
    expect((await errorOfAsync(loadSuite(join(dir, 'none.json')))).code).toBe('IO_ERROR');
    await writeFile(join(dir, 'ok.json'), JSON.stringify(base));
    const loaded = await loadSuite(join(dir, 'ok.json'));
    expect(loaded.baseDir).toBe(dir);
    expect(loaded.suite.datasets).toHaveLength(1);
  });
});
