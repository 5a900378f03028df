/**
 * The suite runner in this thread (`workers: 1`; worker threads are tested on
 * the built binary in packages/cli/test/bench-cli.test.ts): the shared start
 * of every (data set, model, seed), determinism of results.json apart from
 * `timings`, resume after an interruption equal to an uninterrupted run,
 * runs.csv equal to results.json, metrics with known truth, held-out and
 * missing-entry masks.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, fit, fromJson, type FitResult } from '@emlab/core';
import '@emlab/exact';
import { makeGaussianMixture } from '@emlab/data';
import { gaussianMixture, type GmmParams } from '@emlab/models';
import { JOURNAL_FILE, RUNS_CSV_COLUMNS, hashJson, maskMissing, runSuite, splitRows, type BenchResults } from '@emlab/bench';

const SUITE = {
  name: 'test',
  datasets: [
    { id: 'two', generator: 'gaussianMixture', options: { nSamples: 240, nComponents: 2, nFeatures: 2, seed: 3, separation: 3 } },
    { id: 'three', generator: 'gaussianMixture', options: { nSamples: 180, nComponents: 3, nFeatures: 2, seed: 4 } },
  ],
  models: [{ id: 'gmm', type: 'gmm', options: { covarianceType: 'full' } }],
  esteps: ['exact', 'hard', { id: 'mc2', method: 'stochastic', options: { nDraws: 2 } }],
  seeds: [0, 7],
  stopping: { maxIter: 15, tol: 1e-5 },
  heldOut: { fraction: 0.25, seed: 1 },
};
const N_RUNS = 2 * 1 * 2 * 3;

let dir: string;
let first: BenchResults;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emlab-runner-'));
  first = await runSuite(SUITE, { outDir: join(dir, 'a'), workers: 1, report: false });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const withoutTimings = (r: BenchResults): unknown => ({ ...r, timings: undefined });
const readResults = async (d: string): Promise<BenchResults> => fromJson(await readFile(join(d, 'results.json'), 'utf8')) as BenchResults;

describe('runSuite', () => {
  it('runs every (data set, model, seed, method) in order, all ok', () => {
    expect(first.complete).toBe(true);
    expect(first.nRunsPlanned).toBe(N_RUNS);
    expect(first.runs.map((r) => r.index)).toEqual(Array.from({ length: N_RUNS }, (_, i) => i));
    expect(first.runs.every((r) => r.status === 'ok')).toBe(true);
    expect(first.runs[0]?.id).toBe('two/gmm/exact/seed=0');
    expect(first.runs[3]?.id).toBe('two/gmm/exact/seed=7');
    expect(first.groups).toHaveLength(4);
    expect(first.methods.map((m) => [m.id, m.family])).toEqual([['exact', 'exact'], ['hard', 'restricted'], ['mc2', 'monte-carlo']]);
    expect(first.datasets.map((d) => [d.nTrain, d.nTest])).toEqual([[180, 60], [135, 45]]);
    expect(Object.keys(first.timings.runs)).toHaveLength(N_RUNS);
    for (const r of first.runs) expect(first.timings.runs[r.id]?.elapsedMs).toHaveLength(r.trace.length);
  });

  it('starts every method of a (data set, model, seed) from the same parameters: the ones fit would make with that seed', async () => {
    for (const g of first.groups) {
      const runs = first.runs.filter((r) => r.group === g.id);
      expect(runs).toHaveLength(3);
      for (const r of runs) expect(r.initHash).toBe(g.initHash);
    }
    // (Seeds may give the same start: k-means++ centres differ but well-separated clusters give the same partition.)
    expect(first.groups.find((g) => g.dataset === 'two')?.initHash).not.toBe(first.groups.find((g) => g.dataset === 'three')?.initHash);
    // Independently: fit's own kmeans++ start for seed 7 on the training rows of "two" is that start,
    // so the exact run equals a plain fit with that seed.
    const g = makeGaussianMixture({ nSamples: 240, nComponents: 2, nFeatures: 2, seed: 3, separation: 3 });
    const { train } = splitRows(240, SUITE.heldOut, 'two');
    const x = train.map((i) => Array.from(g.x.subarray(i * 2, i * 2 + 2)));
    const model = gaussianMixture({ nComponents: 2, covarianceType: 'full' });
    const prepared = model.prepare(x);
    const init = model.init(prepared, 'kmeans++', createRng(7).child('restart', 0).child('init'));
    prepared.dispose();
    expect(hashJson(init)).toBe(first.groups.find((q) => q.id === 'two/gmm/seed=7')?.initHash);
    const direct: FitResult<GmmParams> = await fit(model, x, { seed: 7, maxIter: 15, tol: 1e-5, onWarning: () => undefined });
    const run = first.runs.find((r) => r.id === 'two/gmm/exact/seed=7');
    expect(run?.trace.map((t) => t.boundAfterM)).toEqual(direct.trace.map((t) => t.boundAfterM));
    expect(run?.metrics.trainLogLikelihood).toBe(direct.logLikelihood);
  });

  it('computes metrics: held-out log-likelihood, ARI and parameter error against the truth, best bound reached', () => {
    for (const r of first.runs) {
      const m = r.metrics;
      expect(m.heldOutLogLikelihoodPerRow).not.toBeNull();
      expect(m.adjustedRandIndex).not.toBeNull();
      expect(m.parameterError).not.toBeNull();
      expect(m.trainLogLikelihoodPerRow).toBeCloseTo((m.trainLogLikelihood as number) / (r.dataset === 'two' ? 180 : 135), 10);
    }
    for (const g of first.groups) {
      const exact = first.runs.find((r) => r.group === g.id && r.method === 'exact');
      // Exact EM reaches its own final bound, hence within 1e-3 of the best unless another method beat it by more.
      expect(g.bestBound).not.toBeNull();
      const best = g.bestBound as number;
      // The run that set the best bound reached it, so the checks below run at least once per group.
      expect(first.runs.find((r) => r.id === g.bestRun)?.metrics.iterationsToBest).not.toBeNull();
      for (const r of first.runs.filter((q) => q.group === g.id)) {
        const it = r.metrics.iterationsToBest;
        if (it !== null) {
          expect(r.trace[it - 1]?.boundAfterM).toBeGreaterThanOrEqual(best - 1e-3 * Math.abs(best));
          if (it > 1) expect(r.trace[it - 2]?.boundAfterM).toBeLessThan(best - 1e-3 * Math.abs(best));
          expect(first.timings.runs[r.id]?.timeToBestMs).toBe(first.timings.runs[r.id]?.elapsedMs[it - 1]);
        }
      }
      expect(exact?.metrics.adjustedRandIndex).toBeGreaterThan(0.8);
    }
  });

  it('writes identical results.json apart from timings when run again', async () => {
    const again = await runSuite(SUITE, { outDir: join(dir, 'b'), workers: 1, report: false });
    const [a, b] = [await readResults(join(dir, 'a')), await readResults(join(dir, 'b'))];
    expect(withoutTimings(b)).toEqual(withoutTimings(a));
    expect(withoutTimings(again)).toEqual(withoutTimings(first));
    const textA = (await readFile(join(dir, 'a', 'results.json'), 'utf8')).replace(/"timings": \{[\s\S]*$/, '');
    const textB = (await readFile(join(dir, 'b', 'results.json'), 'utf8')).replace(/"timings": \{[\s\S]*$/, '');
    expect(textB).toBe(textA); // byte-identical up to the timings key (which is last)
  });

  it('resumes an interrupted suite to the same results as an uninterrupted run', async () => {
    const out = join(dir, 'resume');
    const controller = new AbortController();
    const k = 5;
    const partial = await runSuite(SUITE, {
      outDir: out,
      workers: 1,
      report: false,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.done === k) controller.abort();
      },
    });
    expect(partial.complete).toBe(false);
    expect(partial.runs).toHaveLength(k);
    expect((await readResults(out)).runs).toHaveLength(k);
    const journal = (await readFile(join(out, JOURNAL_FILE), 'utf8')).trim().split('\n');
    expect(journal).toHaveLength(k + 1);
    const events: number[] = [];
    const resumed = await runSuite(SUITE, { outDir: out, workers: 1, resume: true, report: false, onProgress: (e) => events.push(e.done) });
    expect(events[0]).toBe(k);
    expect(events).toHaveLength(N_RUNS - k + 1);
    expect(resumed.complete).toBe(true);
    expect(withoutTimings(await readResults(out))).toEqual(withoutTimings(await readResults(join(dir, 'a'))));
    // Resuming a complete directory runs nothing and changes nothing.
    const noop: number[] = [];
    await runSuite(SUITE, { outDir: out, workers: 1, resume: true, report: false, onProgress: (e) => noop.push(e.done) });
    expect(noop).toEqual([N_RUNS]);
    // A different suite cannot resume this directory.
    await expect(runSuite({ ...SUITE, seeds: [1] }, { outDir: out, workers: 1, resume: true, report: false })).rejects.toThrow(/holds runs of a different suite/);
  });

  it('writes runs.csv with one row per run matching results.json', async () => {
    const csv = (await readFile(join(dir, 'a', 'runs.csv'), 'utf8')).trimEnd().split('\n');
    const header = (csv[0] as string).split(',');
    expect(header).toEqual(RUNS_CSV_COLUMNS.map((c) => c.name));
    expect(csv).toHaveLength(N_RUNS + 1);
    const results = await readResults(join(dir, 'a'));
    results.runs.forEach((r, i) => {
      const cells = (csv[i + 1] as string).split(',');
      const row = Object.fromEntries(header.map((h, j) => [h, cells[j] as string]));
      expect(row['id']).toBe(r.id);
      expect(row['method']).toBe(r.method);
      expect(Number(row['nIter'])).toBe(r.metrics.nIter);
      expect(row['converged']).toBe(String(r.metrics.converged));
      for (const key of ['bound', 'trainLogLikelihood', 'heldOutLogLikelihood', 'parameterError', 'adjustedRandIndex'] as const) {
        expect(Number(row[key])).toBe(r.metrics[key]);
      }
      expect(row['iterationsToBest']).toBe(r.metrics.iterationsToBest === null ? '' : String(r.metrics.iterationsToBest));
      expect(Number(row['fitMs'])).toBe(results.timings.runs[r.id]?.fitMs);
    });
  });
});

describe('data set preparation', () => {
  it('masks missing entries reproducibly (mcar and mar), never a whole row', () => {
    const make = (): { values: Float64Array; rows: number; cols: number } => ({ values: Float64Array.from({ length: 3000 }, (_, i) => (i * 7919) % 101), rows: 1000, cols: 3 });
    const a = make();
    const b = make();
    const na = maskMissing(a, { rate: 0.2, mechanism: 'mcar', seed: 5 }, 'x');
    maskMissing(b, { rate: 0.2, mechanism: 'mcar', seed: 5 }, 'x');
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    expect(na).toBe(a.values.filter(Number.isNaN).length);
    expect(na / 3000).toBeGreaterThan(0.15);
    expect(na / 3000).toBeLessThan(0.25);
    for (let r = 0; r < 1000; r++) expect(Array.from(a.values.subarray(r * 3, r * 3 + 3)).some((v) => !Number.isNaN(v))).toBe(true);
    const m = make();
    const first = Array.from({ length: 1000 }, (_, r) => m.values[r * 3] as number);
    maskMissing(m, { rate: 0.2, mechanism: 'mar', seed: 5 }, 'x');
    const median = [...first].sort((p, q) => p - q)[500] as number;
    for (let r = 0; r < 1000; r++) {
      expect(Number.isNaN(m.values[r * 3] as number)).toBe(false);
      if ((first[r] as number) <= median) expect(Number.isNaN(m.values[r * 3 + 1] as number) || Number.isNaN(m.values[r * 3 + 2] as number)).toBe(false);
    }
  });

  it('splits held-out rows reproducibly and disjointly', () => {
    const s = splitRows(100, { fraction: 0.3, seed: 2 }, 'd');
    expect(s.test).toHaveLength(30);
    expect([...s.train, ...s.test].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(splitRows(100, { fraction: 0.3, seed: 2 }, 'd')).toEqual(s);
    expect(splitRows(100, { fraction: 0.3, seed: 3 }, 'd')).not.toEqual(s);
    expect(splitRows(10, null, 'd')).toEqual({ train: Array.from({ length: 10 }, (_, i) => i), test: [] });
  });
});

describe('mixed suites: missing entries, Bayesian networks, per-model methods', () => {
  it('runs each method only where it applies, with the truth metrics of each model', async () => {
    const r = await runSuite(
      {
        datasets: [
          { id: 'mix-mcar', generator: 'gaussianMixture', options: { nSamples: 200, nComponents: 2, nFeatures: 3, seed: 2 }, missing: { rate: 0.1, mechanism: 'mcar', seed: 1 } },
          { id: 'asia', bif: 'asia', nSamples: 400, seed: 1, missing: { rate: 0.1, mechanism: 'mcar', seed: 2 } },
          { id: 'full', kind: 'gaussian-mixture', options: { nSamples: 100, nComponents: 2, nFeatures: 2, seed: 3 } },
        ],
        models: [
          { id: 'gmm', type: 'gmm', options: {} },
          { id: 'bn', type: 'bn', options: { pseudoCount: 1 } },
        ],
        esteps: ['exact', 'hard', 'gradient'],
        seeds: [0],
        stopping: { maxIter: 10 },
        heldOut: { fraction: 0.2, seed: 0 },
      },
      { workers: 1 },
    );
    // gradient's own check rejects data with missing entries; the network has only the exact E-step
    // registered and no gradient adapter: each is skipped there, and the results say why.
    expect(r.runs.map((x) => x.id)).toEqual(['mix-mcar/gmm/exact/seed=0', 'mix-mcar/gmm/hard/seed=0', 'asia/bn/exact/seed=0', 'full/gmm/exact/seed=0', 'full/gmm/hard/seed=0', 'full/gmm/gradient/seed=0']);
    expect(r.skipped.map((k) => [k.dataset, k.model, k.method, k.code])).toEqual([
      ['mix-mcar', 'gmm', 'gradient', 'INVALID_DATA'],
      ['asia', 'bn', 'hard', 'UNKNOWN_ESTEP'],
      ['asia', 'bn', 'gradient', 'INVALID_ARGUMENT'],
    ]);
    expect(r.skipped[0]?.reason).toMatch(/complete data only/);
    expect(r.runs.every((x) => x.status === 'ok')).toBe(true);
    const [gmmExact, , bn] = r.runs;
    expect(r.datasets[0]?.missing?.nMissing).toBeGreaterThan(0);
    expect(gmmExact?.metrics.adjustedRandIndex).not.toBeNull();
    expect(bn?.metrics.parameterError).toBeGreaterThan(0);
    expect(bn?.metrics.parameterError).toBeLessThan(0.2);
    expect(bn?.metrics.heldOutLogLikelihoodPerRow).toBeLessThan(0);
    expect(bn?.metrics.adjustedRandIndex).toBeNull();
    expect(r.models.map((m) => [m.name, m.structureKind, m.dataFormat, m.map])).toEqual([['gmm', 'finite', 'numeric-table', false], ['bayesian-network', 'factor-graph', 'bn-table', true]]);
    // A MAP network: its bound includes log p(θ), which is recorded.
    expect(bn?.metrics.logPrior).toBeLessThan(0);
    expect(r.datasets.map((d) => [d.kind, d.format])).toEqual([['gaussian-mixture', 'numeric-table'], ['bayesian-network', 'bn-table'], ['gaussian-mixture', 'numeric-table']]);
  });

  it('runs the gradient baseline on complete data, with its own stationarity check', async () => {
    const r = await runSuite(
      { datasets: [{ id: 'd', generator: 'gaussianMixture', options: { nSamples: 120, nComponents: 2, nFeatures: 2, seed: 1 } }], models: [{ type: 'gmm', options: {} }], esteps: ['exact', 'gradient'], seeds: [0], stopping: { maxIter: 5 } },
      { workers: 1 },
    );
    expect(r.runs.map((x) => [x.method, x.status])).toEqual([['exact', 'ok'], ['gradient', 'ok']]);
    expect(r.methods.map((m) => m.family)).toEqual(['exact', 'gradient']);
    for (const x of r.runs) expect(x.metrics.stationarity).toBeGreaterThan(0);
  });

  it('rejects a method that no model can run, and a model listing a method it cannot run', async () => {
    const asiaOnly = { datasets: [{ id: 'asia', bif: 'asia', nSamples: 50, seed: 1 }], models: [{ type: 'bn' }], seeds: [0] };
    await expect(runSuite({ ...asiaOnly, esteps: ['exact', 'hard'] }, { workers: 1 })).rejects.toThrow(/^suite\.esteps\[1\]\.method = "hard": no method registered for structure kind "factor-graph"/);
    await expect(runSuite({ ...asiaOnly, models: [{ type: 'bn', esteps: ['exact', 'hard'] }], esteps: ['exact', 'hard'] }, { workers: 1 })).rejects.toThrow(/^suite\.esteps\[1\]\.method = "hard"/);
    await expect(runSuite({ ...asiaOnly, models: [{ type: 'bn', init: 'kmeans++' }], esteps: ['exact'] }, { workers: 1 })).rejects.toThrow(/^suite\.models\[0\]\.init = "kmeans\+\+": is not an initialization method of bayesian-network/);
    await expect(runSuite({ ...asiaOnly, datasets: [{ id: 'asia', bif: 'alarm', nSamples: 50, seed: 1 }], esteps: ['exact'] }, { workers: 1 })).rejects.toThrow(/^suite\.datasets\[0\]\.options\.network = "alarm": is neither a \.bif\/\.json file nor a built-in network/);
    // A method that runs on no (data set, model): an error naming it and why.
    await expect(runSuite({ datasets: [{ id: 'm', kind: 'gaussian-mixture', options: { nSamples: 40, nComponents: 2, nFeatures: 2, seed: 1 }, missing: { rate: 0.2 } }], models: [{ type: 'gmm' }], esteps: ['exact', 'gradient'] }, { workers: 1 })).rejects.toThrow(/^suite\.esteps\[1\]\.method = "gradient": cannot run on any model and data set of the suite \(on "m" × "gmm": .*complete data only/);
  });

  it('a method a model lists runs where it can: skipped (with the reason) on a data set it cannot take, an error when it runs on none', async () => {
    const mixture = (id: string, missing: boolean) => ({ id, kind: 'gaussian-mixture', options: { nSamples: 60, nComponents: 2, nFeatures: 2, seed: 1 }, ...(missing ? { missing: { rate: 0.2 } } : {}) });
    // The default suite's shape: VB listed for the mixture, one of whose data sets has missing entries.
    const r = await runSuite(
      { datasets: [mixture('full', false), mixture('holes', true)], models: [{ type: 'gmm', esteps: ['exact', 'vb'] }], esteps: ['exact', 'vb'], seeds: [0], stopping: { maxIter: 5 } },
      { workers: 1 },
    );
    expect(r.runs.map((x) => [x.id, x.status])).toEqual([['full/gmm/exact/seed=0', 'ok'], ['full/gmm/vb/seed=0', 'ok'], ['holes/gmm/exact/seed=0', 'ok']]);
    expect(r.skipped.map((k) => [k.dataset, k.model, k.method])).toEqual([['holes', 'gmm', 'vb']]);
    expect(r.skipped[0]?.reason).toMatch(/complete data/);
    // Listed, but no data set of the model can take it: the suite is rejected before any run.
    await expect(runSuite({ datasets: [mixture('holes', true)], models: [{ type: 'gmm', esteps: ['exact', 'vb'] }], esteps: ['exact', 'vb'], seeds: [0] }, { workers: 1 })).rejects.toThrow(/^suite\.models\[0\]\.esteps lists "vb", which cannot run on data set "holes": .*complete data/);
  });

  it('reads CSV data sets relative to the base directory (label column → ARI) and built-in data sets', async () => {
    const { writeFile } = await import('node:fs/promises');
    const lines = ['x,label,y'];
    for (let i = 0; i < 120; i++) lines.push(`${(i % 2) * 10 + ((i * 37) % 11) / 10},${i % 2},${(i % 2) * 10 + ((i * 53) % 7) / 10}`);
    await writeFile(join(dir, 'two.csv'), `${lines.join('\n')}\n`);
    const r = await runSuite(
      { datasets: [{ id: 'csv', csv: 'two.csv', labelColumn: 'label' }, { id: 'blobs', builtin: 'blobs3' }], models: [{ type: 'gmm', options: { nComponents: 2 }, datasets: ['csv'] }, { id: 'gmm-true-k', type: 'gmm' , datasets: ['blobs'] }], esteps: ['exact'], seeds: [0], stopping: { maxIter: 5 } },
      { workers: 1, baseDir: dir },
    );
    expect(r.datasets.map((d) => [d.kind, d.nRows, d.nFeatures, d.hasTruth, d.hasLabels])).toEqual([['csv', 120, 2, false, true], ['builtin', 600, 2, true, true]]);
    expect(r.runs[0]?.metrics.adjustedRandIndex).toBe(1);
    expect(r.runs[0]?.metrics.parameterError).toBeNull();
    expect(r.models[1]?.options['nComponents']).toBe(3); // the true K of blobs3
    await expect(runSuite({ datasets: [{ id: 'csv', csv: 'two.csv', labelColumn: 'species' }], models: [{ type: 'gmm', options: { nComponents: 2 } }], esteps: ['exact'] }, { workers: 1, baseDir: dir })).rejects.toThrow(/^suite\.datasets\[0\]\.options\.labelColumn = "species": is not a column of two\.csv/);
  });

  it('the default suite validates', async () => {
    const { loadSuite } = await import('@emlab/bench');
    const loaded = await loadSuite(new URL('../../../benchmarks/suites/default.json', import.meta.url).pathname);
    expect(loaded.suite.esteps.map((e) => e.method)).toEqual(['exact', 'hard', 'tempered', 'sparse', 'incremental', 'mean-field', 'vb', 'stochastic', 'gradient', 'mcem', 'saem', 'laplace']);
    expect(loaded.suite.seeds).toHaveLength(3);
    expect(loaded.suite.datasets.every((d) => ['gaussian-mixture', 'bayesian-network', 'glmm', 'hidden-markov-model'].includes(d.kind))).toBe(true);
  });

  it('the default suite (npm start) plans and runs every model × method × data set it lists (one seed, 2 iterations)', async () => {
    const { loadSuite } = await import('@emlab/bench');
    const path = new URL('../../../benchmarks/suites/default.json', import.meta.url).pathname;
    const { suite } = await loadSuite(path);
    // Its own data sets, models and methods; only fewer seeds and iterations (it once stopped before its first run).
    const r = await runSuite({ ...suite, seeds: [0], stopping: { ...suite.stopping, maxIter: 2 } }, { workers: 1, baseDir: dirname(path) });
    expect(r.runs.every((x) => x.status === 'ok')).toBe(true);
    const methodsOf = (model: string) => new Set(r.runs.filter((x) => x.model === model).map((x) => x.method));
    for (const m of suite.models) expect(methodsOf(m.id)).toEqual(new Set(m.esteps));
    // Listed methods a data set cannot take are skipped there, with the reason: VB and gradient on missing entries.
    expect(r.skipped.map((k) => [k.dataset, k.method, k.code])).toEqual([
      ['medium-4d-mcar', 'vb', 'INVALID_DATA'],
      ['medium-4d-mcar', 'gradient', 'INVALID_DATA'],
      ['medium-4d-mar', 'vb', 'INVALID_DATA'],
      ['medium-4d-mar', 'gradient', 'INVALID_DATA'],
    ]);
  });
});

describe('nothing is hard-coded: models, data-set kinds and methods come from the registries', () => {
  it("runs a plug-in model on a plug-in data-set kind of its own data type, and reports fit's own account of every run", async () => {
    const { registerModel, findModel, unregisterModel } = await import('@emlab/core');
    const { registerDatasetKind, unregisterDatasetKind } = await import('@emlab/bench');
    const gmm = findModel('gmm');
    // A model that reads rows as arrays of numbers (its own data type), built on the mixture.
    registerModel({
      name: 'row-mixture',
      description: 'a Gaussian mixture on row arrays (test plug-in)',
      structureKind: 'finite',
      options: gmm.options,
      create: (o) => gmm.create(o),
      data: { format: 'custom', dataType: 'row-arrays', describe: 'rows', read: async () => ({ data: [], options: {} }) },
    });
    registerDatasetKind({
      kind: 'two-clusters',
      description: 'two separated clusters as row arrays (test plug-in)',
      format: 'row-arrays',
      options: { n: { type: 'integer', min: 2, required: true, description: 'rows' } },
      size: (o) => (o['n'] as number) * 2,
      materialize: async (o, ctx) => {
        const n = o['n'] as number;
        const rows = Array.from({ length: n }, (_, i) => [(i % 2) * 8 + ((i * 7) % 5) / 5, (i % 2) * 8 + ((i * 3) % 5) / 5]);
        return { format: 'row-arrays', train: rows, test: null, trainLabels: Int32Array.from(rows, (_, i) => i % 2), truth: null, modelDefaults: { nComponents: 2 }, description: `${ctx.id}: two clusters`, nRows: n, nTrain: n, nTest: 0, nFeatures: 2, missing: null };
      },
    });
    try {
      const r = await runSuite(
        {
          datasets: [
            { id: 'table', kind: 'gaussian-mixture', options: { nSamples: 60, nComponents: 2, nFeatures: 2, seed: 4 } },
            { id: 'rows', kind: 'two-clusters', options: { n: 40 } },
          ],
          models: [{ type: 'gmm' }, { type: 'row-mixture' }],
          esteps: ['exact', 'gradient'],
          seeds: [0],
          stopping: { maxIter: 4 },
        },
        { workers: 1 },
      );
      // Each model runs only on data of the format its registration reads; the '*' method gradient runs on both.
      expect(r.runs.map((x) => x.id)).toEqual(['table/gmm/exact/seed=0', 'table/gmm/gradient/seed=0', 'rows/row-mixture/exact/seed=0', 'rows/row-mixture/gradient/seed=0']);
      expect(r.runs.every((x) => x.status === 'ok')).toBe(true);
      expect(r.models.map((m) => [m.id, m.name, m.dataFormat, m.options['nComponents']])).toEqual([['gmm', 'gmm', 'numeric-table', 2], ['row-mixture', 'row-mixture', 'row-arrays', 2]]);
      const rowsExact = r.runs[2];
      expect(rowsExact?.metrics.adjustedRandIndex).toBe(1); // labels + the model's predict: a capability, not a name
      // fit's own account: method (name, kind, family), precision, passes, E-step calls, convergence, degenerate.
      const [exact, gradient] = r.runs;
      expect(exact?.fit?.method).toMatchObject({ name: 'exact', kind: 'finite', family: 'exact' });
      expect(gradient?.fit?.method).toMatchObject({ name: 'gradient', kind: '*', family: 'gradient' });
      expect(r.methods.map((m) => [m.id, m.family])).toEqual([['exact', 'exact'], ['gradient', 'gradient']]);
      for (const x of r.runs) {
        expect(x.fit?.passes).toBe(x.metrics.nIter);
        expect(x.metrics.passes).toBe(x.fit?.passes);
        expect(x.metrics.eStepCalls).toBe(x.fit?.eStepCalls);
        expect(x.metrics.precision).toBe(x.fit?.precision.used.join('+'));
        expect(x.metrics.convergencePolicy).toBe(x.fit?.convergence.policy);
        expect(x.metrics.nDegenerate).toBe(x.fit?.degenerate.length);
        expect(x.trace.map((t) => t.passes)).toEqual(x.trace.map((t) => t.iteration));
        expect(x.trace.every((t) => t.precision === 'float32' || t.precision === 'float64')).toBe(true);
      }
    } finally {
      unregisterModel('row-mixture');
      unregisterDatasetKind('two-clusters');
    }
  });
});
