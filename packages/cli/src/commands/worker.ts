/**
 * `emlab worker --queue redis://HOST:PORT [--concurrency N] [--no-fits] [--plugin FILE.js]...`: takes
 * runs of distributed suites (`emlab bench --queue`, `emlab compare --queue`) and shards of
 * distributed fits (`emlab fit --queue`) until Ctrl-C. The job in progress is finished first; a second
 * Ctrl-C ends the process, and the queue gives that job to another worker.
 * @module
 */
import type { WorkerEvent } from '@emlab/bench';
import { NO_VALUE, badFlag } from '../internal/cli-error.js';
import { commandFlags, commandSpec, type CommandSpec } from '../internal/commands.js';
import type { CliIo } from '../internal/io.js';
import { flagNumber } from '../internal/numbers.js';
import { on, parseFlags, positionalArgs, text, texts } from '../internal/parse-flags.js';
import { importPlugins, pluginPaths } from '../internal/plugins.js';
import { loadBuiltins } from '../internal/builtins.js';
import { benchQueueFlag } from '../internal/scale-flags.js';

/**
 * Runs `emlab worker` (`args` after `worker`).
 * @returns the exit code: 0 after Ctrl-C (or `signal`).
 * @throws EmError `INVALID_ARGUMENT` naming the flag; `IO_ERROR` naming `--queue` when Redis cannot be reached.
 */
export async function runWorkerCommand(args: readonly string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const parsed = parseFlags(args, commandFlags(commandSpec('worker') as CommandSpec), 'emlab worker --help');
  positionalArgs(parsed.positionals, [], 'emlab worker --queue redis://10.0.0.5:6379');
  const queue = benchQueueFlag(parsed);
  if (queue === undefined) throw badFlag('--queue', NO_VALUE, 'is required', 'pass --queue redis://HOST:PORT (the Redis server of the submitting emlab bench or emlab fit)');
  const concurrency = flagNumber('concurrency', text(parsed, 'concurrency'), 'int', 1, 256);
  const plugins = texts(parsed, 'plugin');
  await loadBuiltins();
  await importPlugins(plugins);
  const { runWorker } = await import('@emlab/bench');
  const controller = new AbortController();
  signal?.addEventListener('abort', () => controller.abort(), { once: true });
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130); // second Ctrl-C: leave now; the queue reassigns the job
    io.stderr('emlab worker: stopping after the job in progress (press Ctrl-C again to stop at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const { processed } = await runWorker({
      queue,
      ...(concurrency === undefined ? {} : { concurrency }),
      fits: !on(parsed, 'no-fits'),
      ...(plugins.length === 0 ? {} : { modules: pluginPaths(plugins) }),
      signal: controller.signal,
      onEvent: (e: WorkerEvent) => {
        if (e.type === 'ready') io.stderr(`emlab worker: ready on ${queue}\n`);
        else if (e.type === 'done') io.stderr(`emlab worker: done ${e.run ?? e.jobId ?? ''}\n`);
        else if (e.type === 'failed') io.stderr(`emlab worker: failed ${e.run ?? e.jobId ?? ''}: ${e.message ?? ''}\n`);
      },
    });
    io.stdout(`${processed} job(s) done\n`);
    return 0;
  } catch (e) {
    const { inFlagTerms } = await import('../internal/rephrase.js');
    throw inFlagTerms(e, {});
  } finally {
    process.off('SIGINT', onSigint);
  }
}
