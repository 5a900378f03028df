/**
 * Model-based hierarchical clustering: merge sequences and partitions equal
 * mclust 6.0.0's `hc` (EII and VVV, fixtures from fixtures/mclust/generate.R);
 * every merge is the brute-force minimum of the stated criterion computed
 * from the clusters' members; ties, partitions, the subsample and errors.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRng, EmError } from '@emlab/core';
import { hierarchicalClustering, type HierarchicalModel } from '../src/mixture/hierarchical-init.js';

interface HcFixture {
  partitionsFor: number[];
  sets: ({ n: number; d: number; x: number[] } & Record<HierarchicalModel, { pairs: number[]; partitions: number[][] }>)[];
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/mclust/hc.json', import.meta.url), 'utf8')) as HcFixture;

function catchEm(f: () => unknown): EmError {
  try {
    f();
  } catch (e) {
    if (e instanceof EmError) return e;
    throw e;
  }
  throw new Error('expected an EmError');
}

/** Determinant by Gaussian elimination with partial pivoting. */
function det(a: number[][]): number {
  const m = a.map((r) => r.slice());
  const n = m.length;
  let d = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    if (m[p]![c] === 0) return 0;
    if (p !== c) {
      [m[p], m[c]] = [m[c]!, m[p]!];
      d = -d;
    }
    d *= m[c]![c]!;
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k < n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return d;
}

/** Within-cluster scatter of the given rows. */
function scatter(x: Float64Array, D: number, rows: number[]): { n: number; W: number[][] } {
  const n = rows.length;
  const mean = new Array<number>(D).fill(0);
  for (const r of rows) for (let c = 0; c < D; c++) mean[c]! += x[r * D + c]! / n;
  const W = Array.from({ length: D }, () => new Array<number>(D).fill(0));
  for (const r of rows) for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) W[i]![j]! += (x[r * D + i]! - mean[i]!) * (x[r * D + j]! - mean[j]!);
  return { n, W };
}

/** The criterion of a partition, from members: Σ_C tr W_C (EII) or Σ_C n_C log(|W_C/n_C| + β(tr W_C + α)/n_C) (VVV, determinant only for n_C > max(D, 2)). */
function criterion(model: HierarchicalModel, x: Float64Array, D: number, clusters: number[][], alpha: number): number {
  let total = 0;
  for (const rows of clusters) {
    const { n, W } = scatter(x, D, rows);
    let tr = 0;
    for (let i = 0; i < D; i++) tr += W[i]![i]!;
    if (model === 'EII') total += tr;
    else total += n * Math.log((n > Math.max(D, 2) ? det(W.map((r) => r.map((v) => v / n))) : 0) + (tr + alpha) / n);
  }
  return total;
}

function randomData(seed: string, N: number, D: number, centres: number): Float64Array {
  const rng = createRng(seed);
  const mus = Array.from({ length: centres }, () => Array.from({ length: D }, () => 4 * rng.normal()));
  const x = new Float64Array(N * D);
  for (let r = 0; r < N; r++) {
    const mu = mus[r % centres]!;
    const s = Array.from({ length: D }, () => 0.5 + rng.uniform());
    for (let c = 0; c < D; c++) x[r * D + c] = mu[c]! + s[c]! * rng.normal();
  }
  return x;
}

describe("equals mclust 6.0.0's hc", () => {
  it('uses the fixtures it was generated for', () => {
    expect(fx.sets.map((s) => [s.n, s.d])).toEqual([
      [60, 2],
      [80, 3],
      [120, 2],
      [100, 4],
      [90, 5],
    ]);
  });

  for (const model of ['EII', 'VVV'] as const) {
    it(`${model}: the whole merge sequence (mclust's pairs, 0-based) and the partitions into 1..10 clusters`, () => {
      for (const set of fx.sets) {
        const h = hierarchicalClustering(Float64Array.from(set.x), set.n, set.d, model);
        expect(Array.from(h.merges)).toEqual(set[model].pairs.map((v) => v - 1));
        fx.partitionsFor.forEach((K, i) => {
          expect(Array.from(h.partitionsAt(K))).toEqual(set[model].partitions[i]!.map((v) => v - 1));
        });
      }
    });
  }

  it("VVV: mclust's stored cluster factors make its sequence differ from the exact criterion's", () => {
    let differing = 0;
    for (const set of fx.sets) {
      const x = Float64Array.from(set.x);
      const exact = hierarchicalClustering(x, set.n, set.d, 'VVV', { vvvScatter: 'exact' });
      const asMclust = hierarchicalClustering(x, set.n, set.d, 'VVV');
      if (Array.from(exact.merges).some((v, i) => v !== asMclust.merges[i])) differing++;
      // They agree until the first comparison of a cluster of ≥ 3 rows with one of ≥ 2.
      expect(exact.merges.slice(0, 20)).toEqual(asMclust.merges.slice(0, 20));
    }
    expect(differing).toBeGreaterThan(0);
  });
});

describe('every merge is the cheapest under the stated criterion (brute force from members)', () => {
  const cases: [HierarchicalModel, number, number][] = [
    ['EII', 30, 2],
    ['EII', 24, 3],
    ['VVV', 30, 2],
    ['VVV', 24, 3],
    ['VVV', 20, 1],
  ];
  for (const [model, N, D] of cases) {
    it(`${model}, N = ${N}, D = ${D}`, () => {
      const x = randomData(`brute-${model}-${D}`, N, D, 3);
      const h = hierarchicalClustering(x, N, D, model, { vvvScatter: 'exact' });
      // α = tr(W)/(N·D) of all rows.
      const all = scatter(x, D, Array.from({ length: N }, (_, i) => i));
      let tr = 0;
      for (let i = 0; i < D; i++) tr += all.W[i]![i]!;
      expect(Math.abs(h.alpha - (model === 'VVV' ? tr / (N * D) : 0))).toBeLessThanOrEqual(1e-14 * tr);
      let clusters = new Map<number, number[]>(Array.from({ length: N }, (_, i) => [i, [i]]));
      for (let t = 0; t < N - 1; t++) {
        const base = criterion(model, x, D, [...clusters.values()], h.alpha);
        const labels = [...clusters.keys()].sort((a, b) => a - b);
        let best = Infinity;
        for (let i = 0; i < labels.length; i++) {
          for (let j = i + 1; j < labels.length; j++) {
            const a = labels[i]!;
            const b = labels[j]!;
            const merged = [...clusters.entries()].filter(([k]) => k !== a && k !== b).map(([, v]) => v);
            merged.push([...clusters.get(a)!, ...clusters.get(b)!]);
            best = Math.min(best, criterion(model, x, D, merged, h.alpha) - base);
          }
        }
        const a = h.merges[2 * t]!;
        const b = h.merges[2 * t + 1]!;
        expect(a).toBeLessThan(b);
        expect(clusters.has(a) && clusters.has(b)).toBe(true);
        const rest = [...clusters.entries()].filter(([k]) => k !== a && k !== b).map(([, v]) => v);
        const chosen = criterion(model, x, D, [...rest, [...clusters.get(a)!, ...clusters.get(b)!]], h.alpha) - base;
        const scale = 1e-9 * (1 + Math.abs(base));
        expect(chosen).toBeLessThanOrEqual(best + scale);
        expect(Math.abs(h.costs[t]! - chosen)).toBeLessThanOrEqual(scale);
        clusters.get(a)!.push(...clusters.get(b)!);
        clusters.delete(b);
        clusters = new Map([...clusters.entries()]);
      }
    });
  }
});

describe('ties, partitions and subsampling', () => {
  it('breaks ties by the smallest label pair, deterministically', () => {
    const square = new Float64Array([0, 0, 1, 0, 0, 1, 1, 1]);
    const h = hierarchicalClustering(square, 4, 2, 'EII');
    // All four sides cost 1/2: (0, 1) first; then {2, 3} (1/2) beats joining {0, 1} (5/6); then the rest.
    expect(Array.from(h.merges)).toEqual([0, 1, 2, 3, 0, 2]);
    expect(Array.from(h.costs)).toEqual([0.5, 0.5, 1]);
    const again = hierarchicalClustering(square, 4, 2, 'EII');
    expect(Array.from(again.merges)).toEqual(Array.from(h.merges));
    // Duplicated rows merge first at zero cost, under both criteria.
    const dup = new Float64Array([0, 0, 3, 1, 0, 0, 5, 5, 3, 1]);
    for (const model of ['EII', 'VVV'] as const) {
      const d = hierarchicalClustering(dup, 5, 2, model);
      expect(Array.from(d.merges.slice(0, 4))).toEqual([0, 2, 1, 4]);
    }
  });

  it('gives nested partitions with K labels in order of first appearance', () => {
    const N = 40;
    const x = randomData('partitions', N, 2, 4);
    for (const model of ['EII', 'VVV'] as const) {
      const h = hierarchicalClustering(x, N, 2, model);
      expect(Array.from(h.partitionsAt(1))).toEqual(new Array<number>(N).fill(0));
      expect(Array.from(h.partitionsAt(N))).toEqual(Array.from({ length: N }, (_, i) => i));
      let finer = h.partitionsAt(N);
      for (let K = N - 1; K >= 1; K--) {
        const p = h.partitionsAt(K);
        let next = 0;
        for (const l of p) {
          expect(l).toBeLessThanOrEqual(next);
          if (l === next) next++;
        }
        expect(next).toBe(K);
        // Rows together in the finer partition stay together.
        for (let i = 0; i < N; i++) for (let j = 0; j < i; j++) if (finer[i] === finer[j]) expect(p[i]).toBe(p[j]);
        finer = p;
      }
    }
  });

  it('clusters a seeded subsample above maxRows and assigns the other rows to the nearest cluster mean', () => {
    const N = 300;
    const D = 2;
    const x = randomData('subsample', N, D, 3);
    const h = hierarchicalClustering(x, N, D, 'VVV', { maxRows: 80, seed: 5 });
    expect(h.rows.length).toBe(80);
    for (let i = 1; i < 80; i++) expect(h.rows[i]!).toBeGreaterThan(h.rows[i - 1]!);
    expect(Array.from(hierarchicalClustering(x, N, D, 'VVV', { maxRows: 80, seed: 5 }).rows)).toEqual(Array.from(h.rows));
    expect(Array.from(hierarchicalClustering(x, N, D, 'VVV', { maxRows: 80, seed: 6 }).rows)).not.toEqual(Array.from(h.rows));
    // The subsample alone gives the same tree.
    const sub = Float64Array.from(Array.from(h.rows).flatMap((r) => [x[r * D]!, x[r * D + 1]!]));
    const direct = hierarchicalClustering(sub, 80, D, 'VVV');
    expect(Array.from(direct.merges)).toEqual(Array.from(h.merges));
    for (const K of [1, 2, 3, 5]) {
      const labels = h.partitionsAt(K);
      const subLabels = direct.partitionsAt(K);
      expect(labels.length).toBe(N);
      // Subsample rows: the same grouping as the tree on the subsample alone.
      for (let i = 0; i < 80; i++) for (let j = 0; j < i; j++) expect(labels[h.rows[i]!] === labels[h.rows[j]!]).toBe(subLabels[i] === subLabels[j]);
      // Other rows: the label of the nearest mean of the subsample's clusters.
      const sums = new Map<number, number[]>();
      for (const r of h.rows) {
        const s = sums.get(labels[r]!) ?? [0, 0, 0];
        s[0]! += x[r * D]!;
        s[1]! += x[r * D + 1]!;
        s[2]! += 1;
        sums.set(labels[r]!, s);
      }
      const inSub = new Set(h.rows);
      for (let r = 0; r < N; r++) {
        if (inSub.has(r)) continue;
        let best = -1;
        let bestD = Infinity;
        for (const [l, s] of sums) {
          const d2 = (x[r * D]! - s[0]! / s[2]!) ** 2 + (x[r * D + 1]! - s[1]! / s[2]!) ** 2;
          if (d2 < bestD) {
            bestD = d2;
            best = l;
          }
        }
        expect(labels[r]).toBe(best);
      }
    }
  });

  it('handles the default subsample of 2000 rows', () => {
    const N = 2300;
    const x = randomData('large', N, 2, 3);
    const h = hierarchicalClustering(x, N, 2, 'EII');
    expect(h.rows.length).toBe(2000);
    expect(h.merges.length).toBe(2 * 1999);
    expect(new Set(h.partitionsAt(3)).size).toBe(3);
  });

  it('rejects bad arguments', () => {
    const x = new Float64Array([0, 1, 2, 3, 4, 5]);
    expect(catchEm(() => hierarchicalClustering(x, 3, 2, 'VEV' as HierarchicalModel)).path).toEqual(['model']);
    expect(catchEm(() => hierarchicalClustering(x, 4, 2, 'EII')).path).toEqual(['data']);
    expect(catchEm(() => hierarchicalClustering(new Float64Array([1, 2]), 1, 2, 'EII')).code).toBe('INVALID_DATA');
    expect(catchEm(() => hierarchicalClustering(new Float64Array([1, Number.NaN, 0, 0]), 2, 2, 'EII')).path).toEqual(['data', 0, 1]);
    expect(catchEm(() => hierarchicalClustering(x, 3, 2, 'EII', { maxRows: 1 })).path).toEqual(['options', 'maxRows']);
    expect(catchEm(() => hierarchicalClustering(x, 3, 2, 'EII', { maxRows: 20_000 })).path).toEqual(['options', 'maxRows']);
    expect(catchEm(() => hierarchicalClustering(x, 3, 2, 'VVV', { alpha: -1 })).path).toEqual(['options', 'alpha']);
    expect(catchEm(() => hierarchicalClustering(x, 3, 2, 'VVV', { vvvScatter: 'fast' as 'exact' })).path).toEqual(['options', 'vvvScatter']);
    expect(catchEm(() => hierarchicalClustering(x, 3, 2, 'VVV', { maxrows: 5 } as never)).path).toEqual(['options', 'maxrows']);
    const h = hierarchicalClustering(x, 3, 2, 'EII');
    expect(catchEm(() => h.partitionsAt(0)).path).toEqual(['nClusters']);
    expect(catchEm(() => h.partitionsAt(4)).path).toEqual(['nClusters']);
  });
});
