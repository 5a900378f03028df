/**
 * Flag helpers for scaling on the command line, for the commands to wire:
 * `emlab fit --workers N` (worker threads) or `--queue redis://… --shards N`
 * (remote workers), `emlab fit big.csv|big.parquet|big.arrow --stream` (rows
 * read from disk block by block), and `emlab bench --queue redis://…`.
 * Each returns the value of the library option it stands for, checked before
 * any work, with errors naming the flag.
 * @module
 */
import { emError, isShardEngine, type RowSource, type ShardEngine } from '@emlab/core';
import { openRowSource, threadShards } from '@emlab/core/node';
import { parseRedisUrl, queueShards, type SuiteQueueOptions } from '@emlab/bench';
import { flagNumber } from './internal/numbers.js';

/** Flags of `emlab fit` for sharding. @category CLI */
export const FIT_SCALE_FLAGS = {
  workers: { type: 'string' },
  queue: { type: 'string' },
  shards: { type: 'string' },
  stream: { type: 'boolean' },
  'cache-dir': { type: 'string' },
} as const;

/** Usage lines of the flags above. @category CLI */
export const FIT_SCALE_USAGE = `      [--workers N]                 shard each E-step over N worker threads (same result for every N)
      [--queue redis://H:P --shards S]   shard over remote workers (emlab worker --queue …)
      [--stream [--cache-dir DIR]]  read the rows from disk block by block (CSV, Parquet, Arrow; data larger than memory)`;

/**
 * `fit`'s `workers` option from `--workers N` and `--queue URL --shards S` (undefined: one thread).
 * @throws EmError `INVALID_ARGUMENT` naming the flag.
 * @category CLI
 */
export function fitWorkersFromFlags(flags: { readonly workers?: string; readonly queue?: string; readonly shards?: string }): number | ShardEngine | undefined {
  const workers = flagNumber('workers', flags.workers, 'int', 1, 1024);
  if (flags.queue !== undefined) {
    parseRedisUrl(flags.queue, ['--queue']);
    if (workers !== undefined) throw emError('INVALID_ARGUMENT', ['--workers'], workers, 'conflicts with --queue (the queue\'s workers do the work)', 'pass --shards S with --queue, or drop --queue to use worker threads');
    const shards = flagNumber('shards', flags.shards, 'int', 1, 100_000);
    if (shards === undefined) throw emError('INVALID_ARGUMENT', ['--shards'], undefined, 'is needed with --queue', 'pass --shards S (a multiple of the workers\' total concurrency, e.g. 8)');
    return queueShards({ queue: flags.queue, shards });
  }
  if (flags.shards !== undefined) throw emError('INVALID_ARGUMENT', ['--shards'], flags.shards, 'needs --queue', 'pass --queue redis://HOST:PORT, or use --workers N for threads');
  if (workers === undefined || workers === 1) return workers;
  return threadShards({ workers });
}

/** Whether `fit`'s workers value uses threads of this process that should be closed after the fit. @category CLI */
export async function closeFitWorkers(workers: number | ShardEngine | undefined): Promise<void> {
  if (isShardEngine(workers) && typeof (workers as { close?: unknown }).close === 'function') await (workers as unknown as { close(): Promise<void> }).close();
}

/**
 * The rows of `emlab fit <file> --stream`: converted once to a row cache (a progress line on stderr every
 * 2²⁰ rows), then read block by block by the fit.
 * @throws EmError `IO_ERROR`, `PARSE_ERROR`, `INVALID_DATA` naming the file (and row and column).
 * @category CLI
 */
export async function streamedRowsFromFlags(file: string, flags: { readonly 'cache-dir'?: string }, stderr: (text: string) => void): Promise<RowSource> {
  const t0 = performance.now();
  const rows = await openRowSource(file, {
    ...(flags['cache-dir'] === undefined ? {} : { cacheDir: flags['cache-dir'] }),
    onProgress: (p) => {
      if (p.rows % 2 ** 20 === 0) stderr(`converting ${file}: ${p.rows} rows (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
    },
  });
  stderr(`${file}: ${rows.nRows} rows × ${rows.nColumns} columns, read from the row cache block by block\n`);
  return rows;
}

/**
 * `runSuite`'s `queue` option from `emlab bench --queue URL` (undefined: run on this machine).
 * @throws EmError `INVALID_ARGUMENT` naming `--queue`.
 * @category CLI
 */
export function benchQueueFromFlags(flags: { readonly queue?: string }): SuiteQueueOptions | undefined {
  if (flags.queue === undefined) return undefined;
  parseRedisUrl(flags.queue, ['--queue']);
  return { url: flags.queue };
}
