/**
 * Core's gradient-ascent baseline and stationarity check, model-agnostic:
 * the registered kernel gradients against finite differences (wasm and cpu),
 * the adapter registry and its typed errors, option errors, fitGradient on a
 * toy model with a closed-form optimum (both optimizers), the trace contract,
 * the shared start stream, save/load and tensor hygiene.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { EmError } from '../src/errors.js';
import { DIFFERENTIABLE_KERNELS, ensureGradientKernels, logSumExpRowsDifferentiable } from '../src/gradient/kernels.js';
import { fitGradient, gradientAdapterFor, hasGradientAdapter, initialParams, listGradientAdapters, registerGradientAdapter, stationarity, unregisterGradientAdapter, type GradientAdapter } from '../src/index.js';
import type { Model, PreparedData } from '../src/model.js';
import { loadResult, saveResult } from '../src/node/files.js';
import type { Rng } from '../src/rng.js';

const LOG_2PI = Math.log(2 * Math.PI);
const quiet = { onWarning: (): void => {} };

async function catchEm(p: Promise<unknown> | (() => unknown)): Promise<EmError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(EmError);
    return e as EmError;
  }
  throw new Error('expected an EmError');
}

async function noLeak<T>(fn: () => Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

// A toy model with a closed-form optimum: one Gaussian, θ = (mean, log sd).
interface NormalParams {
  mean: number;
  sd: number;
}
type NormalPrepared = PreparedData & { x: Float64Array };

const initPaths: string[] = [];

function normalModel(name = 'toy-normal'): Model<number[], NormalParams, null, NormalPrepared> {
  return {
    name,
    structureKind: 'none',
    options: {},
    initMethods: ['draw'],
    stats: { zero: () => null, add: () => null, scale: () => null } as never,
    validate(data) {
      if (!Array.isArray(data) || data.length < 2) throw new EmError('INVALID_DATA', 'need two rows', { path: ['data'] });
    },
    validateParams(params): asserts params is NormalParams {
      const p = params as NormalParams;
      if (typeof p !== 'object' || p === null || !(p.sd > 0) || !Number.isFinite(p.mean)) throw new EmError('INVALID_PARAMS', 'bad params', { path: ['params'] });
    },
    prepare: (data) => ({ nRows: data.length, x: Float64Array.from(data), dispose: () => {} }),
    init(_prepared, _method, rng: Rng) {
      initPaths.push(rng.path);
      return { mean: 5 * rng.normal(), sd: 0.3 + 3 * rng.uniform() };
    },
    structure: () => {
      throw new Error('not used');
    },
    mStep: () => {
      throw new Error('not used');
    },
    expectedLogJoint: () => 0,
    logLikelihood(prepared, p) {
      let s = 0;
      for (const v of prepared.x) s += -0.5 * LOG_2PI - Math.log(p.sd) - (0.5 * (v - p.mean) ** 2) / p.sd ** 2;
      return s;
    },
  };
}

/** Two blocks, so block sums are tested. */
function normalAdapter(): GradientAdapter<number[], NormalParams> {
  return {
    parametrization: 'toy: mean, log sd',
    prepare(data) {
      const half = Math.ceil(data.length / 2);
      const blocks = [tf.tensor1d(data.slice(0, half)), tf.tensor1d(data.slice(half))];
      return {
        nRows: data.length,
        dim: 2,
        nBlocks: 2,
        toUnconstrained: (p) => Float64Array.from([p.mean, Math.log(p.sd)]),
        fromUnconstrained: (t) => ({ mean: t[0] as number, sd: Math.exp(t[1] as number) }),
        blockLogLikelihood(b, theta) {
          const x = blocks[b] as tf.Tensor1D;
          const mean = tf.slice(theta, [0], [1]);
          const logSd = tf.slice(theta, [1], [1]);
          const z2 = tf.mul(tf.square(tf.sub(x, mean)), tf.exp(tf.mul(logSd, -2)));
          return tf.sum(tf.sub(tf.mul(z2, -0.5), tf.add(logSd, 0.5 * LOG_2PI)));
        },
        dispose: () => blocks.forEach((t) => t.dispose()),
      };
    },
  };
}

registerGradientAdapter('toy-normal', () => normalAdapter() as GradientAdapter<unknown, unknown>);
afterAll(() => {
  unregisterGradientAdapter('toy-normal');
});

const data = Array.from({ length: 301 }, (_, i) => 2 + 1.5 * Math.sin(i * 1.7) + 0.5 * Math.cos(i * 0.31));
const mle = (() => {
  const mean = data.reduce((a, b) => a + b, 0) / data.length;
  const sd = Math.sqrt(data.reduce((a, b) => a + (b - mean) ** 2, 0) / data.length);
  return { mean, sd };
})();

describe('registered kernel gradients', () => {
  it('lists the kernels it covers', () => {
    expect(DIFFERENTIABLE_KERNELS).toEqual(expect.arrayContaining(['Add', 'Sub', 'Multiply', 'Exp', 'Square', 'Sum', 'Reshape', 'Transpose', 'Slice', 'BatchMatMul']));
  });

  it.each(['wasm', 'cpu'])('match central differences on %s', async (backend) => {
    ensureGradientKernels();
    const previous = tf.getBackend();
    await tf.setBackend(backend);
    try {
      await noLeak(async () => {
        const a = tf.tensor2d([[0.3, -0.2, 0.5], [0.1, 0.4, -0.3]]);
        const c = tf.tensor3d([[[0.2, 0.1], [0.3, -0.1]], [[-0.2, 0.1], [0.3, 0.4]]]);
        // Uses every kernel: broadcasting add/sub/mul, exp, square, sum over an axis, reshape,
        // transpose, slice, 2-D and batched matMul with each transpose flag, and the custom log-sum-exp.
        const f = (t: tf.Tensor): tf.Scalar => {
          const v = t as tf.Tensor1D;
          const m = tf.reshape(tf.slice(v, [0], [6]), [3, 2]);
          const w = tf.reshape(tf.slice(v, [6], [4]), [2, 2]);
          const am = tf.matMul(a, m); // [2, 2]
          const t1 = tf.matMul(am, w, false, true);
          const t2 = tf.matMul(w, am, true, false);
          const t3 = tf.matMul(am, w, true, true);
          const b3 = tf.reshape(tf.slice(v, [0], [8]), [2, 2, 2]) as tf.Tensor3D;
          const batch = tf.add(tf.add(tf.matMul(b3, c), tf.matMul(c, b3, false, true)), tf.matMul(tf.reshape(w, [1, 2, 2]) as tf.Tensor3D, b3)); // [2, 2, 2], the last with a broadcast batch
          const table = tf.add(tf.sub(tf.mul(t1, tf.exp(t2)), tf.square(t3)), tf.reshape(tf.sum(batch, 2), [2, 2]));
          return tf.add(tf.sum(logSumExpRowsDifferentiable(table as tf.Tensor2D)), tf.mul(tf.sum(tf.square(v)), 0.1)) as tf.Scalar;
        };
        const theta = [0.2, -0.4, 0.7, 0.1, -0.3, 0.5, 0.6, -0.2, 0.3, 0.8];
        const th = tf.tensor1d(theta);
        const g = tf.grad(f)(th);
        const auto = Array.from(g.dataSync());
        g.dispose();
        const value = (x: number[]): number => tf.tidy(() => f(tf.tensor1d(x)).dataSync()[0] as number);
        const h = 1e-2;
        auto.forEach((gi, i) => {
          const plus = theta.slice();
          const minus = theta.slice();
          plus[i] = (plus[i] as number) + h;
          minus[i] = (minus[i] as number) - h;
          const fd = (value(plus) - value(minus)) / (2 * h);
          expect(Math.abs(gi - fd)).toBeLessThan(3e-3 * Math.max(1, Math.abs(fd)));
        });
        th.dispose();
        a.dispose();
        c.dispose();
      });
    } finally {
      await tf.setBackend(previous);
    }
  });
});

describe('adapter registry and typed errors', () => {
  it('a model without an adapter gets INVALID_ARGUMENT naming it and the remedy, before any work', async () => {
    const bare = normalModel('no-adapter');
    expect(hasGradientAdapter(bare)).toBe(false);
    expect(listGradientAdapters()).toContain('toy-normal');
    for (const e of [await catchEm(() => gradientAdapterFor(bare)), await catchEm(fitGradient(bare, data)), await catchEm(stationarity(bare, data, mle))]) {
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.path).toEqual(['model']);
      expect(e.message).toContain('"no-adapter"');
      expect(e.message).toContain('registerGradientAdapter');
    }
    expect((await catchEm(() => registerGradientAdapter('', () => normalAdapter() as never))).code).toBe('INVALID_ARGUMENT');
  });

  it.each([
    [{ optimizer: 'sgd' }, 'optimizer'],
    [{ learningRate: -1 }, 'learningRate'],
    [{ learningRate: Number.NaN }, 'learningRate'],
    [{ maxIter: 0 }, 'maxIter'],
    [{ tol: -1 }, 'tol'],
    [{ nInit: 1.5 }, 'nInit'],
    [{ history: 0 }, 'history'],
    [{ seed: 1.5 }, 'seed'],
    [{ init: 'bogus' }, 'init'],
    [{ eStep: 'exact' }, 'eStep'],
    [{ onIteration: 3 }, 'onIteration'],
  ] as [Record<string, unknown>, string][])('bad option %o names %s', async (options, key) => {
    const e = await catchEm(fitGradient(normalModel(), data, options as never));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.path[e.path.length - 1]).toBe(key);
  });

  it('bad data and bad given parameters are the model\'s typed errors', async () => {
    expect((await catchEm(fitGradient(normalModel(), [1]))).code).toBe('INVALID_DATA');
    expect((await catchEm(fitGradient(normalModel(), data, { init: { mean: 0, sd: -1 } }))).code).toBe('INVALID_PARAMS');
    expect((await catchEm(stationarity(normalModel(), data, { mean: 0, sd: 0 }))).code).toBe('INVALID_PARAMS');
  });

  it('an aborted signal stops before any work', async () => {
    const c = new AbortController();
    c.abort();
    expect((await catchEm(fitGradient(normalModel(), data, { signal: c.signal }))).code).toBe('ABORTED');
  });
});

describe('fitGradient on a model with a closed-form optimum', () => {
  it.each([
    ['lbfgs', { tol: 1e-9 }],
    ['adam', { maxIter: 2000, tol: 1e-10 }],
  ] as const)('%s reaches the maximum-likelihood estimate, stationary there', async (optimizer, extra) => {
    const model = normalModel();
    const r = await noLeak(() => fitGradient(model, data, { optimizer, seed: 3, ...extra, ...quiet }));
    expect(r.converged).toBe(true);
    expect(Math.abs(r.params.mean - mle.mean)).toBeLessThan(1e-3);
    expect(Math.abs(r.params.sd - mle.sd) / mle.sd).toBeLessThan(1e-3);
    const best = model.logLikelihood?.({ nRows: data.length, x: Float64Array.from(data), dispose: () => {} }, mle) as number;
    expect(Math.abs((r.logLikelihood as number) - best)).toBeLessThan(1e-5 * Math.abs(best));
    expect(r.report.stationarity.gradNorm).toBeLessThan(optimizer === 'lbfgs' ? 1e-4 : 1e-3);
    const atMle = await noLeak(() => stationarity(model, data, mle));
    expect(atMle.gradNorm).toBeLessThan(1e-5);
    expect(atMle.dim).toBe(2);
    expect(atMle.objective).toBe('mean-log-likelihood');
    expect(Math.abs(atMle.logLikelihood - best)).toBeLessThan(1e-5 * Math.abs(best));
    const atStart = await stationarity(model, data, await initialParams(model, data, { seed: 3 }));
    expect(atStart.gradNorm).toBeGreaterThan(0.1);
  });

  it('trace contract: fit\'s fields, E = before the step, M = after, gap 0, drops recorded not checked', async () => {
    const r = await fitGradient(normalModel(), data, { seed: 1, optimizer: 'adam', learningRate: 0.5, maxIter: 40, tol: 0, ...quiet });
    expect(r.nIter).toBe(40);
    expect(r.convergenceReason).toBe('max-iter');
    expect(r.report.algorithm).toBe('gradient-ascent');
    expect(r.method.name).toBe('gradient');
    expect(r.method.family).toBe('gradient');
    expect(r.boundKind).toBe('log-likelihood');
    expect(r.options.monotonicity).toBe('off');
    r.trace.forEach((rec, i) => {
      expect(rec.iteration).toBe(i + 1);
      expect(rec.gap).toBe(0);
      expect(rec.entropy).toBe(0);
      expect(rec.logLikelihood).toBe(rec.boundAfterE);
      expect(rec.violations).toEqual([]);
      expect(rec.diagnostics['drop']).toBe(Math.max(0, rec.boundAfterE - rec.boundAfterM));
      if (i > 0) expect(rec.boundAfterE).toBe((r.trace[i - 1] as (typeof r.trace)[number]).boundAfterM);
    });
    expect(r.bound).toBe(r.trace[r.trace.length - 1]?.boundAfterM);
    // A large Adam step overshoots: the drops are counted, and no warning or error is raised for them.
    const drops = r.trace.filter((rec) => rec.boundAfterM < rec.boundAfterE).length;
    expect(r.report.nDrops).toBe(drops);
    expect(drops).toBeGreaterThan(0);
  });

  it('a model without logLikelihood: the trace and result use the adapter\'s log-likelihood', async () => {
    const { logLikelihood: exact, ...rest } = normalModel();
    const model: Model<number[], NormalParams, null, NormalPrepared> = rest;
    // The bound is then the float32 objective: tol 1e-9 is below what it resolves, so the fit stops at
    // the float32 noise floor (not "converged"), while a tolerance float32 can resolve converges.
    const tight = await fitGradient(model, data, { seed: 3, tol: 1e-9, ...quiet });
    expect(tight.convergenceReason).toBe('noise-floor');
    expect(tight.converged).toBe(false);
    expect(tight.trace.every((rec) => rec.precision === 'float32')).toBe(true);
    const r = await fitGradient(model, data, { seed: 3, tol: 1e-5, ...quiet });
    expect(r.converged).toBe(true);
    const best = exact?.({ nRows: data.length, x: Float64Array.from(data), dispose: () => {} }, mle) as number;
    expect(Math.abs((r.logLikelihood as number) - best)).toBeLessThan(1e-5 * Math.abs(best));
    expect(r.logLikelihood).toBe(r.bound);
    for (const rec of r.trace) expect(rec.boundAfterM).toBe(rec.diagnostics['objective']);
  });

  it('starts from the stream fit uses: seed/restart/r/init', async () => {
    initPaths.length = 0;
    await fitGradient(normalModel(), data, { seed: 7, nInit: 2, maxIter: 3, ...quiet });
    expect(initPaths).toEqual(['7/restart/0/init', '7/restart/1/init']);
    initPaths.length = 0;
    const p = await initialParams(normalModel(), data, { seed: 7 }, 1);
    expect(initPaths).toEqual(['7/restart/1/init']);
    const given = await fitGradient(normalModel(), data, { init: p, maxIter: 1, tol: 0, ...quiet });
    expect(given.options.init).toBe('given');
    const m = normalModel();
    const ll = m.logLikelihood?.({ nRows: data.length, x: Float64Array.from(data), dispose: () => {} }, p);
    expect(given.trace[0]?.boundAfterE).toBe(ll);
  });

  it('onIteration can stop; the result saves and loads exactly', async () => {
    let calls = 0;
    const r = await fitGradient(normalModel(), data, { seed: 2, onIteration: () => (++calls === 3 ? false : undefined), ...quiet });
    expect(r.convergenceReason).toBe('callback');
    expect(r.nIter).toBe(3);
    const path = join(mkdtempSync(join(tmpdir(), 'emlab-grad-')), 'r.json');
    await saveResult(path, r);
    const back = await loadResult(path, normalModel());
    expect(back).toEqual(r);
  });

  it('frees every tensor when the callback throws', async () => {
    const before = tf.memory().numTensors;
    await expect(fitGradient(normalModel(), data, { onIteration: () => { throw new Error('boom'); }, ...quiet })).rejects.toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
  });
});
