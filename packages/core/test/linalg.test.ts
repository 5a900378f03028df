import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { EmError } from '../src/errors.js';
import {
  cholesky,
  choleskyWithJitter,
  choleskyBatch,
  logDetFromCholesky,
  solveLower,
  solveUpper,
  solveLowerTransposed,
  invertLower,
  choleskySolve,
  inverseFromCholesky,
  matMul,
  transpose,
  symmetrize,
  identity,
  mahalanobisSq,
  toMatrix,
  fromMatrix,
} from '../src/linalg.js';

const RUNS = { numRuns: 200 };

// ---------------------------------------------------------------------------
// Independent float64 references (no use of the module under test).
// ---------------------------------------------------------------------------

/** log |det a| by Gaussian elimination with partial pivoting. */
function refLogAbsDet(a: Float64Array, n: number): number {
  const m = Array.from(a);
  let logDet = 0;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]!) > Math.abs(m[p * n + c]!)) p = r;
    if (p !== c) {
      for (let j = 0; j < n; j++) {
        const t = m[c * n + j]!;
        m[c * n + j] = m[p * n + j]!;
        m[p * n + j] = t;
      }
    }
    const piv = m[c * n + c]!;
    if (piv === 0) return -Infinity;
    logDet += Math.log(Math.abs(piv));
    for (let r = c + 1; r < n; r++) {
      const f = m[r * n + c]! / piv;
      if (f === 0) continue;
      for (let j = c; j < n; j++) m[r * n + j] = m[r * n + j]! - f * m[c * n + j]!;
    }
  }
  return logDet;
}

/** Inverse by Gauss–Jordan elimination with partial pivoting. */
function refInverse(a: Float64Array, n: number): Float64Array {
  const m = Array.from(a);
  const inv = Array.from({ length: n * n }, (_, k): number => (Math.floor(k / n) === k % n ? 1 : 0));
  const swap = (arr: number[], r1: number, r2: number): void => {
    for (let j = 0; j < n; j++) {
      const t = arr[r1 * n + j]!;
      arr[r1 * n + j] = arr[r2 * n + j]!;
      arr[r2 * n + j] = t;
    }
  };
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]!) > Math.abs(m[p * n + c]!)) p = r;
    swap(m, c, p);
    swap(inv, c, p);
    const piv = m[c * n + c]!;
    for (let j = 0; j < n; j++) {
      m[c * n + j] = m[c * n + j]! / piv;
      inv[c * n + j] = inv[c * n + j]! / piv;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c]!;
      if (f === 0) continue;
      for (let j = 0; j < n; j++) {
        m[r * n + j] = m[r * n + j]! - f * m[c * n + j]!;
        inv[r * n + j] = inv[r * n + j]! - f * inv[c * n + j]!;
      }
    }
  }
  return Float64Array.from(inv);
}

function naiveMul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k]! * b[k * n + j]!;
      c[i * n + j] = s;
    }
  return c;
}

function matVec(a: Float64Array, n: number, x: Float64Array): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += a[i * n + k]! * x[k]!;
    y[i] = s;
  }
  return y;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function upperIsZero(L: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (L[i * n + j] !== 0) return false;
  return true;
}

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

interface SpdCase {
  n: number;
  a: Float64Array;
  b: Float64Array;
  mu: Float64Array;
  scale: number;
}

const entry = fc.double({ min: -1, max: 1, noNaN: true });

/** SPD matrices scale·(B Bᵀ + n·I), with a random right-hand side and mean. */
const spdArb: fc.Arbitrary<SpdCase> = fc
  .integer({ min: 1, max: 12 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      raw: fc.array(entry, { minLength: n * n, maxLength: n * n }),
      b: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n, maxLength: n }),
      mu: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n, maxLength: n }),
      scale: fc.constantFrom(1e-3, 1, 1e3),
    }),
  )
  .map(({ n, raw, b, mu, scale }) => {
    const B = Float64Array.from(raw);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = i === j ? n : 0;
        for (let k = 0; k < n; k++) s += B[i * n + k]! * B[j * n + k]!;
        a[i * n + j] = scale * s;
      }
    // Exact symmetry.
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j]!;
    return { n, a, b: Float64Array.from(b), mu: Float64Array.from(mu), scale };
  });

function factor(a: Float64Array, n: number): Float64Array {
  const L = cholesky(a, n);
  expect(L).not.toBeNull();
  return L as Float64Array;
}

// ---------------------------------------------------------------------------
// Properties on random SPD matrices
// ---------------------------------------------------------------------------

describe('cholesky on random SPD matrices', () => {
  it('L Lᵀ reconstructs a (relative 1e-10) and L is lower triangular with positive diagonal', () => {
    fc.assert(
      fc.property(spdArb, ({ n, a }) => {
        const L = factor(a, n);
        expect(upperIsZero(L, n)).toBe(true);
        for (let i = 0; i < n; i++) expect(L[i * n + i]!).toBeGreaterThan(0);
        const rec = naiveMul(L, transpose(L, n), n);
        expect(maxAbsDiff(rec, a)).toBeLessThanOrEqual(1e-10 * maxAbs(a));
      }),
      RUNS,
    );
  });

  it('log det from the factor matches Gaussian elimination with partial pivoting', () => {
    fc.assert(
      fc.property(spdArb, ({ n, a }) => {
        const L = factor(a, n);
        const ref = refLogAbsDet(a, n);
        const got = logDetFromCholesky(L, n);
        expect(Math.abs(got - ref)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(ref)));
        const jc = choleskyWithJitter(a, n, { component: 0 });
        expect(jc.jitter).toBe(0);
        expect(jc.logDet).toBe(got);
        expect(Array.from(jc.L)).toEqual(Array.from(L));
      }),
      RUNS,
    );
  });

  it('triangular and Cholesky solves satisfy their equations', () => {
    fc.assert(
      fc.property(spdArb, ({ n, a, b }) => {
        const L = factor(a, n);
        const U = transpose(L, n);
        const bNorm = maxAbs(b);
        const check = (m: Float64Array, x: Float64Array): void => {
          const r = matVec(m, n, x);
          const tol = 1e-10 * (maxAbs(m) * maxAbs(x) * n + bNorm) + 1e-300;
          expect(maxAbsDiff(r, b)).toBeLessThanOrEqual(tol);
        };
        check(L, solveLower(L, n, b));
        check(U, solveUpper(U, n, b));
        check(U, solveLowerTransposed(L, n, b));
        check(a, choleskySolve(L, n, b));
      }),
      RUNS,
    );
  });

  it('inverses: L·L⁻¹ ≈ I and a·(L Lᵀ)⁻¹ ≈ I, with a symmetric inverse', () => {
    fc.assert(
      fc.property(spdArb, ({ n, a }) => {
        const L = factor(a, n);
        const Linv = invertLower(L, n);
        expect(upperIsZero(Linv, n)).toBe(true);
        expect(maxAbsDiff(naiveMul(L, Linv, n), identity(n))).toBeLessThanOrEqual(1e-10);
        const inv = inverseFromCholesky(L, n);
        expect(maxAbsDiff(inv, transpose(inv, n))).toBe(0);
        expect(maxAbsDiff(naiveMul(a, inv, n), identity(n))).toBeLessThanOrEqual(1e-9);
        expect(maxAbsDiff(inv, refInverse(a, n))).toBeLessThanOrEqual(1e-9 * maxAbs(inv));
      }),
      RUNS,
    );
  });

  it('mahalanobisSq matches (x−μ)ᵀ a⁻¹ (x−μ) with an explicit inverse', () => {
    fc.assert(
      fc.property(spdArb, ({ n, a, b: x, mu }) => {
        const L = factor(a, n);
        const inv = refInverse(a, n);
        const d = x.map((v, i) => v - mu[i]!);
        const ref = d.reduce((s, di, i) => s + di * matVec(inv, n, d)[i]!, 0);
        const got = mahalanobisSq(L, n, x, mu);
        expect(got).toBeGreaterThanOrEqual(0);
        expect(Math.abs(got - ref)).toBeLessThanOrEqual(1e-9 * Math.max(1e-12, Math.abs(ref)));
      }),
      RUNS,
    );
  });

  it('never mutates its inputs', () => {
    fc.assert(
      fc.property(spdArb, ({ n, a, b, mu }) => {
        const a0 = Float64Array.from(a);
        const b0 = Float64Array.from(b);
        const mu0 = Float64Array.from(mu);
        const L = factor(a, n);
        const L0 = Float64Array.from(L);
        const U = transpose(L, n);
        const U0 = Float64Array.from(U);
        choleskyWithJitter(a, n, { component: 1 });
        choleskyBatch([a, a], n);
        logDetFromCholesky(L, n);
        solveLower(L, n, b);
        solveUpper(U, n, b);
        solveLowerTransposed(L, n, b);
        invertLower(L, n);
        choleskySolve(L, n, b);
        inverseFromCholesky(L, n);
        matMul(a, L, n);
        transpose(a, n);
        symmetrize(a, n);
        mahalanobisSq(L, n, b, mu);
        toMatrix(a, n);
        expect(Array.from(a)).toEqual(Array.from(a0));
        expect(Array.from(b)).toEqual(Array.from(b0));
        expect(Array.from(mu)).toEqual(Array.from(mu0));
        expect(Array.from(L)).toEqual(Array.from(L0));
        expect(Array.from(U)).toEqual(Array.from(U0));
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------
// Jitter escalation and errors
// ---------------------------------------------------------------------------

describe('choleskyWithJitter', () => {
  it('adds a positive jitter to a rank-1 u uᵀ and returns a valid factor of a + jitter·I', () => {
    const u = [1, 2, 3];
    const n = 3;
    const a = fromMatrix(u.map((ui) => u.map((uj) => ui * uj)));
    expect(cholesky(a, n)).toBeNull();
    const a0 = Float64Array.from(a);
    const { L, jitter, logDet } = choleskyWithJitter(a, n, { component: 0 });
    expect(Array.from(a)).toEqual(Array.from(a0));
    const s = (1 + 4 + 9) / 3;
    expect(jitter).toBeGreaterThan(0);
    expect(jitter).toBeCloseTo(1e-10 * s, 20);
    const shifted = Float64Array.from(a);
    for (let i = 0; i < n; i++) shifted[i * n + i] = shifted[i * n + i]! + jitter;
    expect(maxAbsDiff(naiveMul(L, transpose(L, n), n), shifted)).toBeLessThanOrEqual(1e-12 * maxAbs(a));
    expect(Number.isFinite(logDet)).toBe(true);
    expect(Math.abs(logDet - refLogAbsDet(shifted, n))).toBeLessThanOrEqual(1e-6 * Math.abs(logDet));
  });

  it('all-zero 2×2 gets jitter 1e-10 (scale 1) and logDet = 2·log(1e-10)', () => {
    const a = new Float64Array(4);
    const r = choleskyWithJitter(a, 2);
    expect(r.jitter).toBe(1e-10);
    expect(Array.from(r.L)).toEqual([1e-5, 0, 0, 1e-5]);
    expect(r.logDet).toBeCloseTo(2 * Math.log(1e-10), 10);
  });

  it('random integer rank-1 PSD matrices always get a positive jitter within maxJitter', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }).chain((n) => fc.array(fc.integer({ min: -5, max: 5 }), { minLength: n, maxLength: n })),
        (u) => {
          const n = u.length;
          const a = fromMatrix(u.map((ui) => u.map((uj) => ui * uj)));
          const r = choleskyWithJitter(a, n, { component: 2 });
          const mean = u.reduce((s, v) => s + v * v, 0) / n;
          const s = mean > 0 ? mean : 1;
          expect(r.jitter).toBeGreaterThan(0);
          expect(r.jitter).toBeLessThanOrEqual(1e-2 * s);
          const shifted = Float64Array.from(a);
          for (let i = 0; i < n; i++) shifted[i * n + i] = shifted[i * n + i]! + r.jitter;
          expect(maxAbsDiff(naiveMul(r.L, transpose(r.L, n), n), shifted)).toBeLessThanOrEqual(1e-12 * Math.max(1, maxAbs(a)));
          expect(Number.isFinite(r.logDet)).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('escalates ×10 until it works, and respects maxJitter', () => {
    const a = fromMatrix([
      [-1e-3, 0],
      [0, 1],
    ]);
    const s = (1e-3 + 1) / 2;
    const r = choleskyWithJitter(a, 2);
    expect(r.jitter).toBeCloseTo(1e-2 * s, 15);
    expect(() => choleskyWithJitter(a, 2, { maxJitter: 1e-4 })).toThrow(EmError);
    // A maxJitter off the ×10 grid is still tried exactly.
    expect(choleskyWithJitter(a, 2, { maxJitter: 2e-3 }).jitter).toBe(2e-3);
  });

  function expectNpd(fn: () => unknown): EmError {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(EmError);
      const err = e as EmError;
      expect(err.code).toBe('NOT_POSITIVE_DEFINITE');
      expect(err.message).toContain('Remedy:');
      return err;
    }
    throw new Error('expected a NOT_POSITIVE_DEFINITE EmError');
  }

  it('throws NOT_POSITIVE_DEFINITE naming the component for a negative-definite matrix', () => {
    const a = Float64Array.from([-1, 0, 0, 0, -2, 0, 0, 0, -3]);
    const err = expectNpd(() => choleskyWithJitter(a, 3, { component: 3 }));
    expect(err.message).toContain('component 3');
    expect(err.message).toContain('covariance of component 3 is not positive definite even after adding 0.02');
    expect(err.message).toContain('increase regCovar');
    expect(err.path).toEqual(['covariances', 3]);
    expect(err.value).toEqual(toMatrix(a, 3));
  });

  it('throws NOT_POSITIVE_DEFINITE for a NaN or infinite entry', () => {
    const a = Float64Array.from([1, NaN, NaN, 1]);
    const err = expectNpd(() => choleskyWithJitter(a, 2, { component: 3 }));
    expect(err.message).toContain('component 3');
    const b = Float64Array.from([Infinity, 0, 0, 1]);
    expectNpd(() => choleskyWithJitter(b, 2, { component: 0 }));
  });

  it('omits the component when none is given and honours what and path', () => {
    const a = Float64Array.from([-1]);
    const err = expectNpd(() => choleskyWithJitter(a, 1, { what: 'precision', path: ['params', 'precision'] }));
    expect(err.message).not.toMatch(/of component \d/);
    expect(err.message).toContain('precision is not positive definite');
    expect(err.path).toEqual(['params', 'precision']);
  });

  it('rejects a bad maxJitter or a size mismatch with INVALID_ARGUMENT', () => {
    expect(() => choleskyWithJitter(identity(2), 2, { maxJitter: -1 })).toThrow(/maxJitter/);
    try {
      cholesky(new Float64Array(3), 2);
      expect.unreachable();
    } catch (e) {
      expect((e as EmError).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('choleskyBatch', () => {
  it('factors each matrix and names the failing index', () => {
    const good = fromMatrix([
      [4, 2],
      [2, 3],
    ]);
    const res = choleskyBatch([good, identity(2)], 2);
    expect(res).toHaveLength(2);
    expect(res[0]!.logDet).toBeCloseTo(Math.log(8), 12);
    expect(res[1]!.logDet).toBe(0);
    const bad = fromMatrix([
      [1, 2],
      [2, 1],
    ]);
    try {
      choleskyBatch([good, bad], 2, { what: 'scatter matrix' });
      expect.unreachable();
    } catch (e) {
      const err = e as EmError;
      expect(err.code).toBe('NOT_POSITIVE_DEFINITE');
      expect(err.message).toContain('scatter matrix of component 1');
      expect(err.path).toEqual(['covariances', 1]);
    }
  });
});

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

describe('helpers', () => {
  it('cholesky reads only the lower triangle and rejects zero / negative pivots', () => {
    const full = fromMatrix([
      [4, 2, 0],
      [2, 5, 1],
      [0, 1, 3],
    ]);
    const lowerOnly = Float64Array.from(full);
    lowerOnly[1] = NaN;
    lowerOnly[2] = 99;
    lowerOnly[5] = -7;
    expect(Array.from(cholesky(lowerOnly, 3)!)).toEqual(Array.from(cholesky(full, 3)!));
    expect(cholesky(Float64Array.from([0]), 1)).toBeNull();
    expect(cholesky(Float64Array.from([-1]), 1)).toBeNull();
    expect(cholesky(Float64Array.from([NaN]), 1)).toBeNull();
    expect(cholesky(new Float64Array(0), 0)).toEqual(new Float64Array(0));
  });

  it('matMul, transpose, symmetrize and identity', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.array(entry, { minLength: n * n, maxLength: n * n }),
            fc.array(entry, { minLength: n * n, maxLength: n * n }),
          ),
        ),
        ([n, ra, rb]) => {
          const a = Float64Array.from(ra);
          const b = Float64Array.from(rb);
          expect(maxAbsDiff(matMul(a, b, n), naiveMul(a, b, n))).toBeLessThanOrEqual(1e-14 * n);
          expect(maxAbsDiff(matMul(a, identity(n), n), a)).toBe(0);
          expect(Array.from(transpose(transpose(a, n), n))).toEqual(Array.from(a));
          const s = symmetrize(a, n);
          expect(Array.from(s)).toEqual(Array.from(transpose(s, n)));
          for (let i = 0; i < n; i++)
            for (let j = 0; j < n; j++) expect(s[i * n + j]).toBeCloseTo((a[i * n + j]! + a[j * n + i]!) / 2, 15);
        },
      ),
      RUNS,
    );
  });

  it('toMatrix / fromMatrix round-trip and fromMatrix rejects non-square input', () => {
    const m = [
      [1, 2],
      [3, 4],
    ];
    expect(toMatrix(fromMatrix(m), 2)).toEqual(m);
    expect(Array.from(fromMatrix(m))).toEqual([1, 2, 3, 4]);
    expect(fromMatrix([])).toEqual(new Float64Array(0));
    try {
      fromMatrix([[1, 2], [3]]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EmError);
      expect((e as EmError).code).toBe('INVALID_ARGUMENT');
      expect((e as EmError).path).toEqual(['matrix']);
    }
    expect(() => fromMatrix([[1, 2, 3]])).toThrow(EmError);
  });
});
