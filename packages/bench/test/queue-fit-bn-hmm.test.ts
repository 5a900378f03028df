/**
 * Distributed fits of a Bayesian network and an HMM on a real redis-server: the E-step's blocks (of
 * distinct evidence patterns, resp. of whole sequences) go to two worker processes (`runWorker`) as
 * BullMQ jobs, three shards per iteration, and the result is bit-identical to an unsharded fit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, fit, omitTimings, toJson } from '@emlab/core';
import { queueShards } from '@emlab/bench';
import '@emlab/exact';
import { asiaNetwork, bayesianNetwork, hiddenMarkovModel, sampleNetwork } from '@emlab/models';
import { redisMissing, startRedis, type RedisInstance } from './redis-server.js';

const missing = redisMissing();
if (missing !== undefined) console.warn(`distributed BN/HMM fit tests skipped: ${missing}`);
const WORKER = fileURLToPath(new URL('./fixtures/queue-worker.mjs', import.meta.url));

let redis: RedisInstance | undefined;
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (missing !== undefined) return;
  redis = await startRedis();
  for (let i = 0; i < 2; i++) children.push(spawn(process.execPath, [WORKER, redis.url], { stdio: ['ignore', 'ignore', 'inherit'] }));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await redis?.stop();
});

const quiet = { onWarning: () => undefined };

describe.skipIf(missing !== undefined)('distributed BN and HMM fits on BullMQ + Redis', () => {
  it('a Bayesian network with a hidden node and missing cells (float32, blocks of 16 patterns) equals the local fit', async () => {
    const asia = asiaNetwork();
    const data = sampleNetwork(asia, 1000, 3, { missingRate: 0.2, hide: ['either'] });
    const options = { seed: 1, maxIter: 3, tol: 0, precision: 'float32' as const, ...quiet };
    const model = (): ReturnType<typeof bayesianNetwork> => bayesianNetwork(asia, { hidden: ['either'], batchSize: 16 });
    const local = await fit(model(), data, options);
    const remote = await fit(model(), data, { ...options, workers: queueShards({ queue: (redis as RedisInstance).url, shards: 3 }) });
    expect(toJson(omitTimings(remote))).toBe(toJson(omitTimings(local)));
  });

  it('a Gaussian HMM over sequences of unequal lengths with sequence weights (blocks of ≤ 50 steps) equals the local fit', async () => {
    const rng = createRng(12).child('queue-hmm');
    const lengths = [60, 15, 45, 80, 30];
    const x = lengths.flatMap((len) => Array.from({ length: len }, (_, t) => [((t / 10) | 0) % 2 === 0 ? rng.normal() : 3 + rng.normal()]));
    const options = { seed: 2, maxIter: 3, tol: 0, eStep: 'stochastic', weights: [1, 2, 0.5, 1, 1.5], ...quiet };
    const model = (): ReturnType<typeof hiddenMarkovModel> => hiddenMarkovModel({ nStates: 2, blockRows: 50 });
    const local = await fit(model(), { x, lengths }, options);
    const remote = await fit(model(), { x, lengths }, { ...options, workers: queueShards({ queue: (redis as RedisInstance).url, shards: 3 }) });
    expect(toJson(omitTimings(remote))).toBe(toJson(omitTimings(local)));
  });
});
