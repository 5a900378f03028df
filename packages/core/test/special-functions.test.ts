/**
 * Special functions against values derived here independently: products and
 * sums of elementary functions for Γ, ψ, ψ₁ at integers and half-integers
 * (Γ(n + ½) = √π Π (k − ½), ψ(n) = −γ + H_{n−1}, ψ₁(n) = π²/6 − Σ 1/k², ...),
 * γ from the Euler–Maclaurin expansion of the harmonic numbers, and the
 * recurrence, duplication and reflection identities over random arguments.
 *
 * Tolerance 1e-14 relative for positive arguments (the implementation is
 * within a few ulp; the references lose at most a few ulp to their own
 * rounding: products of ≤ 60 factors, sums of ≤ 40 terms). Identities are
 * checked to 8 ulp of the sum of the magnitudes of their terms. Negative
 * arguments go through the reflection formulas (sin πx, cos πx) and are
 * checked to 1e-13.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EmError } from '../src/errors.js';
import { EULER_GAMMA, digamma, logBeta, logGamma, multivariateLogGamma, trigamma } from '../src/special-functions.js';

const REL = 1e-14;
const ULP = Number.EPSILON;
/** Arguments in [1e-3, 200] for which x + 1 is exact (so the identities hold for the floats themselves). */
const argument = fc.double({ min: 1e-3, max: 200, noNaN: true }).map((x) => x + 1 - 1);

function expectRel(actual: number, expected: number, tol = REL): void {
  if (expected === 0) {
    expect(actual).toBe(0);
    return;
  }
  const err = Math.abs(actual - expected) / Math.abs(expected);
  if (!(err <= tol)) throw new Error(`relative error ${err} > ${tol}: got ${actual}, expected ${expected}`);
}

/**
 * γ = H_n − log n − 1/(2n) + Σ_{j≥1} B_{2j} / (2j n^{2j}) at n = 10 (Euler–Maclaurin;
 * the first omitted term, B₁₈/(18·10¹⁸), is below 4e-18).
 */
function eulerGammaByEulerMaclaurin(): number {
  const n = 10;
  const bernoulli = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510];
  let h = 0;
  for (let k = 1; k <= n; k++) h += 1 / k;
  let tail = 0;
  bernoulli.forEach((b, i) => {
    const j = i + 1;
    tail += b / (2 * j * Math.pow(n, 2 * j));
  });
  return h - Math.log(n) - 1 / (2 * n) + tail;
}

const GAMMA = eulerGammaByEulerMaclaurin();

describe('the Euler–Mascheroni constant', () => {
  it('EULER_GAMMA agrees with the Euler–Maclaurin value', () => {
    expectRel(EULER_GAMMA, GAMMA, 4 * ULP);
  });
});

describe('logGamma', () => {
  it('at the integers: log (n − 1)! (exactly 0 at 1 and 2)', () => {
    expect(logGamma(1)).toBe(0);
    expect(logGamma(2)).toBe(0);
    let factorial = 1;
    for (let n = 3; n <= 100; n++) {
      factorial *= n - 1;
      expectRel(logGamma(n), Math.log(factorial));
    }
  });

  it('at the half-integers: log(√π Π_{k=1}^{n} (k − ½))', () => {
    let product = Math.sqrt(Math.PI);
    expectRel(logGamma(0.5), Math.log(product));
    for (let n = 1; n <= 60; n++) {
      product *= n - 0.5;
      expectRel(logGamma(n + 0.5), Math.log(product));
    }
  });

  it('recurrence log Γ(x + 1) = log Γ(x) + log x', () => {
    fc.assert(
      fc.property(argument, (x) => {
        const a = logGamma(x + 1);
        const b = logGamma(x);
        const c = Math.log(x);
        expect(Math.abs(a - b - c)).toBeLessThanOrEqual(8 * ULP * (Math.abs(a) + Math.abs(b) + Math.abs(c)));
      }),
      { numRuns: 500 },
    );
  });

  it('Legendre duplication log Γ(x) + log Γ(x + ½) = log Γ(2x) + (1 − 2x) log 2 + ½ log π', () => {
    fc.assert(
      // x + ½ exact, so the identity holds for the floats themselves.
      fc.property(argument.map((x) => x + 0.5 - 0.5), (x) => {
        const terms = [logGamma(x), logGamma(x + 0.5), -logGamma(2 * x), -(1 - 2 * x) * Math.log(2), -0.5 * Math.log(Math.PI)];
        const sum = terms.reduce((s, t) => s + t, 0);
        const scale = terms.reduce((s, t) => s + Math.abs(t), 0);
        expect(Math.abs(sum)).toBeLessThanOrEqual(8 * ULP * scale);
      }),
      { numRuns: 500 },
    );
  });

  it('reflection for x < 0, poles and special inputs', () => {
    // Γ(−½) = −2√π, Γ(−3/2) = 4√π/3.
    expectRel(logGamma(-0.5), Math.log(2 * Math.sqrt(Math.PI)), 1e-13);
    expectRel(logGamma(-1.5), Math.log((4 * Math.sqrt(Math.PI)) / 3), 1e-13);
    for (const pole of [0, -1, -2, -30]) expect(logGamma(pole)).toBe(Number.POSITIVE_INFINITY);
    expect(logGamma(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(logGamma(Number.NaN)).toBeNaN();
  });
});

describe('digamma', () => {
  it('ψ(1) = −γ and ψ(½) = −γ − 2 log 2', () => {
    expectRel(digamma(1), -GAMMA);
    expectRel(digamma(0.5), -GAMMA - 2 * Math.log(2));
  });

  it('at the integers: −γ + H_{n−1}', () => {
    let h = 0;
    for (let n = 2; n <= 40; n++) {
      h += 1 / (n - 1);
      expectRel(digamma(n), -GAMMA + h);
    }
  });

  it('at the half-integers: −γ − 2 log 2 + Σ_{k=1}^{n} 2/(2k − 1)', () => {
    let s = 0;
    for (let n = 1; n <= 40; n++) {
      s += 2 / (2 * n - 1);
      expectRel(digamma(n + 0.5), -GAMMA - 2 * Math.log(2) + s);
    }
  });

  it('recurrence ψ(x + 1) = ψ(x) + 1/x', () => {
    fc.assert(
      fc.property(argument, (x) => {
        const a = digamma(x + 1);
        const b = digamma(x);
        expect(Math.abs(a - b - 1 / x)).toBeLessThanOrEqual(8 * ULP * (Math.abs(a) + Math.abs(b) + 1 / x));
      }),
      { numRuns: 500 },
    );
  });

  it('is the derivative of logGamma (central differences)', () => {
    for (const x of [0.3, 1.7, 4.2, 12.5, 80]) {
      const h = 1e-5 * x;
      const fd = (logGamma(x + h) - logGamma(x - h)) / (2 * h);
      expect(Math.abs(fd - digamma(x))).toBeLessThan(1e-8 * Math.max(1, Math.abs(digamma(x))));
    }
  });

  it('reflection for x < 0 and poles', () => {
    // ψ(−½) = ψ(½) + 2, ψ(−3/2) = ψ(−½) + 2/3 (the recurrence run backwards).
    expectRel(digamma(-0.5), -GAMMA - 2 * Math.log(2) + 2, 1e-13);
    expectRel(digamma(-1.5), -GAMMA - 2 * Math.log(2) + 2 + 2 / 3, 1e-13);
    for (const pole of [0, -1, -7]) expect(digamma(pole)).toBeNaN();
    expect(digamma(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('trigamma', () => {
  const zeta2 = (Math.PI * Math.PI) / 6;

  it('ψ₁(1) = π²/6 and ψ₁(½) = π²/2', () => {
    expectRel(trigamma(1), zeta2);
    expectRel(trigamma(0.5), (Math.PI * Math.PI) / 2);
  });

  // The references subtract a sum from π²/6 or π²/2 (each within 2e-16 relative),
  // which amplifies their rounding by (π²/6)/ψ₁(n) ≤ 16 for n ≤ 10 and by
  // (π²/2)/ψ₁(n + ½) ≤ 20 for n ≤ 4; beyond that the reference itself would
  // miss 1e-14 (the recurrence below covers larger arguments).
  it('at the integers: π²/6 − Σ_{k<n} 1/k², and at the half-integers: π²/2 − 4 Σ_{k≤n} 1/(2k − 1)²', () => {
    let s = 0;
    for (let n = 2; n <= 10; n++) {
      s += 1 / ((n - 1) * (n - 1));
      expectRel(trigamma(n), zeta2 - s);
    }
    let t = 0;
    for (let n = 1; n <= 4; n++) {
      t += 4 / ((2 * n - 1) * (2 * n - 1));
      expectRel(trigamma(n + 0.5), (Math.PI * Math.PI) / 2 - t);
    }
  });

  it('recurrence ψ₁(x) = ψ₁(x + 1) + 1/x²', () => {
    fc.assert(
      fc.property(argument, (x) => {
        const a = trigamma(x);
        const b = trigamma(x + 1);
        expect(Math.abs(a - b - 1 / (x * x))).toBeLessThanOrEqual(8 * ULP * (a + b + 1 / (x * x)));
      }),
      { numRuns: 500 },
    );
  });

  it('is the derivative of digamma (central differences)', () => {
    for (const x of [0.3, 1.7, 4.2, 12.5, 80]) {
      const h = 1e-5 * x;
      const fd = (digamma(x + h) - digamma(x - h)) / (2 * h);
      expect(Math.abs(fd - trigamma(x))).toBeLessThan(1e-7 * trigamma(x));
    }
  });

  it('reflection for x < 0 and poles', () => {
    // ψ₁(−½) = ψ₁(½) + 4.
    expectRel(trigamma(-0.5), (Math.PI * Math.PI) / 2 + 4, 1e-13);
    expect(trigamma(0)).toBe(Number.POSITIVE_INFINITY);
    expect(trigamma(-3)).toBe(Number.POSITIVE_INFINITY);
    expect(trigamma(Number.POSITIVE_INFINITY)).toBe(0);
  });
});

describe('multivariateLogGamma and logBeta', () => {
  it('log Γ_1 = log Γ, log Γ_0 = 0, and log Γ_d(a) = ((d−1)/2) log π + log Γ(a) + log Γ_{d−1}(a − ½)', () => {
    expect(multivariateLogGamma(3.3, 0)).toBe(0);
    expect(multivariateLogGamma(3.3, 1)).toBe(logGamma(3.3));
    for (const d of [2, 3, 5, 8]) {
      for (const a of [(d - 1) / 2 + 0.01, d / 2, d + 0.7, 40]) {
        const rhs = ((d - 1) / 2) * Math.log(Math.PI) + logGamma(a) + multivariateLogGamma(a - 0.5, d - 1);
        const lhs = multivariateLogGamma(a, d);
        expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(16 * ULP * Math.max(1, Math.abs(lhs)));
      }
    }
  });

  it('log Γ_d(a) is NaN for a ≤ (d − 1)/2 and throws INVALID_ARGUMENT for a bad d', () => {
    expect(multivariateLogGamma(1, 3)).toBeNaN();
    for (const d of [-1, 1.5, Number.NaN]) {
      let caught: unknown;
      try {
        multivariateLogGamma(2, d);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(EmError);
      expect((caught as EmError).code).toBe('INVALID_ARGUMENT');
    }
  });

  it('log B(a, b) at integers is log((a−1)!(b−1)!/(a+b−1)!), log B(½, ½) = log π; NaN outside a, b > 0', () => {
    const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
    for (const [a, b] of [[1, 1], [2, 5], [7, 3], [12, 20]] as const) {
      expectRel(logBeta(a, b), Math.log((fact(a - 1) * fact(b - 1)) / fact(a + b - 1)));
    }
    expectRel(logBeta(0.5, 0.5), Math.log(Math.PI));
    expect(logBeta(0, 1)).toBeNaN();
    expect(logBeta(1, -2)).toBeNaN();
  });
});
