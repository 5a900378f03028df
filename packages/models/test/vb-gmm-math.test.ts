/**
 * The variational-Bayes Gaussian-mixture maths (packages/models/src/gmm/vb)
 * against scikit-learn and against closed forms written here.
 *
 * - scikit-learn fixtures (fixtures/vb/generate.py, scikit-learn 1.2.1): from
 *   the same responsibilities, the same alternation of E-step table →
 *   responsibilities → statistics → update for 20 iterations, every
 *   covariance type and both weight priors, on 1-, 2- and 3-D data with
 *   default and custom priors and regCovar 1e-6 and 1e-3. Hyperparameters
 *   agree to 1e-8 relative (covariances and precision Cholesky entries
 *   relative to √(M_ii M_jj)); scikit-learn's lower bound itself to 1e-10
 *   relative and its change per iteration to 1e-8 absolute; the E-step table
 *   to 1e-10 relative (so scikit-learn's `_estimate_weighted_log_prob` keeps
 *   every constant); the full ELBO equals scikit-learn's bound +
 *   sklearnBoundOffset + vbRegCovarPenalty to 1e-12 relative. Observed worst
 *   cases: hyperparameters 1.2e-12, bound 6e-15, bound change 3e-12 absolute,
 *   table 4e-14, ELBO identity 3e-15.
 * - K = 1: q(μ, Λ) is the exact Normal–Wishart posterior (full, tied), so the
 *   ELBO equals the closed-form log marginal likelihood (1e-10 relative); for
 *   diag and spherical it is that minus the Wishart KL divergence of the
 *   restricted q(Λ) from the exact posterior (closed form here too). The
 *   predictive density equals the ratio of marginal likelihoods (1e-10).
 * - Coordinate ascent: the full ELBO never decreases, at the E-step or at the
 *   update (regCovar = 0), and with regCovar > 0 it drops by at most the
 *   change of the regCovar penalty; an update is the argmax within its family
 *   (random perturbations within the family lower the ELBO).
 * - ELBO = scikit-learn's bound + sklearnBoundOffset + vbRegCovarPenalty
 *   after every update (1e-9 relative).
 * - The predictive density integrates to 1 (1-D and 2-D quadrature, 1e-9;
 *   the quadrature error is about 1e-12).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cholesky, createRng, invertLower } from '@emlab/core';
import { catchEmError } from '@emlab/testing';
import { vbPrior } from '../src/gmm/vb/vb-prior.js';
import { vbStatistics } from '../src/gmm/vb/vb-statistics.js';
import { vbUpdate } from '../src/gmm/vb/vb-update.js';
import { vbLogTable, vbResponsibilities } from '../src/gmm/vb/vb-log-table.js';
import { sklearnBoundOffset, sklearnLowerBound, vbElbo, vbRegCovarPenalty } from '../src/gmm/vb/vb-elbo.js';
import { vbExpectedWeights, vbPredictiveLogDensity } from '../src/gmm/vb/vb-predictive.js';
import { VB_COVARIANCE_TYPES, VB_WEIGHT_PRIOR_TYPES } from '../src/gmm/vb/vb-types.js';
import type { VbCovarianceType, VbMatrix, VbPosterior, VbPrior, VbPriorOptions, VbWeightPriorType } from '../src/gmm/vb/vb-types.js';

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

type Nested = number | Nested[];

function flat(a: Nested): number[] {
  return Array.isArray(a) ? a.flatMap(flat) : [a];
}

function matrix(rows: number[][]): VbMatrix {
  return { values: Float64Array.from(rows.flat()), rows: rows.length, cols: rows[0]?.length ?? 0 };
}

/** max_i |a_i − e_i| / max(|e_i|, floor_i). */
function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>, floor: (i: number) => number = () => 0): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number;
    const a = actual[i] as number;
    const scale = Math.max(Math.abs(e), floor(i));
    const err = scale === 0 ? Math.abs(a) : Math.abs(a - e) / scale;
    worst = Math.max(worst, Number.isNaN(err) ? Number.POSITIVE_INFINITY : err);
  }
  return worst;
}

/** Floor √(|M_ii M_jj|) for the entries of K stacked D×D matrices. */
function matrixFloor(m: ArrayLike<number>, d: number): (i: number) => number {
  return (e) => {
    const c = Math.floor(e / (d * d));
    const i = Math.floor((e % (d * d)) / d);
    const j = e % d;
    return Math.sqrt(Math.abs((m[c * d * d + i * d + i] as number) * (m[c * d * d + j * d + j] as number)));
  };
}

/** scikit-learn's type-specific covariances_ / precisions_cholesky_ as K full D×D matrices. */
function expandSk(value: Nested, type: VbCovarianceType, k: number, d: number): Float64Array {
  const out = new Float64Array(k * d * d);
  const v = flat(value);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let x = 0;
        if (type === 'full') x = v[c * d * d + i * d + j] as number;
        else if (type === 'tied') x = v[i * d + j] as number;
        else if (i === j) x = type === 'diag' ? (v[c * d + i] as number) : (v[c] as number);
        out[c * d * d + i * d + j] = x;
      }
    }
  }
  return out;
}

/** scikit-learn's covariance_prior_ as a D×D matrix. */
function expandPrior(value: Nested, type: VbCovarianceType, d: number): Float64Array {
  const out = new Float64Array(d * d);
  const v = flat(value);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      if (type === 'full' || type === 'tied') out[i * d + j] = v[i * d + j] as number;
      else if (i === j) out[i * d + j] = type === 'diag' ? (v[i] as number) : (v[0] as number);
    }
  }
  return out;
}

/** log |A| of a symmetric positive definite matrix by Gaussian elimination (no pivoting needed). */
function logDetSpd(a: Float64Array, d: number): number {
  const m = Float64Array.from(a);
  let s = 0;
  for (let p = 0; p < d; p++) {
    const piv = m[p * d + p] as number;
    s += Math.log(piv);
    for (let i = p + 1; i < d; i++) {
      const f = (m[i * d + p] as number) / piv;
      for (let j = p; j < d; j++) m[i * d + j] = (m[i * d + j] as number) - f * (m[p * d + j] as number);
    }
  }
  return s;
}

/** log Γ(m/2) for an integer m ≥ 1, from Γ(1) = 1, Γ(½) = √π and Γ(x + 1) = x Γ(x) (no special functions). */
function logGammaHalfInteger(m: number): number {
  expect(Number.isInteger(m) && m >= 1).toBe(true);
  let s = m % 2 === 0 ? 0 : 0.5 * Math.log(Math.PI);
  for (let x = m % 2 === 0 ? 1 : 0.5; x < m / 2; x += 1) s += Math.log(x);
  return s;
}

/** log Γ_D(a) for 2a an integer. */
function logMvGammaHalfInteger(a: number, d: number): number {
  let s = ((d * (d - 1)) / 4) * Math.log(Math.PI);
  for (let j = 1; j <= d; j++) s += logGammaHalfInteger(2 * a + 1 - j);
  return s;
}

/**
 * Closed-form log marginal likelihood of the Normal–Wishart model (Bishop 2006, ex. 10.x; Murphy 2007 §8):
 * log p(X) = −(ND/2) log π + (D/2) log(β₀/β_N) + (ν₀/2) log|S₀| − (ν_N/2) log|S_N| + log Γ_D(ν_N/2) − log Γ_D(ν₀/2),
 * S_N = S₀ + Σ (x − x̄)(x − x̄)ᵀ + (β₀ N/β_N)(x̄ − m₀)(x̄ − m₀)ᵀ. Needs ν₀ integer.
 */
function normalWishartLogMarginal(x: VbMatrix, m0: Float64Array, beta0: number, nu0: number, s0: Float64Array): { logMl: number; sN: Float64Array; nuN: number } {
  const { rows: n, cols: d, values } = x;
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) mean[i] = (mean[i] as number) + (values[r * d + i] as number) / n;
  const sN = Float64Array.from(s0);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        sN[i * d + j] = (sN[i * d + j] as number) + ((values[r * d + i] as number) - (mean[i] as number)) * ((values[r * d + j] as number) - (mean[j] as number));
      }
    }
  }
  const betaN = beta0 + n;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      sN[i * d + j] = (sN[i * d + j] as number) + ((beta0 * n) / betaN) * ((mean[i] as number) - (m0[i] as number)) * ((mean[j] as number) - (m0[j] as number));
    }
  }
  const nuN = nu0 + n;
  const logMl =
    -0.5 * n * d * Math.log(Math.PI) +
    0.5 * d * Math.log(beta0 / betaN) +
    0.5 * nu0 * logDetSpd(s0, d) -
    0.5 * nuN * logDetSpd(sN, d) +
    logMvGammaHalfInteger(nuN / 2, d) -
    logMvGammaHalfInteger(nu0 / 2, d);
  return { logMl, sN, nuN };
}

/** Data from a seeded stream: K0 random clusters in D dimensions. */
function randomData(seed: number, n: number, d: number): VbMatrix {
  const rng = createRng(seed);
  const k0 = 1 + Math.floor(rng.uniform() * 3);
  const centres = Array.from({ length: k0 }, () => Array.from({ length: d }, () => 4 * rng.normal()));
  const values = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    const c = centres[Math.floor(rng.uniform() * k0)] as number[];
    const scale = 0.5 + rng.uniform();
    for (let i = 0; i < d; i++) values[r * d + i] = (c[i] as number) + scale * rng.normal();
  }
  return { values, rows: n, cols: d };
}

function randomResp(seed: number, n: number, k: number): Float64Array {
  const rng = createRng(seed).child('resp');
  const resp = new Float64Array(n * k);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let c = 0; c < k; c++) {
      const v = -Math.log(rng.uniform() + 1e-300);
      resp[r * k + c] = v;
      s += v;
    }
    for (let c = 0; c < k; c++) resp[r * k + c] = (resp[r * k + c] as number) / s;
  }
  return resp;
}

/** A posterior with given hyperparameters (precision Cholesky recomputed from the covariances). */
function withHyper(p: VbPosterior, change: Partial<Pick<VbPosterior, 'meanPrecision' | 'means' | 'degreesOfFreedom' | 'covariances' | 'weightConcentration'>>): VbPosterior {
  const q = { ...p, ...change };
  const { nComponents: k, nFeatures: d } = p.prior;
  const u = new Float64Array(k * d * d);
  for (let c = 0; c < k; c++) {
    const l = cholesky(q.covariances.slice(c * d * d, (c + 1) * d * d), d) as Float64Array;
    const li = invertLower(l, d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) u[c * d * d + i * d + j] = li[j * d + i] as number;
  }
  return { ...q, precisionsCholesky: u };
}

// ---------------------------------------------------------------------------
// scikit-learn fixtures
// ---------------------------------------------------------------------------

interface SkSnapshot {
  weightConcentration: { alpha?: number[]; beta1?: number[]; beta2?: number[] };
  meanPrecision: number[];
  means: number[][];
  degreesOfFreedom: number[];
  covariances: Nested;
  precisionsCholesky: Nested;
  lowerBound: number | null;
}

interface SkRun {
  covarianceType: VbCovarianceType;
  weightConcentrationPriorType: VbWeightPriorType;
  regCovar: number;
  priorOptions: Record<string, Nested>;
  prior: { weightConcentrationPrior: number; meanPrecisionPrior: number; meanPrior: number[]; degreesOfFreedomPrior: number; covariancePrior: Nested };
  iterations: SkSnapshot[];
  tableHead: Record<string, number[][]>;
}

interface SkFixture {
  name: string;
  nComponents: number;
  x: number[][];
  resp0: number[][];
  runs: SkRun[];
}

const FIXTURES = ['mix1d', 'mix2d', 'mix2d-custom', 'mix3d'].map(
  (name) => JSON.parse(readFileSync(new URL(`./fixtures/vb/${name}.json`, import.meta.url), 'utf8')) as SkFixture,
);

const HYPER_TOL = 1e-8;
const BOUND_REL_TOL = 1e-10;
const BOUND_CHANGE_TOL = 1e-8;
const TABLE_TOL = 1e-10;

function priorOptions(run: SkRun): VbPriorOptions {
  const o = run.priorOptions;
  const out: { -readonly [K in keyof VbPriorOptions]: VbPriorOptions[K] } = { weightConcentrationPriorType: run.weightConcentrationPriorType };
  if (o['weight_concentration_prior'] !== undefined) out.weightConcentrationPrior = o['weight_concentration_prior'] as number;
  if (o['mean_precision_prior'] !== undefined) out.meanPrecisionPrior = o['mean_precision_prior'] as number;
  if (o['mean_prior'] !== undefined) out.meanPrior = flat(o['mean_prior']);
  if (o['degrees_of_freedom_prior'] !== undefined) out.degreesOfFreedomPrior = o['degrees_of_freedom_prior'] as number;
  const cp = o['covariance_prior'];
  if (cp !== undefined) out.covariancePrior = typeof cp === 'number' ? cp : run.covarianceType === 'diag' ? flat(cp) : (cp as number[][]);
  return out;
}

/** Worst relative error of a posterior against a scikit-learn snapshot. */
function snapshotError(p: VbPosterior, s: SkSnapshot, type: VbCovarianceType): Record<string, number> {
  const { nComponents: k, nFeatures: d } = p.prior;
  const w = p.weightConcentration;
  const weights =
    w.type === 'dirichlet_distribution'
      ? relErr(w.alpha, s.weightConcentration.alpha as number[])
      : Math.max(relErr(w.beta1, s.weightConcentration.beta1 as number[]), relErr(w.beta2, s.weightConcentration.beta2 as number[]));
  const dof = type === 'tied' ? new Array<number>(k).fill(s.degreesOfFreedom[0] as number) : s.degreesOfFreedom;
  const cov = expandSk(s.covariances, type, k, d);
  const prec = expandSk(s.precisionsCholesky, type, k, d);
  return {
    weights,
    meanPrecision: relErr(p.meanPrecision, s.meanPrecision),
    means: relErr(p.means, flat(s.means)),
    degreesOfFreedom: relErr(p.degreesOfFreedom, dof),
    covariances: relErr(p.covariances, cov, matrixFloor(cov, d)),
    precisionsCholesky: relErr(p.precisionsCholesky, prec, matrixFloor(prec, d)),
  };
}

describe('against scikit-learn BayesianGaussianMixture (fixtures/vb)', () => {
  for (const fixture of FIXTURES) {
    const x = matrix(fixture.x);
    const k = fixture.nComponents;
    const resp0 = Float64Array.from(fixture.resp0.flat());
    for (const run of fixture.runs) {
      const type = run.covarianceType;
      it(`${fixture.name}, ${type}, ${run.weightConcentrationPriorType}: 20 iterations from the same responsibilities`, () => {
        const prior = vbPrior(x, k, type, priorOptions(run));
        // Priors (defaults from the data, or given).
        expect(prior.weightConcentrationPrior).toBe(run.prior.weightConcentrationPrior);
        expect(prior.meanPrecisionPrior).toBe(run.prior.meanPrecisionPrior);
        expect(prior.degreesOfFreedomPrior).toBe(run.prior.degreesOfFreedomPrior);
        expect(relErr(prior.meanPrior, run.prior.meanPrior)).toBeLessThanOrEqual(1e-12);
        const cp = expandPrior(run.prior.covariancePrior, type, x.cols);
        expect(relErr(prior.covariancePrior, cp, matrixFloor(cp, x.cols))).toBeLessThanOrEqual(1e-12);

        let post = vbUpdate(vbStatistics(x, resp0, k, run.regCovar), prior, type);
        let worst = 0;
        const track = (errors: Record<string, number>, label: string): void => {
          for (const [name, e] of Object.entries(errors)) {
            if (!(e <= HYPER_TOL)) throw new Error(`${label}: ${name} relative error ${e} > ${HYPER_TOL}`);
            worst = Math.max(worst, e);
          }
        };
        track(snapshotError(post, run.iterations[0] as SkSnapshot, type), 'initialization');
        let prevBound: number | undefined;
        for (let t = 1; t < run.iterations.length; t++) {
          const table = vbLogTable(x, post);
          const head = run.tableHead[String(t)];
          if (head !== undefined) {
            const mine = table.subarray(0, head.length * k);
            expect(relErr(mine, head.flat())).toBeLessThanOrEqual(TABLE_TOL);
          }
          const { resp } = vbResponsibilities(table, k);
          post = vbUpdate(vbStatistics(x, resp, k, run.regCovar), prior, type);
          const sk = run.iterations[t] as SkSnapshot;
          track(snapshotError(post, sk, type), `iteration ${t}`);
          const bound = sklearnLowerBound(resp, post);
          const skBound = sk.lowerBound as number;
          expect(Math.abs(bound - skBound)).toBeLessThanOrEqual(BOUND_REL_TOL * Math.abs(skBound));
          if (prevBound !== undefined) {
            const skPrev = (run.iterations[t - 1] as SkSnapshot).lowerBound as number;
            expect(Math.abs(bound - prevBound - (skBound - skPrev))).toBeLessThanOrEqual(BOUND_CHANGE_TOL);
          }
          prevBound = bound;
          // The full ELBO differs from scikit-learn's bound by the documented constant plus the regCovar penalty.
          const elbo = vbElbo(x, resp, post);
          const predicted = bound + sklearnBoundOffset(prior, x.rows) + vbRegCovarPenalty(resp, post, run.regCovar);
          expect(Math.abs(elbo - predicted)).toBeLessThanOrEqual(1e-12 * Math.abs(elbo));
        }
        expect(worst).toBeLessThanOrEqual(HYPER_TOL);
      });
    }
  }
});

// ---------------------------------------------------------------------------
// K = 1: closed forms
// ---------------------------------------------------------------------------

/** Random data, prior mean, β₀, integer ν₀ > D − 1 and an SPD covariance prior. */
const singleCase = fc.record({
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  n: fc.integer({ min: 2, max: 40 }),
  d: fc.integer({ min: 1, max: 3 }),
  beta0: fc.double({ min: 0.05, max: 20, noNaN: true }),
  nuSteps: fc.integer({ min: 1, max: 6 }),
  concentration: fc.double({ min: 0.05, max: 10, noNaN: true }),
});

interface SingleCase {
  seed: number;
  n: number;
  d: number;
  beta0: number;
  nuSteps: number;
  concentration: number;
}

function singleSetup(c: SingleCase, type: VbCovarianceType, weightType: VbWeightPriorType) {
  const x = randomData(c.seed, c.n, c.d);
  const rng = createRng(c.seed).child('prior');
  const d = c.d;
  const m0 = Array.from({ length: d }, () => 3 * rng.normal());
  const nu0 = d - 1 + c.nuSteps;
  let covariancePrior: number | number[] | number[][];
  let s0: Float64Array;
  if (type === 'spherical') {
    const v = 0.2 + 3 * rng.uniform();
    covariancePrior = v;
    s0 = new Float64Array(d * d);
    for (let i = 0; i < d; i++) s0[i * d + i] = v;
  } else if (type === 'diag') {
    const v = Array.from({ length: d }, () => 0.2 + 3 * rng.uniform());
    covariancePrior = v;
    s0 = new Float64Array(d * d);
    for (let i = 0; i < d; i++) s0[i * d + i] = v[i] as number;
  } else {
    const a = Array.from({ length: d * d }, () => rng.normal());
    s0 = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let s = i === j ? 0.5 : 0;
        for (let l = 0; l < d; l++) s += (a[i * d + l] as number) * (a[j * d + l] as number);
        s0[i * d + j] = s;
      }
    }
    covariancePrior = Array.from({ length: d }, (_, i) => Array.from(s0.subarray(i * d, (i + 1) * d)));
  }
  const prior = vbPrior(x, 1, type, {
    weightConcentrationPriorType: weightType,
    weightConcentrationPrior: c.concentration,
    meanPrecisionPrior: c.beta0,
    meanPrior: m0,
    degreesOfFreedomPrior: nu0,
    covariancePrior,
  });
  const resp = new Float64Array(c.n).fill(1);
  const post = vbUpdate(vbStatistics(x, resp, 1, 0), prior, type);
  const ml = normalWishartLogMarginal(x, Float64Array.from(m0), c.beta0, nu0, s0);
  return { x, prior, resp, post, ml, m0, nu0, s0 };
}

/** log B(1 + N, γ)/B(1, γ) = Σ_{j=1}^{N} log(j / (γ + j)): log p(z_1 = … = z_N = 1) under Beta(1, γ) sticks. */
function stickLogEvidence(n: number, gamma: number): number {
  let s = 0;
  for (let j = 1; j <= n; j++) s += Math.log(j / (gamma + j));
  return s;
}

describe('K = 1: the ELBO against the closed-form Normal–Wishart marginal likelihood', () => {
  it('full and tied: ELBO = log p(X) (Dirichlet) and log p(X) + log p(z) (stick-breaking), 1e-10 relative', () => {
    fc.assert(
      fc.property(singleCase, fc.constantFrom<VbCovarianceType>('full', 'tied'), fc.constantFrom(...VB_WEIGHT_PRIOR_TYPES), (c, type, weightType) => {
        const { x, resp, post, ml } = singleSetup(c, type, weightType);
        const expected = ml.logMl + (weightType === 'dirichlet_process' ? stickLogEvidence(c.n, c.concentration) : 0);
        const elbo = vbElbo(x, resp, post);
        expect(Math.abs(elbo - expected)).toBeLessThanOrEqual(1e-10 * Math.abs(expected));
      }),
      { numRuns: 150 },
    );
  });

  it('diag and spherical: ELBO = log p(X) − KL(q(Λ) ‖ p(Λ | X)) with the restricted Wishart scale, 1e-10 relative', () => {
    fc.assert(
      fc.property(singleCase, fc.constantFrom<VbCovarianceType>('diag', 'spherical'), fc.constantFrom(...VB_WEIGHT_PRIOR_TYPES), (c, type, weightType) => {
        const { x, resp, post, ml } = singleSetup(c, type, weightType);
        const d = c.d;
        // q(Λ) = Wishart(V_q, ν_N) with V_q⁻¹ = diag(S_N) or (tr S_N / D) I; p(Λ | X) = Wishart(S_N⁻¹, ν_N).
        // KL = (ν_N/2)(tr(S_N V_q) − D − log |S_N V_q|) = (ν_N/2)(log |V_q⁻¹| − log |S_N|) as tr(S_N V_q) = D.
        let logDetVqInv = 0;
        if (type === 'diag') {
          for (let i = 0; i < d; i++) logDetVqInv += Math.log(ml.sN[i * d + i] as number);
        } else {
          let tr = 0;
          for (let i = 0; i < d; i++) tr += ml.sN[i * d + i] as number;
          logDetVqInv = d * Math.log(tr / d);
        }
        const kl = 0.5 * ml.nuN * (logDetVqInv - logDetSpd(ml.sN, d));
        expect(kl).toBeGreaterThanOrEqual(-1e-12 * Math.abs(ml.logMl));
        const expected = ml.logMl - kl + (weightType === 'dirichlet_process' ? stickLogEvidence(c.n, c.concentration) : 0);
        const elbo = vbElbo(x, resp, post);
        expect(Math.abs(elbo - expected)).toBeLessThanOrEqual(1e-10 * Math.abs(expected));
      }),
      { numRuns: 150 },
    );
  });

  it('the predictive density is the ratio of marginal likelihoods (plus the stick remainder on the prior predictive), 1e-10 relative', () => {
    fc.assert(
      fc.property(singleCase, fc.constantFrom(...VB_WEIGHT_PRIOR_TYPES), fc.integer({ min: 0, max: 1000 }), (c, weightType, pointSeed) => {
        const { x, post, ml, m0, nu0, s0 } = singleSetup(c, 'full', weightType);
        const rng = createRng(pointSeed).child('point');
        const point = Array.from({ length: c.d }, (_, i) => (x.values[i] as number) + 2 * rng.normal());
        const withPoint: VbMatrix = { values: Float64Array.from([...x.values, ...point]), rows: c.n + 1, cols: c.d };
        const single: VbMatrix = { values: Float64Array.from(point), rows: 1, cols: c.d };
        const logRatio = normalWishartLogMarginal(withPoint, Float64Array.from(m0), c.beta0, nu0, s0).logMl - ml.logMl;
        let expected = logRatio;
        if (weightType === 'dirichlet_process') {
          // p(z* = 1 | z) = (1 + N)/(1 + N + γ); otherwise a new component drawn from the prior.
          const stay = (1 + c.n) / (1 + c.n + c.concentration);
          const logPriorPredictive = normalWishartLogMarginal(single, Float64Array.from(m0), c.beta0, nu0, s0).logMl;
          expected = Math.log(stay * Math.exp(logRatio) + (1 - stay) * Math.exp(logPriorPredictive));
        }
        const got = vbPredictiveLogDensity(single, post)[0] as number;
        expect(Math.abs(got - expected)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(expected)));
      }),
      { numRuns: 150 },
    );
  });
});

// ---------------------------------------------------------------------------
// Coordinate ascent
// ---------------------------------------------------------------------------

const ascentCase = fc.record({
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  n: fc.integer({ min: 5, max: 40 }),
  d: fc.integer({ min: 1, max: 3 }),
  k: fc.integer({ min: 1, max: 4 }),
  type: fc.constantFrom(...VB_COVARIANCE_TYPES),
  weightType: fc.constantFrom(...VB_WEIGHT_PRIOR_TYPES),
});

function ascentSetup(c: { seed: number; n: number; d: number; k: number; type: VbCovarianceType; weightType: VbWeightPriorType }): { x: VbMatrix; prior: VbPrior; resp: Float64Array } {
  const x = randomData(c.seed, c.n, c.d);
  return { x, prior: vbPrior(x, c.k, c.type, { weightConcentrationPriorType: c.weightType }), resp: randomResp(c.seed, c.n, c.k) };
}

/** Slack for rounding in a sum of ~N·K terms of the size of the bound. */
const slack = (l: number): number => 1e-10 * Math.max(1, Math.abs(l));

describe('coordinate ascent on the full ELBO', () => {
  it('never decreases at the E-step or the update (regCovar = 0), and equals scikit-learn bound + offset after each update', () => {
    fc.assert(
      fc.property(ascentCase, (c) => {
        const { x, prior, resp: resp0 } = ascentSetup(c);
        let resp = resp0;
        let post = vbUpdate(vbStatistics(x, resp, c.k, 0), prior, c.type);
        let bound = vbElbo(x, resp, post);
        for (let t = 0; t < 6; t++) {
          resp = vbResponsibilities(vbLogTable(x, post), c.k).resp;
          const afterE = vbElbo(x, resp, post);
          expect(afterE).toBeGreaterThanOrEqual(bound - slack(bound));
          post = vbUpdate(vbStatistics(x, resp, c.k, 0), prior, c.type);
          const afterM = vbElbo(x, resp, post);
          expect(afterM).toBeGreaterThanOrEqual(afterE - slack(afterE));
          const sk = sklearnLowerBound(resp, post) + sklearnBoundOffset(prior, c.n);
          expect(Math.abs(afterM - sk)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(afterM)));
          bound = afterM;
        }
      }),
      { numRuns: 120 },
    );
  });

  it('with regCovar > 0 an update lowers it by at most the drop of the regCovar penalty, and ELBO = bound + offset + penalty', () => {
    fc.assert(
      fc.property(ascentCase, fc.double({ min: 1e-3, max: 1, noNaN: true }), (c, reg) => {
        const { x, prior, resp: resp0 } = ascentSetup(c);
        let resp = resp0;
        let post = vbUpdate(vbStatistics(x, resp, c.k, reg), prior, c.type);
        for (let t = 0; t < 4; t++) {
          resp = vbResponsibilities(vbLogTable(x, post), c.k).resp;
          const before = vbElbo(x, resp, post);
          const penaltyBefore = vbRegCovarPenalty(resp, post, reg);
          post = vbUpdate(vbStatistics(x, resp, c.k, reg), prior, c.type);
          const after = vbElbo(x, resp, post);
          const penaltyAfter = vbRegCovarPenalty(resp, post, reg);
          expect(after - before).toBeGreaterThanOrEqual(penaltyAfter - penaltyBefore - slack(after));
          const predicted = sklearnLowerBound(resp, post) + sklearnBoundOffset(prior, c.n) + penaltyAfter;
          expect(Math.abs(after - predicted)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(after)));
        }
      }),
      { numRuns: 80 },
    );
  });

  it('an update is the argmax within its family: random perturbations of the hyperparameters lower the ELBO', () => {
    fc.assert(
      fc.property(ascentCase, fc.integer({ min: 0, max: 1_000_000 }), (c, pseed) => {
        const { x, prior, resp } = ascentSetup(c);
        const post = vbUpdate(vbStatistics(x, resp, c.k, 0), prior, c.type);
        const best = vbElbo(x, resp, post);
        const rng = createRng(pseed).child('perturb');
        const { nComponents: k, nFeatures: d } = prior;
        const eps = 1e-3;
        const jitter = (v: Float64Array): Float64Array => v.map((a) => a * (1 + eps * rng.normal()));
        // Covariance perturbations that stay in the family: Σ_k ← Σ_k (I + eps·E) symmetrized, restricted by type.
        const covs = post.covariances.slice();
        const sym = new Float64Array(d * d);
        for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) sym[i * d + j] = sym[j * d + i] = eps * rng.normal();
        for (let c2 = 0; c2 < k; c2++) {
          for (let i = 0; i < d; i++) {
            for (let j = 0; j < d; j++) {
              let v = sym[i * d + j] as number;
              if (c.type === 'diag' && i !== j) v = 0;
              if (c.type === 'spherical') v = i === j ? (sym[0] as number) : 0;
              const base = c2 * d * d;
              covs[base + i * d + j] = (covs[base + i * d + j] as number) + v * Math.sqrt((post.covariances[base + i * d + i] as number) * (post.covariances[base + j * d + j] as number));
            }
          }
        }
        const w = post.weightConcentration;
        const tiedNu = c.type === 'tied' ? post.degreesOfFreedom.map(() => (post.degreesOfFreedom[0] as number) * (1 + 1e-3)) : jitter(post.degreesOfFreedom);
        const candidates: VbPosterior[] = [
          withHyper(post, { meanPrecision: jitter(post.meanPrecision) }),
          withHyper(post, { means: post.means.map((m, i) => m + eps * Math.sqrt(post.covariances[Math.floor(i / d) * d * d + (i % d) * (d + 1)] as number) * rng.normal()) }),
          withHyper(post, { degreesOfFreedom: tiedNu }),
          withHyper(post, { covariances: covs }),
          withHyper(post, {
            weightConcentration: w.type === 'dirichlet_distribution' ? { type: w.type, alpha: jitter(w.alpha) } : { type: w.type, beta1: jitter(w.beta1), beta2: jitter(w.beta2) },
          }),
        ];
        for (const q of candidates) expect(vbElbo(x, resp, q)).toBeLessThanOrEqual(best + slack(best));
      }),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------
// Predictive density
// ---------------------------------------------------------------------------

/** Composite Simpson weights on m + 1 points (m even) of [a, b]. */
function simpson(a: number, b: number, m: number): { nodes: Float64Array; weights: Float64Array } {
  const h = (b - a) / m;
  const nodes = new Float64Array(m + 1);
  const weights = new Float64Array(m + 1);
  for (let i = 0; i <= m; i++) {
    nodes[i] = a + i * h;
    weights[i] = (h / 3) * (i === 0 || i === m ? 1 : i % 2 === 1 ? 4 : 2);
  }
  return { nodes, weights };
}

/** A fitted posterior: 10 iterations from random responsibilities. */
function fitted(x: VbMatrix, k: number, type: VbCovarianceType, weightType: VbWeightPriorType, seed: number): VbPosterior {
  const prior = vbPrior(x, k, type, { weightConcentrationPriorType: weightType });
  let post = vbUpdate(vbStatistics(x, randomResp(seed, x.rows, k), k), prior, type);
  for (let t = 0; t < 10; t++) post = vbUpdate(vbStatistics(x, vbResponsibilities(vbLogTable(x, post), k).resp, k), prior, type);
  return post;
}

describe('vbPredictiveLogDensity', () => {
  // x = c + s·tan θ maps (−π/2, π/2) onto ℝ; the Student-t tails (ν' ≥ ν₀ + 1 − D ≥ 1 here) make
  // p(x)·s·sec²θ bounded and smooth, so Simpson's rule converges.
  it('integrates to 1 in 1-D (every type and weight prior; Simpson, 1e-9)', () => {
    const x = matrix(FIXTURES[0]!.x);
    for (const type of VB_COVARIANCE_TYPES) {
      for (const weightType of VB_WEIGHT_PRIOR_TYPES) {
        const post = fitted(x, 3, type, weightType, 7);
        const { nodes, weights } = simpson(-Math.PI / 2 + 1e-9, Math.PI / 2 - 1e-9, 4000);
        const s = 2;
        const pts = nodes.map((t) => 0.5 + s * Math.tan(t));
        const logp = vbPredictiveLogDensity({ values: pts, rows: pts.length, cols: 1 }, post);
        let total = 0;
        for (let i = 0; i < pts.length; i++) total += (weights[i] as number) * Math.exp(logp[i] as number) * s / Math.cos(nodes[i] as number) ** 2;
        expect(Math.abs(total - 1)).toBeLessThanOrEqual(1e-9);
      }
    }
  });

  // In 2-D, polar coordinates about c with r = s·tan ψ: p·r·s·sec²ψ stays bounded as ψ → π/2
  // (it tends to a constant for a bivariate Cauchy tail), so Simpson in ψ and the trapezoidal
  // rule in the angle (periodic) converge. (Cartesian tan-maps in both coordinates are not:
  // p·sec²θ·sec²φ is unbounded towards the corners.)
  it('integrates to 1 in 2-D (every type and weight prior; polar quadrature, 1e-9)', () => {
    const x = matrix(FIXTURES[1]!.x);
    for (const type of VB_COVARIANCE_TYPES) {
      for (const weightType of VB_WEIGHT_PRIOR_TYPES) {
        const post = fitted(x, 4, type, weightType, 11);
        const nAngles = 96;
        const { nodes, weights } = simpson(0, Math.PI / 2 - 1e-9, 800);
        const s = 3;
        const centre = [1.5, 1.5] as const;
        const pts = new Float64Array(nAngles * nodes.length * 2);
        for (let a = 0; a < nAngles; a++) {
          const phi = (2 * Math.PI * a) / nAngles;
          for (let i = 0; i < nodes.length; i++) {
            const r = s * Math.tan(nodes[i] as number);
            pts[(a * nodes.length + i) * 2] = centre[0] + r * Math.cos(phi);
            pts[(a * nodes.length + i) * 2 + 1] = centre[1] + r * Math.sin(phi);
          }
        }
        const logp = vbPredictiveLogDensity({ values: pts, rows: nAngles * nodes.length, cols: 2 }, post);
        let total = 0;
        for (let a = 0; a < nAngles; a++) {
          for (let i = 0; i < nodes.length; i++) {
            const psi = nodes[i] as number;
            const jacobian = (s * Math.tan(psi) * s) / Math.cos(psi) ** 2;
            total += ((2 * Math.PI) / nAngles) * (weights[i] as number) * jacobian * Math.exp(logp[a * nodes.length + i] as number);
          }
        }
        expect(Math.abs(total - 1)).toBeLessThanOrEqual(1e-9);
      }
    }
  });

  it('expected weights sum to 1 (Dirichlet) or to 1 − Π E[1 − v_k] (stick-breaking)', () => {
    const x = matrix(FIXTURES[1]!.x);
    const dir = fitted(x, 4, 'full', 'dirichlet_distribution', 3);
    expect(Math.abs(vbExpectedWeights(dir).reduce((s, v) => s + v, 0) - 1)).toBeLessThanOrEqual(1e-15);
    const dp = fitted(x, 4, 'full', 'dirichlet_process', 3);
    const w = dp.weightConcentration;
    if (w.type !== 'dirichlet_process') throw new Error('expected sticks');
    let rest = 1;
    for (let c = 0; c < 4; c++) rest *= (w.beta2[c] as number) / ((w.beta1[c] as number) + (w.beta2[c] as number));
    expect(Math.abs(vbExpectedWeights(dp).reduce((s, v) => s + v, 0) - (1 - rest))).toBeLessThanOrEqual(1e-15);
  });
});

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

describe('validation: typed errors before any work', () => {
  const x = matrix([[0, 1], [1, 0.5], [2, 2.5], [0.5, -1]]);

  it('vbPrior: defaults, then each bad option named by its path', () => {
    const p = vbPrior(x, 3, 'full');
    expect(p.weightConcentrationPriorType).toBe('dirichlet_process');
    expect(p.weightConcentrationPrior).toBe(1 / 3);
    expect(p.meanPrecisionPrior).toBe(1);
    expect(p.degreesOfFreedomPrior).toBe(2);
    const cases: [() => unknown, string, readonly (string | number)[]][] = [
      [() => vbPrior(x, 0, 'full'), 'INVALID_ARGUMENT', ['nComponents']],
      [() => vbPrior(x, 2, 'banana' as VbCovarianceType), 'INVALID_ARGUMENT', ['covarianceType']],
      [() => vbPrior(x, 2, 'full', { weightConcentrationPriorType: 'dirichlet' as VbWeightPriorType }), 'INVALID_ARGUMENT', ['options', 'weightConcentrationPriorType']],
      [() => vbPrior(x, 2, 'full', { weightConcentrationPrior: 0 }), 'INVALID_ARGUMENT', ['options', 'weightConcentrationPrior']],
      [() => vbPrior(x, 2, 'full', { meanPrecisionPrior: -1 }), 'INVALID_ARGUMENT', ['options', 'meanPrecisionPrior']],
      [() => vbPrior(x, 2, 'full', { degreesOfFreedomPrior: 1 }), 'INVALID_ARGUMENT', ['options', 'degreesOfFreedomPrior']],
      [() => vbPrior(x, 2, 'full', { meanPrior: [0] }), 'INVALID_ARGUMENT', ['options', 'meanPrior']],
      [() => vbPrior(x, 2, 'full', { covariancePrior: [[1, 0.5], [0, 1]] }), 'INVALID_ARGUMENT', ['options', 'covariancePrior', 1, 0]],
      [() => vbPrior(x, 2, 'full', { covariancePrior: [[1, 2], [2, 1]] }), 'NOT_POSITIVE_DEFINITE', ['options', 'covariancePrior']],
      [() => vbPrior(x, 2, 'diag', { covariancePrior: [1, 0] }), 'INVALID_ARGUMENT', ['options', 'covariancePrior', 1]],
      [() => vbPrior(x, 2, 'spherical', { covariancePrior: -2 }), 'INVALID_ARGUMENT', ['options', 'covariancePrior']],
      [() => vbPrior(x, 2, 'full', { regCovar: 1 } as VbPriorOptions), 'INVALID_ARGUMENT', ['options', 'regCovar']],
      [() => vbPrior({ values: Float64Array.from([0, Number.NaN, 1, 2]), rows: 2, cols: 2 }, 2, 'full'), 'INVALID_DATA', ['x', 0, 1]],
      [() => vbPrior({ values: new Float64Array(3), rows: 2, cols: 2 }, 2, 'full'), 'INVALID_DATA', ['x']],
      [() => vbPrior(matrix([[1, 2]]), 2, 'full'), 'INVALID_DATA', ['x', 'rows']],
      [() => vbPrior(matrix([[1, 2], [1, 3], [1, 4]]), 2, 'full'), 'INVALID_DATA', ['x']],
      [() => vbPrior(matrix([[1, 2], [1, 3], [1, 4]]), 2, 'diag'), 'INVALID_DATA', ['x', 'column', 0]],
    ];
    for (const [f, code, path] of cases) {
      const e = catchEmError(f);
      expect([e.code, e.path]).toEqual([code, path]);
    }
    // A singular data covariance is fine when the covariance prior is given.
    expect(vbPrior(matrix([[1, 2], [1, 3], [1, 4]]), 2, 'full', { covariancePrior: [[1, 0], [0, 1]] }).covariancePrior).toEqual(Float64Array.from([1, 0, 0, 1]));
  });

  it('vbStatistics, vbUpdate, vbLogTable, vbResponsibilities', () => {
    const prior = vbPrior(x, 2, 'full');
    const resp = Float64Array.from([1, 0, 0.5, 0.5, 0, 1, 0.2, 0.8]);
    const cases: [() => unknown, string, readonly (string | number)[]][] = [
      [() => vbStatistics(x, resp.subarray(1), 2), 'INVALID_ARGUMENT', ['resp']],
      [() => vbStatistics(x, Float64Array.from([1, 0, -0.5, 1.5, 0, 1, 0.2, 0.8]), 2), 'INVALID_ARGUMENT', ['resp', 1, 0]],
      [() => vbStatistics(x, resp, 2, -1), 'INVALID_ARGUMENT', ['regCovar']],
      [() => vbStatistics(x, resp, 0), 'INVALID_ARGUMENT', ['nComponents']],
      [() => vbUpdate(vbStatistics(x, resp, 2), vbPrior(x, 3, 'full'), 'full'), 'INVALID_ARGUMENT', ['stats']],
      [() => vbUpdate(vbStatistics(x, resp, 2), prior, 'band' as VbCovarianceType), 'INVALID_ARGUMENT', ['covarianceType']],
      [() => vbLogTable(matrix([[1, 2, 3]]), vbUpdate(vbStatistics(x, resp, 2), prior, 'full')), 'INVALID_DATA', ['x', 'cols']],
      [() => vbResponsibilities(new Float64Array(5), 2), 'INVALID_ARGUMENT', ['table']],
    ];
    for (const [f, code, path] of cases) {
      const e = catchEmError(f);
      expect([e.code, e.path]).toEqual([code, path]);
    }
  });
});
