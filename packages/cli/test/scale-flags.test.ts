// The scaling flag helpers the commands wire: --workers/--queue/--shards for fit, --stream, --queue for
// bench, and `emlab worker`'s flag checks; every error names its flag.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmError, isShardEngine } from '@emlab/core';
import { benchQueueFromFlags, closeFitWorkers, fitWorkersFromFlags, streamedRowsFromFlags } from '../src/queue.js';
import { workerCommand } from '../src/worker.js';

const errorOf = (f: () => unknown): EmError => {
  try {
    f();
  } catch (e) {
    return e as EmError;
  }
  throw new Error('expected an error');
};

describe('scaling flags', () => {
  it('--workers, --queue and --shards give fit its workers option', async () => {
    expect(fitWorkersFromFlags({})).toBeUndefined();
    expect(fitWorkersFromFlags({ workers: '1' })).toBe(1);
    const threads = fitWorkersFromFlags({ workers: '3' });
    expect(isShardEngine(threads) && threads.kind === 'threads' && threads.shards === 3).toBe(true);
    await closeFitWorkers(threads);
    const remote = fitWorkersFromFlags({ queue: 'redis://127.0.0.1:6390', shards: '8' });
    expect(isShardEngine(remote) && remote.kind === 'queue' && remote.shards === 8).toBe(true);
    expect(errorOf(() => fitWorkersFromFlags({ workers: '0' })).path).toEqual(['--workers']);
    expect(errorOf(() => fitWorkersFromFlags({ queue: 'redis://h:1' })).path).toEqual(['--shards']);
    expect(errorOf(() => fitWorkersFromFlags({ queue: 'http://h', shards: '2' })).path).toEqual(['--queue']);
    expect(errorOf(() => fitWorkersFromFlags({ queue: 'redis://h:1', shards: '2', workers: '2' })).path).toEqual(['--workers']);
    expect(errorOf(() => fitWorkersFromFlags({ shards: '2' })).path).toEqual(['--shards']);
    expect(benchQueueFromFlags({ queue: 'redis://10.0.0.5:6379' })).toEqual({ url: 'redis://10.0.0.5:6379' });
    expect(errorOf(() => benchQueueFromFlags({ queue: 'redis:' })).path).toEqual(['--queue']);
  });

  it('--stream opens a row cache with progress on stderr; emlab worker checks --queue first', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emlab-cli-scale-'));
    try {
      await writeFile(join(dir, 'd.csv'), 'a,b\n1,2\n3,4\n5,6\n');
      const err: string[] = [];
      const rows = await streamedRowsFromFlags(join(dir, 'd.csv'), { 'cache-dir': join(dir, 'cache') }, (t) => err.push(t));
      expect([rows.nRows, rows.nColumns, Array.from(rows.read(1, 2))]).toEqual([3, 2, [3, 4, 5, 6]]);
      expect(err.join('')).toMatch(/3 rows × 2 columns/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const io = { stdout: () => undefined, stderr: () => undefined };
    expect((await workerCommand([], io).catch((e: unknown) => e as EmError)).path).toEqual(['--queue']);
    expect((await workerCommand(['--queue', 'redis://h:1', '--concurrency', '0'], io).catch((e: unknown) => e as EmError)).path).toEqual(['--concurrency']);
  });
});
