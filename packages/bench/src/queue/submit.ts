/**
 * The submitting side of a distributed suite: the suite's runs go on a BullMQ
 * queue as jobs (one per run, job id = submission + run index, so a run is
 * queued at most once), workers on any number of machines take them
 * (`runWorker`), and this side collects the outcomes as they complete and hands
 * each to the runner exactly once, which journals it and writes the same
 * `results.json`, `runs.csv` and report as a local run.
 *
 * Resuming (`--resume`) reuses the submission recorded in the output directory
 * (`queue.json`): runs already journalled are not queued again, runs that
 * completed on the queue while no submitter was listening are collected from
 * Redis, and the rest are queued (or still waiting there).
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmError, emError, fromJson, toJson } from '@emlab/core';
import { writeFileAtomic } from '@emlab/core/node';
import { hashJson } from '../metrics.js';
import type { ExecOptions } from '../pool.js';
import type { RunOutcome, RunTask } from '../run-one.js';
import { parseRedisUrl, QUEUE_NAMES, QUEUE_PREFIX, reachRedis } from './connection.js';
import { decodeOutcome, failedOutcome, newSubmission, runJobId, type RunJob } from './run-job.js';

/** Where a suite's runs go. @category Queue */
export interface SuiteQueueOptions {
  /** Redis URL, `redis://host:port[/db]`. */
  readonly url: string;
  /** BullMQ key prefix (default `'emlab'`); workers must use the same. */
  readonly prefix?: string;
  /** How often the submitter also polls Redis for finished runs (ms; events are the fast path). Default 2000. */
  readonly pollMs?: number;
}

/** The file in the output directory that names the submission (for `--resume`). @category Queue */
export const QUEUE_FILE = 'queue.json';

interface QueueFile {
  readonly format: 'emlab/bench-queue';
  readonly formatVersion: 1;
  readonly submission: string;
  readonly suiteHash: string;
  readonly url: string;
}

/** The submission of this invocation: the recorded one when resuming the same suite, else a new one (recorded). */
async function submissionFor(o: ExecOptions, q: SuiteQueueOptions, outDir: string | undefined, resume: boolean): Promise<string> {
  const suiteHash = hashJson(o.suite);
  const file = outDir === undefined ? undefined : join(outDir, QUEUE_FILE);
  if (file !== undefined && resume && existsSync(file)) {
    const saved = fromJson(await readFile(file, 'utf8'), file) as QueueFile;
    if (saved.format === 'emlab/bench-queue' && saved.suiteHash === suiteHash && typeof saved.submission === 'string') return saved.submission;
  }
  const submission = newSubmission(o.suite);
  if (file !== undefined) {
    const doc: QueueFile = { format: 'emlab/bench-queue', formatVersion: 1, submission, suiteHash, url: q.url.replace(/\/\/[^@/]*@/, '//') };
    await writeFileAtomic(file, `${toJson(doc)}\n`, ['outDir']);
  }
  return submission;
}

/**
 * Runs `tasks` on a queue: queues those not queued yet, and calls `o.finish` once per run as results
 * arrive (in completion order), until every task is finished or `o.signal` fires (jobs in flight then
 * stay on the queue for a resume).
 * @throws EmError `INVALID_ARGUMENT` (bad URL), `IO_ERROR` (Redis unreachable).
 * @internal
 */
export async function runOnQueue(o: ExecOptions, tasks: readonly RunTask[], q: SuiteQueueOptions, outDir: string | undefined, resume: boolean): Promise<void> {
  const connection = parseRedisUrl(q.url);
  await reachRedis(connection, q.url, ['options', 'queue']);
  const { Queue, QueueEvents, Job } = await import('bullmq');
  const prefix = q.prefix ?? QUEUE_PREFIX;
  const queue = new Queue(QUEUE_NAMES.runs, { connection, prefix });
  const events = new QueueEvents(QUEUE_NAMES.runs, { connection, prefix });
  const swallow = (): void => undefined;
  queue.on('error', swallow);
  events.on('error', swallow);
  try {
    try {
      await Promise.race([
        Promise.all([queue.waitUntilReady(), events.waitUntilReady()]),
        new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 10 s')), 10_000).unref()),
      ]);
    } catch (e) {
      throw emError('IO_ERROR', ['options', 'queue'], q.url, `Redis cannot be reached (${(e as Error).message})`, 'start redis-server there, or check the host, port and password', e);
    }
    const submission = await submissionFor(o, q, outDir, resume);
    const byId = new Map<string, RunTask>(tasks.map((t) => [runJobId(submission, t), t]));
    const pending = new Set(byId.keys());
    let chain: Promise<void> = Promise.resolve();
    let failure: unknown;
    let wake: (() => void) | undefined;
    // A run finishes exactly once: the first completion or final failure seen (event or poll) wins.
    const settle = (id: string, outcome: RunOutcome): void => {
      if (!pending.delete(id)) return;
      chain = chain.then(() => o.finish(outcome)).catch((e: unknown) => {
        failure ??= e;
      });
      wake?.();
    };
    const jobData = (t: RunTask): RunJob => ({ format: 'emlab/run-job', formatVersion: 1, submission, suite: o.suite, baseDir: o.baseDir, task: t });
    /** Looks a job up and settles it when it is done; returns whether it exists. */
    const check = async (id: string): Promise<boolean> => {
      const job = await Job.fromId(queue, id);
      if (job === undefined || job === null) return false;
      const state = await job.getState();
      if (state === 'completed') {
        // The job may have completed between reading it and reading its state: its return value is
        // then not in the object read before; read it again (or let the next poll settle it).
        const done = job.returnvalue === null || job.returnvalue === undefined ? await Job.fromId(queue, id) : job;
        if (done?.returnvalue === null || done?.returnvalue === undefined) return true;
        settle(id, decodeOutcome(done.returnvalue));
      }
      else if (state === 'failed') settle(id, failedOutcome(job.data as RunJob, job.failedReason, job.attemptsMade));
      return true;
    };
    events.on('completed', ({ jobId }) => {
      if (pending.has(jobId)) void check(jobId).catch(swallow);
    });
    events.on('failed', ({ jobId }) => {
      if (pending.has(jobId)) void check(jobId).catch(swallow);
    });
    // Runs already on the queue (a resume, or a submitter that died) are collected, the rest queued.
    const absent: string[] = [];
    for (const id of byId.keys()) if (!(await check(id))) absent.push(id);
    const attempts = o.retries + 1;
    for (let i = 0; i < absent.length; i += 100) {
      await queue.addBulk(absent.slice(i, i + 100).map((id) => ({
        name: 'run',
        data: jobData(byId.get(id) as RunTask),
        opts: { jobId: id, attempts, removeOnComplete: false, removeOnFail: false },
      })));
    }
    const pollMs = q.pollMs ?? 2000;
    const aborted = (): boolean => o.signal?.aborted === true;
    while (pending.size > 0 && failure === undefined && !aborted()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
        o.signal?.addEventListener('abort', wake, { once: true });
      });
      wake = undefined;
      if (pending.size === 0 || aborted()) break;
      for (const id of [...pending]) await check(id);
    }
    await chain;
    if (failure !== undefined) throw failure;
  } catch (e) {
    if (e instanceof EmError) throw e;
    throw emError('IO_ERROR', ['options', 'queue'], q.url, `the queue failed (${(e as Error).message})`, 'check that Redis is up and reachable, then run again with --resume', e);
  } finally {
    await Promise.allSettled([events.close(), queue.close()]);
  }
}
