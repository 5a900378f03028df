/**
 * The Gaussian mixture's gradient adapter and core's gradient-ascent baseline
 * on it: the parametrization round trip, the log-likelihood against the
 * model's own, autodiff against float64 finite differences, the same optimum
 * as exact EM on easy mixtures, the stationarity norm at EM's optimum and at
 * the start, the shared start, save/load, tensor hygiene and typed errors.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { createRng, EmError, ensureGradientKernels, fit, fitGradient, gradientAdapterFor, initialParams, stationarity, type GradientFitResult } from '@emlab/core';
import { loadResult, saveResult } from '@emlab/core/node';
import '@emlab/exact';
import { makeGaussianMixture, toRows } from '@emlab/data';
import { COVARIANCE_TYPES, gaussianMixture, gmmGradientAdapter, gmmGradientDim, type CovarianceType, type GmmParams } from '@emlab/models';
import { catchEmErrorAsync, expectNoTensorLeak, matchComponents, refLogDensity } from '@emlab/testing';

const quiet = { onWarning: (): void => {} };

/** Largest absolute difference of weights, means and covariances after matching components. */
function paramsDistance(a: GmmParams, b: GmmParams): number {
  const perm = matchComponents(a.means, b.means);
  let worst = 0;
  perm.forEach((e, j) => {
    worst = Math.max(worst, Math.abs((a.weights[j] as number) - (b.weights[e] as number)));
    (a.means[j] as number[]).forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ((b.means[e] as number[])[i] as number)))));
    (a.covariances[j] as number[][]).forEach((row, r) => row.forEach((v, c) => (worst = Math.max(worst, Math.abs(v - (((b.covariances[e] as number[][])[r] as number[])[c] as number))))));
  });
  return worst;
}

/** Random valid parameters (float64), seeded. */
function randomParams(type: CovarianceType, k: number, d: number, seed: number): GmmParams {
  const rng = createRng(seed).child('params');
  const raw = Array.from({ length: k }, () => 0.2 + rng.uniform());
  const total = raw.reduce((a, b) => a + b, 0);
  const weights = raw.map((w) => w / total);
  const means = Array.from({ length: k }, () => Array.from({ length: d }, () => 3 * rng.normal() + 10));
  const spd = (): number[][] => {
    const a = Array.from({ length: d }, () => Array.from({ length: d }, () => 0.6 * rng.normal()));
    return Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => {
      let s = i === j ? 0.5 : 0;
      for (let q = 0; q < d; q++) s += ((a[i] as number[])[q] as number) * ((a[j] as number[])[q] as number);
      return s;
    }));
  };
  const diagonal = (v: number[]): number[][] => v.map((x, i) => v.map((_, j) => (i === j ? x : 0)));
  let covariances: number[][][];
  if (type === 'full') covariances = Array.from({ length: k }, spd);
  else if (type === 'tied') {
    const s = spd();
    covariances = Array.from({ length: k }, () => s.map((r) => r.slice()));
  } else if (type === 'diag') covariances = Array.from({ length: k }, () => diagonal(Array.from({ length: d }, () => 0.3 + rng.uniform())));
  else covariances = Array.from({ length: k }, () => diagonal(new Array<number>(d).fill(0.3 + rng.uniform())));
  return { covarianceType: type, weights, means, covariances };
}

/** log p(x | θ) in float64 (reference densities), summed over rows. */
function refLogLikelihood(p: GmmParams, rows: number[][]): number {
  return refLogDensity(rows, p.weights, p.means, p.covariances).logProb.reduce((a, b) => a + b, 0);
}

function easy(type: CovarianceType, k: number, seed = 3): number[][] {
  const g = makeGaussianMixture({ nSamples: 400, nComponents: k, nFeatures: 2, seed, separation: 8, covariance: type });
  return toRows(g.x, g.rows, g.cols);
}

describe.each(COVARIANCE_TYPES)('GMM gradient adapter (%s)', (type) => {
  const k = 3;
  const d = 3;
  const rows = (() => {
    const g = makeGaussianMixture({ nSamples: 120, nComponents: k, nFeatures: d, seed: 5, separation: 3, covariance: type });
    // Shift and scale the columns: the adapter must undo original units.
    return toRows(g.x, g.rows, g.cols).map((r) => r.map((v, j) => 100 + (j + 1) * 3 * v));
  })();

  it('round trip toUnconstrained/fromUnconstrained, and the dimension', async () => {
    const adapter = gmmGradientAdapter(k, type);
    const problem = adapter.prepare(rows);
    try {
      expect(problem.dim).toBe(gmmGradientDim(type, k, d));
      const p = randomParams(type, k, d, 1);
      const theta = problem.toUnconstrained(p);
      expect(theta.length).toBe(problem.dim);
      const back = problem.fromUnconstrained(theta);
      expect(paramsDistance(p, back)).toBeLessThan(1e-10 * 100);
      const again = problem.toUnconstrained(back);
      theta.forEach((v, i) => expect(Math.abs(v - (again[i] as number))).toBeLessThan(1e-9));
      expect(back.covarianceType).toBe(type);
    } finally {
      problem.dispose();
    }
  });

  it('log-likelihood equals the model and a float64 reference', async () => {
    const gmm = gaussianMixture({ nComponents: k, covarianceType: type });
    const p = randomParams(type, k, d, 2);
    const ref = refLogLikelihood(p, rows);
    const model = gmm.score(p, rows) * rows.length;
    const report = await stationarity(gmm, rows, p);
    expect(Math.abs(report.logLikelihood - ref)).toBeLessThan(2e-6 * Math.abs(ref) + 1e-3);
    expect(Math.abs(model - ref)).toBeLessThan(2e-6 * Math.abs(ref) + 1e-3);
  });

  it('autodiff gradient equals float64 central differences of the reference', async () => {
    ensureGradientKernels();
    const adapter = gmmGradientAdapter(k, type);
    const problem = adapter.prepare(rows);
    try {
      const theta = problem.toUnconstrained(randomParams(type, k, d, 3));
      const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.mul(problem.blockLogLikelihood(0, t as tf.Tensor1D), 1 / rows.length))(tf.tensor1d(Float32Array.from(theta))));
      const auto = Float64Array.from(g.dataSync());
      g.dispose();
      const f = (th: Float64Array): number => refLogLikelihood(problem.fromUnconstrained(th), rows) / rows.length;
      const h = 1e-5;
      let scale = 0;
      let worst = 0;
      for (let i = 0; i < theta.length; i++) {
        const plus = Float64Array.from(theta);
        const minus = Float64Array.from(theta);
        plus[i] = (plus[i] as number) + h;
        minus[i] = (minus[i] as number) - h;
        const fd = (f(plus) - f(minus)) / (2 * h);
        scale = Math.max(scale, Math.abs(fd));
        worst = Math.max(worst, Math.abs(fd - (auto[i] as number)));
      }
      expect(scale).toBeGreaterThan(1e-2);
      expect(worst).toBeLessThan(1e-4 * Math.max(1, scale));
    } finally {
      problem.dispose();
    }
  });
});

/** A start away from the optimum: weights equalized, means moved by about one standard deviation, covariances doubled. */
function perturbed(p: GmmParams): GmmParams {
  const k = p.weights.length;
  return {
    covarianceType: p.covarianceType,
    weights: p.weights.map(() => 1 / k),
    means: p.means.map((m, c) => m.map((v, j) => v + (c % 2 === 0 ? 1 : -1) * Math.sqrt(((p.covariances[c] as number[][])[j] as number[])[j] as number))),
    covariances: p.covariances.map((s) => s.map((row) => row.map((v) => 2 * v))),
  };
}

describe('gradient ascent vs exact EM', () => {
  it.each([
    ['full', 2],
    ['full', 3],
    ['diag', 3],
    ['spherical', 2],
    ['tied', 3],
  ] as [CovarianceType, number][])('reaches the same optimum from the same start (%s, K = %i), stationary there', async (type, k) => {
    const rows = easy(type, k);
    const gmm = gaussianMixture({ nComponents: k, covarianceType: type, regCovar: 0 });
    const start = perturbed(await initialParams(gmm, rows, { seed: 0 }));
    const em = await fit(gmm, rows, { init: start, maxIter: 1000, tol: 1e-9, ...quiet });
    const gr = await fitGradient(gmm, rows, { init: start, maxIter: 500, tol: 1e-9, ...quiet });
    const emLL = em.logLikelihood as number;
    const grLL = gr.logLikelihood as number;
    const atEm = await stationarity(gmm, rows, em.params);
    const atStart = await stationarity(gmm, rows, start);
    expect(em.converged).toBe(true);
    expect(gr.converged).toBe(true);
    expect(Math.abs(grLL - emLL)).toBeLessThan(1e-6 * Math.abs(emLL));
    expect(paramsDistance(em.params, gr.params)).toBeLessThan(1e-2);
    expect(atEm.gradNorm).toBeLessThan(1e-4);
    // float32 objective values limit how close the line search gets: about 1e-3 here (EM's closed-form M-step is not limited by them).
    expect(gr.report.stationarity.gradNorm).toBeLessThan(2e-3);
    expect(atStart.gradNorm).toBeGreaterThan(0.05);
  });
});

describe('fitGradient on a Gaussian mixture: contract', () => {
  const rows = easy('full', 3, 9);
  const gmm = gaussianMixture({ nComponents: 3, covarianceType: 'full' });

  it('starts from the same parameters as fit with the same seed', async () => {
    const em = await fit(gmm, rows, { seed: 4, maxIter: 1, ...quiet });
    const gr = await fitGradient(gmm, rows, { seed: 4, maxIter: 1, ...quiet });
    // Record 1 holds L(θ₀) in both: fit from the statistics, fitGradient from the model's logLikelihood.
    expect(Math.abs((gr.trace[0]?.boundAfterE as number) - (em.trace[0]?.boundAfterE as number))).toBeLessThan(1e-6 * Math.abs(em.trace[0]?.boundAfterE as number));
    const start = await initialParams(gmm, rows, { seed: 4 });
    const again = await fitGradient(gmm, rows, { init: start, maxIter: 1, ...quiet });
    expect(again.trace[0]?.boundAfterE).toBe(gr.trace[0]?.boundAfterE);
    expect(again.params).toEqual(gr.params);
  });

  it('Adam reaches the exact-EM optimum too (more iterations)', async () => {
    const em = await fit(gmm, rows, { seed: 0, maxIter: 500, tol: 1e-9, ...quiet });
    const gr = await fitGradient(gmm, rows, { seed: 0, optimizer: 'adam', learningRate: 0.01, maxIter: 3000, tol: 1e-9, ...quiet });
    expect(Math.abs((gr.logLikelihood as number) - (em.logLikelihood as number))).toBeLessThan(1e-5 * Math.abs(em.logLikelihood as number));
    expect(paramsDistance(em.params, gr.params)).toBeLessThan(2e-2);
  });

  it('result saves and loads exactly, and the model accepts the loaded parameters', async () => {
    const r: GradientFitResult<GmmParams> = await fitGradient(gmm, rows, { seed: 1, maxIter: 20, ...quiet });
    const path = join(mkdtempSync(join(tmpdir(), 'emlab-gmm-grad-')), 'r.json');
    await saveResult(path, r);
    const back = await loadResult<GmmParams>(path, gmm);
    expect(back).toEqual(r);
    expect(gmm.predict(back.params, rows)).toEqual(gmm.predict(r.params, rows));
  });

  it('frees every tensor (fitGradient, stationarity, adapter)', async () => {
    await expectNoTensorLeak(async () => {
      await fitGradient(gmm, rows, { seed: 2, maxIter: 10, ...quiet });
      await stationarity(gmm, rows, await initialParams(gmm, rows, { seed: 2 }));
      const problem = gradientAdapterFor(gmm).prepare(rows);
      problem.dispose();
    }, 'gradient ascent');
  });

  it('missing entries are rejected with INVALID_DATA naming the cell', async () => {
    const adapter = gmmGradientAdapter(2, 'diag');
    const withNaN = rows.map((r) => r.slice());
    (withNaN[5] as number[])[1] = Number.NaN;
    let caught: unknown;
    try {
      adapter.prepare(withNaN);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(EmError);
    expect((caught as EmError).code).toBe('INVALID_DATA');
    expect((caught as EmError).path).toEqual(['data', 5, 1]);
  });

  it('typed errors: wrong parameters, bad adapter arguments', async () => {
    const e = await catchEmErrorAsync(stationarity(gmm, rows, { covarianceType: 'full', weights: [1], means: [[0, 0]], covariances: [[[1, 0], [0, 1]]] }));
    expect(e.code).toBe('INVALID_PARAMS');
    expect((await catchEmErrorAsync(Promise.resolve().then(() => gmmGradientAdapter(0, 'full')))).code).toBe('INVALID_ARGUMENT');
    expect((await catchEmErrorAsync(Promise.resolve().then(() => gmmGradientAdapter(2, 'banded' as CovarianceType)))).code).toBe('INVALID_ARGUMENT');
  });
});
