/**
 * Gaussian mixtures with missing entries: the observed-data log-likelihood and
 * one EM step against a float64 reference, monotonicity (every covariance
 * type, random missingness, exact and hard E-steps), the stochastic E-step's
 * estimate, rows with nothing observed, pattern grouping, typed errors,
 * tensor hygiene, and the K = 1 monotone-pattern closed form (factored
 * likelihood, Little & Rubin) on the two shared data sets.
 *
 * Monotonicity uses `fit`'s own check (`monotonicity: 'throw'`), whose
 * tolerance is core's `monotonicityTolerance`: 64·2⁻²⁴·max(|L_before|, |L_after|, N, S)
 * plus the M-step's regularization slack.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, fit, type FitResult } from '@emlab/core';
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { gaussianMixture, impute, missingSummary, prepareGmmData, type CovarianceType, type GmmParams } from '@emlab/models';
import { parseNumericCsv } from '@emlab/data';
import { catchEmError, expectNoTensorLeak, makeMixtureCase, mixtureCaseArb, refMissingEmStep, refMissingLogDensity, type MixtureCase } from '@emlab/testing';

const quiet = { onWarning: (): void => {} };

/** Hides entries of rows ≥ `keep` with probability `rate` (seeded); rows < keep stay complete. */
function withHoles(rows: readonly (readonly number[])[], rate: number, seed: number, keep: number): number[][] {
  const rng = createRng(seed).child('holes');
  return rows.map((row, r) => row.map((v) => (r >= keep && rng.uniform() < rate ? Number.NaN : v)));
}

const relErr = (a: number, b: number, floor = 1): number => Math.abs(a - b) / Math.max(Math.abs(b), floor);

function maxParamError(a: GmmParams, b: { weights: readonly number[]; means: readonly (readonly number[])[]; covariances: readonly (readonly (readonly number[])[])[] }): number {
  let worst = 0;
  a.weights.forEach((w, c) => {
    worst = Math.max(worst, Math.abs(w - (b.weights[c] as number)));
    (a.means[c] as number[]).forEach((v, i) => (worst = Math.max(worst, relErr(v, (b.means[c] as number[])[i] as number))));
    (a.covariances[c] as number[][]).forEach((row, i) => row.forEach((v, j) => (worst = Math.max(worst, relErr(v, ((b.covariances[c] as number[][])[i] as number[])[j] as number)))));
  });
  return worst;
}

describe('observed-data log-likelihood and one EM step against a float64 reference', () => {
  it('scoreSamples equals the float64 marginal density of the observed entries, for every covariance type', () => {
    fc.assert(
      fc.property(mixtureCaseArb({ maxK: 3, maxD: 4 }), fc.integer({ min: 0, max: 1e6 }), fc.constantFrom(0.1, 0.3, 0.6), (c: MixtureCase, seed, rate) => {
        const x = withHoles(c.rows, rate, seed, 0);
        const model = gaussianMixture({ nComponents: c.k, covarianceType: c.covarianceType });
        const got = model.scoreSamples(c.params, x);
        const want = refMissingLogDensity(x, c.params);
        want.forEach((v, r) => expect(Math.abs((got[r] as number) - v)).toBeLessThan(2e-4 * Math.max(1, Math.abs(v))));
      }),
      { numRuns: 60 },
    );
  });

  it('one exact EM step equals the float64 reference step (conditional means and covariance correction)', async () => {
    for (const type of ['full', 'diag', 'spherical', 'tied'] as CovarianceType[]) {
      for (const seed of [1, 2, 3]) {
        const c = makeMixtureCase(3, 4, type, seed);
        const x = withHoles(c.rows, 0.25, seed, 6);
        const model = gaussianMixture({ nComponents: 3, covarianceType: type, regCovar: 1e-6 });
        const r = await fit(model, x, { init: c.params, maxIter: 1, tol: 0, ...quiet });
        const ref = refMissingEmStep(x, c.params, type, 1e-6);
        expect(maxParamError(r.params, ref)).toBeLessThan(2e-5);
        expect(relErr(r.trace[0]?.logLikelihood as number, ref.logLikelihood)).toBeLessThan(1e-6);
        // the float64 bound from the statistics is the log-likelihood at an exact E-step
        expect(relErr(r.trace[0]?.boundAfterE as number, ref.logLikelihood)).toBeLessThan(1e-6);
      }
    }
  });
});

describe('large patterns on the device (one matmul per block)', () => {
  // ≥ TENSOR_PATTERN_ROWS rows share a pattern, so its rows are uploaded; 'fast' forces the device path.
  const caseOf = (type: CovarianceType): { c: MixtureCase; x: number[][] } => {
    const c = makeMixtureCase(2, 3, type, 31, { perComponent: 300 });
    const rng = createRng(31).child('cols');
    return { c, x: c.rows.map((row) => row.map((v, j) => (j === 2 && rng.uniform() < 0.6 ? Number.NaN : j === 0 && rng.uniform() < 0.02 ? Number.NaN : v))) };
  };

  it('uses device blocks for the large pattern', () => {
    const prepared = prepareGmmData(caseOf('full').x);
    try {
      expect(prepared.missing?.patterns.some((p) => p.blocks !== undefined)).toBe(true);
    } finally {
      prepared.dispose();
    }
  });

  it('predictions stay in row order when small host patterns surround a large device pattern', () => {
    // Pattern order is by number missing, then key: '110' (col 2 missing, few rows), '101' (col 1, many), '011' (col 0, few).
    const { c } = caseOf('full');
    const rng = createRng(33).child('mix');
    const x = c.rows.map((row) => {
      const u = rng.uniform();
      return row.map((v, j) => ((u < 0.6 && j === 1) || (u >= 0.6 && u < 0.63 && j === 2) || (u >= 0.63 && u < 0.66 && j === 0) ? Number.NaN : v));
    });
    const model = gaussianMixture({ nComponents: 2, numerics: 'fast' });
    const prepared = prepareGmmData(x);
    try {
      expect(prepared.missing?.patterns.map((p) => [p.blocks !== undefined, Array.from(p.mis)])).toEqual([[false, [2]], [true, [1]], [false, [0]]]);
    } finally {
      prepared.dispose();
    }
    const got = model.scoreSamples(c.params, x);
    refMissingLogDensity(x, c.params).forEach((v, r) => expect(Math.abs((got[r] as number) - v)).toBeLessThan(2e-4 * Math.max(1, Math.abs(v))));
    const proba = model.predictProba(c.params, x);
    expect(model.predict(c.params, x)).toEqual(proba.map((p) => p.indexOf(Math.max(...p))));
  });

  for (const numerics of ['fast', 'auto', 'centred'] as const) {
    it(`numerics '${numerics}': densities and one EM step equal the float64 reference, every covariance type`, async () => {
      for (const type of ['full', 'diag', 'spherical', 'tied'] as CovarianceType[]) {
        const { c, x } = caseOf(type);
        const model = gaussianMixture({ nComponents: 2, covarianceType: type, numerics });
        const got = model.scoreSamples(c.params, x);
        refMissingLogDensity(x, c.params).forEach((v, r) => expect(Math.abs((got[r] as number) - v)).toBeLessThan(2e-4 * Math.max(1, Math.abs(v))));
        const r = await fit(model, x, { init: c.params, maxIter: 1, tol: 0, ...quiet });
        expect(maxParamError(r.params, refMissingEmStep(x, c.params, type, 1e-6))).toBeLessThan(2e-5);
        const run = await fit(model, x, { seed: 3, maxIter: 30, monotonicity: 'throw', ...quiet });
        for (const t of run.trace) expect(t.violations).toEqual([]);
      }
    });
  }
});

describe('monotonicity with random missingness', () => {
  for (const eStep of ['exact', 'hard'] as const) {
    it(`${eStep}: the bound never decreases (every covariance type, K = 1…3, 10–50% missing, some empty rows)`, async () => {
      await fc.assert(
        fc.asyncProperty(mixtureCaseArb({ maxK: 3, maxD: 4 }), fc.integer({ min: 0, max: 1e6 }), fc.double({ min: 0.1, max: 0.5, noNaN: true }), async (c, seed, rate) => {
          const x = withHoles(c.rows, rate, seed, 2 * c.k);
          const model = gaussianMixture({ nComponents: c.k, covarianceType: c.covarianceType });
          const r = await fit(model, x, { eStep, seed, maxIter: 25, monotonicity: 'throw', ...quiet });
          for (const t of r.trace) expect(t.violations).toEqual([]);
          if (eStep === 'exact') for (const t of r.trace) expect(Math.abs((t.gap as number))).toBeLessThan(1e-3 * Math.max(1, Math.abs(t.logLikelihood as number)));
          if (eStep === 'hard') for (const t of r.trace) expect(t.boundAfterE).toBeLessThanOrEqual((t.logLikelihood as number) + 1e-4 * Math.abs(t.logLikelihood as number));
        }),
        { numRuns: 100 },
      );
    }, 120_000);
  }
});

describe('regressions', () => {
  it('hard EM, tied, 41% missing: a reinitialized component keeps the shared covariance (the next M-step lowered L by 0.18)', async () => {
    const c = makeMixtureCase(3, 4, 'tied', 517126781);
    const x = withHoles(c.rows, 0.409048990138627, 536278, 6);
    const r = await fit(gaussianMixture({ nComponents: 3, covarianceType: 'tied' }), x, { eStep: 'hard', seed: 536278, maxIter: 25, monotonicity: 'throw', ...quiet });
    expect(r.trace.some((t) => t.events.some((e) => e.type === 'reinitialized'))).toBe(true);
  });
});

describe('stochastic E-step through missing entries', () => {
  it('its estimate of log p(x_obs) is within 4 standard errors of the exact value, and draws are reproducible', async () => {
    const c = makeMixtureCase(3, 4, 'full', 7, { perComponent: 40 });
    const x = withHoles(c.rows, 0.3, 7, 6);
    const model = gaussianMixture({ nComponents: 3 });
    const exact = await fit(model, x, { init: c.params, maxIter: 1, tol: 0, ...quiet });
    const run = (seed: number): Promise<FitResult<GmmParams>> => fit(model, x, { init: c.params, eStep: 'stochastic', eStepOptions: { nDraws: 4 }, maxIter: 1, tol: 0, seed, ...quiet });
    const a = await run(3);
    const t = a.trace[0];
    const ll = exact.trace[0]?.logLikelihood as number;
    expect(Math.abs((t?.diagnostics['eStepBound'] as number) - ll)).toBeLessThan(4 * (t?.boundStdErr as number) + 1e-3 * Math.abs(ll));
    expect((await run(3)).params).toEqual(a.params);
    expect((await run(4)).params).not.toEqual(a.params);
    // the entropy includes the conditional entropy of the missing entries (exact E-step's value)
    expect(relErr(t?.entropy as number, exact.trace[0]?.entropy as number, 1)).toBeLessThan(1e-3);
  });
});

describe('rows, patterns and errors', () => {
  const c = makeMixtureCase(2, 3, 'full', 11);
  const x = withHoles(c.rows, 0.3, 11, 4);

  it('rows with every entry missing contribute nothing and are reported', async () => {
    const empty = [Number.NaN, Number.NaN, Number.NaN];
    const model = gaussianMixture({ nComponents: 2 });
    const plain = model.scoreSamples(c.params, x);
    const padded = model.scoreSamples(c.params, [empty, ...x, empty]);
    expect(padded[0]).toBe(0);
    expect(padded[padded.length - 1]).toBe(0);
    Array.from(plain).forEach((v, r) => expect(padded[r + 1]).toBeCloseTo(v, 5));
    expect(model.predictProba(c.params, [empty])[0]).toEqual(c.params.weights);
    const s = missingSummary([empty, ...x]);
    expect(s.nRowsAllMissing).toBe(1 + x.filter((r) => r.every(Number.isNaN)).length);
    expect(s.nMissing).toBe(x.flat().filter(Number.isNaN).length + 3);
    expect(s.patterns.reduce((n, p) => n + p.count, 0)).toBe(x.length + 1);
    const a = await fit(model, x, { seed: 1, ...quiet });
    const b = await fit(model, [empty, ...x, empty], { seed: 1, ...quiet });
    expect(relErr(b.logLikelihood as number, a.logLikelihood as number)).toBeLessThan(1e-6);
    // the result reports them (FitResult.data) and fits without them
    expect(b.data?.['nRowsAllMissing']).toBe((a.data?.['nRowsAllMissing'] as number) + 2);
    expect(b.nRows).toBe(a.nRows);
    expect(b.data?.['nMissing']).toBe(s.nMissing - 3 + 6);
  });

  it('groups rows by pattern: one conditioning per pattern, complete rows on the tensor path', () => {
    const prepared = prepareGmmData(x);
    try {
      const m = prepared.missing;
      expect(m).toBeDefined();
      const keys = new Set(x.filter((r) => r.some(Number.isNaN) && !r.every(Number.isNaN)).map((r) => r.map((v) => (Number.isNaN(v) ? 0 : 1)).join('')));
      expect(m?.patterns.length).toBe(keys.size);
      const complete = x.filter((r) => !r.some(Number.isNaN)).length;
      expect(prepared.blocks.reduce((n, b) => n + b.rows, 0)).toBe(complete);
      const empty = x.filter((r) => r.every(Number.isNaN)).length;
      expect(m?.patterns.reduce((n, p) => n + p.count, 0)).toBe(x.length - complete - empty);
      expect(m?.allMissingRows.length).toBe(empty);
    } finally {
      prepared.dispose();
    }
  });

  it('typed errors name the column, the value and a remedy', () => {
    const model = gaussianMixture({ nComponents: 2 });
    const noCol = x.map((r) => [r[0] as number, Number.NaN, r[2] as number]);
    expect(catchEmError(() => model.validate(noCol)).message).toMatch(/column 1 has no observed value.*Remedy: drop the column/);
    const few = x.map((r, i) => [r[0] as number, i === 0 ? 1 : Number.NaN, r[2] as number]);
    expect(catchEmError(() => model.validate(few)).message).toMatch(/column 1 has 1 observed values, fewer than nComponents = 2/);
    const apart = x.map((r, i) => [i % 2 === 0 ? (r[0] as number) : Number.NaN, i % 2 === 1 ? (r[1] as number) : Number.NaN, r[2] as number]);
    expect(catchEmError(() => model.validate(apart)).message).toMatch(/columns 0 and 1 are never observed in the same row.*diag/);
    expect(() => gaussianMixture({ nComponents: 2, covarianceType: 'diag' }).validate(apart)).not.toThrow();
    const sparse = [[1, Number.NaN], [Number.NaN, Number.NaN], [Number.NaN, Number.NaN]];
    expect(catchEmError(() => gaussianMixture({ nComponents: 2, covarianceType: 'diag' }).validate(sparse)).message).toMatch(/1 rows with an observed entry/);
    expect(catchEmError(() => model.validate([[1, Infinity, 2], [1, 2, 3]])).message).toMatch(/data\[0\]\[1\] = Infinity: is infinite/);
  });

  it('frees every tensor (fit with exact, hard and stochastic E-steps, predictions, imputation)', async () => {
    const model = gaussianMixture({ nComponents: 2 });
    await expectNoTensorLeak(async () => {
      for (const eStep of ['exact', 'hard', 'stochastic']) await fit(model, x, { eStep, seed: 2, maxIter: 5, ...quiet });
      model.predictProba(c.params, x);
      model.predict(c.params, x);
      model.score(c.params, x);
      impute(c.params, x, { draws: 2 });
    });
  });
});

describe('imputation', () => {
  const c = makeMixtureCase(2, 3, 'full', 21, { perComponent: 30 });
  const x = withHoles(c.rows, 0.3, 21, 4);
  const model = gaussianMixture({ nComponents: 2 });

  it('observed entries unchanged; K = 1 mean and variance are the Gaussian regression', () => {
    const one: GmmParams = { covarianceType: 'full', weights: [1], means: [c.params.means[0] as number[]], covariances: [c.params.covariances[0] as number[][]] };
    const out = impute(one, x);
    const S = one.covariances[0] as number[][];
    const mu = one.means[0] as number[];
    x.forEach((row, r) => {
      row.forEach((v, j) => {
        if (!Number.isNaN(v)) {
          expect(out.values[r * 3 + j]).toBe(v);
          expect(out.variance[r * 3 + j]).toBe(0);
        }
      });
      // one missing entry with two observed: x_m | x_o ~ N(μ_m + S_mo S_oo⁻¹ (x_o − μ_o), S_mm − S_mo S_oo⁻¹ S_om)
      const mis = row.flatMap((v, j) => (Number.isNaN(v) ? [j] : []));
      if (mis.length !== 1) return;
      const m = mis[0] as number;
      const [a, b] = [0, 1, 2].filter((j) => j !== m) as [number, number];
      const s = (i: number, j: number): number => (S[i] as number[])[j] as number;
      const det = s(a, a) * s(b, b) - s(a, b) * s(b, a);
      const inv = [[s(b, b) / det, -s(a, b) / det], [-s(b, a) / det, s(a, a) / det]] as const;
      const u = [(row[a] as number) - (mu[a] as number), (row[b] as number) - (mu[b] as number)];
      const coef = [s(m, a) * inv[0][0] + s(m, b) * inv[1][0], s(m, a) * inv[0][1] + s(m, b) * inv[1][1]] as const;
      const mean = (mu[m] as number) + coef[0] * (u[0] as number) + coef[1] * (u[1] as number);
      const variance = s(m, m) - coef[0] * s(a, m) - coef[1] * s(b, m);
      expect(out.values[r * 3 + m]).toBeCloseTo(mean, 9);
      expect(out.variance[r * 3 + m]).toBeCloseTo(variance, 9);
    });
    expect(out.nMissing).toBe(x.flat().filter(Number.isNaN).length);
  });

  it('draws are reproducible with a seed, keep observed entries, and average to the conditional mean', async () => {
    const result = await fit(model, x, { seed: 3, ...quiet });
    const a = impute(result, x, { draws: 400, seed: 5 });
    const b = impute(result, x, { draws: 2, seed: 5 });
    expect(Array.from(b.draws[0] as Float64Array)).toEqual(Array.from(a.draws[0] as Float64Array));
    expect(Array.from(impute(result, x, { draws: 1, seed: 6 }).draws[0] as Float64Array)).not.toEqual(Array.from(a.draws[0] as Float64Array));
    for (let i = 0; i < a.values.length; i++) {
      if (a.missing[i] === 0) {
        for (const d of a.draws) expect(d[i]).toBe(a.values[i]);
        continue;
      }
      const mean = a.draws.reduce((s, d) => s + (d[i] as number), 0) / a.draws.length;
      const sd = Math.sqrt(a.variance[i] as number);
      expect(Math.abs(mean - (a.values[i] as number))).toBeLessThan(5 * (sd / Math.sqrt(a.draws.length)) + 1e-9);
    }
  });

  it('rejects bad options and mismatched data with typed errors', () => {
    expect(catchEmError(() => impute(c.params, x, { draws: -1 })).message).toMatch(/impute\.draws = -1/);
    expect(catchEmError(() => impute(c.params, x, { bogus: 1 } as never)).message).toMatch(/bogus/);
    expect(catchEmError(() => impute(c.params, [[1, 2]])).message).toMatch(/has 2 columns but the parameters have 3/);
  });
});

/**
 * Monotone missingness, K = 1: the ML estimate factors into the mean and
 * covariance of the always-observed block and successive regressions of each
 * later block on all earlier ones, fitted on the rows where it is observed
 * (Little & Rubin 2002, §7.2). Computed here in float64.
 */
function factoredMle(rows: number[][], blocks: number[][]): { mean: number[]; cov: number[][] } {
  const d = rows[0]?.length as number;
  const mean = new Array<number>(d).fill(0);
  const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  const seen: number[] = [];
  for (const block of blocks) {
    const use = rows.filter((r) => block.every((j) => !Number.isNaN(r[j] as number)));
    const n = use.length;
    if (seen.length === 0) {
      for (const i of block) mean[i] = use.reduce((s, r) => s + (r[i] as number), 0) / n;
      for (const i of block) for (const j of block) (cov[i] as number[])[j] = use.reduce((s, r) => s + ((r[i] as number) - (mean[i] as number)) * ((r[j] as number) - (mean[j] as number)), 0) / n;
    } else {
      // OLS of the block on [1, seen] over its rows (normal equations, float64)
      const p = seen.length + 1;
      const design = use.map((r) => [1, ...seen.map((j) => r[j] as number)]);
      const xtx = Array.from({ length: p }, (_, a) => Array.from({ length: p }, (_, b) => design.reduce((s, z) => s + (z[a] as number) * (z[b] as number), 0)));
      const inv = invert(xtx);
      const coef = block.map((i) => {
        const xty = Array.from({ length: p }, (_, a) => design.reduce((s, z, t) => s + (z[a] as number) * ((use[t] as number[])[i] as number), 0));
        return inv.map((row) => row.reduce((s, v, b) => s + v * (xty[b] as number), 0));
      });
      const resid = use.map((r, t) => block.map((i, q) => (r[i] as number) - (design[t] as number[]).reduce((s, z, b) => s + z * ((coef[q] as number[])[b] as number), 0)));
      block.forEach((i, q) => {
        const beta = (coef[q] as number[]).slice(1);
        mean[i] = ((coef[q] as number[])[0] as number) + beta.reduce((s, bv, t) => s + bv * (mean[seen[t] as number] as number), 0);
        for (const j of seen) (cov[i] as number[])[j] = (cov[j] as number[])[i] = beta.reduce((s, bv, t) => s + bv * ((cov[seen[t] as number] as number[])[j] as number), 0);
      });
      block.forEach((i, q) => {
        const bi = (coef[q] as number[]).slice(1);
        block.forEach((j, w) => {
          const bj = (coef[w] as number[]).slice(1);
          let v = resid.reduce((s, e) => s + (e[q] as number) * (e[w] as number), 0) / n;
          seen.forEach((a, ta) => seen.forEach((b, tb) => (v += (bi[ta] as number) * ((cov[a] as number[])[b] as number) * (bj[tb] as number))));
          (cov[i] as number[])[j] = v;
        });
      });
    }
    seen.push(...block);
  }
  return { mean, cov };
}

function invert(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs((m[r] as number[])[c] as number) > Math.abs((m[p] as number[])[c] as number)) p = r;
    [m[c], m[p]] = [m[p] as number[], m[c] as number[]];
    const piv = (m[c] as number[])[c] as number;
    m[c] = (m[c] as number[]).map((v) => v / piv);
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = (m[r] as number[])[c] as number;
      m[r] = (m[r] as number[]).map((v, j) => v - f * ((m[c] as number[])[j] as number));
    }
  }
  return m.map((row) => row.slice(n));
}

describe('K = 1, monotone pattern: EM reaches the factored-likelihood closed form', () => {
  const cases = [
    { file: 'apple_littlerubin.csv', blocks: [[0], [1]] },
    { file: 'missvals_draper_smith.csv', blocks: [[2, 4], [0, 1], [3]] },
  ];
  for (const { file, blocks } of cases) {
    it(file, async () => {
      const table = parseNumericCsv(readFileSync(new URL(`../../../data/${file}`, import.meta.url), 'utf8'));
      const rows = Array.from({ length: table.rows }, (_, r) => Array.from(table.values.subarray(r * table.cols, (r + 1) * table.cols)));
      const want = factoredMle(rows, blocks);
      const model = gaussianMixture({ nComponents: 1, regCovar: 0 });
      const r = await fit(model, rows, { tol: 0, maxIter: 3000, monotonicity: 'throw', ...quiet });
      const mean = r.params.means[0] as number[];
      const cov = r.params.covariances[0] as number[][];
      mean.forEach((v, i) => expect(relErr(v, want.mean[i] as number)).toBeLessThan(1e-5));
      cov.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - ((want.cov[i] as number[])[j] as number))).toBeLessThan(1e-4 * Math.sqrt(((want.cov[i] as number[])[i] as number) * ((want.cov[j] as number[])[j] as number)))));
    }, 60_000);
  }
});
