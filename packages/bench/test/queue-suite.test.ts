/**
 * Distributed suites on a real redis-server (started on a free port by this file) with three worker
 * processes (`runWorker`, built dist): one worker is killed (SIGKILL) in the middle of a run, the
 * submitter is interrupted and resumed against the queue, and the results equal a local run's apart
 * from timings, with every run recorded once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmError } from '@emlab/core';
import { runSuite, runWorker, type BenchResults } from '@emlab/bench';
import { redisMissing, startRedis, type RedisInstance } from './redis-server.js';

const missing = redisMissing();
if (missing !== undefined) console.warn(`queue tests skipped: ${missing}`);

const PLUGIN = fileURLToPath(new URL('./fixtures/crash-plugin.mjs', import.meta.url));
const WORKER = fileURLToPath(new URL('./fixtures/queue-worker.mjs', import.meta.url));
const suite = {
  plugins: [PLUGIN],
  datasets: [{ id: 'd', kind: 'gaussian-mixture', options: { nSamples: 150, nComponents: 2, nFeatures: 2, seed: 3 } }],
  models: [{ type: 'gmm' }],
  // "slow" is the exact E-step with a pause per iteration, so a worker can be killed mid-run.
  esteps: ['exact', 'hard', { id: 'slow', method: 'crash', options: { mode: 'sleep', sleepMs: 200 } }],
  seeds: [0, 1, 2],
  stopping: { maxIter: 5, tol: 0 },
};

let dir: string;
let redis: RedisInstance | undefined;
const workers: { child: ChildProcess; events: { type: string; jobId?: string }[] }[] = [];

function startWorker(url: string): (typeof workers)[number] {
  const child = spawn(process.execPath, [WORKER, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  const w = { child, events: [] as { type: string; jobId?: string }[] };
  let buf = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    buf += s;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) if (l.startsWith('{')) w.events.push(JSON.parse(l) as { type: string; jobId?: string });
  });
  workers.push(w);
  return w;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emlab-queue-'));
  if (missing === undefined) redis = await startRedis();
});
afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

const deterministic = (r: BenchResults): string => JSON.stringify({ ...r, timings: undefined });

describe.skipIf(missing !== undefined)('distributed suites on BullMQ + Redis', () => {
  it('survive a worker killed mid-run and an interrupted submitter, and equal a local run', async () => {
    const url = (redis as RedisInstance).url;
    const local = await runSuite(suite, { workers: 1, outDir: join(dir, 'local'), report: false, parquet: false });
    expect(local.complete).toBe(true);

    const [victim] = [startWorker(url), startWorker(url), startWorker(url)];
    const out = join(dir, 'queue');
    // Kill the first worker as soon as it starts a slow run (SIGKILL: no chance to hand it back).
    let killedJob: string | undefined;
    const watch = setInterval(() => {
      const start = victim?.events.find((e) => e.type === 'start');
      if (start !== undefined && killedJob === undefined) {
        killedJob = start.jobId;
        victim?.child.kill('SIGKILL');
      }
    }, 20);
    // The submitter stops listening after 3 runs (Ctrl-C); the workers go on.
    const controller = new AbortController();
    const first = await runSuite(suite, {
      queue: url,
      outDir: out,
      report: false,
      parquet: false,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 3) controller.abort();
      },
    });
    expect(first.complete).toBe(false);
    const resumed = await runSuite(suite, { queue: url, outDir: out, resume: true, report: false, parquet: false });
    clearInterval(watch);
    expect(resumed.complete).toBe(true);
    expect(deterministic(resumed)).toBe(deterministic(local));
    expect(await readFile(join(out, 'runs.csv'), 'utf8').then((t) => t.split('\n').length)).toBe(await readFile(join(dir, 'local', 'runs.csv'), 'utf8').then((t) => t.split('\n').length));
    // Every run journalled once.
    const journal = (await readFile(join(out, 'runs.jsonl'), 'utf8')).split('\n').filter((l) => l.includes('"type":"run"'));
    expect(journal.length).toBe(local.runs.length);
    expect(new Set(journal.map((l) => (JSON.parse(l) as { outcome: { record: { id: string } } }).outcome.record.id)).size).toBe(local.runs.length);
    // The killed worker's run was taken over and finished by another worker.
    expect(killedJob).toBeDefined();
    const doneElsewhere = workers.slice(1).some((w) => w.events.some((e) => e.type === 'done' && e.jobId === killedJob));
    expect(doneElsewhere).toBe(true);
  });

  it('names the option for a bad queue URL, and an unreachable Redis is an IO_ERROR', async () => {
    for (const queue of ['http://x', 'redis://', 'not a url', 'redis://h:1/99']) {
      const e = await runSuite(suite, { queue, report: false }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(EmError);
      expect((e as EmError).path).toEqual(['options', 'queue']);
    }
    const w = await runWorker({ queue: 'redis://127.0.0.1:1', connectTimeoutMs: 500 }).catch((x: unknown) => x);
    expect((w as EmError).code).toBe('IO_ERROR');
  });
});
