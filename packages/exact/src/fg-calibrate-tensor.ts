/**
 * float32 calibration of the exact factor-graph E-step: Hugin collect and
 * distribute on `[patterns, ...clique]` tables, batched over distinct
 * evidence patterns, messages normalized per pattern.
 *
 * @see Lauritzen, S. L. & Spiegelhalter, D. J. (1988). Local computations with probabilities on graphical structures.
 * @see Jensen, F. V., Lauritzen, S. L. & Olesen, K. G. (1990). Bayesian updating in causal probabilistic networks by local computations (Hugin).
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EvidenceBatch, EvidencePatterns, FactorGraph } from '@emlab/core';
import { cliqueTables, type CliquePlan, type Plan } from './fg-plan.js';

const runsShape = (b: number, runs: readonly number[]): number[] => (runs.length === 0 ? [b, 1] : [b, ...runs]);

/** The plan's 0/1 matrices as tensors, in both orientations; uploaded once per calibration. */
interface Projections {
  readonly sum: (tf.Tensor2D | null)[];
  readonly sumT: (tf.Tensor2D | null)[];
  readonly parent: (tf.Tensor2D | null)[];
  readonly parentT: (tf.Tensor2D | null)[];
  readonly perm: (tf.Tensor2D | null)[];
  readonly permT: (tf.Tensor2D | null)[];
}

function transposeHost(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c] as number;
  return out;
}

function uploadProjections(plan: Plan): Projections {
  const up = (m: Float32Array | null, rows: number, cols: number, transpose: boolean): tf.Tensor2D | null =>
    m === null ? null : transpose ? tf.tensor2d(transposeHost(m, rows, cols), [cols, rows]) : tf.tensor2d(m, [rows, cols]);
  const sepSize = (c: CliquePlan): number => c.sepShape.reduce((a, b) => a * b, 1);
  const parentSize = (c: CliquePlan): number => (c.parent >= 0 ? (plan.cliques[c.parent] as CliquePlan).size : 1);
  return {
    sum: plan.cliques.map((c) => up(c.sumProj, c.size, sepSize(c), false)),
    sumT: plan.cliques.map((c) => up(c.sumProj, c.size, sepSize(c), true)),
    parent: plan.cliques.map((c) => up(c.parentProj, parentSize(c), sepSize(c), false)),
    parentT: plan.cliques.map((c) => up(c.parentProj, parentSize(c), sepSize(c), true)),
    perm: plan.cliques.map((c) => up(c.permProj, sepSize(c), sepSize(c), false)),
    permT: plan.cliques.map((c) => up(c.permProj, sepSize(c), sepSize(c), true)),
  };
}

function disposeProjections(p: Projections): void {
  for (const list of [p.sum, p.sumT, p.parent, p.parentT, p.perm, p.permT]) for (const t of list) t?.dispose();
}

/** Sums a table `[tb, size]` down to a separator `[tb, sepSize]` (runs, or a 0/1 matrix `[size, sep]`). */
function sumToSeparator(table: tf.Tensor2D, runs: { shape: number[]; otherAxes: number[] }, proj: tf.Tensor2D | null, sepSize: number): tf.Tensor2D {
  if (proj !== null) return tf.matMul(table, proj);
  const tb = table.shape[0];
  const r = runs.otherAxes.length === 0 ? table : tf.sum(tf.reshape(table, runsShape(tb, runs.shape)), runs.otherAxes);
  return tf.reshape(r, [tb, sepSize]) as tf.Tensor2D;
}

/** Multiplies a table `[tb, size]` by a separator function `[mb, sep]` (runs, or a 0/1 matrix `[sep, size]`). */
function multiplyBySeparator(table: tf.Tensor2D, sep: tf.Tensor2D, runs: { shape: number[]; keepShape: number[] }, projT: tf.Tensor2D | null, size: number): tf.Tensor2D {
  if (projT !== null) return tf.mul(table, tf.matMul(sep, projT));
  const out = tf.mul(tf.reshape(table, runsShape(table.shape[0], runs.shape)), tf.reshape(sep, runsShape(sep.shape[0], runs.keepShape)));
  return tf.reshape(out, [out.shape[0] as number, size]) as tf.Tensor2D;
}

/** Reorders a separator function `[b, sep]` from one clique's axis order to another's. */
function reorderSeparator(x: tf.Tensor2D, perm: readonly number[] | null, fromShape: readonly number[], proj: tf.Tensor2D | null): tf.Tensor2D {
  if (perm === null) return x;
  if (proj !== null) return tf.matMul(x, proj);
  const b = x.shape[0];
  return tf.reshape(tf.transpose(tf.reshape(x, [b, ...fromShape]), [0, ...perm.map((a) => a + 1)]), [b, x.shape[1]]) as tf.Tensor2D;
}

/**
 * One batched Hugin calibration. Returns, as ONE tensor `[1, B + Σ clique sizes]`, the per-pattern
 * log p(e_p | θ) followed by Σ_p m_p q_p(clique) for the cliques in `order` (those holding a family,
 * factor or variable marginal), each flattened in its axis order.
 * Runs inside the caller's `tf.tidy`; large intermediates are disposed as soon as they are used.
 */
function calibrateBatch(plan: Plan, thetaTables: readonly tf.Tensor2D[], batch: EvidenceBatch, ones: readonly tf.Tensor2D[], pr: Projections): { packed: tf.Tensor2D; order: readonly number[] } {
  const B = batch.size;
  const nc = plan.cliques.length;
  const psi: (tf.Tensor | undefined)[] = new Array(nc);
  const muRaw: (tf.Tensor2D | undefined)[] = new Array(nc);
  const muNorm: (tf.Tensor2D | undefined)[] = new Array(nc);
  let logZ: tf.Tensor1D = tf.zeros([B]);
  const addLog = (s: tf.Tensor1D): void => {
    const next = tf.add(logZ, tf.log(s)) as tf.Tensor1D;
    logZ.dispose();
    logZ = next;
  };
  const rootSum: (tf.Tensor1D | undefined)[] = new Array(nc);

  // Collect: children before parents.
  for (const ci of plan.tree.postOrder) {
    const c = plan.cliques[ci] as CliquePlan;
    const t = tf.tidy(() => {
      // Evidence: outer product of the indicators this clique receives, times its θ table.
      const theta = thetaTables[ci] as tf.Tensor2D;
      let table: tf.Tensor = theta;
      if (c.evidenceVars.some((v) => batch.indicators[v] !== null)) {
        let ev: tf.Tensor2D | undefined;
        let evSize = 1;
        for (const v of c.evidenceVars) {
          const lam = batch.indicators[v] ?? (ones[v] as tf.Tensor2D);
          const card = lam.shape[1];
          ev = ev === undefined
            ? lam
            : (tf.reshape(tf.mul(tf.reshape(ev, [ev.shape[0], evSize, 1]), tf.reshape(lam, [lam.shape[0], 1, card])), [Math.max(ev.shape[0], lam.shape[0]), evSize * card]) as tf.Tensor2D);
          evSize *= card;
        }
        const e = ev as tf.Tensor2D;
        table = tf.reshape(tf.mul(tf.reshape(theta, [1, c.size / evSize, evSize]), tf.reshape(e, [e.shape[0], 1, evSize])), [e.shape[0], c.size]);
      }
      // Messages from the children.
      for (const k of c.children) {
        const kc = plan.cliques[k] as CliquePlan;
        const msg = reorderSeparator(muNorm[k] as tf.Tensor2D, kc.sepPerm, kc.sepShape, pr.perm[k] ?? null);
        table = multiplyBySeparator(table as tf.Tensor2D, msg, kc.parentRuns, pr.parentT[k] ?? null, c.size);
      }
      // A copy when nothing multiplied the θ table (it is freed with the clique, θ is reused).
      return (table === theta ? tf.clone(theta) : table) as tf.Tensor2D;
    });
    for (const k of c.children) {
      (muNorm[k] as tf.Tensor2D).dispose();
      muNorm[k] = undefined;
    }
    const tb = t.shape[0];
    if (c.parent >= 0) {
      const sepSize = c.sepShape.reduce((a, b) => a * b, 1);
      const raw = tf.tidy(() => sumToSeparator(t, c.sumRuns, pr.sum[ci] ?? null, sepSize));
      const s = tf.sum(raw, 1) as tf.Tensor1D;
      muRaw[ci] = raw;
      muNorm[ci] = tf.tidy(() => tf.div(raw, tf.reshape(safeDenominator(s), [tb, 1])) as tf.Tensor2D);
      addLog(s);
      s.dispose();
    } else {
      const s = tf.sum(t, 1) as tf.Tensor1D;
      addLog(s);
      rootSum[ci] = s;
    }
    psi[ci] = t;
  }

  // Distribute: parents before children. beta holds each clique's posterior table, normalized
  // per pattern (a root's table is divided by its total once).
  const beta: (tf.Tensor2D | undefined)[] = new Array(nc);
  for (let i = plan.tree.postOrder.length - 1; i >= 0; i--) {
    const ci = plan.tree.postOrder[i] as number;
    const c = plan.cliques[ci] as CliquePlan;
    let b: tf.Tensor2D;
    if (c.parent < 0) {
      const own = psi[ci] as tf.Tensor2D;
      const s = rootSum[ci] as tf.Tensor1D;
      b = tf.tidy(() => tf.div(own, tf.reshape(safeDenominator(s), [s.shape[0], 1])) as tf.Tensor2D);
      own.dispose();
    } else {
      b = tf.tidy(() => {
        const bp = beta[c.parent] as tf.Tensor2D;
        const sepSize = c.sepShape.reduce((x, y) => x * y, 1);
        // The parent's posterior summed to the separator, in the parent's order, brought to ours.
        const delta = reorderSeparator(sumToSeparator(bp, c.parentRuns, pr.parent[ci] ?? null, sepSize), c.sepPermBack, c.sepShapeInParent, pr.permT[ci] ?? null);
        const ratio = tf.div(delta, safeDenominator(muRaw[ci] as tf.Tensor2D)) as tf.Tensor2D;
        return multiplyBySeparator(psi[ci] as tf.Tensor2D, ratio, c.sumRuns, pr.sumT[ci] ?? null, c.size);
      });
      (psi[ci] as tf.Tensor2D).dispose();
      (muRaw[ci] as tf.Tensor2D).dispose();
    }
    psi[ci] = undefined;
    beta[ci] = b;
  }
  // Expected counts Σ_p m_p β_p(clique) of the cliques that hold a scope: a [1, B] × [B, clique]
  // matmul per clique with a batch axis, m · β for those without one (no evidence in their tree).
  const order = plan.countedCliques;
  const out = tf.tidy(() => {
    const total = tf.sum(batch.counts);
    const pieces: tf.Tensor2D[] = [tf.reshape(logZ, [1, B]) as tf.Tensor2D];
    for (const ci of order) {
      const b = beta[ci] as tf.Tensor2D;
      pieces.push(b.shape[0] === 1 ? (tf.mul(total, b) as tf.Tensor2D) : tf.matMul(batch.counts, b));
    }
    return tf.concat(pieces, 1) as tf.Tensor2D;
  });
  for (let ci = 0; ci < nc; ci++) {
    beta[ci]?.dispose();
    rootSum[ci]?.dispose();
  }
  logZ.dispose();
  return { packed: out, order };
}

/**
 * A denominator safe for per-pattern division: entries below 1e-35 (in practice exact zeros, where
 * the numerator is zero too: impossible evidence, structural zeros) become 1e-35, so 0/0 gives 0,
 * never NaN. Genuine values that small (far below any product of a clique's CPT entries and
 * normalized messages) would be scaled down, and they carry no mass anyway.
 */
function safeDenominator<T extends tf.Tensor>(x: T): T {
  return tf.clipByValue(x, 1e-35, 3e38) as T;
}

/** What one full calibration over all patterns returns (float64). */
export interface Calibration {
  /** Σ_p m_p log p(e_p | θ) (+ logConstant · N). */
  readonly logLikelihood: number;
  /** Σ_p m_p q_p(clique), per clique, in its axis order (zeros for cliques that hold no scope). */
  readonly cliqueCounts: readonly Float64Array[];
}

/** Default {@link FactorGraphExactOptions.maxTableEntries}: 2²² float32 entries (16 MB) per set of clique tables. */
export const MAX_TABLE_ENTRIES = 2 ** 22;

/** A batch's patterns [from, from + len) as a batch of its own (slices; call inside a `tf.tidy`). */
function sliceBatch(batch: EvidenceBatch, from: number, len: number): EvidenceBatch {
  if (from === 0 && len === batch.size) return batch;
  return {
    start: batch.start + from,
    size: len,
    indicators: batch.indicators.map((t) => (t === null ? null : tf.slice(t, [from, 0], [len, t.shape[1]]))),
    counts: tf.slice(batch.counts, [0, from], [1, len]),
  };
}

/**
 * The float32 calibration batch by batch (the E-step's block loop): θ tables, ones and projections are
 * uploaded on the first call and freed by `dispose`; `batch(b, weight)` calibrates one evidence batch
 * from zero (in slices that fit `maxTableEntries`) and returns its Σ_p m_p log p(e_p | θ) (+ the log
 * constant times `weight`, the batch's Σ m_p) and clique counts.
 */
export function tensorCalibrator(graph: FactorGraph, evidence: EvidencePatterns, plan: Plan, maxTableEntries = MAX_TABLE_ENTRIES): { batch(batch: EvidenceBatch, weight: number): Calibration; dispose(): void } {
  let up: { thetaTables: tf.Tensor2D[]; ones: tf.Tensor2D[]; projections: Projections } | undefined;
  // Patterns per calibration: the batch, or less when its clique tables would exceed the budget.
  const step = Math.max(1, Math.floor(maxTableEntries / plan.tree.totalSize));
  return {
    batch(batch, weight) {
      if (up === undefined) {
        const thetaHost = cliqueTables(graph, plan);
        const thetaTables = thetaHost.map((t, ci) => tf.tensor2d(Float32Array.from(t), [1, (plan.cliques[ci] as CliquePlan).size]));
        const ones = graph.spec.variables.map((v) => tf.ones([1, v.cardinality]) as tf.Tensor2D);
        up = { thetaTables, ones, projections: uploadProjections(plan) };
      }
      const { thetaTables, ones, projections } = up;
      const cliqueCounts = plan.cliques.map((c) => new Float64Array(c.size));
      let logLikelihood = 0;
      for (let from = 0; from < batch.size; from += step) {
        const len = Math.min(step, batch.size - from);
        let order: readonly number[] = [];
        const packed = tf.tidy(() => {
          const r = calibrateBatch(plan, thetaTables, sliceBatch(batch, from, len), ones, projections);
          order = r.order;
          return r.packed;
        });
        const v = packed.dataSync();
        packed.dispose();
        for (let i = 0; i < len; i++) logLikelihood += (evidence.counts[batch.start + from + i] as number) * (v[i] as number);
        let o = len;
        for (const ci of order) {
          const counts = cliqueCounts[ci] as Float64Array;
          for (let j = 0; j < counts.length; j++) counts[j] = (counts[j] as number) + (v[o + j] as number);
          o += counts.length;
        }
      }
      return { logLikelihood: logLikelihood + (graph.logConstant ?? 0) * weight, cliqueCounts };
    },
    dispose() {
      if (up === undefined) return;
      for (const t of up.thetaTables) t.dispose();
      for (const t of up.ones) t.dispose();
      disposeProjections(up.projections);
      up = undefined;
    },
  };
}

