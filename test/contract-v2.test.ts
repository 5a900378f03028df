/**
 * The core contract (issue 9) through `fit` and `fitSteps`: the E-step lifecycle (start/dispose on
 * success, error and abort; async run), the step API, `recordParams`, parameters in `onIteration`,
 * convergence policies, strict options, row weights (weight 2 = a duplicated row), the model and
 * method registries, and precision.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  convergencePolicy,
  EmError,
  findModel,
  fit,
  fitSteps,
  listESteps,
  listModels,
  omitTimings,
  parseOptions,
  parseOptionText,
  reduceFiniteChunksAsync,
  registerEStep,
  unregisterEStep,
  type EStep,
  type FiniteStructure,
  type FitResult,
} from '@emlab/core';
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { gaussianMixture, type GmmParams } from '@emlab/models';
import { catchEmError, catchEmErrorAsync, makeMixtureCase } from '@emlab/testing';

const quiet = { onWarning: (): void => {} };
const c = makeMixtureCase(3, 2, 'full', 11);
const rows = c.rows;

/** An E-step that records its lifecycle and allocates a tensor in its state. */
function lifecycleEStep(log: string[], failAt = Number.POSITIVE_INFINITY): EStep<FiniteStructure, { t: tf.Tensor; calls: number }> {
  return {
    name: 'lifecycle',
    kind: 'finite',
    family: 'exact',
    options: {},
    start: () => {
      log.push('start');
      return { t: tf.tensor1d([1, 2, 3]), calls: 0 };
    },
    async run(structure, ctx) {
      ctx.state.calls++;
      log.push(`run ${ctx.iteration}`);
      if (ctx.iteration >= failAt) throw new Error('boom');
      const r = await reduceFiniteChunksAsync(structure, ctx.rng, (b) => ({ q: b.posterior() }));
      return { stats: r.stats, bound: r.logLikelihood, entropy: r.entropy, logLikelihood: r.logLikelihood };
    },
    dispose: (state) => {
      log.push(`dispose after ${state.calls}`);
      state.t.dispose();
    },
  };
}

describe('E-step lifecycle', () => {
  it('start once per restart, async run, dispose once per start (success), and the state tensor is freed', async () => {
    const log: string[] = [];
    const before = tf.memory().numTensors;
    const r = await fit(gaussianMixture({ nComponents: 3 }), rows, { eStep: lifecycleEStep(log), nInit: 2, maxIter: 3, tol: 0, ...quiet });
    expect(r.nIter).toBe(3);
    expect(log).toEqual(['start', 'run 1', 'run 2', 'run 3', 'dispose after 3', 'start', 'run 1', 'run 2', 'run 3', 'dispose after 3']);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('dispose also runs when run throws, and when the fit is aborted', async () => {
    const log: string[] = [];
    const before = tf.memory().numTensors;
    await expect(fit(gaussianMixture({ nComponents: 3 }), rows, { eStep: lifecycleEStep(log, 2), maxIter: 5, ...quiet })).rejects.toThrow('boom');
    expect(log).toEqual(['start', 'run 1', 'run 2', 'dispose after 2']);
    const aborted: string[] = [];
    const controller = new AbortController();
    const r = await fit(gaussianMixture({ nComponents: 3 }), rows, {
      eStep: lifecycleEStep(aborted),
      maxIter: 50,
      tol: 0,
      signal: controller.signal,
      onIteration: (rec) => {
        if (rec.iteration === 2) controller.abort();
      },
      ...quiet,
    });
    expect(r.convergenceReason).toBe('aborted');
    expect(aborted.at(-1)).toBe('dispose after 2');
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the step API', () => {
  it('yields every iteration with its parameters and ends with the same result as fit', async () => {
    const options = { seed: 3, nInit: 2, maxIter: 20, ...quiet };
    const run = fitSteps(gaussianMixture({ nComponents: 3 }), rows, options);
    const seen: { restart: number; iteration: number; params: GmmParams }[] = [];
    for await (const s of run) seen.push({ restart: s.restart, iteration: s.record.iteration, params: s.params });
    const viaSteps = await run.result();
    const direct = await fit(gaussianMixture({ nComponents: 3 }), rows, options);
    expect(omitTimings(viaSteps)).toEqual(omitTimings(direct));
    expect(seen.filter((s) => s.restart === viaSteps.restart).length).toBe(viaSteps.nIter);
    expect(seen.at(-1)?.params).toBeDefined();
    await run.dispose();
  });

  it('step() drives one iteration at a time; leaving a loop early frees everything', async () => {
    const before = tf.memory().numTensors;
    const run = fitSteps(gaussianMixture({ nComponents: 3 }), rows, { maxIter: 10, tol: 0, precision: 'float32', ...quiet });
    const first = await run.step();
    expect(first?.record.iteration).toBe(1);
    const second = await run.step();
    expect(second?.record.iteration).toBe(2);
    for await (const s of run) if (s.record.iteration === 4) break;
    expect(tf.memory().numTensors).toBe(before);
    await expect(run.result()).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('checks options and data synchronously, before any work', () => {
    expect(catchEmError(() => fitSteps(gaussianMixture({ nComponents: 3 }), rows, { maxIters: 3 } as never)).path).toEqual(['options', 'maxIters']);
    expect(catchEmError(() => fitSteps(gaussianMixture({ nComponents: 3 }), [[1, 2], [3]], {})).code).toBe('INVALID_DATA');
  });
});

describe('parameters in the trace and in onIteration', () => {
  it('recordParams: true keeps θ after every iteration; k keeps every k-th and the last', async () => {
    const every = await fit(gaussianMixture({ nComponents: 3 }), rows, { recordParams: true, maxIter: 5, tol: 0, ...quiet });
    expect(every.trace.every((t) => t.params !== undefined)).toBe(true);
    expect(every.trace.at(-1)?.params).toEqual(every.params);
    const some = await fit(gaussianMixture({ nComponents: 3 }), rows, { recordParams: 2, maxIter: 5, tol: 0, ...quiet });
    expect(some.trace.map((t) => t.params !== undefined)).toEqual([false, true, false, true, true]);
    const got: unknown[] = [];
    await fit(gaussianMixture({ nComponents: 3 }), rows, { maxIter: 3, tol: 0, onIteration: (_rec, info) => void got.push(info.params), ...quiet });
    expect(got).toHaveLength(3);
    expect((got[2] as GmmParams).weights).toHaveLength(3);
  });
});

describe('strict options', () => {
  it.each([
    [{ maxIters: 10 }, ['options', 'maxIters'], /did you mean maxIter/],
    [{ eStep: { name: 'x', kind: 'finite', family: 'exact', options: {}, run: () => ({}) }, eStepOptions: { nDraws: 2 } }, ['options', 'eStepOptions'], /conflicts/],
    [{ convergence: convergencePolicy('absolute', 1e-3), tol: 1e-6 }, ['options', 'tol'], /conflicts/],
    [{ precision: 'float16' }, ['options', 'precision'], /float32/],
    [{ recordParams: 0 }, ['options', 'recordParams'], /integer/],
    [{ weights: [1, 2] }, ['options', 'weights'], /one weight per row/],
    [{ weights: rows.map(() => -1) }, ['options', 'weights', 0], /finite number >= 0/],
  ] as const)('%o is an EmError at %o', async (options, path, message) => {
    const e = await catchEmErrorAsync(fit(gaussianMixture({ nComponents: 3 }), rows, options as never));
    expect(e.path).toEqual(path);
    expect(e.message).toMatch(message);
  });
});

describe('convergence policies', () => {
  it('the default (aitken, tol 1e-10) converges at the optimum: further iterations change L by less than 1e-10 relative', async () => {
    const r = await fit(gaussianMixture({ nComponents: 3 }), rows, { seed: 0, maxIter: 2000, ...quiet });
    expect(r.converged).toBe(true);
    expect(r.convergence.policy).toBe('aitken');
    const longer = await fit(gaussianMixture({ nComponents: 3 }), rows, { init: r.params, maxIter: 200, tol: 0, ...quiet });
    expect(Math.abs(longer.bound - r.bound)).toBeLessThanOrEqual(1e-10 * Math.max(Math.abs(r.bound), rows.length));
  });

  it.each(['absolute', 'relative', 'params', 'gradient'] as const)('%s stops and says why in the trace', async (name) => {
    const r = await fit(gaussianMixture({ nComponents: 3 }), rows, { seed: 0, convergence: name, maxIter: 2000, ...quiet });
    expect(r.converged).toBe(true);
    expect(r.convergence.policy).toBe(name);
    const last = r.trace.at(-1);
    expect(last?.convergence?.value).toBeLessThanOrEqual(last?.convergence?.threshold as number);
  });

  it('a forced float32 fit whose tolerance is below float32 resolution stops at the noise floor, not "converged"', async () => {
    const r = await fit(gaussianMixture({ nComponents: 3 }), rows, { seed: 0, precision: 'float32', tol: 1e-13, maxIter: 2000, ...quiet });
    expect(r.convergenceReason).toBe('noise-floor');
    expect(r.converged).toBe(false);
    expect(r.warnings.some((w) => w.includes('noise floor'))).toBe(true);
  });
});

describe('row weights', () => {
  it('a weight of 2 equals a duplicated row (float64, same start), and N and BIC use the weighted count', async () => {
    const weights = rows.map((_, i) => (i % 3 === 0 ? 2 : 1));
    const expanded = rows.flatMap((r, i) => (i % 3 === 0 ? [r, r] : [r]));
    const model = gaussianMixture({ nComponents: 3 });
    const a = await fit(model, rows, { weights, init: c.params, maxIter: 30, tol: 0, precision: 'float64', ...quiet });
    const b = await fit(model, expanded, { init: c.params, maxIter: 30, tol: 0, precision: 'float64', ...quiet });
    expect(a.totalWeight).toBe(expanded.length);
    expect(Math.abs(a.bound - b.bound)).toBeLessThanOrEqual(1e-9 * Math.abs(b.bound));
    a.params.means.forEach((m, k) => m.forEach((v, j) => expect(Math.abs(v - ((b.params.means[k] as number[])[j] as number))).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(v)))));
    // A weight of 0 leaves a row out.
    const zero = await fit(model, [...rows, [1e3, -1e3]], { weights: [...rows.map(() => 1), 0], init: c.params, maxIter: 5, tol: 0, precision: 'float64', ...quiet });
    const without = await fit(model, rows, { init: c.params, maxIter: 5, tol: 0, precision: 'float64', ...quiet });
    expect(Math.abs(zero.bound - without.bound)).toBeLessThanOrEqual(1e-9 * Math.abs(without.bound));
  });
});

describe('registries', () => {
  it('built-in models are registered with option schemas; aliases resolve', () => {
    expect(listModels().map((m) => m.name)).toEqual(expect.arrayContaining(['gmm', 'bayesian-network']));
    expect(findModel('bn').name).toBe('bayesian-network');
    const gmm = findModel('gmm');
    const options = parseOptions(gmm.options, { nComponents: 2 }, 'gmm');
    expect(options).toMatchObject({ nComponents: 2, covarianceType: 'full' });
    expect(parseOptionText(gmm.options['nComponents'] as never, '4', ['--components'])).toBe(4);
    expect(catchEmError(() => parseOptionText(gmm.options['nComponents'] as never, 'four', ['--components'])).path).toEqual(['--components']);
    expect(gmm.create(options).name).toBe('gmm');
    expect(catchEmError(() => findModel('nope')).message).toMatch(/registered: .*gmm/);
  });

  it('the gradient baseline is a method with its own family, found like an E-step', async () => {
    expect(listESteps('finite').find((e) => e.method === 'gradient')?.family).toBe('gradient');
    const r = await fit(gaussianMixture({ nComponents: 2 }), rows, { eStep: 'gradient', eStepOptions: { optimizer: 'lbfgs' }, maxIter: 30, ...quiet });
    expect(r.method).toMatchObject({ name: 'gradient', family: 'gradient' });
    expect(r.boundKind).toBe('log-likelihood');
    expect(r.report).toMatchObject({ algorithm: 'gradient-ascent' });
  });

  it('a plug-in E-step registered by name runs through fit', async () => {
    registerEStep({
      kind: 'finite',
      method: 'test-plugin',
      family: 'exact',
      description: 'the exact E-step under another name',
      options: { scale: { type: 'number', default: 1, description: 'unused' } },
      create: (o) => ({ ...lifecycleEStep([]), name: 'test-plugin', options: parseOptions({ scale: { type: 'number', default: 1, description: 'unused' } }, o, 'test-plugin') }),
    });
    try {
      const r: FitResult = await fit(gaussianMixture({ nComponents: 2 }), rows, { eStep: 'test-plugin', eStepOptions: { scale: 2 }, maxIter: 3, tol: 0, ...quiet });
      expect(r.method).toMatchObject({ name: 'test-plugin', options: { scale: 2 } });
      expect((await catchEmErrorAsync(fit(gaussianMixture({ nComponents: 2 }), rows, { eStep: 'test-plugin', eStepOptions: { scal: 2 } }))).path).toEqual(['test-plugin', 'scal']);
    } finally {
      unregisterEStep('finite', 'test-plugin');
    }
    expect(EmError).toBeDefined();
  });
});

describe('a bound that is not a number stops the fit with the reason', () => {
  it('starting parameters under which an observed row has probability 0: INVALID_PARAMS naming options.init', async () => {
    const { asiaNetwork, bayesianNetwork } = await import('@emlab/models');
    const net = asiaNetwork();
    const model = bayesianNetwork(net);
    // tub = yes, lung = no, either = no is impossible under asia's deterministic OR for "either".
    const row = { asia: 0, tub: 0, smoke: 0, lung: 1, bronc: 0, either: 1, xray: 0, dysp: 0 } as Record<string, number>;
    const columns = net.nodes.map((n) => n.name);
    const data = { columns, nRows: 2, values: Int32Array.from([...columns.map((c) => row[c] as number), ...columns.map(() => 0)]) };
    const err = await fit(model, data, { init: 'network', maxIter: 3, onWarning: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmError);
    expect((err as EmError).code).toBe('INVALID_PARAMS');
    expect((err as EmError).path).toEqual(['options', 'init']);
    expect((err as EmError).message).toMatch(/bound L\(q, θ\) is -Infinity \(log p\(x \| θ\) = -Infinity\) at iteration 1/);
  });
});

describe('float64 violations on ill-conditioned half-steps', () => {
  /** The mixture with a broken M-step (θ_old with its first mean moved 5 sd) and a fixed conditioning magnitude S. */
  const broken = (scale: (bound: number) => number) => {
    const g = gaussianMixture({ nComponents: 3 });
    let bound = 1;
    return Object.create(g, {
      expectedLogJoint: { value: (stats: unknown, params: GmmParams) => (bound = g.expectedLogJoint(stats as never, params)) },
      roundoffScale: { value: () => scale(bound) },
      mStep: {
        value: (stats: unknown, params: GmmParams, ctx: never) => {
          const m = g.mStep(stats as never, params, ctx);
          const sd = Math.sqrt((params.covariances[0] as number[][])[0]?.[0] as number);
          return { ...m, params: { ...params, means: params.means.map((mu, k) => (k === 0 ? mu.map((v, i) => (i === 0 ? v + 5 * sd : v)) : mu)) }, boundSlack: 0 };
        },
      },
    }) as typeof g;
  };

  it('a drop within the roundoff of a conditioning beyond the cap is recorded, marked and warned about, and does not stop a throw fit', async () => {
    const warnings: string[] = [];
    const r = await fit(broken(() => 1e20), rows, { init: c.params, maxIter: 2, tol: 0, precision: 'float64', monotonicity: 'throw', onWarning: (w) => warnings.push(w) });
    const marked = r.trace.flatMap((t) => t.violations);
    expect(marked.length).toBeGreaterThan(0);
    for (const v of marked) expect(v.illConditioned).toBe(true);
    expect(r.trace.every((t) => t.events.some((e) => e.type === 'ill-conditioned'))).toBe(true);
    expect(warnings.some((w) => w.includes('on an ill-conditioned half-step'))).toBe(true);
  });

  it('a drop larger than that roundoff is never marked: it stops a throw fit, however ill-conditioned the step', async () => {
    // S just beyond the cap (2¹⁰ · |L|): 64 · u · S is about 1.5e-11 |L|, far below the broken M-step's drop.
    const err = await catchEmErrorAsync(fit(broken((b) => 2 ** 11 * Math.abs(b) * 1.01), rows, { init: c.params, maxIter: 2, tol: 0, precision: 'float64', monotonicity: 'throw', ...quiet }));
    expect(err.code).toBe('MONOTONICITY_VIOLATION');
    expect(err.message).toMatch(/at the M-step of iteration 1/);
    expect(err.message).not.toMatch(/ill-conditioned half-step/);
  });
});
