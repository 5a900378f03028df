/**
 * Running tasks with crash isolation: on worker threads (a piscina pool with
 * a heap limit per thread) or in this thread, each attempt with a time limit;
 * a crash (worker exit, out of memory, a thrown error that is not an
 * EmError) is tried again up to `retries` times and then recorded as the
 * run's error. Never fails the suite.
 * @module
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EmError } from '@emlab/core';
import { threadExecArgv } from '@emlab/core/node';
import { errorOutcome, runTask, RunTimeout, type RunContext, type RunOutcome, type RunTask } from './run-one.js';
import type { Suite } from './suite-schema.js';

/** How runs are executed. @internal */
export interface ExecOptions {
  readonly suite: Suite;
  readonly baseDir: string;
  /** Worker threads, or 0 to run in this thread. */
  readonly threads: number;
  readonly timeMs: number | null;
  readonly memoryMb: number | null;
  readonly retries: number;
  readonly signal?: AbortSignal;
  /** Called once per finished run, in completion order. */
  readonly finish: (o: RunOutcome) => Promise<void>;
}

/** The worker entry: the built `dist/worker.js` (also when the runner is loaded from `src` under vitest). @internal */
export function workerScript(): URL {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../dist/worker.js', here) : new URL('./worker.js', here);
  if (!existsSync(fileURLToPath(url))) {
    throw new EmError('INTERNAL', `the worker script ${fileURLToPath(url)} is missing. Remedy: build @emlab/bench (npx tsc -b packages/bench) or run with workers: 1`, { path: ['options', 'workers'] });
  }
  return url;
}

/** A failed attempt, classified: `retry` for crashes, the code and message for the record. */
interface Failure {
  readonly code: string;
  readonly message: string;
  readonly retry: boolean;
}

function classify(e: unknown, timedOut: boolean, timeMs: number | null): Failure {
  const err = e as { code?: unknown; name?: unknown; message?: unknown } | null;
  const message = typeof err?.message === 'string' ? err.message : String(e);
  if (timedOut) return { code: 'TIMEOUT', message: `the run took longer than limits.timeMs = ${timeMs} ms`, retry: false };
  if (err?.code === 'ERR_WORKER_OUT_OF_MEMORY') return { code: 'OUT_OF_MEMORY', message: `the worker ran out of memory (${message})`, retry: true };
  if (/worker exited with code/i.test(message)) return { code: 'WORKER_EXIT', message: `the worker thread exited during the run (${message}; process.exit in a plug-in?)`, retry: true };
  const name = typeof err?.name === 'string' && err.name !== 'Error' ? `${err.name}: ` : '';
  return { code: 'CRASH', message: `${name}${message}`, retry: true };
}

/** Runs one task with retries; `attempt` runs it once and reports whether its time limit fired. */
async function withRetries(o: ExecOptions, task: RunTask, attempt: () => Promise<{ outcome: RunOutcome | null } | { error: unknown; timedOut: boolean }>): Promise<RunOutcome | null> {
  const failures: { code: string; message: string }[] = [];
  for (let n = 1; ; n++) {
    if (o.signal?.aborted) return null;
    const t0 = performance.now();
    const r = await attempt();
    if ('outcome' in r) {
      if (r.outcome === null) return null;
      return n === 1 ? r.outcome : { record: r.outcome.record, timings: { ...r.outcome.timings, attempts: n, failures } };
    }
    if (o.signal?.aborted) return null;
    const f = classify(r.error, r.timedOut, o.timeMs);
    if (!f.retry || n > o.retries) {
      return errorOutcome(o.suite, task, f.code, f.message, { totalMs: performance.now() - t0, attempts: n, failures });
    }
    failures.push({ code: f.code, message: f.message });
  }
}

/** Runs `tasks` in this thread, one after the other. @internal */
export async function runInThread(o: ExecOptions, ctx: RunContext, tasks: readonly RunTask[]): Promise<void> {
  for (const task of tasks) {
    if (o.signal?.aborted) return;
    const outcome = await withRetries(o, task, async () => {
      const controller = new AbortController();
      const onAbort = (): void => controller.abort(o.signal?.reason);
      o.signal?.addEventListener('abort', onAbort);
      const timer = o.timeMs === null ? undefined : setTimeout(() => controller.abort(new RunTimeout(o.timeMs as number)), o.timeMs);
      try {
        return { outcome: await runTask(ctx, task, controller.signal) };
      } catch (error) {
        return { error, timedOut: controller.signal.reason instanceof RunTimeout };
      } finally {
        if (timer !== undefined) clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
      }
    });
    if (outcome === null) return;
    await o.finish(outcome);
  }
}

/**
 * Runs `tasks` on a pool of `o.threads` worker threads; at most one task per thread is in flight, so
 * each attempt's time limit counts from its start.
 * @internal
 */
export async function runOnPool(o: ExecOptions, tasks: readonly RunTask[]): Promise<void> {
  const script = workerScript();
  const { Piscina } = await import('piscina');
  const pool = new Piscina({
    // Workers run the built files: drop resolution conditions a test runner adds (`--conditions source`).
    execArgv: threadExecArgv(process.execArgv),
    filename: script.href,
    workerData: { suite: o.suite, baseDir: o.baseDir },
    minThreads: Math.min(o.threads, tasks.length),
    maxThreads: o.threads,
    concurrentTasksPerWorker: 1,
    idleTimeout: 60_000,
    ...(o.memoryMb === null ? {} : { resourceLimits: { maxOldGenerationSizeMb: o.memoryMb } }),
  });
  let firstError: unknown;
  // A worker that fails outside a task (its module cannot load): the pool emits 'error'; the suite
  // cannot run on workers at all, so it fails (an unhandled 'error' event would end the process).
  pool.on('error', (e: unknown) => {
    firstError ??= new EmError('INTERNAL', `a worker thread failed to start (${(e as Error)?.message ?? String(e)}). Remedy: build the packages (npm run build), check the suite's plug-ins load in a worker, or run with workers: 1`, { path: ['options', 'workers'], cause: e });
  });
  const queue = [...tasks];
  const lane = async (): Promise<void> => {
    for (;;) {
      const task = queue.shift();
      if (task === undefined || o.signal?.aborted || firstError !== undefined) return;
      const outcome = await withRetries(o, task, async () => {
        const controller = new AbortController();
        let timedOut = false;
        const onAbort = (): void => controller.abort(o.signal?.reason);
        o.signal?.addEventListener('abort', onAbort);
        const timer =
          o.timeMs === null
            ? undefined
            : setTimeout(() => {
                timedOut = true;
                controller.abort(new RunTimeout(o.timeMs as number));
              }, o.timeMs);
        try {
          return { outcome: (await pool.run(task, { signal: controller.signal })) as RunOutcome | null };
        } catch (error) {
          return { error, timedOut };
        } finally {
          if (timer !== undefined) clearTimeout(timer);
          o.signal?.removeEventListener('abort', onAbort);
        }
      });
      if (outcome === null) continue;
      try {
        await o.finish(outcome);
      } catch (e) {
        firstError = e;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(o.threads, tasks.length) }, lane));
  } finally {
    await pool.destroy();
  }
  if (firstError !== undefined) throw firstError;
}
