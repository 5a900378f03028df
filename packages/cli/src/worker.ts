/**
 * `emlab worker --queue redis://HOST:PORT [--concurrency N] [--no-fits] [--module M]…`: take runs of
 * distributed suites (`emlab bench --queue`) and shards of distributed fits (`emlab fit --queue`)
 * until Ctrl-C (the run in progress is finished first; a second Ctrl-C ends the process, and the
 * queue gives that run to another worker). For the command line to wire.
 * @module
 */
import { emError } from '@emlab/core';
import { parseRedisUrl, runWorker, type WorkerEvent } from '@emlab/bench';
import { flagNumber } from './internal/numbers.js';
import { parseFlags, text, texts, on } from './internal/parse-flags.js';

/** Usage of `emlab worker`. @category CLI */
export const WORKER_USAGE = `  emlab worker --queue redis://HOST:PORT [--concurrency N] [--no-fits] [--module M]...
                                              take suite runs and fit shards from a queue (docs/scaling.md)`;

/**
 * Runs `emlab worker` with `args` (after the command name); returns the exit code (0 after Ctrl-C).
 * @throws EmError `INVALID_ARGUMENT` naming the flag, `IO_ERROR` when Redis cannot be reached.
 * @category CLI
 */
export async function workerCommand(args: readonly string[], io: { readonly stdout: (t: string) => void; readonly stderr: (t: string) => void }, signal?: AbortSignal): Promise<number> {
  const parsed = parseFlags(args, [
    { name: 'queue', value: 'URL', description: 'Redis URL' },
    { name: 'concurrency', value: 'N', description: 'jobs at once' },
    { name: 'no-fits', description: 'suite runs only' },
    { name: 'module', value: 'M', repeatable: true, description: 'plug-in modules' },
  ], 'emlab worker --help');
  const queue = text(parsed, 'queue');
  const modules = texts(parsed, 'module');
  const values = { queue, concurrency: text(parsed, 'concurrency'), 'no-fits': on(parsed, 'no-fits'), module: modules.length === 0 ? undefined : [...modules] };
  if (values.queue === undefined) throw emError('INVALID_ARGUMENT', ['--queue'], undefined, 'is required', 'pass --queue redis://HOST:PORT (the Redis of the submitting machine)');
  const url: string = values.queue;
  parseRedisUrl(url, ['--queue']);
  const concurrency = flagNumber('concurrency', values.concurrency, 'int', 1, 256);
  const controller = new AbortController();
  signal?.addEventListener('abort', () => controller.abort(), { once: true });
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    io.stderr('stopping after the current run (Ctrl-C again to stop now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const { processed } = await runWorker({
      queue: url,
      ...(concurrency === undefined ? {} : { concurrency }),
      fits: values['no-fits'] !== true,
      ...(values.module === undefined ? {} : { modules: values.module }),
      signal: controller.signal,
      onEvent: (e: WorkerEvent) => {
        if (e.type === 'ready') io.stderr(`worker ready on ${url}\n`);
        else if (e.type === 'done') io.stderr(`done ${e.run ?? e.jobId}\n`);
        else if (e.type === 'failed') io.stderr(`failed ${e.run ?? ''} ${e.message ?? ''}\n`);
      },
    });
    io.stdout(`${processed} job(s) done\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
