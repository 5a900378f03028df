/**
 * Distributed fits: a shard engine whose shards are BullMQ jobs, taken by
 * `runWorker` processes on any machines. The prepared data go to Redis once per
 * fit; every iteration sends θ out as one job per shard and gets the shard's
 * block outcomes back, which `fit` adds in block order (see core's `shard.ts`):
 * the result is bit-identical to an unsharded fit on the same backend. A shard
 * whose worker dies is taken over by another worker (BullMQ's stalled-job
 * handling); a shard that fails beyond the retry budget, or that no worker
 * takes in time, fails the fit with `WORKER_LOST`.
 * @module
 */
import { deserialize, serialize } from 'node:v8';
import { currentBackend, emError, EmError, parseOptions, shardModelSpec, type OptionSchema, type ShardEngine, type ShardReply, type ShardRequest, type ShardSession, type ShardSessionSpec, type ShardWorkerSetup } from '@emlab/core';
import { parseRedisUrl, QUEUE_NAMES, QUEUE_PREFIX, reachRedis } from './connection.js';

/** Options of {@link queueShards}. @category Queue */
export interface QueueShardsOptions {
  /** Redis URL of the queue, `redis://host:port[/db]`. */
  readonly queue: string;
  /** Shards per iteration (jobs; best a multiple of the workers' total concurrency). */
  readonly shards: number;
  /** BullMQ key prefix (default `'emlab'`), as the workers'. */
  readonly prefix?: string;
  /** Attempts per shard job beyond the first (a worker that throws). Default 2. */
  readonly retries?: number;
  /** A shard nobody finishes within this many ms fails the fit with `WORKER_LOST` (no workers, all lost). Default 600000. */
  readonly waitMs?: number;
}

/** The option table of {@link queueShards}. @category Queue */
export const QUEUE_SHARDS_OPTIONS = {
  queue: { type: 'string', required: true, description: 'Redis URL of the queue (redis://host:port[/db])' },
  shards: { type: 'integer', min: 1, max: 100_000, required: true, description: 'shards (jobs) per iteration' },
  prefix: { type: 'string', default: QUEUE_PREFIX, description: 'BullMQ key prefix (the workers must use the same)' },
  retries: { type: 'integer', min: 0, max: 10, default: 2, description: 'attempts per shard job beyond the first' },
  waitMs: { type: 'integer', min: 100, default: 600_000, description: 'a shard not finished within this fails the fit (ms)' },
} as const satisfies OptionSchema;

/** A fit's setup as stored in Redis (v8-serialized: typed arrays travel exactly). @internal */
export interface FitSetup {
  readonly format: 'emlab/fit-shards';
  readonly formatVersion: 1;
  /** Backend of the submitting process: workers must compute in the same for bit-identical results. */
  readonly backend: string;
  readonly setup: Omit<ShardWorkerSetup, 'shard' | 'nShards'>;
  readonly nShards: number;
}

/** The data of one shard job. @internal */
export interface ShardJob {
  readonly format: 'emlab/shard-job';
  readonly session: string;
  readonly shard: number;
  /** The request, v8-serialized then base64 (θ exactly as sent). */
  readonly request: string;
}

/** The Redis key of a fit's setup. @internal */
export function fitSetupKey(prefix: string, session: string): string {
  return `${prefix}:fit-setup:${session}`;
}

/** The few Redis commands the fit shards use on BullMQ's connection (ioredis). @internal */
export interface RedisBytes {
  set(key: string, value: Buffer, mode: 'EX', seconds: number): Promise<unknown>;
  getBuffer(key: string): Promise<Buffer | null>;
  del(key: string): Promise<unknown>;
}

/** v8 round trip through base64 (job data and return values are JSON). @internal */
export const encodeV8 = (v: unknown): string => serialize(v).toString('base64');
/** @internal */
export const decodeV8 = (s: string): unknown => deserialize(Buffer.from(s, 'base64'));

let sessions = 0;

/**
 * A shard engine on a BullMQ queue: `fit(model, data, { workers: queueShards({ queue: 'redis://…', shards: 8 }) })`.
 * Start workers with `runWorker({ queue })` (`emlab worker --queue …`) on the machines that should
 * compute; each needs the same emlab version and backend (and the plug-ins registering the model and E-step).
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @example
 * ```ts
 * const engine = queueShards({ queue: 'redis://10.0.0.5:6379', shards: 16 });
 * const result = await fit(gaussianMixture({ nComponents: 16 }), rows, { workers: engine });
 * ```
 * @category Queue
 */
export function queueShards(options: QueueShardsOptions): ShardEngine {
  const o = parseOptions(QUEUE_SHARDS_OPTIONS, options, { owner: 'queueShards', pathOf: (k) => ['options', 'workers', k] });
  const url = o['queue'] as string;
  const connection = parseRedisUrl(url, ['options', 'workers', 'queue']);
  const shards = o['shards'] as number;
  const prefix = o['prefix'] as string;
  const retries = o['retries'] as number;
  const waitMs = o['waitMs'] as number;
  return {
    kind: 'queue',
    shards,
    async open(spec: ShardSessionSpec): Promise<ShardSession> {
      const hooks = spec.model.shard;
      if (hooks === undefined) throw emError('INVALID_ARGUMENT', ['options', 'workers'], spec.model.name, 'cannot shard: the model has no sharding hooks', 'fit with workers: 1');
      await reachRedis(connection, url, ['options', 'workers', 'queue']);
      const { Queue, QueueEvents, Job } = await import('bullmq');
      const queue = new Queue(QUEUE_NAMES.fits, { connection, prefix });
      const events = new QueueEvents(QUEUE_NAMES.fits, { connection, prefix });
      queue.on('error', () => undefined);
      events.on('error', () => undefined);
      const session = `${Date.now().toString(36)}-${process.pid.toString(36)}-${(++sessions).toString(36)}`;
      const key = fitSetupKey(prefix, session);
      const close = async (): Promise<void> => {
        // Bounded: with Redis unreachable the client never connects, and waiting for it would never end.
        const within = (p: Promise<unknown>, ms: number): Promise<void> =>
          Promise.race([p.then(() => undefined, () => undefined), new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);
        // Redis gone: the setup expires on its own.
        await within((async () => ((await queue.client) as unknown as RedisBytes).del(key))(), 2000);
        await within(Promise.allSettled([events.close(), queue.close()]), 2000);
        // Connections that did not close (never connected) are dropped, so the process can end.
        await within(Promise.allSettled([events.disconnect(), queue.disconnect()]), 2000);
      };
      try {
        await Promise.race([
          Promise.all([queue.waitUntilReady(), events.waitUntilReady()]),
          new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 10 s')), 10_000).unref()),
        ]);
        const payload = hooks.exportPrepared(spec.prepared, { share: (a) => a });
        const stored: FitSetup = {
          format: 'emlab/fit-shards',
          formatVersion: 1,
          backend: currentBackend(),
          setup: { model: shardModelSpec(spec.model), eStep: spec.eStep, payload, precisions: spec.precisions },
          nShards: shards,
        };
        const client = (await queue.client) as unknown as RedisBytes;
        // A day: a submitter that dies leaves nothing behind for long.
        await client.set(key, serialize(stored), 'EX', 86_400);
      } catch (e) {
        await close();
        throw emError('IO_ERROR', ['options', 'workers', 'queue'], url, `Redis cannot be reached (${(e as Error).message})`, 'start redis-server there, or check the host, port and password', e);
      }
      let calls = 0;
      let closed = false;
      const evaluateOne = async (request: ShardRequest, shard: number, call: number): Promise<ShardReply> => {
        const jobId = `${session}-${call}-${shard}`;
        const data: ShardJob = { format: 'emlab/shard-job', session, shard, request: encodeV8(request) };
        await queue.add('shard', data, { jobId, attempts: retries + 1, removeOnComplete: false, removeOnFail: { age: 3600 } });
        const deadline = Date.now() + waitMs;
        for (;;) {
          const job = await Job.fromId(queue, jobId);
          const state = job === undefined || job === null ? 'missing' : await job.getState();
          if (state === 'failed') {
            throw emError('WORKER_LOST', ['options', 'workers'], shard, `shard ${shard} of iteration ${request.iteration} failed after ${job?.attemptsMade ?? '?'} attempt(s): ${job?.failedReason ?? 'no reason given'}`, 'check the workers (same emlab version, backend and plug-ins), start more, then fit again');
          }
          // A job that completed between reading it and reading its state has no return value in the
          // object read before: the next round reads it again.
          if (state === 'completed' && job !== undefined && job !== null && job.returnvalue !== null && job.returnvalue !== undefined) {
            const reply = decodeV8(String(job.returnvalue)) as ShardReply;
            await job.remove().catch(() => undefined);
            return reply;
          }
          if (Date.now() > deadline) {
            await job?.remove().catch(() => undefined);
            throw emError('WORKER_LOST', ['options', 'workers'], shard, `no worker finished shard ${shard} of iteration ${request.iteration} within ${waitMs} ms`, 'start workers with `emlab worker --queue …` (runWorker) on the machines that should compute, or raise waitMs');
          }
          // Woken by the job's completion or failure event, else polled every second.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 1000);
            waiters.set(jobId, () => {
              clearTimeout(timer);
              resolve();
            });
          });
          waiters.delete(jobId);
        }
      };
      const waiters = new Map<string, () => void>();
      events.on('completed', ({ jobId }) => waiters.get(jobId)?.());
      events.on('failed', ({ jobId }) => waiters.get(jobId)?.());
      return {
        shards,
        async evaluate(request) {
          if (closed) throw new EmError('INTERNAL', 'a closed shard session was asked to evaluate');
          const call = ++calls;
          try {
            return await Promise.all(Array.from({ length: shards }, (_, s) => evaluateOne(request, s, call)));
          } catch (e) {
            closed = true;
            await close();
            throw e;
          }
        },
        async close() {
          if (closed) return;
          closed = true;
          await close();
        },
      };
    },
  };
}
