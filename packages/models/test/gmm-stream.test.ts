// Gaussian mixtures over data larger than memory: a fit over a row cache (rows read from disk block
// by block, never the whole table) equals the in-memory fit of the same rows bit for bit (float32 and
// float64, k-means++ and random starts, exact and stochastic E-steps, data needing a column frame),
// also sharded over worker threads; missing entries and row weights are typed errors for now.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { type EmError, createRng, fit, omitTimings, toJson, type RowSource } from '@emlab/core';
import { openRowSource, threadShards } from '@emlab/core/node';
import '@emlab/exact';
import '@emlab/montecarlo';
import { gaussianMixture } from '../src/index.js';

/** The error a promise rejects with (a promise that resolves fails the test). */
const failure = (p: Promise<unknown>): Promise<EmError> =>
  p.then(
    () => {
      throw new Error('expected an error');
    },
    (x: unknown) => x as EmError,
  );

let dir: string;
const engine = threadShards({ workers: 2 });
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emlab-stream-'));
});
afterAll(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

async function table(name: string, rows: number[][]): Promise<RowSource> {
  const path = join(dir, `${name}.csv`);
  await writeFile(path, `${rows[0]?.map((_, c) => `c${c}`).join(',')}\n${rows.map((r) => r.map((v) => (Number.isNaN(v) ? '' : String(v))).join(',')).join('\n')}\n`);
  return openRowSource(path, { cacheDir: join(dir, 'cache') });
}

const rng = createRng(4).child('stream');
const rows = Array.from({ length: 10_000 }, (_, i) => Array.from({ length: 3 }, (_, j) => (i % 3) * 1.4 + (j === i % 3 ? 1 : 0) + rng.normal()));
// A column at 1e-60 scale: prepared data get a frame (per-column powers of two).
const scaled = rows.map((r) => [r[0] as number, (r[1] as number) * 1e-60, r[2] as number]);

describe('streamed Gaussian-mixture fits equal in-memory fits', () => {
  it('float32 and float64, exact and stochastic, k-means++ and random starts, with restarts', async () => {
    const src = await table('plain', rows);
    const before = tf.memory().numTensors;
    for (const [precision, eStep, init] of [['float32', 'exact', 'kmeans++'], ['float64', 'stochastic', 'random'], ['float64', 'exact', 'kmeans++']] as const) {
      const o = { seed: 3, maxIter: 4, tol: 0, precision, eStep, init, nInit: 2, onWarning: () => undefined };
      const a = await fit(gaussianMixture({ nComponents: 3 }), rows, o);
      const b = await fit(gaussianMixture({ nComponents: 3 }), src, o);
      expect(toJson(omitTimings(b))).toBe(toJson(omitTimings(a)));
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(src.stats?.rowsRead).toBeGreaterThan(10 * rows.length);
  });

  it('data with a column frame, precision auto, and sharded over two worker threads', async () => {
    const src = await table('scaled', scaled);
    const o = { seed: 8, maxIter: 5, tol: 1e-8, onWarning: () => undefined };
    const a = await fit(gaussianMixture({ nComponents: 3 }), scaled, o);
    const b = await fit(gaussianMixture({ nComponents: 3 }), src, o);
    const c = await fit(gaussianMixture({ nComponents: 3 }), src, { ...o, workers: engine });
    expect(a.params.scale).toBeUndefined();
    expect(toJson(omitTimings(b))).toBe(toJson(omitTimings(a)));
    expect(toJson(omitTimings(c))).toBe(toJson(omitTimings(a)));
  });

  it('rejects missing entries and row weights with typed errors', async () => {
    const holes = rows.slice(0, 50).map((r, i) => (i === 7 ? [Number.NaN, r[1] as number, r[2] as number] : r));
    const src = await table('holes', holes);
    const e = await failure(fit(gaussianMixture({ nComponents: 2 }), src));
    expect([e.code, e.path]).toEqual(['INVALID_DATA', ['data']]);
    const plain = await table('plain', rows);
    const w = await failure(fit(gaussianMixture({ nComponents: 2 }), plain, { weights: rows.map(() => 1) }));
    expect([w.code, w.path]).toEqual(['INVALID_ARGUMENT', ['options', 'weights']]);
  });
});
