// Sharded fits of the Gaussian mixture (`fit(…, { workers })`): worker threads evaluate the blocks they
// own and the main thread adds the outcomes in block order, so every worker count gives the same result,
// bit for bit (complete and missing data, row weights, float32 and float64, exact/hard/stochastic E-steps).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { EmError, createRng, fit, omitTimings, toJson, type EStep, type FiniteStructure } from '@emlab/core';
import { threadShards } from '@emlab/core/node';
import { exactEStep } from '@emlab/exact';
import '@emlab/montecarlo';
import '@emlab/variational';
import { catchEmErrorAsync } from '@emlab/testing';
import { gaussianMixture } from '../src/index.js';

// Overlapping clusters, so E-steps differ and EM keeps moving; rows with missing entries in several
// patterns (one large enough for device blocks, others on the host).
function data(n: number, d: number, missing: number): number[][] {
  const rng = createRng(17).child('shard-data');
  return Array.from({ length: n }, (_, i) => {
    const c = i % 3;
    const row = Array.from({ length: d }, (_, j) => c * 1.2 + (j === c ? 0.8 : 0) + rng.normal() * (1 + 0.3 * c));
    if (rng.uniform() < missing) row[i % 7 === 0 ? 1 : 0] = Number.NaN;
    if (missing > 0 && i % 97 === 0) row[2] = Number.NaN;
    return row;
  });
}

const complete = data(9000, 4, 0);
const withMissing = data(9000, 4, 0.3);
const weights = Array.from({ length: 9000 }, (_, i) => 1 + (i % 3));
const engines = new Map([2, 3].map((n) => [n, threadShards({ workers: n })]));
afterAll(async () => {
  for (const e of engines.values()) await e.close();
});

async function runs(rows: number[][], options: Record<string, unknown>): Promise<string[]> {
  const out: string[] = [];
  for (const workers of [1, 2, 3]) {
    const r = await fit(gaussianMixture({ nComponents: 3 }), rows, { seed: 5, maxIter: 3, tol: 0, onWarning: () => undefined, ...options, workers: workers === 1 ? 1 : (engines.get(workers) as never) });
    out.push(toJson(omitTimings(r)));
  }
  return out;
}

describe('sharded Gaussian-mixture fits are bit-identical for 1, 2 and 3 workers', () => {
  for (const precision of ['float32', 'float64'] as const) {
    it(`complete data, ${precision}, exact and stochastic`, async () => {
      for (const eStep of ['exact', 'stochastic']) {
        const [one, two, three] = await runs(complete, { precision, eStep });
        expect(two).toBe(one);
        expect(three).toBe(one);
      }
    });
    it(`missing entries and row weights, ${precision}, exact, hard and stochastic`, async () => {
      for (const eStep of ['exact', 'hard', 'stochastic']) {
        const [one, two, three] = await runs(withMissing, { precision, eStep, weights });
        expect(two).toBe(one);
        expect(three).toBe(one);
      }
    });
  }

  it('precision auto (float32, then float64) with restarts, and no tensor left on the main thread', async () => {
    const before = tf.memory().numTensors;
    const [one, two] = await runs(withMissing, { precision: 'auto', nInit: 2, maxIter: 6, tol: 1e-6 });
    expect(two).toBe(one);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('sharding refuses what it cannot do, before any work', () => {
  it('names options.workers for a bad count, a stateful or unmarked E-step, and a model without hooks', async () => {
    const gmm = gaussianMixture({ nComponents: 2 });

    for (const workers of [0, 1.5, -2, 'two']) {
      const e = await catchEmErrorAsync(fit(gmm, complete, { workers: workers as never }));
      expect(e).toBeInstanceOf(EmError);
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.path).toEqual(['options', 'workers']);
    }
    const exact = exactEStep();
    const unmarked: EStep<FiniteStructure> = { ...exact, shardable: false };
    const stateful: EStep<FiniteStructure> = { ...exact, start: () => ({}) };
    for (const eStep of [unmarked, stateful]) {
      const e = await catchEmErrorAsync(fit(gmm, complete, { eStep, workers: engines.get(2) as never }));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.path).toEqual(['options', 'workers']);
    }
    const e = await catchEmErrorAsync(fit(gmm, complete, { eStep: 'gradient', workers: engines.get(2) as never }));
    expect(e.message).toMatch(/only EM E-steps shard/);
    const hookless = Object.create(gmm, { shard: { value: undefined } }) as typeof gmm;
    const noHooks = await catchEmErrorAsync(fit(hookless, complete, { workers: engines.get(2) as never }));
    expect(noHooks.code).toBe('INVALID_ARGUMENT');
    expect(noHooks.message).toMatch(/no sharding hooks/);
  });
});

describe('closing a thread engine', () => {
  it('keeps the process alive until its idle threads have exited (the script runs to its end, exit code 0)', () => {
    const script = fileURLToPath(new URL('./fixtures/shard-close.mjs', import.meta.url));
    // Three runs: the race this guards against (a terminated, unref'd thread letting the loop empty) was intermittent.
    for (let i = 0; i < 3; i++) {
      const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
      expect({ status: r.status, stdout: r.stdout.trim(), stderr: r.stderr }).toEqual({ status: 0, stdout: 'done 2', stderr: '' });
    }
  }, 120_000);
});
