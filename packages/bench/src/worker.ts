/**
 * Worker-thread entry of the suite runner (loaded from `dist/worker.js`).
 *
 * Protocol: the parent sends `{ type: 'setup', suite, baseDir }` once, then
 * `{ type: 'run', task }` messages; the worker answers each run with
 * `{ type: 'done', index, outcome }` or `{ type: 'failed', index, message }`.
 * The worker initializes its own TensorFlow.js backend and imports the
 * suite's plug-ins itself (registries are per thread).
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { initBackend } from '@emlab/core';
import { RunContext, importPlugins, runTask, type RunTask } from './run-one.js';
import type { Suite } from './suite-types.js';

type Message = { type: 'setup'; suite: Suite; baseDir: string } | { type: 'run'; task: RunTask };

if (parentPort !== null) {
  const port = parentPort;
  let ready: Promise<RunContext> | undefined;
  port.on('message', (msg: Message) => {
    if (msg.type === 'setup') {
      ready = (async () => {
        await initBackend();
        await importPlugins(msg.suite.plugins, msg.baseDir);
        return new RunContext(msg.suite, msg.baseDir);
      })();
      return;
    }
    const task = msg.task;
    void (async () => {
      try {
        if (ready === undefined) throw new Error('worker received a run before setup');
        const ctx = await ready;
        const outcome = await runTask(ctx, task);
        port.postMessage({ type: 'done', index: task.index, outcome });
      } catch (e) {
        port.postMessage({ type: 'failed', index: task.index, message: (e as Error).stack ?? String(e) });
      }
    })();
  });
}
