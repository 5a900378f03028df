// The coordinate-ascent loop: reproducibility, restarts, stopping, monotonicity policy,
// non-convergence, tensor hygiene, save/load.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { EmError, fit, monotonicityTolerance, omitTimings, toJson, VERSION, type FitResult, type Model } from '@emlab/core';
import { loadParams, loadResult, saveParams, saveResult } from '@emlab/core/node';
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { loadBuiltin } from '@emlab/data';
import { gaussianMixture, type GmmParams, type GmmStats } from '@emlab/models';
import { expectNoTensorLeak } from '@emlab/testing';

const data = loadBuiltin('overlap2');
const quiet = { onWarning: () => undefined };

describe('reproducibility', () => {
  it('same seed ⇒ identical result JSON (timings aside), for every E-step', async () => {
    for (const eStep of ['exact', 'hard', 'stochastic']) {
      const g = gaussianMixture({ nComponents: 3 });
      const a = await fit(g, data, { eStep, seed: 42, nInit: 2, ...quiet });
      const b = await fit(g, data, { eStep, seed: 42, nInit: 2, ...quiet });
      expect(toJson(omitTimings(a))).toBe(toJson(omitTimings(b)));
    }
  });
  it('seed 0 works and differs from seed 1', async () => {
    const g = gaussianMixture({ nComponents: 3 });
    const a = await fit(g, data, { seed: 0, init: 'random', maxIter: 5, tol: 0, ...quiet });
    const b = await fit(g, data, { seed: 1, init: 'random', maxIter: 5, tol: 0, ...quiet });
    expect(a.seed).toBe(0);
    expect(toJson(a.params)).not.toBe(toJson(b.params));
  });
  it('a string seed works', async () => {
    const r = await fit(gaussianMixture({ nComponents: 2 }), data, { seed: 'experiment-7', maxIter: 3, ...quiet });
    expect(r.seed).toBe('experiment-7');
  });
});

describe('result', () => {
  it('records the E-step, backend, version and the Neal–Hinton trace', async () => {
    const r = await fit(gaussianMixture({ nComponents: 2 }), data, { seed: 3 });
    expect(r.format).toBe('emlab/fit-result');
    expect(r.method).toEqual({ name: 'exact', kind: 'finite', family: 'exact', options: {} });
    expect(r.boundKind).toBe('log-likelihood');
    expect(['wasm', 'cpu', 'tensorflow']).toContain(r.backend);
    const pkg = JSON.parse(readFileSync(new URL('../packages/core/package.json', import.meta.url), 'utf8')) as { version: string };
    expect(r.version).toBe(pkg.version);
    expect(VERSION).toBe(pkg.version);
    for (const rec of r.trace) {
      expect(rec.gap).not.toBeNull();
      expect(Math.abs(rec.gap as number)).toBeLessThan(monotonicityTolerance(rec.boundAfterE, rec.boundAfterE, r.nRows));
      expect(rec.eStepMs).toBeGreaterThanOrEqual(0);
      expect(rec.entropy).toBeGreaterThanOrEqual(0);
    }
    expect(r.converged).toBe(true);
    expect(r.convergenceReason).toBe('tol');
    expect(r.logLikelihood).not.toBeNull();
  });
  it('the hard E-step reports a lower bound with zero entropy and a non-negative gap', async () => {
    const r = await fit(gaussianMixture({ nComponents: 2 }), data, { eStep: 'hard', seed: 3 });
    expect(r.boundKind).toBe('lower-bound');
    for (const rec of r.trace) {
      expect(rec.entropy).toBe(0);
      expect(rec.gap as number).toBeGreaterThanOrEqual(-monotonicityTolerance(rec.boundAfterE, rec.boundAfterE, r.nRows));
    }
  });
  it('the stochastic E-step reports an estimate with a standard error', async () => {
    const r = await fit(gaussianMixture({ nComponents: 2 }), data, { eStep: 'stochastic', eStepOptions: { nDraws: 4 }, seed: 3, ...quiet });
    expect(r.boundKind).toBe('estimate');
    expect(r.method.options).toEqual({ nDraws: 4 });
    expect(r.trace.every((t) => typeof t.boundStdErr === 'number' && t.boundStdErr >= 0)).toBe(true);
  });
});

describe('restarts and stopping', () => {
  it('nInit keeps the restart with the best final bound', async () => {
    const r = await fit(gaussianMixture({ nComponents: 4 }), data, { seed: 5, nInit: 4, init: 'random', ...quiet });
    expect(r.restarts).toHaveLength(4);
    const best = Math.max(...r.restarts.map((s) => s.bound));
    expect(r.bound).toBe(best);
    expect(r.restarts[r.restart]?.bound).toBe(best);
  });
  it('maxIter without convergence sets the flag and warns, never throws', async () => {
    const warnings: string[] = [];
    const r = await fit(gaussianMixture({ nComponents: 3 }), data, { maxIter: 2, tol: 0, onWarning: (m) => warnings.push(m) });
    expect(r.converged).toBe(false);
    expect(r.convergenceReason).toBe('max-iter');
    expect(r.nIter).toBe(2);
    expect(warnings.join('\n')).toMatch(/did not converge/);
    expect(r.warnings).toEqual(warnings);
  });
  it('onIteration can stop the loop', async () => {
    const seen: number[] = [];
    const r = await fit(gaussianMixture({ nComponents: 3 }), data, { tol: 0, onIteration: (rec) => (seen.push(rec.iteration), rec.iteration < 3) });
    expect(seen).toEqual([1, 2, 3]);
    expect(r.convergenceReason).toBe('callback');
    expect(r.nIter).toBe(3);
  });
  it('an AbortSignal stops between iterations and keeps the result so far', async () => {
    const controller = new AbortController();
    const r = await fit(gaussianMixture({ nComponents: 3 }), data, {
      tol: 0,
      maxIter: 1000,
      signal: controller.signal,
      onIteration: (rec) => {
        if (rec.iteration === 4) controller.abort();
      },
    });
    expect(r.convergenceReason).toBe('aborted');
    expect(r.nIter).toBe(4);
    expect(r.params.weights).toHaveLength(3);
  });
  it('an already-aborted signal throws ABORTED before any work', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(fit(gaussianMixture({ nComponents: 2 }), data, { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('monotonicity policy', () => {
  // A model whose M-step moves the means away from the optimum: the bound drops at the M-step.
  const base = gaussianMixture({ nComponents: 2 });
  const broken: Model<typeof data, GmmParams, GmmStats, ReturnType<typeof base.prepare>> = {
    name: 'broken-gmm',
    structureKind: base.structureKind,
    options: base.options,
    initMethods: base.initMethods,
    stats: base.stats,
    validate: (d) => base.validate(d),
    validateParams: (p, d) => base.validateParams(p, d),
    precisions: base.precisions,
    prepare: (d, ctx) => base.prepare(d, ctx),
    init: (p, m, r) => base.init(p, m, r),
    structure: (p, params, ctx) => base.structure(p, params, ctx),
    mStep: (stats, prev, ctx) => {
      const { params } = base.mStep(stats, prev, ctx);
      return { params: { ...params, means: params.means.map((m) => m.map((v) => v + 3)) } };
    },
    expectedLogJoint: (s, p) => base.expectedLogJoint(s, p),
  };
  it("'throw' raises MONOTONICITY_VIOLATION and frees every tensor", async () => {
    const before = tf.memory().numTensors;
    await expect(fit(broken, data, { monotonicity: 'throw', maxIter: 5 })).rejects.toMatchObject({ code: 'MONOTONICITY_VIOLATION' });
    expect(tf.memory().numTensors).toBe(before);
  });
  it("'warn' records violations in the trace and warns once", async () => {
    const warnings: string[] = [];
    const r = await fit(broken, data, { maxIter: 5, tol: 0, onWarning: (m) => warnings.push(m) });
    expect(r.trace.some((t) => t.violations.length > 0)).toBe(true);
    expect(warnings.filter((w) => w.includes('decreased'))).toHaveLength(1);
  });
  it("'off' checks nothing", async () => {
    const r = await fit(broken, data, { maxIter: 5, tol: 0, monotonicity: 'off', ...quiet });
    expect(r.trace.every((t) => t.violations.length === 0)).toBe(true);
  });
});

describe('tensor hygiene', () => {
  it('no tensor growth after 200 iterations of each E-step', async () => {
    for (const eStep of ['exact', 'hard', 'stochastic']) {
      await expectNoTensorLeak(() => fit(gaussianMixture({ nComponents: 3, covarianceType: 'full' }), data, { eStep, maxIter: 200, tol: 0, ...quiet }), eStep);
    }
  });
  it('no growth after a thrown error inside the loop', async () => {
    const g = gaussianMixture({ nComponents: 2 });
    const failing: Model<typeof data, GmmParams, GmmStats, ReturnType<typeof g.prepare>> = Object.assign(Object.create(g) as typeof g, {
      mStep: () => {
        throw new EmError('INTERNAL', 'boom');
      },
    });
    await expect(expectNoTensorLeak(() => fit(failing, data, {}))).rejects.toThrow('boom');
  });
});

describe('save and load', () => {
  it('a saved result reloads exactly and predicts the same as the live one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emlab-'));
    const g = gaussianMixture({ nComponents: 3, covarianceType: 'diag' });
    const live: FitResult<GmmParams> = await fit(g, data, { seed: 9 });
    await saveResult(join(dir, 'r.json'), live);
    const again = await loadResult<GmmParams>(join(dir, 'r.json'), g);
    expect(again).toEqual(live);
    expect(g.predictProba(again.params, data)).toEqual(g.predictProba(live.params, data));
    expect(g.scoreSamples(again.params, data)).toEqual(g.scoreSamples(live.params, data));
    await saveParams(join(dir, 'p.json'), g.name, live.params);
    expect(await loadParams<GmmParams>(join(dir, 'p.json'), g)).toEqual(live.params);
  });
  it('malformed files are typed errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emlab-'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    writeFileSync(join(dir, 'other.json'), '{"format":"something-else"}');
    await expect(loadResult(join(dir, 'bad.json'))).rejects.toMatchObject({ code: 'PARSE_ERROR' });
    await expect(loadResult(join(dir, 'other.json'))).rejects.toMatchObject({ code: 'PARSE_ERROR' });
    await expect(loadResult(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'IO_ERROR' });
    const g = gaussianMixture({ nComponents: 2 });
    const r = await fit(g, data, { maxIter: 2, ...quiet });
    writeFileSync(join(dir, 'tampered.json'), toJson({ ...r, params: { ...r.params, weights: [0.9, 0.9] } }));
    await expect(loadResult(join(dir, 'tampered.json'), g)).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
  });
});
