/**
 * Comparison metrics: Hungarian assignment, adjusted Rand index, parameter
 * error after matching components, and a stable hash of parameters.
 * @module
 */
import { emError } from '@emlab/core';

/**
 * Minimum-cost assignment of rows to columns of a square cost matrix
 * (Hungarian algorithm with potentials, O(K³)).
 *
 * @param cost - `[K][K]` finite costs.
 * @returns `assignment[row] = column`, a permutation of 0..K−1 minimizing Σ cost[row][assignment[row]].
 * @throws EmError `INVALID_ARGUMENT` when `cost` is not square or has a non-finite entry.
 * @example
 * ```ts
 * hungarian([[4, 1], [2, 3]]); // [1, 0]  (cost 1 + 2)
 * ```
 * @see Kuhn, H. W. (1955). The Hungarian method for the assignment problem.
 * @category Metrics
 */
export function hungarian(cost: readonly (readonly number[])[]): number[] {
  const n = cost.length;
  cost.forEach((row, i) => {
    if (row.length !== n) throw emError('INVALID_ARGUMENT', ['cost', i], row, `must have ${n} entries (the matrix must be square)`, 'pass a K×K cost matrix');
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) throw emError('INVALID_ARGUMENT', ['cost', i, j], v, 'must be finite', 'replace infinite costs by a large finite number');
    });
  });
  if (n === 0) return [];
  // Potentials u (rows), v (columns); p[j] = row matched to column j (1-based, 0 = none).
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1);
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0] as number;
      let delta = Number.POSITIVE_INFINITY;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = (cost[i0 - 1] as readonly number[])[j - 1]! - (u[i0] as number) - (v[j] as number);
        if (cur < (minv[j] as number)) {
          minv[j] = cur;
          way[j] = j0;
        }
        if ((minv[j] as number) < delta) {
          delta = minv[j] as number;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j] as number] = (u[p[j] as number] as number) + delta;
          v[j] = (v[j] as number) - delta;
        } else {
          minv[j] = (minv[j] as number) - delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0] as number;
      p[j0] = p[j1] as number;
      j0 = j1;
    } while (j0 !== 0);
  }
  const assignment = new Array<number>(n).fill(-1);
  for (let j = 1; j <= n; j++) assignment[(p[j] as number) - 1] = j - 1;
  return assignment;
}

/**
 * Adjusted Rand index of two labelings (Hubert & Arabie 1985): 1 for identical
 * partitions (up to renaming), about 0 for independent ones, can be negative.
 * Two single-cluster labelings (or N ≤ 1) give 1.
 *
 * @throws EmError `INVALID_ARGUMENT` when the lengths differ or a label is not an integer.
 * @example
 * ```ts
 * adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0]); // 1
 * ```
 * @see Hubert, L. & Arabie, P. (1985). Comparing partitions. Journal of Classification 2, 193–218.
 * @category Metrics
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw emError('INVALID_ARGUMENT', ['b'], b, `must have the same length as a (${a.length})`, 'pass two labelings of the same rows');
  const n = a.length;
  const ia = new Map<number, number>();
  const ib = new Map<number, number>();
  const codeA = new Int32Array(n);
  const codeB = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const x = a[r] as number;
    const y = b[r] as number;
    if (!Number.isInteger(x)) throw emError('INVALID_ARGUMENT', ['a', r], x, 'must be an integer label', 'pass integer cluster labels');
    if (!Number.isInteger(y)) throw emError('INVALID_ARGUMENT', ['b', r], y, 'must be an integer label', 'pass integer cluster labels');
    if (!ia.has(x)) ia.set(x, ia.size);
    if (!ib.has(y)) ib.set(y, ib.size);
    codeA[r] = ia.get(x) as number;
    codeB[r] = ib.get(y) as number;
  }
  const ka = ia.size;
  const kb = ib.size;
  const table = new Float64Array(ka * kb);
  for (let r = 0; r < n; r++) table[(codeA[r] as number) * kb + (codeB[r] as number)] = (table[(codeA[r] as number) * kb + (codeB[r] as number)] as number) + 1;
  const c2 = (m: number): number => (m * (m - 1)) / 2;
  let sumCells = 0;
  for (const m of table) sumCells += c2(m);
  let sumA = 0;
  for (let i = 0; i < ka; i++) {
    let s = 0;
    for (let j = 0; j < kb; j++) s += table[i * kb + j] as number;
    sumA += c2(s);
  }
  let sumB = 0;
  for (let j = 0; j < kb; j++) {
    let s = 0;
    for (let i = 0; i < ka; i++) s += table[i * kb + j] as number;
    sumB += c2(s);
  }
  const total = c2(n);
  const expected = total === 0 ? 0 : (sumA * sumB) / total;
  const max = (sumA + sumB) / 2;
  if (max === expected) return 1; // both trivial (one cluster each, or every row its own cluster in both)
  return (sumCells - expected) / (max - expected);
}

/** Mixture parameters as compared by {@link mixtureParameterError}. @category Metrics */
export interface MixtureParamsLike {
  readonly weights: readonly number[];
  readonly means: readonly (readonly number[])[];
  readonly covariances: readonly (readonly (readonly number[])[])[];
}

/**
 * Mean absolute error over every parameter entry (weights, means, covariance
 * entries) after matching fitted components to true ones with the Hungarian
 * assignment on squared distances between means. Null when the component
 * counts or dimensions differ.
 *
 * @returns `{ error, assignment }` with `assignment[fitted] = true component`, or null.
 * @category Metrics
 */
export function mixtureParameterError(fitted: MixtureParamsLike, truth: MixtureParamsLike): { error: number; assignment: number[] } | null {
  const k = truth.weights.length;
  if (fitted.weights.length !== k || k === 0) return null;
  const d = (truth.means[0] as readonly number[]).length;
  if ((fitted.means[0] as readonly number[]).length !== d) return null;
  const cost = fitted.means.map((m) =>
    truth.means.map((t) => {
      let s = 0;
      for (let p = 0; p < d; p++) s += ((m[p] as number) - (t[p] as number)) ** 2;
      return s;
    }),
  );
  const assignment = hungarian(cost);
  let sum = 0;
  let count = 0;
  for (let c = 0; c < k; c++) {
    const t = assignment[c] as number;
    sum += Math.abs((fitted.weights[c] as number) - (truth.weights[t] as number));
    count++;
    for (let p = 0; p < d; p++) {
      sum += Math.abs(((fitted.means[c] as readonly number[])[p] as number) - ((truth.means[t] as readonly number[])[p] as number));
      count++;
      for (let q = 0; q < d; q++) {
        const f = (((fitted.covariances[c] as readonly (readonly number[])[])[p] as readonly number[])[q] as number);
        const g = (((truth.covariances[t] as readonly (readonly number[])[])[p] as readonly number[])[q] as number);
        sum += Math.abs(f - g);
        count++;
      }
    }
  }
  return { error: sum / count, assignment };
}

/**
 * A stable 64-bit FNV-1a hash (16 hex digits) of a JSON-able value's
 * canonical JSON (keys sorted; non-finite numbers as strings).
 * @category Metrics
 */
export function hashJson(value: unknown): string {
  const text = canonicalJson(value);
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * prime) & mask;
  }
  return h.toString(16).padStart(16, '0');
}

/** JSON with object keys sorted, non-finite numbers as strings, typed arrays as arrays. @category Metrics */
export function canonicalJson(value: unknown): string {
  const norm = (v: unknown): unknown => {
    if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, (x) => norm(x));
    if (Array.isArray(v)) return v.map(norm);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort()) out[key] = norm((v as Record<string, unknown>)[key]);
      return out;
    }
    return v;
  };
  return JSON.stringify(norm(value));
}
