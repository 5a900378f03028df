/**
 * Bayesian-network and factor-graph test helpers: random networks, a
 * brute-force reference (enumeration of the joint), a test-only factor-graph
 * structure with identity statistics, the asia network written out by hand,
 * and KL divergences between CPTs.
 *
 * Everything random comes from `createRng(seed)` streams, so a case is
 * reproduced by its seed alone.
 * @module
 */
import {
  createRng,
  evidencePatterns,
  type FactorGraph,
  type FactorGraphSpec,
  type FactorGraphStructure,
  type StatsAlgebra,
} from '@emlab/core';
import { gammaDraw, type BayesNet, type BnNode } from '@emlab/models';

/** Options of {@link randomBayesNet}. @category Testing */
export interface RandomBayesNetOptions {
  /** Number of nodes. */
  readonly nNodes: number;
  /** Cardinalities are drawn uniformly from [minCard, maxCard]. Defaults 2, 3. */
  readonly minCard?: number;
  readonly maxCard?: number;
  /** Each earlier node is a parent with this probability, at most `maxParents`. Defaults 0.4, 3. */
  readonly edgeProbability?: number;
  readonly maxParents?: number;
  /** Dirichlet-like concentration of CPT columns: small gives peaked columns. Default 1. */
  readonly concentration?: number;
}


/**
 * A random DAG (edges only from lower to higher index, so index order is topological) with
 * Dirichlet CPT columns. Nodes are `X0, X1, ...` with states `s0, s1, ...`.
 * @category Testing
 */
export function randomBayesNet(seed: number, options: RandomBayesNetOptions): BayesNet {
  const rng = createRng(seed).child('random-bn');
  const { nNodes } = options;
  const minCard = options.minCard ?? 2;
  const maxCard = options.maxCard ?? 3;
  const pEdge = options.edgeProbability ?? 0.4;
  const maxParents = options.maxParents ?? 3;
  const conc = options.concentration ?? 1;
  const cards = Array.from({ length: nNodes }, () => minCard + rng.int(maxCard - minCard + 1));
  const nodes: BnNode[] = [];
  for (let i = 0; i < nNodes; i++) {
    const parents: number[] = [];
    for (let j = 0; j < i; j++) if (parents.length < maxParents && rng.uniform() < pEdge) parents.push(j);
    const k = cards[i] as number;
    const configs = parents.reduce((s, p) => s * (cards[p] as number), 1);
    const cpt: number[] = [];
    for (let c = 0; c < configs; c++) {
      const g = Array.from({ length: k }, () => gammaDraw(rng, conc) + 1e-6);
      const t = g.reduce((a, b) => a + b, 0);
      cpt.push(...g.map((x) => x / t));
    }
    nodes.push({ name: `X${i}`, states: Array.from({ length: k }, (_, s) => `s${s}`), parents: parents.map((p) => `X${p}`), cpt });
  }
  return { name: `random-${seed}`, nodes };
}

/**
 * The factor graph of a network, written independently of the model's
 * `bnFactorGraph`: variables in node order, one factor per node over
 * [...parents, node] (the CPT layout), families = factor scopes.
 * @category Testing
 */
export function bnAsFactorGraph(net: BayesNet): FactorGraph {
  const index = new Map(net.nodes.map((n, i) => [n.name, i]));
  const scopes = net.nodes.map((n, i) => [...n.parents.map((p) => index.get(p) as number), i]);
  const spec: FactorGraphSpec = {
    variables: net.nodes.map((n) => ({ name: n.name, cardinality: n.states.length, states: n.states })),
    factorScopes: scopes,
    families: scopes,
  };
  return { spec, factorTables: net.nodes.map((n) => Float64Array.from(n.cpt)) };
}

/** Brute-force answer for one evidence row. @category Testing */
export interface BruteForce {
  /** log p(evidence). */
  readonly logEvidence: number;
  /** Posterior of every family of the spec (row-major over the family). */
  readonly families: Float64Array[];
  /** Posterior marginal of every variable. */
  readonly marginals: Float64Array[];
  /** Entropy of the posterior over all variables (nats). */
  readonly entropy: number;
}

/**
 * Enumerates the joint of a factor graph (float64) to get log p(e) and the
 * posterior of every family and variable given one evidence row (state or −1).
 * Only for small graphs (Π cardinalities ≤ ~10⁵).
 * @category Testing
 */
export function bruteForceFactorGraph(graph: FactorGraph, evidence: ArrayLike<number>): BruteForce {
  const { spec } = graph;
  const cards = spec.variables.map((v) => v.cardinality);
  const n = cards.length;
  const total = cards.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(n).fill(0);
  const families = spec.families.map((f) => new Float64Array(f.reduce((s, v) => s * (cards[v] as number), 1)));
  const marginals = cards.map((k) => new Float64Array(k));
  const offset = (scope: readonly number[]): number => scope.reduce((o, v) => o * (cards[v] as number) + (idx[v] as number), 0);
  let z = 0;
  let plogp = 0;
  for (let i = 0; i < total; i++) {
    let ok = true;
    for (let v = 0; v < n && ok; v++) {
      const e = evidence[v] as number;
      if (e >= 0 && e !== idx[v]) ok = false;
    }
    if (ok) {
      let p = Math.exp(graph.logConstant ?? 0);
      spec.factorScopes.forEach((scope, f) => (p *= (graph.factorTables[f] as Float64Array)[offset(scope)] as number));
      if (p > 0) {
        z += p;
        plogp += p * Math.log(p);
        spec.families.forEach((f, j) => {
          const t = families[j] as Float64Array;
          const o = offset(f);
          t[o] = (t[o] as number) + p;
        });
        for (let v = 0; v < n; v++) {
          const m = marginals[v] as Float64Array;
          m[idx[v] as number] = (m[idx[v] as number] as number) + p;
        }
      }
    }
    for (let a = n - 1; a >= 0; a--) {
      idx[a] = (idx[a] as number) + 1;
      if ((idx[a] as number) < (cards[a] as number)) break;
      idx[a] = 0;
    }
  }
  for (const t of [...families, ...marginals]) for (let i = 0; i < t.length; i++) t[i] = (t[i] as number) / z;
  // H = −Σ (p/z) log(p/z) = log z − Σ p log p / z.
  return { logEvidence: Math.log(z), families, marginals, entropy: Math.log(z) - plogp / z };
}

/** Statistics of {@link testFactorGraphStructure}: the family counts themselves. @category Testing */
export type FamilyCounts = readonly Float64Array[];

/** Elementwise algebra on family counts. @category Testing */
export const familyCountsAlgebra: StatsAlgebra<FamilyCounts> = {
  zero: (like) => like.map((t) => new Float64Array(t.length)),
  add: (a, b) => a.map((t, i) => t.map((x, j) => x + ((b[i] as Float64Array)[j] as number))),
  scale: (a, c) => a.map((t) => t.map((x) => x * c)),
};

/**
 * A `factor-graph` structure over a factor graph and evidence rows (`[nRows, nVariables]`, −1 =
 * missing), with the family counts as statistics. Call `dispose()` (it frees the evidence tensors).
 * @category Testing
 */
export function testFactorGraphStructure(graph: FactorGraph, values: Int32Array, nRows: number, batchSize?: number, precision: 'float32' | 'float64' = 'float32'): FactorGraphStructure<FamilyCounts> & { dispose(): void } {
  const cards = graph.spec.variables.map((v) => v.cardinality);
  const evidence = evidencePatterns(values, nRows, cards, { ...(batchSize === undefined ? {} : { batchSize }), upload: precision === 'float32' });
  return {
    ...graph,
    kind: 'factor-graph',
    precision,
    evidence,
    algebra: familyCountsAlgebra,
    stats: (counts) => counts.map((c) => Float64Array.from(c)),
    dispose: () => evidence.dispose(),
  };
}


/**
 * KL divergence between two networks with the same structure, averaged over
 * CPT columns weighted by the TRUE network's parent-configuration probabilities:
 * Σ_node Σ_config P_truth(config) KL(P_truth(· | config) ‖ P_est(· | config)).
 * This equals KL(P_truth ‖ P_est) of the joints (the chain rule of KL).
 *
 * @param familyJoint - the truth's joint of every family (node order, layout [...parents, node]);
 *   default: by brute-force enumeration (small networks only; pass exact marginals for large ones).
 * @category Testing
 */
export function bnKlDivergence(truth: BayesNet, est: BayesNet, familyJoint?: readonly ArrayLike<number>[]): number {
  const fams = familyJoint ?? bruteForceFactorGraph(bnAsFactorGraph(truth), new Int32Array(truth.nodes.length).fill(-1)).families;
  let kl = 0;
  truth.nodes.forEach((node, i) => {
    const k = node.states.length;
    const fam = fams[i] as ArrayLike<number>;
    const e = est.nodes.find((x) => x.name === node.name) as BnNode;
    for (let c = 0; c < fam.length / k; c++) {
      for (let s = 0; s < k; s++) {
        const pj = fam[c * k + s] as number;
        const p = node.cpt[c * k + s] as number;
        const q = e.cpt[c * k + s] as number;
        if (pj > 0 && p > 0) kl += pj * Math.log(p / q);
      }
    }
  });
  return kl;
}
