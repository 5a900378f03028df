/**
 * The GLMM M-step against references written in the test.
 *
 * - β objective: recomputed from the model definition (Σ_g Σ_s w_gs log p(y_g | b_gs, β)
 *   for draws; adaptive Simpson of N(b; m, V) log p(y_g | b) for a Gaussian q), 1e-12
 *   relative (draws: the same sums in another order) and 1e-10 (Gaussian: quadrature).
 * - Stationarity: the library's relative gradient ≤ 1e-10, and a central
 *   finite-difference gradient of the test's objective (step 1e-5, error ≈ 1e-10
 *   relative to the terms) ≤ 1e-7 of the gradient scale Σ_i |x_i|(|y_i| + E A′).
 * - Monotone: the objective after k Newton steps never decreases in k, from
 *   near and far starts (fast-check); in the last steps, whose gain is below the
 *   objective's rounding δ = 16 ε Σ|terms|, only to within δ (see betaMStep).
 * - Σ_b: equal to the weighted average of b bᵀ (V + m mᵀ for a Gaussian q) to 1e-14.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng } from '@emlab/core';
import { generateGlmmData } from '../src/glmm/glmm-data.js';
import { groupTargets } from '../src/glmm/glmm-math.js';
import { expectedLogLikelihoodGaussian, laplaceQEStep } from '../src/glmm/laplace-q.js';
import {
  betaMStep,
  betaObjective,
  betaProblem,
  expectedCompleteLogLikelihood,
  expectedLogPriorFromStats,
  glmmMStep,
  glmmSigmaStats,
  ROUNDING_FACTOR,
  sigmaMStep,
  type GlmmDrawsLatent,
  type GlmmGaussianLatent,
} from '../src/glmm/glmm-mstep.js';
import type { GlmmData, GlmmFamily, GlmmParams } from '../src/glmm/glmm-types.js';
import { adaptiveSimpsonRel, refGroup, refLogLikGivenB } from './glmm-reference.js';

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1, Math.abs(b));
}

/** Draws b_gs ~ N(m_g, 2 V_g) around the Laplace q, with random positive weights. */
function makeDraws(data: GlmmData, gq: GlmmGaussianLatent, nDraws: number, seed: number, weighted: boolean): GlmmDrawsLatent {
  const rng = createRng(seed).child('test-draws');
  const { q, nGroups: G } = data;
  const draws = new Float64Array(G * nDraws * q);
  const weights = new Float64Array(G * nDraws);
  for (let g = 0; g < G; g++) {
    for (let s = 0; s < nDraws; s++) {
      const e = [rng.normal(), rng.normal()];
      const V = gq.covs.subarray(g * q * q, (g + 1) * q * q);
      // Cholesky of 2V for q ≤ 2.
      const l11 = Math.sqrt(2 * V[0]!);
      draws[(g * nDraws + s) * q] = gq.means[g * q]! + l11 * e[0]!;
      if (q === 2) {
        const l21 = (2 * V[2]!) / l11;
        const l22 = Math.sqrt(2 * V[3]! - l21 * l21);
        draws[(g * nDraws + s) * q + 1] = gq.means[g * q + 1]! + l21 * e[0]! + l22 * e[1]!;
      }
      weights[g * nDraws + s] = weighted ? 0.1 + rng.uniform() : 1;
    }
  }
  return weighted ? { kind: 'draws', nDraws, draws, weights } : { kind: 'draws', nDraws, draws };
}

/** Σ_g Σ_s w̃_gs log p(y_g | b_gs, β), from the model definition. */
function refDrawsObjective(data: GlmmData, latent: GlmmDrawsLatent, beta: number[]): number {
  const { q, nGroups: G } = data;
  const S = latent.nDraws;
  let total = 0;
  for (let g = 0; g < G; g++) {
    const grp = refGroup(data, g, beta);
    let wsum = 0;
    for (let s = 0; s < S; s++) wsum += latent.weights?.[g * S + s] ?? 1;
    for (let s = 0; s < S; s++) {
      const b = Array.from(latent.draws.subarray((g * S + s) * q, (g * S + s + 1) * q));
      total += ((latent.weights?.[g * S + s] ?? 1) / wsum) * refLogLikGivenB(grp, b);
    }
  }
  return total;
}

function fdGradient(f: (b: number[]) => number, beta: number[], h: number): number[] {
  return beta.map((_, j) => {
    const up = beta.slice();
    const dn = beta.slice();
    up[j]! += h;
    dn[j]! -= h;
    return (f(up) - f(dn)) / (2 * h);
  });
}

const caseArb = fc.record({
  family: fc.constantFrom<GlmmFamily>('poisson', 'logistic'),
  q: fc.constantFrom(1, 2),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  beta0: fc.double({ min: -1, max: 1.5, noNaN: true }),
  beta1: fc.double({ min: -1, max: 1, noNaN: true }),
  beta2: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
  weighted: fc.boolean(),
  farStart: fc.boolean(),
});

function makeCase(c: { family: GlmmFamily; q: number; seed: number; beta0: number; beta1: number; beta2: number; weighted: boolean }) {
  const sigma = c.q === 1 ? [[0.6]] : [[0.6, 0.1], [0.1, 0.3]];
  const gen = generateGlmmData({ family: c.family, beta: [c.beta0, c.beta1, c.beta2], sigma, groupSize: [3, 8], nGroups: 8, seed: c.seed });
  const lq = laplaceQEStep(gen.data, gen.params);
  const gaussian: GlmmGaussianLatent = { kind: 'gaussian', means: lq.means, covs: lq.covs };
  const draws = makeDraws(gen.data, gaussian, 40, c.seed, c.weighted);
  return { ...gen, gaussian, draws };
}

describe('β M-step', () => {
  it('with draws: stationary (library and finite-difference gradients), matches the reference objective, never decreases (fast-check)', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { data, params, draws } = makeCase(c);
        const problem = betaProblem(data, draws);
        const rng = createRng(c.seed).child('start');
        const start = Array.from(params.beta, (b) => b + (c.farStart ? 3 : 0.3) * (2 * rng.uniform() - 1));
        const r = betaMStep(problem, start);
        expect(r.converged).toBe(true);
        expect(r.relativeGradientNorm).toBeLessThanOrEqual(1e-10);
        const beta = Array.from(r.beta);
        const ref = (b: number[]): number => refDrawsObjective(data, draws, b);
        expect(relErr(r.value, ref(beta))).toBeLessThan(1e-12);
        expect(relErr(r.startValue, ref(start))).toBeLessThan(1e-12);
        const o = betaObjective(problem, r.beta);
        const scale = Math.hypot(...o.gradientScale);
        const fd = fdGradient(ref, beta, 1e-5);
        expect(Math.hypot(...fd)).toBeLessThan(1e-7 * scale);
        for (let j = 0; j < beta.length; j++) {
          for (const d of [-1e-3, 1e-3]) {
            const b = beta.slice();
            b[j]! += d;
            expect(ref(b)).toBeLessThanOrEqual(ref(beta));
          }
        }
        // Never decreases: the value after k steps is non-decreasing in k (exactly while steps bring
        // more than the objective's rounding δ = 16 ε Σ|terms|, and to within δ after that).
        let prev = r.startValue;
        let prevBeta: Float64Array = Float64Array.from(start);
        for (let k = 0; k <= 8; k++) {
          const rk = betaMStep(problem, start, { maxIter: k });
          const delta = ROUNDING_FACTOR * Number.EPSILON * betaObjective(problem, prevBeta).valueScale;
          expect(rk.value).toBeGreaterThanOrEqual(prev - delta);
          if (k <= 2) expect(rk.value).toBeGreaterThanOrEqual(prev);
          prev = rk.value;
          prevBeta = rk.beta;
        }
        expect(r.value).toBeGreaterThanOrEqual(r.startValue);
      }),
      { numRuns: 40 },
    );
  });

  it('with a Gaussian q: the objective equals Σ_g E_q log p(y_g | b) (Laplace-q code path and brute force) and the step is stationary', () => {
    for (const family of ['poisson', 'logistic'] as const) {
      const sigma2 = family === 'poisson' ? 0.5 : 4;
      const { data, params } = generateGlmmData({ family, beta: [0.2, 0.7, -0.3], sigma: [[sigma2]], groupSize: [2, 9], nGroups: 10, seed: 31 });
      const lq = laplaceQEStep(data, params);
      const latent: GlmmGaussianLatent = { kind: 'gaussian', means: lq.means, covs: lq.covs };
      const problem = betaProblem(data, latent);
      const beta = [0.1, 0.5, -0.2];
      const value = betaObjective(problem, beta).value;
      // Same expectation through laplace-q.ts at this β (its targets carry x β).
      const targets = groupTargets(data, { beta: Float64Array.from(beta), sigma: params.sigma });
      let viaQ = 0;
      let brute = 0;
      for (let g = 0; g < data.nGroups; g++) {
        const gq = { mean: lq.means.subarray(g, g + 1), cov: lq.covs.subarray(g, g + 1) };
        viaQ += expectedLogLikelihoodGaussian(targets[g]!, gq);
        const m = gq.mean[0]!;
        const v = gq.cov[0]!;
        const sd = Math.sqrt(v);
        const grp = refGroup(data, g, beta);
        brute += adaptiveSimpsonRel((b) => (Math.exp((-0.5 * (b - m) * (b - m)) / v) / Math.sqrt(2 * Math.PI * v)) * refLogLikGivenB(grp, [b]), m - 40 * sd, m + 40 * sd, 1e-14, 50);
      }
      expect(relErr(value, viaQ)).toBeLessThan(1e-12);
      expect(relErr(value, brute)).toBeLessThan(1e-10);

      const r = betaMStep(problem, beta);
      expect(r.converged).toBe(true);
      expect(r.relativeGradientNorm).toBeLessThanOrEqual(1e-10);
      expect(r.value).toBeGreaterThanOrEqual(r.startValue);
    }
  });
});

describe('Σ_b M-step', () => {
  it('equals the weighted average of b bᵀ (draws) and of V + m mᵀ (Gaussian q); the diagonal variant keeps the diagonal', () => {
    for (const q of [1, 2]) {
      const c = makeCase({ family: 'poisson', q, seed: 41, beta0: 0.5, beta1: 0.2, beta2: 0.1, weighted: true });
      const { data, draws, gaussian } = c;
      const G = data.nGroups;
      const S = draws.nDraws;
      const ref = new Float64Array(q * q);
      for (let g = 0; g < G; g++) {
        let wsum = 0;
        for (let s = 0; s < S; s++) wsum += draws.weights![g * S + s]!;
        for (let s = 0; s < S; s++) {
          for (let i = 0; i < q; i++) {
            for (let j = 0; j < q; j++) {
              ref[i * q + j]! += (draws.weights![g * S + s]! / wsum) * draws.draws[(g * S + s) * q + i]! * draws.draws[(g * S + s) * q + j]! / G;
            }
          }
        }
      }
      const full = sigmaMStep(glmmSigmaStats(draws, G, q));
      const diag = sigmaMStep(glmmSigmaStats(draws, G, q), 'diagonal');
      for (let i = 0; i < q * q; i++) {
        expect(relErr(full[i]!, ref[i]!)).toBeLessThan(1e-14);
        const onDiag = Math.floor(i / q) === i % q;
        expect(diag[i]).toBe(onDiag ? full[i] : 0);
      }
      const refG = new Float64Array(q * q);
      for (let g = 0; g < G; g++) {
        for (let i = 0; i < q; i++) {
          for (let j = 0; j < q; j++) refG[i * q + j]! += (gaussian.covs[g * q * q + i * q + j]! + gaussian.means[g * q + i]! * gaussian.means[g * q + j]!) / G;
        }
      }
      const fullG = sigmaMStep(glmmSigmaStats(gaussian, G, q));
      for (let i = 0; i < q * q; i++) expect(relErr(fullG[i]!, refG[i]!)).toBeLessThan(1e-14);
    }
  });

  it('maximizes Σ_g E log N(b_g; 0, Σ_b) among full and among diagonal covariances (fast-check)', () => {
    const c = makeCase({ family: 'logistic', q: 2, seed: 42, beta0: 0, beta1: 0.5, beta2: 0, weighted: false });
    const stats = glmmSigmaStats(c.draws, c.data.nGroups, 2);
    const best = sigmaMStep(stats);
    const bestDiag = sigmaMStep(stats, 'diagonal');
    const top = expectedLogPriorFromStats(stats, best);
    const topDiag = expectedLogPriorFromStats(stats, bestDiag);
    fc.assert(
      fc.property(fc.double({ min: -0.3, max: 0.3, noNaN: true }), fc.double({ min: -0.3, max: 0.3, noNaN: true }), fc.double({ min: -0.3, max: 0.3, noNaN: true }), (a, b, d) => {
        const l11 = Math.sqrt(best[0]!) * (1 + a);
        const l21 = best[2]! / Math.sqrt(best[0]!) + b * 0.1;
        const l22 = Math.sqrt(best[3]! - (best[2]! * best[2]!) / best[0]!) * (1 + d);
        const other = Float64Array.of(l11 * l11, l11 * l21, l11 * l21, l21 * l21 + l22 * l22);
        expect(expectedLogPriorFromStats(stats, other)).toBeLessThanOrEqual(top + 1e-12 * Math.abs(top));
        const otherDiag = Float64Array.of(bestDiag[0]! * (1 + a), 0, 0, bestDiag[3]! * (1 + d));
        expect(expectedLogPriorFromStats(stats, otherDiag)).toBeLessThanOrEqual(topDiag + 1e-12 * Math.abs(topDiag));
      }),
      { numRuns: 100 },
    );
  });
});

describe('the whole M-step', () => {
  it('raises Q(θ) = E_q log p(y, b | θ) and reports it at the new parameters', () => {
    for (const family of ['poisson', 'logistic'] as const) {
      for (const kind of ['draws', 'gaussian'] as const) {
        const c = makeCase({ family, q: 2, seed: 51, beta0: 0.3, beta1: 0.4, beta2: -0.2, weighted: true });
        const latent = kind === 'draws' ? c.draws : c.gaussian;
        const before = expectedCompleteLogLikelihood(c.data, latent, c.params);
        for (const covarianceType of ['full', 'diagonal'] as const) {
          const r = glmmMStep(c.data, latent, c.params, { covarianceType });
          expect(r.expectedCompleteLogLik).toBeGreaterThan(before);
          expect(relErr(r.expectedCompleteLogLik, expectedCompleteLogLikelihood(c.data, latent, r.params))).toBeLessThan(1e-12);
          if (covarianceType === 'diagonal') expect(r.params.sigma[1]).toBe(0);
        }
      }
    }
  });

  it('Laplace-q EM: the M-half of the bound L(q_t, θ) = Q(θ) + H(q_t) never decreases over 8 iterations', () => {
    const { data } = generateGlmmData({ family: 'logistic', beta: [-0.4, 0.8], sigma: [[1.0, 0.2], [0.2, 0.5]], groupSize: [6, 14], nGroups: 25, seed: 52 });
    let params: GlmmParams = { beta: Float64Array.of(0, 0), sigma: Float64Array.of(0.5, 0, 0, 0.5) };
    let starts: Float64Array | undefined;
    for (let t = 0; t < 8; t++) {
      const e = laplaceQEStep(data, params, starts);
      starts = e.means;
      const latent: GlmmGaussianLatent = { kind: 'gaussian', means: e.means, covs: e.covs };
      const boundAfterE = expectedCompleteLogLikelihood(data, latent, params) + e.entropy;
      expect(relErr(boundAfterE, e.bound)).toBeLessThan(1e-12);
      const m = glmmMStep(data, latent, params);
      expect(m.expectedCompleteLogLik + e.entropy).toBeGreaterThanOrEqual(boundAfterE);
      params = { beta: m.params.beta, sigma: m.params.sigma };
    }
  });

  it('rejects malformed latents with the field named', () => {
    const c = makeCase({ family: 'poisson', q: 1, seed: 61, beta0: 0.3, beta1: 0, beta2: 0, weighted: false });
    const G = c.data.nGroups;
    expect(() => glmmSigmaStats({ kind: 'draws', nDraws: 2, draws: new Float64Array(3) }, G, 1)).toThrow(/latent\.draws/);
    expect(() => glmmSigmaStats({ kind: 'draws', nDraws: 0, draws: new Float64Array(0) }, G, 1)).toThrow(/nDraws/);
    expect(() => glmmSigmaStats({ kind: 'draws', nDraws: 1, draws: new Float64Array(G), weights: new Float64Array(G) }, G, 1)).toThrow(/weights/);
    expect(() => glmmSigmaStats({ kind: 'draws', nDraws: 1, draws: new Float64Array(G).fill(Number.NaN) }, G, 1)).toThrow(/finite/);
    expect(() => glmmSigmaStats({ kind: 'gaussian', means: new Float64Array(G), covs: new Float64Array(1) }, G, 1)).toThrow(/covs/);
    expect(() => betaMStep(betaProblem(c.data, c.draws), [0, 0])).toThrow(/betaStart/);
    expect(() => glmmMStep(c.data, { kind: 'draws', nDraws: 1, draws: new Float64Array(G) }, c.params)).toThrow(/singular/);
  });
});
