/**
 * The kit's small `factor-graph` structures for `checkEStep`: random
 * Bayesian networks as factor graphs (optionally with a log constant), random
 * evidence rows with missing cells and row weights, in float32 (indicator
 * tensors uploaded) or float64; and their brute-force answers by enumeration.
 * @module
 */
import fc from 'fast-check';
import { createRng, evidencePatterns, type FactorGraph, type FactorGraphStructure, type Precision } from '@emlab/core';
import { bnAsFactorGraph, bruteForceFactorGraph, familyCountsAlgebra, randomBayesNet, type FamilyCounts } from '../../bn-helpers.js';

/** One generated factor-graph case. */
export interface FactorGraphCase {
  readonly netSeed: number;
  readonly nNodes: number;
  /** Added to every instance's log p (a model's constant), in nats. */
  readonly logConstant: number;
  /** `[nRows · nNodes]` state or −1. */
  readonly values: Int32Array;
  readonly nRows: number;
  readonly weights: number[] | undefined;
  readonly batchSize: number;
  readonly precision: Precision;
}

/** The factor graph of a case (deterministic in its seed). */
export function caseGraph(c: FactorGraphCase): FactorGraph {
  const g = bnAsFactorGraph(randomBayesNet(c.netSeed, { nNodes: c.nNodes, maxCard: 3, maxParents: 2, concentration: 0.7 }));
  return { ...g, logConstant: c.logConstant };
}

/** The structure of a case; `dispose()` frees its indicator tensors. */
export function factorGraphCaseStructure(c: FactorGraphCase): FactorGraphStructure<FamilyCounts> & { dispose(): void } {
  const graph = caseGraph(c);
  const cards = graph.spec.variables.map((v) => v.cardinality);
  const evidence = evidencePatterns(c.values, c.nRows, cards, { batchSize: c.batchSize, upload: c.precision === 'float32', ...(c.weights === undefined ? {} : { weights: Float64Array.from(c.weights) }) });
  return {
    ...graph,
    kind: 'factor-graph',
    precision: c.precision,
    evidence,
    algebra: familyCountsAlgebra,
    stats: (counts) => counts.map((t) => Float64Array.from(t)),
    dispose: () => evidence.dispose(),
  };
}

/** A case: 2–5 nodes, 1–12 rows, each cell observed with probability ~0.6, weights 0 or in [0.001, 3], or none. */
export function factorGraphCaseArb(): fc.Arbitrary<FactorGraphCase> {
  return fc
    .record({
      netSeed: fc.integer({ min: 0, max: 1_000_000 }),
      nNodes: fc.integer({ min: 2, max: 5 }),
      nRows: fc.integer({ min: 1, max: 12 }),
      evidenceSeed: fc.integer({ min: 0, max: 1_000_000 }),
      logConstant: fc.oneof(fc.constant(0), fc.double({ min: -3, max: 3, noNaN: true })),
      weighted: fc.boolean(),
      batchSize: fc.integer({ min: 1, max: 5 }),
      precision: fc.constantFrom<Precision>('float64', 'float32'),
    })
    .chain((o) =>
      (o.weighted ? fc.array(fc.oneof(fc.constant(0), fc.constant(2), fc.double({ min: 1e-3, max: 3, noNaN: true })), { minLength: o.nRows, maxLength: o.nRows }) : fc.constant(undefined)).map(
        (weights): FactorGraphCase => {
          const net = randomBayesNet(o.netSeed, { nNodes: o.nNodes, maxCard: 3, maxParents: 2, concentration: 0.7 });
          const rng = createRng(o.evidenceSeed).child('conformance-evidence');
          const values = new Int32Array(o.nRows * o.nNodes);
          for (let r = 0; r < o.nRows; r++) {
            net.nodes.forEach((node, v) => {
              values[r * o.nNodes + v] = rng.uniform() < 0.6 ? rng.int(node.states.length) : -1;
            });
          }
          return { netSeed: o.netSeed, nNodes: o.nNodes, logConstant: o.logConstant, values, nRows: o.nRows, weights, batchSize: o.batchSize, precision: o.precision };
        },
      ),
    );
}

/** Brute force for a case: Σ w log p(e_n), Σ w H(posterior_n), and the family counts Σ w p(family | e_n). */
export function factorGraphTruth(c: FactorGraphCase): { logLikelihood: number; entropy: number; counts: Float64Array[]; totalWeight: number; possible: boolean } {
  const graph = caseGraph(c);
  let logLikelihood = 0;
  let entropy = 0;
  let totalWeight = 0;
  let possible = true;
  const counts = graph.spec.families.map((f) => new Float64Array(f.reduce((s, v) => s * (graph.spec.variables[v]?.cardinality ?? 1), 1)));
  for (let r = 0; r < c.nRows; r++) {
    const w = c.weights === undefined ? 1 : (c.weights[r] as number);
    totalWeight += w;
    if (w === 0) continue;
    const b = bruteForceFactorGraph(graph, c.values.subarray(r * c.nNodes, (r + 1) * c.nNodes));
    if (!Number.isFinite(b.logEvidence)) {
      possible = false;
      continue;
    }
    logLikelihood += w * b.logEvidence;
    entropy += w * b.entropy;
    b.families.forEach((t, i) => {
      const acc = counts[i] as Float64Array;
      for (let j = 0; j < t.length; j++) acc[j] = (acc[j] as number) + w * (t[j] as number);
    });
  }
  return { logLikelihood, entropy, counts, totalWeight, possible };
}
