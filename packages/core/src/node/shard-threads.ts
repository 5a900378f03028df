/**
 * Sharding one fit over worker threads: one TensorFlow.js backend per thread
 * (wasm is single-threaded in Node, so this is how a fit uses every core), the
 * prepared data in shared memory (copied once, never per worker), θ out and
 * per-block outcomes back every iteration. See `shard.ts` for why the result
 * does not depend on the number of threads.
 * @module
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { currentBackend } from '../backend.js';
import { EmError, emError } from '../errors.js';
import { parseOptions, type OptionSchema } from '../option-schema.js';
import { registerShardEngineFactory, shardModelSpec, type ShardArray, type ShardEngine, type ShardReply, type ShardRequest, type ShardSession, type ShardSessionSpec, type ShardWorkerSetup } from '../shard.js';

/** Options of {@link threadShards}. @category Sharding */
export interface ThreadShardsOptions {
  /** Worker threads (shards). Default `os.availableParallelism()`. */
  readonly workers?: number;
  /**
   * Modules every worker imports before rebuilding the model and E-step (plug-ins that register
   * them; relative paths resolve against the working directory). The built-in packages
   * (`@emlab/models`, `@emlab/exact`, `@emlab/variational`, `@emlab/montecarlo`) are imported when installed.
   */
  readonly modules?: readonly string[];
  /** Times a lost worker thread is replaced before the fit fails with `WORKER_LOST`. Default 1. */
  readonly retries?: number;
}

/** The option table of {@link threadShards}. @category Sharding */
export const THREAD_SHARDS_OPTIONS = {
  workers: { type: 'integer', min: 1, max: 1024, description: 'worker threads (default: the number of cores)' },
  modules: {
    type: 'custom',
    shape: 'an array of module specifiers (strings)',
    description: 'modules the workers import (plug-ins registering the model or E-step)',
    check: (v, path) => {
      if (!Array.isArray(v) || v.some((m) => typeof m !== 'string' || m.length === 0)) throw emError('INVALID_ARGUMENT', path, v, 'must be an array of non-empty module specifiers', "pass e.g. modules: ['./my-model.js']");
      return v as string[];
    },
  },
  retries: { type: 'integer', min: 0, max: 10, default: 1, description: 'replacements of a lost worker thread before the fit fails' },
} as const satisfies OptionSchema;

/** Packages a worker imports when they are installed: they register the built-in models and E-steps. @internal */
export const BUILT_IN_MODULES: readonly string[] = ['@emlab/models', '@emlab/exact', '@emlab/variational', '@emlab/montecarlo'];

/** The worker entry: the built `dist/node/shard-worker.js` (also when core runs from `src` under vitest). @internal */
export function shardWorkerScript(): URL {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../../dist/node/shard-worker.js', here) : new URL('./shard-worker.js', here);
  if (!existsSync(fileURLToPath(url))) {
    throw new EmError('INTERNAL', `the shard worker script ${fileURLToPath(url)} is missing. Remedy: build @emlab/core (npx tsc -b packages/core) or fit with workers: 1`, { path: ['options', 'workers'] });
  }
  return url;
}

/**
 * `execArgv` for worker threads: the parent's, without `--conditions`/`-C`, so that workers load the
 * built files even when the parent runs from sources (vitest). Used by every emlab worker pool.
 * @category Node
 */
export function threadExecArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--conditions' || a === '-C') {
      i++;
      continue;
    }
    if (a.startsWith('--conditions=') || a.startsWith('-C=')) continue;
    out.push(a);
  }
  return out;
}

/** A copy of `a` in shared memory (threads then read it without copies). @internal */
export function toShared<T extends ShardArray>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const Ctor = a.constructor as new (b: SharedArrayBuffer) => T;
  const out = new Ctor(new SharedArrayBuffer(a.byteLength));
  (out as unknown as { set(x: ArrayLike<number>): void }).set(a);
  return out;
}

/** Message from a worker thread. */
type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'reply'; readonly id: number; readonly reply: ShardReply | null }
  | { readonly type: 'error'; readonly id: number | null; readonly error: { readonly code: string; readonly message: string } };

/** Setup of one shard of one session, as a thread gets it. */
type SessionSetup = ShardWorkerSetup;

class LostThread extends Error {}

/**
 * One worker thread, started once and reused by every fit of its engine: it keeps its backend and
 * imported modules, and holds one shard of each open session. A thread that dies is started again and
 * given its open sessions back. Idle threads do not keep the process alive.
 */
class ShardThread {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, { resolve: (r: ShardReply | null) => void; reject: (e: unknown) => void }>();
  private readonly sessions = new Map<number, SessionSetup>();
  private nextId = 0;

  constructor(
    readonly index: number,
    private readonly boot: { readonly modules: readonly string[]; readonly backend: string },
  ) {}

  private spawn(): Promise<void> {
    const worker = new Worker(shardWorkerScript(), { workerData: this.boot, execArgv: threadExecArgv(process.execArgv) });
    this.worker = worker;
    return new Promise<void>((resolveReady, rejectReady) => {
      let started = false;
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          started = true;
          if (this.pending.size === 0) worker.unref();
          resolveReady();
          return;
        }
        if (m.type === 'error' && m.id === null) {
          rejectReady(new EmError(m.error.code as never, m.error.message, { path: ['options', 'workers'] }));
          return;
        }
        const p = this.pending.get(m.id as number);
        if (p === undefined) return;
        this.pending.delete(m.id as number);
        if (this.pending.size === 0) worker.unref();
        if (m.type === 'reply') p.resolve(m.reply);
        else p.reject(new EmError(m.error.code as never, m.error.message, { path: ['options', 'workers'] }));
      });
      const die = (why: string): void => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.ready = undefined;
        if (!started) rejectReady(emError('WORKER_LOST', ['options', 'workers'], this.index, `a worker thread failed to start (${why})`, 'build the packages (npm run build) and check that the plug-in modules load in a worker'));
        const inFlight = [...this.pending.values()];
        this.pending.clear();
        for (const p of inFlight) p.reject(new LostThread(why));
      };
      worker.on('error', (e) => die(e.message));
      worker.on('exit', (code) => die(`exit code ${code}`));
    });
  }

  /** Sends a message and waits for its reply (starting the thread, and reopening its sessions, when needed). */
  private async call(message: Record<string, unknown>, reopen: boolean): Promise<ShardReply | null> {
    if (this.worker === undefined || this.ready === undefined) {
      this.ready = this.spawn();
      await this.ready;
      if (reopen) {
        for (const [session, setup] of this.sessions) {
          // The session being opened by this very message is not opened twice.
          if (message['type'] === 'open' && message['session'] === session) continue;
          await this.call({ type: 'open', session, setup }, false);
        }
      }
    }
    await this.ready;
    const worker = this.worker as unknown as Worker;
    const id = this.nextId++;
    return new Promise<ShardReply | null>((resolveReply, rejectReply) => {
      this.pending.set(id, { resolve: resolveReply, reject: rejectReply });
      worker.ref();
      worker.postMessage({ ...message, id });
    });
  }

  async open(session: number, setup: SessionSetup): Promise<void> {
    this.sessions.set(session, setup);
    await this.call({ type: 'open', session, setup }, true);
  }

  /** The shard's reply; a thread that dies meanwhile is replaced up to `retries` times per session. */
  async evaluate(session: number, request: ShardRequest, budget: { lost: number; readonly retries: number }): Promise<ShardReply> {
    for (;;) {
      try {
        return (await this.call({ type: 'evaluate', session, request }, true)) as ShardReply;
      } catch (e) {
        if (!(e instanceof LostThread)) throw e;
        budget.lost++;
        if (budget.lost > budget.retries) {
          throw emError('WORKER_LOST', ['options', 'workers'], this.index, `worker thread ${this.index} died ${budget.lost} time(s) during this fit (last: ${e.message})`, 'check memory limits (each thread holds its shard of the data) or fit with fewer workers');
        }
      }
    }
  }

  async closeSession(session: number): Promise<void> {
    this.sessions.delete(session);
    if (this.worker === undefined) return;
    await this.call({ type: 'close', session }, false).catch(() => undefined);
  }

  async terminate(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (w === undefined) return;
    // An idle thread is unref'd, and re-ref'ing a worker that is being terminated does not reliably keep
    // the event loop alive (the process then ended with exit code 13, an unsettled await): hold the loop
    // with a timer until the thread has exited.
    const hold = setInterval(() => undefined, 1 << 30);
    try {
      await w.terminate();
    } finally {
      clearInterval(hold);
    }
  }
}

/** A {@link ShardEngine} on worker threads, with `close()` to stop its threads. @category Sharding */
export interface ThreadShardEngine extends ShardEngine {
  /** Stops the threads (they are started again by the next fit). Idle threads never keep the process alive. */
  close(): Promise<void>;
}

let sessions = 0;

/**
 * A shard engine on worker threads of this process: `fit(model, data, { workers: threadShards({ workers: 4 }) })`
 * (`workers: 4` uses a shared engine with the defaults). Each thread initializes the same TensorFlow.js
 * backend as this thread and imports the built-in packages and `modules` once; for each fit it rebuilds
 * the model and E-step from the registries and imports its shard of the prepared data from shared
 * memory. Threads are reused across fits.
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @example
 * ```ts
 * import '@emlab/core/node';
 * const result = await fit(gaussianMixture({ nComponents: 16 }), rows, { workers: 2 });
 * ```
 * @category Sharding
 */
export function threadShards(options: ThreadShardsOptions = {}): ThreadShardEngine {
  const o = parseOptions(THREAD_SHARDS_OPTIONS, options, { owner: 'threadShards', pathOf: (k) => ['options', 'workers', k] });
  const shards = (o['workers'] as number | undefined) ?? availableParallelism();
  const modules = ((o['modules'] as string[] | undefined) ?? []).map((m) => (m.startsWith('.') || isAbsolute(m) ? pathToFileURL(resolve(m)).href : m));
  const retries = o['retries'] as number;
  let threads: ShardThread[] | undefined;
  let backend: string | undefined;
  const threadsFor = (b: string): ShardThread[] => {
    if (threads === undefined || backend !== b) {
      for (const t of threads ?? []) void t.terminate();
      backend = b;
      threads = Array.from({ length: shards }, (_, i) => new ShardThread(i, { modules: [...BUILT_IN_MODULES, ...modules], backend: b }));
    }
    return threads;
  };
  return {
    kind: 'threads',
    shards,
    async close() {
      const ts = threads ?? [];
      threads = undefined;
      await Promise.all(ts.map((t) => t.terminate()));
    },
    async open(spec: ShardSessionSpec): Promise<ShardSession> {
      const hooks = spec.model.shard;
      if (hooks === undefined) throw emError('INVALID_ARGUMENT', ['options', 'workers'], spec.model.name, 'cannot shard: the model has no sharding hooks', 'fit with workers: 1');
      const payload = hooks.exportPrepared(spec.prepared, { share: toShared });
      const ts = threadsFor(currentBackend());
      const session = ++sessions;
      const budget = { lost: 0, retries };
      let closed = false;
      const close = async (): Promise<void> => {
        if (closed) return;
        closed = true;
        await Promise.all(ts.map((t) => t.closeSession(session)));
      };
      try {
        await Promise.all(ts.map((t, shard) => t.open(session, { model: shardModelSpec(spec.model), eStep: spec.eStep, payload, precisions: spec.precisions, shard, nShards: shards })));
      } catch (e) {
        await close();
        throw e;
      }
      return {
        shards,
        async evaluate(request) {
          if (closed) throw new EmError('INTERNAL', 'a closed shard session was asked to evaluate');
          try {
            return await Promise.all(ts.map((t) => t.evaluate(session, request, budget)));
          } catch (e) {
            await close();
            throw e;
          }
        },
        close,
      };
    },
  };
}

const shared = new Map<number, ThreadShardEngine>();

registerShardEngineFactory((workers) => {
  let engine = shared.get(workers);
  if (engine === undefined) shared.set(workers, (engine = threadShards({ workers })));
  return engine;
});
