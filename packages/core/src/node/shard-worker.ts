/**
 * Worker-thread entry of {@link threadShards} (`dist/node/shard-worker.js`): initializes the same
 * TensorFlow.js backend as the parent, imports the modules that register models and E-steps, builds a
 * {@link ShardWorker} from `workerData`, then answers `evaluate` messages with the shard's block
 * outcomes. Errors are sent back as `{ code, message }` (EmErrors keep their code).
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, type BackendName } from '../backend.js';
import { EmError } from '../errors.js';
import { ShardWorker, type ShardRequest, type ShardWorkerSetup } from '../shard.js';
import { BUILT_IN_MODULES } from './shard-threads.js';

const setup = workerData as ShardWorkerSetup & { readonly modules: readonly string[]; readonly backend: string };
const port = parentPort;

const asError = (e: unknown): { code: string; message: string } =>
  e instanceof EmError ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: `a shard worker failed: ${(e as Error)?.stack ?? String(e)}` };

async function start(): Promise<ShardWorker> {
  await initBackend(setup.backend as BackendName);
  for (const spec of setup.modules) {
    try {
      await import(spec);
    } catch (e) {
      // The built-in packages are optional (a plug-in model may need none of them).
      if (BUILT_IN_MODULES.includes(spec) && (e as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND') continue;
      throw new EmError('INVALID_ARGUMENT', `options.workers.modules: ${JSON.stringify(spec)} cannot be imported in a worker thread (${(e as Error).message}). Remedy: check the module path and that it loads with node`, { path: ['options', 'workers', 'modules'], value: spec, cause: e });
    }
  }
  return new ShardWorker(setup);
}

if (port !== null) {
  const ready = start();
  ready.then(
    () => port.postMessage({ type: 'ready' }),
    (e: unknown) => port.postMessage({ type: 'error', id: null, error: asError(e) }),
  );
  port.on('message', (m: { type: 'evaluate'; id: number; request: ShardRequest }) => {
    void (async () => {
      try {
        const worker = await ready;
        const reply = await worker.evaluate(m.request);
        port.postMessage({ type: 'reply', id: m.id, reply });
      } catch (e) {
        port.postMessage({ type: 'error', id: m.id, error: asError(e) });
      }
    })();
  });
}
