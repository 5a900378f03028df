/**
 * The conjugate hooks (`Model.conjugate`) of the Gaussian mixture and the
 * Bayesian network, against the VB maths and closed forms computed here:
 * statistics converted from the model's moments equal scikit-learn-style
 * statistics from the responsibilities; the expected log joint from
 * statistics equals Σ r · (E-step table); the Dirichlet KL against
 * quadrature; the posterior JSON round trip; the structure's block-size hint.
 */
import { describe, expect, it } from 'vitest';
import { createRng, digamma, logGamma } from '@emlab/core';
import {
  dirichletKl,
  gaussianMixture,
  gmmStructure,
  vbExpectedLogJoint,
  vbLogTable,
  vbPosteriorFromJson,
  vbPosteriorToJson,
  vbPrior,
  vbResponsibilities,
  vbStatistics,
  vbStatsFromMoments,
  vbUpdate,
  bayesianNetwork,
  asiaNetwork,
  type GmmParams,
  type GmmStats,
} from '../src/index.js';
import { catchEmError } from '@emlab/testing';

function data(seed: number, n: number, d: number): { values: Float64Array; rows: number; cols: number } {
  const rng = createRng(seed);
  const values = new Float64Array(n * d);
  for (let i = 0; i < values.length; i++) values[i] = rng.normal() * (1 + (i % d)) + (i % 3 === 0 ? 3 : 0);
  return { values, rows: n, cols: d };
}

function responsibilities(seed: number, n: number, k: number): Float64Array {
  const rng = createRng(seed).child('resp');
  const r = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += (r[i * k + j] = rng.uniform() + 0.01);
    for (let j = 0; j < k; j++) r[i * k + j] = (r[i * k + j] as number) / s;
  }
  return r;
}

/** The model's statistics for responsibilities, through its own float64 structure. */
function modelStats(x: { values: Float64Array; rows: number; cols: number }, resp: Float64Array, k: number): GmmStats {
  const gmm = gaussianMixture({ nComponents: k });
  const prepared = gmm.prepare(x, { precisions: ['float64'] });
  const d = x.cols;
  const params: GmmParams = {
    covarianceType: 'full',
    weights: new Array<number>(k).fill(1 / k),
    means: Array.from({ length: k }, (_, c) => Array.from({ length: d }, (_, i) => c - i)),
    covariances: Array.from({ length: k }, () => Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)))),
  };
  const s = gmmStructure(prepared, params, 'float64');
  let acc: GmmStats | undefined;
  for (const chunk of s.chunks()) {
    const part = chunk.stats(resp.subarray(chunk.start * k, (chunk.start + chunk.rows) * k));
    acc = acc === undefined ? part : s.algebra.add(acc, part);
  }
  prepared.dispose();
  return acc as GmmStats;
}

describe('Gaussian-mixture conjugate hook', () => {
  const x = data(1, 120, 3);
  const k = 3;
  const resp = responsibilities(2, 120, k);

  it('statistics from the model’s moments equal scikit-learn’s from the responsibilities (1e-12 relative)', () => {
    for (const reg of [0, 1e-3]) {
      const a = vbStatsFromMoments(modelStats(x, resp, k), reg);
      const b = vbStatistics(x, resp, k, reg);
      a.nk.forEach((v, i) => expect(Math.abs(v - (b.nk[i] as number))).toBeLessThanOrEqual(1e-12 * (b.nk[i] as number)));
      a.means.forEach((v, i) => expect(Math.abs(v - (b.means[i] as number))).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b.means[i] as number))));
      a.covariances.forEach((v, i) => expect(Math.abs(v - (b.covariances[i] as number))).toBeLessThanOrEqual(1e-11));
    }
  });

  it('E_q log p(x, z | θ) from statistics equals Σ_nk r_nk · vbLogTable_nk, for every covariance type', () => {
    for (const type of ['full', 'diag', 'spherical', 'tied'] as const) {
      const prior = vbPrior(x, k, type, { weightConcentrationPriorType: type === 'tied' ? 'dirichlet_distribution' : 'dirichlet_process' });
      const post = vbUpdate(vbStatistics(x, responsibilities(5, 120, k), k, 1e-6), prior, type);
      const table = vbLogTable(x, post);
      let ref = 0;
      for (let i = 0; i < table.length; i++) ref += (resp[i] as number) * (table[i] as number);
      const got = vbExpectedLogJoint(modelStats(x, resp, k), post);
      expect(Math.abs(got - ref)).toBeLessThanOrEqual(1e-11 * Math.abs(ref));
    }
  });

  it('the structure at q(θ) serves vbLogTable in blocks that follow the size hint; its statistics are the model’s', () => {
    const gmm = gaussianMixture({ nComponents: k });
    const prepared = gmm.prepare(x, { precisions: ['float64'] });
    const prior = gmm.conjugate.prior(prepared, {}, {} as GmmParams);
    const post = gmm.conjugate.posterior(modelStats(x, resp, k), prior).posterior;
    const s = gmm.conjugate.structure(prepared, post, { precision: 'float64' }) as ReturnType<typeof gmmStructure>;
    const chunks = [...s.chunks({ maxRows: 25 })];
    expect(chunks.map((c) => c.rows)).toEqual([25, 25, 25, 25, 20]);
    const table = vbLogTable(x, post);
    for (const c of chunks) Array.from(c.logJoint()).forEach((v, i) => expect(Math.abs(v - (table[c.start * k + i] as number))).toBeLessThanOrEqual(1e-12 * Math.abs(v)));
    const { resp: q } = vbResponsibilities(table, k);
    let acc: GmmStats | undefined;
    for (const c of s.chunks()) {
      const part = c.stats(q.subarray(c.start * k, (c.start + c.rows) * k));
      acc = acc === undefined ? part : s.algebra.add(acc, part);
    }
    const ref = vbStatistics(x, q, k, 0);
    vbStatsFromMoments(acc as GmmStats, 0).covariances.forEach((v, i) => expect(Math.abs(v - (ref.covariances[i] as number))).toBeLessThanOrEqual(1e-11));
    prepared.dispose();
  });

  it('the float64 model structure follows the size hint too (incremental E-steps)', () => {
    const gmm = gaussianMixture({ nComponents: 2 });
    const prepared = gmm.prepare(x, { precisions: ['float64'] });
    const params = gmm.init(prepared, 'kmeans++', createRng(0));
    const s = gmm.structure(prepared, params, { precision: 'float64' });
    expect([...s.chunks({ maxRows: 50 })].map((c) => c.rows)).toEqual([50, 50, 20]);
    expect([...s.chunks()].map((c) => c.rows)).toEqual([120]);
    prepared.dispose();
  });

  it('the posterior round-trips through JSON; malformed JSON is INVALID_PARAMS naming the field', () => {
    const prior = vbPrior(x, k, 'diag', {});
    const post = vbUpdate(vbStatistics(x, resp, k), prior, 'diag');
    const json = vbPosteriorToJson(post);
    const back = vbPosteriorFromJson(JSON.parse(JSON.stringify(json)) as Record<string, unknown>);
    expect(vbPosteriorToJson(back)).toEqual(json);
    back.precisionsCholesky.forEach((v, i) => expect(Math.abs(v - (post.precisionsCholesky[i] as number))).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v))));
    expect(catchEmError(() => vbPosteriorFromJson({ ...json, means: [[1]] })).path).toEqual(['posterior', 'means']);
    expect(catchEmError(() => vbPosteriorFromJson({ ...json, covarianceType: 'round' })).code).toBe('INVALID_PARAMS');
  });

  it('the prior from weighted moments: a weight of 2 is a duplicated row; missing entries are INVALID_DATA', () => {
    const gmm = gaussianMixture({ nComponents: 2 });
    const rows = Array.from({ length: 30 }, (_, r) => [Math.sin(r), Math.cos(3 * r) + r / 10]);
    const weights = Float64Array.from(rows, (_, r) => (r % 4 === 0 ? 2 : 1));
    const dup = rows.flatMap((row, r) => (r % 4 === 0 ? [row, row] : [row]));
    const a = gmm.conjugate.prior(gmm.prepare(rows, { weights, precisions: ['float64'] }), {}, {} as GmmParams);
    const b = gmm.conjugate.prior(gmm.prepare(dup, { precisions: ['float64'] }), {}, {} as GmmParams);
    a.meanPrior.forEach((v, i) => expect(v).toBeCloseTo(b.meanPrior[i] as number, 13));
    a.covariancePrior.forEach((v, i) => expect(v).toBeCloseTo(b.covariancePrior[i] as number, 13));
    const missing = rows.map((row, r) => (r === 3 ? [Number.NaN, row[1] as number] : row));
    expect(catchEmError(() => gmm.conjugate.prior(gmm.prepare(missing, { precisions: ['float64'] }), {}, {} as GmmParams)).code).toBe('INVALID_DATA');
  });
});

describe('Bayesian-network conjugate hook', () => {
  it('KL(Beta(a, b) ‖ Beta(α, α)) of dirichletKl against quadrature', () => {
    for (const [a, b, alpha] of [[2.5, 4, 1], [7, 1.5, 0.5], [1.2, 1.2, 3]] as const) {
      // ∫ q log(q/p), q = Beta(a, b), p = Beta(α, α), by the midpoint rule on a substituted grid.
      const logB = (x: number, y: number): number => logGamma(x) + logGamma(y) - logGamma(x + y);
      let integral = 0;
      const n = 200_000;
      for (let i = 0; i < n; i++) {
        const t = (i + 0.5) / n;
        // v = t^4 near 0 and 1 − (1 − t)^4 near 1 keep the endpoints resolved.
        const v = t < 0.5 ? 8 * t ** 4 : 1 - 8 * (1 - t) ** 4;
        const dv = (t < 0.5 ? 32 * t ** 3 : 32 * (1 - t) ** 3) / n;
        const logQ = (a - 1) * Math.log(v) + (b - 1) * Math.log1p(-v) - logB(a, b);
        const logP = (alpha - 1) * Math.log(v) + (alpha - 1) * Math.log1p(-v) - logB(alpha, alpha);
        const q = Math.exp(logQ);
        if (q > 0) integral += q * (logQ - logP) * dv;
      }
      expect(Math.abs(dirichletKl([a, b], alpha, 2) - integral)).toBeLessThanOrEqual(1e-6);
    }
    expect(dirichletKl([0.7, 0.7, 0.7], 0.7, 3)).toBeCloseTo(0, 14);
  });

  it('E_q log θ tables, posterior means, frozen nodes kept at the start, KL only for free nodes', () => {
    const net = asiaNetwork();
    const model = bayesianNetwork(net, { frozen: ['asia'], pseudoCount: 0.5 });
    const start = { cpts: Object.fromEntries(net.nodes.map((n) => [n.name, n.cpt.map((_, i) => (i % n.states.length === 0 ? 0.25 : 0.75 / (n.states.length - 1)))])) };
    const prior = model.conjugate.prior({} as never, {}, start);
    expect(prior.concentration).toBe(1.5);
    const counts = net.nodes.map((n) => n.cpt.map((_, i) => (i % 3) + 1));
    const post = model.conjugate.posterior({ counts }, prior).posterior;
    const asia = net.nodes.findIndex((n) => n.name === 'asia');
    expect(post.alphas[asia]).toBeNull();
    const point = model.conjugate.pointEstimate(post);
    expect(point.cpts['asia']).toEqual(start.cpts['asia']);
    const tub = net.nodes.findIndex((n) => n.name === 'tub');
    const a = post.alphas[tub] as Float64Array;
    expect(point.cpts['tub']?.[0]).toBeCloseTo((a[0] as number) / ((a[0] as number) + (a[1] as number)), 15);
    // E_q log p from statistics = Σ counts (ψ(α') − ψ(Σα')) (+ log θ of frozen nodes).
    let ref = 0;
    net.nodes.forEach((n, i) => {
      const c = counts[i] as number[];
      const k = n.states.length;
      c.forEach((v, e) => {
        if (i === asia) ref += v * Math.log(start.cpts['asia']?.[e] as number);
        else {
          const col = Math.floor(e / k) * k;
          const al = post.alphas[i] as Float64Array;
          let sum = 0;
          for (let j = 0; j < k; j++) sum += al[col + j] as number;
          ref += v * (digamma(al[e] as number) - digamma(sum));
        }
      });
    });
    expect(model.conjugate.expectedLogJoint({ counts }, post)).toBeCloseTo(ref, 10);
    const kl = net.nodes.reduce((s, n, i) => (i === asia ? s : s + dirichletKl(post.alphas[i] as Float64Array, 1.5, n.states.length)), 0);
    expect(model.conjugate.klDivergence(post, prior)).toBeCloseTo(kl, 12);
  });
});
