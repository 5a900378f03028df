/**
 * Crash isolation (see also pool-limits.test.ts): a run whose worker exits (process.exit in a plug-in), throws an error
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

describe('worker pool: crashes', () => {
  it('fails only the runs that crash (worker exit, out of memory; a thrown TypeError in pool-limits.test.ts), retries them once, and finishes the suite', async () => {
    const marker = join(dir, 'first-attempt');
    const suite = {
      plugins: [PLUGIN],
      datasets: data,
      models: [{ type: 'gmm' }],
      esteps: [
        'exact',
        { id: 'exit', method: 'crash', options: { mode: 'exit' } },
        { id: 'once', method: 'crash', options: { mode: 'exit-once', marker } },
        { id: 'oom', method: 'crash', options: { mode: 'oom' } },
      ],
      seeds: [0],
      stopping: { maxIter: 4 },
      limits: { memoryMb: 128 },
    };
    const out = join(dir, 'crash');
    const r = await runSuite(suite, { workers: 2, outDir: out, report: false, parquet: false });
    expect(r.complete).toBe(true);
    const runs = byMethod(r);
    const t = (m: string) => r.timings.runs[runs[m]?.id as string];
    expect(runs['exact']?.status).toBe('ok');
    expect([runs['exit']?.error?.code, t('exit')?.attempts, t('exit')?.failures.map((f) => f.code)]).toEqual(['WORKER_EXIT', 2, ['WORKER_EXIT']]);
    expect(runs['exit']?.error?.message).toMatch(/worker thread exited during the run.*code: 3/);
    expect([runs['once']?.status, t('once')?.attempts, t('once')?.failures.map((f) => f.code)]).toEqual(['ok', 2, ['WORKER_EXIT']]);
    // The retried run equals the run that never crashed (same start, same seed).
    expect(runs['once']?.trace.map((x) => x.boundAfterM)).toEqual(runs['exact']?.trace.map((x) => x.boundAfterM));
    expect([runs['oom']?.error?.code, t('oom')?.attempts]).toEqual(['OUT_OF_MEMORY', 2]);
  });

});
