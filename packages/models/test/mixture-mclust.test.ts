/**
 * The Gaussian family of general mixtures (the `mclust` model) against R's
 * mclust 6.0.0 (fixtures/mclust: generate.R and generate-fits.R):
 * - every parameterization's M-step, run through the family (statistics from
 *   the float64 kernels at arbitrary reference points, then the family's
 *   M-step), equals mclust's `mstep` on the same responsibilities;
 * - parameter counts equal mclust's `nMclustParams`;
 * - whole EM fits from mclust's hierarchical partition reach mclust's optima
 *   (log-likelihood and parameters), and the BIC table of `selectModel`
 *   equals `mclustBIC` from the same tree;
 * - the SVD transformation and the hierarchical tree on it equal mclust's
 *   default initialization (`hcUse = "SVD"`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRng, fit } from '@emlab/core';
import '@emlab/exact';
import { COVARIANCE_MODEL_DESCRIPTORS, COVARIANCE_MODELS, type CovarianceModel } from '../src/mixture/covariance-models.js';
import { hierarchicalClustering } from '../src/mixture/hierarchical-init.js';
import { hcTransform } from '../src/mixture/mixture-init.js';
import { mclustMixture, mixtureModel, type MixtureParams, type MixtureStats } from '../src/mixture/mixture-model.js';
import { selectModel } from '../src/mixture/select-model.js';
import type { GaussianFamilyParams } from '../src/mixture/families/gaussian-family.js';

function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/mclust/${name}`, import.meta.url), 'utf8')) as T;
}

interface MstepSet {
  n: number;
  d: number;
  G: number;
  x: number[];
  z: number[];
  models: Record<string, { sigma: number[]; sigmasq?: number[] }>;
  vveOptim: { sigma: number[]; objective: number };
}
const mstep = readFixture<{ multivariate: MstepSet[]; univariate: MstepSet[] }>('mstep.json');
const counts = readFixture<{ counts: { model: CovarianceModel; d: number; G: number; nMclustParams: number }[] }>('parameter-counts.json');
interface FitsFixture {
  n: number;
  d: number;
  G: number;
  x: number[];
  hcSvd: { pairs: number[]; transformed: number[]; partitions: number[][] };
  hcVarsPartition3: number[];
  fits: { model: CovarianceModel; returnCode: number; loglik: number; pro: number[]; mean: number[]; sigma: number[] }[];
  bic: { models: CovarianceModel[]; G: number[]; table: (number | null)[][] };
}
const fits = readFixture<FitsFixture>('fits.json');

const MULTIVARIATE = COVARIANCE_MODELS.filter((m) => !COVARIANCE_MODEL_DESCRIPTORS[m].univariate);

function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let err = 0;
  for (let i = 0; i < b.length; i++) err = Math.max(err, Math.abs(a[i]! - b[i]!));
  return err / scale;
}

/** Arbitrary parameters of a K-component Gaussian family in `model`'s family (means off the data, identity-scaled covariances). */
function someParams(K: number, D: number, model: CovarianceModel): MixtureParams {
  const fam: GaussianFamilyParams = {
    covariance: model,
    means: Array.from({ length: K }, (_, k) => Array.from({ length: D }, (_, j) => 0.7 * k - 0.3 * j + 1)),
    covariances: Array.from({ length: K }, () => Array.from({ length: D }, (_, i) => Array.from({ length: D }, (_, j) => (i === j ? 2.5 : 0)))),
  };
  return { weights: Array.from({ length: K }, () => 1 / K), families: [fam] };
}

/** Statistics of given responsibilities through the model's structure (kernels at the reference points of `at`). */
function statsOf(model: ReturnType<typeof mixtureModel>, data: { values: Float64Array; rows: number; cols: number }, z: readonly number[], at: MixtureParams): MixtureStats {
  const prepared = model.prepare(data);
  let acc: MixtureStats | undefined;
  for (const chunk of model.structure(prepared, at).chunks()) {
    const w = Float64Array.from(z.slice(chunk.start * model.nComponents, (chunk.start + chunk.rows) * model.nComponents));
    const s = chunk.stats(w);
    acc = acc === undefined ? s : model.stats.add(acc, s);
  }
  return acc as MixtureStats;
}

describe("the Gaussian family's M-step equals mclust's mstep (through the family's statistics)", () => {
  // As in covariance-models.test.ts: closed forms to rounding, iterative ones to mclust's 1e-15 inner tolerance.
  const tolerance = (m: CovarianceModel): number => (['VEE', 'EVE'].includes(m) ? 1e-6 : m === 'VEI' || m === 'VEV' ? 1e-9 : 1e-10);

  for (const model of MULTIVARIATE) {
    it(`${model}: weights, means and covariances`, () => {
      for (const set of mstep.multivariate) {
        const { n, d: D, G: K } = set;
        const mix = mixtureModel({ nComponents: K, family: { family: 'gaussian', covariance: model, mstepTol: 1e-15, mstepMaxIter: 100_000 } });
        const data = { values: Float64Array.from(set.x), rows: n, cols: D };
        const at = someParams(K, D, model);
        const stats = statsOf(mix, data, set.z, at);
        const m = mix.mStep(stats, at, { rng: createRng(0), prepared: mix.prepare(data), iteration: 1 });
        const fam = m.params.families[0] as GaussianFamilyParams;
        // Weights and means: the weighted frequencies and means computed here directly.
        for (let k = 0; k < K; k++) {
          let nk = 0;
          const mean = new Array<number>(D).fill(0);
          for (let r = 0; r < n; r++) {
            nk += set.z[r * K + k]!;
            for (let j = 0; j < D; j++) mean[j]! += set.z[r * K + k]! * set.x[r * D + j]!;
          }
          expect(Math.abs(m.params.weights[k]! - nk / n)).toBeLessThanOrEqual(1e-14);
          for (let j = 0; j < D; j++) expect(Math.abs(fam.means[k]![j]! - mean[j]! / nk)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(mean[j]! / nk)));
        }
        const cov = fam.covariances.flat(2);
        const ref = model === 'VVE' ? set.vveOptim.sigma : set.models[model]!.sigma;
        // mclust's VVE M-step is not the VVE maximum (covariance-models.test.ts); the reference is the independent optimization.
        expect(maxRelativeError(cov, ref)).toBeLessThanOrEqual(model === 'VVE' ? 1e-6 : tolerance(model));
        expect(m.events ?? []).toEqual([]);
      }
    });
  }

  it('E and V on one column', () => {
    for (const set of mstep.univariate) {
      for (const model of ['E', 'V'] as const) {
        const mix = mixtureModel({ nComponents: set.G, family: { family: 'gaussian', covariance: model } });
        const data = { values: Float64Array.from(set.x), rows: set.n, cols: 1 };
        const at = someParams(set.G, 1, model);
        const m = mix.mStep(statsOf(mix, data, set.z, at), at, { rng: createRng(0), prepared: mix.prepare(data), iteration: 1 });
        expect(maxRelativeError((m.params.families[0] as GaussianFamilyParams).covariances.flat(2), set.models[model]!.sigmasq!)).toBeLessThanOrEqual(1e-12);
      }
    }
  });
});

describe('parameter counts', () => {
  it("equal mclust's nMclustParams for every model, D = 1..5 and K = 1..6", () => {
    for (const c of counts.counts) {
      const mix = mclustMixture({ nComponents: c.G, covariance: c.model });
      expect(mix.nParameters(someParams(c.G, c.d, c.model))).toBe(c.nMclustParams);
    }
  });
});

describe('whole fits against mclust', () => {
  const data = { values: Float64Array.from(fits.x), rows: fits.n, cols: fits.d };
  const labels = fits.hcVarsPartition3.map((l) => l - 1);

  it("every model, from mclust's VVV/VARS partition at K = 3, reaches mclust's optimum (VVE: at least as high)", async () => {
    for (const ref of fits.fits) {
      expect(ref.returnCode).toBe(0);
      const mix = mclustMixture({ nComponents: 3, covariance: ref.model, initLabels: labels });
      const r = await fit(mix, data, { init: 'labels', tol: 1e-13, maxIter: 5000 });
      expect(r.converged).toBe(true);
      expect(r.trace.every((t) => t.violations.length === 0)).toBe(true);
      const ll = r.logLikelihood as number;
      if (ref.model === 'VVE') {
        expect(ll).toBeGreaterThanOrEqual(ref.loglik - 1e-9 * Math.abs(ref.loglik));
        continue;
      }
      // Never below mclust's optimum, and not another one: mclust stops on a relative log-likelihood change
      // below 1e-11, which can leave it a little short of the optimum that aitken with tol 1e-13 reaches.
      expect(ll).toBeGreaterThanOrEqual(ref.loglik - 1e-11 * Math.abs(ref.loglik));
      expect(ll - ref.loglik).toBeLessThanOrEqual(1e-9 * Math.abs(ref.loglik));
      // The same stationary point: EM started at mclust's parameters converges to ours.
      const fam = r.params.families[0] as GaussianFamilyParams;
      const D = fits.d;
      const start: MixtureParams = {
        weights: ref.pro,
        families: [{
          covariance: ref.model,
          means: Array.from({ length: 3 }, (_, k) => ref.mean.slice(k * D, (k + 1) * D)),
          covariances: Array.from({ length: 3 }, (_, k) => Array.from({ length: D }, (_, i) => ref.sigma.slice(k * D * D + i * D, k * D * D + (i + 1) * D))),
        }],
      };
      const again = await fit(mix, data, { init: start, tol: 1e-13, maxIter: 5000 });
      expect(Math.abs((again.logLikelihood as number) - ll)).toBeLessThanOrEqual(1e-12 * Math.abs(ll));
      const fam2 = again.params.families[0] as GaussianFamilyParams;
      expect(maxRelativeError(again.params.weights, r.params.weights)).toBeLessThanOrEqual(1e-6);
      expect(maxRelativeError(fam2.means.flat(), fam.means.flat())).toBeLessThanOrEqual(1e-6);
      expect(maxRelativeError(fam2.covariances.flat(2), fam.covariances.flat(2))).toBeLessThanOrEqual(1e-6);
    }
  });

  it("selectModel's BIC table from the same tree equals mclustBIC (where mclust has a value; VVE at least as high)", async () => {
    const sel = await selectModel(data, { components: [1, 2, 3, 4, 5], hcUse: 'vars', convergence: 'relative', tol: 1e-12, maxIter: 5000 });
    expect(sel.models).toEqual(fits.bic.models);
    expect(sel.criterion).toBe('bic');
    fits.bic.table.forEach((row, g) => {
      row.forEach((ref, m) => {
        const ours = sel.table[g]![m]!;
        if (ref === null) return;
        expect(ours).not.toBeNull();
        if (fits.bic.models[m] === 'VVE') expect(ours as number).toBeGreaterThanOrEqual(ref - 1e-6 * Math.abs(ref));
        else expect(Math.abs((ours as number) - ref)).toBeLessThanOrEqual(1e-6 * Math.abs(ref));
      });
    });
    // The best cell is mclust's best cell.
    let best = { g: 0, m: 0, v: Number.NEGATIVE_INFINITY };
    fits.bic.table.forEach((row, g) => row.forEach((v, m) => v !== null && v > best.v && (best = { g, m, v })));
    expect([sel.best.model, sel.best.nComponents]).toEqual([fits.bic.models[best.m], fits.bic.G[best.g]]);
  });
});

describe("mclust's default initialization (hc, VVV criterion, use = SVD)", () => {
  it('the SVD transformation equals mclust\'s up to the sign of each column', () => {
    const { n, d } = fits;
    const t = hcTransform(Float64Array.from(fits.x), n, d, 'svd');
    expect(t.dim).toBe(d);
    for (let j = 0; j < d; j++) {
      const sign = Math.sign(t.values[j]!) === Math.sign(fits.hcSvd.transformed[j]!) ? 1 : -1;
      for (let r = 0; r < n; r++) expect(Math.abs(sign * t.values[r * d + j]! - fits.hcSvd.transformed[r * d + j]!)).toBeLessThanOrEqual(1e-12);
    }
  });

  it("the tree on it has mclust's merges and partitions", () => {
    const { n, d } = fits;
    const t = hcTransform(Float64Array.from(fits.x), n, d, 'svd');
    const tree = hierarchicalClustering(t.values, n, t.dim, 'VVV');
    expect(Array.from(tree.merges, (v) => v + 1)).toEqual(fits.hcSvd.pairs);
    fits.hcSvd.partitions.forEach((p, g) => {
      const ours = tree.partitionsAt(g + 1);
      expect(Array.from(ours, (v) => v + 1)).toEqual(p);
    });
  });
});
