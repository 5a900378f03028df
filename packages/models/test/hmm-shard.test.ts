// Sharded HMM fits (`fit(…, { workers })`): sequences in blocks of whole sequences, each owned by the
// shard holding its first time step; worker threads evaluate their blocks and the main thread adds the
// outcomes in block order, so 1, 2 and 3 workers give the same result bit for bit (every emission
// family, missing cells, sequence weights, exact/hard/stochastic E-steps, and fewer sequences than
// workers, where a shard owns no block). HMM kernels are float64 only.
import { afterAll, describe, expect, it } from 'vitest';
import { EmError, fit, omitTimings, toJson, type ChainStructure, type EStep, type ShardEngine } from '@emlab/core';
import { threadShards } from '@emlab/core/node';
import { chainExactEStep } from '@emlab/exact';
import '@emlab/montecarlo';
import '@emlab/variational';
import { hiddenMarkovModel, type HiddenMarkovModelOptions, type HmmData } from '../src/index.js';
import { catchEmErrorAsync, countingShardEngine } from '@emlab/testing';
import { drawData, maskCells, optionsOf, type Family } from './hmm-helpers.js';

const engines = new Map([2, 3].map((n) => [n, threadShards({ workers: n })]));
afterAll(async () => {
  for (const e of engines.values()) await e.close();
});

// Unequal lengths; blocks of at most 120 time steps (a longer sequence is a block of its own).
const LENGTHS = [150, 40, 90, 25, 200, 60, 33, 110];

async function runs(options: HiddenMarkovModelOptions, data: HmmData, fitOptions: Record<string, unknown>): Promise<string[]> {
  const out: string[] = [];
  for (const workers of [1, 2, 3]) {
    const r = await fit(hiddenMarkovModel(options), data, { seed: 3, maxIter: 3, tol: 0, onWarning: () => undefined, ...fitOptions, workers: workers === 1 ? 1 : (engines.get(workers) as never) });
    out.push(toJson(omitTimings(r)));
  }
  return out;
}

describe('sharded HMM fits are bit-identical for 1, 2 and 3 worker threads', () => {
  it('Gaussian (full) emissions with missing cells and sequence weights: exact, hard and stochastic', async () => {
    const d = drawData('gaussian-full', 3, LENGTHS, 41);
    const x = maskCells(d.x, 0.15, 41, 12);
    const weights = LENGTHS.map((_, s) => 1 + (s % 3) * 0.5);
    for (const eStep of ['exact', 'hard', 'stochastic']) {
      const [one, two, three] = await runs({ ...optionsOf('gaussian-full', 3), blockRows: 120 }, { x, lengths: d.lengths }, { eStep, weights });
      expect(two).toBe(one);
      expect(three).toBe(one);
      const r = JSON.parse(one as string) as { trace: { boundAfterE: number }[] };
      expect(r.trace.length).toBe(3);
      expect(r.trace.every((it) => Number.isFinite(it.boundAfterE))).toBe(true);
    }
  });

  for (const family of ['gmm', 'poisson', 'categorical', 'gaussian-diag'] as const satisfies readonly Family[]) {
    it(`${family} emissions (exact, with missing cells)`, async () => {
      const d = drawData(family, 2, LENGTHS, 7);
      const x = maskCells(d.x, 0.1, 7);
      const [one, two, three] = await runs({ ...optionsOf(family, 2), blockRows: 100 }, { x, lengths: d.lengths }, {});
      expect(two).toBe(one);
      expect(three).toBe(one);
    });
  }

  it('blocks are owned by their first time step: every shard gets blocks (8 sequences), or none (2 sequences, 3 shards)', async () => {
    const many = drawData('gaussian-diag', 2, LENGTHS, 4);
    const engine = countingShardEngine(engines.get(3) as ShardEngine);
    await fit(hiddenMarkovModel({ ...optionsOf('gaussian-diag', 2), blockRows: 120 }), { x: many.x, lengths: many.lengths }, { seed: 1, maxIter: 1, onWarning: () => undefined, workers: engine });
    // Blocks of ≤ 120 steps (a longer sequence alone): [150] [40] [90, 25] [200] [60, 33] [110], first
    // steps 0, 150, 190, 305, 505, 598 of 708; shard ranges [0, 236), [236, 472), [472, 708).
    expect(engine.owned[0]).toEqual([3, 1, 2]);
    const few = drawData('gaussian-diag', 2, [80, 300], 5);
    const sparse = countingShardEngine(engines.get(3) as ShardEngine);
    await fit(hiddenMarkovModel({ ...optionsOf('gaussian-diag', 2), blockRows: 64 }), { x: few.x, lengths: few.lengths }, { seed: 1, maxIter: 1, onWarning: () => undefined, workers: sparse });
    // Blocks at time steps 0 and 80 of 380: shard ranges [0, 126), [126, 253), [253, 380).
    expect(sparse.owned[0]).toEqual([2, 0, 0]);
  });

  it('fewer sequences than workers (a shard owns no block), and one long sequence', async () => {
    const two = drawData('gaussian-diag', 2, [80, 300], 5);
    const one = drawData('gaussian-diag', 2, [400], 6);
    for (const [data, weights] of [[two, [2, 0.5]], [one, undefined]] as const) {
      const [a, b, c] = await runs({ ...optionsOf('gaussian-diag', 2), blockRows: 64 }, { x: data.x, lengths: data.lengths }, { eStep: 'exact', ...(weights === undefined ? {} : { weights: [...weights] }) });
      expect(b).toBe(a);
      expect(c).toBe(a);
    }
  });
});

describe('HMM sharding refuses what it cannot do, before any work', () => {

  const d = drawData('gaussian-diag', 2, [50, 50], 9);
  const data = { x: d.x, lengths: d.lengths };

  it('a stateful or unmarked chain E-step, and a user emission object (workers cannot rebuild it)', async () => {
    const hmm = hiddenMarkovModel(optionsOf('gaussian-diag', 2));
    const unmarked: EStep<ChainStructure> = { ...chainExactEStep(), shardable: false };
    for (const eStep of [unmarked, 'incremental', 'tempered'] as const) {
      const e = await catchEmErrorAsync(fit(hmm, data, { eStep: eStep as never, workers: engines.get(2) as never }));
      expect(e).toBeInstanceOf(EmError);
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.path).toEqual(['options', 'workers']);
    }
    const user = hiddenMarkovModel({ nStates: 2, emission: hmm.emission as never });
    const noHooks = await catchEmErrorAsync(fit(user, data, { workers: engines.get(2) as never }));
    expect(noHooks.code).toBe('INVALID_ARGUMENT');
    expect(noHooks.message).toMatch(/no sharding hooks/);
  });
});
