/**
 * Eigenvalues of a real symmetric tridiagonal matrix by the implicit-shift QL
 * algorithm (Wilkinson shifts, Givens rotations chased up the matrix), with
 * the first component of each normalized eigenvector: what the Golub–Welsch
 * construction of Gauss quadrature rules needs.
 * @module
 */
import { emError } from '@emlab/core';

/** Eigenvalues (ascending) and the first components of the matching unit eigenvectors. @category GLMM */
export interface TridiagonalEigen {
  /** `[n]` eigenvalues, ascending. */
  readonly values: Float64Array;
  /** `[n]` first component of each unit eigenvector (sign arbitrary). */
  readonly firstComponents: Float64Array;
}

/**
 * Eigen-decomposition of the symmetric tridiagonal matrix with diagonal `diag`
 * (`[n]`) and off-diagonal `offDiag` (`[n − 1]`, entry i couples rows i and i+1).
 *
 * Each sweep deflates when |e_m| ≤ ε (|d_m| + |d_{m+1}|), takes the Wilkinson
 * shift from the leading 2×2 block, and chases the bulge with Givens
 * rotations, which are also applied to the first row of the eigenvector
 * matrix (starting from e₁ᵀ), so the first components come without forming
 * the eigenvectors.
 *
 * @throws EmError `INVALID_ARGUMENT` on mismatched lengths or non-finite entries; `INTERNAL` if an eigenvalue needs more than 60 sweeps.
 * @see Golub, G. H. & Welsch, J. H. (1969). Calculation of Gauss quadrature rules. Math. Comp. 23, 221–230.
 * @category GLMM
 */
export function symmetricTridiagonalEigen(diag: ArrayLike<number>, offDiag: ArrayLike<number>): TridiagonalEigen {
  const n = diag.length;
  if (offDiag.length !== Math.max(0, n - 1)) {
    throw emError('INVALID_ARGUMENT', ['offDiag'], offDiag, `must have length n − 1 = ${Math.max(0, n - 1)}`, 'pass the n − 1 off-diagonal entries');
  }
  const d = Float64Array.from(diag);
  const e = new Float64Array(n); // e[i] couples i and i+1; e[n−1] = 0.
  for (let i = 0; i + 1 < n; i++) e[i] = offDiag[i]!;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(d[i]!) || !Number.isFinite(e[i]!)) {
      throw emError('INVALID_ARGUMENT', ['diag'], diag, 'has a non-finite entry (diagonal or off-diagonal)', 'pass finite matrix entries');
    }
  }
  // z[j] = first component of the j-th column of the accumulated rotation matrix.
  const z = new Float64Array(n);
  if (n > 0) z[0] = 1;
  for (let l = 0; l < n; l++) {
    for (let sweep = 0; ; sweep++) {
      let m = l;
      while (m < n - 1) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= Number.EPSILON * dd) break;
        m++;
      }
      if (m === l) break;
      if (sweep >= 60) throw emError('INTERNAL', ['diag'], diag, `QL did not converge for eigenvalue ${l} in 60 sweeps`, 'please report this matrix');
      // Wilkinson shift from the 2×2 block at l.
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = Math.hypot(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      let underflow = false;
      for (; i >= l; i--) {
        const f = s * e[i]!;
        const bb = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // Recover from underflow: the matrix splits here.
          d[i + 1] = d[i + 1]! - p;
          e[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * bb;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - bb;
        // Apply the rotation to columns i, i+1 of the first eigenvector row.
        const zf = z[i + 1]!;
        z[i + 1] = s * z[i]! + c * zf;
        z[i] = c * z[i]! - s * zf;
      }
      if (underflow) continue;
      d[l] = d[l]! - p;
      e[l] = g;
      e[m] = 0;
    }
  }
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[a]! - d[b]!);
  return { values: Float64Array.from(idx, (i) => d[i]!), firstComponents: Float64Array.from(idx, (i) => z[i]!) };
}
