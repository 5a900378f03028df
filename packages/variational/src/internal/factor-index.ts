/**
 * θ-free index maps of a factor graph for host mean field: per factor (and
 * per family) the state of every scope variable at every table entry, and
 * per variable the factors it occurs in. Cached per spec (one object per model).
 * @internal
 * @module
 */
import type { FactorGraphSpec } from '@emlab/core';

/** A table over a scope, with the state of each scope variable at each entry. */
export interface ScopeIndex {
  readonly scope: Int32Array;
  readonly size: number;
  /** `[size × |scope|]`: states[e · |scope| + j] = the state of scope[j] at entry e (last variable fastest). */
  readonly states: Int32Array;
}

/** The index of a spec. */
export interface FactorIndex {
  readonly nVariables: number;
  readonly cards: Int32Array;
  /** Offset of variable v's marginal in a q vector of length `qSize` (Σ cardinalities). */
  readonly offsets: Int32Array;
  readonly qSize: number;
  readonly factors: readonly ScopeIndex[];
  /** The families' indices (the same objects as `factors` when the spec's families are its factor scopes). */
  readonly families: readonly ScopeIndex[];
  /** Per variable: the (factor, position in its scope) pairs it occurs in. */
  readonly occurrences: readonly (readonly { readonly f: number; readonly j: number }[])[];
  /** Whether families and factor scopes are the same list (a Bayesian network). */
  readonly familiesAreFactors: boolean;
}

const cache = new WeakMap<FactorGraphSpec, FactorIndex>();

function scopeIndex(scope: readonly number[], cards: Int32Array): ScopeIndex {
  const ns = scope.length;
  const size = scope.reduce((n, v) => n * (cards[v] as number), 1);
  const states = new Int32Array(size * ns);
  const idx = new Int32Array(ns);
  for (let e = 0; e < size; e++) {
    states.set(idx, e * ns);
    for (let a = ns - 1; a >= 0; a--) {
      idx[a] = (idx[a] as number) + 1;
      if ((idx[a] as number) < (cards[scope[a] as number] as number)) break;
      idx[a] = 0;
    }
  }
  return { scope: Int32Array.from(scope), size, states };
}

/** The (cached) index of a spec. */
export function factorIndex(spec: FactorGraphSpec): FactorIndex {
  const hit = cache.get(spec);
  if (hit !== undefined) return hit;
  const nv = spec.variables.length;
  const cards = Int32Array.from(spec.variables, (v) => v.cardinality);
  const offsets = new Int32Array(nv);
  let qSize = 0;
  for (let v = 0; v < nv; v++) {
    offsets[v] = qSize;
    qSize += cards[v] as number;
  }
  const factors = spec.factorScopes.map((s) => scopeIndex(s, cards));
  const familiesAreFactors = spec.families === spec.factorScopes;
  const families = familiesAreFactors ? factors : spec.families.map((s) => scopeIndex(s, cards));
  const occurrences: { f: number; j: number }[][] = Array.from({ length: nv }, () => []);
  spec.factorScopes.forEach((scope, f) => scope.forEach((v, j) => (occurrences[v] as { f: number; j: number }[]).push({ f, j })));
  const index: FactorIndex = { nVariables: nv, cards, offsets, qSize, factors, families, occurrences, familiesAreFactors };
  cache.set(spec, index);
  return index;
}
