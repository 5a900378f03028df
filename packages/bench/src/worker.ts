/**
 * Worker-thread entry of the suite runner (`dist/worker.js`, run by a piscina
 * pool). `workerData` is `{ suite, baseDir }`; each task is a `RunTask` and
 * the answer its `RunOutcome`. The worker initializes its own TensorFlow.js
 * backend and imports the suite's plug-ins once (registries are per thread).
 * A crash here (a thrown error that is not an EmError, `process.exit`, out of
 * memory) rejects the task; the runner records it and tries again.
 * @module
 */
import { workerData } from 'node:worker_threads';
import { initBackend } from '@emlab/core';
import { RunContext, importPlugins, runTask, type RunOutcome, type RunTask } from './run-one.js';
import type { Suite } from './suite-schema.js';

const setup = workerData as { suite: Suite; baseDir: string };
let ready: Promise<RunContext> | undefined;

/** Runs one task (piscina's task function). @internal */
export default async function run(task: RunTask): Promise<RunOutcome | null> {
  ready ??= (async () => {
    await initBackend();
    await importPlugins(setup.suite.plugins, setup.baseDir);
    return new RunContext(setup.suite, setup.baseDir);
  })();
  return runTask(await ready, task);
}
