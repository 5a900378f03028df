/**
 * Float64 Jacobi eigen-decomposition, singular value decomposition and
 * orthogonal Procrustes rotation: defining identities on random matrices
 * (property tests), closed forms for 2×2 matrices, repeated eigenvalues,
 * rank-deficient matrices and typed errors.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, EmError } from '@emlab/core';
import { procrustesRotation, squareSvd, symmetricEigen } from '../src/eigen.js';

function randomMatrix(seed: number, n: number, symmetric: boolean): Float64Array {
  const rng = createRng(seed).child('matrix');
  const a = Float64Array.from({ length: n * n }, () => rng.normal() * Math.exp(rng.normal()));
  if (symmetric) for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j]!;
  return a;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** max |QᵀQ − I|. */
function orthogonalityError(q: Float64Array, n: number): number {
  let err = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[k * n + i]! * q[k * n + j]!;
      err = Math.max(err, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  return err;
}

/** Q diag(d) Rᵀ. */
function compose(q: Float64Array, d: ArrayLike<number>, r: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) out[i * n + j] = out[i * n + j]! + q[i * n + k]! * d[k]! * r[j * n + k]!;
  return out;
}

function catchEm(f: () => unknown): EmError {
  try {
    f();
  } catch (e) {
    if (e instanceof EmError) return e;
    throw e;
  }
  throw new Error('expected an EmError');
}

describe('symmetricEigen', () => {
  it('A = V diag(λ) Vᵀ with V orthogonal, λ decreasing, axes sign-normalized (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 1e9 }), (n, seed) => {
        const a = randomMatrix(seed, n, true);
        const { values, vectors } = symmetricEigen(a, n);
        const scale = maxAbs(a);
        expect(maxAbs(compose(vectors, values, vectors, n).map((v, i) => v - a[i]!))).toBeLessThanOrEqual(1e-13 * n * scale);
        expect(orthogonalityError(vectors, n)).toBeLessThanOrEqual(1e-14 * n);
        for (let j = 1; j < n; j++) expect(values[j]!).toBeLessThanOrEqual(values[j - 1]!);
        let trace = 0;
        for (let i = 0; i < n; i++) trace += a[i * n + i]!;
        expect(Math.abs(values.reduce((s, v) => s + v, 0) - trace)).toBeLessThanOrEqual(1e-13 * n * scale);
        for (let j = 0; j < n; j++) {
          let big = 0;
          for (let i = 0; i < n; i++) if (Math.abs(vectors[i * n + j]!) > Math.abs(big)) big = vectors[i * n + j]!;
          expect(big).toBeGreaterThan(0);
        }
      }),
      { numRuns: 200, seed: 1 },
    );
  });

  it('matches the 2×2 closed form', () => {
    for (let seed = 0; seed < 50; seed++) {
      const a = randomMatrix(seed, 2, true);
      const m = (a[0]! + a[3]!) / 2;
      const r = Math.hypot((a[0]! - a[3]!) / 2, a[1]!);
      const { values } = symmetricEigen(a, 2);
      expect(Math.abs(values[0]! - (m + r))).toBeLessThanOrEqual(1e-14 * (Math.abs(m) + r));
      expect(Math.abs(values[1]! - (m - r))).toBeLessThanOrEqual(1e-14 * (Math.abs(m) + r));
    }
  });

  it('handles repeated eigenvalues, diagonal and zero matrices', () => {
    const eye = symmetricEigen(new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]), 3);
    expect(Array.from(eye.values)).toEqual([1, 1, 1]);
    expect(Array.from(eye.vectors)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const diag = symmetricEigen(new Float64Array([1, 0, 0, 0, 3, 0, 0, 0, 2]), 3);
    expect(Array.from(diag.values)).toEqual([3, 2, 1]);
    expect(Array.from(diag.vectors)).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0]);
    expect(Array.from(symmetricEigen(new Float64Array(4), 2).values)).toEqual([0, 0]);
    // Q diag(3, 3, 1) Qᵀ for a rotation Q: the double eigenvalue is found to rounding.
    const c = Math.cos(0.7);
    const s = Math.sin(0.7);
    const q = new Float64Array([c, -s, 0, s * 0.6, c * 0.6, -0.8, s * 0.8, c * 0.8, 0.6]);
    const { values, vectors } = symmetricEigen(compose(q, [3, 3, 1], q, 3), 3);
    expect(Math.abs(values[0]! - 3)).toBeLessThanOrEqual(1e-14 * 3);
    expect(Math.abs(values[1]! - 3)).toBeLessThanOrEqual(1e-14 * 3);
    expect(Math.abs(values[2]! - 1)).toBeLessThanOrEqual(1e-14 * 3);
    expect(orthogonalityError(vectors, 3)).toBeLessThanOrEqual(1e-14);
  });

  it('uses only the symmetric part and rejects bad input', () => {
    const a = new Float64Array([2, 1, 3, 2]);
    const sym = new Float64Array([2, 2, 2, 2]);
    expect(Array.from(symmetricEigen(a, 2).values)).toEqual(Array.from(symmetricEigen(sym, 2).values));
    expect(catchEm(() => symmetricEigen(new Float64Array(3), 2)).code).toBe('INVALID_ARGUMENT');
    expect(catchEm(() => symmetricEigen(new Float64Array([1, Number.NaN, 0, 1]), 2)).path).toEqual(['a', 0, 1]);
    expect(catchEm(() => symmetricEigen(new Float64Array(0), 0)).path).toEqual(['n']);
  });
});

describe('squareSvd', () => {
  it('A = U diag(s) Vᵀ with U, V orthogonal and s decreasing ≥ 0 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 1e9 }), fc.boolean(), (n, seed, lowRank) => {
        let a = randomMatrix(seed, n, false);
        if (lowRank && n > 1) {
          // Make the last column a combination of the others: rank ≤ n − 1.
          for (let i = 0; i < n; i++) a[i * n + n - 1] = a[i * n]! - 2 * a[i * n + (n > 2 ? 1 : 0)]!;
          a = a.slice();
        }
        const { u, s, v } = squareSvd(a, n);
        const scale = maxAbs(a);
        expect(maxAbs(compose(u, s, v, n).map((x, i) => x - a[i]!))).toBeLessThanOrEqual(1e-13 * n * scale);
        expect(orthogonalityError(u, n)).toBeLessThanOrEqual(1e-13 * n);
        expect(orthogonalityError(v, n)).toBeLessThanOrEqual(1e-14 * n);
        for (let j = 0; j < n; j++) expect(s[j]!).toBeGreaterThanOrEqual(0);
        for (let j = 1; j < n; j++) expect(s[j]!).toBeLessThanOrEqual(s[j - 1]!);
      }),
      { numRuns: 200, seed: 2 },
    );
  });

  it('matches the 2×2 closed form s = √(eigenvalues of AᵀA)', () => {
    for (let seed = 0; seed < 50; seed++) {
      const a = randomMatrix(seed, 2, false);
      const p = a[0]! * a[0]! + a[2]! * a[2]!;
      const q = a[1]! * a[1]! + a[3]! * a[3]!;
      const r = a[0]! * a[1]! + a[2]! * a[3]!;
      const m = (p + q) / 2;
      const h = Math.hypot((p - q) / 2, r);
      const det = Math.abs(a[0]! * a[3]! - a[1]! * a[2]!);
      const { s } = squareSvd(a, 2);
      expect(Math.abs(s[0]! - Math.sqrt(m + h))).toBeLessThanOrEqual(1e-14 * Math.sqrt(m + h));
      expect(Math.abs(s[0]! * s[1]! - det)).toBeLessThanOrEqual(1e-13 * (m + h));
    }
  });

  it('completes U for zero singular values', () => {
    const zero = squareSvd(new Float64Array(9), 3);
    expect(Array.from(zero.s)).toEqual([0, 0, 0]);
    expect(orthogonalityError(zero.u, 3)).toBeLessThanOrEqual(1e-15);
    // u vᵀ with |u| = 3, |v| = 5: s = (15, 0, 0).
    const x = [1, 2, 2];
    const y = [0, 3, 4];
    const outer = Float64Array.from({ length: 9 }, (_, i) => x[Math.floor(i / 3)]! * y[i % 3]!);
    const r = squareSvd(outer, 3);
    expect(Math.abs(r.s[0]! - 15)).toBeLessThanOrEqual(1e-13);
    expect(r.s[1]!).toBeLessThanOrEqual(1e-13);
    expect(orthogonalityError(r.u, 3)).toBeLessThanOrEqual(1e-14);
  });
});

describe('procrustesRotation', () => {
  it('gives an orthogonal Q with tr(FᵀQ) = Σ s, at least tr(FᵀR) for random orthogonal R (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 1e9 }), (n, seed) => {
        const f = randomMatrix(seed, n, false);
        const q = procrustesRotation(f, n);
        expect(orthogonalityError(q, n)).toBeLessThanOrEqual(1e-13 * n);
        const tr = (r: Float64Array): number => r.reduce((acc, v, i) => acc + v * f[i]!, 0);
        const best = tr(q);
        const nuclear = squareSvd(f, n).s.reduce((a, b) => a + b, 0);
        expect(Math.abs(best - nuclear)).toBeLessThanOrEqual(1e-12 * nuclear);
        const rng = createRng(seed).child('rotations');
        for (let t = 0; t < 50; t++) {
          // A random orthogonal matrix: the U of a random matrix.
          const r = squareSvd(Float64Array.from({ length: n * n }, () => rng.normal()), n).u;
          expect(tr(r)).toBeLessThanOrEqual(best + 1e-12 * nuclear);
        }
      }),
      { numRuns: 100, seed: 3 },
    );
  });

  it('maximizes tr(FᵀQ) over a fine grid of 2×2 rotations and reflections', () => {
    for (let seed = 0; seed < 20; seed++) {
      const f = randomMatrix(seed, 2, false);
      const q = procrustesRotation(f, 2);
      const ours = q.reduce((acc, v, i) => acc + v * f[i]!, 0);
      let grid = -Infinity;
      for (let t = 0; t < 20000; t++) {
        const th = (2 * Math.PI * t) / 20000;
        const c = Math.cos(th);
        const s = Math.sin(th);
        grid = Math.max(grid, c * f[0]! - s * f[1]! + s * f[2]! + c * f[3]!, c * f[0]! + s * f[1]! + s * f[2]! - c * f[3]!);
      }
      expect(ours).toBeGreaterThanOrEqual(grid - 1e-12 * Math.abs(grid));
      expect(ours - grid).toBeLessThanOrEqual(1e-6 * maxAbs(f));
    }
  });
});
