/**
 * The stationarity check through Fisher's identity (core `stationarity`,
 * method 'fisher-identity'): equal to autodiff on complete data, equal to
 * finite differences of a float64 observed-data log-likelihood with missing
 * entries, near zero at EM's optimum and clearly not at the start, for
 * Gaussian mixtures with holes and for Bayesian networks.
 */
import { describe, expect, it } from 'vitest';
import { createRng, fit, stationarity } from '@emlab/core';
import '@emlab/exact';
import { asiaNetwork, bayesianNetwork, gaussianMixture, prepareGmmData, sampleNetwork, type GmmParams } from '@emlab/models';
import { catchEmErrorAsync, makeMixtureCase, refMissingLogDensity } from '@emlab/testing';

const quiet = { onWarning: (): void => {} };

function withHoles(rows: readonly (readonly number[])[], rate: number, seed: number): number[][] {
  const rng = createRng(seed).child('holes');
  return rows.map((row, r) => row.map((v) => (r >= 6 && rng.uniform() < rate ? Number.NaN : v)));
}

describe('Gaussian mixture', () => {
  const c = makeMixtureCase(2, 3, 'full', 5, { perComponent: 40 });

  it('complete data: Fisher identity equals autodiff of the log-likelihood (same coordinates)', async () => {
    const model = gaussianMixture({ nComponents: 2 });
    const a = await stationarity(model, c.rows, c.params, { method: 'autodiff' });
    const f = await stationarity(model, c.rows, c.params, { method: 'fisher-identity' });
    expect(a.method).toBe('autodiff');
    expect(f.method).toBe('fisher-identity');
    expect(f.dim).toBe(a.dim);
    expect(f.parametrization).toBe(a.parametrization);
    expect(a.gradNorm).toBeGreaterThan(0.01);
    expect(Math.abs(f.gradNorm - a.gradNorm)).toBeLessThan(1e-3 * a.gradNorm);
    expect(Math.abs(f.gradMaxAbs - a.gradMaxAbs)).toBeLessThan(1e-3 * a.gradMaxAbs);
  });

  it('missing entries: auto picks Fisher identity, which equals finite differences of the float64 observed-data log-likelihood', async () => {
    const x = withHoles(c.rows, 0.3, 5);
    const model = gaussianMixture({ nComponents: 2 });
    const f = await stationarity(model, x, c.params);
    expect(f.method).toBe('fisher-identity');
    const prepared = prepareGmmData(x);
    const coords = model.parametrization(prepared);
    prepared.dispose();
    const theta = coords.toVector(c.params);
    const ll = (v: Float64Array): number => refMissingLogDensity(x, coords.fromVector(v)).reduce((s, t) => s + t, 0);
    let sq = 0;
    for (let i = 0; i < theta.length; i++) {
      const h = 1e-6 * Math.max(1, Math.abs(theta[i] as number));
      const up = Float64Array.from(theta);
      const down = Float64Array.from(theta);
      up[i] = (up[i] as number) + h;
      down[i] = (down[i] as number) - h;
      sq += ((ll(up) - ll(down)) / (2 * h) / prepared.nRows) ** 2;
    }
    expect(Math.abs(f.gradNorm - Math.sqrt(sq))).toBeLessThan(1e-4 * Math.sqrt(sq));
  });

  it("missing entries: near zero at EM's optimum, large at the start", async () => {
    const x = withHoles(c.rows, 0.3, 6);
    const model = gaussianMixture({ nComponents: 2, regCovar: 0 });
    const r = await fit(model, x, { init: c.params, tol: 0, maxIter: 400, ...quiet });
    const atStart = await stationarity(model, x, c.params);
    const atEnd = await stationarity(model, x, r.params as GmmParams);
    expect(atStart.gradNorm).toBeGreaterThan(0.05);
    expect(atEnd.gradNorm).toBeLessThan(1e-4);
  });
});

describe('Bayesian network', () => {
  const net = asiaNetwork();
  const data = sampleNetwork(net, 2000, 3, { missingRate: 0.2 });

  it("ML: near zero at EM's optimum, large at a random start; objective the log-likelihood", async () => {
    const model = bayesianNetwork(net);
    const start = await fit(model, data, { seed: 1, maxIter: 1, tol: 0, ...quiet });
    const r = await fit(model, data, { seed: 1, maxIter: 500, tol: 0, ...quiet });
    const atStart = await stationarity(model, data, start.params);
    const atEnd = await stationarity(model, data, r.params);
    expect(atEnd.method).toBe('fisher-identity');
    expect(atEnd.objective).toBe('mean-log-likelihood');
    expect(atStart.gradNorm).toBeGreaterThan(1e-3);
    expect(atEnd.gradNorm).toBeLessThan(1e-5);
  });

  it('MAP: the objective is the log posterior, stationary at the MAP fit', async () => {
    const model = bayesianNetwork(net, { pseudoCount: 1 });
    const r = await fit(model, data, { seed: 1, maxIter: 500, tol: 0, ...quiet });
    const s = await stationarity(model, data, r.params);
    expect(s.objective).toBe('mean-log-posterior');
    expect(s.gradNorm).toBeLessThan(1e-5);
  });

  it('errors: autodiff is not available for a network; bad method', async () => {
    const model = bayesianNetwork(net);
    const params = (await fit(model, data, { seed: 1, maxIter: 1, ...quiet })).params;
    expect((await catchEmErrorAsync(stationarity(model, data, params, { method: 'autodiff' }))).message).toMatch(/no gradient adapter/);
    expect((await catchEmErrorAsync(stationarity(model, data, params, { method: 'bogus' as never }))).message).toMatch(/method/);
  });
});
