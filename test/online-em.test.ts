/**
 * Online (stepwise) EM: on large simulated data (a Gaussian mixture, one with 30% of entries
 * missing, a latent-class network) the averaged online estimate lies inside the 95% likelihood-ratio
 * confidence region of the batch MLE, 2(ℓ(θ̂) − ℓ(θ_online)) ≤ χ²_p(0.95) (p free parameters; the
 * quantile is computed here by integrating the χ² density); a streamed CSV file gives the same fit
 * as the same rows in memory; the source is pulled at most two minibatches ahead; `partialFit`
 * continues a fit exactly as one longer stream; held-out log-likelihoods per pass; typed errors.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fit, fitOnline, logGamma, logLikelihoodOf, partialFit, type Model } from '@emlab/core';
import { csvRowBlocks } from '@emlab/core/node';
import '@emlab/exact';
import { bayesianNetwork, gaussianMixture, sampleNetwork, type BayesNet } from '@emlab/models';
import { makeGaussianMixture, maskMissing } from '@emlab/data';
import { catchEmErrorAsync, expectNoTensorLeak } from '@emlab/testing';
import { poissonMixture, type PoissonParams } from './helpers/poisson-mixture.js';

const quiet = { onWarning: (): void => {} };

/** The q-quantile of χ²_p: bisection on the CDF, the density integrated by composite Simpson (2000 panels). */
function chiSquareQuantile(p: number, q: number): number {
  const logNorm = (p / 2) * Math.log(2) + logGamma(p / 2);
  // At x = 0 the density is 1/2 for p = 2 and 0 for p > 2 (p ≥ 2 here: the integrand is bounded).
  const density = (x: number): number => (x <= 0 ? (p === 2 ? 0.5 : 0) : Math.exp((p / 2 - 1) * Math.log(x) - x / 2 - logNorm));
  const cdf = (x: number): number => {
    const n = 2000;
    const h = x / n;
    let s = density(0) + density(x);
    for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * density(i * h);
    return (s * h) / 3;
  };
  let lo = 0;
  let hi = p + 20 * Math.sqrt(2 * p);
  for (let it = 0; it < 60; it++) {
    const mid = 0.5 * (lo + hi);
    if (cdf(mid) < q) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** Online (averaged) against batch: 2(ℓ(θ̂) − ℓ(θ_online)) and the χ² bound. */
async function againstBatch<D, P>(model: Model<D, P, any, any>, data: D, options: Record<string, unknown>): Promise<{ deviance: number; bound: number }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const batch = await fit(model, data, { seed: 0, nInit: 2, accelerate: 'squarem', tol: 1e-11, maxIter: 5000, ...quiet });
  const online = await fitOnline(model, data, { seed: 0, ...options, ...quiet });
  expect(online.averaged).toBe(true);
  const ll = (await logLikelihoodOf(model, data, online.params)) as number;
  const p = model.nParameters?.(batch.params) as number;
  return { deviance: 2 * ((batch.logLikelihood as number) - ll), bound: chiSquareQuantile(p, 0.95) };
}

describe('online EM approaches the batch MLE on large simulated data', () => {
  it('the χ² quantile helper reproduces closed forms (χ²₂: 1 − e^(−x/2); χ²₄: 1 − e^(−x/2)(1 + x/2))', () => {
    expect(chiSquareQuantile(2, 0.9)).toBeCloseTo(-2 * Math.log(0.1), 6);
    const x = chiSquareQuantile(4, 0.95);
    expect(1 - Math.exp(-x / 2) * (1 + x / 2)).toBeCloseTo(0.95, 8);
  });

  it('Gaussian mixture, 20 000 rows, minibatches of 500, two passes', async () => {
    const g = makeGaussianMixture({ nSamples: 20000, nComponents: 3, nFeatures: 2, seed: 5, separation: 3 });
    const { deviance, bound } = await againstBatch(gaussianMixture({ nComponents: 3, regCovar: 0 }), { values: g.values, rows: g.rows, cols: g.cols }, { batchSize: 500, passes: 2 });
    console.log(`online GMM: 2Δℓ = ${deviance.toFixed(3)} (95% bound ${bound.toFixed(2)})`);
    expect(deviance).toBeGreaterThanOrEqual(-1e-6);
    expect(deviance).toBeLessThan(bound);
  });

  it('Gaussian mixture with 30% of entries missing, 20 000 rows', async () => {
    const g = makeGaussianMixture({ nSamples: 20000, nComponents: 2, nFeatures: 3, seed: 6, separation: 3 });
    const holes = maskMissing({ values: g.values, rows: g.rows, cols: g.cols }, { rate: 0.3, seed: 2 }).table;
    const { deviance, bound } = await againstBatch(gaussianMixture({ nComponents: 2, regCovar: 0 }), holes, { batchSize: 400, passes: 2 });
    console.log(`online GMM, 30% missing: 2Δℓ = ${deviance.toFixed(3)} (95% bound ${bound.toFixed(2)})`);
    expect(deviance).toBeLessThan(bound);
  });

  it('latent-class network (hidden class, 7 binary indicators, 10% of cells missing), 20 000 rows, three passes', async () => {
    // Informative indicators: EM converges in tens of iterations. (Online EM inherits EM's rate: with
    // weak indicators, where batch EM needs hundreds of iterations, it needs more passes too.)
    const truth: BayesNet = {
      name: 'latent-class',
      nodes: [
        { name: 'Z', states: ['a', 'b'], parents: [], cpt: [0.35, 0.65] },
        ...['A', 'B', 'C', 'D', 'E', 'F', 'G'].map((name, i) => ({ name, states: ['0', '1'], parents: ['Z'], cpt: [0.9 - 0.02 * i, 0.1 + 0.02 * i, 0.15 + 0.02 * i, 0.85 - 0.02 * i] })),
      ],
    };
    const data = sampleNetwork(truth, 20000, 9, { hide: ['Z'], missingRate: 0.1 });
    const { deviance, bound } = await againstBatch(bayesianNetwork(truth, { hidden: ['Z'] }), data, { batchSize: 500, passes: 3 });
    console.log(`online latent class: 2Δℓ = ${deviance.toFixed(3)} (95% bound ${bound.toFixed(2)})`);
    expect(deviance).toBeLessThan(bound);
  });
});

describe('streams', () => {
  const g = makeGaussianMixture({ nSamples: 3000, nComponents: 2, nFeatures: 2, seed: 8, separation: 3 });
  const holes = maskMissing({ values: g.values, rows: g.rows, cols: g.cols }, { rate: 0.2, seed: 3 }).table;
  const gmm = gaussianMixture({ nComponents: 2, regCovar: 0 });

  it('a CSV file streamed from disk gives the same fit as the same rows in memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emlab-online-'));
    const path = join(dir, 'rows.csv');
    const lines = ['x,y'];
    for (let r = 0; r < holes.rows; r++) lines.push([0, 1].map((c) => (Number.isNaN(holes.values[r * 2 + c] as number) ? 'NA' : String(holes.values[r * 2 + c]))).join(','));
    writeFileSync(path, `${lines.join('\r\n')}\r\n`);
    let blocks = 0;
    for await (const b of csvRowBlocks(path, { blockRows: 700 })) {
      expect(b.firstRow).toBe(700 * blocks++);
      expect(b.columns).toEqual(['x', 'y']);
    }
    expect(blocks).toBe(Math.ceil(holes.rows / 700));
    const fromFile = await fitOnline(gmm, path, { batchSize: 256, passes: 2, seed: 1, heldOut: holes, ...quiet });
    const inMemory = await fitOnline(gmm, holes, { batchSize: 256, passes: 2, seed: 1, heldOut: holes, ...quiet });
    expect(fromFile.params).toEqual(inMemory.params);
    expect(fromFile.passTrace.map((p) => p.heldOutLogLikelihood)).toEqual(inMemory.passTrace.map((p) => p.heldOutLogLikelihood));
    // The held-out log-likelihood of the last pass is that of the reported parameters.
    expect(fromFile.heldOutLogLikelihood).toBe(await logLikelihoodOf(gmm, holes, fromFile.params));
    expect(fromFile.passTrace.map((p) => p.rows)).toEqual([holes.rows, holes.rows]);
  });

  it('pulls at most two minibatches ahead of the updates (never the whole data set)', async () => {
    let pulled = 0;
    let maxAhead = 0;
    let done = 0;
    async function* blocks(): AsyncGenerator<{ values: Float64Array; rows: number; cols: number }> {
      for (let start = 0; start < holes.rows; start += 100) {
        pulled += Math.min(100, holes.rows - start);
        maxAhead = Math.max(maxAhead, pulled - done);
        yield { values: holes.values.slice(start * 2, Math.min(holes.rows, start + 100) * 2), rows: Math.min(100, holes.rows - start), cols: 2 };
      }
    }
    const r = await fitOnline(gmm, blocks, { batchSize: 300, passes: 2, onBatch: (rec) => void (done += rec.rows), ...quiet });
    expect(r.rows).toBe(2 * holes.rows);
    // Rows pulled but not yet learned from: at most a held-back minibatch, a partial one and one block.
    expect(maxAhead).toBeLessThanOrEqual(2 * 300 + 100);
    expect(r.updates).toBe(20);
  });

  it('partialFit continues a fit exactly as one longer stream would', async () => {
    const half = 1500;
    const first = { values: holes.values.slice(0, half * 2), rows: half, cols: 2 };
    const second = { values: holes.values.slice(half * 2), rows: holes.rows - half, cols: 2 };
    const options = { batchSize: 250, seed: 2, averageFrom: 0, ...quiet };
    const whole = await fitOnline(gmm, [first, second], options);
    const a = await fitOnline(gmm, first, options);
    const b = await partialFit(gmm, a, second);
    expect(b.params).toEqual(whole.params);
    expect(b.lastParams).toEqual(whole.lastParams);
    expect(b.updates).toBe(whole.updates);
    expect(b.trace.slice(a.updates).map((t) => t.pass)).toEqual(new Array<number>(b.updates - a.updates).fill(0));
    expect(b.trace.map((t) => t.stepSize)).toEqual(whole.trace.map((t) => t.stepSize));
  });

  it('step sizes γ_n = (n + n₀)^−α; the same seed gives the same fit; no tensors left behind', async () => {
    const r = await expectNoTensorLeak(() => fitOnline(gmm, holes, { batchSize: 500, stepAlpha: 0.7, stepOffset: 3, seed: 4, ...quiet }));
    r.trace.forEach((t, i) => expect(t.stepSize).toBe(i === 0 ? 1 : (i + 1 + 3) ** -0.7));
    const again = await fitOnline(gmm, holes, { batchSize: 500, stepAlpha: 0.7, stepOffset: 3, seed: 4, ...quiet });
    expect(again.params).toEqual(r.params);
    expect(r.boundKind).toBe('estimate');
    expect(r.eStepCalls).toBe(r.updates);
  });

  it('works for a plug-in model in plain JavaScript (Poisson mixture), without averaging', async () => {
    const counts = Array.from({ length: 6000 }, (_, i) => (i % 3 === 0 ? i % 4 : 6 + (i % 5)));
    const model = poissonMixture(2);
    const r = await fitOnline(model, counts, { batchSize: 300, passes: 3, average: false, ...quiet });
    expect(r.averaged).toBe(false);
    const batch = await fit(model, counts, { tol: 1e-12, ...quiet });
    const rates = (p: PoissonParams): number[] => [...p.rates].sort((x, y) => x - y);
    rates(r.params).forEach((v, i) => expect(Math.abs(v - (rates(batch.params)[i] as number))).toBeLessThan(0.05));
  });
});

describe('typed errors', () => {
  const gmm = gaussianMixture({ nComponents: 2 });
  const rows = Array.from({ length: 50 }, (_, i) => [i % 7, (i * 3) % 5]);
  it('options, sources and methods are checked', async () => {
    expect((await catchEmErrorAsync(fitOnline(gmm, rows, { stepAlpha: 0.4 }))).path).toEqual(['options', 'stepAlpha']);
    expect((await catchEmErrorAsync(fitOnline(gmm, rows, { eStep: 'gradient' }))).path).toEqual(['options', 'eStep']);
    expect((await catchEmErrorAsync(fitOnline(gmm, rows, { batchSize: 0 }))).path).toEqual(['options', 'batchSize']);
    async function* once(): AsyncGenerator<number[][]> {
      yield rows;
    }
    const e = await catchEmErrorAsync(fitOnline(gmm, once(), { passes: 2, ...quiet }));
    expect(e.path).toEqual(['source']);
    const { parametrization: _p, ...bare } = poissonMixture(2);
    expect((await catchEmErrorAsync(fitOnline(bare as Model<readonly number[], PoissonParams, unknown, never>, [1, 2, 3], { average: true }))).path).toEqual(['options', 'average']);
    const r = await fitOnline(gmm, rows, { batchSize: 25, ...quiet });
    expect((await catchEmErrorAsync(partialFit(poissonMixture(2) as unknown as typeof gmm, r, rows))).path).toEqual(['result', 'model']);
    expect((await catchEmErrorAsync(fitOnline(gmm, join(tmpdir(), 'no-such-file-emlab.csv')))).code).toBe('IO_ERROR');
  });
});
