/**
 * The mixture models in a benchmark suite and its report (`@emlab/bench`'s runSuite in this
 * thread): mclust with an iterative covariance model and a Student-t × general mixture, every
 * registered finite method from the suite's shared starts, results written with the HTML report.
 */
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import '@emlab/models';
import { runSuite, type BenchResults } from '@emlab/bench';

const SUITE = {
  name: 'mixtures',
  datasets: [{ id: 'two', generator: 'gaussianMixture', options: { nSamples: 200, nComponents: 2, nFeatures: 2, seed: 5, separation: 3 } }],
  models: [
    { id: 'mclust-vev', type: 'mclust', options: { nComponents: 2, covariance: 'VEV' } },
    { id: 'mix-t', type: 'mixture', options: { nComponents: 2, family: 't', covariance: 'EEE' } },
  ],
  esteps: ['exact', 'hard', 'stochastic', 'incremental'],
  seeds: [0, 1],
  stopping: { maxIter: 30, tol: 1e-6 },
};

let dir = '';
let results: BenchResults;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emlab-mixture-suite-'));
  results = await runSuite(SUITE, { outDir: dir, workers: 1, report: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('mixture models in a benchmark suite', () => {
  it('every (model, method, seed) runs ok from the shared start of its (model, seed)', () => {
    expect(results.complete).toBe(true);
    expect(results.runs).toHaveLength(2 * 4 * 2);
    for (const r of results.runs) {
      expect(r.status, `${r.id}: ${r.error?.message ?? ''}`).toBe('ok');
      expect(Number.isFinite(r.metrics.trainLogLikelihood)).toBe(true);
    }
    // one shared start per (model, seed): every method starts from the same parameters
    for (const model of ['mclust-vev', 'mix-t']) {
      for (const seed of [0, 1]) {
        const hashes = new Set(results.runs.filter((r) => r.model === model && r.seed === seed).map((r) => r.initHash));
        expect(hashes.size).toBe(1);
      }
    }
  });

  it('writes results.json, runs.csv and the HTML report naming both models', async () => {
    await access(join(dir, 'results.json'));
    await access(join(dir, 'runs.csv'));
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('mclust-vev');
    expect(html).toContain('mix-t');
  });
});
