/**
 * The working side of a distributed suite: `runWorker({ queue })` takes runs
 * from the BullMQ queue, runs each on a worker thread of this process (the
 * same code as a local suite: crash isolation, time and memory limits), and
 * returns the outcome to the queue. Start one per machine (or several), with
 * the same emlab version and the suite's files at the same paths.
 *
 * Failure handling is BullMQ's: a run whose thread crashes is tried again
 * (`attempts` = the suite's `limits.retries` + 1); a worker that is killed
 * stops renewing its lock, the job is found stalled by another worker and run
 * there (`maxStalledCount` times at most, then it fails as `WORKER_LOST`); a
 * time limit is a recorded `TIMEOUT`, not retried.
 * @module
 */
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deserialize } from 'node:v8';
import { EmError, ShardWorker, currentBackend, emError, initBackend, parseOptions, type OptionSchema, type ShardRequest } from '@emlab/core';
import { threadExecArgv } from '@emlab/core/node';
import { hashJson } from '../metrics.js';
import { workerScript } from '../pool.js';
import { errorOutcome, RunTimeout, type RunOutcome } from '../run-one.js';
import { parseRedisUrl, QUEUE_NAMES, QUEUE_PREFIX, reachRedis } from './connection.js';
import { decodeV8, encodeV8, fitSetupKey, type FitSetup, type RedisBytes, type ShardJob } from './fit-shards.js';
import { encodeOutcome, failureMessage, type RunJob } from './run-job.js';

/** Options of {@link runWorker}. @category Queue */
export interface RunWorkerOptions {
  /** Redis URL of the queue, `redis://host:port[/db]`. */
  readonly queue: string;
  /** Runs at a time (one worker thread each). Default `os.availableParallelism()`. */
  readonly concurrency?: number;
  /** BullMQ key prefix (default `'emlab'`), as the submitter's. */
  readonly prefix?: string;
  /** How long a run's lock lasts without renewal (ms): a killed worker's run is taken over after about this. Default 30000. */
  readonly lockMs?: number;
  /** How often this worker looks for stalled runs of lost workers (ms). Default 15000. */
  readonly stalledIntervalMs?: number;
  /** Times a run may be taken over from a lost worker before it fails as `WORKER_LOST`. Default 2. */
  readonly maxStalledCount?: number;
  /** Stop after this many runs (tests, batch machines). Default: never. */
  readonly maxRuns?: number;
  /** Stops the worker: the run in progress is finished first, unless the process ends. */
  readonly signal?: AbortSignal;
  /** Called when a run starts and ends. */
  readonly onEvent?: (event: WorkerEvent) => void;
  /** How long to wait for Redis at start before failing with `IO_ERROR` (ms). Default 10000. */
  readonly connectTimeoutMs?: number;
  /** Also take shards of distributed fits (`queueShards`), one at a time, on this thread. Default true. */
  readonly fits?: boolean;
  /** Modules to import before serving fit shards (plug-ins registering models or E-steps; relative to the working directory). */
  readonly modules?: readonly string[];
}

/** What {@link runWorker} reports. @category Queue */
export interface WorkerEvent {
  readonly type: 'ready' | 'start' | 'done' | 'failed';
  readonly jobId?: string;
  readonly run?: string;
  readonly message?: string;
}

/** The option table of {@link runWorker}. @category Queue */
export const RUN_WORKER_OPTIONS = {
  queue: { type: 'string', required: true, description: 'Redis URL of the queue (redis://host:port[/db])' },
  concurrency: { type: 'integer', min: 1, max: 256, description: 'runs at a time, one worker thread each (default: the number of cores)' },
  prefix: { type: 'string', default: QUEUE_PREFIX, description: 'BullMQ key prefix (the submitter must use the same)' },
  lockMs: { type: 'integer', min: 1000, default: 30_000, description: 'lock duration of a run (ms): a killed worker is replaced after about this' },
  stalledIntervalMs: { type: 'integer', min: 500, default: 15_000, description: 'how often stalled runs of lost workers are looked for (ms)' },
  maxStalledCount: { type: 'integer', min: 1, max: 10, default: 2, description: 'takeovers of a run from lost workers before it fails' },
  maxRuns: { type: 'integer', min: 1, description: 'stop after this many runs' },
  signal: { type: 'custom', shape: 'an AbortSignal', description: 'stops the worker', check: (v) => v },
  onEvent: { type: 'custom', shape: 'a function (event) => void', description: 'progress callback', check: (v) => v },
  connectTimeoutMs: { type: 'integer', min: 100, default: 10_000, description: 'how long to wait for Redis at start (ms)' },
  fits: { type: 'boolean', default: true, description: 'also take shards of distributed fits' },
  modules: {
    type: 'custom',
    shape: 'an array of module specifiers',
    description: 'modules to import before serving fit shards (plug-ins)',
    check: (v, path) => {
      if (!Array.isArray(v) || v.some((m) => typeof m !== 'string' || m.length === 0)) throw emError('INVALID_ARGUMENT', path, v, 'must be an array of module specifiers', "pass e.g. modules: ['./my-model.js']");
      return v as string[];
    },
  },
} as const satisfies OptionSchema;

/** A thread pool per (suite, base directory): the worker threads keep their materialized data sets. */
type Pool = { run(task: unknown, opts: { signal: AbortSignal }): Promise<unknown>; destroy(): Promise<void> };

/**
 * Takes runs from the queue until `signal` fires (or `maxRuns` runs are done).
 * @throws EmError `INVALID_ARGUMENT` (options), `IO_ERROR` (Redis unreachable).
 * @example
 * ```ts
 * const controller = new AbortController();
 * process.on('SIGINT', () => controller.abort());
 * await runWorker({ queue: 'redis://10.0.0.5:6379', signal: controller.signal });
 * ```
 * @category Queue
 */
export async function runWorker(options: RunWorkerOptions): Promise<{ readonly processed: number }> {
  const o = parseOptions(RUN_WORKER_OPTIONS, options, { owner: 'runWorker', pathOf: (k) => ['options', k] });
  const url = o['queue'] as string;
  const connection = parseRedisUrl(url);
  const concurrency = (o['concurrency'] as number | undefined) ?? availableParallelism();
  const signal = o['signal'] as AbortSignal | undefined;
  const onEvent = o['onEvent'] as ((e: WorkerEvent) => void) | undefined;
  const maxRuns = o['maxRuns'] as number | undefined;
  await reachRedis(connection, url, ['options', 'queue'], o['connectTimeoutMs'] as number);
  const script = workerScript();
  const { Piscina } = await import('piscina');
  const { Worker } = await import('bullmq');
  const pools = new Map<string, Pool>();
  const poolFor = (job: RunJob): Pool => {
    const key = hashJson([job.suite, job.baseDir]);
    let pool = pools.get(key);
    if (pool === undefined) {
      const memoryMb = job.suite.limits.memoryMb;
      pool = new Piscina({
        execArgv: threadExecArgv(process.execArgv),
        filename: script.href,
        workerData: { suite: job.suite, baseDir: job.baseDir },
        minThreads: 0,
        maxThreads: concurrency,
        concurrentTasksPerWorker: 1,
        idleTimeout: 60_000,
        ...(memoryMb === null ? {} : { resourceLimits: { maxOldGenerationSizeMb: memoryMb } }),
      }) as unknown as Pool;
      (pool as unknown as { on(e: string, f: () => void): void }).on('error', () => undefined);
      pools.set(key, pool);
    }
    return pool;
  };
  let processed = 0;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const worker = new Worker(
    QUEUE_NAMES.runs,
    async (job) => {
      const data = job.data as RunJob;
      if (data?.format !== 'emlab/run-job') throw new Error(failureMessage('INVALID_ARGUMENT', `job ${job.id} is not an emlab run (format ${String(data?.format)})`));
      onEvent?.({ type: 'start', jobId: String(job.id), run: data.task.id });
      const timeMs = data.suite.limits.timeMs;
      const controller = new AbortController();
      const timer = timeMs === null ? undefined : setTimeout(() => controller.abort(new RunTimeout(timeMs)), timeMs);
      let outcome: RunOutcome | null;
      try {
        outcome = (await poolFor(data).run(data.task, { signal: controller.signal })) as RunOutcome | null;
      } catch (e) {
        if (controller.signal.reason instanceof RunTimeout) {
          outcome = errorOutcome(data.suite, data.task, 'TIMEOUT', controller.signal.reason.message, { attempts: job.attemptsMade + 1 });
        } else {
          const err = e as { code?: unknown; message?: unknown };
          const code = err?.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'OUT_OF_MEMORY' : 'CRASH';
          onEvent?.({ type: 'failed', jobId: String(job.id), run: data.task.id, message: String(err?.message ?? e) });
          // Thrown: BullMQ tries the run again (attempts), then records the failure.
          throw new Error(failureMessage(code, `the run's worker thread failed (${String(err?.message ?? e)})`));
        }
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
      if (outcome === null) throw new Error(failureMessage('CRASH', 'the run was aborted in its worker thread'));
      const attempts = job.attemptsMade + 1;
      const withAttempts: RunOutcome = attempts === 1 ? outcome : { record: outcome.record, timings: { ...outcome.timings, attempts } };
      processed++;
      onEvent?.({ type: 'done', jobId: String(job.id), run: data.task.id });
      if (maxRuns !== undefined && processed >= maxRuns) stop();
      return encodeOutcome(withAttempts);
    },
    {
      connection,
      prefix: o['prefix'] as string,
      concurrency,
      lockDuration: o['lockMs'] as number,
      stalledInterval: o['stalledIntervalMs'] as number,
      maxStalledCount: o['maxStalledCount'] as number,
      autorun: false,
    },
  );
  const fitsWorker = o['fits'] === true ? await shardWorkerOn(connection, o['prefix'] as string, (o['lockMs'] as number), (o['stalledIntervalMs'] as number), (o['maxStalledCount'] as number), (o['modules'] as string[] | undefined) ?? [], onEvent) : undefined;
  let lastError: unknown;
  // Connection hiccups are retried by BullMQ; only a run loop that ends is fatal (below).
  worker.on('error', (e) => onEvent?.({ type: 'failed', message: (e as Error)?.message ?? String(e) }));
  try {
    try {
      const ms = o['connectTimeoutMs'] as number;
      await Promise.race([worker.waitUntilReady(), new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);
    } catch (e) {
      throw emError('IO_ERROR', ['options', 'queue'], url, `Redis cannot be reached (${(e as Error).message})`, 'start redis-server there, or check the host, port and password', e);
    }
    void worker.run().catch((e: unknown) => {
      lastError = e;
      stop();
    });
    if (fitsWorker !== undefined) {
      await fitsWorker.waitUntilReady();
      void fitsWorker.run().catch((e: unknown) => {
        lastError = e;
        stop();
      });
    }
    onEvent?.({ type: 'ready' });
    if (signal?.aborted) stop();
    signal?.addEventListener('abort', () => stop(), { once: true });
    await stopped;
    await Promise.all([worker.close(), fitsWorker?.close()]);
  } finally {
    await worker.close(true).catch(() => undefined);
    await fitsWorker?.close(true).catch(() => undefined);
    fitsWorker?.dispose();
    await Promise.allSettled([...pools.values()].map((p) => p.destroy()));
  }
  if (lastError !== undefined && !(signal?.aborted ?? false) && (maxRuns === undefined || processed < maxRuns)) {
    throw lastError instanceof EmError ? lastError : emError('IO_ERROR', ['options', 'queue'], url, `the queue failed (${(lastError as Error)?.message ?? String(lastError)})`, 'check that Redis is up and reachable, then start the worker again');
  }
  return { processed };
}

/**
 * The BullMQ worker that serves shards of distributed fits: per (fit, shard) a core `ShardWorker`
 * built from the setup the submitter stored in Redis (kept for the next iterations), then one reply
 * per job. The same backend as the submitter's is required (bit-identical results).
 */
async function shardWorkerOn(
  connection: ReturnType<typeof parseRedisUrl>,
  prefix: string,
  lockMs: number,
  stalledIntervalMs: number,
  maxStalledCount: number,
  modules: readonly string[],
  onEvent: ((e: WorkerEvent) => void) | undefined,
): Promise<{ waitUntilReady(): Promise<unknown>; run(): Promise<unknown>; close(force?: boolean): Promise<void>; dispose(): void }> {
  await initBackend();
  for (const m of modules) {
    const spec = m.startsWith('.') || isAbsolute(m) ? pathToFileURL(resolve(m)).href : m;
    try {
      await import(spec);
    } catch (e) {
      throw emError('INVALID_ARGUMENT', ['options', 'modules'], m, `cannot be imported (${(e as Error).message})`, 'check the module path and that it loads with node', e);
    }
  }
  const { Queue, Worker } = await import('bullmq');
  const store = new Queue(QUEUE_NAMES.fits, { connection, prefix });
  store.on('error', () => undefined);
  const cache = new Map<string, ShardWorker>();
  const worker = new Worker(
    QUEUE_NAMES.fits,
    async (job) => {
      const data = job.data as ShardJob;
      if (data?.format !== 'emlab/shard-job') throw new Error(failureMessage('INVALID_ARGUMENT', `job ${job.id} is not an emlab fit shard`));
      const key = `${data.session}/${data.shard}`;
      let shard = cache.get(key);
      if (shard === undefined) {
        const client = (await store.client) as unknown as RedisBytes;
        const buf = await client.getBuffer(fitSetupKey(prefix, data.session));
        if (buf === null) throw new Error(failureMessage('WORKER_LOST', `the setup of fit ${data.session} is gone from Redis (its submitter stopped)`));
        const stored = deserialize(buf) as FitSetup;
        if (stored.backend !== currentBackend()) {
          throw new Error(failureMessage('INVALID_ARGUMENT', `this worker computes with the ${currentBackend()} backend, the fit with ${stored.backend}: results would differ. Remedy: set EMLAB_BACKEND=${stored.backend} on the workers`));
        }
        shard = new ShardWorker({ ...stored.setup, shard: data.shard, nShards: stored.nShards });
        cache.set(key, shard);
        // A worker keeps the shards of the last few fits only.
        for (const [k, w] of cache) {
          if (cache.size <= 16) break;
          w.dispose();
          cache.delete(k);
        }
      }
      onEvent?.({ type: 'start', jobId: String(job.id), run: `fit ${data.session} shard ${data.shard}` });
      const reply = await shard.evaluate(decodeV8(data.request) as ShardRequest);
      onEvent?.({ type: 'done', jobId: String(job.id), run: `fit ${data.session} shard ${data.shard}` });
      return encodeV8(reply);
    },
    { connection, prefix, concurrency: 1, lockDuration: lockMs, stalledInterval: stalledIntervalMs, maxStalledCount, autorun: false },
  );
  worker.on('error', (e) => onEvent?.({ type: 'failed', message: (e as Error)?.message ?? String(e) }));
  return {
    waitUntilReady: () => worker.waitUntilReady(),
    run: () => worker.run(),
    close: async (force?: boolean) => {
      await worker.close(force);
      await store.close().catch(() => undefined);
    },
    dispose: () => {
      for (const w of cache.values()) w.dispose();
      cache.clear();
    },
  };
}
