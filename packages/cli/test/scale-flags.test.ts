/**
 * The scaling flags of the command line: `emlab fit --workers N`, `--queue URL --shards S`,
 * `--stream [--cache-dir DIR]` (and .parquet/.arrow files), `emlab bench|compare --queue`, and
 * `emlab worker`. Flag errors run in-process through `main` (exit 2, one line naming the flag, the
 * value and a remedy); fits run in-process too and are compared with the plain fit of the same CSV
 * (bit-identical apart from timings). The queue case starts a real redis-server and an
 * `emlab worker` process (the built binary); without redis-server it is skipped with a message
 * (`.ci/run` installs it and sets EMLAB_REQUIRE_REDIS, so CI never skips).
 */
import { spawn } from 'node:child_process';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { createRng, omitTimings, toJson, type FitResult } from '@emlab/core';
import { main } from '../src/main.js';
import { BIN, expectUserError, type Run } from './run-cli.js';
import { redisMissing, startRedis, type RedisInstance } from '../../bench/test/redis-server.js';

let dir = '';
const file = (name: string): string => join(dir, name);

async function cli(args: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTty: false });
  return { code, signal: null, stdout, stderr };
}

/** A flag error in the house format, with no library path left in it. */
function expectFlagError(r: Run, ...patterns: RegExp[]): void {
  expectUserError(r, ...patterns);
  expect(r.stderr).not.toMatch(/TypeError|options\.|workers: 1\b/);
}

/** The JSON of a fit without its timings (what must not depend on workers, shards or streaming). */
function untimed(r: Run): string {
  expect(r.code, r.stderr).toBe(0);
  return toJson(omitTimings(JSON.parse(r.stdout) as FitResult));
}

const rng = createRng(31).child('cli-scale');
const N = 3000;
const cols = ['a', 'b', 'c'];
const rows = Array.from({ length: N }, (_, i) => cols.map((_, j) => (i % 3) * 1.5 + (j === i % 3 ? 1 : 0) + rng.normal()));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emlab-cli-scale-'));
  await writeFile(file('d.csv'), `${cols.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`);
  await writeFile(file('holes.csv'), 'a,b\n1,2\n,4\n5,6\n');
  const columns = Object.fromEntries(cols.map((c, j) => [c, Float64Array.from(rows, (r) => r[j] as number)]));
  await writeFile(file('d.arrow'), tableToIPC(tableFromArrays(columns), 'file'));
  await writeFile(file('suite.json'), JSON.stringify({ name: 'q', datasets: [{ id: 'd', csv: file('d.csv') }], models: [{ id: 'gmm', type: 'gmm', options: { nComponents: 2 } }], esteps: ['exact', 'hard'], seeds: [0, 1], stopping: { maxIter: 3 } }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('scaling flags: errors name the flag, the value and a remedy', () => {
  it('fit --workers, --queue, --shards, --stream, --cache-dir', async () => {
    const d = file('d.csv');
    const fit = (...flags: string[]): Promise<Run> => cli(['fit', d, '--components', '2', ...flags]);
    expectFlagError(await fit('--workers', '0'), /--workers = "0": must be an integer in \[1, 1024\]/);
    expectFlagError(await fit('--queue', 'http://h:1', '--shards', '2'), /--queue = "http:\/\/h:1": has scheme http, not redis or rediss\. Remedy: pass a Redis URL/);
    expectFlagError(await fit('--queue', 'redis://h:1/99', '--shards', '2'), /--queue = "redis:\/\/h:1\/99": names database "99"/);
    expectFlagError(await fit('--queue', 'redis://h:1'), /--shards: is needed with --queue\. Remedy: pass --shards S/);
    expectFlagError(await fit('--queue', 'redis://h:1', '--shards', '0'), /--shards = "0": must be an integer/);
    expectFlagError(await fit('--shards', '2'), /--shards = "2": needs --queue\. Remedy: pass --queue redis:\/\/HOST:PORT, or use --workers N/);
    expectFlagError(await fit('--queue', 'redis://h:1', '--shards', '2', '--workers', '2'), /--workers = "2": conflicts with --queue/);
    expectFlagError(await fit('--cache-dir', file('c')), /--cache-dir = ".*": applies to streamed data only\. Remedy: add --stream/);
    expectFlagError(await fit('--stream', '--cache-dir', join(d, 'sub')), /^emlab: error \[IO_ERROR\]: --cache-dir = ".*d\.csv\/sub": does not accept the cache file\. Remedy: pass a writable --cache-dir/);
    expectFlagError(await fit('--stream', '--weights-column', 'a'), /--weights-column = "a": is not supported with streamed rows/);
    // Nothing listens on port 1: a typed error at once, and no reconnecting client keeps the process alive.
    expectFlagError(await fit('--queue', 'redis://127.0.0.1:1', '--shards', '2'), /^emlab: error \[IO_ERROR\]: --queue = "redis:\/\/127\.0\.0\.1:1": Redis cannot be reached/);
    expectFlagError(await fit('--workers', '2', '--estep', 'incremental'), /--workers = "2": incremental: keeps state across iterations.*Remedy: fit it with no --workers/);
  });

  it('streamed rows: missing cells are named with the file', async () => {
    const r = await cli(['fit', file('holes.csv'), '--stream', '--cache-dir', file('cache'), '--components', '1']);
    expectUserError(r, /holes\.csv/, /missing/);
  });

  it('bench and compare --queue, emlab worker', async () => {
    expectFlagError(await cli(['bench', file('suite.json'), '--out', file('o'), '--queue', 'redis:']), /--queue = "redis:": /);
    expectFlagError(await cli(['bench', file('suite.json'), '--out', file('o'), '--queue', 'redis://h:1', '--workers', '2']), /--workers = "2": conflicts with --queue/);
    expectFlagError(await cli(['compare', file('d.csv'), '--components', '2', '--out', file('o'), '--queue', 'tcp://h:1']), /--queue = "tcp:\/\/h:1": has scheme tcp/);
    expectFlagError(await cli(['worker']), /--queue: is required\. Remedy: pass --queue redis:\/\/HOST:PORT/);
    expectFlagError(await cli(['worker', '--queue', 'redis://h:1', '--concurrency', '0']), /--concurrency = "0": must be an integer in \[1, 256\]/);
    expectFlagError(await cli(['worker', '--queue', 'redis://h:1', 'extra']), /unexpected extra arguments/);
    expectFlagError(await cli(['worker', '--queue', 'redis://127.0.0.1:1']), /^emlab: error \[IO_ERROR\]: --queue = "redis:\/\/127\.0\.0\.1:1": Redis cannot be reached/);
    const help = await cli(['worker', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--queue redis:\/\/HOST:PORT/);
    expect(help.stdout).toMatch(/--no-fits/);
    const fitHelp = await cli(['fit', '--help']);
    expect(fitHelp.stdout).toMatch(/Scale[\s\S]*--workers N[\s\S]*--queue[\s\S]*--shards S[\s\S]*--stream[\s\S]*--cache-dir DIR/);
  });
});

describe('scaling flags: the same fit, bit for bit', () => {
  it('--workers 2, --stream (CSV) and an Arrow file equal the plain fit', async () => {
    const base = ['--components', '3', '--max-iter', '4', '--tol', '0', '--seed', '5', '--json'];
    const plain = untimed(await cli(['fit', file('d.csv'), ...base]));
    const threads = untimed(await cli(['fit', file('d.csv'), ...base, '--workers', '2']));
    expect(threads).toBe(plain);
    const streamed = await cli(['fit', file('d.csv'), ...base, '--stream', '--cache-dir', file('cache')]);
    expect(untimed(streamed)).toBe(plain);
    const arrow = await cli(['fit', file('d.arrow'), ...base, '--workers', '2', '--cache-dir', file('cache')]);
    expect(untimed(arrow)).toBe(plain);
    const summary = await cli(['fit', file('d.arrow'), '--components', '3', '--max-iter', '2', '--cache-dir', file('cache')]);
    expect(summary.code, summary.stderr).toBe(0);
    expect(summary.stdout).toMatch(/d\.arrow: 3000 rows × 3 columns \(a, b, c\), streamed from a row cache on disk/);
  });
});

const missing = redisMissing();
if (missing !== undefined) console.warn(`emlab fit/bench --queue tests skipped: ${missing}`);

describe.skipIf(missing !== undefined)('--queue on a real redis-server with an emlab worker process', () => {
  let redis: RedisInstance | undefined;
  afterAll(async () => {
    await redis?.stop();
  });

  it('fit --queue --shards equals the plain fit; bench --queue writes the results; the worker stops on Ctrl-C', async () => {
    redis = await startRedis();
    const url = redis.url;
    const worker = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--concurrency', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    worker.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
    worker.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
    const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    try {
      const base = ['--components', '3', '--max-iter', '3', '--tol', '0', '--seed', '1', '--precision', 'float32', '--json'];
      const plain = untimed(await cli(['fit', file('d.csv'), ...base]));
      const queued = untimed(await cli(['fit', file('d.csv'), ...base, '--queue', url, '--shards', '3']));
      expect(queued).toBe(plain);
      const bench = await cli(['bench', file('suite.json'), '--out', file('q-out'), '--queue', url]);
      expect(bench.code, bench.stderr).toBe(0);
      const results = JSON.parse(await readFile(file('q-out/results.json'), 'utf8')) as { runs: { status: string }[] };
      expect(results.runs.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
      expect(err).toMatch(/emlab worker: ready on redis:\/\/127\.0\.0\.1:\d+/);
    } finally {
      worker.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(out).toMatch(/^\d+ job\(s\) done\n$/);
  }, 120_000);
});
