/**
 * Louis' identity for discrete Bayesian networks with hidden nodes and missing cells, by
 * enumerating the unobserved nodes of each distinct evidence pattern: the model's `louis` hook.
 *
 * Coordinates φ: per CPT column (node v, parent configuration c) of every non-frozen node, the
 * first K_v − 1 probabilities θ_{j|c} (the last is 1 − Σ). The complete-data log-likelihood of a
 * row is Σ_v log θ_{x_v | pa_v}, so for a complete assignment x with state s and parent
 * configuration c at node v:
 *
 *   ∂/∂θ_{j|c} = 1[s = j]/θ_j − 1[s = K]/θ_K,   ∂²/∂θ_{j|c} ∂θ_{j'|c} = −1[s = j = j']/θ_j² − 1[s = K]/θ_K²,
 *
 * and zero for every other column. With a Dirichlet(1 + a) prior (`pseudoCount` a > 0) the
 * log prior Σ a log θ is added as a fixed term (Hessian and score, no variance). For each distinct evidence pattern (with its multiplicity) the
 * exact posterior over the joint states of its unobserved nodes is enumerated (at most
 * {@link BN_LOUIS_MAX_CONFIGURATIONS} per pattern), and the per-assignment derivatives go into core's
 * `LouisAccumulator`.
 *
 * @see Louis, T. A. (1982). Finding the observed information matrix when using the EM algorithm.
 * @module
 */
import { emError, LouisAccumulator, type EvidencePatterns, type LouisTerms, type Parametrization } from '@emlab/core';
import type { BayesNet } from './bn-types.js';

/** Most joint configurations of the unobserved nodes of one evidence pattern that `bnLouisTerms` enumerates. @category Bayesian networks */
export const BN_LOUIS_MAX_CONFIGURATIONS = 1 << 16;

/** The CPT entries a Bayesian network's parameters hold, by node name. */
interface BnParamsLike {
  readonly cpts: Readonly<Record<string, readonly number[]>>;
}

/**
 * The natural coordinates of a network's CPTs: per column of each non-frozen node, its first K − 1
 * probabilities (frozen nodes keep the network's CPTs in `fromVector`).
 * @category Bayesian networks
 */
export function bnNaturalCoordinates(net: BayesNet, frozen: readonly boolean[]): Parametrization<BnParamsLike> {
  const free = net.nodes.filter((_, i) => !frozen[i]);
  const dim = free.reduce((n, node) => n + (node.cpt.length / node.states.length) * (node.states.length - 1), 0);
  return {
    description: 'bn natural: per CPT column of each non-frozen node, the first K−1 probabilities (last = 1 − Σ)',
    dim,
    toVector(params) {
      const v = new Float64Array(dim);
      let at = 0;
      for (const node of free) {
        const k = node.states.length;
        const cpt = params.cpts[node.name] as readonly number[];
        for (let c = 0; c < cpt.length / k; c++) for (let j = 0; j < k - 1; j++) v[at++] = cpt[c * k + j] as number;
      }
      return v;
    },
    fromVector(v) {
      if (v.length !== dim) throw emError('INVALID_ARGUMENT', ['phi'], v, `must have length ${dim}`, 'pass a vector from toVector');
      const cpts: Record<string, number[]> = {};
      let at = 0;
      net.nodes.forEach((node, i) => {
        if (frozen[i]) {
          cpts[node.name] = node.cpt.slice();
          return;
        }
        const k = node.states.length;
        const cpt: number[] = [];
        for (let c = 0; c < node.cpt.length / k; c++) {
          let last = 1;
          for (let j = 0; j < k - 1; j++) {
            cpt.push(v[at] as number);
            last -= v[at++] as number;
          }
          cpt.push(last);
        }
        cpts[node.name] = cpt;
      });
      return { cpts };
    },
  };
}

/**
 * Louis' identity terms of a Bayesian network at `params` over its distinct evidence patterns
 * (see the module documentation).
 * @throws EmError `INVALID_ARGUMENT` when a pattern has more than {@link BN_LOUIS_MAX_CONFIGURATIONS}
 *   joint configurations of its unobserved nodes (use the numerical Hessian then).
 * @category Bayesian networks
 */
export function bnLouisTerms<P extends BnParamsLike>(net: BayesNet, frozen: readonly boolean[], evidence: EvidencePatterns, params: P, pseudoCount = 0): LouisTerms<P> {
  const coordinates = bnNaturalCoordinates(net, frozen) as unknown as Parametrization<P>;
  const n = net.nodes.length;
  const index = new Map(net.nodes.map((node, i) => [node.name, i]));
  const cards = net.nodes.map((node) => node.states.length);
  const parents = net.nodes.map((node) => node.parents.map((p) => index.get(p) as number));
  const cpts = net.nodes.map((node) => params.cpts[node.name] as readonly number[]);
  // First coordinate of each node's columns (−1 for frozen nodes).
  const base: number[] = [];
  let at = 0;
  net.nodes.forEach((node, i) => {
    base.push(frozen[i] ? -1 : at);
    if (!frozen[i]) at += (node.cpt.length / node.states.length) * (node.states.length - 1);
  });
  const acc = new LouisAccumulator(coordinates.dim);
  const x = new Int32Array(n);
  for (let p = 0; p < evidence.nPatterns; p++) {
    const m = evidence.counts[p] as number;
    if (!(m > 0)) continue;
    const unobserved: number[] = [];
    let configs = 1;
    for (let v = 0; v < n; v++) {
      const s = evidence.values[p * evidence.nVariables + v] as number;
      x[v] = s;
      if (s < 0) {
        unobserved.push(v);
        configs *= cards[v] as number;
      }
    }
    if (configs > BN_LOUIS_MAX_CONFIGURATIONS) {
      throw emError('INVALID_ARGUMENT', ['options', 'method'], 'louis', `enumerates the unobserved nodes of each evidence pattern, and pattern ${p} has ${configs} joint configurations (more than ${BN_LOUIS_MAX_CONFIGURATIONS})`, "use method: 'hessian' (needs only the log-likelihood)");
    }
    // Enumerate the joint states of the unobserved nodes (odometer order) with their log-probabilities.
    const assignments: Int32Array[] = [];
    const logp = new Float64Array(configs);
    for (let cfg = 0; cfg < configs; cfg++) {
      let rest = cfg;
      for (const v of unobserved) {
        x[v] = rest % (cards[v] as number);
        rest = Math.floor(rest / (cards[v] as number));
      }
      let lp = 0;
      for (let v = 0; v < n && lp > Number.NEGATIVE_INFINITY; v++) lp += Math.log((cpts[v] as readonly number[])[configOf(x, parents[v] as number[], cards) * (cards[v] as number) + (x[v] as number)] as number);
      logp[cfg] = lp;
      assignments.push(x.slice());
    }
    let top = Number.NEGATIVE_INFINITY;
    for (const lp of logp) if (lp > top) top = lp;
    if (top === Number.NEGATIVE_INFINITY) {
      throw emError('INVALID_PARAMS', ['params'], p, `evidence pattern ${p} has probability 0 under the parameters`, 'evaluate at parameters fitted to these data');
    }
    const q = new Float64Array(configs);
    let z = 0;
    for (let cfg = 0; cfg < configs; cfg++) z += (q[cfg] = Math.exp((logp[cfg] as number) - top));
    for (let cfg = 0; cfg < configs; cfg++) q[cfg] = (q[cfg] as number) / z;
    acc.addRow(m, q, (cfg) => {
      const a = assignments[cfg] as Int32Array;
      const idx: number[] = [];
      const score: number[] = [];
      const blocks: { from: number; size: number; s: number; theta: readonly number[]; col: number; k: number }[] = [];
      for (let v = 0; v < n; v++) {
        if ((base[v] as number) < 0) continue;
        const k = cards[v] as number;
        const c = configOf(a, parents[v] as number[], cards);
        const from = idx.length;
        const s = a[v] as number;
        const theta = cpts[v] as readonly number[];
        for (let j = 0; j < k - 1; j++) {
          idx.push((base[v] as number) + c * (k - 1) + j);
          score.push((s === j ? 1 / (theta[c * k + j] as number) : 0) - (s === k - 1 ? 1 / (theta[c * k + k - 1] as number) : 0));
        }
        blocks.push({ from, size: k - 1, s, theta, col: c, k });
      }
      const mm = idx.length;
      const hessian = new Float64Array(mm * mm);
      for (const b of blocks) {
        for (let j = 0; j < b.size; j++) {
          for (let jj = 0; jj < b.size; jj++) {
            const diag = b.s === j && j === jj ? -1 / (b.theta[b.col * b.k + j] as number) ** 2 : 0;
            const last = b.s === b.k - 1 ? -1 / (b.theta[b.col * b.k + b.k - 1] as number) ** 2 : 0;
            hessian[(b.from + j) * mm + b.from + jj] = diag + last;
          }
        }
      }
      return { index: idx, score, hessian };
    });
  }
  if (pseudoCount > 0) {
    // The Dirichlet(1 + a) log prior Σ a log θ: a fixed (non-random) term of the complete-data log-likelihood.
    const idx: number[] = [];
    const score: number[] = [];
    const entries: [number, number, number][] = [];
    net.nodes.forEach((node, v) => {
      if ((base[v] as number) < 0) return;
      const k = cards[v] as number;
      const theta = cpts[v] as readonly number[];
      for (let c = 0; c < theta.length / k; c++) {
        const from = idx.length;
        const last = theta[c * k + k - 1] as number;
        for (let j = 0; j < k - 1; j++) {
          idx.push((base[v] as number) + c * (k - 1) + j);
          score.push(pseudoCount / (theta[c * k + j] as number) - pseudoCount / last);
          for (let jj = 0; jj < k - 1; jj++) entries.push([from + j, from + jj, (j === jj ? -pseudoCount / (theta[c * k + j] as number) ** 2 : 0) - pseudoCount / last ** 2]);
        }
      }
    });
    const mm = idx.length;
    const hessian = new Float64Array(mm * mm);
    for (const [a, b, h] of entries) hessian[a * mm + b] = h;
    if (mm > 0) acc.addRow(1, [1], () => ({ index: idx, score, hessian }));
  }
  return { coordinates, ...acc.result() };
}

function configOf(x: Int32Array, ps: readonly number[], cards: readonly number[]): number {
  let c = 0;
  for (const p of ps) c = c * (cards[p] as number) + (x[p] as number);
  return c;
}
