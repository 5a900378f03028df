/**
 * HMMs in benchmark suites: the `hidden-markov-model` data-set kind (simulated Gaussian HMMs with
 * known states, or a CSV of sequences), the `hmm` model, and the chain E-steps compared from shared
 * starts; held-out data are whole sequences.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmError } from '@emlab/core';
import { runSuite, type BenchResults } from '@emlab/bench';

let dir: string;
let results: BenchResults;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emlab-hmm-suite-'));
  const rows = ['seq,x'];
  for (let s = 0; s < 4; s++) for (let t = 0; t < 60; t++) rows.push(`s${s},${(Math.floor(t / 10) % 2 === 0 ? -2 : 2) + Math.sin(7 * t + s)}`);
  await writeFile(join(dir, 'seqs.csv'), `${rows.join('\n')}\n`);
  results = await runSuite(
    {
      datasets: [
        { id: 'sim', kind: 'hidden-markov-model', options: { nStates: 2, nFeatures: 2, nSequences: 6, length: 80, seed: 3 } },
        { id: 'csv', kind: 'hidden-markov-model', options: { file: 'seqs.csv', sequenceColumn: 'seq' } },
      ],
      models: [{ id: 'hmm', type: 'hmm', options: { nStates: 2, covarianceType: 'diag' } }],
      esteps: ['exact', 'hard', { id: 'ffbs', method: 'stochastic', options: { nDraws: 2 } }, { id: 'inc', method: 'incremental', options: { blocks: 10 } }],
      seeds: [0, 1],
      stopping: { maxIter: 15 },
      heldOut: { fraction: 0.25, seed: 0 },
    },
    { workers: 1, baseDir: dir, outDir: join(dir, 'out'), report: false, parquet: 'runs' },
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('HMM data sets in suites', () => {
  it('runs every chain method on both data sets from one shared start per seed', () => {
    // incremental EM counts fractional passes (1/B per call): runs.parquet stores them as doubles.
    expect(results.runs).toHaveLength(2 * 4 * 2);
    for (const r of results.runs) expect(r.status, `${r.id}: ${r.error?.message ?? ''}`).toBe('ok');
    for (const ds of ['sim', 'csv']) {
      for (const seed of [0, 1]) {
        const hashes = new Set(results.runs.filter((r) => r.dataset === ds && r.seed === seed).map((r) => r.initHash));
        expect(hashes.size).toBe(1);
      }
    }
  });

  it('simulated sequences know their states (adjusted Rand index of the Viterbi path) and held-out sequences are scored', () => {
    const exact = results.runs.filter((r) => r.dataset === 'sim' && r.method === 'exact');
    for (const r of exact) {
      expect(r.metrics.adjustedRandIndex as number).toBeGreaterThan(0.9);
      expect(Number.isFinite(r.metrics.heldOutLogLikelihood as number)).toBe(true);
    }
    const bounds = results.runs.filter((r) => r.dataset === 'csv').map((r) => r.metrics.boundKind);
    expect(new Set(bounds)).toEqual(new Set(['log-likelihood', 'lower-bound', 'estimate']));
    expect(existsSync(join(dir, 'out', 'runs.parquet'))).toBe(true);
  });

  it('options that do not go together are errors naming the option', async () => {
    const bad = (options: Record<string, unknown>) =>
      runSuite({ datasets: [{ id: 'x', kind: 'hidden-markov-model', options }], models: [{ type: 'hmm', options: { nStates: 2 } }], esteps: ['exact'], seeds: [0] }, { workers: 1, baseDir: dir, report: false, parquet: false }).catch((e: unknown) => e);
    const a = (await bad({ file: 'seqs.csv', nStates: 2 })) as EmError;
    expect(a).toBeInstanceOf(EmError);
    expect(a.path.slice(-2)).toEqual(['options', 'nStates']);
    const b = (await bad({ nFeatures: 2 })) as EmError;
    expect(b.message).toMatch(/nStates.*is required to simulate/);
  });
});
