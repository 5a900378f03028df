/**
 * The samplers against exact answers, judged against 4 Monte Carlo standard
 * errors computed from the draws themselves:
 *
 * - exact finite draws: draw frequencies against the posterior (binomial SE),
 *   the estimate of log p(x) against the exact value (its own SE), and draws
 *   that do not depend on the structure's block size;
 * - Gibbs on factor graphs: family counts against the junction tree (the exact
 *   factor-graph E-step, itself checked against brute-force enumeration of
 *   every evidence pattern here) on a random network with a hidden node and
 *   missing cells; SE by batch means over 8 chains, with and without thinning;
 * - Metropolis–Hastings on the GLMM: E[z_iᵀ b | y] of every row against
 *   Gauss–Hermite quadrature of the posterior (q = 1 and q = 2, both families;
 *   SE by batch means of the sampler's units), random-walk and independence.
 */
import { describe, expect, it } from 'vitest';
import { createRng, type ContinuousStructure } from '@emlab/core';
import { factorGraphExactEStep } from '@emlab/exact';
import { gaussHermite, generateGlmmData, glmm, type GlmmStats } from '@emlab/models';
import { bnAsFactorGraph, bruteForceFactorGraph, posteriorFromTable, randomBayesNet, tableStructure, testFactorGraphStructure, type FamilyCounts, type TableStats } from '@emlab/testing';
import { unitMeanAndStdErr } from '../src/internal/unit-stats.js';
import { continuousSampler } from '../src/samplers/continuous-sampler.js';
import { finiteSampler } from '../src/samplers/finite-sampler.js';
import { gibbsSampler } from '../src/samplers/gibbs-sampler.js';

describe('exact finite draws', () => {
  const table = Array.from({ length: 9 }, (_, n) => [Math.fround(-1 - 0.3 * n), Math.fround(-2 + 0.2 * n), n % 3 === 0 ? Number.NEGATIVE_INFINITY : Math.fround(-1.5)]);
  const post = posteriorFromTable(table);

  it('draw frequencies match the posterior within 4 binomial standard errors; the estimate of log p(x) within 4 of its own', async () => {
    const m = 4000;
    const s = tableStructure(table, 4);
    const b = await finiteSampler.sample(s, null, { rng: createRng(1), nDraws: m, burnIn: 0, thin: 1, estimate: true });
    expect(b.nDraws).toBe(m);
    expect(b.units.length).toBe(16);
    const w = (b.stats as TableStats).weights;
    post.forEach((row, n) =>
      row.forEach((p, k) => {
        const se = Math.sqrt((p * (1 - p)) / m);
        if (p === 0) expect(w[n * 3 + k]).toBe(0);
        else expect(Math.abs(w[n * 3 + k]! - p), `row ${n}, component ${k}`).toBeLessThanOrEqual(4 * se);
      }),
    );
    let exact = 0;
    for (const row of table) exact += Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
    expect(b.logLikelihood).toBeCloseTo(exact, 10);
    expect(Math.abs(b.estimate!.value - exact)).toBeLessThanOrEqual(4 * b.estimate!.stdErr);
    // The units' average is the whole sample's statistics.
    const avg = new Float64Array(w.length);
    for (const u of b.units) (u.stats() as TableStats).weights.forEach((v, i) => (avg[i] = avg[i]! + (v * u.size) / m));
    avg.forEach((v, i) => expect(v).toBeCloseTo(w[i]!, 12));
  });

  it('draws depend on the seed path only, not on the block size', async () => {
    const draw = async (blockRows: number): Promise<Float64Array> =>
      ((await finiteSampler.sample(tableStructure(table, blockRows), null, { rng: createRng('b'), nDraws: 37, burnIn: 0, thin: 1, estimate: false })).stats as TableStats).weights;
    const a = await draw(1);
    expect(Array.from(await draw(4))).toEqual(Array.from(a));
    expect(Array.from(await draw(9))).toEqual(Array.from(a));
  });
});

describe('Gibbs on factor graphs', () => {
  const net = randomBayesNet(5, { nNodes: 6, maxCard: 3, edgeProbability: 0.5 });
  const graph = bnAsFactorGraph(net);
  const nv = net.nodes.length;
  const rng = createRng(9);
  const nRows = 40;
  const values = new Int32Array(nRows * nv);
  for (let r = 0; r < nRows; r++) {
    for (let v = 0; v < nv; v++) {
      const card = net.nodes[v]!.states.length;
      // Node 2 is hidden; other cells are missing with probability 0.3.
      values[r * nv + v] = v === 2 || rng.uniform() < 0.3 ? -1 : rng.int(card);
    }
  }
  /** Σ_rows posterior family tables by enumeration. */
  const exactCounts = (): Float64Array[] => {
    const out = graph.spec.families.map((f) => new Float64Array(f.reduce((a, v) => a * net.nodes[v]!.states.length, 1)));
    for (let r = 0; r < nRows; r++) {
      const bf = bruteForceFactorGraph(graph, values.subarray(r * nv, (r + 1) * nv));
      bf.families.forEach((t, i) => t.forEach((p, j) => (out[i]![j] = out[i]![j]! + p)));
    }
    return out;
  };

  for (const thin of [1, 3]) {
    it(`family counts match the junction tree within 4 batch-means standard errors (8 chains, thin ${thin})`, async () => {
      const s = testFactorGraphStructure(graph, values, nRows, undefined, 'float64');
      try {
        const C = 8;
        const sampler = gibbsSampler({ chains: C });
        const chains = sampler.start(s, createRng(2).child('start'));
        const S = 300;
        const b = await sampler.sample(s, chains, { rng: createRng(3), nDraws: S, burnIn: 50, thin, estimate: true });
        expect(b.nDraws).toBe(C * S);
        // Standard errors by batch means over every unit (⌊√S⌋ batches of each chain).
        const units = b.units.map((u) => u.stats() as FamilyCounts);
        const sizes = b.units.map((u) => u.size);
        const exact = exactCounts();
        // The junction tree's expected family counts on the same structure (float64 host calibration).
        const jt = (await factorGraphExactEStep().run(s, { rng: createRng(0), iteration: 1, passes: 0, state: undefined, precision: 'float64' })).stats as FamilyCounts;
        exact.forEach((t, i) => t.forEach((e, j) => expect(jt[i]![j]!, `junction tree, family ${i}, cell ${j}`).toBeCloseTo(e, 9)));
        const mean = b.stats as FamilyCounts;
        let checked = 0;
        exact.forEach((t, i) =>
          t.forEach((e, j) => {
            const { mean: mu, stdErr: se } = unitMeanAndStdErr(units.map((c) => c[i]![j]!), sizes);
            expect(mu).toBeCloseTo(mean[i]![j]!, 9);
            if (se === 0) expect(Math.abs(mu - e), `family ${i}, cell ${j}`).toBeLessThan(1e-9);
            else {
              expect(Math.abs(mu - jt[i]![j]!), `family ${i}, cell ${j}: ${mu} vs junction tree ${jt[i]![j]} (se ${se})`).toBeLessThanOrEqual(4 * se);
              checked++;
            }
          }),
        );
        expect(checked).toBeGreaterThan(10);
        // The importance-sampling estimate of log p(x) against the exact one.
        let ll = 0;
        for (let r = 0; r < nRows; r++) ll += bruteForceFactorGraph(graph, values.subarray(r * nv, (r + 1) * nv)).logEvidence;
        expect(Math.abs(b.estimate!.value - ll)).toBeLessThanOrEqual(4 * b.estimate!.stdErr + 1e-9);
        expect(b.diagnostics['rHat']).toBeLessThan(1.1);
        expect(b.diagnostics['zeroConditionals']).toBe(0);
      } finally {
        s.dispose();
      }
    });
  }
});

describe('Metropolis–Hastings on the GLMM', () => {
  /** E[z_iᵀ b | y_g] per row by Gauss–Hermite quadrature (20 nodes per dimension) at the Laplace mode. */
  function quadratureMeans(st: ContinuousStructure<GlmmStats>, z: Float64Array, groupStart: Int32Array): Float64Array {
    const q = st.dim;
    const rule = gaussHermite(20);
    const out = new Float64Array(z.length / q);
    for (let g = 0; g < st.nGroups; g++) {
      const m = st.mode!(g);
      // L Lᵀ = H⁻¹ for q ≤ 2, written out.
      const H = m.negHessian;
      const det = q === 1 ? H[0]! : H[0]! * H[3]! - H[1]! * H[2]!;
      const V = q === 1 ? [1 / H[0]!] : [H[3]! / det, -H[1]! / det, -H[2]! / det, H[0]! / det];
      const l11 = Math.sqrt(V[0]!);
      const l21 = q === 2 ? V[2]! / l11 : 0;
      const l22 = q === 2 ? Math.sqrt(V[3]! - l21 * l21) : 0;
      let tot = 0;
      const mean = [0, 0];
      const K = q === 1 ? 20 : 400;
      for (let t = 0; t < K; t++) {
        const i = t % 20;
        const j = Math.floor(t / 20);
        const x1 = Math.SQRT2 * rule.nodes[i]!;
        const x2 = q === 2 ? Math.SQRT2 * rule.nodes[j]! : 0;
        const b = q === 1 ? Float64Array.of(m.mode[0]! + l11 * x1) : Float64Array.of(m.mode[0]! + l11 * x1, m.mode[1]! + l21 * x1 + l22 * x2);
        const lw = rule.logWeights[i]! + rule.nodes[i]! ** 2 + (q === 2 ? rule.logWeights[j]! + rule.nodes[j]! ** 2 : 0) + st.logJoint(g, b) - m.logJoint;
        const w = Math.exp(lw);
        tot += w;
        for (let k = 0; k < q; k++) mean[k] = mean[k]! + w * b[k]!;
      }
      for (let r = groupStart[g]!; r < groupStart[g + 1]!; r++) {
        let v = 0;
        for (let k = 0; k < q; k++) v += (z[r * q + k]! * mean[k]!) / tot;
        out[r] = v;
      }
    }
    return out;
  }

  const cases: ['poisson' | 'logistic', 1 | 2, 'random-walk' | 'independence'][] = [
    ['poisson', 1, 'random-walk'],
    ['logistic', 1, 'independence'],
    ['poisson', 2, 'random-walk'],
    ['logistic', 2, 'random-walk'],
  ];
  for (const [family, q, proposal] of cases) {
    it(`${family}, q = ${q}, ${proposal}: E[z_iᵀ b | y] of every row within 4 batch-means standard errors of quadrature`, async () => {
      const gen = generateGlmmData({ family, nGroups: 6, groupSize: [4, 8], beta: [0.2, 0.5], sigma: q === 1 ? [[0.8]] : [[0.6, 0.1], [0.1, 0.4]], seed: 21 });
      const model = glmm({ family });
      const prepared = model.prepare(gen.input);
      const st = model.structure(prepared, { beta: [0.2, 0.5], sigma: q === 1 ? [[0.8]] : [[0.6, 0.1], [0.1, 0.4]] });
      const sampler = continuousSampler({ chains: 3, proposal });
      const chains = sampler.start(st, createRng(4));
      const b = await sampler.sample(st, chains, { rng: createRng(5), nDraws: 1500, burnIn: 200, thin: 1, estimate: true });
      const exact = quadratureMeans(st, prepared.data.z, prepared.data.groupStart);
      const stats = b.stats as GlmmStats;
      const unitStats = b.units.map((u) => u.stats() as GlmmStats);
      for (let r = 0; r < exact.length; r++) {
        const { mean, stdErr } = unitMeanAndStdErr(unitStats.map((s) => s.meanOffset[r]!), b.units.map((u) => u.size));
        expect(mean).toBeCloseTo(stats.meanOffset[r]!, 10);
        expect(Math.abs(mean - exact[r]!), `row ${r}: ${mean} vs ${exact[r]} (se ${stdErr})`).toBeLessThanOrEqual(4 * stdErr);
      }
      expect(b.diagnostics['acceptanceRate']).toBeGreaterThan(0.15);
      expect(b.diagnostics['rHat']).toBeLessThan(1.05);
      // The importance-sampling estimate against the quadrature log-likelihood.
      expect(Math.abs(b.estimate!.value - b.logLikelihood!)).toBeLessThanOrEqual(4 * b.estimate!.stdErr);
      expect(b.logLikelihood).toBeCloseTo(model.logLikelihood(prepared, { beta: [0.2, 0.5], sigma: q === 1 ? [[0.8]] : [[0.6, 0.1], [0.1, 0.4]] }), 9);
    });
  }
});
