/**
 * The exact factor-graph E-step (batched junction tree) against brute-force
 * enumeration of the joint: log p(e), family posteriors, entropy, on random
 * networks and random factor graphs with random evidence; known asia
 * marginals; batching, caching by evidence pattern, impossible evidence and
 * tensor hygiene.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type * as tf from '@tensorflow/tfjs-core';
import { createRng, createEStep, EmError, evidencePatterns, marginalizeTable, type FactorGraph, type FactorGraphSpec } from '@emlab/core';
import { buildJunctionTree, factorGraphExactEStep, mergeRuns, posteriorMarginals } from '@emlab/exact';
import {
  asiaNetwork,
  bnAsFactorGraph,
  bruteForceFactorGraph,
  catchEmError,
  expectNoTensorLeak,
  randomBayesNet,
  runEStep,
  testFactorGraphStructure,
  type FamilyCounts,
} from '@emlab/testing';

const ctx = { rng: createRng(0), iteration: 1 };

/** Random evidence rows: each cell observed with probability `pObs`; some rows repeated. */
function randomEvidence(cards: readonly number[], nRows: number, seed: number, pObs: number, hidden: readonly number[] = []): Int32Array {
  const rng = createRng(seed).child('evidence');
  const nv = cards.length;
  const out = new Int32Array(nRows * nv);
  for (let r = 0; r < nRows; r++) {
    if (r > 0 && rng.uniform() < 0.3) {
      const src = rng.int(r);
      out.copyWithin(r * nv, src * nv, (src + 1) * nv);
      continue;
    }
    for (let v = 0; v < nv; v++) out[r * nv + v] = !hidden.includes(v) && rng.uniform() < pObs ? rng.int(cards[v] as number) : -1;
  }
  return out;
}

/** Brute-force totals over rows: Σ log p(e_r), Σ H_r, Σ_r q_r(family). */
function bruteTotals(graph: FactorGraph, values: Int32Array, nRows: number): { ll: number; entropy: number; families: Float64Array[] } {
  const nv = graph.spec.variables.length;
  let ll = 0;
  let entropy = 0;
  const families = graph.spec.families.map((f) => new Float64Array(f.reduce((s, v) => s * (graph.spec.variables[v]?.cardinality ?? 1), 1)));
  for (let r = 0; r < nRows; r++) {
    const b = bruteForceFactorGraph(graph, values.subarray(r * nv, (r + 1) * nv));
    ll += b.logEvidence;
    entropy += b.entropy;
    b.families.forEach((t, j) => t.forEach((x, i) => ((families[j] as Float64Array)[i] = ((families[j] as Float64Array)[i] as number) + x)));
  }
  return { ll, entropy, families };
}

/**
 * Runs the E-step on rows and compares with brute force, in both precisions: float32 tables to 1e-4
 * relative on sums of ≤ 40 rows, the float64 host calibration to 1e-12 relative.
 */
async function checkAgainstBruteForce(graph: FactorGraph, values: Int32Array, nRows: number, batchSize?: number, maxTableEntries?: number): Promise<void> {
  const ref = bruteTotals(graph, values, nRows);
  for (const precision of ['float32', 'float64'] as const) {
    const tight = precision === 'float64';
    await expectNoTensorLeak(async () => {
      const s = testFactorGraphStructure(graph, values, nRows, batchSize, precision);
      try {
        const res = await runEStep(factorGraphExactEStep(maxTableEntries === undefined ? {} : { maxTableEntries }), s, ctx);
        const scale = Math.max(1, Math.abs(ref.ll));
        expect(Math.abs((res.logLikelihood as number) - ref.ll)).toBeLessThanOrEqual((tight ? 1e-12 : 1e-5) * scale);
        expect(res.bound).toBe(res.logLikelihood);
        expect(Math.abs(res.entropy - ref.entropy)).toBeLessThanOrEqual((tight ? 1e-12 : 2e-4) * scale);
        const stats = res.stats as FamilyCounts;
        stats.forEach((t, j) => t.forEach((x, i) => expect(Math.abs(x - ((ref.families[j] as Float64Array)[i] as number))).toBeLessThanOrEqual((tight ? 1e-12 : 2e-5) * nRows)));
        expect(res.diagnostics?.['nPatterns']).toBe(s.evidence.nPatterns);
      } finally {
        s.dispose();
      }
    }, `exact factor-graph E-step (${precision})`);
  }
}

/** A random factor graph that is not a Bayesian network: random scopes, unnormalized tables with zeros, a constant. */
function randomFactorGraph(seed: number): FactorGraph {
  const rng = createRng(seed).child('random-fg');
  const nv = 2 + rng.int(6);
  const cards = Array.from({ length: nv }, () => 2 + rng.int(2));
  const nf = 1 + rng.int(7);
  const scopes: number[][] = [];
  for (let f = 0; f < nf; f++) {
    const size = 1 + rng.int(Math.min(3, nv));
    const scope: number[] = [];
    while (scope.length < size) {
      const v = rng.int(nv);
      if (!scope.includes(v)) scope.push(v);
    }
    scopes.push(scope);
  }
  const families = [...scopes, [rng.int(nv)]];
  const spec: FactorGraphSpec = { variables: cards.map((k, i) => ({ name: `V${i}`, cardinality: k })), factorScopes: scopes, families };
  const tables = scopes.map((sc) => {
    const n = sc.reduce((s, v) => s * (cards[v] as number), 1);
    return Float64Array.from({ length: n }, () => (rng.uniform() < 0.1 ? 0 : 0.05 + 3 * rng.uniform()));
  });
  return { spec, factorTables: tables, logConstant: rng.normal() };
}

describe('junction tree construction', () => {
  it('every scope lies in its clique; separators satisfy running intersection', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 10 }), (seed, nNodes) => {
        const net = randomBayesNet(seed, { nNodes, edgeProbability: 0.5 });
        const g = bnAsFactorGraph(net);
        const cards = g.spec.variables.map((v) => v.cardinality);
        const jt = buildJunctionTree(cards, g.spec.factorScopes);
        g.spec.factorScopes.forEach((scope, f) => {
          const c = jt.cliques[jt.scopeClique[f] as number];
          expect(scope.every((v) => c?.vars.includes(v))).toBe(true);
        });
        // Running intersection: the cliques containing any variable form a connected subtree
        // (exactly one of them has no parent containing the variable).
        for (let v = 0; v < cards.length; v++) {
          const holding = jt.cliques.map((c, i) => ({ c, i })).filter((x) => x.c.vars.includes(v));
          const tops = holding.filter((x) => x.c.parent < 0 || !(jt.cliques[x.c.parent]?.vars.includes(v) ?? false));
          expect(tops.length).toBe(1);
        }
        expect(jt.postOrder.length).toBe(jt.cliques.length);
      }),
      { numRuns: 100, seed: 7 },
    );
  });

  it('mergeRuns merges consecutive axes of the same kind and drops size-1 axes', () => {
    expect(mergeRuns([2, 3, 4, 5], [true, true, false, true])).toEqual({ shape: [6, 4, 5], keepShape: [6, 1, 5], otherAxes: [2] });
    expect(mergeRuns([2, 1, 3], [false, true, false])).toEqual({ shape: [6], keepShape: [1], otherAxes: [1] });
  });
});

describe('exact marginals equal brute-force enumeration', () => {
  it('random Bayesian networks (≤ 8 nodes, cardinalities 2–3), random evidence and hidden nodes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: 1, max: 8 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 4 }),
        async (seed, nNodes, pObs, batchSize) => {
          const net = randomBayesNet(seed, { nNodes, concentration: 0.7 });
          const g = bnAsFactorGraph(net);
          const cards = g.spec.variables.map((v) => v.cardinality);
          const hidden = nNodes > 1 ? [createRng(seed).int(nNodes)] : [];
          const nRows = 12;
          const values = randomEvidence(cards, nRows, seed, pObs, hidden);
          await checkAgainstBruteForce(g, values, nRows, batchSize * 3);
        },
      ),
      { numRuns: 60, seed: 11 },
    );
  });

  it('a memory budget smaller than a batch splits it (same answers)', async () => {
    const net = randomBayesNet(77, { nNodes: 7 });
    const g = bnAsFactorGraph(net);
    const values = randomEvidence(g.spec.variables.map((v) => v.cardinality), 30, 78, 0.5, [2]);
    // Budget of one pattern's tables, then of a few patterns' (uneven last slice).
    await checkAgainstBruteForce(g, values, 30, 16, 1);
    await checkAgainstBruteForce(g, values, 30, 16, 3 * 200);
  });

  it('random factor graphs (unnormalized tables with zeros, a log constant, extra families)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1e6 }), async (seed) => {
        const g = randomFactorGraph(seed);
        const cards = g.spec.variables.map((v) => v.cardinality);
        const nRows = 10;
        // Evidence of positive probability only (zeros in the tables may make some rows impossible).
        const candidates = randomEvidence(cards, 40, seed, 0.5);
        const nv = cards.length;
        const rows: number[] = [];
        for (let r = 0; r < 40 && rows.length < nRows * nv; r++) {
          const row = candidates.subarray(r * nv, (r + 1) * nv);
          if (Number.isFinite(bruteForceFactorGraph(g, row).logEvidence)) rows.push(...row);
        }
        if (rows.length === 0) return;
        await checkAgainstBruteForce(g, Int32Array.from(rows), rows.length / nv, 4);
      }),
      { numRuns: 60, seed: 12 },
    );
  });

  it('posteriorMarginals (float64) equals brute-force enumeration to 1e-12 per instance', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), (seed) => {
        const net = randomBayesNet(seed, { nNodes: 6 });
        const g = bnAsFactorGraph(net);
        const row = randomEvidence(g.spec.variables.map((v) => v.cardinality), 1, seed, 0.4);
        const ref = bruteForceFactorGraph(g, row);
        const evidence: Record<string, string> = {};
        row.forEach((s, v) => {
          if (s >= 0) evidence[net.nodes[v]?.name as string] = net.nodes[v]?.states[s] as string;
        });
        const q = posteriorMarginals(g, evidence);
        expect(Math.abs(q.logEvidence - ref.logEvidence)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(ref.logEvidence)));
        net.nodes.forEach((node, v) => (q.marginals[node.name] as number[]).forEach((p, s) => expect(Math.abs(p - ((ref.marginals[v] as Float64Array)[s] as number))).toBeLessThanOrEqual(1e-12)));
        q.families.forEach((t, j) => t.forEach((p, i) => expect(Math.abs(p - ((ref.families[j] as Float64Array)[i] as number))).toBeLessThanOrEqual(1e-12)));
      }),
      { numRuns: 50, seed: 13 },
    );
  });
});

describe('wide cliques (reshapes beyond rank 6 are replaced by 0/1 matrices)', () => {
  /** Binary variables; factors given by scopes; random positive tables. */
  function graphOf(nVars: number, scopes: number[][], seed: number): FactorGraph {
    const rng = createRng(seed).child('wide');
    return {
      spec: { variables: Array.from({ length: nVars }, (_, i) => ({ name: `W${i}`, cardinality: 2 })), factorScopes: scopes, families: scopes },
      factorTables: scopes.map((sc) => Float64Array.from({ length: 2 ** sc.length }, () => 0.1 + rng.uniform())),
    };
  }

  it('separator interleaved with the other variables of a 10-variable clique', async () => {
    // Evidence on 0, 2, ..., 10 goes to the small clique; the big one keeps ascending axis order,
    // so the separator alternates with the hidden odd variables: 10 runs.
    const g = graphOf(11, [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [0, 2, 4, 6, 8, 10]], 1);
    const values = randomEvidence(g.spec.variables.map(() => 2), 8, 5, 0.6, [1, 3, 5, 7, 9]);
    await checkAgainstBruteForce(g, values, 8, 3);
  });

  it('a 7-variable separator in different axis orders on its two sides', async () => {
    // Variables 0–2 observed (their evidence goes to the smaller clique, last in its axis order), 3–6 hidden.
    const g = graphOf(10, [[0, 1, 2, 3, 4, 5, 6, 7, 8], [0, 1, 2, 3, 4, 5, 6, 9]], 2);
    const values = randomEvidence(g.spec.variables.map(() => 2), 8, 6, 0.7, [3, 4, 5, 6]);
    await checkAgainstBruteForce(g, values, 8, 3);
  });
});

describe('asia', () => {
  const g = bnAsFactorGraph(asiaNetwork());

  it('prior marginals match the published values', async () => {
    const q = await expectNoTensorLeak(() => posteriorMarginals(g));
    const yes = (name: string): number => (q.marginals[name] as number[])[0] as number;
    expect(yes('lung')).toBeCloseTo(0.055, 6);
    expect(yes('tub')).toBeCloseTo(0.0104, 6);
    expect(yes('either')).toBeCloseTo(0.064828, 5);
    expect(yes('xray')).toBeCloseTo(0.11029, 5);
    expect(yes('dysp')).toBeCloseTo(0.43597, 5);
    expect(q.logEvidence).toBeCloseTo(0, 6);
  });

  it('posterior given evidence equals brute force; impossible evidence is a typed error', () => {
    const ev = { asia: 'yes', xray: 'yes', dysp: 'no' };
    const q = posteriorMarginals(g, ev);
    const row = Int32Array.from([0, -1, -1, -1, -1, -1, 0, 1]);
    const ref = bruteForceFactorGraph(g, row);
    expect(q.logEvidence).toBeCloseTo(ref.logEvidence, 5);
    g.spec.variables.forEach((v, i) => expect((q.marginals[v.name] as number[])[0]).toBeCloseTo((ref.marginals[i] as Float64Array)[0] as number, 5));
    // either = no while tub = yes has probability 0.
    const e = catchEmError(() => posteriorMarginals(g, { tub: 'yes', either: 'no' }));
    expect(e).toBeInstanceOf(EmError);
    expect(e.code).toBe('INVALID_PARAMS');
    // State indices, as numbers or digit strings, name the same states.
    expect(posteriorMarginals(g, { asia: 0, xray: '0', dysp: 'no' }).marginals).toEqual(q.marginals);
    expect(() => posteriorMarginals(g, { smoker: 'yes' })).toThrow(/names no variable/);
    expect(() => posteriorMarginals(g, { smoke: 'maybe' })).toThrow(/not a state/);
  });

  it('an instance with impossible evidence gives log-likelihood −∞, never NaN statistics', async () => {
    const values = Int32Array.from([-1, 0, -1, -1, -1, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1]);
    await expectNoTensorLeak(async () => {
      const s = testFactorGraphStructure(g, values, 2);
      try {
        const res = await runEStep(factorGraphExactEStep(), s, ctx);
        expect(res.logLikelihood).toBe(Number.NEGATIVE_INFINITY);
        for (const t of res.stats as FamilyCounts) for (const x of t) expect(Number.isNaN(x)).toBe(false);
      } finally {
        s.dispose();
      }
    });
  });
});

describe('evidence patterns and the registry', () => {
  it('repeated rows cost per distinct pattern and give the same answer as weighted rows', async () => {
    const net = randomBayesNet(5, { nNodes: 7 });
    const g = bnAsFactorGraph(net);
    const cards = g.spec.variables.map((v) => v.cardinality);
    const base = randomEvidence(cards, 5, 3, 0.5);
    const nv = cards.length;
    const rep = new Int32Array(500 * nv);
    for (let r = 0; r < 500; r++) rep.set(base.subarray((r % 5) * nv, (r % 5 + 1) * nv), r * nv);
    await checkAgainstBruteForce(g, rep, 500);
    const s = testFactorGraphStructure(g, rep, 500);
    try {
      expect(s.evidence.nPatterns).toBeLessThanOrEqual(5);
      expect(Array.from(s.evidence.counts).reduce((a, b) => a + b, 0)).toBe(500);
      expect(s.evidence.rowPattern.length).toBe(500);
    } finally {
      s.dispose();
    }
  });

  it('evidencePatterns: distinct patterns, multiplicities, indicators, typed errors, no leaks', async () => {
    await expectNoTensorLeak(() => {
      const values = Int32Array.from([0, -1, -1, 0, -1, -1, 1, 2, -1, 0, -1, -1]);
      const ev = evidencePatterns(values, 4, [2, 3, 2], { batchSize: 2 });
      try {
        expect(ev.nPatterns).toBe(2);
        expect(Array.from(ev.counts)).toEqual([3, 1]);
        expect(Array.from(ev.rowPattern)).toEqual([0, 0, 1, 0]);
        expect(ev.batches.length).toBe(1);
        const b = ev.batches[0];
        // Variable 1 is missing in pattern 0 (all ones) and observed = 2 in pattern 1.
        expect(Array.from((b!.indicators[1] as tf.Tensor2D).dataSync())).toEqual([1, 1, 1, 0, 0, 1]);
        // Variable 2 is missing everywhere in the batch: null.
        expect(b?.indicators[2]).toBeNull();
        expect(Array.from(b?.counts.dataSync() ?? [])).toEqual([3, 1]);
      } finally {
        ev.dispose();
        ev.dispose();
      }
    });
    const e = catchEmError(() => evidencePatterns(Int32Array.from([0, 3]), 1, [2, 3]));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.path).toEqual(['data', 0, 1]);
  });

  it('marginalizeTable sums a table down to a sub-scope in the requested order', () => {
    const spec: FactorGraphSpec = { variables: [{ name: 'a', cardinality: 2 }, { name: 'b', cardinality: 3 }], factorScopes: [], families: [] };
    const t = [1, 2, 3, 4, 5, 6]; // t[a][b]
    expect(Array.from(marginalizeTable(spec, t, [0, 1], [1]))).toEqual([5, 7, 9]);
    expect(Array.from(marginalizeTable(spec, t, [0, 1], [0]))).toEqual([6, 15]);
    expect(Array.from(marginalizeTable(spec, t, [0, 1], [1, 0]))).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it("is registered as (factor-graph, exact) and rejects options", () => {
    expect(createEStep('factor-graph', 'exact').kind).toBe('factor-graph');
    expect(() => factorGraphExactEStep({ nope: 1 } as never)).toThrow(EmError);
    expect(() => factorGraphExactEStep({ maxTableEntries: 0 })).toThrow(/maxTableEntries/);
    expect(factorGraphExactEStep().options).toEqual({ maxTableEntries: 2 ** 22 });
  });
});
