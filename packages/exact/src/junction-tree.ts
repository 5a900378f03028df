/**
 * Junction trees for discrete factor graphs: triangulation by greedy
 * elimination (min-fill, ties broken by min-weight), maximal cliques, a
 * maximum-weight spanning tree over separator sizes, and the assignment of
 * factors, evidence and marginal scopes to cliques. Pure JS, θ-free: built
 * once per factor-graph spec and cached.
 *
 * @see Lauritzen, S. L. & Spiegelhalter, D. J. (1988). Local computations with probabilities on graphical structures and their application to expert systems.
 * @see Jensen, F. V. & Jensen, F. (1994). Optimal junction trees.
 * @see Kjærulff, U. (1990). Triangulation of graphs: algorithms giving small total state space.
 * @module
 */

/** One clique of a {@link JunctionTree}. @category Junction trees */
export interface JtClique {
  /** Variables, ascending. */
  readonly vars: readonly number[];
  /** Cardinalities in that order. */
  readonly shape: readonly number[];
  /** Number of table entries. */
  readonly size: number;
  /** Parent clique, or −1 for a root. */
  readonly parent: number;
  /** Child cliques. */
  readonly children: readonly number[];
  /** Variables shared with the parent (empty for a root), in this clique's axis order. */
  readonly separator: readonly number[];
}

/** A junction tree (a forest when the graph is disconnected). @category Junction trees */
export interface JunctionTree {
  readonly cardinalities: readonly number[];
  readonly cliques: readonly JtClique[];
  /** Roots, one per connected component. */
  readonly roots: readonly number[];
  /** Every clique, children before parents (collect order). */
  readonly postOrder: readonly number[];
  /** Clique holding each factor (`scopes` order). */
  readonly scopeClique: readonly number[];
  /** Clique that receives each variable's evidence (the smallest one containing it). */
  readonly variableClique: readonly number[];
  /** The elimination order found. */
  readonly eliminationOrder: readonly number[];
  /** Σ clique sizes (table entries per instance). */
  readonly totalSize: number;
  /** Largest clique size. */
  readonly maxCliqueSize: number;
}

/** Options of {@link buildJunctionTree}. @category Junction trees */
export interface JunctionTreeOptions {
  /**
   * Greedy elimination criterion: `'min-fill'` (fewest fill-in edges, ties by weight),
   * `'weighted-min-fill'` (fill-in edges weighted by the product of their end points' cardinalities),
   * `'min-weight'` (smallest clique state space), or `'auto'` (default): all three, keeping the tree
   * with the smallest total clique size.
   */
  readonly heuristic?: JunctionTreeHeuristic;
}

/** Elimination heuristics of {@link buildJunctionTree}. @category Junction trees */
export type JunctionTreeHeuristic = 'auto' | 'min-fill' | 'weighted-min-fill' | 'min-weight';

/**
 * Builds a junction tree over variables with the given cardinalities such that
 * every scope in `scopes` lies inside some clique.
 *
 * @param cardinalities - per variable.
 * @param scopes - factor scopes and any other scopes whose marginals are wanted.
 * @category Junction trees
 */
export function buildJunctionTree(cardinalities: readonly number[], scopes: readonly (readonly number[])[], options: JunctionTreeOptions = {}): JunctionTree {
  const heuristic = options.heuristic ?? 'auto';
  if (heuristic !== 'auto') return buildWith(cardinalities, scopes, heuristic);
  let best: JunctionTree | undefined;
  for (const h of ['min-fill', 'weighted-min-fill', 'min-weight'] as const) {
    const jt = buildWith(cardinalities, scopes, h);
    if (best === undefined || jt.totalSize < best.totalSize) best = jt;
  }
  return best as JunctionTree;
}

function buildWith(cardinalities: readonly number[], scopes: readonly (readonly number[])[], heuristic: Exclude<JunctionTreeHeuristic, 'auto'>): JunctionTree {
  const n = cardinalities.length;
  const card = (v: number): number => cardinalities[v] as number;
  const adj: Set<number>[] = Array.from({ length: n }, () => new Set<number>());
  for (const scope of scopes) {
    for (const a of scope) for (const b of scope) if (a !== b) (adj[a] as Set<number>).add(b);
  }

  // Greedy elimination.
  const eliminated = new Uint8Array(n);
  const order: number[] = [];
  const rawCliques: number[][] = [];
  for (let step = 0; step < n; step++) {
    let best = -1;
    let bestFill = Number.POSITIVE_INFINITY;
    let bestWeight = Number.POSITIVE_INFINITY;
    for (let v = 0; v < n; v++) {
      if (eliminated[v]) continue;
      const nb = [...(adj[v] as Set<number>)];
      let fill = 0;
      for (let i = 0; i < nb.length; i++) {
        for (let j = i + 1; j < nb.length; j++) {
          if (!(adj[nb[i] as number] as Set<number>).has(nb[j] as number)) fill += heuristic === 'weighted-min-fill' ? card(nb[i] as number) * card(nb[j] as number) : 1;
        }
      }
      let weight = card(v);
      for (const u of nb) weight *= card(u);
      const better = heuristic !== 'min-weight'
        ? fill < bestFill || (fill === bestFill && weight < bestWeight)
        : weight < bestWeight || (weight === bestWeight && fill < bestFill);
      if (better) {
        best = v;
        bestFill = fill;
        bestWeight = weight;
      }
    }
    const nb = [...(adj[best] as Set<number>)];
    for (let i = 0; i < nb.length; i++) {
      for (let j = i + 1; j < nb.length; j++) {
        (adj[nb[i] as number] as Set<number>).add(nb[j] as number);
        (adj[nb[j] as number] as Set<number>).add(nb[i] as number);
      }
    }
    for (const u of nb) (adj[u] as Set<number>).delete(best);
    eliminated[best] = 1;
    order.push(best);
    const clique = [best, ...nb];
    // A clique made at step i can only be contained in one made earlier (it holds the variable just eliminated).
    const isSubset = rawCliques.some((c) => clique.every((v) => c.includes(v)));
    if (!isSubset) rawCliques.push(clique);
  }

  // Maximum-weight spanning forest on |C_i ∩ C_j| (Kruskal): a junction tree of a chordal graph.
  const m = rawCliques.length;
  const edges: { a: number; b: number; w: number }[] = [];
  for (let a = 0; a < m; a++) {
    for (let b = a + 1; b < m; b++) {
      const w = (rawCliques[a] as number[]).filter((v) => (rawCliques[b] as number[]).includes(v)).length;
      if (w > 0) edges.push({ a, b, w });
    }
  }
  edges.sort((x, y) => y.w - x.w || x.a - y.a || x.b - y.b);
  const uf = Array.from({ length: m }, (_, i) => i);
  const find = (i: number): number => {
    while (uf[i] !== i) i = uf[i] = uf[uf[i] as number] as number;
    return i;
  };
  const nbrs: number[][] = Array.from({ length: m }, () => []);
  for (const e of edges) {
    const ra = find(e.a);
    const rb = find(e.b);
    if (ra === rb) continue;
    uf[ra] = rb;
    (nbrs[e.a] as number[]).push(e.b);
    (nbrs[e.b] as number[]).push(e.a);
  }

  // Root every component at its largest clique; orient edges; post-order.
  const sizeOf = (c: readonly number[]): number => c.reduce((s, v) => s * card(v), 1);
  const parent = new Int32Array(m).fill(-2);
  const roots: number[] = [];
  const postOrder: number[] = [];
  const byComponent = new Map<number, number[]>();
  for (let i = 0; i < m; i++) {
    const r = find(i);
    if (!byComponent.has(r)) byComponent.set(r, []);
    (byComponent.get(r) as number[]).push(i);
  }
  for (const members of byComponent.values()) {
    const root = members.reduce((b, i) => (sizeOf(rawCliques[i] as number[]) > sizeOf(rawCliques[b] as number[]) ? i : b), members[0] as number);
    roots.push(root);
    parent[root] = -1;
    const stack: { c: number; done: boolean }[] = [{ c: root, done: false }];
    while (stack.length > 0) {
      const top = stack.pop() as { c: number; done: boolean };
      if (top.done) {
        postOrder.push(top.c);
        continue;
      }
      stack.push({ c: top.c, done: true });
      for (const k of nbrs[top.c] as number[]) {
        if (parent[k] !== -2) continue;
        parent[k] = top.c;
        stack.push({ c: k, done: false });
      }
    }
  }

  const cliques: JtClique[] = rawCliques.map((raw, i) => {
    const vars = [...raw].sort((a, b) => a - b);
    const p = parent[i] as number;
    const pv = p >= 0 ? (rawCliques[p] as number[]) : [];
    return {
      vars,
      shape: vars.map(card),
      size: sizeOf(vars),
      parent: p,
      children: (nbrs[i] as number[]).filter((k) => parent[k] === i),
      separator: vars.filter((v) => pv.includes(v)),
    };
  });

  const smallestContaining = (scope: readonly number[]): number => {
    let best = -1;
    for (let i = 0; i < m; i++) {
      const c = cliques[i] as JtClique;
      if (scope.every((v) => c.vars.includes(v)) && (best < 0 || c.size < (cliques[best] as JtClique).size)) best = i;
    }
    if (best < 0) throw new Error(`buildJunctionTree: no clique contains scope [${scope.join(', ')}] (internal error)`);
    return best;
  };
  return {
    cardinalities: [...cardinalities],
    cliques,
    roots,
    postOrder,
    scopeClique: scopes.map(smallestContaining),
    variableClique: Array.from({ length: n }, (_, v) => smallestContaining([v])),
    eliminationOrder: order,
    totalSize: cliques.reduce((s, c) => s + c.size, 0),
    maxCliqueSize: cliques.reduce((s, c) => Math.max(s, c.size), 0),
  };
}

/**
 * Merges consecutive axes of a table into runs that are all kept or all
 * summed (or all broadcast): reshaping to the runs keeps the rank small for
 * tensor kernels.
 *
 * @param shape - the table's axis sizes.
 * @param keep - per axis, whether it is in the subset.
 * @returns `shape` (the merged sizes), `keepShape` (kept runs' sizes, 1 for the others) and the
 *   indices of the runs that are not kept (`otherAxes`, offset by `offset`).
 * @category Junction trees
 */
export function mergeRuns(shape: readonly number[], keep: readonly boolean[], offset = 1): { shape: number[]; keepShape: number[]; otherAxes: number[] } {
  const out: number[] = [];
  const keepShape: number[] = [];
  const otherAxes: number[] = [];
  let prev: boolean | undefined;
  for (let i = 0; i < shape.length; i++) {
    const k = keep[i] as boolean;
    const s = shape[i] as number;
    if (s === 1) continue;
    if (prev === k && out.length > 0) {
      out[out.length - 1] = (out[out.length - 1] as number) * s;
      if (k) keepShape[keepShape.length - 1] = (keepShape[keepShape.length - 1] as number) * s;
    } else {
      out.push(s);
      keepShape.push(k ? s : 1);
      if (!k) otherAxes.push(out.length - 1 + offset);
      prev = k;
    }
  }
  return { shape: out, keepShape, otherAxes };
}
