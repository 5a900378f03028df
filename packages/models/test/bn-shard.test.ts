// Sharded Bayesian-network fits (`fit(…, { workers })`): the distinct evidence patterns in blocks of
// `batchSize`, each owned by the shard holding its first pattern; worker threads calibrate their blocks
// (junction tree, float32 tensors or float64 host) and the main thread adds the outcomes in block order,
// so 1, 2 and 3 workers give the same result bit for bit (hidden nodes, missing cells, row weights).
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { EmError, fit, omitTimings, toJson, type ShardEngine } from '@emlab/core';
import { threadShards } from '@emlab/core/node';
import '@emlab/exact';
import '@emlab/variational';
import { countingShardEngine } from '@emlab/testing';
import { asiaNetwork, bayesianNetwork, sampleNetwork, type BayesianNetworkOptions, type BnData } from '../src/index.js';

const engines = new Map([2, 3].map((n) => [n, threadShards({ workers: n })]));
afterAll(async () => {
  for (const e of engines.values()) await e.close();
});

const asia = asiaNetwork();
// A hidden node and 20 % missing cells: many distinct evidence patterns, in blocks of 16.
const data: BnData = sampleNetwork(asia, 1500, 23, { missingRate: 0.2, hide: ['either'] });
const weights = Array.from({ length: data.nRows }, (_, i) => 0.5 + (i % 4) * 0.75);
const OPTIONS: BayesianNetworkOptions = { hidden: ['either'], batchSize: 16 };

async function runs(options: BayesianNetworkOptions, fitOptions: Record<string, unknown>): Promise<string[]> {
  const out: string[] = [];
  for (const workers of [1, 2, 3]) {
    const r = await fit(bayesianNetwork(asia, options), data, { seed: 2, maxIter: 3, tol: 0, onWarning: () => undefined, ...fitOptions, workers: workers === 1 ? 1 : (engines.get(workers) as never) });
    out.push(toJson(omitTimings(r)));
  }
  return out;
}

describe('sharded Bayesian-network fits are bit-identical for 1, 2 and 3 worker threads', () => {
  for (const precision of ['float32', 'float64'] as const) {
    it(`hidden node, missing cells, row weights, MAP pseudo-counts, ${precision}`, async () => {
      for (const [options, fitOptions] of [[OPTIONS, { weights }], [{ ...OPTIONS, pseudoCount: 1 }, {}]] as const) {
        const [one, two, three] = await runs(options, { precision, ...fitOptions });
        expect(two).toBe(one);
        expect(three).toBe(one);
        const r = JSON.parse(one as string) as { trace: { logLikelihood: number; boundAfterE: number }[] };
        expect(r.trace.length).toBe(3);
        expect(r.trace.every((t) => Number.isFinite(t.logLikelihood) && Number.isFinite(t.boundAfterE))).toBe(true);
      }
    });
  }

  it('blocks are owned by their first pattern: every shard calibrates some; no tensor is left on the main thread', async () => {
    const before = tf.memory().numTensors;
    const engine = countingShardEngine(engines.get(3) as ShardEngine);
    const model = bayesianNetwork(asia, OPTIONS);
    await fit(model, data, { seed: 1, maxIter: 1, precision: 'float32', onWarning: () => undefined, workers: engine });
    const prepared = model.prepare(data, { precisions: ['float64'] });
    const nBlocks = Math.ceil(prepared.evidence.nPatterns / 16);
    prepared.dispose();
    expect(nBlocks).toBeGreaterThan(3);
    const owned = engine.owned[0] as number[];
    expect(owned.reduce((a, b) => a + b, 0)).toBe(nBlocks);
    expect(owned.every((n) => n > 0)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fewer blocks than workers (one block of every pattern: two shards own none)', async () => {
    const [one, two, three] = await runs({ hidden: ['either'] }, { precision: 'float64' });
    expect(two).toBe(one);
    expect(three).toBe(one);
  });

  it('refuses a factor-graph E-step that does not shard (mean field), naming options.workers', async () => {
    let caught: unknown;
    try {
      await fit(bayesianNetwork(asia, OPTIONS), data, { eStep: 'mean-field', workers: engines.get(2) as never });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(EmError);
    expect((caught as EmError).path).toEqual(['options', 'workers']);
  });
});
