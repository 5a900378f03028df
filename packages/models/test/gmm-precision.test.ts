/**
 * Research-grade numerics (issue 10) for Gaussian mixtures: float64 results against float64
 * references and published optima, convergence to |Δℓ| < 1e-12, no decrease beyond 1e-12 relative
 * in float64, precision `auto`, D > N, data at any scale, and degenerate (spurious) maxima.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AUTO_FLOAT64_COST, createRng, fit, monotonicityTolerance, toJson, type FitResult, type IterationRecord } from '@emlab/core';
import '@emlab/exact';
import '@emlab/variational';
import { parseNumericCsv } from '@emlab/data';
import { gaussianMixture, type GmmParams } from '@emlab/models';
import { mixtureCaseArb, refEmStep, refLogDensity, refMissingEmStep, refMissingLogDensity } from '@emlab/testing';

const quiet = { onWarning: (): void => {} };
const csv = (file: string) => parseNumericCsv(readFileSync(new URL(`../../../data/${file}`, import.meta.url), 'utf8'));
const faithful = csv('faithful.csv');
const rowsOf = (t: { values: Float64Array; rows: number; cols: number }, cols: number[] = Array.from({ length: t.cols }, (_, i) => i)): number[][] =>
  Array.from({ length: t.rows }, (_, r) => cols.map((c) => t.values[r * t.cols + c] as number));
const optima = JSON.parse(readFileSync(new URL('./fixtures/classic/mclust-optima.json', import.meta.url), 'utf8')) as Record<string, { loglik: number; pro: number[]; mean: number[] }>;

/** Σ_n log p(x_n | θ) in float64, straight from the reference densities (missing entries marginalized). */
function refLogLik(rows: number[][], p: GmmParams): number {
  const anyMissing = rows.some((r) => r.some(Number.isNaN));
  const lp = anyMissing ? refMissingLogDensity(rows, p) : refLogDensity(rows, p.weights, p.means, p.covariances).logProb;
  return lp.reduce((a, b) => a + b, 0);
}

const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.max(1, Math.abs(b));
const lastDelta = (trace: readonly IterationRecord[]): number => {
  const n = trace.length;
  return Math.abs((trace[n - 1] as IterationRecord).boundAfterM - (trace[n - 2] as IterationRecord).boundAfterM);
};

describe('published optima (R mclust 6.0.0, EM tolerance 1e-15)', () => {
  it.each([
    ['faithfulVVV2', [0, 1]],
    ['eruptionsV2', [0]],
  ] as const)('%s: the log-likelihood equals the optimum to 1e-10 relative; the fit converges to |Δℓ| < 1e-12', async (key, cols) => {
    const rows = rowsOf(faithful, [...cols]);
    const r = await fit(gaussianMixture({ nComponents: 2, regCovar: 0 }), rows, { seed: 0, nInit: 4, tol: 1e-15, maxIter: 5000, ...quiet });
    const ref = optima[key] as { loglik: number; pro: number[] };
    expect(r.precision.used).toEqual(['float64']);
    expect(relErr(r.logLikelihood as number, ref.loglik)).toBeLessThanOrEqual(1e-10);
    // The reported value is the float64 log-likelihood at the reported parameters.
    expect(relErr(r.logLikelihood as number, refLogLik(rows, r.params))).toBeLessThanOrEqual(1e-12);
    expect(lastDelta(r.trace)).toBeLessThan(1e-12);
    const weights = [...r.params.weights].sort((a, b) => a - b);
    const refWeights = [...ref.pro].sort((a, b) => a - b);
    weights.forEach((w, i) => expect(Math.abs(w - (refWeights[i] as number))).toBeLessThan(1e-7));
  });
});

describe('float64 results against float64 references', () => {
  it('one EM step equals the float64 reference step to 1e-10 (every covariance type), and the log-likelihood to 1e-12', async () => {
    await fc.assert(
      fc.asyncProperty(mixtureCaseArb(), async (c) => {
        const g = gaussianMixture({ nComponents: c.k, covarianceType: c.covarianceType });
        const r = await fit(g, c.rows, { init: c.params, maxIter: 1, tol: 0, precision: 'float64', ...quiet });
        const ref = refEmStep(c.rows, c.params, c.covarianceType, g.regCovar);
        r.params.weights.forEach((w, k) => expect(Math.abs(w - (ref.weights[k] as number))).toBeLessThanOrEqual(1e-10));
        r.params.means.forEach((m, k) => m.forEach((v, i) => expect(relErr(v, (ref.means[k] as number[])[i] as number)).toBeLessThanOrEqual(1e-10)));
        r.params.covariances.forEach((m, k) => m.forEach((row, i) => row.forEach((v, j) => {
          const e = ((ref.covariances[k] as number[][])[i] as number[])[j] as number;
          const scale = Math.sqrt((((ref.covariances[k] as number[][])[i] as number[])[i] as number) * (((ref.covariances[k] as number[][])[j] as number[])[j] as number));
          expect(Math.abs(v - e) / scale).toBeLessThanOrEqual(1e-10);
        })));
        expect(relErr(r.trace[0]?.logLikelihood as number, ref.logLikelihood)).toBeLessThanOrEqual(1e-12);
        expect(relErr(r.logLikelihood as number, refLogLik(c.rows, r.params))).toBeLessThanOrEqual(1e-12);
      }),
      { numRuns: 60 },
    );
  });

  it('missing entries: the iterates of a K = 1 fit equal a float64 reference EM to 1e-12 (apple, Draper–Smith)', async () => {
    for (const file of ['apple_littlerubin.csv', 'missvals_draper_smith.csv']) {
      const rows = rowsOf(csv(file));
      const r = await fit(gaussianMixture({ nComponents: 1, regCovar: 0 }), rows, { maxIter: 60, tol: 0, recordParams: true, precision: 'float64', ...quiet });
      let p = r.trace[0]?.params as GmmParams;
      // Replay from the first iterate with the reference and compare every later iterate.
      for (let t = 1; t < r.trace.length; t++) {
        const ref = refMissingEmStep(rows, p, 'full', 0);
        const ours = r.trace[t]?.params as GmmParams;
        ours.means[0]?.forEach((v, i) => expect(relErr(v, (ref.means[0] as number[])[i] as number)).toBeLessThanOrEqual(1e-12));
        p = { covarianceType: 'full', weights: [...ref.weights], means: ref.means.map((m) => [...m]), covariances: ref.covariances.map((m) => m.map((row) => [...row])) };
      }
      expect(relErr(r.logLikelihood as number, refLogLik(rows, r.params))).toBeLessThanOrEqual(1e-12);
    }
  });

  /**
   * The trace against 1e-12 relative: every half-step that is not flagged `ill-conditioned` (E-half:
   * neither its record nor the previous one), and every violation a flagged one records is marked.
   */
  const checkTrace = (r: FitResult<GmmParams>): void => {
    const ill = (rec: IterationRecord): boolean => rec.events.some((e) => e.type === 'ill-conditioned');
    let prev: IterationRecord | undefined;
    for (const rec of r.trace) {
      for (const v of rec.violations) {
        // Only float64 roundoff on an ill-conditioned half-step may be recorded without stopping a 'throw' fit.
        expect(v.illConditioned).toBe(true);
        expect(ill(rec) || (v.halfStep === 'E' && prev !== undefined && ill(prev))).toBe(true);
      }
      if (rec.events.some((e) => e.type === 'reinitialized')) {
        prev = undefined;
        continue;
      }
      if (prev !== undefined && !ill(prev) && !ill(rec)) expect(rec.boundAfterE).toBeGreaterThanOrEqual(prev.boundAfterM - 1e-12 * Math.abs(prev.boundAfterM));
      if (!ill(rec)) expect(rec.boundAfterM).toBeGreaterThanOrEqual(rec.boundAfterE - 1e-12 * Math.abs(rec.boundAfterE) - rec.mStepSlack);
      prev = rec;
    }
  };

  it.each([
    ['regCovar 1e-6 (the default)', undefined],
    ['regCovar 0', 0],
  ] as const)('in float64 the bound never decreases by more than 1e-12 relative (exact and hard EM, random mixtures, %s)', async (_label, regCovar) => {
    await fc.assert(
      fc.asyncProperty(mixtureCaseArb(), fc.constantFrom('exact', 'hard'), async (c, eStep) => {
        const r = await fit(gaussianMixture({ nComponents: c.k, covarianceType: c.covarianceType, ...(regCovar === undefined ? {} : { regCovar }) }), c.rows, {
          eStep, init: c.params, maxIter: 15, tol: 0, precision: 'float64', monotonicity: 'throw', ...quiet,
        });
        checkTrace(r);
      }),
      // A fixed seed, as the conformance kit's: CI must be reproducible. Random seeds were run for
      // 3,000 cases per E-step and regCovar when this was written (none failed).
      { numRuns: 60, seed: 20240917 },
    );
  });

  it('a hard-EM component regularized to near-singularity (regCovar 0) is flagged ill-conditioned, and its roundoff does not stop a throw fit', async () => {
    // Found by a random seed of the property above: a drop of 9.5e-7 against a tolerance of 5.9e-9
    // stopped this fit. A component holding D points gets a jitter of 1e-10 of its mean variance
    // (κ ≈ 1e10), and its bound is resolved only to about 1e-6 nats.
    const c = JSON.parse(readFileSync(new URL('./fixtures/hard-em-near-singular.json', import.meta.url), 'utf8')) as { k: number; covarianceType: 'full'; params: GmmParams; rows: number[][] };
    const warnings: string[] = [];
    const r = await fit(gaussianMixture({ nComponents: c.k, covarianceType: c.covarianceType, regCovar: 0 }), c.rows, {
      eStep: 'hard', init: c.params, maxIter: 15, tol: 0, precision: 'float64', monotonicity: 'throw', onWarning: (w) => warnings.push(w),
    });
    checkTrace(r);
    const flagged = r.trace.filter((rec) => rec.events.some((e) => e.type === 'ill-conditioned'));
    expect(flagged.length).toBeGreaterThan(0);
    expect(r.trace.some((rec) => rec.events.some((e) => e.type === 'regularized'))).toBe(true);
    expect(warnings.filter((w) => w.includes('on an ill-conditioned half-step'))).toHaveLength(1);
    // The same start with the default regularization records no violation (its small component can still be flagged).
    const reg = await fit(gaussianMixture({ nComponents: c.k, covarianceType: c.covarianceType }), c.rows, {
      eStep: 'hard', init: c.params, maxIter: 15, tol: 0, precision: 'float64', monotonicity: 'throw', ...quiet,
    });
    checkTrace(reg);
    expect(reg.trace.every((rec) => rec.violations.length === 0)).toBe(true);
  });
});

describe('precision auto', () => {
  it('runs float32 first on a large problem, finishes in float64, and reports float64-accurate numbers', async () => {
    const { makeGaussianMixture } = await import('@emlab/data');
    // N·K·(D(D+1)/2 + D²) = 1.5·10⁷ float64 flops per iteration: above AUTO_FLOAT64_COST.
    const g = makeGaussianMixture({ nSamples: 50_000, nComponents: 4, nFeatures: 6, seed: 3, separation: 3 });
    const data = { values: g.x, rows: g.rows, cols: g.cols };
    const model = gaussianMixture({ nComponents: 4 });
    expect(model.iterationCost(model.prepare(data, { precisions: ['float64'] }))).toBeGreaterThan(AUTO_FLOAT64_COST);
    const r = await fit(model, data, { seed: 1, tol: 1e-11, maxIter: 400, ...quiet });
    expect(r.precision.used).toEqual(['float32', 'float64']);
    expect(r.converged).toBe(true);
    const first64 = r.trace.findIndex((t) => t.precision === 'float64');
    expect(r.trace[first64]?.exempt).toMatch(/precision switched/);
    // The reported log-likelihood is the float64 value at the reported parameters.
    const rows = rowsOf(data);
    expect(relErr(r.logLikelihood as number, refLogLik(rows, r.params))).toBeLessThanOrEqual(1e-12);
  });
});

describe('more columns than rows (N = 20, D = 40, full covariance)', () => {
  // It used to fall by up to 7.5 nats in float32 with a 2,200-nat tolerance. In float64 every drop is
  // float64 roundoff amplified by the components' conditioning (κ ≈ 10⁷ with regCovar at the floor of
  // 20 points in 40 dimensions): within the capped tolerance, far below a micro-nat, never converged while falling.
  it('the bound never falls beyond the capped float64 tolerance, and a falling bound never reports converged', async () => {
    const rng = (await import('@emlab/core')).createRng(5);
    const rows = Array.from({ length: 20 }, (_, i) => Array.from({ length: 40 }, () => rng.normal() + (i % 2) * 3));
    const r = await fit(gaussianMixture({ nComponents: 2 }), rows, { seed: 0, maxIter: 100, monotonicity: 'throw', ...quiet });
    expect(r.precision.used).toEqual(['float64']);
    for (let t = 1; t < r.trace.length; t++) {
      const a = r.trace[t - 1] as IterationRecord;
      const b = r.trace[t] as IterationRecord;
      if (b.events.some((e) => e.type === 'reinitialized')) continue;
      const drop = a.boundAfterM - b.boundAfterE;
      expect(drop).toBeLessThanOrEqual(monotonicityTolerance(a.boundAfterM, b.boundAfterE, 20, Math.max(a.roundoffScale, b.roundoffScale), 'float64'));
      expect(drop).toBeLessThan(1e-6);
    }
    if (r.converged) {
      const n = r.trace.length;
      expect((r.trace[n - 1] as IterationRecord).boundAfterM).toBeGreaterThanOrEqual((r.trace[n - 2] as IterationRecord).boundAfterM - 64 * 2 ** -53 * Math.abs(r.bound));
    }
  });
});

/** Every number in a result, recursively. */
function numbersOf(v: unknown, out: number[] = []): number[] {
  if (typeof v === 'number') out.push(v);
  else if (Array.isArray(v)) for (const x of v) numbersOf(x, out);
  else if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v)) for (const x of Object.values(v)) numbersOf(x, out);
  return out;
}

describe('data at any scale', () => {
  // A well-conditioned two-component data set, then each column multiplied by a factor from 1e-300 to 1e300.
  const base = rowsOf(faithful);
  const fitScaled = async (factors: readonly number[], precision: 'float64' | 'float32' | 'auto' = 'float64'): Promise<FitResult<GmmParams>> =>
    fit(gaussianMixture({ nComponents: 2, regCovar: 0 }), base.map((r) => r.map((v, j) => v * (factors[j] as number))), { seed: 0, nInit: 2, maxIter: 3000, tol: 1e-15, precision, ...quiet });

  it('fits from 1e-300 to 1e300 without overflow or NaN; the log-likelihood moves by exactly −N Σ log c', async () => {
    const ref = await fitScaled([1, 1]);
    for (const factors of [[1e300, 1], [1e-300, 1e-300], [1e150, 1e-150], [1e19, 1e30], [3e307 / 90, 1]] as const) {
      const r = await fitScaled(factors);
      const json = toJson(r);
      expect(json).not.toMatch(/NaN|Infinity/);
      expect(numbersOf(JSON.parse(json)).every(Number.isFinite)).toBe(true);
      const shift = -base.length * factors.reduce((a, c) => a + Math.log(c), 0);
      expect(relErr(r.logLikelihood as number, (ref.logLikelihood as number) + shift)).toBeLessThanOrEqual(1e-9);
      // Means in original units.
      const means = r.params.means.map((m) => m.map((v, j) => v / (factors[j] as number))).sort((a, b) => (a[0] as number) - (b[0] as number));
      const refMeans = ref.params.means.map((m) => [...m]).sort((a, b) => (a[0] as number) - (b[0] as number));
      means.forEach((m, k) => m.forEach((v, j) => expect(relErr(v, (refMeans[k] as number[])[j] as number)).toBeLessThanOrEqual(1e-6)));
      // Covariances in original units, or declared units when they would not fit in a float64.
      if (r.params.scale !== undefined) expect(r.params.scale.every((s) => Number.isFinite(s) && s > 0)).toBe(true);
      // The reloaded parameters score the data like the fit did.
      const again = gaussianMixture({ nComponents: 2, regCovar: 0 }).score(r.params, base.map((row) => row.map((v, j) => v * (factors[j] as number))));
      expect(relErr(again * base.length, r.logLikelihood as number)).toBeLessThanOrEqual(1e-12);
    }
  });

  it('float32 kernels stay finite on values around 1e19 and 1e30 (they used to give NaN bounds)', async () => {
    const r = await fitScaled([1e19, 1e30], 'float32');
    expect(numbersOf(JSON.parse(toJson(r))).every(Number.isFinite)).toBe(true);
    expect(r.trace.every((t) => Number.isFinite(t.boundAfterM))).toBe(true);
  });

  it('a constant column of 1e308 fits (its variance is the floor), with no NaN anywhere', async () => {
    const rows = base.map((r) => [r[0] as number, 1e308]);
    const r = await fit(gaussianMixture({ nComponents: 2 }), rows, { seed: 0, maxIter: 50, ...quiet });
    expect(numbersOf(JSON.parse(toJson(r))).every(Number.isFinite)).toBe(true);
  });
});

describe('spurious maxima (degenerate components)', () => {
  // 20 points in 1-D: two clusters and a pair of nearly coincident points (0.2 µm apart) that a
  // k-means++ restart can capture with a collapsing third component: its likelihood is then made by
  // the regularization floor, and it is higher than the real (non-degenerate) maximum's.
  const rng = createRng(2);
  const pts = [...Array.from({ length: 10 }, () => rng.normal() - 2), ...Array.from({ length: 8 }, () => rng.normal() * 0.7 + 2)];
  const dup = pts[3] as number;
  const points = [...pts, dup + 1e-7, dup - 1e-7].map((v) => [v]);

  it('restarts that end degenerate are not kept when a non-degenerate one exists; allowDegenerate opts out', async () => {
    const model = gaussianMixture({ nComponents: 3 });
    const r = await fit(model, points, { seed: 0, nInit: 20, maxIter: 500, ...quiet });
    const degenerateRestarts = r.restarts.filter((x) => x.degenerate.length > 0);
    expect(degenerateRestarts.length).toBeGreaterThan(0);
    expect(r.degenerate).toEqual([]);
    expect(r.restarts[r.restart]?.degenerate).toEqual([]);
    // The degenerate restarts have the higher likelihood: that is why they must not win by default.
    const bestDegenerate = Math.max(...degenerateRestarts.map((x) => x.bound));
    expect(bestDegenerate).toBeGreaterThan(r.bound);
    const opted = await fit(model, points, { seed: 0, nInit: 20, maxIter: 500, allowDegenerate: true, ...quiet });
    expect(opted.degenerate.length).toBeGreaterThan(0);
    expect(opted.bound).toBe(bestDegenerate);
    expect(opted.trace.some((t) => t.events.some((e) => e.type === 'degenerate'))).toBe(true);
  });
});
