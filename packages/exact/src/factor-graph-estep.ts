/**
 * The exact E-step on the `factor-graph` structure: junction-tree
 * (Hugin) calibration batched over distinct evidence patterns.
 *
 * Every clique table carries a batch axis, `[patterns, ...clique]`; evidence
 * enters as one multiplication by the outer product of the indicator vectors
 * assigned to the clique; messages are normalized per pattern and their log
 * normalizers summed, so log p(e | θ) never underflows however many nodes the
 * network has. One collect and one distribute pass give the posterior of every
 * clique, hence of every family, for all patterns of a batch at once; the
 * expected counts Σ_p m_p q_p(clique) are one `[1, B] × [B, clique]` matmul per
 * clique, added over batches in float64.
 *
 * @see Lauritzen, S. L. & Spiegelhalter, D. J. (1988). Local computations with probabilities on graphical structures.
 * @see Jensen, F. V., Lauritzen, S. L. & Olesen, K. G. (1990). Bayesian updating in causal probabilistic networks by local computations (Hugin).
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  emError,
  evidencePatterns,
  expectedLogFactors,
  integerOption,
  marginalizeTable,
  subTableOffsets,
  registerEStep,
  rejectUnknownOptions,
  validateFactorGraphSpec,
  type EStep,
  type EvidenceBatch,
  type EvidencePatterns,
  type FactorGraph,
  type FactorGraphSpec,
  type FactorGraphStructure,
} from '@emlab/core';
import { buildJunctionTree, mergeRuns, type JunctionTree } from './junction-tree.js';

/** How one clique is laid out and wired for the batched calibration. */
interface CliquePlan {
  /** Variables in table axis order: those without evidence (ascending), then those whose evidence this clique receives (ascending). */
  readonly axes: readonly number[];
  readonly size: number;
  /** Variables whose evidence indicators this clique multiplies in (the trailing axes). */
  readonly evidenceVars: readonly number[];
  /** Factors multiplied into this clique's θ table. */
  readonly factors: readonly number[];
  /** Per assigned factor, the offset in the factor's table of each entry of this clique's table (θ-free, so the per-iteration product is a gather). */
  readonly factorOffsets: readonly Int32Array[];
  readonly parent: number;
  readonly children: readonly number[];
  /** Separator with the parent in this clique's axis order, and the runs to sum it out. */
  readonly sepShape: readonly number[];
  readonly sumRuns: { shape: number[]; keepShape: number[]; otherAxes: number[] };
  /** Separator with the parent in the parent's axis order, the permutation from ours to it, and the parent's runs. */
  readonly sepPerm: readonly number[] | null;
  readonly sepShapeInParent: readonly number[];
  readonly parentRuns: { shape: number[]; keepShape: number[]; otherAxes: number[] };
  /** The inverse permutation (parent's separator order back to ours). */
  readonly sepPermBack: readonly number[] | null;
  /**
   * 0/1 matrices used instead of reshapes when a reshape would need more than {@link MAX_RANK} axes
   * (tfjs-backend-wasm's broadcasting kernels (XNNPACK) fail silently beyond 6): `sumProj`
   * `[size, sep]` maps this clique's entries to its separator configurations (our order),
   * `parentProj` `[parent size, sep]` the parent's entries to them (parent's order), `permProj`
   * `[sep, sep]` our separator order to the parent's. `null` when reshapes suffice.
   */
  readonly sumProj: Float32Array | null;
  readonly parentProj: Float32Array | null;
  readonly permProj: Float32Array | null;
}

/** Largest tensor rank used with broadcasting or transposes (batch axis included). */
const MAX_RANK = 6;

/**
 * The 0/1 matrix `[Π vars cards, Π sep cards]` whose row x has a 1 at the separator configuration of
 * entry x of a table over `vars` (row-major, last fastest); `sep` in the wanted order.
 */
function projection(vars: readonly number[], sep: readonly number[], cards: readonly number[]): Float32Array {
  const offsets = subTableOffsets(vars, sep, cards);
  const sepSize = sep.reduce((a, v) => a * (cards[v] as number), 1);
  const out = new Float32Array(offsets.length * sepSize);
  offsets.forEach((o, x) => (out[x * sepSize + o] = 1));
  return out;
}

/** The θ-free plan for one (spec, evidence) pair, cached. */
interface Plan {
  readonly tree: JunctionTree;
  readonly cliques: readonly CliquePlan[];
  /** Every scope whose counts are wanted: the families, then the factor scopes, with the clique that holds each. */
  readonly familyClique: readonly number[];
  readonly factorClique: readonly number[];
  /** Cliques holding a family or factor scope: only their expected counts are computed. */
  readonly countedCliques: readonly number[];
}

const planCache = new WeakMap<FactorGraphSpec, WeakMap<EvidencePatterns, Plan>>();

function planFor(spec: FactorGraphSpec, evidence: EvidencePatterns): Plan {
  let bySpec = planCache.get(spec);
  if (bySpec === undefined) {
    bySpec = new WeakMap();
    planCache.set(spec, bySpec);
  }
  let plan = bySpec.get(evidence);
  if (plan === undefined) {
    plan = buildPlan(spec, evidence);
    bySpec.set(evidence, plan);
  }
  return plan;
}

function buildPlan(spec: FactorGraphSpec, evidence: EvidencePatterns): Plan {
  validateFactorGraphSpec(spec);
  const cards = spec.variables.map((v) => v.cardinality);
  const nf = spec.factorScopes.length;
  const tree = buildJunctionTree(cards, [...spec.factorScopes, ...spec.families]);
  const factorClique = tree.scopeClique.slice(0, nf);
  const familyClique = tree.scopeClique.slice(nf);
  // A variable receives evidence when some pattern observes it.
  const observed = new Uint8Array(cards.length);
  const nv = evidence.nVariables;
  for (let i = 0; i < evidence.values.length; i++) if ((evidence.values[i] as number) >= 0) observed[i % nv] = 1;
  const axesOf = tree.cliques.map((c, ci) => {
    const ev = c.vars.filter((v) => observed[v] === 1 && tree.variableClique[v] === ci);
    return { axes: [...c.vars.filter((v) => !ev.includes(v)), ...ev], ev };
  });
  const cliques: CliquePlan[] = tree.cliques.map((c, ci) => {
    const { axes, ev } = axesOf[ci] as { axes: number[]; ev: number[] };
    const shape = axes.map((v) => cards[v] as number);
    const factors = factorClique.flatMap((cl, f) => (cl === ci ? [f] : []));
    const sepSet = new Set(c.separator);
    const sepOurs = axes.filter((v) => sepSet.has(v));
    const p = c.parent;
    const parentAxes = p >= 0 ? (axesOf[p] as { axes: number[] }).axes : [];
    const sepTheirs = parentAxes.filter((v) => sepSet.has(v));
    const identity = sepOurs.every((v, i) => sepTheirs[i] === v);
    const sumRuns = mergeRuns(shape, axes.map((v) => sepSet.has(v)));
    const parentShape = parentAxes.map((v) => cards[v] as number);
    const parentRuns = mergeRuns(parentShape, parentAxes.map((v) => sepSet.has(v)));
    const tooHigh = (runs: { shape: number[] }): boolean => p >= 0 && runs.shape.length + 1 > MAX_RANK;
    return {
      axes,
      size: c.size,
      evidenceVars: ev,
      factors,
      factorOffsets: factors.map((f) => subTableOffsets(axes, spec.factorScopes[f] as readonly number[], cards)),
      parent: p,
      children: c.children,
      sepShape: sepOurs.map((v) => cards[v] as number),
      sumRuns,
      sepPerm: identity ? null : sepTheirs.map((v) => sepOurs.indexOf(v)),
      sepPermBack: identity ? null : sepOurs.map((v) => sepTheirs.indexOf(v)),
      sepShapeInParent: sepTheirs.map((v) => cards[v] as number),
      parentRuns,
      sumProj: tooHigh(sumRuns) ? projection(axes, sepOurs, cards) : null,
      parentProj: tooHigh(parentRuns) ? projection(parentAxes, sepTheirs, cards) : null,
      permProj: !identity && sepOurs.length + 1 > MAX_RANK ? projection(sepOurs, sepTheirs, cards) : null,
    };
  });
  const held = new Set<number>([...familyClique, ...factorClique, ...tree.variableClique]);
  return { tree, cliques, familyClique, factorClique, countedCliques: cliques.map((_, ci) => ci).filter((ci) => held.has(ci)) };
}

/** The θ table of every clique: the product of its factors, in its axis order (float64). */
function cliqueTables(graph: FactorGraph, plan: Plan): Float64Array[] {
  return plan.cliques.map((c) => {
    const out = new Float64Array(c.size).fill(1);
    c.factors.forEach((f, k) => {
      const table = graph.factorTables[f] as Float64Array;
      const offsets = c.factorOffsets[k] as Int32Array;
      for (let i = 0; i < c.size; i++) out[i] = (out[i] as number) * (table[offsets[i] as number] as number);
    });
    return out;
  });
}

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
interface Calibration {
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

function calibrate(graph: FactorGraph, evidence: EvidencePatterns, plan: Plan, maxTableEntries = MAX_TABLE_ENTRIES): Calibration {
  const thetaHost = cliqueTables(graph, plan);
  const thetaTables = thetaHost.map((t, ci) => tf.tensor2d(Float32Array.from(t), [1, (plan.cliques[ci] as CliquePlan).size]));
  const ones = graph.spec.variables.map((v) => tf.ones([1, v.cardinality]) as tf.Tensor2D);
  const projections = uploadProjections(plan);
  const cliqueCounts = plan.cliques.map((c) => new Float64Array(c.size));
  // Patterns per calibration: the batch, or less when its clique tables would exceed the budget.
  const step = Math.max(1, Math.floor(maxTableEntries / plan.tree.totalSize));
  let logLikelihood = 0;
  try {
    for (const batch of evidence.batches) {
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
    }
  } finally {
    for (const t of thetaTables) t.dispose();
    for (const t of ones) t.dispose();
    disposeProjections(projections);
  }
  logLikelihood += (graph.logConstant ?? 0) * evidence.nRows;
  return { logLikelihood, cliqueCounts };
}

function scopeCounts(spec: FactorGraphSpec, plan: Plan, cal: Calibration, scopes: readonly (readonly number[])[], cliqueOf: readonly number[]): Float64Array[] {
  return scopes.map((scope, i) => {
    const ci = cliqueOf[i] as number;
    return marginalizeTable(spec, cal.cliqueCounts[ci] as Float64Array, (plan.cliques[ci] as CliquePlan).axes, scope);
  });
}

/** Options of {@link factorGraphExactEStep}. @category E-steps */
export interface FactorGraphExactOptions {
  /**
   * Memory budget: at most this many float32 entries per set of clique tables (patterns × Σ clique
   * sizes); evidence batches are split further to stay below it. Default {@link MAX_TABLE_ENTRIES}
   * (2²², 16 MB; peak memory is a few times that). ALARM (1020 entries per pattern) fits 4112 patterns.
   */
  readonly maxTableEntries?: number;
}

/**
 * The exact E-step for `factor-graph` structures (junction tree, batched over
 * distinct evidence patterns). q_p = p(hidden | e_p, θ); the bound is the
 * observed-data log-likelihood Σ_p m_p log p(e_p | θ) (float64 sum of float32
 * per-pattern values); H(q) = log-likelihood − E_q[log p(x, z | θ)].
 *
 * Diagnostics: `nPatterns` (distinct evidence patterns), `nBatches`, `nCliques`,
 * `maxCliqueSize`, `totalCliqueSize`.
 *
 * @example
 * ```ts
 * import { fit } from '@emlab/core';
 * import { factorGraphExactEStep } from '@emlab/exact';
 * const r = await fit(bayesianNetwork(net, { hidden: ['Z'] }), data, { eStep: factorGraphExactEStep() });
 * ```
 * @throws EmError `INVALID_ARGUMENT` for an unknown option or a `maxTableEntries` that is not an integer >= 1.
 * @category E-steps
 */
export function factorGraphExactEStep(options: FactorGraphExactOptions = {}): EStep<FactorGraphStructure> {
  if (typeof options !== 'object' || options === null) {
    throw emError('INVALID_ARGUMENT', ['factorGraphExactEStep'], options, 'must be an options object', 'pass { maxTableEntries } or omit it');
  }
  rejectUnknownOptions(options as Readonly<Record<string, unknown>>, ['maxTableEntries'], 'factorGraphExactEStep');
  const maxTableEntries = integerOption(options.maxTableEntries ?? MAX_TABLE_ENTRIES, ['factorGraphExactEStep', 'maxTableEntries'], 1);
  return {
    name: 'exact',
    kind: 'factor-graph',
    family: 'exact',
    options: { maxTableEntries },
    run(structure) {
      const plan = planFor(structure.spec, structure.evidence);
      const cal = calibrate(structure, structure.evidence, plan, maxTableEntries);
      const spec = structure.spec;
      const familyCounts = scopeCounts(spec, plan, cal, spec.families, plan.familyClique);
      // A Bayesian network's factor scopes are its families (one array): marginalize once.
      const factorCounts = spec.factorScopes === spec.families ? familyCounts : scopeCounts(spec, plan, cal, spec.factorScopes, plan.factorClique);
      const expectedLogJoint = expectedLogFactors(structure, factorCounts) + (structure.logConstant ?? 0) * structure.evidence.nRows;
      const logLikelihood = cal.logLikelihood;
      return {
        stats: structure.stats(familyCounts),
        bound: logLikelihood,
        entropy: logLikelihood - expectedLogJoint,
        logLikelihood,
        diagnostics: {
          nPatterns: structure.evidence.nPatterns,
          nBatches: structure.evidence.batches.length,
          nCliques: plan.cliques.length,
          maxCliqueSize: plan.tree.maxCliqueSize,
          totalCliqueSize: plan.tree.totalSize,
        },
      };
    },
  };
}

registerEStep({
  kind: 'factor-graph',
  method: 'exact',
  family: 'exact',
  description: 'junction tree batched over distinct evidence patterns; the bound is the log-likelihood',
  create: factorGraphExactEStep,
});

/** Evidence for {@link posteriorMarginals}: variable name → state name or index. @category E-steps */
export type FactorGraphEvidence = Readonly<Record<string, string | number>>;

/** What {@link posteriorMarginals} returns. @category E-steps */
export interface PosteriorMarginals {
  /** log p(evidence | θ) (natural log; −∞ when the evidence is impossible). */
  readonly logEvidence: number;
  /** Posterior marginal of every variable, by name: P(variable = state | evidence), states in order. */
  readonly marginals: Readonly<Record<string, readonly number[]>>;
  /** Posterior of every family of the spec (row-major over the family, last variable fastest). */
  readonly families: readonly (readonly number[])[];
}

/**
 * Exact posterior marginals of every variable (and family) of a factor graph
 * given one instance's evidence: one junction-tree calibration.
 *
 * @param graph - a factor graph at fixed parameters (for a Bayesian network: `bnFactorGraph(net)` from `@emlab/models`).
 * @param evidence - observed variables by name, each a state name (needs `states` in the spec), an index, or an
 *   index as a string when no state has that name. Default none.
 * @example
 * ```ts
 * const q = posteriorMarginals(bnFactorGraph(asia), { smoke: 'yes', xray: 'yes' });
 * q.marginals.lung; // [P(lung=yes | ...), P(lung=no | ...)]
 * ```
 * @throws EmError `INVALID_ARGUMENT` for an unknown variable or state; `INVALID_PARAMS` for impossible evidence.
 * @category E-steps
 */
export function posteriorMarginals(graph: FactorGraph, evidence: FactorGraphEvidence = {}): PosteriorMarginals {
  const spec = graph.spec;
  validateFactorGraphSpec(spec);
  const nv = spec.variables.length;
  const row = new Int32Array(nv).fill(-1);
  for (const [name, value] of Object.entries(evidence)) {
    const v = spec.variables.findIndex((x) => x.name === name);
    if (v < 0) {
      throw emError('INVALID_ARGUMENT', ['evidence', name], value, `names no variable of the graph`, `use one of: ${spec.variables.map((x) => x.name).join(', ')}`);
    }
    const variable = spec.variables[v] as FactorGraph['spec']['variables'][number];
    let s = typeof value === 'number' ? value : (variable.states ?? []).indexOf(value);
    // A string that names no state may be a state index ("0", "1", ...).
    if (typeof value === 'string' && s < 0 && /^\d+$/.test(value)) s = Number(value);
    if (!Number.isInteger(s) || s < 0 || s >= variable.cardinality) {
      throw emError('INVALID_ARGUMENT', ['evidence', name], value, `is not a state of "${name}"`, variable.states ? `use one of: ${variable.states.join(', ')}` : `use an index in [0, ${variable.cardinality})`);
    }
    row[v] = s;
  }
  const patterns = evidencePatterns(row, 1, spec.variables.map((v) => v.cardinality));
  try {
    const plan = buildPlan(spec, patterns);
    const cal = calibrate(graph, patterns, plan);
    const marginals: Record<string, number[]> = {};
    spec.variables.forEach((variable, v) => {
      const ci = plan.tree.variableClique[v] as number;
      marginals[variable.name] = Array.from(marginalizeTable(spec, cal.cliqueCounts[ci] as Float64Array, (plan.cliques[ci] as CliquePlan).axes, [v]));
    });
    const families = scopeCounts(spec, plan, cal, spec.families, plan.familyClique).map((f) => Array.from(f));
    if (!Number.isFinite(cal.logLikelihood)) {
      throw emError('INVALID_PARAMS', ['evidence'], evidence, 'has probability 0 under the parameters', 'check the evidence against the structural zeros of the tables');
    }
    return { logEvidence: cal.logLikelihood, marginals, families };
  } finally {
    patterns.dispose();
  }
}
