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
import { registerShardEngineFactory, type ShardArray, type ShardEngine, type ShardReply, type ShardRequest, type ShardSession, type ShardSessionSpec, type ShardWorkerSetup } from '../shard.js';

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

/** `execArgv` for worker threads: the parent's, without `--conditions`/`-C` (workers load built files). @internal */
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
  | { readonly type: 'reply'; readonly id: number; readonly reply: ShardReply }
  | { readonly type: 'error'; readonly id: number | null; readonly error: { readonly code: string; readonly message: string } };

/** One worker thread serving one shard, replaced when it dies. */
class ShardThread {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private pending = new Map<number, { resolve: (r: ShardReply) => void; reject: (e: unknown) => void }>();
  private nextId = 0;
  private lost = 0;
  private closing = false;

  constructor(
    private readonly setup: ShardWorkerSetup & { readonly modules: readonly string[]; readonly backend: string },
    private readonly retries: number,
  ) {}

  private spawn(): Promise<void> {
    const worker = new Worker(shardWorkerScript(), { workerData: this.setup, execArgv: threadExecArgv(process.execArgv) });
    this.worker = worker;
    return new Promise<void>((resolveReady, rejectReady) => {
      let started = false;
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          started = true;
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
        if (m.type === 'reply') p.resolve(m.reply);
        else p.reject(new EmError(m.error.code as never, m.error.message, { path: ['options', 'workers'] }));
      });
      const die = (why: string): void => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.ready = undefined;
        if (!started) rejectReady(emError('WORKER_LOST', ['options', 'workers'], this.setup.shard, `worker thread for shard ${this.setup.shard} failed to start (${why})`, 'build the packages (npm run build) and check that the plug-in modules load in a worker'));
        const inFlight = [...this.pending.values()];
        this.pending.clear();
        for (const p of inFlight) p.reject(new LostThread(why));
      };
      worker.on('error', (e) => die(e.message));
      worker.on('exit', (code) => {
        if (!this.closing) die(`exit code ${code}`);
      });
    });
  }

  async evaluate(request: ShardRequest): Promise<ShardReply> {
    for (;;) {
      try {
        this.ready ??= this.spawn();
        await this.ready;
        const worker = this.worker as Worker;
        const id = this.nextId++;
        return await new Promise<ShardReply>((resolveReply, rejectReply) => {
          this.pending.set(id, { resolve: resolveReply, reject: rejectReply });
          worker.postMessage({ type: 'evaluate', id, request });
        });
      } catch (e) {
        if (!(e instanceof LostThread) || this.closing) throw e;
        this.lost++;
        if (this.lost > this.retries) {
          throw emError('WORKER_LOST', ['options', 'workers'], this.setup.shard, `the worker thread of shard ${this.setup.shard} died ${this.lost} times (last: ${e.message})`, 'check memory limits (each thread holds its shard of the data) or fit with fewer workers');
        }
      }
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    const w = this.worker;
    this.worker = undefined;
    if (w !== undefined) await w.terminate();
  }
}

class LostThread extends Error {}

/**
 * A shard engine on worker threads of this process: `fit(model, data, { workers: threadShards({ workers: 4 }) })`
 * (`workers: 4` is the same with the defaults). Each thread initializes the same TensorFlow.js backend
 * as this thread, imports the built-in packages and `modules`, rebuilds the model and E-step from the
 * registries, and imports its shard of the prepared data from shared memory.
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @example
 * ```ts
 * import '@emlab/core/node';
 * const result = await fit(gaussianMixture({ nComponents: 16 }), rows, { workers: 2 });
 * ```
 * @category Sharding
 */
export function threadShards(options: ThreadShardsOptions = {}): ShardEngine {
  const o = parseOptions(THREAD_SHARDS_OPTIONS, options, { owner: 'threadShards', pathOf: (k) => ['options', 'workers', k] });
  const shards = (o['workers'] as number | undefined) ?? availableParallelism();
  const modules = ((o['modules'] as string[] | undefined) ?? []).map((m) => (m.startsWith('.') || isAbsolute(m) ? pathToFileURL(resolve(m)).href : m));
  const retries = o['retries'] as number;
  return {
    kind: 'threads',
    shards,
    async open(spec: ShardSessionSpec): Promise<ShardSession> {
      const hooks = spec.model.shard;
      if (hooks === undefined) throw emError('INVALID_ARGUMENT', ['options', 'workers'], spec.model.name, 'cannot shard: the model has no sharding hooks', 'fit with workers: 1');
      const payload = hooks.exportPrepared(spec.prepared, { share: toShared });
      const threads = Array.from({ length: shards }, (_, shard) =>
        new ShardThread({ model: { name: spec.model.name, options: spec.model.options }, eStep: spec.eStep, payload, precisions: spec.precisions, shard, nShards: shards, modules: [...BUILT_IN_MODULES, ...modules], backend: currentBackend() }, retries));
      let closed = false;
      const close = async (): Promise<void> => {
        if (closed) return;
        closed = true;
        await Promise.all(threads.map((t) => t.close()));
      };
      return {
        shards,
        async evaluate(request) {
          if (closed) throw new EmError('INTERNAL', 'a closed shard session was asked to evaluate');
          try {
            return await Promise.all(threads.map((t) => t.evaluate(request)));
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

registerShardEngineFactory((workers) => threadShards({ workers }));
