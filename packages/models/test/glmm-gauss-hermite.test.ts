/**
 * Gauss–Hermite rules and the tridiagonal QL behind them.
 *
 * References are closed forms derived here: the roots of the physicists'
 * Hermite polynomials H_1 … H_5 (quadratics in x²) and the weight formula
 * w_i = 2^(n−1) n! √π / (n² H_{n−1}(x_i)²), and the moments
 * ∫ x^(2m) e^(−x²) dx = Γ(m + ½) = (2m − 1)!! √π / 2^m.
 * Tolerances: 1e-14 relative for nodes and weights of n ≤ 5 (a few roundings
 * in QL, one Newton polish); 1e-13 relative for moments of degree ≤ 2n − 1 up
 * to n = 20 (sums of n terms, the largest of which is ≈ the moment itself).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gaussHermite, MAX_GAUSS_HERMITE_NODES } from '../src/glmm/gauss-hermite.js';
import { symmetricTridiagonalEigen } from '../src/glmm/symmetric-tridiagonal.js';
import { normalExpectationRule, NORMAL_RULE_GH_MAX_SCALE } from '../src/glmm/normal-expectation.js';
import { cumulantDerivatives } from '../src/glmm/glmm-family.js';

const SQRT_PI = Math.sqrt(Math.PI);

/** H_n(x) by the recurrence H_{k+1} = 2x H_k − 2k H_{k−1}. */
function hermite(n: number, x: number): number {
  let prev = 1;
  if (n === 0) return prev;
  let cur = 2 * x;
  for (let k = 1; k < n; k++) [prev, cur] = [cur, 2 * x * cur - 2 * k * prev];
  return cur;
}

function factorial(n: number): number {
  let f = 1;
  for (let k = 2; k <= n; k++) f *= k;
  return f;
}

/** Closed-form roots of H_n, n ≤ 5: H_1 = 2x, H_2 = 4x² − 2, H_3 = 8x³ − 12x, H_4 = 16x⁴ − 48x² + 12, H_5 = 32x⁵ − 160x³ + 120x. */
function closedFormRoots(n: number): number[] {
  const pm = (r: number[]): number[] => [...r.map((v) => -v), ...r].sort((a, b) => a - b);
  switch (n) {
    case 1:
      return [0];
    case 2:
      return pm([Math.sqrt(1 / 2)]);
    case 3:
      return [...pm([Math.sqrt(3 / 2)]), 0].sort((a, b) => a - b);
    case 4: // 16u² − 48u + 12 = 0, u = x²: u = (3 ± √6) / 2.
      return pm([Math.sqrt((3 - Math.sqrt(6)) / 2), Math.sqrt((3 + Math.sqrt(6)) / 2)]);
    case 5: // 32u² − 160u + 120 = 0: u = (5 ± √10) / 2.
      return [...pm([Math.sqrt((5 - Math.sqrt(10)) / 2), Math.sqrt((5 + Math.sqrt(10)) / 2)]), 0].sort((a, b) => a - b);
    default:
      throw new Error('n ≤ 5');
  }
}

/** (2m − 1)!! √π / 2^m = ∫ x^(2m) e^(−x²) dx. */
function evenMoment(m: number): number {
  let df = 1;
  for (let k = 2 * m - 1; k > 1; k -= 2) df *= k;
  return (df * SQRT_PI) / Math.pow(2, m);
}

describe('Gauss–Hermite rules', () => {
  it('n = 1 … 5 match the closed-form roots of H_n and the weight formula', () => {
    for (let n = 1; n <= 5; n++) {
      const rule = gaussHermite(n);
      const roots = closedFormRoots(n);
      for (let i = 0; i < n; i++) {
        const x = roots[i]!;
        const w = (Math.pow(2, n - 1) * factorial(n) * SQRT_PI) / (n * n * hermite(n - 1, x) ** 2);
        expect(Math.abs(rule.nodes[i]! - x)).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(x)));
        expect(Math.abs(rule.weights[i]! - w)).toBeLessThanOrEqual(1e-14 * w);
        expect(Math.abs(rule.logWeights[i]! - Math.log(w))).toBeLessThanOrEqual(1e-14);
        expect(Math.abs(hermite(n, x))).toBeLessThan(1e-12 * Math.pow(2, n));
      }
    }
  });

  it('integrates x^(2m) e^(−x²) exactly for 2m ≤ 2n − 1 and odd powers to 0', () => {
    for (let n = 1; n <= 20; n++) {
      const rule = gaussHermite(n);
      for (let deg = 0; deg <= 2 * n - 1; deg++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += rule.weights[k]! * Math.pow(rule.nodes[k]!, deg);
        if (deg % 2 === 1) expect(Math.abs(s)).toBeLessThanOrEqual(1e-13 * evenMoment(deg >> 1 || 1) + 1e-300);
        else expect(Math.abs(s - evenMoment(deg / 2))).toBeLessThanOrEqual(1e-13 * evenMoment(deg / 2));
      }
      // Degree 2n is not integrated exactly (the rule is Gaussian, not more).
      let s = 0;
      for (let k = 0; k < n; k++) s += rule.weights[k]! * Math.pow(rule.nodes[k]!, 2 * n);
      expect(Math.abs(s - evenMoment(n))).toBeGreaterThan(1e-6 * evenMoment(n));
    }
  });

  it('n = 100: nodes finite, strictly increasing, symmetric; weights positive and summing to √π', () => {
    const rule = gaussHermite(MAX_GAUSS_HERMITE_NODES);
    let sum = 0;
    for (let k = 0; k < 100; k++) {
      expect(Number.isFinite(rule.nodes[k]!)).toBe(true);
      expect(Number.isFinite(rule.logWeights[k]!)).toBe(true);
      expect(rule.weights[k]!).toBeGreaterThan(0);
      if (k > 0) expect(rule.nodes[k]!).toBeGreaterThan(rule.nodes[k - 1]!);
      expect(rule.nodes[k]!).toBe(-rule.nodes[99 - k]!);
      sum += rule.weights[k]!;
    }
    expect(Math.abs(sum - SQRT_PI)).toBeLessThan(1e-14);
    // Every node is a root of H_100: |H_100(x)| small relative to the size of its terms, via the
    // orthonormal recurrence (|p_100(x)| ≤ 1e-10 · sqrt(Σ p_k(x)²)).
    for (let k = 0; k < 100; k++) {
      const x = rule.nodes[k]!;
      let prev = 0;
      let cur = Math.pow(Math.PI, -0.25);
      let sumSq = 0;
      for (let j = 0; j < 100; j++) {
        sumSq += cur * cur;
        [prev, cur] = [cur, (Math.SQRT2 * x * cur - Math.sqrt(j) * prev) / Math.sqrt(j + 1)];
      }
      expect(Math.abs(cur)).toBeLessThan(1e-10 * Math.sqrt(sumSq));
    }
  });

  it('is cached per n and rejects n outside 1 … 100', () => {
    expect(gaussHermite(7)).toBe(gaussHermite(7));
    for (const bad of [0, 101, 2.5, -1, Number.NaN]) expect(() => gaussHermite(bad)).toThrow(/nQuad/);
  });

  it('agrees with the Golub–Welsch weights read off the QL rotations (√π v₁²) where those are accurate', () => {
    for (const n of [6, 15, 40, 100]) {
      const off = Float64Array.from({ length: n - 1 }, (_, k) => Math.sqrt((k + 1) / 2));
      const { values, firstComponents } = symmetricTridiagonalEigen(new Float64Array(n), off);
      const rule = gaussHermite(n);
      for (let k = 0; k < n; k++) {
        expect(Math.abs(values[k]! - rule.nodes[k]!)).toBeLessThan(1e-13 * Math.max(1, Math.abs(rule.nodes[k]!)) * n);
        // QL first components carry absolute error ≈ ε, so compare absolutely.
        expect(Math.abs(SQRT_PI * firstComponents[k]! ** 2 - rule.weights[k]!)).toBeLessThan(1e-14);
      }
    }
  });
});

describe('symmetric tridiagonal QL', () => {
  it('eigenvalues match those of the dense matrix through its characteristic polynomial (fast-check)', () => {
    // Sturm count: the number of eigenvalues below λ is the number of negative pivots of T − λI;
    // each computed eigenvalue λ_k must have exactly k eigenvalues below λ_k − δ and k + 1 below λ_k + δ.
    const sturm = (d: number[], e: number[], lam: number): number => {
      let count = 0;
      let piv = 1;
      for (let i = 0; i < d.length; i++) {
        piv = d[i]! - lam - (i > 0 ? (e[i - 1]! * e[i - 1]!) / piv : 0);
        if (piv === 0) piv = -1e-300;
        if (piv < 0) count++;
      }
      return count;
    };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 24, maxLength: 24 }), (n, vals) => {
        const d = vals.slice(0, n);
        const e = vals.slice(12, 12 + n - 1).map((v) => v + (v >= 0 ? 0.1 : -0.1));
        const { values, firstComponents } = symmetricTridiagonalEigen(d, e);
        let norm = 0;
        for (const v of [...d, ...e]) norm = Math.max(norm, Math.abs(v));
        const delta = 1e-10 * Math.max(1, norm);
        let sumSq = 0;
        for (let k = 0; k < n; k++) {
          expect(sturm(d, e, values[k]! - delta)).toBeLessThanOrEqual(k);
          expect(sturm(d, e, values[k]! + delta)).toBeGreaterThanOrEqual(k + 1);
          sumSq += firstComponents[k]! ** 2;
        }
        // The first row of an orthogonal matrix has unit norm.
        expect(Math.abs(sumSq - 1)).toBeLessThan(1e-12);
        // Trace is preserved.
        const trace = d.reduce((s, v) => s + v, 0);
        expect(Math.abs(values.reduce((s, v) => s + v, 0) - trace)).toBeLessThan(1e-12 * Math.max(1, norm) * n);
      }),
      { numRuns: 200 },
    );
  });
});

describe('normal expectation rules for the logistic cumulant', () => {
  /** Adaptive Simpson on [a, b] to absolute tolerance eps. */
  function adaptiveSimpson(f: (x: number) => number, a: number, b: number, eps: number): number {
    const simpson = (fa: number, fm: number, fb: number, h: number): number => (h / 6) * (fa + 4 * fm + fb);
    const rec = (a0: number, b0: number, fa: number, fm: number, fb: number, whole: number, tol: number, depth: number): number => {
      const m = 0.5 * (a0 + b0);
      const lm = 0.5 * (a0 + m);
      const rm = 0.5 * (m + b0);
      const flm = f(lm);
      const frm = f(rm);
      const left = simpson(fa, flm, fm, m - a0);
      const right = simpson(fm, frm, fb, b0 - m);
      if (depth <= 0 || Math.abs(left + right - whole) <= 15 * tol) return left + right + (left + right - whole) / 15;
      return rec(a0, m, fa, flm, fm, left, tol / 2, depth - 1) + rec(m, b0, fm, frm, fb, right, tol / 2, depth - 1);
    };
    const fa = f(a);
    const fb = f(b);
    const fm = f(0.5 * (a + b));
    return rec(a, b, fa, fm, fb, simpson(fa, fm, fb, b - a), eps, 50);
  }

  it('E A(μ + sZ), E A′, E A″ agree with adaptive Simpson to 1e-11 on both sides of the rule switch', () => {
    const d = new Float64Array(3);
    const phi = (t: number): number => Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
    for (const s of [0.05, 0.5, 1, NORMAL_RULE_GH_MAX_SCALE, NORMAL_RULE_GH_MAX_SCALE + 0.01, 2.5, 4, 8]) {
      for (const mu of [-6, -1, 0, 0.7, 3]) {
        const rule = normalExpectationRule(s);
        for (let j = 0; j < 3; j++) {
          let est = 0;
          for (let k = 0; k < rule.nodes.length; k++) {
            cumulantDerivatives('logistic', mu + s * rule.nodes[k]!, d);
            est += rule.weights[k]! * d[j]!;
          }
          // Two halves of [−12, 12]; beyond ±12 lies < 1e-31 of the normal's mass.
          const f = (t: number): number => {
            cumulantDerivatives('logistic', mu + s * t, d);
            return d[j]! * phi(t);
          };
          const ref = adaptiveSimpson(f, -12, 0, 1e-14) + adaptiveSimpson(f, 0, 12, 1e-14);
          expect(Math.abs(est - ref), `s=${s} mu=${mu} j=${j}`).toBeLessThan(1e-11);
        }
      }
    }
  });
});
