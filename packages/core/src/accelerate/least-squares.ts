/**
 * Least squares min ‖A c − b‖₂ for a small, possibly rank-deficient A, by Householder QR with column pivoting.
 *
 * The accelerators solve tiny systems built from successive EM increments;
 * near convergence those columns are almost parallel, so the solver must not
 * square the condition number (normal equations) and must drop directions
 * that carry only rounding noise.
 *
 * @module
 * @internal
 */

/**
 * The basic least-squares solution of A c ≈ b, A given by its columns (each of length n).
 *
 * Columns are pivoted by remaining norm; the factorization stops at the first
 * pivot |R_kk| ≤ rcond · |R_00|, and the coefficients of the dropped columns
 * are 0. Returns `null` when A is zero or an entry is non-finite.
 */
export function leastSquares(columns: readonly Float64Array[], b: Float64Array, rcond = 1e-12): Float64Array | null {
  const m = columns.length;
  const n = b.length;
  const A = columns.map((c) => Float64Array.from(c));
  const y = Float64Array.from(b);
  const perm = Array.from({ length: m }, (_, j) => j);
  const diag = new Float64Array(m);
  let rank = 0;
  const steps = Math.min(m, n);
  for (let k = 0; k < steps; k++) {
    // Pivot: the remaining column of largest norm below row k.
    let best = k;
    let bestNorm = -1;
    for (let j = k; j < m; j++) {
      const col = A[j]!;
      let s = 0;
      for (let i = k; i < n; i++) s += col[i]! * col[i]!;
      if (s > bestNorm) {
        bestNorm = s;
        best = j;
      }
    }
    if (!Number.isFinite(bestNorm)) return null;
    if (best !== k) {
      [A[k], A[best]] = [A[best]!, A[k]!];
      [perm[k], perm[best]] = [perm[best]!, perm[k]!];
    }
    const norm = Math.sqrt(bestNorm);
    if (norm === 0 || (k > 0 && norm <= rcond * Math.abs(diag[0]!))) break;
    const col = A[k]!;
    const alpha = col[k]! > 0 ? -norm : norm;
    // v = x − alpha e_k, stored in col[k..n-1].
    col[k] = col[k]! - alpha;
    let vv = 0;
    for (let i = k; i < n; i++) vv += col[i]! * col[i]!;
    const reflect = (x: Float64Array): void => {
      let s = 0;
      for (let i = k; i < n; i++) s += col[i]! * x[i]!;
      const f = (2 * s) / vv;
      for (let i = k; i < n; i++) x[i] = x[i]! - f * col[i]!;
    };
    for (let j = k + 1; j < m; j++) reflect(A[j]!);
    reflect(y);
    diag[k] = alpha;
    rank = k + 1;
  }
  if (rank === 0) return null;
  // Back substitution on the leading rank×rank block of R (R_ij = A[j][i] for i < j).
  const z = new Float64Array(rank);
  for (let i = rank - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let j = i + 1; j < rank; j++) s -= A[j]![i]! * z[j]!;
    z[i] = s / diag[i]!;
  }
  const c = new Float64Array(m);
  for (let i = 0; i < rank; i++) c[perm[i]!] = z[i]!;
  for (let i = 0; i < m; i++) if (!Number.isFinite(c[i]!)) return null;
  return c;
}
