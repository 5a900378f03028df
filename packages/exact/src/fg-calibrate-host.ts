/**
 * float64 calibration of the exact factor-graph E-step on the host: the same
 * junction tree and Hugin collect/distribute as the tensor path, one distinct
 * evidence pattern at a time in JavaScript doubles, with per-pattern message
 * normalization (log normalizers summed) so log p(e) never underflows.
 * Marginals and log-likelihoods agree with full enumeration to roundoff
 * (1e-12 relative and better).
 * @module
 */
import { subTableOffsets, yielder, type EvidencePatterns, type FactorGraph } from '@emlab/core';
import type { Calibration } from './fg-calibrate-tensor.js';
import { cliqueTables, type CliquePlan, type Plan } from './fg-plan.js';

/** Host index maps of one clique (θ-free, cached per plan). */
interface HostClique {
  readonly size: number;
  /** Separator with the parent, in this clique's axis order; 1 entry for a root. */
  readonly sepSize: number;
  /** Clique entry → separator index. */
  readonly toSep: Int32Array;
  /** Parent entry → separator index (the same separator order). */
  readonly parentToSep: Int32Array;
  /** Per variable whose evidence this clique receives: its index and entry → state of it. */
  readonly evidence: readonly { readonly v: number; readonly stateOf: Int32Array }[];
}

const hostCache = new WeakMap<Plan, HostClique[]>();

function hostCliques(plan: Plan, cards: readonly number[]): HostClique[] {
  let h = hostCache.get(plan);
  if (h !== undefined) return h;
  h = plan.cliques.map((c: CliquePlan, ci) => {
    const parent = c.parent >= 0 ? (plan.cliques[c.parent] as CliquePlan) : undefined;
    const sepSet = new Set(plan.tree.cliques[ci]?.separator ?? []);
    const sep = parent === undefined ? [] : c.axes.filter((v) => sepSet.has(v));
    const sepSize = sep.reduce((n, v) => n * (cards[v] as number), 1);
    return {
      size: c.size,
      sepSize,
      toSep: subTableOffsets(c.axes, sep, cards),
      parentToSep: parent === undefined ? new Int32Array(0) : subTableOffsets(parent.axes, sep, cards),
      evidence: c.evidenceVars.map((v) => ({ v, stateOf: subTableOffsets(c.axes, [v], cards) })),
    };
  });
  hostCache.set(plan, h);
  return h;
}

/**
 * Calibration block by block (the E-step's block loop): `block(start, size, weight)` calibrates patterns
 * `[start, start + size)` from zero and returns their Σ_p m_p log p(e_p | θ) (+ the log constant times
 * `weight`, the block's Σ m_p) and clique counts, yielding to the event loop between patterns.
 */
export function hostCalibrator(graph: FactorGraph, evidence: EvidencePatterns, plan: Plan): { block(start: number, size: number, weight: number): Promise<Calibration> } {
  const run = hostCalibration(graph, evidence, plan);
  return {
    async block(start, size, weight) {
      const pause = yielder();
      for (let p = start; p < start + size; p++) {
        run.pattern(p);
        await pause();
      }
      return run.take(weight);
    },
  };
}

/**
 * Calibrates every distinct evidence pattern in float64 without yielding (one-instance queries):
 * Σ_p m_p log p(e_p | θ) (+ the log constant) and Σ_p m_p q_p(clique) per clique.
 */
export function calibrateHostSync(graph: FactorGraph, evidence: EvidencePatterns, plan: Plan): Calibration {
  const run = hostCalibration(graph, evidence, plan);
  for (let p = 0; p < evidence.nPatterns; p++) run.pattern(p);
  return run.finish();
}

function hostCalibration(graph: FactorGraph, evidence: EvidencePatterns, plan: Plan): { pattern(p: number): void; finish(): Calibration; take(weight: number): Calibration } {
  const cards = graph.spec.variables.map((v) => v.cardinality);
  const hc = hostCliques(plan, cards);
  const theta = cliqueTables(graph, plan);
  const nc = plan.cliques.length;
  const psi = hc.map((c) => new Float64Array(c.size));
  const beta = hc.map((c) => new Float64Array(c.size));
  const muRaw = hc.map((c) => new Float64Array(c.sepSize));
  const muNorm = hc.map((c) => new Float64Array(c.sepSize));
  const delta = hc.map((c) => new Float64Array(c.sepSize));
  let cliqueCounts = plan.cliques.map((c) => new Float64Array(c.size));
  const counted = plan.countedCliques;
  const rootSums = new Float64Array(nc);
  const nv = evidence.nVariables;
  const post = plan.tree.postOrder;
  let logLikelihood = 0;
  const pattern = (p: number): void => {
    const m = evidence.counts[p] as number;
    if (m === 0) return;
    let logZ = 0;
    // Collect: children before parents.
    for (const ci of post) {
      const c = hc[ci] as HostClique;
      const cp = plan.cliques[ci] as CliquePlan;
      const t = psi[ci] as Float64Array;
      t.set(theta[ci] as Float64Array);
      for (const { v, stateOf } of c.evidence) {
        const s = evidence.values[p * nv + v] as number;
        if (s < 0) continue;
        for (let i = 0; i < c.size; i++) if (stateOf[i] !== s) t[i] = 0;
      }
      for (const k of cp.children) {
        const msg = muNorm[k] as Float64Array;
        const map = (hc[k] as HostClique).parentToSep;
        for (let i = 0; i < c.size; i++) t[i] = (t[i] as number) * (msg[map[i] as number] as number);
      }
      if (cp.parent >= 0) {
        const raw = muRaw[ci] as Float64Array;
        raw.fill(0);
        const map = c.toSep;
        for (let i = 0; i < c.size; i++) raw[map[i] as number] = (raw[map[i] as number] as number) + (t[i] as number);
        let s = 0;
        for (let j = 0; j < c.sepSize; j++) s += raw[j] as number;
        const norm = muNorm[ci] as Float64Array;
        const inv = s > 0 ? 1 / s : 0;
        for (let j = 0; j < c.sepSize; j++) norm[j] = (raw[j] as number) * inv;
        logZ += Math.log(s);
      } else {
        let s = 0;
        for (let i = 0; i < c.size; i++) s += t[i] as number;
        rootSums[ci] = s;
        logZ += Math.log(s);
      }
    }
    // Distribute: parents before children; beta is each clique's posterior.
    for (let i = post.length - 1; i >= 0; i--) {
      const ci = post[i] as number;
      const c = hc[ci] as HostClique;
      const cp = plan.cliques[ci] as CliquePlan;
      const t = psi[ci] as Float64Array;
      const b = beta[ci] as Float64Array;
      if (cp.parent < 0) {
        const s = rootSums[ci] as number;
        const inv = s > 0 ? 1 / s : 0;
        for (let x = 0; x < c.size; x++) b[x] = (t[x] as number) * inv;
        continue;
      }
      const d = delta[ci] as Float64Array;
      d.fill(0);
      const bp = beta[cp.parent] as Float64Array;
      const pm = c.parentToSep;
      for (let x = 0; x < bp.length; x++) d[pm[x] as number] = (d[pm[x] as number] as number) + (bp[x] as number);
      const raw = muRaw[ci] as Float64Array;
      // 0/0 (impossible evidence, structural zeros) gives 0, never NaN.
      for (let j = 0; j < c.sepSize; j++) d[j] = (raw[j] as number) > 0 ? (d[j] as number) / (raw[j] as number) : 0;
      const map = c.toSep;
      for (let x = 0; x < c.size; x++) b[x] = (t[x] as number) * (d[map[x] as number] as number);
    }
    logLikelihood += m * logZ;
    for (const ci of counted) {
      const acc = cliqueCounts[ci] as Float64Array;
      const b = beta[ci] as Float64Array;
      for (let x = 0; x < acc.length; x++) acc[x] = (acc[x] as number) + m * (b[x] as number);
    }
  };
  return {
    pattern,
    finish: () => ({ logLikelihood: logLikelihood + (graph.logConstant ?? 0) * evidence.totalWeight, cliqueCounts }),
    // The patterns since the last take, and a fresh start (block by block).
    take: (weight) => {
      const out = { logLikelihood: logLikelihood + (graph.logConstant ?? 0) * weight, cliqueCounts };
      logLikelihood = 0;
      cliqueCounts = plan.cliques.map((c) => new Float64Array(c.size));
      return out;
    },
  };
}
