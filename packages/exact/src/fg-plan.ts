/**
 * The θ-free plan of the exact factor-graph E-step: a junction tree, each
 * clique's axis order (evidence variables last), factor offsets, separator
 * layouts, cached per (spec, evidence). Shared by the float32 tensor
 * calibration and the float64 host calibration.
 * @module
 */
import { subTableOffsets, validateFactorGraphSpec, type EvidencePatterns, type FactorGraph, type FactorGraphSpec } from '@emlab/core';
import { buildJunctionTree, mergeRuns, type JunctionTree } from './junction-tree.js';

/** How one clique is laid out and wired for the batched calibration. */
export interface CliquePlan {
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
export interface Plan {
  readonly tree: JunctionTree;
  readonly cliques: readonly CliquePlan[];
  /** Every scope whose counts are wanted: the families, then the factor scopes, with the clique that holds each. */
  readonly familyClique: readonly number[];
  readonly factorClique: readonly number[];
  /** Cliques holding a family or factor scope: only their expected counts are computed. */
  readonly countedCliques: readonly number[];
}

const planCache = new WeakMap<FactorGraphSpec, WeakMap<EvidencePatterns, Plan>>();

export function planFor(spec: FactorGraphSpec, evidence: EvidencePatterns): Plan {
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

export function buildPlan(spec: FactorGraphSpec, evidence: EvidencePatterns): Plan {
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
export function cliqueTables(graph: FactorGraph, plan: Plan): Float64Array[] {
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

