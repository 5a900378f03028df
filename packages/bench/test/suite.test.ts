/**
 * Suite validation: the one schema's defaults, typed errors naming the JSON path (and, for files,
 * the line and column), strictness (unknown and repeated keys), the data-set shorthands, the size
 * guard before any work, and the registry checks runSuite makes before any run.
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
  it('fills in defaults and turns shorthand data sets into the canonical form', () => {
    const s = validateSuite(base);
    expect(s.format).toBe('emlab/suite');
    expect(s.esteps.map((e) => e.id)).toEqual(['exact', 'hard', 'stochastic']);
    expect(s.models[0]?.id).toBe('gmm');
    expect(s.stopping).toEqual({ maxIter: 3, tol: null, convergence: null });
    expect(s.limits).toEqual({ timeMs: null, memoryMb: null, maxCells: 50_000_000, retries: 1 });
    expect(s.precision).toBeNull();
    expect(s.heldOut).toBeNull();
    expect(s.init).toBeNull();
    expect(s.plugins).toEqual([]);
    expect(s.datasets[0]).toEqual({ id: 'd', kind: 'gaussian-mixture', options: { nSamples: 60, nComponents: 2, nFeatures: 2, seed: 1 } });
    expect(validateSuite(s)).toEqual(s); // idempotent: a validated suite (as in the manifest) validates to itself
    const short = validateSuite({
      ...base,
      datasets: [
        { csv: 'a.csv', labelColumn: 'y' },
        { builtin: 'mix5', missing: { rate: 0.1 } },
        { id: 'net', bif: 'asia', nSamples: 10, hidden: ['either'] },
      ],
    });
    expect(short.datasets).toEqual([
      { id: 'data0', kind: 'csv', options: { path: 'a.csv', labelColumn: 'y' } },
      { id: 'mix5', kind: 'builtin', options: { name: 'mix5' }, missing: { rate: 0.1, mechanism: 'mcar', seed: 0 } },
      { id: 'net', kind: 'bayesian-network', options: { network: 'asia', nSamples: 10, hidden: ['either'] } },
    ]);
  });

  it.each([
    [{ ...base, seeds: [0, 1.5] }, /^suite\.seeds\[1\] = 1\.5: must be a safe integer or a non-empty string\. Remedy: /],
    [{ ...base, seeds: [0, 0] }, /^suite\.seeds\[1\] = 0: repeats an earlier seed/],
    [{ ...base, datasets: [] }, /^suite\.datasets = array of length 0: must be a non-empty array/],
    [{ ...base, datasets: [{ id: 'x' }] }, /^suite\.datasets\[0\]\.kind = undefined: is required\. Remedy: name a data-set kind/],
    [{ ...base, datasets: [{ id: 'x', builtin: 'mix5', csv: 'a.csv' }] }, /^suite\.datasets\[0\] = object: has more than one of "builtin", "csv"/],
    [{ ...base, datasets: [{ ...base.datasets[0], missing: { rate: 1.5, mechanism: 'mcar' } }] }, /^suite\.datasets\[0\]\.missing\.rate = 1\.5: must be a number in \[0, 1\)/],
    [{ ...base, datasets: [{ ...base.datasets[0], missing: { rate: 0.1, mechanism: 'mnar' } }] }, /^suite\.datasets\[0\]\.missing\.mechanism = "mnar": must be "mcar" or "mar"/],
    [{ ...base, datasets: [{ id: 'x', kind: 'csv', options: { path: 'a.csv' }, extra: 1 }] }, /^suite\.datasets\[0\]\.extra = 1: is not a known field here\. Remedy: use only: id, kind, options, missing/],
    [{ ...base, datasets: [{ id: 'x', csv: 'a.csv', label: 'y' }] }, /^suite\.datasets\[0\]\.label = "y": is not a known field here\. Remedy: use only: id, csv, labelColumn, missing/],
    [{ ...base, models: [{ type: 'gmm', datasets: ['nope'] }] }, /^suite\.models\[0\]\.datasets\[0\] = "nope": is not the id of a data set/],
    [{ ...base, models: [{ type: 'gmm', option: {} }] }, /^suite\.models\[0\]\.option = object: is not a known field here/],
    [{ ...base, esteps: ['exact', 'exact'] }, /^suite\.esteps\[1\]\.id = "exact": repeats the id of suite\.esteps\[0\]/],
    [{ ...base, esteps: [{ method: 'exact', option: {} }] }, /^suite\.esteps\[0\]\.option = object: is not a known field here\. Remedy: use only: id, method, options/],
    [{ ...base, esteps: [3] }, /^suite\.esteps\[0\] = 3: must be a method name or an object/],
    [{ ...base, stopping: { maxIter: 0 } }, /^suite\.stopping\.maxIter = 0: must be an integer in \[1, 1000000\]/],
    [{ ...base, stopping: { tol: -1 } }, /^suite\.stopping\.tol = -1: must be a finite number >= 0/],
    [{ ...base, stopping: { convergence: 'fast' } }, /^suite\.stopping\.convergence = "fast": must be one of "aitken", "absolute"/],
    [{ ...base, heldOut: { fraction: 1 } }, /^suite\.heldOut\.fraction = 1: must be a number in \[0, 1\)/],
    [{ ...base, plugins: [3] }, /^suite\.plugins\[0\] = 3: must be a non-empty string/],
    [{ ...base, limits: { retries: 5 } }, /^suite\.limits\.retries = 5: must be an integer in \[0, 3\]/],
    [{ ...base, limits: { memoryMb: 4 } }, /^suite\.limits\.memoryMb = 4: must be a finite number >= 32/],
    [{ ...base, precision: 'half' }, /^suite\.precision = "half": must be "auto", "float32" or "float64"/],
    [{ ...base, extra: 1 }, /^suite\.extra = 1: is not a known field here\. Remedy: use only: \$schema, format, name/],
    [[1], /^suite = array of length 1: must be an object/],
  ])('rejects %#', (raw, pattern) => {
    const e = errorOf(() => validateSuite(raw));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(pattern);
    expect(e.message).toMatch(/Remedy: /);
  });
});

describe('loadSuite: errors name the file, line and column', () => {
  it('reports invalid JSON with its line and column and a remedy about the suite file', async () => {
    await writeFile(join(dir, 'bad.json'), '{\n  "datasets": [\n    { "id": "a", },\n  ]\n}\n');
    const e = await errorOfAsync(loadSuite(join(dir, 'bad.json')));
    expect(e.code).toBe('PARSE_ERROR');
    expect(e.message).toMatch(/is not valid JSON at line 3, column 18: a property name was expected/);
    expect(e.message).toMatch(/Remedy: fix the suite file at .*bad\.json:3:18/);
    expect(e.message).not.toMatch(/saveResult|fit --out|result/);
    await writeFile(join(dir, 'nan.json'), '{ "seeds": [NaN] }');
    expect((await errorOfAsync(loadSuite(join(dir, 'nan.json')))).message).toMatch(/line 1, column 13: an invalid symbol/);
    await writeFile(join(dir, 'empty.json'), '  \n');
    expect((await errorOfAsync(loadSuite(join(dir, 'empty.json')))).message).toMatch(/is empty/);
    expect((await errorOfAsync(loadSuite(join(dir, 'none.json')))).code).toBe('IO_ERROR');
  });

  it('rejects a repeated key (JSON readers would keep only one) with where it is', async () => {
    await writeFile(join(dir, 'dup.json'), JSON.stringify(base, null, 2).replace('"maxIter": 3', '"maxIter": 3,\n    "maxIter": 4'));
    const e = await errorOfAsync(loadSuite(join(dir, 'dup.json')));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/^suite\.stopping\.maxIter = "maxIter": is given twice \(.*dup\.json:\d+:5\)/);
  });

  it('prefixes schema errors with file:line:column of the offending value, also inside shorthand data sets', async () => {
    const text = JSON.stringify({ ...base, stopping: { maxIter: 0 } }, null, 2);
    await writeFile(join(dir, 'zero.json'), text);
    const line = text.split('\n').findIndex((l) => l.includes('"maxIter": 0')) + 1;
    const e = await errorOfAsync(loadSuite(join(dir, 'zero.json')));
    expect(e.message.startsWith(`${join(dir, 'zero.json')}:${line}:5: suite.stopping.maxIter = 0: must be an integer in [1, 1000000]`)).toBe(true);
    expect(e.path).toEqual(['suite', 'stopping', 'maxIter']);
    // A value a registry check rejects later (runSuite with the loaded suite): the shorthand's "nSamples" line.
    const net = JSON.stringify({ ...base, datasets: [{ id: 'net', bif: 'asia', nSamples: -3 }], models: [{ type: 'bn' }], esteps: ['exact'] }, null, 2);
    await writeFile(join(dir, 'net.json'), net);
    const netLine = net.split('\n').findIndex((l) => l.includes('"nSamples": -3')) + 1;
    const late = await errorOfAsync(runSuite(await loadSuite(join(dir, 'net.json')), { workers: 1 }));
    expect(late.message.startsWith(`${join(dir, 'net.json')}:${netLine}:7: suite.datasets[0].options.nSamples = -3: must be an integer >= 1`)).toBe(true);
  });

  it('reads UTF-16 files with a byte-order mark', async () => {
    const text = JSON.stringify(base);
    await writeFile(join(dir, 'utf16.json'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const loaded = await loadSuite(join(dir, 'utf16.json'));
    expect(loaded.baseDir).toBe(dir);
    expect(loaded.suite.datasets).toHaveLength(1);
  });
});

describe('runSuite checks against the registries, models and data before any run', () => {
  it.each([
    [{ ...base, esteps: ['exact', 'hard', { method: 'stochastic', options: { nDraws: -1 } }] }, 'INVALID_ARGUMENT', /^suite\.esteps\[2\]\.options\.nDraws = -1: must be an integer in \[1, 10000\]\. Remedy: /],
    [{ ...base, esteps: ['exact', { method: 'stochastic', options: { draws: 2 } }] }, 'INVALID_ARGUMENT', /^suite\.esteps\[1\]\.options\.draws = 2: is not an option of stochasticEStep/],
    [{ ...base, esteps: ['exact', 'gibbs'] }, 'UNKNOWN_ESTEP', /^suite\.esteps\[1\]\.method = "gibbs": no method registered/],
    [{ ...base, models: [{ type: 'no-such-model' }] }, 'INVALID_ARGUMENT', /^suite\.models\[0\]\.type = "no-such-model": is not a registered model \(registered: .*gmm/],
    [{ ...base, models: [{ type: 'gmm', options: { covarianceType: 'round' } }] }, 'INVALID_ARGUMENT', /^suite\.models\[0\]\.options\.covarianceType = "round"/],
    [{ ...base, models: [{ type: 'gmm', options: { components: 3 } }] }, 'INVALID_ARGUMENT', /^suite\.models\[0\]\.options\.components = 3: is not an option of model gmm\. Remedy: use one of: nComponents/],
    [{ ...base, datasets: [{ id: 'd', kind: 'poisson', options: {} }] }, 'INVALID_ARGUMENT', /^suite\.datasets\[0\]\.kind = "poisson": is not a registered data-set kind \(registered: bayesian-network, builtin, csv, gaussian-mixture\)/],
    [{ ...base, datasets: [{ id: 'd', generator: 'gaussianMixture', options: { nSamples: 0, nComponents: 2, nFeatures: 2, seed: 1 } }] }, 'INVALID_ARGUMENT', /^suite\.datasets\[0\]\.options\.nSamples = 0: must be an integer >= 1/],
    [{ ...base, datasets: [{ id: 'd', generator: 'gaussianMixture', options: { nSamples: 10, nComponents: 2, nFeatures: 2 } }] }, 'INVALID_ARGUMENT', /^suite\.datasets\[0\]\.options\.seed = undefined: is required by gaussian-mixture/],
    [{ ...base, datasets: [{ id: 'd', builtin: 'nope' }] }, 'INVALID_ARGUMENT', /^suite\.datasets\[0\]\.options\.name = "nope": must be one of "blobs3"/],
    [{ ...base, datasets: [{ id: 'd', bif: 'asia', nSamples: 10, missing: { rate: 0.1, mechanism: 'mar' } }], models: [{ type: 'bn' }], esteps: ['exact'] }, 'INVALID_ARGUMENT', /^suite\.datasets\[0\]\.missing\.mechanism = "mar": is not supported by data-set kind "bayesian-network" \(supported: mcar\)/],
    [{ ...base, datasets: [{ id: 'd', csv: 'missing.csv' }], models: [{ type: 'gmm', options: { nComponents: 2 } }] }, 'IO_ERROR', /^suite\.datasets\[0\]\.options\.path = /],
    [{ ...base, datasets: [{ id: 'd', csv: 'x.csv' }] }, 'INVALID_ARGUMENT', /^suite\.models\[0\]\.options\.nComponents = undefined: is required by gmm/],
    [{ ...base, init: 'spectral' }, 'INVALID_ARGUMENT', /^suite\.init = "spectral": is not an initialization method/],
    [{ ...base, plugins: ['./no-such-plugin.mjs'] }, 'IO_ERROR', /^suite\.plugins\[0\] = "\.\/no-such-plugin\.mjs": cannot be imported/],
  ])('rejects %#', async (raw, code, pattern) => {
    await writeFile(join(dir, 'x.csv'), 'a,b\n1,2\n3,4\n5,7\n');
    const e = await errorOfAsync(runSuite(raw, { workers: 1, baseDir: dir }));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(pattern);
  });

  it('refuses a data set over limits.maxCells at validation, before anything is generated', async () => {
    const huge = { ...base, datasets: [{ id: 'big', kind: 'gaussian-mixture', options: { nSamples: 200_000_000, nComponents: 3, nFeatures: 4, seed: 1 } }] };
    const t0 = performance.now();
    const e = await errorOfAsync(runSuite(huge, { workers: 1 }));
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/^suite\.datasets\[0\]\.options\.nSamples = 200000000: makes a data set of 8\.000e\+8 cells \(≈ 6\.0 GiB as float64 before any copy\), more than limits\.maxCells = 50000000\. Remedy: use fewer rows or columns, or raise "limits": \{ "maxCells": 800000000 \}/);
    // Networks: rows × nodes (asia has 8).
    const net = { ...base, datasets: [{ id: 'n', bif: 'asia', nSamples: 10_000_000 }], models: [{ type: 'bn' }], esteps: ['exact'], limits: { maxCells: 1_000_000 } };
    expect((await errorOfAsync(runSuite(net, { workers: 1 }))).message).toMatch(/makes a data set of 8\.000e\+7 cells/);
  });

  it('rejects an outDir that is an existing file before any work', async () => {
    await writeFile(join(dir, 'taken'), 'not a directory');
    const e = await errorOfAsync(runSuite(base, { workers: 1, outDir: join(dir, 'taken') }));
    expect(e.code).toBe('IO_ERROR');
    expect(e.message).toMatch(/^options\.outDir = ".*taken": is an existing file, not a directory/);
  });
});

describe('the data-set kind registry', () => {
  it('lists the built-in kinds, rejects malformed registrations, and names the registered kinds for an unknown one', async () => {
    const { listDatasetKinds, registerDatasetKind, findDatasetKind } = await import('@emlab/bench');
    expect(listDatasetKinds().map((k) => [k.kind, k.format])).toEqual([
      ['bayesian-network', 'bn-table'],
      ['builtin', 'numeric-table'],
      ['csv', 'numeric-table'],
      ['gaussian-mixture', 'numeric-table'],
    ]);
    expect(errorOf(() => registerDatasetKind({ kind: '', description: 'x', format: 'numeric-table', options: {}, materialize: async () => ({}) as never })).message).toMatch(/^registerDatasetKind\.kind = "": must be a non-empty string/);
    expect(errorOf(() => registerDatasetKind({ kind: 'k', description: 'x', format: 'numeric-table', options: {}, materialize: 3 as never })).message).toMatch(/^registerDatasetKind\.materialize = 3: must be a function/);
    expect(errorOf(() => findDatasetKind('hmm-sample', ['suite', 'datasets', 0, 'kind'])).message).toMatch(/^suite\.datasets\[0\]\.kind = "hmm-sample": is not a registered data-set kind \(registered: bayesian-network, builtin, csv, gaussian-mixture\)\. Remedy: .*plugins/);
  });
});
