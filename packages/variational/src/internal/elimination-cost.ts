/**
 * A cheap estimate of the exact E-step's cost on a factor graph: greedy
 * min-fill elimination on the moral graph (every factor scope a clique),
 * summing the sizes of the cliques it creates. Used to decide whether the
 * mean-field E-step can afford the exact log-likelihood for its gap.
 * @internal
 * @module
 */
import type { FactorGraphSpec } from '@emlab/core';

const cache = new WeakMap<FactorGraphSpec, number>();

/** Σ over the elimination cliques of Π cardinalities (an upper estimate of the junction tree's table entries per pattern). */
export function eliminationCost(spec: FactorGraphSpec): number {
  const hit = cache.get(spec);
  if (hit !== undefined) return hit;
  const n = spec.variables.length;
  const cards = spec.variables.map((v) => v.cardinality);
  const adj = Array.from({ length: n }, () => new Set<number>());
  for (const scope of spec.factorScopes) for (const a of scope) for (const b of scope) if (a !== b) (adj[a] as Set<number>).add(b);
  const alive = new Set<number>(Array.from({ length: n }, (_, i) => i));
  let total = 0;
  while (alive.size > 0) {
    let best = -1;
    let bestFill = Number.POSITIVE_INFINITY;
    let bestSize = Number.POSITIVE_INFINITY;
    for (const v of alive) {
      const nb = [...(adj[v] as Set<number>)];
      let fill = 0;
      for (let i = 0; i < nb.length; i++) for (let j = i + 1; j < nb.length; j++) if (!(adj[nb[i] as number] as Set<number>).has(nb[j] as number)) fill++;
      const size = nb.reduce((s, u) => s * (cards[u] as number), cards[v] as number);
      if (fill < bestFill || (fill === bestFill && size < bestSize)) {
        best = v;
        bestFill = fill;
        bestSize = size;
      }
    }
    total += bestSize;
    const nb = [...(adj[best] as Set<number>)];
    for (const a of nb) {
      (adj[a] as Set<number>).delete(best);
      for (const b of nb) if (a !== b) (adj[a] as Set<number>).add(b);
    }
    alive.delete(best);
  }
  cache.set(spec, total);
  return total;
}
