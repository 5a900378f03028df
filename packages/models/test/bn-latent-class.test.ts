/**
 * A latent-class model as a Bayesian network: one hidden parent Z with K
 * states over the 7 pathologists' binary ratings of 118 slides (Agresti 2002,
 * carcinoma data, `data/carcinoma_agresti.csv`). EM from seeded
 * random Dirichlet starts: the log-likelihood never decreases (fit with
 * `monotonicity: 'throw'`, core tolerance δ = 64 · 2⁻²⁴ · max(|L|, N)) and the
 * best restarts agree.
 *
 * Reference: Agresti (2002), Categorical Data Analysis, 2nd ed., §13.2.2 reports
 * deviances G² = 2 Σ n log(n / μ̂) against the saturated model over the 2⁷
 * rating patterns of 62.36 (K = 2) and 15.26 (K = 3); G² here is computed from
 * the fitted log-likelihood and the saturated one.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fit, monotonicityTolerance } from '@emlab/core';
import '@emlab/exact';
import { bayesianNetwork, parseBnCsv, type BayesNet } from '@emlab/models';
import { expectNoTensorLeak } from '@emlab/testing';

const quiet = { onWarning: (): void => {} };
const raters = ['A', 'B', 'C', 'D', 'E', 'F', 'G'];
const csv = readFileSync(new URL('../../../data/carcinoma_agresti.csv', import.meta.url), 'utf8');

/** Z → each rater; the CPTs here are placeholders (the fit starts from random ones). */
function latentClassNetwork(k: number): BayesNet {
  return {
    name: `latent-class-${k}`,
    nodes: [
      { name: 'Z', states: Array.from({ length: k }, (_, i) => `class${i + 1}`), parents: [], cpt: new Array<number>(k).fill(1 / k) },
      ...raters.map((r) => ({ name: r, states: ['1', '2'], parents: ['Z'], cpt: new Array<number>(2 * k).fill(0.5) })),
    ],
  };
}

/** Saturated log-likelihood Σ n_p log(n_p / N) over the observed rating patterns. */
function saturatedLogLik(values: Int32Array, nRows: number, cols: number): number {
  const counts = new Map<string, number>();
  for (let r = 0; r < nRows; r++) {
    const key = values.subarray(r * cols, (r + 1) * cols).join(',');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let ll = 0;
  for (const n of counts.values()) ll += n * Math.log(n / nRows);
  return ll;
}

describe('latent-class model on the carcinoma data', () => {
  for (const [k, g2] of [
    [2, 62.36],
    [3, 15.26],
  ] as const) {
    it(`K = ${k}: monotone, best restarts agree, deviance as published`, async () => {
      const net = latentClassNetwork(k);
      const data = parseBnCsv(csv, net, { hidden: ['Z'] });
      expect(data.nRows).toBe(118);
      const model = bayesianNetwork(net, { hidden: ['Z'] });
      const r = await expectNoTensorLeak(() => fit(model, data, { seed: 0, nInit: 8, maxIter: 2000, tol: 1e-10, monotonicity: 'throw', ...quiet }));
      // Monotone log-likelihood in the kept restart (also enforced at every half-step of every restart by 'throw').
      const lls = r.trace.map((t) => t.logLikelihood as number);
      for (let i = 1; i < lls.length; i++) expect(lls[i] as number).toBeGreaterThanOrEqual((lls[i - 1] as number) - monotonicityTolerance(lls[i - 1] as number, lls[i] as number, 118));
      // Stable across restarts: the best restarts agree to 1e-4 nats.
      const bounds = r.restarts.map((x) => x.bound).sort((a, b) => b - a);
      expect((bounds[0] as number) - (bounds[1] as number)).toBeLessThan(1e-4);
      const ll = r.logLikelihood as number;
      expect(Math.abs(ll - (bounds[0] as number))).toBeLessThan(1e-4);
      const deviance = 2 * (saturatedLogLik(data.values, data.nRows, data.columns.length) - ll);
      console.log(`latent class K=${k}: log-likelihood ${ll.toFixed(4)}, G² = ${deviance.toFixed(2)} (Agresti: ${g2}), restarts ${bounds.map((b) => b.toFixed(3)).join(' ')}`);
      expect(deviance).toBeCloseTo(g2, 1);
      // Class weights are a distribution; every rater CPT column too.
      const z = r.params.cpts['Z'] as readonly number[];
      expect(z.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    });
  }
});
