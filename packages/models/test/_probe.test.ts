import { it } from 'vitest';
import { fit, createRng } from '@emlab/core';
import '@emlab/exact';
import '@emlab/variational';
import { gaussianMixture } from '@emlab/models';
import { makeMixtureCase, refLogDensity } from '@emlab/testing';

it('probe', async () => {
  const c = makeMixtureCase(3, 3, 'full', 1);
  const g = gaussianMixture({ nComponents: 3, covarianceType: 'full' });
  let t0 = performance.now();
  for (let i = 0; i < 20; i++) await fit(g, c.rows, { maxIter: 8, tol: 0, seed: i, monotonicity: 'throw', onWarning: () => {} });
  console.log('fit x20', performance.now() - t0, 'N', c.rows.length);
  t0 = performance.now();
  for (let i = 0; i < 20; i++) g.scoreSamples(c.params, c.rows);
  console.log('score x20', performance.now() - t0);
  const s = g.scoreSamples(c.params, c.rows);
  const r = refLogDensity(c.rows, c.params.weights, c.params.means, c.params.covariances);
  let maxErr = 0;
  s.forEach((v, i) => { maxErr = Math.max(maxErr, Math.abs(v - (r.logProb[i] as number)) / Math.max(1, Math.abs(v))); });
  console.log('max rel err', maxErr);
});
