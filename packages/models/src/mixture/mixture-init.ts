/**
 * Initial partitions of general mixtures, all on the modelled columns of the
 * prepared rows (missing entries at their column means): k-means++ seeding on
 * standardized columns, uniform random responsibilities, mclust's
 * model-based hierarchical clustering (`hierarchicalClustering`, EII or VVV
 * criterion, on the data transformed as mclust's `hcUse` says), and a given
 * partition. The mixture then runs one M-step from the partition.
 * @module
 */
import { emError, symmetricEigen, type Rng } from '@emlab/core';
import { hierarchicalClustering, type HierarchicalModel } from './hierarchical-init.js';
import type { MixturePrepared } from './mixture-data.js';

/** How rows are transformed before hierarchical clustering (mclust's `hcUse`). @category General mixtures */
export type HcUse = 'vars' | 'std' | 'svd';

/** The transformations, mclust's default (`svd`) first. @category General mixtures */
export const HC_USE: readonly HcUse[] = ['svd', 'vars', 'std'];

/** Modelled columns of the prepared rows with missing entries at the (weighted) column mean, `[nRows × u]`. */
function filledUsed(prepared: MixturePrepared): { x: Float64Array; u: number } {
  const { columns, values } = prepared.used;
  const u = columns.length;
  const n = prepared.nRows;
  const mean = new Float64Array(u);
  const seen = new Float64Array(u);
  for (let r = 0; r < n; r++) {
    const w = prepared.weights === undefined ? 1 : (prepared.weights[r] as number);
    for (let j = 0; j < u; j++) {
      const v = values[r * u + j] as number;
      if (Number.isNaN(v) || w === 0) continue;
      mean[j] = (mean[j] as number) + w * v;
      seen[j] = (seen[j] as number) + w;
    }
  }
  for (let j = 0; j < u; j++) mean[j] = (seen[j] as number) > 0 ? (mean[j] as number) / (seen[j] as number) : 0;
  const x = new Float64Array(n * u);
  for (let i = 0; i < n * u; i++) {
    const v = values[i] as number;
    x[i] = Number.isNaN(v) ? (mean[i % u] as number) : v;
  }
  return { x, u };
}

/** Centres the columns and scales them to unit (n − 1) standard deviation (R's `scale`); constant columns stay 0. */
function standardize(x: Float64Array, n: number, u: number): Float64Array {
  const out = new Float64Array(n * u);
  for (let j = 0; j < u; j++) {
    let m = 0;
    for (let r = 0; r < n; r++) m += x[r * u + j] as number;
    m /= n;
    let ss = 0;
    for (let r = 0; r < n; r++) ss += ((x[r * u + j] as number) - m) ** 2;
    const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
    for (let r = 0; r < n; r++) out[r * u + j] = sd > 0 ? ((x[r * u + j] as number) - m) / sd : 0;
  }
  return out;
}

/**
 * mclust's transformations of the rows for `hc` (`use = "VARS" | "STD" | "SVD"`):
 * `vars` as is; `std` centred and scaled (R's `scale`); `svd` scaled, then
 * Z = X V S^{-1/2} with X = U S Vᵀ the singular value decomposition, i.e.
 * U S^{1/2} (constant columns dropped as mclust drops them).
 * @category General mixtures
 */
export function hcTransform(x: Float64Array, n: number, u: number, use: HcUse): { values: Float64Array; dim: number } {
  if (use === 'vars') return { values: x, dim: u };
  const z = standardize(x, n, u);
  if (use === 'std') return { values: z, dim: u };
  // XᵀX = V S² Vᵀ: eigenvectors V, singular values S = sqrt(eigenvalues).
  const keep: number[] = [];
  for (let j = 0; j < u; j++) {
    let nz = false;
    for (let r = 0; r < n && !nz; r++) nz = z[r * u + j] !== 0;
    if (nz) keep.push(j);
  }
  const p = keep.length;
  if (p === 0) return { values: new Float64Array(n), dim: 1 };
  const g = new Float64Array(p * p);
  for (let r = 0; r < n; r++) {
    for (let a = 0; a < p; a++) {
      const za = z[r * u + (keep[a] as number)] as number;
      for (let b = a; b < p; b++) g[a * p + b] = (g[a * p + b] as number) + za * (z[r * u + (keep[b] as number)] as number);
    }
  }
  for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) g[a * p + b] = g[b * p + a] as number;
  const e = symmetricEigen(g, p);
  const rank = Math.min(p, n);
  const out = new Float64Array(n * rank);
  for (let c = 0; c < rank; c++) {
    const s = Math.sqrt(Math.max(e.values[c] as number, 0));
    const scale = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let r = 0; r < n; r++) {
      let v = 0;
      for (let a = 0; a < p; a++) v += (z[r * u + (keep[a] as number)] as number) * (e.vectors[a * p + c] as number);
      out[r * rank + c] = v * scale;
    }
  }
  return { values: out, dim: rank };
}

/**
 * mclust's hierarchical clustering of the modelled columns, built once:
 * rows with positive weight are clustered (weights otherwise ignored, as
 * `hc` has none; above `maxRows` a seeded subsample, the rest assigned to the
 * nearest cluster mean); `labelsAt(K)` cuts it at K clusters, labels `[nRows]`
 * in prepared order (−1 for rows of weight 0).
 * @throws EmError `INVALID_DATA` when fewer than 2 rows can be clustered.
 * @category General mixtures
 */
export function hcTree(prepared: MixturePrepared, model: HierarchicalModel, use: HcUse, rng: Rng, maxRows = 2000): { readonly nClustered: number; labelsAt(k: number): Int32Array } {
  const { x, u } = filledUsed(prepared);
  const n = prepared.nRows;
  const keep: number[] = [];
  for (let r = 0; r < n; r++) if (prepared.weights === undefined || (prepared.weights[r] as number) > 0) keep.push(r);
  if (keep.length < 2) {
    throw emError('INVALID_DATA', ['data'], keep.length, `has ${keep.length} rows with positive weight, too few for hierarchical clustering`, "use init 'kmeans++' or 'random', or pass more rows");
  }
  const sub = new Float64Array(keep.length * u);
  keep.forEach((r, i) => sub.set(x.subarray(r * u, (r + 1) * u), i * u));
  const t = hcTransform(sub, keep.length, u, use);
  const tree = hierarchicalClustering(t.values, keep.length, t.dim, model, { maxRows, seed: rng.child('hc').path });
  return {
    nClustered: tree.rows.length,
    labelsAt(k) {
      const part = tree.partitionsAt(Math.min(k, tree.rows.length));
      const labels = new Int32Array(n).fill(-1);
      keep.forEach((r, i) => (labels[r] = part[i] as number));
      return labels;
    },
  };
}

/**
 * Labels `[nRows]` (prepared order) from mclust's hierarchical clustering cut
 * at K clusters (see {@link hcTree}).
 * @throws EmError `INVALID_DATA` when fewer than 2 rows can be clustered.
 * @category General mixtures
 */
export function hcLabels(prepared: MixturePrepared, k: number, model: HierarchicalModel, use: HcUse, rng: Rng, maxRows = 2000): Int32Array {
  return hcTree(prepared, model, use, rng, maxRows).labelsAt(k);
}

/**
 * k-means++ seeding (D² sampling weighted by row weights) on the standardized
 * modelled columns, then each row to its nearest centre: labels `[nRows]`.
 * @category General mixtures
 */
export function kmeansPlusPlusLabels(prepared: MixturePrepared, k: number, rng: Rng): Int32Array {
  const { x: raw, u } = filledUsed(prepared);
  const n = prepared.nRows;
  const x = standardize(raw, n, u);
  const rw = prepared.weights;
  const dist = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const labels = new Int32Array(n);
  const score = new Float64Array(n);
  let centre = rw === undefined ? rng.int(n) : rng.categorical(rw);
  for (let c = 0; c < k; c++) {
    if (c > 0) {
      let total = 0;
      for (let i = 0; i < n; i++) total += score[i] = (rw === undefined ? 1 : (rw[i] as number)) * (dist[i] as number);
      centre = total > 0 ? rng.categorical(score) : rw === undefined ? rng.int(n) : rng.categorical(rw);
    }
    const base = centre * u;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < u; j++) {
        const diff = (x[i * u + j] as number) - (x[base + j] as number);
        s += diff * diff;
      }
      if (s < (dist[i] as number)) {
        dist[i] = s;
        labels[i] = c;
      }
    }
  }
  return labels;
}

/**
 * Responsibilities `[rows × K]` of a block from labels (−1: unlabelled, 1/K
 * each), or uniform random ones when `labels` is undefined (stream
 * `rng/block/start`), times the row weights.
 */
export function initialResponsibilities(prepared: MixturePrepared, k: number, start: number, rows: number, labels: Int32Array | undefined, rng: Rng): Float64Array {
  const w = new Float64Array(rows * k);
  if (labels === undefined) {
    const r = rng.child('block', start);
    for (let i = 0; i < rows; i++) {
      let sum = 0;
      for (let j = 0; j < k; j++) sum += w[i * k + j] = r.uniform();
      for (let j = 0; j < k; j++) w[i * k + j] = (w[i * k + j] as number) / sum;
    }
  } else {
    for (let i = 0; i < rows; i++) {
      const l = labels[start + i] as number;
      if (l >= 0) w[i * k + l] = 1;
      else for (let j = 0; j < k; j++) w[i * k + j] = 1 / k;
    }
  }
  const rw = prepared.weights;
  if (rw !== undefined) for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) w[i * k + j] = (w[i * k + j] as number) * (rw[start + i] as number);
  return w;
}
