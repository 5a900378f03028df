/**
 * The scaling flags: `emlab fit --workers N` (worker threads) or `--queue URL --shards S` (emlab
 * worker processes on a BullMQ queue), `--stream [--cache-dir DIR]` (rows read from disk block by
 * block; always for .parquet and .arrow files), and `--queue` of `emlab bench` and `compare`. Each
 * is checked before any work, with errors naming the flag, its value and a remedy.
 * @module
 */
import { extname } from 'node:path';
import type { ModelRegistration, RowSource, ShardEngine } from '@emlab/core';
import { NO_VALUE, asTyped, badFlag } from './cli-error.js';
import { flagNumber } from './numbers.js';
import { on, text, type ParsedFlags } from './parse-flags.js';
import { BIG_DATA_CELLS, type Progress } from './progress.js';

/** Extensions read as Parquet or Arrow (always streamed through a row cache). */
const COLUMNAR = new Set(['.parquet', '.pq', '.arrow', '.feather', '.ipc', '.arrows']);

/** What `emlab fit`'s scaling flags ask for, checked. */
export interface FitScale {
  /** `--workers N` (N > 1) or `--queue URL --shards S`; undefined: this thread. */
  readonly sharding?: { readonly kind: 'threads'; readonly workers: number } | { readonly kind: 'queue'; readonly url: string; readonly shards: number };
  /** `--stream` given, or implied by a .parquet/.arrow file. */
  readonly stream: boolean;
  /** `--cache-dir DIR`. */
  readonly cacheDir?: string;
  /** The flag (and its value) that library errors about `options.workers` are reported under. */
  readonly workersFlag?: { readonly flag: string; readonly value: string };
}

/**
 * `emlab fit`'s scaling flags for the data file `file` (undefined for models that read their own files).
 * @throws EmError `INVALID_ARGUMENT` naming the flag.
 */
export function fitScaleFlags(parsed: ParsedFlags, file: string | undefined): FitScale {
  const workersText = text(parsed, 'workers');
  const workers = flagNumber('workers', workersText, 'int', 1, 1024);
  const queue = text(parsed, 'queue');
  const shardsText = text(parsed, 'shards');
  const cacheDir = text(parsed, 'cache-dir');
  const columnar = file !== undefined && COLUMNAR.has(extname(file).toLowerCase());
  const stream = on(parsed, 'stream') || columnar;
  if (cacheDir !== undefined && !stream) throw badFlag('--cache-dir', cacheDir, 'applies to streamed data only', 'add --stream (CSV), or drop --cache-dir');
  if (queue !== undefined) {
    if (workers !== undefined) throw badFlag('--workers', workersText, "conflicts with --queue (the queue's emlab worker processes do the work)", 'pass --shards S with --queue, or drop --queue to use worker threads');
    checkRedisUrl(queue);
    if (shardsText === undefined) throw badFlag('--shards', NO_VALUE, 'is needed with --queue', "pass --shards S, e.g. the queue's workers in total (every S gives the same result)");
    const shards = flagNumber('shards', shardsText, 'int', 1, 100_000) as number;
    return { sharding: { kind: 'queue', url: queue, shards }, stream, ...(cacheDir === undefined ? {} : { cacheDir }), workersFlag: { flag: '--queue', value: queue } };
  }
  if (shardsText !== undefined) throw badFlag('--shards', shardsText, 'needs --queue', 'pass --queue redis://HOST:PORT, or use --workers N for worker threads');
  return {
    ...(workers === undefined || workers === 1 ? {} : { sharding: { kind: 'threads' as const, workers } }),
    stream,
    ...(cacheDir === undefined ? {} : { cacheDir }),
    ...(workersText === undefined ? {} : { workersFlag: { flag: '--workers', value: workersText } }),
  };
}

/** The Redis URL check of `@emlab/bench` without loading BullMQ (a URL with scheme redis or rediss and a host). */
function checkRedisUrl(url: string): void {
  const remedy = 'pass a Redis URL such as redis://127.0.0.1:6379 (redis://[user:password@]host[:port][/db], rediss:// for TLS)';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badFlag('--queue', url, 'is not a URL', remedy);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw badFlag('--queue', url, `has scheme ${u.protocol.replace(':', '')}, not redis or rediss`, remedy);
  if (u.hostname === '') throw badFlag('--queue', url, 'names no host', remedy);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !(/^\d+$/.test(db) && Number(db) <= 15)) throw badFlag('--queue', url, `names database ${JSON.stringify(db)}, not an integer in [0, 15]`, remedy);
}

/**
 * The model must accept what the flags ask: streamed rows (its registration says `rowSource`), no
 * row weights with streamed rows.
 * @throws EmError `INVALID_ARGUMENT` naming `--stream` or `--weights-column`.
 */
export function checkScaleApplies(scale: FitScale, registration: ModelRegistration, weightsColumn: string | undefined): void {
  if (!scale.stream) return;
  const data = registration.data ?? { format: 'numeric-table' as const };
  if (data.format !== 'numeric-table' || data.rowSource !== true) {
    throw badFlag('--stream', NO_VALUE, `model ${registration.name} does not read streamed rows (a .parquet or .arrow file is always streamed)`, 'fit a model that does (e.g. --model gmm), or give a CSV without --stream');
  }
  if (weightsColumn !== undefined) throw badFlag('--weights-column', weightsColumn, 'is not supported with streamed rows', 'drop --weights-column, or give a CSV without --stream (rows in memory)');
}

/** The worker engine of {@link FitScale.sharding}, and how to stop it after the fit. */
export interface FitWorkers {
  readonly workers?: ShardEngine;
  close(): Promise<void>;
}

/** Starts what `--workers` / `--queue` ask for (threads start lazily at the fit's first E-step). */
export async function fitWorkers(scale: FitScale): Promise<FitWorkers> {
  const s = scale.sharding;
  if (s === undefined) return { close: async () => undefined };
  if (s.kind === 'threads') {
    const { threadShards } = await import('@emlab/core/node');
    const engine = threadShards({ workers: s.workers });
    return { workers: engine, close: () => engine.close() };
  }
  const { queueShards } = await import('@emlab/bench');
  return { workers: asTyped('--queue', s.url, () => queueShards({ queue: s.url, shards: s.shards })), close: async () => undefined };
}

/**
 * The rows of a streamed data file: converted once to a row cache (a progress line every 2²⁰ rows),
 * then read block by block by the fit.
 * @throws EmError naming the file (row and column) for bad data, or the cache file it cannot write.
 */
export async function openStreamedRows(file: string, scale: FitScale, progress: Progress): Promise<RowSource> {
  const { openRowSource } = await import('@emlab/core/node');
  const t0 = performance.now();
  const open = (): Promise<RowSource> =>
    openRowSource(file, {
      ...(scale.cacheDir === undefined ? {} : { cacheDir: scale.cacheDir }),
      onProgress: (p) => {
        if (p.rows % 2 ** 20 === 0) progress.note(`converting ${file} to a row cache: ${p.rows} rows (${((performance.now() - t0) / 1000).toFixed(0)} s)`, true);
      },
    });
  const rows = await open();
  if (rows.nRows * rows.nColumns >= BIG_DATA_CELLS) progress.markBig();
  progress.note(`${rows.nRows} rows × ${rows.nColumns} columns in the row cache, read block by block in every pass`);
  return rows;
}

/**
 * `runSuite`'s `queue` from `emlab bench|compare --queue URL` (undefined: run on this machine).
 * @throws EmError `INVALID_ARGUMENT` naming `--queue` (a bad URL, or with `--workers`).
 */
export function benchQueueFlag(parsed: ParsedFlags): string | undefined {
  const queue = text(parsed, 'queue');
  if (queue === undefined) return undefined;
  checkRedisUrl(queue);
  const workers = text(parsed, 'workers');
  if (workers !== undefined) throw badFlag('--workers', workers, "conflicts with --queue (the queue's emlab worker processes run the suite)", 'drop --workers, or drop --queue to run here');
  return queue;
}
