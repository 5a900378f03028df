/**
 * Standard-error machinery: numerical Hessian and Jacobian (central differences
 * with Richardson extrapolation) against analytic derivatives, the delta method
 * against its closed form, and Louis' identity against the Hessian of
 * closed-form observed-data log-likelihoods (a bivariate normal with missing
 * entries, a mixture of two Poissons, a Poisson sample with missing counts).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { EmError } from '../src/errors.js';
import { createRng } from '../src/rng.js';
import type { Rng } from '../src/rng.js';
import { numericalHessian } from '../src/standard-errors/numerical-hessian.js';
import { numericalJacobian } from '../src/standard-errors/numerical-jacobian.js';
import { deltaMethod } from '../src/standard-errors/delta-method.js';
import { louisInformation } from '../src/standard-errors/louis-information.js';
import { covarianceFromInformation } from '../src/standard-errors/covariance-from-information.js';

const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
/** max |a − b| relative to max(1, max |b|). */
const relErr = (a: ArrayLike<number>, b: ArrayLike<number>): number => maxDiff(a, b) / Math.max(1, maxAbs(b));

// ---------------------------------------------------------------------------
// numericalHessian and numericalJacobian
// ---------------------------------------------------------------------------

describe('numericalHessian', () => {
  it('recovers the matrix of random quadratics ½xᵀQx + cᵀx + d to 1e-7, at small and large |x|', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 1e6 }),
        fc.constantFrom(1e-3, 1, 1e3),
        (p, seed, scale) => {
          const rng = createRng(seed).child('quadratic');
          const Q = new Float64Array(p * p);
          for (let i = 0; i < p; i++) {
            for (let j = 0; j <= i; j++) {
              const v = 10 * rng.normal();
              Q[i * p + j] = v;
              Q[j * p + i] = v;
            }
          }
          const c = Float64Array.from({ length: p }, () => rng.normal());
          const d = rng.normal();
          const f = (x: Float64Array): number => {
            let s = d;
            for (let i = 0; i < p; i++) {
              s += c[i]! * x[i]!;
              for (let j = 0; j < p; j++) s += 0.5 * x[i]! * Q[i * p + j]! * x[j]!;
            }
            return s;
          };
          const x = Float64Array.from({ length: p }, () => scale * rng.normal());
          // Coordinates of size ~1e3 with one of them near 0 by chance need their typical size
          // (rounding error ε|f|/h² with |f| ~ 1e8), which is what typicalSize is for.
          const H = numericalHessian(f, x, scale > 1 ? { typicalSize: scale } : {});
          // Symmetric by construction, and Q to 1e-7 relative.
          for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) if (H[i * p + j] !== H[j * p + i]) return false;
          return relErr(H, Q) <= 1e-7;
        },
      ),
      { numRuns: 150 },
    );
  });

  it('matches the analytic Hessian of a normal log-likelihood in (μ, log σ) to 1e-7', () => {
    const rng = createRng(11).child('normal-sample');
    const xs = Float64Array.from({ length: 50 }, () => 3 + 2 * rng.normal());
    const n = xs.length;
    // ℓ(μ, s) = −n/2 log 2π − n s − Σ (x − μ)² e^{−2s} / 2.
    const ll = (t: Float64Array): number => {
      const [mu, s] = [t[0]!, t[1]!];
      let ss = 0;
      for (const x of xs) ss += (x - mu) ** 2;
      return -0.5 * n * Math.log(2 * Math.PI) - n * s - 0.5 * ss * Math.exp(-2 * s);
    };
    // ∂²/∂μ² = −n e^{−2s}; ∂²/∂μ∂s = −2 Σ(x − μ) e^{−2s}; ∂²/∂s² = −2 Σ(x − μ)² e^{−2s}.
    const analytic = (mu: number, s: number): Float64Array => {
      let s1 = 0;
      let s2 = 0;
      for (const x of xs) {
        s1 += x - mu;
        s2 += (x - mu) ** 2;
      }
      const e = Math.exp(-2 * s);
      return Float64Array.of(-n * e, -2 * s1 * e, -2 * s1 * e, -2 * s2 * e);
    };
    for (const [mu, s] of [
      [3, Math.log(2)],
      [2.5, 0.3],
      [-1, -0.7],
      [10, 2],
      [0, 0],
    ] as const) {
      const H = numericalHessian(ll, Float64Array.of(mu, s));
      console.info(`normal log-likelihood at (${mu}, ${s}): relative error ${relErr(H, analytic(mu, s)).toExponential(2)}`);
      expect(relErr(H, analytic(mu, s)), `at (${mu}, ${s})`).toBeLessThanOrEqual(1e-7);
    }
  });

  it('rejects bad points, bad options and functions that leave their domain', () => {
    const f = (x: Float64Array): number => Math.log(x[0]!);
    expect(() => numericalHessian(f, Float64Array.of(Number.NaN))).toThrow(EmError);
    expect(() => numericalHessian(f, new Float64Array(0))).toThrow(EmError);
    expect(() => numericalHessian(f, Float64Array.of(1), { richardsonSteps: 0 })).toThrow(/richardsonSteps/);
    expect(() => numericalHessian(f, Float64Array.of(1), { reduction: 1 })).toThrow(/reduction/);
    expect(() => numericalHessian(f, Float64Array.of(1), { relativeStep: -1 })).toThrow(/relativeStep/);
    expect(() => numericalHessian(f, Float64Array.of(1), { typicalSize: Float64Array.of(1, 2) })).toThrow(/typicalSize/);
    expect(() => numericalHessian(f, Float64Array.of(1), { typicalSize: Float64Array.of(0) })).toThrow(/typicalSize/);
    // log of a negative number at x − h with h = 2·max(|x|, 1).
    try {
      numericalHessian(f, Float64Array.of(1), { relativeStep: 2 });
      expect.unreachable();
    } catch (e) {
      expect((e as EmError).code).toBe('INVALID_ARGUMENT');
      expect((e as EmError).path).toEqual(['f']);
    }
  });
});

describe('numericalJacobian', () => {
  it('matches analytic Jacobians to 1e-8', () => {
    const g = (x: Float64Array): number[] => [x[0]! * x[1]!, Math.sin(x[0]!), Math.exp(x[1]!) * x[2]!, x[2]! ** 2];
    const J = (x: Float64Array): number[] => [
      x[1]!, x[0]!, 0,
      Math.cos(x[0]!), 0, 0,
      0, Math.exp(x[1]!) * x[2]!, Math.exp(x[1]!),
      0, 0, 2 * x[2]!,
    ];
    for (const x of [Float64Array.of(0.3, -1.2, 2), Float64Array.of(5, 0.1, -0.01), Float64Array.of(0, 0, 0)]) {
      expect(relErr(numericalJacobian(g, x), J(x))).toBeLessThanOrEqual(1e-8);
    }
    // Softmax of K = 3 logits: ∂p_i/∂η_j = p_i (δ_ij − p_j).
    const softmax = (eta: Float64Array): Float64Array => {
      const m = Math.max(...eta);
      const e = eta.map((v) => Math.exp(v - m));
      const z = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / z);
    };
    const eta = Float64Array.of(0.2, -1, 1.5);
    const p = softmax(eta);
    const Js = Float64Array.from({ length: 9 }, (_, k) => {
      const [i, j] = [Math.floor(k / 3), k % 3];
      return p[i]! * ((i === j ? 1 : 0) - p[j]!);
    });
    expect(relErr(numericalJacobian(softmax, eta), Js)).toBeLessThanOrEqual(1e-8);
  });

  it('rejects outputs that change length or are not finite', () => {
    expect(() => numericalJacobian((x) => (x[0]! > 1 ? [1, 2] : [1]), Float64Array.of(1))).toThrow(EmError);
    expect(() => numericalJacobian((x) => [Math.sqrt(x[0]!)], Float64Array.of(0))).toThrow(/finite/);
  });
});

// ---------------------------------------------------------------------------
// Delta method
// ---------------------------------------------------------------------------

describe('deltaMethod', () => {
  it('equals the closed form for g(θ) = (exp θ₀, θ₀θ₁) and a linear map', () => {
    const theta = Float64Array.of(0.3, -1.2);
    const S = Float64Array.of(0.04, 0.01, 0.01, 0.09);
    const [a, b] = [theta[0]!, theta[1]!];
    const [s11, s12, s22] = [S[0]!, S[1]!, S[3]!];
    const J = Float64Array.of(Math.exp(a), 0, b, a);
    // Var e^a = e^{2a} s11; Var ab = b² s11 + 2ab s12 + a² s22; Cov = e^a (b s11 + a s12).
    const expected = Float64Array.of(
      Math.exp(2 * a) * s11,
      Math.exp(a) * (b * s11 + a * s12),
      Math.exp(a) * (b * s11 + a * s12),
      b * b * s11 + 2 * a * b * s12 + a * a * s22,
    );
    const r = deltaMethod(S, J);
    expect(maxDiff(r.covariance, expected)).toBeLessThanOrEqual(1e-15);
    expect(maxDiff(r.standardErrors, [Math.sqrt(expected[0]!), Math.sqrt(expected[3]!)])).toBeLessThanOrEqual(1e-15);
    expect(r.covariance[1]).toBe(r.covariance[2]);
    // With the numerical Jacobian.
    const Jn = numericalJacobian((t) => [Math.exp(t[0]!), t[0]! * t[1]!], theta);
    expect(relErr(deltaMethod(S, Jn).covariance, expected)).toBeLessThanOrEqual(1e-9);

    // g(θ) = Bθ: Cov = B Σ Bᵀ exactly (3 outputs of 2 parameters), by explicit sums.
    const B = Float64Array.of(1, 2, -1, 0.5, 3, 3);
    const BSBt = new Float64Array(9);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 2; k++) for (let l = 0; l < 2; l++) s += B[i * 2 + k]! * S[k * 2 + l]! * B[j * 2 + l]!;
        BSBt[i * 3 + j] = s;
      }
    expect(maxDiff(deltaMethod(S, B).covariance, BSBt)).toBeLessThanOrEqual(1e-15);
  });

  it('rejects shape mismatches', () => {
    expect(() => deltaMethod(Float64Array.of(1, 0, 0), Float64Array.of(1))).toThrow(/cov/);
    expect(() => deltaMethod(Float64Array.of(1, 0, 0, 1), Float64Array.of(1, 2, 3))).toThrow(/jacobian/);
  });
});

// ---------------------------------------------------------------------------
// covarianceFromInformation
// ---------------------------------------------------------------------------

describe('covarianceFromInformation', () => {
  it('inverts a positive definite information matrix', () => {
    const I = Float64Array.of(4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2);
    const { covariance, standardErrors } = covarianceFromInformation(I);
    const prod = new Float64Array(9);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) prod[i * 3 + j] = prod[i * 3 + j]! + I[i * 3 + k]! * covariance[k * 3 + j]!;
    expect(maxDiff(prod, [1, 0, 0, 0, 1, 0, 0, 0, 1])).toBeLessThan(1e-14);
    expect(maxDiff(standardErrors, [0, 4, 8].map((k) => Math.sqrt(covariance[k]!)))).toBe(0);
  });

  it('names the first parameter at which the Cholesky factorization fails', () => {
    const cases: [number[], number][] = [
      [[0], 0],
      [[-1, 0, 0, 1], 0],
      [[1, 2, 2, 1], 1],
      [[1, 1, 1, 1], 1],
      [[4, 2, 0, 2, 2, 0, 0, 0, -1], 2],
      [[1, 0, 0, 0, 1, 0, 0, 0, 0], 2],
    ];
    for (const [m, k] of cases) {
      try {
        covarianceFromInformation(Float64Array.from(m));
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(EmError);
        expect((e as EmError).code).toBe('NOT_POSITIVE_DEFINITE');
        expect((e as EmError).path).toEqual(['information', k]);
        expect((e as EmError).message).toContain(`parameter ${k}`);
      }
    }
    expect(() => covarianceFromInformation(Float64Array.of(1, 2, 3))).toThrow(/square/);
  });
});

// ---------------------------------------------------------------------------
// Louis' identity
// ---------------------------------------------------------------------------

/** Probabilists' Gauss–Hermite rule with 3 nodes: roots of He₃ = x³ − 3x, weights n!/(n² He₂(x)²). Exact to degree 5. */
const GH3 = [-Math.sqrt(3), 0, Math.sqrt(3)].map((x) => ({ x, w: 6 / (9 * (x * x - 1) ** 2) }));

/** A seeded Poisson draw (Knuth's multiplication method). */
function poisson(rng: Rng, lambda: number): number {
  const L = Math.exp(-lambda);
  let k = 0;
  let p = rng.uniform();
  while (p > L) {
    k++;
    p *= rng.uniform();
  }
  return k;
}

const logFactorial = (x: number): number => {
  let s = 0;
  for (let i = 2; i <= x; i++) s += Math.log(i);
  return s;
};

/** Accumulates Σ_n E[s sᵀ], Σ_n E[H] and the per-row E[s] from per-row discrete posteriors. */
class LouisAccumulator {
  readonly hessian: Float64Array;
  readonly outer: Float64Array;
  readonly scores: number[] = [];
  constructor(readonly p: number) {
    this.hessian = new Float64Array(p * p);
    this.outer = new Float64Array(p * p);
  }
  /** One row: weighted points (w, score, hessian) of its posterior. */
  row(points: { w: number; s: ArrayLike<number>; h: ArrayLike<number> }[]): void {
    const p = this.p;
    const mean = new Float64Array(p);
    for (const { w, s, h } of points) {
      for (let i = 0; i < p; i++) {
        mean[i] = mean[i]! + w * s[i]!;
        for (let j = 0; j < p; j++) {
          this.outer[i * p + j] = this.outer[i * p + j]! + w * s[i]! * s[j]!;
          this.hessian[i * p + j] = this.hessian[i * p + j]! + w * h[i * p + j]!;
        }
      }
    }
    this.scores.push(...mean);
  }
  inputs() {
    return { expectedCompleteHessian: this.hessian, expectedScoreOuter: this.outer, expectedScore: Float64Array.from(this.scores) };
  }
}

describe("louisInformation: Louis' identity against the Hessian of the observed-data log-likelihood", () => {
  it('(a) bivariate normal with missing entries, θ = (μ₁, μ₂, Σ₁₁, Σ₁₂, Σ₂₂), to 1e-6', () => {
    // --- 2×2 helpers ---
    type M2 = [number, number, number, number];
    const mul = (A: M2, B: M2): M2 => [A[0] * B[0] + A[1] * B[2], A[0] * B[1] + A[1] * B[3], A[2] * B[0] + A[3] * B[2], A[2] * B[1] + A[3] * B[3]];
    const inv = (A: M2): M2 => {
      const det = A[0] * A[3] - A[1] * A[2];
      return [A[3] / det, -A[1] / det, -A[2] / det, A[0] / det];
    };
    const tr = (A: M2): number => A[0] + A[3];
    const E: M2[] = [
      [1, 0, 0, 0],
      [0, 1, 1, 0],
      [0, 0, 0, 1],
    ]; // ∂Σ/∂Σ₁₁, ∂Σ/∂Σ₁₂, ∂Σ/∂Σ₂₂
    /** log N₂(x | μ, Σ) with its gradient and Hessian in θ (matrix calculus). */
    const complete = (theta: Float64Array, x: [number, number]) => {
      const mu = [theta[0]!, theta[1]!];
      const S: M2 = [theta[2]!, theta[3]!, theta[3]!, theta[4]!];
      const P = inv(S);
      const d = [x[0] - mu[0]!, x[1] - mu[1]!] as const;
      const Pd = [P[0] * d[0] + P[1] * d[1], P[2] * d[0] + P[3] * d[1]] as const;
      const ddt: M2 = [d[0] * d[0], d[0] * d[1], d[1] * d[0], d[1] * d[1]];
      const PddP = mul(mul(P, ddt), P);
      const G: M2 = [PddP[0] - P[0], PddP[1] - P[1], PddP[2] - P[2], PddP[3] - P[3]];
      const logdet = Math.log(S[0] * S[3] - S[1] * S[2]);
      const value = -Math.log(2 * Math.PI) - 0.5 * logdet - 0.5 * (d[0] * Pd[0] + d[1] * Pd[1]);
      // ∂ℓ/∂μ = P d; ∂ℓ/∂θ_s = ½ tr(G E_s).
      const s = [Pd[0], Pd[1], ...E.map((Es) => 0.5 * tr(mul(G, Es)))];
      const h = new Float64Array(25);
      // ∂²/∂μ∂μᵀ = −P.
      h[0] = -P[0];
      h[1] = -P[1];
      h[5] = -P[2];
      h[6] = -P[3];
      E.forEach((Et, t) => {
        // ∂(P d)/∂θ_t = −P E_t P d.
        const PEP = mul(mul(P, Et), P);
        const col = [-(PEP[0] * d[0] + PEP[1] * d[1]), -(PEP[2] * d[0] + PEP[3] * d[1])];
        for (let i = 0; i < 2; i++) {
          h[i * 5 + 2 + t] = col[i]!;
          h[(2 + t) * 5 + i] = col[i]!;
        }
        // ∂G/∂θ_t = −P E_t P d dᵀ P − P d dᵀ P E_t P + P E_t P; ∂²ℓ/∂θ_s∂θ_t = ½ tr(E_s ∂G/∂θ_t).
        const A1 = mul(mul(PEP, ddt), P);
        const A2 = mul(mul(mul(P, ddt), P), mul(Et, P));
        const dG: M2 = [-A1[0] - A2[0] + PEP[0], -A1[1] - A2[1] + PEP[1], -A1[2] - A2[2] + PEP[2], -A1[3] - A2[3] + PEP[3]];
        E.forEach((Es, si) => {
          h[(2 + si) * 5 + 2 + t] = 0.5 * tr(mul(Es, dG));
        });
      });
      return { value, s, h };
    };

    // Data: N = 80 rows; x₂ missing in about 30%, x₁ in about 20%.
    const rng = createRng(21).child('bivariate');
    const rows: [number, number][] = [];
    for (let n = 0; n < 80; n++) {
      const z1 = rng.normal();
      const z2 = rng.normal();
      const x1 = 1 + 1.5 * z1;
      const x2 = -0.5 + 0.8 * (0.6 * z1 + 0.8 * z2);
      const u = rng.uniform();
      rows.push(u < 0.3 ? [x1, Number.NaN] : u < 0.5 ? [Number.NaN, x2] : [x1, x2]);
    }

    // Sanity of the test's own complete-data derivatives (finite differences of the log-density).
    {
      const th = Float64Array.of(0.7, -0.2, 2.1, 0.6, 0.9);
      const x: [number, number] = [1.3, -0.4];
      const c = complete(th, x);
      expect(relErr(numericalJacobian((t) => [complete(t, x).value], th), c.s)).toBeLessThan(1e-8);
      expect(relErr(numericalHessian((t) => complete(t, x).value, th), c.h)).toBeLessThan(1e-7);
    }

    /** Closed-form observed-data log-likelihood: the marginal density of each row's observed entries. */
    const observedLl = (theta: Float64Array): number => {
      let ll = 0;
      for (const [x1, x2] of rows) {
        if (Number.isNaN(x2)) ll += -0.5 * Math.log(2 * Math.PI * theta[2]!) - (x1 - theta[0]!) ** 2 / (2 * theta[2]!);
        else if (Number.isNaN(x1)) ll += -0.5 * Math.log(2 * Math.PI * theta[4]!) - (x2 - theta[1]!) ** 2 / (2 * theta[4]!);
        else ll += complete(theta, [x1, x2]).value;
      }
      return ll;
    };

    /** Louis inputs: posterior of the missing entry is its conditional normal; 3-node Gauss–Hermite is exact here (degree ≤ 4). */
    const louisInputs = (theta: Float64Array) => {
      const acc = new LouisAccumulator(5);
      const [m1, m2, a, b, c] = Array.from(theta) as [number, number, number, number, number];
      for (const [x1, x2] of rows) {
        if (Number.isNaN(x2)) {
          const mean = m2 + (b / a) * (x1 - m1);
          const sd = Math.sqrt(c - (b * b) / a);
          acc.row(GH3.map(({ x, w }) => ({ w, ...complete(theta, [x1, mean + sd * x]) })));
        } else if (Number.isNaN(x1)) {
          const mean = m1 + (b / c) * (x2 - m2);
          const sd = Math.sqrt(a - (b * b) / c);
          acc.row(GH3.map(({ x, w }) => ({ w, ...complete(theta, [mean + sd * x, x2]) })));
        } else {
          acc.row([{ w: 1, ...complete(theta, [x1, x2]) }]);
        }
      }
      return acc.inputs();
    };

    for (const theta of [Float64Array.of(1.1, -0.4, 2.2, 0.6, 0.7), Float64Array.of(0.8, -0.6, 1.8, 0.4, 0.6)]) {
      const louis = louisInformation(louisInputs(theta));
      const reference = numericalHessian(observedLl, theta).map((v) => -v);
      console.info(`bivariate normal: Louis vs −Hessian, relative error ${(maxDiff(louis.information, reference) / maxAbs(reference)).toExponential(2)}`);
      expect(maxDiff(louis.information, reference) / maxAbs(reference)).toBeLessThanOrEqual(1e-6);
      // Standard errors are the square roots of the inverse's diagonal.
      const { covariance } = covarianceFromInformation(reference);
      expect(maxDiff(louis.standardErrors, [0, 6, 12, 18, 24].map((k) => Math.sqrt(covariance[k]!))) / maxAbs(louis.standardErrors)).toBeLessThan(1e-5);
    }
  });

  it('(b) mixture of two Poissons, θ = (logit π, log λ₁, log λ₂), to 1e-6', () => {
    const rng = createRng(5).child('poisson-mixture');
    const xs = Array.from({ length: 200 }, () => poisson(rng, rng.uniform() < 0.4 ? 2 : 7));
    const logPois = (x: number, lambda: number): number => x * Math.log(lambda) - lambda - logFactorial(x);
    const lse = (a: number, b: number): number => Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
    const observedLl = (t: Float64Array): number => {
      const lp1 = -Math.log1p(Math.exp(-t[0]!));
      const lp2 = -Math.log1p(Math.exp(t[0]!));
      let ll = 0;
      for (const x of xs) ll += lse(lp1 + logPois(x, Math.exp(t[1]!)), lp2 + logPois(x, Math.exp(t[2]!)));
      return ll;
    };
    const louisInputs = (t: Float64Array) => {
      const pi1 = 1 / (1 + Math.exp(-t[0]!));
      const [l1, l2] = [Math.exp(t[1]!), Math.exp(t[2]!)];
      const acc = new LouisAccumulator(3);
      for (const x of xs) {
        const a = Math.log(pi1) + logPois(x, l1);
        const b = Math.log(1 - pi1) + logPois(x, l2);
        const r1 = Math.exp(a - lse(a, b));
        // log p(x, z = k) = log π_k + x log λ_k − λ_k − log x!.
        const hEta = -pi1 * (1 - pi1);
        acc.row([
          { w: r1, s: [1 - pi1, x - l1, 0], h: [hEta, 0, 0, 0, -l1, 0, 0, 0, 0] },
          { w: 1 - r1, s: [-pi1, 0, x - l2], h: [hEta, 0, 0, 0, 0, 0, 0, 0, -l2] },
        ]);
      }
      return acc.inputs();
    };
    for (const theta of [Float64Array.of(Math.log(0.45 / 0.55), Math.log(2.3), Math.log(6.5)), Float64Array.of(-0.8, Math.log(1.5), Math.log(8))]) {
      const louis = louisInformation(louisInputs(theta));
      const reference = numericalHessian(observedLl, theta).map((v) => -v);
      console.info(`Poisson mixture: Louis vs −Hessian, relative error ${(maxDiff(louis.information, reference) / maxAbs(reference)).toExponential(2)}`);
      expect(maxDiff(louis.information, reference) / maxAbs(reference)).toBeLessThanOrEqual(1e-6);
    }
  });

  it('(b′) Poisson sample with missing counts: the missing rows carry no information (I = n_obs λ), to 1e-6', () => {
    const rng = createRng(9).child('poisson-missing');
    const lambdaTrue = 3.2;
    const xs = Array.from({ length: 120 }, () => (rng.uniform() < 0.3 ? Number.NaN : poisson(rng, lambdaTrue)));
    const nObs = xs.filter((x) => !Number.isNaN(x)).length;
    const observedLl = (t: Float64Array): number => {
      let ll = 0;
      for (const x of xs) if (!Number.isNaN(x)) ll += x * t[0]! - Math.exp(t[0]!) - logFactorial(x);
      return ll;
    };
    const theta = Float64Array.of(Math.log(2.9));
    const lambda = Math.exp(theta[0]!);
    const acc = new LouisAccumulator(1);
    // Posterior of a missing count is its Poisson(λ) prior, enumerated to k = 60 (tail < 1e-40).
    const prior = Array.from({ length: 61 }, (_, k) => Math.exp(k * Math.log(lambda) - lambda - logFactorial(k)));
    for (const x of xs) {
      if (Number.isNaN(x)) acc.row(prior.map((w, k) => ({ w, s: [k - lambda], h: [-lambda] })));
      else acc.row([{ w: 1, s: [x - lambda], h: [-lambda] }]);
    }
    const louis = louisInformation(acc.inputs());
    const reference = -numericalHessian(observedLl, theta)[0]!;
    expect(Math.abs(louis.information[0]! - reference) / reference).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(louis.information[0]! - nObs * lambda) / (nObs * lambda)).toBeLessThanOrEqual(1e-6);
    expect(louis.standardErrors[0]).toBeCloseTo(1 / Math.sqrt(nObs * lambda), 6);
  });

  it('not positive definite: a NOT_POSITIVE_DEFINITE error naming the parameter, with I as its value', () => {
    try {
      louisInformation({
        expectedCompleteHessian: Float64Array.of(-1, 0, 0, 0, -1, 0, 0, 0, -1),
        expectedScoreOuter: Float64Array.of(0, 0, 0, 0, 2, 0, 0, 0, 0),
        expectedScore: new Float64Array(3),
      });
      expect.unreachable();
    } catch (e) {
      expect((e as EmError).code).toBe('NOT_POSITIVE_DEFINITE');
      expect((e as EmError).path).toEqual(['information', 1]);
      expect((e as EmError).value).toEqual([
        [1, 0, 0],
        [0, -1, 0],
        [0, 0, 1],
      ]);
    }
  });

  it('subtracts the per-row means, not the mean of the sum (the cross terms between rows cancel)', () => {
    // Two rows with opposite posterior means: Σ_n E[s_n] = 0 but Σ_n E[s_n]² = 2.
    const r = louisInformation({
      expectedCompleteHessian: Float64Array.of(-10),
      expectedScoreOuter: Float64Array.of(5),
      expectedScore: Float64Array.of(1, -1),
    });
    expect(r.information[0]).toBe(10 - (5 - 2));
  });

  it('rejects inputs of mismatched shapes', () => {
    const H = new Float64Array(4);
    expect(() => louisInformation({ expectedCompleteHessian: H, expectedScoreOuter: new Float64Array(9), expectedScore: new Float64Array(2) })).toThrow(/expectedScoreOuter/);
    expect(() => louisInformation({ expectedCompleteHessian: H, expectedScoreOuter: H, expectedScore: new Float64Array(3) })).toThrow(/expectedScore/);
    expect(() => louisInformation({ expectedCompleteHessian: new Float64Array(3), expectedScoreOuter: H, expectedScore: H })).toThrow(/expectedCompleteHessian/);
  });
});
