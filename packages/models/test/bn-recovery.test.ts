/**
 * Recovery: rows sampled from asia and ALARM (seeded), 20% of the cells
 * missing completely at random (and, for asia, the node `lung` hidden in every
 * row), refitted by EM from a seeded random start: the learned CPTs approach
 * the truth as N grows. The distance is the KL divergence from the true
 * distribution:
 *
 * - ALARM (all nodes partly observed): KL of the joints, by the chain rule
 *   Σ_node Σ_config P(config) KL(P(node | config) ‖ P̂(node | config)), with
 *   the true family marginals from exact inference;
 * - asia with `lung` hidden: the hidden node's labels are not identifiable
 *   (swapping them with its CPTs leaves p(observed) unchanged), so the KL is
 *   that of the marginals over the 7 observed nodes, by enumeration.
 *
 * Both fits use pseudoCount 1 (MAP), so every estimated probability is > 0 and
 * the KL is finite. The KL values are printed.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fit } from '@emlab/core';
import { posteriorMarginals } from '@emlab/exact';
import { bayesianNetwork, bnFactorGraph, networkWithParams, parseBif, sampleNetwork, type BayesNet } from '@emlab/models';
import { asiaNetwork, bnAsFactorGraph, bnKlDivergence, bruteForceFactorGraph } from '@emlab/testing';

const quiet = { onWarning: (): void => {} };

/** Joint table over all nodes (node order, last fastest) by enumeration; small networks only. */
function jointTable(net: BayesNet): Float64Array {
  const g = bnAsFactorGraph(net);
  const cards = net.nodes.map((n) => n.states.length);
  const total = cards.reduce((a, b) => a * b, 1);
  const out = new Float64Array(total);
  const idx = new Array<number>(cards.length).fill(0);
  for (let i = 0; i < total; i++) {
    let p = 1;
    g.spec.factorScopes.forEach((scope, f) => {
      const o = scope.reduce((acc, v) => acc * (cards[v] as number) + (idx[v] as number), 0);
      p *= (g.factorTables[f] as Float64Array)[o] as number;
    });
    out[i] = p;
    for (let a = cards.length - 1; a >= 0; a--) {
      idx[a] = (idx[a] as number) + 1;
      if ((idx[a] as number) < (cards[a] as number)) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** KL(p_truth(observed) ‖ p_est(observed)) with node `hidden` summed out (binary nodes). */
function observedMarginalKl(truth: BayesNet, est: BayesNet, hidden: string): number {
  const h = truth.nodes.findIndex((n) => n.name === hidden);
  const cards = truth.nodes.map((n) => n.states.length);
  const pt = jointTable(truth);
  const pe = jointTable(est);
  const stride = cards.slice(h + 1).reduce((a, b) => a * b, 1);
  const kh = cards[h] as number;
  const mt = new Map<number, number>();
  const me = new Map<number, number>();
  for (let i = 0; i < pt.length; i++) {
    const key = Math.floor(i / (stride * kh)) * stride + (i % stride);
    mt.set(key, (mt.get(key) ?? 0) + (pt[i] as number));
    me.set(key, (me.get(key) ?? 0) + (pe[i] as number));
  }
  let kl = 0;
  for (const [k, p] of mt) if (p > 0) kl += p * Math.log(p / (me.get(k) as number));
  return kl;
}

describe('recovery as N grows', () => {
  it('asia: 20% cells missing, lung hidden', async () => {
    const truth = asiaNetwork();
    const kls: number[] = [];
    for (const n of [1000, 10000]) {
      const data = sampleNetwork(truth, n, 101, { missingRate: 0.2, hide: ['lung'] });
      const model = bayesianNetwork(truth, { hidden: ['lung'], pseudoCount: 1 });
      const r = await fit(model, data, { seed: 3, nInit: 3, maxIter: 300, tol: 1e-7, monotonicity: 'throw', ...quiet });
      const kl = observedMarginalKl(truth, networkWithParams(truth, r.params), 'lung');
      // Sanity: the KL by enumeration vanishes at the truth.
      expect(observedMarginalKl(truth, truth, 'lung')).toBeCloseTo(0, 12);
      console.log(`asia N=${n}: KL(observed marginal) = ${kl.toExponential(3)}, ${r.nIter} iterations, patterns ${r.trace[0]?.diagnostics['nPatterns']}`);
      kls.push(kl);
    }
    expect(kls[1] as number).toBeLessThan(kls[0] as number);
    expect(kls[1] as number).toBeLessThan(0.01);
  });

  it('ALARM: 20% cells missing', async () => {
    const text = readFileSync(new URL('../../../data/bn/alarm.bif', import.meta.url), 'utf8');
    const truth = parseBif(text);
    const familyJoint = posteriorMarginals(bnFactorGraph(truth)).families;
    // The chain-rule KL with the exact family marginals is 0 at the truth.
    expect(bnKlDivergence(truth, truth, familyJoint)).toBe(0);
    const kls: number[] = [];
    for (const n of [1000, 10000]) {
      const data = sampleNetwork(truth, n, 202, { missingRate: 0.2, onWarning: () => {} });
      const model = bayesianNetwork(truth, { pseudoCount: 1 });
      const r = await fit(model, data, { seed: 4, maxIter: 60, tol: 1e-6, monotonicity: 'throw', ...quiet });
      const kl = bnKlDivergence(truth, networkWithParams(truth, r.params), familyJoint);
      console.log(`ALARM N=${n}: KL(joint) = ${kl.toExponential(3)}, ${r.nIter} iterations, converged ${r.converged}, patterns ${r.trace[0]?.diagnostics['nPatterns']}`);
      kls.push(kl);
    }
    expect(kls[1] as number).toBeLessThan(0.5 * (kls[0] as number));
  });
});

// The brute-force helper agrees with exact inference on asia (guards the KL reference itself).
it('asia joint table sums to 1 and matches brute force', () => {
  const t = jointTable(asiaNetwork());
  expect(t.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  expect(bruteForceFactorGraph(bnAsFactorGraph(asiaNetwork()), new Int32Array(8).fill(-1)).logEvidence).toBeCloseTo(0, 12);
});
