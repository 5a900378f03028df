/**
 * Model-based agglomerative hierarchical clustering as mclust's `hc` does it
 * for the EII and VVV criteria, to initialize mixtures: start from singletons
 * and repeatedly merge the pair of clusters whose merge costs least under a
 * Gaussian classification likelihood.
 *
 * - `EII` (equal spherical clusters): the cost of merging i and j is Ward's
 *   increase of the within-cluster sum of squares,
 *   n_i n_j / (n_i + n_j) · ‖mean_i − mean_j‖².
 * - `VVV` (unconstrained clusters): each cluster C with n_C rows and scatter
 *   W_C has the regularized term
 *   t(C) = n_C log( |W_C / n_C| + β (tr W_C + α) / n_C ),
 *   where the determinant is left out (taken as 0) while n_C ≤ max(D, 2) —
 *   W_C is then singular — and the cost of a merge is
 *   t(C_i ∪ C_j) − t(C_i) − t(C_j) (a singleton's term is log(αβ)).
 *   As in mclust, α = `alpha` · tr(W)/(N·D) with W the scatter of all rows
 *   clustered (floored at machine epsilon) and β = `beta`; mclust's defaults
 *   are alpha = beta = 1. This is the criterion of mclust's `hcVVV` (Fraley
 *   1998), whose α and β act like a prior that keeps small clusters'
 *   determinants from vanishing. By default (`vvvScatter: 'mclust'`) the
 *   determinants are computed as mclust 6.0.0 computes them, including its
 *   way of storing a cluster's triangular factor (see
 *   {@link HierarchicalOptions.vvvScatter}), so that the merge sequence is
 *   mclust's; `vvvScatter: 'exact'` evaluates the criterion above exactly.
 *
 * Rows are clustered as given (mclust's `hc(..., use = "VARS")`; `Mclust`
 * itself by default first transforms them, `mclust.options("hcUse")`), and
 * start as singletons: mclust's `hc` first groups duplicated rows
 * (`dupPartition`); here duplicates are ordinary rows (which, among
 * singletons, merge first under both criteria).
 * Ties between equal costs are broken deterministically: the pair (a, b),
 * a < b, with the smallest a, then the smallest b. Costs are recomputed from
 * the merged clusters' counts, means and scatters (not updated by the
 * Lance–Williams recursion), so they are exact up to rounding.
 *
 * Memory is O(m²) (a packed triangle of m(m − 1)/2 float64 costs) and time
 * O(m² D³) for VVV, O(m² D) for EII, with m the number of rows clustered
 * (each merge recomputes the new cluster's costs and rescans the rows whose
 * nearest cluster it absorbed; m = 2000 takes about 2 s for VVV). With
 * more than `maxRows` rows (default 2000, as mclust's `subset` option) a seeded
 * uniform subsample of `maxRows` rows is clustered and {@link HierarchicalClustering.partitionsAt}
 * assigns every other row to the nearest (Euclidean) cluster mean.
 *
 * @module
 */
import { createRng, emError, integerOption, numberOption, rejectUnknownOptions, validateSeed } from '@emlab/core';
import type { Seed } from '@emlab/core';

/** The criteria implemented: Ward (EII) and mclust's regularized VVV. @category Mixture covariance models */
export type HierarchicalModel = 'EII' | 'VVV';

/**
 * Options of {@link hierarchicalClustering}.
 * @category Mixture covariance models
 */
export interface HierarchicalOptions {
  /** VVV only: multiplier of tr(W)/(N·D) giving α (default 1, mclust's). */
  readonly alpha?: number;
  /** VVV only: β (default 1, mclust's). */
  readonly beta?: number;
  /** Largest number of rows clustered exactly, in [2, 10000] (default 2000); above it a seeded subsample is used. */
  readonly maxRows?: number;
  /** Seed of the subsample (default 0); unused when nRows ≤ maxRows. */
  readonly seed?: Seed;
  /**
   * VVV only: which cluster scatter matrices enter the determinants (default
   * `'mclust'`). `'exact'` uses the true scatter of every cluster.
   * `'mclust'` reproduces mclust 6.0.0's `hcVVV`, which stores a merged
   * cluster's triangular factor with every row a copy of its first row
   * (`dcopy(p, r(1,1), p, x(l,1), n)` in `hcvvv`), so an older cluster of
   * three or more rows enters later determinants with the scatter
   * Σ_{k ≤ min(n − 1, D)} s_k s_kᵀ, s_k = (0, …, 0, r_1k, …, r_1D), r_1 the
   * first row of its factor; traces, means and the first cluster of each
   * pair (the one just merged) are exact. Both coincide until two clusters
   * with at least 3 and 2 rows are compared.
   */
  readonly vvvScatter?: 'mclust' | 'exact';
}

/**
 * A merge tree over the clustered rows.
 * @category Mixture covariance models
 */
export interface HierarchicalClustering {
  readonly model: HierarchicalModel;
  /** N, the number of rows of the data. */
  readonly nRows: number;
  readonly dim: number;
  /** Indices of the rows clustered, increasing: all rows, or the subsample. Positions in this array are the labels used in `merges`. */
  readonly rows: Int32Array;
  /**
   * The m − 1 merges in order, `[m − 1, 2]` row-major: merge t joins the
   * clusters labelled a < b, each cluster being labelled by the smallest
   * position (in `rows`) of its members; the merged cluster keeps a. This is
   * the convention of mclust's `hc` pairs, 0-based.
   */
  readonly merges: Int32Array;
  /** The cost (criterion increase) of each merge, `[m − 1]`. */
  readonly costs: Float64Array;
  /** α actually used (VVV), else 0. */
  readonly alpha: number;
  /**
   * Labels of all N rows in K clusters (after the first m − K merges), `[N]`,
   * numbered 0..K−1 in order of first appearance (as mclust's `hclass`).
   * @throws `INVALID_ARGUMENT` unless 1 ≤ K ≤ m.
   */
  partitionsAt(nClusters: number): Int32Array;
}

const MAX_ROWS_LIMIT = 10_000;

/** Index of the unordered pair {i, j}, i ≠ j, in a packed lower triangle. */
function packed(i: number, j: number): number {
  return i > j ? (i * (i - 1)) / 2 + j : (j * (j - 1)) / 2 + i;
}

/**
 * Model-based agglomerative hierarchical clustering with mclust's EII or VVV criterion.
 *
 * @param data Rows, `[nRows, dim]` row-major float64.
 * @param model `'EII'` or `'VVV'`.
 * @throws `INVALID_ARGUMENT` for a bad model, option or size; `INVALID_DATA` for a non-finite entry or fewer than 2 rows.
 * @example
 * ```ts
 * const tree = hierarchicalClustering(x, nRows, 2, 'VVV');
 * const labels = tree.partitionsAt(3); // Int32Array of 0, 1, 2
 * ```
 * @see Banfield & Raftery (1993), "Model-based Gaussian and non-Gaussian clustering", Biometrics 49.
 * @see Fraley (1998), "Algorithms for model-based Gaussian hierarchical clustering", SIAM J. Sci. Comput. 20(1).
 * @see Ward (1963), "Hierarchical grouping to optimize an objective function", JASA 58.
 * @category Mixture covariance models
 */
export function hierarchicalClustering(data: Float64Array, nRows: number, dim: number, model: HierarchicalModel, options: HierarchicalOptions = {}): HierarchicalClustering {
  if (model !== 'EII' && model !== 'VVV') {
    throw emError('INVALID_ARGUMENT', ['model'], model, "must be 'EII' or 'VVV'", "use 'EII' (Ward) or 'VVV' (mclust's default)");
  }
  rejectUnknownOptions(options as Record<string, unknown>, ['alpha', 'beta', 'maxRows', 'seed', 'vvvScatter'], 'options');
  const N = integerOption(nRows, ['nRows'], 0);
  const D = integerOption(dim, ['dim'], 1);
  if (!(data instanceof Float64Array) || data.length !== N * D) {
    throw emError('INVALID_ARGUMENT', ['data'], data, `must be a Float64Array of length nRows * dim = ${N * D}`, 'pass the rows as one row-major Float64Array');
  }
  if (N < 2) throw emError('INVALID_DATA', ['data'], N, 'has fewer than 2 rows', 'pass at least 2 rows to cluster');
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) throw emError('INVALID_DATA', ['data', Math.floor(i / D), i % D], data[i], 'must be finite', 'remove or impute non-finite entries first');
  }
  const alphaFactor = options.alpha === undefined ? 1 : numberOption(options.alpha, ['options', 'alpha'], 0);
  const beta = options.beta === undefined ? 1 : numberOption(options.beta, ['options', 'beta'], Number.MIN_VALUE);
  const maxRows = options.maxRows === undefined ? 2000 : integerOption(options.maxRows, ['options', 'maxRows'], 2, MAX_ROWS_LIMIT);
  const seed = options.seed ?? 0;
  validateSeed(seed, ['options', 'seed']);
  const vvvScatter = options.vvvScatter ?? 'mclust';
  if (vvvScatter !== 'mclust' && vvvScatter !== 'exact') {
    throw emError('INVALID_ARGUMENT', ['options', 'vvvScatter'], vvvScatter, "must be 'mclust' or 'exact'", "omit it (default 'mclust') or pass 'exact'");
  }
  const asMclust = vvvScatter === 'mclust';

  // Rows clustered.
  let rows: Int32Array;
  if (N <= maxRows) rows = Int32Array.from({ length: N }, (_, i) => i);
  else {
    const rng = createRng(seed).child('hierarchical-init', 'subsample');
    const perm = Int32Array.from({ length: N }, (_, i) => i);
    for (let i = 0; i < maxRows; i++) {
      const j = i + rng.int(N - i);
      const t = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = t;
    }
    rows = perm.slice(0, maxRows).sort();
  }
  const m = rows.length;

  // Per-slot cluster state; a cluster lives in the slot of its smallest member.
  const counts = new Float64Array(m).fill(1);
  const means = new Float64Array(m * D);
  for (let s = 0; s < m; s++) for (let c = 0; c < D; c++) means[s * D + c] = data[rows[s]! * D + c]!;
  const vvv = model === 'VVV';
  // VVV: per slot the trace of the true scatter, the scatter used when the
  // cluster is the one just merged ("direct") and when it is the older one of a
  // pair ("stored"); both are the true scatter unless vvvScatter = 'mclust'.
  const traces = vvv ? new Float64Array(m) : new Float64Array(0);
  const direct = vvv ? new Float64Array(m * D * D) : new Float64Array(0);
  const stored = vvv ? new Float64Array(m * D * D) : new Float64Array(0);
  const terms = new Float64Array(m);
  let alpha = 0;
  if (vvv) {
    const mu = new Float64Array(D);
    for (let s = 0; s < m; s++) for (let c = 0; c < D; c++) mu[c] = mu[c]! + means[s * D + c]! / m;
    let tr = 0;
    for (let s = 0; s < m; s++) for (let c = 0; c < D; c++) tr += (means[s * D + c]! - mu[c]!) ** 2;
    alpha = Math.max(alphaFactor * (tr / (m * D)), Number.EPSILON);
    terms.fill(Math.log(alpha * beta));
  }
  const logAlphaBeta = Math.log(alpha * beta);

  const chol = new Float64Array(D * D);
  /** log|W/n| by an in-place Cholesky factorization, or −∞ when W/n is not numerically positive definite. */
  const logDetScaled = (W: Float64Array, n: number): number => {
    let logDet = 0;
    for (let i = 0; i < D; i++) {
      for (let j = 0; j <= i; j++) {
        let sum = W[i * D + j]! / n;
        for (let k = 0; k < j; k++) sum -= chol[i * D + k]! * chol[j * D + k]!;
        if (i === j) {
          if (!(sum > D * Number.EPSILON * (W[i * D + i]! / n)) || !Number.isFinite(sum)) return -Infinity;
          chol[i * D + i] = Math.sqrt(sum);
          logDet += Math.log(sum);
        } else chol[i * D + j] = sum / chol[j * D + j]!;
      }
    }
    return logDet;
  };
  /** VVV term n log(|W/n| + β(tr + α)/n) of a cluster with count n, trace tr and scatter W (determinant only for n > max(D, 2)). */
  const vvvTerm = (n: number, tr: number, W: Float64Array): number => {
    if (tr === 0) return n * Math.log((alpha * beta) / n);
    const logReg = Math.log((beta * (tr + alpha)) / n);
    if (!(n > Math.max(D, 2))) return n * logReg;
    const logDet = logDetScaled(W, n);
    if (logDet === -Infinity) return n * logReg;
    // log(e^logDet + e^logReg), computed without overflow.
    return n * (logDet > logReg ? logDet + Math.log1p(Math.exp(logReg - logDet)) : logReg + Math.log1p(Math.exp(logDet - logReg)));
  };
  /** mclust's stored form of a factor with Gram matrix W for a cluster of n rows (see `vvvScatter`). */
  const storedForm = (W: Float64Array, n: number): Float64Array => {
    if (!asMclust) return W.slice();
    const out = new Float64Array(D * D);
    const w11 = W[0]!;
    if (!(w11 > 0)) return out;
    const r1 = new Float64Array(D);
    for (let c = 0; c < D; c++) r1[c] = W[c]! / Math.sqrt(w11);
    const rowsStored = Math.min(n - 1, D);
    for (let k = 0; k < rowsStored; k++) {
      for (let r = k; r < D; r++) for (let c = k; c < D; c++) out[r * D + c] = out[r * D + c]! + r1[r]! * r1[c]!;
    }
    return out;
  };

  const delta = new Float64Array(D);
  const merged = new Float64Array(D * D);
  let mergedTrace = 0;
  /**
   * Cost of merging slots i and j; for VVV, `first`'s direct scatter and
   * `second`'s stored one enter the determinant (`merged` receives their sum
   * plus the between-means term, `mergedTrace` the true trace).
   */
  const cost = (i: number, j: number, first: Float64Array = direct, second: Float64Array = stored): number => {
    const ni = counts[i]!;
    const nj = counts[j]!;
    const nij = ni + nj;
    let d2 = 0;
    for (let c = 0; c < D; c++) {
      const e = means[i * D + c]! - means[j * D + c]!;
      delta[c] = e;
      d2 += e * e;
    }
    if (!vvv) return ((ni * nj) / nij) * d2;
    const f = (ni * nj) / nij;
    for (let r = 0; r < D; r++) {
      for (let c = 0; c <= r; c++) {
        const v = first[i * D * D + r * D + c]! + second[j * D * D + r * D + c]! + f * delta[r]! * delta[c]!;
        merged[r * D + c] = v;
        merged[c * D + r] = v;
      }
    }
    mergedTrace = traces[i]! + traces[j]! + f * d2;
    return vvvTerm(nij, mergedTrace, merged) - terms[i]! - terms[j]!;
  };

  const pairCost = new Float64Array((m * (m - 1)) / 2);
  const active = new Uint8Array(m).fill(1);
  const nn = new Int32Array(m).fill(-1);
  const nnCost = new Float64Array(m).fill(Infinity);
  if (vvv && m > 0) {
    // Fast path for the m(m − 1)/2 singleton pairs: n = 2 never includes the determinant.
    for (let i = 1; i < m; i++) {
      for (let j = 0; j < i; j++) {
        let d2 = 0;
        for (let c = 0; c < D; c++) d2 += (means[i * D + c]! - means[j * D + c]!) ** 2;
        const tr = 0.5 * d2;
        pairCost[packed(i, j)] = (tr === 0 ? 2 * Math.log((alpha * beta) / 2) : 2 * Math.log((beta * (tr + alpha)) / 2)) - 2 * logAlphaBeta;
      }
    }
  } else {
    for (let i = 1; i < m; i++) for (let j = 0; j < i; j++) pairCost[packed(i, j)] = cost(i, j);
  }
  /** Nearest active partner of slot i (smallest index on ties). */
  const rescan = (i: number): void => {
    let best = -1;
    let bestCost = Infinity;
    const base = (i * (i - 1)) / 2;
    for (let j = 0; j < i; j++) {
      if (active[j] === 0) continue;
      const c = pairCost[base + j]!;
      if (c < bestCost || best < 0) {
        best = j;
        bestCost = c;
      }
    }
    for (let j = i + 1; j < m; j++) {
      if (active[j] === 0) continue;
      const c = pairCost[(j * (j - 1)) / 2 + i]!;
      if (c < bestCost || best < 0) {
        best = j;
        bestCost = c;
      }
    }
    nn[i] = best;
    nnCost[i] = bestCost;
  };
  for (let i = 0; i < m; i++) rescan(i);

  const merges = new Int32Array(2 * (m - 1));
  const costs = new Float64Array(m - 1);
  let newest = -1;
  for (let t = 0; t < m - 1; t++) {
    // The lexicographically smallest (cost, a, b) over active pairs.
    let a = -1;
    let b = -1;
    let best = Infinity;
    for (let i = 0; i < m; i++) {
      if (active[i] === 0) continue;
      const j = nn[i]!;
      const lo = Math.min(i, j);
      const hi = Math.max(i, j);
      const c = nnCost[i]!;
      if (a < 0 || c < best || (c === best && (lo < a || (lo === a && hi < b)))) {
        a = lo;
        b = hi;
        best = c;
      }
    }
    merges[2 * t] = a;
    merges[2 * t + 1] = b;
    costs[t] = best;
    // Merge b into a.
    const na = counts[a]!;
    const nb = counts[b]!;
    const nab = na + nb;
    if (vvv) {
      if (newest === a || newest === b) {
        // The pair's cost was computed with the newest cluster's direct scatter: so is the merged one.
        const other = newest === a ? b : a;
        cost(newest, other);
        terms[a] = vvvTerm(nab, mergedTrace, merged);
      } else {
        // mclust rebuilds the factor of a pair of older clusters from their stored forms; its term is the one the cost used.
        cost(a, b, stored, stored);
        terms[a] = asMclust ? best + terms[a]! + terms[b]! : vvvTerm(nab, mergedTrace, merged);
      }
      direct.set(merged, a * D * D);
      stored.set(storedForm(merged, nab), a * D * D);
      traces[a] = mergedTrace;
    }
    for (let c = 0; c < D; c++) means[a * D + c] = (na * means[a * D + c]! + nb * means[b * D + c]!) / nab;
    counts[a] = nab;
    active[b] = 0;
    newest = a;
    if (t === m - 2) break;
    for (let k = 0; k < m; k++) {
      if (k === a || active[k] === 0) continue;
      const c = cost(a, k);
      pairCost[packed(a, k)] = c;
      const p = nn[k]!;
      if (p === a || p === b) rescan(k);
      else if (c < nnCost[k]! || (c === nnCost[k]! && a < p)) {
        nn[k] = a;
        nnCost[k] = c;
      }
    }
    rescan(a);
  }

  const partitionsAt = (nClusters: number): Int32Array => {
    const K = integerOption(nClusters, ['nClusters'], 1, m);
    const parent = Int32Array.from({ length: m }, (_, i) => i);
    const find = (x: number): number => {
      let r = x;
      while (parent[r] !== r) r = parent[r]!;
      while (parent[x] !== r) {
        const nx = parent[x]!;
        parent[x] = r;
        x = nx;
      }
      return r;
    };
    for (let t = 0; t < m - K; t++) parent[merges[2 * t + 1]!] = merges[2 * t]!;
    const slotOfRow = new Int32Array(N).fill(-1);
    for (let s = 0; s < m; s++) slotOfRow[rows[s]!] = find(s);
    if (m < N) {
      // Nearest cluster mean (Euclidean; lowest slot on ties) for the rows outside the subsample.
      const slots: number[] = [];
      const sums = new Map<number, Float64Array>();
      const sizes = new Map<number, number>();
      for (let s = 0; s < m; s++) {
        const r = find(s);
        let acc = sums.get(r);
        if (acc === undefined) {
          acc = new Float64Array(D);
          sums.set(r, acc);
          sizes.set(r, 0);
          slots.push(r);
        }
        for (let c = 0; c < D; c++) acc[c] = acc[c]! + data[rows[s]! * D + c]!;
        sizes.set(r, sizes.get(r)! + 1);
      }
      slots.sort((x, y) => x - y);
      const centres = slots.map((r) => sums.get(r)!.map((v) => v / sizes.get(r)!));
      for (let row = 0; row < N; row++) {
        if (slotOfRow[row] !== -1) continue;
        let best = 0;
        let bestD = Infinity;
        centres.forEach((centre, idx) => {
          let d2 = 0;
          for (let c = 0; c < D; c++) d2 += (data[row * D + c]! - centre[c]!) ** 2;
          if (d2 < bestD) {
            bestD = d2;
            best = idx;
          }
        });
        slotOfRow[row] = slots[best]!;
      }
    }
    const label = new Map<number, number>();
    const out = new Int32Array(N);
    for (let row = 0; row < N; row++) {
      const s = slotOfRow[row]!;
      let l = label.get(s);
      if (l === undefined) {
        l = label.size;
        label.set(s, l);
      }
      out[row] = l;
    }
    return out;
  };

  return { model, nRows: N, dim: D, rows, merges, costs, alpha: vvv ? alpha : 0, partitionsAt };
}
