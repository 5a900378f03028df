/**
 * Distributed fits on a real redis-server: the E-step's shards go to two worker processes
 * (`runWorker`) as BullMQ jobs; one worker is killed while it holds a shard, another takes it over,
 * and the result is bit-identical to an unsharded fit. With no worker left, the fit fails with
 * `WORKER_LOST` naming the option.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmError, createRng, fit, omitTimings, toJson } from '@emlab/core';
import { queueShards } from '@emlab/bench';
import '@emlab/exact';
import { gaussianMixture } from '@emlab/models';
import { redisMissing, startRedis, type RedisInstance } from './redis-server.js';

const missing = redisMissing();
if (missing !== undefined) console.warn(`distributed-fit tests skipped: ${missing}`);
const WORKER = fileURLToPath(new URL('./fixtures/queue-worker.mjs', import.meta.url));

let redis: RedisInstance | undefined;
const workers: { child: ChildProcess; events: { type: string; run?: string }[] }[] = [];

function startWorker(url: string): (typeof workers)[number] {
  const child = spawn(process.execPath, [WORKER, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  const w = { child, events: [] as { type: string; run?: string }[] };
  let buf = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    buf += s;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) if (l.startsWith('{')) w.events.push(JSON.parse(l) as { type: string; run?: string });
  });
  workers.push(w);
  return w;
}

beforeAll(async () => {
  if (missing === undefined) redis = await startRedis();
});
afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await redis?.stop();
});

const rng = createRng(23).child('queue-fit');
const rows = Array.from({ length: 9000 }, (_, i) => {
  const c = i % 3;
  const row = Array.from({ length: 3 }, (_, j) => c + (j === c ? 1 : 0) + rng.normal() * (0.8 + 0.2 * c));
  if (rng.uniform() < 0.2) row[i % 2] = Number.NaN;
  return row;
});

describe.skipIf(missing !== undefined)('distributed fits on BullMQ + Redis', () => {
  it('are bit-identical to an unsharded fit, also when a worker is killed holding a shard', async () => {
    const url = (redis as RedisInstance).url;
    const options = { seed: 2, maxIter: 4, tol: 0, precision: 'float32' as const, onWarning: () => undefined };
    const local = await fit(gaussianMixture({ nComponents: 3 }), rows, options);
    const [victim] = [startWorker(url), startWorker(url)];
    const watch = setInterval(() => {
      if (victim?.child.exitCode === null && victim.events.some((e) => e.type === 'start' && e.run?.includes('shard'))) victim.child.kill('SIGKILL');
    }, 10);
    const remote = await fit(gaussianMixture({ nComponents: 3 }), rows, { ...options, workers: queueShards({ queue: url, shards: 3 }) });
    clearInterval(watch);
    expect(victim?.child.signalCode).toBe('SIGKILL');
    expect(toJson(omitTimings(remote))).toBe(toJson(omitTimings(local)));
  });

  it('fails with WORKER_LOST when no worker takes a shard in time', async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    const url = (redis as RedisInstance).url;
    const e = await fit(gaussianMixture({ nComponents: 2 }), rows, { maxIter: 2, workers: queueShards({ queue: url, shards: 2, waitMs: 1500 }), onWarning: () => undefined }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EmError);
    expect((e as EmError).code).toBe('WORKER_LOST');
    expect((e as EmError).path).toEqual(['options', 'workers']);
    expect((e as EmError).message).toMatch(/no worker finished shard/);
  });
});
