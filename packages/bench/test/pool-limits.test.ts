/**
 * Limits and determinism (see also pool-crash.test.ts): a run whose worker exits (process.exit in a plug-in), throws an error
 * that is not an EmError, runs out of memory or over its time limit fails that run only (recorded
 * with its error; crashes tried again once), never the suite; results are the same on one thread and
 * on a pool. Worker threads run the built dist/worker.js (npm test builds first).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSuite, type BenchResults } from '@emlab/bench';

const PLUGIN = new URL('./fixtures/crash-plugin.mjs', import.meta.url).pathname;
const data = [{ id: 'd', kind: 'gaussian-mixture', options: { nSamples: 80, nComponents: 2, nFeatures: 2, seed: 1 } }];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emlab-pool-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const byMethod = (r: BenchResults): Record<string, BenchResults['runs'][number]> => Object.fromEntries(r.runs.map((x) => [x.method, x]));

describe('worker pool: limits and determinism', () => {
  it('stops a run on a worker at its time limit without retrying it', async () => {
    const r = await runSuite(
      { plugins: [PLUGIN], datasets: data, models: [{ type: 'gmm' }], esteps: ['exact', { id: 'slow', method: 'crash', options: { mode: 'sleep', sleepMs: 60_000 } }], seeds: [0], stopping: { maxIter: 4 } },
      { workers: 2, limits: { timeMs: 6000 } },
    );
    const runs = byMethod(r);
    expect(runs['exact']?.status).toBe('ok');
    expect([runs['slow']?.error?.code, r.timings.runs[runs['slow']?.id as string]?.attempts]).toEqual(['TIMEOUT', 1]); // limits are not retried
    expect(runs['slow']?.error?.message).toMatch(/longer than limits\.timeMs = 6000 ms/);
  });

  it('on one thread: a thrown non-EmError is retried and recorded, a slow run stops at its time limit', async () => {
    const r = await runSuite(
      {
        plugins: [PLUGIN],
        datasets: data,
        models: [{ type: 'gmm' }],
        esteps: ['exact', { id: 'throw', method: 'crash', options: { mode: 'throw' } }, { id: 'slow', method: 'crash', options: { mode: 'sleep', sleepMs: 400 } }],
        seeds: [0],
        stopping: { maxIter: 50, tol: 0 },
      },
      { workers: 1, limits: { timeMs: 1500 } },
    );
    const runs = byMethod(r);
    expect(runs['exact']?.status).toBe('ok');
    expect([runs['throw']?.error?.code, r.timings.runs[runs['throw']?.id as string]?.attempts]).toEqual(['CRASH', 2]);
    expect(runs['slow']?.error?.code).toBe('TIMEOUT');
  });

  it('gives the same results on one thread and on a pool of two', async () => {
    const suite = {
      datasets: [...data, { id: 'e', kind: 'gaussian-mixture', options: { nSamples: 90, nComponents: 3, nFeatures: 2, seed: 2 } }],
      models: [{ type: 'gmm' }],
      esteps: ['exact', 'hard', { id: 'mc', method: 'stochastic', options: { nDraws: 2 } }],
      seeds: [0, 1],
      stopping: { maxIter: 6 },
    };
    const [one, two] = [await runSuite(suite, { workers: 1 }), await runSuite(suite, { workers: 2 })];
    expect({ ...two, timings: undefined }).toEqual({ ...one, timings: undefined });
    expect(two.timings.workers).toBe(2);
  });
});
