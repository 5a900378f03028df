/**
 * Mean field on factor graphs, against enumeration written in this file:
 * fixed points on tiny networks equal a brute-force mean-field solution (KL
 * over product distributions minimized numerically here), the bound is
 * log Z − KL(q ‖ p) and below the exact log-likelihood, family counts are
 * products of marginals, warm starts, damping, structural zeros, the log
 * constant, and fits of networks (the E-half never lowers L; the gap to the
 * exact log-likelihood is in the trace).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEStep, createRng, fit, listESteps, marginalizeTable, monotonicityTolerance, type FactorGraph } from '@emlab/core';
import '@emlab/exact';
import { MEAN_FIELD_OPTIONS, meanFieldEStep } from '@emlab/variational';
import { asiaNetwork, bayesianNetwork, sampleNetwork, type BnData } from '@emlab/models';
import { bnAsFactorGraph, bruteForceFactorGraph, catchEmError, expectNoTensorLeak, randomBayesNet, runEStep, testFactorGraphStructure, type FamilyCounts } from '@emlab/testing';
import { driver, expectBelowLogLikelihood, expectMonotone, expectSameFit } from './helpers.js';

const TIGHT = { innerTol: 1e-14, maxSweeps: 100_000, exactLogLikelihood: 'never' } as const;

/** Enumeration over all joint states of the hidden variables given evidence (state or −1). */
function joint(graph: FactorGraph, evidence: readonly number[]): { hidden: number[]; cards: number[]; states: number[][]; logP: number[] } {
  const cards = graph.spec.variables.map((v) => v.cardinality);
  const hidden = evidence.flatMap((e, v) => (e < 0 ? [v] : []));
  const states: number[][] = [];
  const logP: number[] = [];
  const idx = new Array<number>(hidden.length).fill(0);
  for (;;) {
    const x = evidence.slice();
    hidden.forEach((v, i) => (x[v] = idx[i] as number));
    let lp = graph.logConstant ?? 0;
    graph.spec.factorScopes.forEach((scope, f) => {
      const o = scope.reduce((a, v) => a * (cards[v] as number) + (x[v] as number), 0);
      lp += Math.log((graph.factorTables[f] as Float64Array)[o] as number);
    });
    states.push(idx.slice());
    logP.push(lp);
    let a = hidden.length - 1;
    for (; a >= 0; a--) {
      idx[a] = (idx[a] as number) + 1;
      if ((idx[a] as number) < (cards[hidden[a] as number] as number)) break;
      idx[a] = 0;
    }
    if (a < 0) break;
  }
  return { hidden, cards, states, logP };
}

/** KL(q ‖ p(· | e)) and log Z for a product q (marginals of the hidden variables), by enumeration; with ∂KL/∂logits. */
function klOf(j: ReturnType<typeof joint>, q: number[][]): { kl: number; logZ: number; grad: number[][] } {
  const m = Math.max(...j.logP);
  const logZ = m + Math.log(j.logP.reduce((s, l) => s + Math.exp(l - m), 0));
  let kl = 0;
  // g_v(s) = ∂KL/∂q_v(s) = log q_v(s) + 1 − E_{q−v}[log p(s, ·)] + log Z
  const g = q.map((qv) => qv.map(() => 0));
  j.states.forEach((st, n) => {
    let w = 1;
    st.forEach((s, i) => (w *= (q[i] as number[])[s] as number));
    const lp = (j.logP[n] as number) - logZ;
    if (w > 0) kl += w * (st.reduce((a, s, i) => a + Math.log((q[i] as number[])[s] as number), 0) - lp);
    st.forEach((s, i) => {
      let wv = 1;
      st.forEach((t, u) => u !== i && (wv *= (q[u] as number[])[t] as number));
      (g[i] as number[])[s] = ((g[i] as number[])[s] as number) - wv * lp;
    });
  });
  const grad = q.map((qv, i) => {
    const gv = (g[i] as number[]).map((v, s) => v + Math.log(qv[s] as number) + 1);
    const mean = qv.reduce((a, p, s) => a + p * (gv[s] as number), 0);
    return qv.map((p, s) => p * ((gv[s] as number) - mean));
  });
  return { kl, logZ, grad };
}

/** min over product distributions of KL(q ‖ p), by gradient descent on softmax logits with backtracking, from `start` logits. */
function minimizeKl(j: ReturnType<typeof joint>, start: number[][]): { kl: number; q: number[][] } {
  const soft = (a: number[][]): number[][] => a.map((av) => {
    const mx = Math.max(...av);
    const e = av.map((x) => Math.exp(x - mx));
    const z = e.reduce((s, x) => s + x, 0);
    return e.map((x) => x / z);
  });
  let a = start.map((r) => r.slice());
  let cur = klOf(j, soft(a));
  let step = 1;
  for (let it = 0; it < 20_000; it++) {
    const norm = Math.sqrt(cur.grad.flat().reduce((s, x) => s + x * x, 0));
    if (norm < 1e-12) break;
    for (;;) {
      const b = a.map((r, i) => r.map((x, s) => x - step * ((cur.grad[i] as number[])[s] as number)));
      const next = klOf(j, soft(b));
      if (next.kl <= cur.kl - 1e-4 * step * norm * norm || step < 1e-14) {
        a = b;
        cur = next;
        step = Math.min(step * 2, 64);
        break;
      }
      step /= 2;
    }
  }
  return { kl: cur.kl, q: soft(a) };
}

/** The marginal of every hidden variable from family counts of one pattern (m = 1). */
function marginalsFrom(graph: FactorGraph, counts: FamilyCounts, hidden: readonly number[]): number[][] {
  return hidden.map((v) => {
    const f = graph.spec.families.findIndex((fam) => fam.includes(v));
    return Array.from(marginalizeTable(graph.spec, counts[f] as Float64Array, graph.spec.families[f] as number[], [v]));
  });
}

describe('meanFieldEStep: options and registry', () => {
  it('is a restricted factor-graph E-step registered as "mean-field", float64', () => {
    const e = meanFieldEStep();
    expect([e.name, e.kind, e.family, e.precisions]).toEqual(['mean-field', 'factor-graph', 'restricted', ['float64']]);
    expect(listESteps('factor-graph').find((r) => r.method === 'mean-field')?.options).toBe(MEAN_FIELD_OPTIONS);
    expect(createEStep('factor-graph', 'mean-field', { damping: 0.5 }).options).toMatchObject({ damping: 0.5, innerTol: 1e-10, warmStart: true });
    expect(catchEmError(() => meanFieldEStep({ damping: 1 })).path).toEqual(['meanFieldEStep', 'damping']);
    expect(catchEmError(() => meanFieldEStep({ exactLogLikelihood: 'sometimes' as never })).path).toEqual(['meanFieldEStep', 'exactLogLikelihood']);
  });
});

describe('mean-field fixed points on tiny networks', () => {
  it('equal a brute-force mean-field solution (KL over product distributions minimized numerically), and L = log Z − KL', async () => {
    let compared = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const net = randomBayesNet(seed, { nNodes: 5, minCard: 2, maxCard: 3, edgeProbability: 0.6, concentration: 0.7 });
      const graph = bnAsFactorGraph(net);
      const rng = createRng(seed).child('evidence');
      const evidence = net.nodes.map((n, v) => (v >= 3 ? rng.int(n.states.length) : -1));
      const s = testFactorGraphStructure(graph, Int32Array.from(evidence), 1, undefined, 'float64');
      const e = await runEStep(meanFieldEStep(TIGHT), s);
      s.dispose();
      const j = joint(graph, evidence);
      const q = marginalsFrom(graph, e.stats as FamilyCounts, j.hidden);
      const atMf = klOf(j, q);
      // A stationary point of KL over product distributions ...
      expect(Math.sqrt(atMf.grad.flat().reduce((a, x) => a + x * x, 0))).toBeLessThanOrEqual(1e-9);
      // ... with the bound L = log Z − KL(q ‖ p).
      expect(Math.abs(e.bound - (atMf.logZ - atMf.kl))).toBeLessThanOrEqual(1e-11 * Math.max(1, Math.abs(atMf.logZ)));
      // The numerical minimizer from the same (uniform) start reaches the same q.
      const fromUniform = minimizeKl(j, j.hidden.map((v) => new Array<number>(j.cards[v] as number).fill(0)));
      expect(Math.abs(fromUniform.kl - atMf.kl)).toBeLessThanOrEqual(1e-10);
      fromUniform.q.forEach((qv, i) => qv.forEach((p, st) => expect(Math.abs(p - ((q[i] as number[])[st] as number))).toBeLessThanOrEqual(1e-6)));
      compared++;
    }
    expect(compared).toBe(6);
  });

  it('with nothing hidden, q is the evidence and L is the exact log-likelihood', async () => {
    const net = randomBayesNet(3, { nNodes: 4 });
    const graph = bnAsFactorGraph(net);
    const ev = net.nodes.map((n, v) => v % n.states.length);
    const s = testFactorGraphStructure(graph, Int32Array.from(ev), 1, undefined, 'float64');
    const e = await runEStep(meanFieldEStep(), s);
    s.dispose();
    expect(e.bound).toBeCloseTo(bruteForceFactorGraph(graph, ev).logEvidence, 12);
    expect(e.entropy).toBe(0);
  });
});

describe('mean field on random networks and evidence', () => {
  it('L ≤ Σ_p m_p log p(e_p) (enumeration); family counts are m_p · products of marginals; the gap is in the result', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 12 }), async (seed, nRows) => {
        const net = randomBayesNet(seed, { nNodes: 5, edgeProbability: 0.5 });
        const graph = bnAsFactorGraph(net);
        const rng = createRng(seed).child('rows');
        const values = new Int32Array(nRows * 5);
        for (let i = 0; i < values.length; i++) values[i] = rng.uniform() < 0.5 ? -1 : rng.int((net.nodes[i % 5] as { readonly states: readonly string[] }).states.length);
        const s = testFactorGraphStructure(graph, values, nRows, 3, 'float64');
        const e = await runEStep(meanFieldEStep({ exactLogLikelihood: 'always' }), s);
        let ll = 0;
        for (let r = 0; r < nRows; r++) ll += bruteForceFactorGraph(graph, values.subarray(r * 5, (r + 1) * 5)).logEvidence;
        s.dispose();
        expect(e.bound).toBeLessThanOrEqual(ll + monotonicityTolerance(ll, e.bound, nRows, 0, 'float64'));
        expect(Math.abs((e.logLikelihood as number) - ll)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(ll)));
        // Counts: each family sums to W, and a family's table is the outer product of its variables' marginals when one pattern.
        const counts = e.stats as FamilyCounts;
        counts.forEach((c) => expect(c.reduce((a, x) => a + x, 0)).toBeCloseTo(nRows, 10));
      }),
      { numRuns: 60 },
    );
  });

  it('a family table is the product of the marginals of its variables (one pattern)', async () => {
    const net = randomBayesNet(17, { nNodes: 4, edgeProbability: 1, maxParents: 3 });
    const graph = bnAsFactorGraph(net);
    const s = testFactorGraphStructure(graph, Int32Array.from([-1, -1, -1, 0]), 1, undefined, 'float64');
    const e = await runEStep(meanFieldEStep(TIGHT), s);
    s.dispose();
    const counts = e.stats as FamilyCounts;
    const fam = graph.spec.families[3] as number[]; // [0, 1, 2, 3]: the last node has every other as parent
    const margins = fam.map((v) => Array.from(marginalizeTable(graph.spec, counts[3] as Float64Array, fam, [v])));
    const table = counts[3] as Float64Array;
    const cards = fam.map((v) => graph.spec.variables[v]?.cardinality as number);
    for (let i = 0; i < table.length; i++) {
      let rest = i;
      let prod = 1;
      for (let a = fam.length - 1; a >= 0; a--) {
        prod *= (margins[a] as number[])[rest % (cards[a] as number)] as number;
        rest = Math.floor(rest / (cards[a] as number));
      }
      expect(Math.abs((table[i] as number) - prod)).toBeLessThanOrEqual(1e-15);
    }
  });
});

describe('warm starts, damping, zeros and the log constant', () => {
  const net = randomBayesNet(5, { nNodes: 5, edgeProbability: 0.7 });
  const graph = bnAsFactorGraph(net);
  const values = Int32Array.from([-1, -1, 0, -1, 1, -1, 0, -1, -1, 1]);

  it('a second call at the same θ starts at the fixed point (one sweep); without warm starts it starts over and is exempt', async () => {
    const s = testFactorGraphStructure(graph, values, 2, undefined, 'float64');
    const warm = driver(meanFieldEStep({ innerTol: 1e-12 }), s);
    const a = await warm.run(s);
    const b = await warm.run(s);
    expect(a.diagnostics?.['sweeps']).toBeGreaterThan(2);
    expect(b.diagnostics?.['sweeps']).toBe(1);
    expect(b.bound).toBeGreaterThanOrEqual(a.bound - 1e-12);
    warm.dispose();
    const cold = driver(meanFieldEStep({ innerTol: 1e-12, warmStart: false }), s);
    await cold.run(s);
    const c = await cold.run(s);
    expect(c.diagnostics?.['sweeps']).toBe(a.diagnostics?.['sweeps']);
    expect(c.exempt).toMatch(/warmStart: false/);
    cold.dispose();
    s.dispose();
  });

  it('damping reaches the same fixed point in more sweeps', async () => {
    const s = testFactorGraphStructure(graph, values, 2, undefined, 'float64');
    const plain = await runEStep(meanFieldEStep(TIGHT), s);
    const damped = await runEStep(meanFieldEStep({ ...TIGHT, damping: 0.6 }), s);
    s.dispose();
    expect(Math.abs(damped.bound - plain.bound)).toBeLessThanOrEqual(1e-11);
    expect(damped.diagnostics?.['sweeps']).toBeGreaterThan(plain.diagnostics?.['sweeps'] as number);
  });

  it('structural zeros give exact zeros (never NaN), and logConstant · W is added', async () => {
    // X0 → X1 with X1 = X0 deterministically; X1 observed.
    const zeros: FactorGraph = {
      spec: { variables: [{ name: 'a', cardinality: 2 }, { name: 'b', cardinality: 2 }], factorScopes: [[0], [0, 1]], families: [[0], [0, 1]] },
      factorTables: [Float64Array.of(0.3, 0.7), Float64Array.of(1, 0, 0, 1)],
      logConstant: 0.25,
    };
    const s = testFactorGraphStructure(zeros, Int32Array.from([-1, 1, -1, 0, -1, 1]), 3, undefined, 'float64');
    const e = await runEStep(meanFieldEStep(), s);
    s.dispose();
    const counts = e.stats as FamilyCounts;
    expect(Array.from(counts[0] as Float64Array)).toEqual([1, 2]);
    expect(Array.from(counts[1] as Float64Array)).toEqual([1, 0, 0, 2]);
    expect(e.entropy).toBe(0);
    expect(e.bound).toBeCloseTo(Math.log(0.3) + 2 * Math.log(0.7) + 3 * 0.25, 13);
  });
});

describe('mean field in fit (Bayesian networks)', () => {
  const net = asiaNetwork();
  const data = sampleNetwork(net, 1500, 2, { missingRate: 0.3, hide: ['either'] });
  const model = bayesianNetwork(net, { hidden: ['either'] });
  const base = { seed: 3, eStep: 'mean-field', monotonicity: 'throw', maxIter: 200 } as const;

  it('the E-half never lowers L; the gap to the exact log-likelihood is in every record and ≥ 0', async () => {
    const r = await expectNoTensorLeak(() => fit(model, data, base));
    expect(r.precision.used).toEqual(['float64']);
    expectMonotone(r.trace, r.totalWeight);
    expectBelowLogLikelihood(r.trace, r.totalWeight);
    expect(r.trace.every((t) => t.logLikelihood !== null && (t.diagnostics['exactMs'] as number) >= 0)).toBe(true);
    const last = r.trace[r.trace.length - 1];
    expect(last?.gap as number).toBeGreaterThan(0);
    const never = await fit(model, data, { ...base, eStepOptions: { exactLogLikelihood: 'never' }, maxIter: 5, tol: 0, onWarning: () => {} });
    expect(never.trace.every((t) => t.logLikelihood === null && t.diagnostics['exactMs'] === undefined)).toBe(true);
  });

  it('same seed, same fit; a weight of 2 equals a duplicated row', async () => {
    const o = { ...base, maxIter: 8, tol: 0, onWarning: () => {} };
    expectSameFit(await fit(model, data, o), await fit(model, data, o));
    const n = 200;
    const cols = data.columns.length;
    const sub: BnData = { columns: data.columns, nRows: n, values: data.values.slice(0, n * cols) };
    const weights = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 2 : 1));
    const dupValues: number[] = [];
    for (let i = 0; i < n; i++) for (let c = 0; c < (i % 3 === 0 ? 2 : 1); c++) dupValues.push(...sub.values.slice(i * cols, (i + 1) * cols));
    const dup: BnData = { columns: data.columns, nRows: dupValues.length / cols, values: Int32Array.from(dupValues) };
    const a = await fit(model, sub, { ...o, weights, init: 'network' });
    const b = await fit(model, dup, { ...o, init: 'network' });
    a.trace.forEach((rec, i) => expect(Math.abs(rec.boundAfterM - (b.trace[i]?.boundAfterM as number))).toBeLessThanOrEqual(1e-10 * Math.abs(rec.boundAfterM)));
  });
});
