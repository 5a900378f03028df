// The conformance kit on the stochastic E-step: one draw per row (stochastic EM) and four (Monte Carlo EM).
import { describe, expect, it } from 'vitest';
import { createRng, fit, logLikelihoodOf, type IterationRecord } from '@emlab/core';
import '@emlab/exact';
import { stochasticEStep } from '@emlab/montecarlo';
import { gaussianMixture } from '@emlab/models';
import { checkEStep } from '@emlab/testing';

checkEStep(stochasticEStep());
checkEStep(stochasticEStep({ nDraws: 4 }), undefined, { properties: ['brute-force', 'latent-hooks', 'reproducible', 'fit'] });

describe('regressions found by the conformance kit', () => {
  // Two far-apart clusters: the component draws are certain, so the estimate's only randomness is the
  // missing entries drawn from their conditionals. The reported standard error ignored those draws (it
  // was 0 here) and took Var_q[log p(x, z)] instead of Var_q[log p(x, z) − h_z].
  it('the standard error of the stochastic bound covers the draws of missing entries (GMM)', async () => {
    const rng = createRng(7).child('regression-se');
    const rows = Array.from({ length: 40 }, (_, r) => {
      const c = r % 2;
      const x = [c * 20 + rng.normal(), -c * 20 + rng.normal()];
      if (r >= 8 && r % 4 === 0) x[r % 8 === 0 ? 0 : 1] = Number.NaN;
      return x;
    });
    const init = { covarianceType: 'full' as const, weights: [0.5, 0.5], means: [[0, 0], [20, -20]], covariances: [[[1, 0.2], [0.2, 1]], [[1.5, 0], [0, 0.5]]] };
    const gmm = gaussianMixture({ nComponents: 2 });
    const bounds: number[] = [];
    let se = Number.NaN;
    for (let seed = 0; seed < 300; seed++) {
      const r = await fit(gmm, rows, { eStep: stochasticEStep(), init, precision: 'float64', maxIter: 1, tol: 0, seed, onWarning: () => undefined });
      const rec = r.trace[0] as IterationRecord;
      bounds.push(rec.boundAfterE);
      se = rec.boundStdErr as number;
    }
    const mean = bounds.reduce((a, b) => a + b, 0) / bounds.length;
    const sd = Math.sqrt(bounds.reduce((a, b) => a + (b - mean) ** 2, 0) / (bounds.length - 1));
    const ll = (await logLikelihoodOf(gmm, rows, init)) as number;
    // m rows miss one entry each: the standard error is sqrt(m · 1/2) exactly.
    const m = rows.filter((x) => x.some(Number.isNaN)).length;
    expect(m).toBe(8);
    expect(se).toBeCloseTo(Math.sqrt(m / 2), 12);
    // The sample sd of 300 estimates is within 15% of the truth (its own relative SE is ~4%).
    expect(sd / se).toBeGreaterThan(0.85);
    expect(sd / se).toBeLessThan(1.15);
    // Unbiased: the mean of 300 estimates is within 4 SE/√300 of log p(x | θ).
    expect(Math.abs(mean - ll)).toBeLessThan((4 * se) / Math.sqrt(bounds.length));
  });
});
