/**
 * The θ-free plan of the Gibbs sampler on a factor graph: per variable the
 * factors that contain it and its stride in each, per factor and family the
 * strides of their scopes (tables are row-major, last variable fastest).
 * Cached per spec.
 * @module
 */
import type { EvidencePatterns, FactorGraphSpec } from '@emlab/core';

/** One factor's view of a variable. @internal */
export interface FactorSlot {
  readonly factor: number;
  /** The variable's stride in the factor's table. */
  readonly stride: number;
}

/** The plan. @internal */
export interface GibbsPlan {
  readonly nVariables: number;
  readonly cards: Int32Array;
  /** Per variable: the factors containing it. */
  readonly slots: readonly (readonly FactorSlot[])[];
  /** Per factor: its scope and strides. */
  readonly factorScopes: readonly Int32Array[];
  readonly factorStrides: readonly Int32Array[];
  /** Per family: its scope, strides and table size. */
  readonly familyScopes: readonly Int32Array[];
  readonly familyStrides: readonly Int32Array[];
  readonly familySizes: Int32Array;
  /** Offsets of each variable's states in a `[Σ cards]` vector. */
  readonly stateOffset: Int32Array;
  readonly totalStates: number;
}

const cache = new WeakMap<FactorGraphSpec, GibbsPlan>();

function strides(scope: readonly number[], cards: Int32Array): Int32Array {
  const s = new Int32Array(scope.length);
  let acc = 1;
  for (let i = scope.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= cards[scope[i]!]!;
  }
  return s;
}

/** The plan of a spec (cached on the spec object). @internal */
export function gibbsPlan(spec: FactorGraphSpec): GibbsPlan {
  const hit = cache.get(spec);
  if (hit !== undefined) return hit;
  const nv = spec.variables.length;
  const cards = Int32Array.from(spec.variables, (v) => v.cardinality);
  const slots: FactorSlot[][] = Array.from({ length: nv }, () => []);
  const factorScopes = spec.factorScopes.map((s) => Int32Array.from(s));
  const factorStrides = spec.factorScopes.map((s) => strides(s, cards));
  spec.factorScopes.forEach((scope, f) => scope.forEach((v, i) => slots[v]!.push({ factor: f, stride: factorStrides[f]![i]! })));
  const familyScopes = spec.families.map((s) => Int32Array.from(s));
  const familyStrides = spec.families.map((s) => strides(s, cards));
  const familySizes = Int32Array.from(spec.families, (s) => s.reduce((n, v) => n * cards[v]!, 1));
  const stateOffset = new Int32Array(nv + 1);
  for (let v = 0; v < nv; v++) stateOffset[v + 1] = stateOffset[v]! + cards[v]!;
  const plan: GibbsPlan = { nVariables: nv, cards, slots, factorScopes, factorStrides, familyScopes, familyStrides, familySizes, stateOffset, totalStates: stateOffset[nv]! };
  cache.set(spec, plan);
  return plan;
}

/** Index of an assignment `x` (offset `o` in a flat array) in a table over `scope` with `strides`. @internal */
export function tableIndex(scope: Int32Array, str: Int32Array, x: Int32Array, o: number): number {
  let idx = 0;
  for (let i = 0; i < scope.length; i++) idx += x[o + scope[i]!]! * str[i]!;
  return idx;
}

/** log Π_f φ_f(x) (+ the log constant): −∞ when some factor is 0. @internal */
export function logFactorProduct(plan: GibbsPlan, tables: readonly Float64Array[], x: Int32Array, o: number, logConstant: number): number {
  let s = logConstant;
  for (let f = 0; f < tables.length; f++) s += Math.log(tables[f]![tableIndex(plan.factorScopes[f]!, plan.factorStrides[f]!, x, o)]!);
  return s;
}

/**
 * Fills `out[0..K)` with the unnormalized conditional of variable v, Π_{f ∋ v} φ_f(x with x_v = k),
 * and returns its sum.
 * @internal
 */
export function conditional(plan: GibbsPlan, tables: readonly Float64Array[], v: number, x: Int32Array, o: number, out: Float64Array): number {
  const K = plan.cards[v]!;
  out.fill(1, 0, K);
  for (const { factor, stride } of plan.slots[v]!) {
    const t = tables[factor]!;
    const base = tableIndex(plan.factorScopes[factor]!, plan.factorStrides[factor]!, x, o) - x[o + v]! * stride;
    for (let k = 0; k < K; k++) out[k] = out[k]! * t[base + k * stride]!;
  }
  let s = 0;
  for (let k = 0; k < K; k++) s += out[k]!;
  return s;
}

const freeCache = new WeakMap<EvidencePatterns, Int32Array[]>();

/** Per pattern, the variables its evidence leaves unobserved (cached per evidence object). @internal */
export function conditionalFreeVariables(ev: EvidencePatterns): Int32Array[] {
  const hit = freeCache.get(ev);
  if (hit !== undefined) return hit;
  const nv = ev.nVariables;
  const out: Int32Array[] = [];
  for (let p = 0; p < ev.nPatterns; p++) {
    const f: number[] = [];
    for (let v = 0; v < nv; v++) if (ev.values[p * nv + v]! < 0) f.push(v);
    out.push(Int32Array.from(f));
  }
  freeCache.set(ev, out);
  return out;
}

