// Bad input: each a typed EmError naming the argument and value, raised before any work
// (no iteration callback, no tensors allocated).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { EmError, fit, type FitOptions } from '@emlab/core';
import '@emlab/exact';
import { gaussianMixture, type GmmParams } from '@emlab/models';

const rows = (n: number): number[][] => Array.from({ length: n }, (_, i) => [Math.sin(i) * 3 + (i % 2) * 5, Math.cos(i * 1.3)]);
const good = rows(40);

async function expectEmError(run: () => Promise<unknown> | unknown, code: string, pathPart: string | number, valueText?: string): Promise<EmError> {
  const before = tf.memory().numTensors;
  let caught: unknown;
  try {
    await run();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an EmError').toBeInstanceOf(EmError);
  const e = caught as EmError;
  expect(e.code).toBe(code);
  expect(e.path).toContain(pathPart);
  expect(e.message).toContain('Remedy:');
  if (valueText !== undefined) expect(e.message).toContain(valueText);
  expect(tf.memory().numTensors).toBe(before);
  return e;
}

describe('fit rejects bad data before any work', () => {
  const g = gaussianMixture({ nComponents: 2 });
  const noWork = (extra: FitOptions<GmmParams> = {}) => ({ ...extra, onIteration: () => { throw new Error('no iteration may run'); } });

  it('a column with no observed value (NaN marks a missing entry)', async () => {
    const data = rows(10);
    for (const r of data) (r as number[])[1] = Number.NaN;
    const e = await expectEmError(() => fit(g, data, noWork()), 'INVALID_DATA', 'column');
    expect(e.path).toEqual(['data', 'column', 1]);
    expect(e.message).toMatch(/Remedy: drop the column/);
  });
  it('Infinity', async () => {
    const data = rows(10);
    (data[0] as number[])[0] = Number.POSITIVE_INFINITY;
    await expectEmError(() => fit(g, data, noWork()), 'INVALID_DATA', 0, 'Infinity');
  });
  it('wrong rank (flat array, rank-1 and rank-3 tensors)', async () => {
    await expectEmError(() => fit(g, [1, 2, 3] as unknown as number[][], noWork()), 'INVALID_DATA', 'data');
    const t1 = tf.tensor1d([1, 2, 3]);
    const t3 = tf.zeros([2, 2, 2]);
    try {
      await expectEmError(() => fit(g, t1 as unknown as tf.Tensor2D, noWork()), 'INVALID_DATA', 'data', 'rank 1');
      await expectEmError(() => fit(g, t3 as unknown as tf.Tensor2D, noWork()), 'INVALID_DATA', 'data', 'rank 3');
    } finally {
      t1.dispose();
      t3.dispose();
    }
  });
  it('ragged rows', async () => {
    await expectEmError(() => fit(g, [[1, 2], [3]], noWork()), 'INVALID_DATA', 1);
  });
  it('zero rows', async () => {
    await expectEmError(() => fit(g, [], noWork()), 'INVALID_DATA', 'data', 'zero rows');
  });
  it('K > N', async () => {
    await expectEmError(() => fit(gaussianMixture({ nComponents: 5 }), rows(4), noWork()), 'INVALID_DATA', 'data', 'fewer than nComponents = 5');
  });
});

describe('model options', () => {
  it.each([
    [{ nComponents: 0 }, 'nComponents'],
    [{ nComponents: 2.5 }, 'nComponents'],
    [{ nComponents: Number.NaN }, 'nComponents'],
    [{ nComponents: 2, covarianceType: 'banana' }, 'covarianceType'],
    [{ nComponents: 2, regCovar: -1 }, 'regCovar'],
    [{ nComponents: 2, regCovar: Number.NaN }, 'regCovar'],
    [{ nComponents: 2, nInit: 3 }, 'nInit'],
  ])('%j is rejected naming %s', async (opts, name) => {
    await expectEmError(() => gaussianMixture(opts as never), 'INVALID_ARGUMENT', name);
  });
});

describe('fit options', () => {
  const g = gaussianMixture({ nComponents: 2 });
  it.each([
    [{ tol: -1 }, 'tol', '-1'],
    [{ tol: Number.NaN }, 'tol', 'NaN'],
    [{ maxIter: 0 }, 'maxIter', '0'],
    [{ maxIter: 1.5 }, 'maxIter', '1.5'],
    [{ nInit: 0 }, 'nInit', '0'],
    [{ seed: 1.5 }, 'seed', '1.5'],
    [{ seed: '' }, 'seed', '""'],
    [{ monotonicity: 'sometimes' }, 'monotonicity', 'sometimes'],
    [{ init: 'kmeans' }, 'init', 'kmeans'],
    [{ onIteration: 3 }, 'onIteration', '3'],
  ])('%j', async (opts, name, value) => {
    await expectEmError(() => fit(g, good, opts as never), 'INVALID_ARGUMENT', name, value);
  });
  it('an unknown E-step names the registered ones', async () => {
    const e = await expectEmError(() => fit(g, good, { eStep: 'psychic' }), 'UNKNOWN_ESTEP', 'eStep', 'psychic');
    expect(e.message).toContain('exact');
  });
});

describe('given parameters (warm start)', () => {
  const g = gaussianMixture({ nComponents: 2 });
  const base: GmmParams = {
    covarianceType: 'full',
    weights: [0.5, 0.5],
    means: [[0, 0], [5, 0]],
    covariances: [[[1, 0], [0, 1]], [[1, 0.2], [0.2, 1]]],
  };
  const bad = (patch: Partial<GmmParams>): GmmParams => ({ ...base, ...patch });
  it.each([
    ['weights of the wrong length', bad({ weights: [1] }), 'weights'],
    ['weights not summing to 1', bad({ weights: [0.5, 0.6] }), 'weights'],
    ['a negative weight', bad({ weights: [1.5, -0.5] }), 'weights'],
    ['means of the wrong width', bad({ means: [[0, 0, 0], [1, 1, 1]] }), 'means'],
    ['a NaN mean', bad({ means: [[0, Number.NaN], [1, 1]] }), 'means'],
    ['a covariance of the wrong shape', bad({ covariances: [[[1]], [[1]]] }), 'covariances'],
    ['a non-symmetric covariance', bad({ covariances: [[[1, 0.5], [0, 1]], [[1, 0], [0, 1]]] }), 'covariances'],
    ['a non-positive-definite covariance', bad({ covariances: [[[1, 0], [0, 1]], [[1, 2], [2, 1]]] }), 'covariances'],
  ])('%s', async (_name, params, field) => {
    await expectEmError(() => fit(g, good, { init: params }), 'INVALID_PARAMS', field);
  });
  it('the non-positive-definite error names the component', async () => {
    const e = await expectEmError(() => fit(g, good, { init: bad({ covariances: [[[1, 0], [0, 1]], [[1, 2], [2, 1]]] }) }), 'INVALID_PARAMS', 'covariances');
    expect(e.path).toEqual(['params', 'covariances', 1]);
    expect(e.message).toContain('component 1');
  });
  it('valid given parameters are a warm start', async () => {
    const r = await fit(g, good, { init: base, maxIter: 3, tol: 0, onWarning: () => undefined });
    expect(r.options.init).toBe('given');
    expect(r.nIter).toBe(3);
  });
});
