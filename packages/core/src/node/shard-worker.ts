/**
 * Worker-thread entry of {@link threadShards} (`dist/node/shard-worker.js`): initializes the same
 * TensorFlow.js backend as the parent and imports the modules that register models and E-steps (once
 * per thread), then serves messages: `open` builds a {@link ShardWorker} for one fit's shard, `evaluate`
 * answers with the shard's block outcomes, `close` frees it. Errors go back as `{ code, message }`
 * (EmErrors keep their code).
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, type BackendName } from '../backend.js';
import { EmError } from '../errors.js';
import { ShardWorker, type ShardRequest, type ShardWorkerSetup } from '../shard.js';
import { BUILT_IN_MODULES } from './shard-threads.js';
// Streamed data (row caches) are reopened in the worker by their locator.
import './row-cache.js';

const boot = workerData as { readonly modules: readonly string[]; readonly backend: string };
const port = parentPort;

const asError = (e: unknown): { code: string; message: string } =>
  e instanceof EmError ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: `a shard worker failed: ${(e as Error)?.stack ?? String(e)}` };

async function start(): Promise<void> {
  await initBackend(boot.backend as BackendName);
  for (const spec of boot.modules) {
    try {
      await import(spec);
    } catch (e) {
      // The built-in packages are optional (a plug-in model may need none of them).
      if (BUILT_IN_MODULES.includes(spec) && (e as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND') continue;
      throw new EmError('INVALID_ARGUMENT', `options.workers.modules: ${JSON.stringify(spec)} cannot be imported in a worker thread (${(e as Error).message}). Remedy: check the module path and that it loads with node`, { path: ['options', 'workers', 'modules'], value: spec, cause: e });
    }
  }
}

type Message =
  | { readonly type: 'open'; readonly id: number; readonly session: number; readonly setup: ShardWorkerSetup }
  | { readonly type: 'evaluate'; readonly id: number; readonly session: number; readonly request: ShardRequest }
  | { readonly type: 'close'; readonly id: number; readonly session: number };

if (port !== null) {
  const ready = start();
  const sessions = new Map<number, ShardWorker>();
  ready.then(
    () => port.postMessage({ type: 'ready' }),
    (e: unknown) => port.postMessage({ type: 'error', id: null, error: asError(e) }),
  );
  // Messages are handled one at a time, in order.
  let queue: Promise<void> = ready.catch(() => undefined);
  port.on('message', (m: Message) => {
    queue = queue.then(async () => {
      try {
        if (m.type === 'open') {
          sessions.get(m.session)?.dispose();
          sessions.set(m.session, new ShardWorker(m.setup));
          port.postMessage({ type: 'reply', id: m.id, reply: null });
        } else if (m.type === 'evaluate') {
          const worker = sessions.get(m.session);
          if (worker === undefined) throw new EmError('INTERNAL', `shard session ${m.session} is not open in this worker`);
          port.postMessage({ type: 'reply', id: m.id, reply: await worker.evaluate(m.request) });
        } else {
          sessions.get(m.session)?.dispose();
          sessions.delete(m.session);
          port.postMessage({ type: 'reply', id: m.id, reply: null });
        }
      } catch (e) {
        port.postMessage({ type: 'error', id: m.id, error: asError(e) });
      }
    });
  });
}
