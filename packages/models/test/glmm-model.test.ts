/**
 * The GLMM as a core Model: options and typed errors, the statistics algebra
 * (Q is linear in q: scale/add/zero checked through Q by fast-check), statistics
 * against the model definition (Q from draws = the weighted average of
 * Σ_g log p(y_g, b_gs) written out in glmm-reference.ts, 1e-12 relative; from a
 * Gaussian q = Σ_g E_q log p(y_g, b)), the fast draw statistics equal to the
 * generic path, row-order invariance, the M-step from statistics equal to
 * glmmMStep, annealing, the parametrization's round trip, the structure's
 * derivatives against central differences, CSV by column roles, and the
 * registration.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { createRng, findModel, fromJson, stationarity, toJson, type Model } from '@emlab/core';
import { aghqLogLikelihood } from '../src/glmm/aghq.js';
import { generateGlmmData } from '../src/glmm/glmm-data.js';
import { parseGlmmCsv } from '../src/glmm/glmm-csv.js';
import { glmm, glmmParamsToArrays, type GeneralizedLinearMixedModel, type GlmmModelData, type GlmmModelParams, type GlmmPrepared } from '../src/glmm/glmm-model.js';
import { glmmMStep } from '../src/glmm/glmm-mstep.js';
import { annealGlmmStats, glmmStatsAlgebra, glmmStatsFromDraws, glmmStatsFromLatent, type GlmmStats } from '../src/glmm/glmm-stats.js';
import { glmmStructure } from '../src/glmm/glmm-structure.js';
import type { GlmmFamily } from '../src/glmm/glmm-types.js';
import { laplaceQEStep } from '../src/glmm/laplace-q.js';
import '../src/index.js';
import { refGroup, refLogLikGivenB, refLogNormal } from './glmm-reference.js';
import { catchEmError } from '@emlab/testing';

const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.max(1, Math.abs(b));

function dataset(family: GlmmFamily, q: 1 | 2, seed: number) {
  const sigma = q === 1 ? [[0.6]] : [[0.5, 0.1], [0.1, 0.3]];
  const gen = generateGlmmData({ family, nGroups: 8, groupSize: [3, 7], beta: [0.3, 0.5], sigma, seed });
  const model = glmm({ family });
  const input: GlmmModelData = { group: gen.input.group, y: gen.input.y, x: gen.input.x, z: gen.input.z };
  const prepared = model.prepare(input);
  const params: GlmmModelParams = { beta: [0.2, 0.4], sigma: q === 1 ? [[0.8]] : [[0.7, 0.05], [0.05, 0.4]] };
  return { model, input, prepared, params, data: prepared.data };
}

/** Random draws [G, S, q] around 0 with random positive weights. */
function randomDraws(G: number, S: number, q: number, seed: number): { draws: Float64Array; weights: Float64Array } {
  const rng = createRng(seed);
  return { draws: Float64Array.from({ length: G * S * q }, () => rng.normal()), weights: Float64Array.from({ length: G * S }, () => 0.1 + rng.uniform()) };
}

const CASES: [GlmmFamily, 1 | 2][] = [['poisson', 1], ['logistic', 1], ['poisson', 2], ['logistic', 2]];

describe('options and errors', () => {
  it('rejects a bad family, covariance type, nQuad and unknown options, naming the option', () => {
    expect(catchEmError(() => glmm({ family: 'gaussian' as never })).path).toEqual(['options', 'family']);
    expect(catchEmError(() => glmm({} as never)).path).toEqual(['options', 'family']);
    expect(catchEmError(() => glmm({ family: 'poisson', covarianceType: 'spherical' as never })).path).toEqual(['options', 'covarianceType']);
    expect(catchEmError(() => glmm({ family: 'poisson', nQuad: 0 })).path).toEqual(['options', 'nQuad']);
    expect(catchEmError(() => glmm({ family: 'poisson', famly: 'x' } as never)).code).toBe('INVALID_ARGUMENT');
    expect(glmm({ family: 'logistic' }).options).toEqual({ family: 'logistic', covarianceType: 'full' });
  });

  it('validates data (family mismatch, responses) and parameters (shape, positive definiteness, diagonal)', () => {
    const m: GeneralizedLinearMixedModel = glmm({ family: 'logistic' });
    const d = { group: [1, 1, 2], y: [0, 1, 2], x: [[1], [1], [1]], z: [[1], [1], [1]] };
    const e = catchEmError(() => m.validate(d));
    expect([e.code, e.path]).toEqual(['INVALID_DATA', ['data', 'y', 2]]);
    expect(catchEmError(() => m.validate({ ...d, y: [0, 1, 1], family: 'poisson' })).path).toEqual(['data', 'family']);
    const ok = { ...d, y: [0, 1, 1] };
    m.validate(ok);
    expect(catchEmError(() => m.validateParams({ beta: [0], sigma: [[1, 0]] }, ok)).code).toBe('INVALID_PARAMS');
    expect(catchEmError(() => m.validateParams({ beta: [0, 1], sigma: [[1]] }, ok)).path).toEqual(['params', 'beta']);
    expect(catchEmError(() => m.validateParams({ beta: [0], sigma: [[-1]] }, ok)).path).toEqual(['params', 'sigma']);
    expect(catchEmError(() => m.validateParams({ beta: [0], sigma: [[1, 0], [0, 1]] }, ok)).path).toEqual(['params', 'sigma']);
    expect(catchEmError(() => m.validateParams('x')).code).toBe('INVALID_PARAMS');
    expect(catchEmError(() => m.validateParams({ beta: ['0.1'], sigma: [[1]] }, ok)).path).toEqual(['params', 'beta', 0]);
    expect(catchEmError(() => m.validateParams({ beta: [0.1], sigma: [['1']] }, ok)).path).toEqual(['params', 'sigma', 0, 0]);
    const diag = glmm({ family: 'poisson', covarianceType: 'diagonal' });
    expect(catchEmError(() => diag.validateParams({ beta: [0], sigma: [[1, 0.1], [0.1, 1]] })).path).toEqual(['params', 'sigma', 1, 0]);
    m.validateParams({ beta: [0.1], sigma: [[2]] }, ok);
  });
});

describe('statistics', () => {
  for (const [family, q] of CASES) {
    it(`${family}, q = ${q}: Q from weighted draws equals the weighted average of Σ_g log p(y_g, b_gs) written out`, () => {
      const { model, data, params } = dataset(family, q, 11);
      const S = 5;
      const { draws, weights } = randomDraws(data.nGroups, S, q, 3);
      const stats = glmmStatsFromDraws(data, draws, S, weights);
      let ref = 0;
      for (let g = 0; g < data.nGroups; g++) {
        const grp = refGroup(data, g, params.beta);
        let tot = 0;
        for (let s = 0; s < S; s++) tot += weights[g * S + s]!;
        for (let s = 0; s < S; s++) {
          const b = Array.from(draws.subarray((g * S + s) * q, (g * S + s + 1) * q));
          ref += (weights[g * S + s]! / tot) * (refLogLikGivenB(grp, b) + refLogNormal(b, params.sigma.flat()));
        }
      }
      expect(relErr(model.expectedLogJoint(stats, params), ref)).toBeLessThan(1e-12);
    });

    it(`${family}, q = ${q}: glmmStatsFromDraws equals the generic latent path; Gaussian statistics give Σ_g E_q log p(y_g, b)`, () => {
      const { model, data, params, prepared } = dataset(family, q, 12);
      const S = 4;
      const { draws, weights } = randomDraws(data.nGroups, S, q, 4);
      const fast = glmmStatsFromDraws(data, draws, S, weights);
      const slow = glmmStatsFromLatent(data, { kind: 'draws', nDraws: S, draws, weights });
      expect(Array.from(fast.meanOffset)).toEqual(Array.from(slow.meanOffset));
      fast.secondMoment.forEach((v, i) => expect(relErr(v, slow.secondMoment[i]!)).toBeLessThan(1e-14));
      expect(relErr(model.expectedLogJoint(fast, params), model.expectedLogJoint(slow, params))).toBeLessThan(1e-13);
      const lap = laplaceQEStep(data, glmmParamsToArrays(params));
      const gs = model.structure(prepared, params);
      const stats = gs.gaussianStats(lap.means, lap.covs);
      let ref = 0;
      for (let g = 0; g < data.nGroups; g++) ref += gs.gaussianExpectedLogJoint(g, lap.means.subarray(g * q, (g + 1) * q), lap.covs.subarray(g * q * q, (g + 1) * q * q));
      expect(relErr(model.expectedLogJoint(stats, params), ref)).toBeLessThan(1e-12);
    });

    it(`${family}, q = ${q}: the algebra is linear through Q (scale, add, zero), fast-check`, () => {
      const { model, data, params } = dataset(family, q, 13);
      const a = glmmStatsFromDraws(data, randomDraws(data.nGroups, 3, q, 5).draws, 3);
      const b = glmmStatsFromDraws(data, randomDraws(data.nGroups, 2, q, 6).draws, 2);
      const qa = model.expectedLogJoint(a, params);
      const qb = model.expectedLogJoint(b, params);
      fc.assert(
        fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0.1, max: 3, noNaN: true }), (c, k) => {
          const mix = glmmStatsAlgebra.add(glmmStatsAlgebra.scale(a, c * k), glmmStatsAlgebra.scale(b, (1 - c) * k));
          expect(relErr(model.expectedLogJoint(mix, params), k * (c * qa + (1 - c) * qb))).toBeLessThan(1e-11);
        }),
        { numRuns: 40, seed: 7 },
      );
      const z = glmmStatsAlgebra.zero(a);
      expect(model.expectedLogJoint(z, params)).toBe(0);
      expect(relErr(model.expectedLogJoint(glmmStatsAlgebra.add(z, a), params), qa)).toBeLessThan(1e-13);
      expect(catchEmError(() => glmmStatsAlgebra.scale(a, -1)).code).toBe('INVALID_ARGUMENT');
    });
  }

  it('the M-step from statistics equals glmmMStep on the same latent (both families)', () => {
    for (const family of ['poisson', 'logistic'] as const) {
      const { model, data, params, prepared } = dataset(family, 2, 14);
      const latent = { kind: 'draws' as const, nDraws: 6, ...randomDraws(data.nGroups, 6, 2, 8) };
      const direct = glmmMStep(data, latent, glmmParamsToArrays(params));
      const viaModel = model.mStep(glmmStatsFromLatent(data, latent), params, { rng: createRng(0), prepared, iteration: 1 }).params;
      expect(viaModel.beta.map((v, j) => relErr(v, direct.params.beta[j]!))).toEqual([0, 0]);
      expect(viaModel.sigma.flat().map((v, i) => Math.abs(v - direct.params.sigma[i]!))).toEqual([0, 0, 0, 0]);
    }
  });

  it('statistics and the M-step do not depend on the input row order', () => {
    const { model, input, params } = dataset('logistic', 1, 15);
    const n = input.y.length;
    const perm = Array.from({ length: n }, (_, i) => (i * 7) % n);
    const rows = (a: readonly (readonly number[])[] | { values: ArrayLike<number>; cols: number }): number[][] => {
      if (Array.isArray(a)) return a as number[][];
      const m = a as { values: ArrayLike<number>; cols: number };
      return Array.from({ length: n }, (_, i) => Array.from({ length: m.cols }, (_, c) => m.values[i * m.cols + c]!));
    };
    const x = rows(input.x);
    const z = rows(input.z);
    const shuffled: GlmmModelData = { group: perm.map((i) => input.group[i]!) as number[], y: perm.map((i) => input.y[i]!), x: perm.map((i) => x[i]!), z: perm.map((i) => z[i]!) };
    const p1 = model.prepare({ group: input.group, y: input.y, x, z });
    const p2 = model.prepare(shuffled);
    const G = p1.data.nGroups;
    const { draws } = randomDraws(G, 4, 1, 9);
    const s1 = glmmStatsFromDraws(p1.data, draws, 4);
    const s2 = glmmStatsFromDraws(p2.data, draws, 4);
    expect(relErr(model.expectedLogJoint(s1, params), model.expectedLogJoint(s2, params))).toBeLessThan(1e-13);
    const m1 = model.mStep(s1, params, { rng: createRng(0), prepared: p1, iteration: 1 }).params;
    const m2 = model.mStep(s2, params, { rng: createRng(0), prepared: p2, iteration: 1 }).params;
    m1.beta.forEach((v, j) => expect(relErr(v, m2.beta[j]!)).toBeLessThan(1e-10));
  });

  it('annealing keeps every variance of the M-step at least factor × Σ_b, and leaves larger ones alone', () => {
    const { model, data, params, prepared } = dataset('poisson', 2, 16);
    const tiny = glmmStatsFromDraws(data, randomDraws(data.nGroups, 3, 2, 10).draws.map((v) => 0.01 * v), 3);
    const sig = glmmParamsToArrays(params).sigma;
    const annealed = model.mStep(annealGlmmStats(tiny, sig, 0.9), params, { rng: createRng(0), prepared, iteration: 1 }).params.sigma;
    expect(annealed[0]![0]!).toBeCloseTo(0.9 * sig[0]!, 12);
    expect(annealed[1]![1]!).toBeCloseTo(0.9 * sig[3]!, 12);
    const wide = glmmStatsFromDraws(data, randomDraws(data.nGroups, 3, 2, 11).draws.map((v) => 5 * v), 3);
    expect(annealGlmmStats(wide, sig, 0.9).secondMoment).toEqual(wide.secondMoment);
    const st = model.structure(prepared, params);
    expect(st.annealStats!(tiny, 0.9).secondMoment).toEqual(annealGlmmStats(tiny, sig, 0.9).secondMoment);
  });
});

describe('model hooks', () => {
  it('logLikelihood is the AGHQ value; init gives valid parameters; parametrization round-trips (full and diagonal)', () => {
    for (const covarianceType of ['full', 'diagonal'] as const) {
      const gen = generateGlmmData({ family: 'poisson', nGroups: 6, groupSize: 5, beta: [0.2, 0.3], sigma: [[0.4, 0], [0, 0.2]], seed: 3 });
      const model: GeneralizedLinearMixedModel = glmm({ family: 'poisson', covarianceType });
      const prepared: GlmmPrepared = model.prepare(gen.input);
      for (const method of model.initMethods) {
        const p0 = model.init(prepared, method, createRng(1).child('init'));
        model.validateParams(p0, gen.input);
        expect(model.init(prepared, method, createRng(1).child('init'))).toEqual(p0);
        const par = model.parametrization(prepared);
        const v = par.toVector(p0);
        expect(v.length).toBe(par.dim);
        const back = par.fromVector(v);
        back.beta.forEach((b, j) => expect(b).toBeCloseTo(p0.beta[j]!, 12));
        back.sigma.flat().forEach((s, i) => expect(s).toBeCloseTo(p0.sigma.flat()[i]!, 12));
        expect(model.logLikelihood(prepared, p0)).toBe(aghqLogLikelihood(prepared.data, glmmParamsToArrays(p0), { nQuad: 25 }).logLik);
      }
      expect(model.nParameters({ beta: [0, 0], sigma: [[1, 0], [0, 1]] })).toBe(covarianceType === 'full' ? 5 : 4);
    }
  });

  it('the structure: derivatives match central differences; the mode is where the gradient vanishes', () => {
    const { model, prepared, params } = dataset('logistic', 2, 17);
    const st = model.structure(prepared, params);
    const b = Float64Array.of(0.3, -0.2);
    for (let g = 0; g < st.nGroups; g++) {
      const d = st.logJointDerivatives(g, b);
      expect(relErr(d.value, st.logJoint(g, b))).toBeLessThan(1e-14);
      for (let k = 0; k < 2; k++) {
        const h = 1e-5;
        const up = Float64Array.from(b);
        const dn = Float64Array.from(b);
        up[k] = up[k]! + h;
        dn[k] = dn[k]! - h;
        expect(Math.abs((st.logJoint(g, up) - st.logJoint(g, dn)) / (2 * h) - d.gradient[k]!)).toBeLessThan(1e-7 * Math.max(1, Math.abs(d.gradient[k]!)));
        const gu = st.logJointDerivatives(g, up).gradient;
        const gd = st.logJointDerivatives(g, dn).gradient;
        for (let l = 0; l < 2; l++) expect(Math.abs((gu[l]! - gd[l]!) / (2 * h) - d.hessian[l * 2 + k]!)).toBeLessThan(1e-6);
      }
      const m = st.mode!(g);
      expect(m.converged).toBe(true);
      const grad = st.logJointDerivatives(g, m.mode).gradient;
      expect(Math.hypot(...grad)).toBeLessThan(1e-8);
    }
    expect(glmmStructure(prepared.data, glmmParamsToArrays(params)).kind).toBe('continuous');
  });
});

describe('CSV by column roles and the registration', () => {
  const text = 'school,score,hours,t\na,3,1.5,0\nb,0,2,1\na,1,0.5,1\nc,2,1,0\n';

  it('reads responses, groups and covariates with intercepts; names bad columns and cells', () => {
    const d = parseGlmmCsv(text, { response: 'score', group: 'school', fixed: ['hours'], random: ['t'] });
    expect(d.y).toEqual([3, 0, 1, 2]);
    expect(d.group).toEqual(['a', 'b', 'a', 'c']);
    expect(d.x).toEqual([[1, 1.5], [1, 2], [1, 0.5], [1, 1]]);
    expect(d.z).toEqual([[1, 0], [1, 1], [1, 1], [1, 0]]);
    const noInt = parseGlmmCsv(text, { response: 'score', group: 'school', fixed: ['hours'], fixedIntercept: false });
    expect(noInt.x).toEqual([[1.5], [2], [0.5], [1]]);
    expect(noInt.z).toEqual([[1], [1], [1], [1]]);
    expect(catchEmError(() => parseGlmmCsv(text, { response: 'y', group: 'school' })).path).toEqual(['options', 'response']);
    const bad = catchEmError(() => parseGlmmCsv('g,y\na,x\n', { response: 'y', group: 'g' }));
    expect([bad.code, bad.path]).toEqual(['PARSE_ERROR', ['<csv>', 'row', 0, 'column', 'y']]);
    expect(catchEmError(() => parseGlmmCsv('', { response: 'y', group: 'g' })).code).toBe('PARSE_ERROR');
  });

  it("the registration 'glmm' reads a CSV through data.read and builds the model without the role options", async () => {
    const reg = findModel('glmm');
    expect(reg.structureKind).toBe('continuous');
    expect(findModel('mixed-model')).toBe(reg);
    const dir = mkdtempSync(join(tmpdir(), 'glmm-csv-'));
    const file = join(dir, 'd.csv');
    writeFileSync(file, text);
    if (reg.data?.format !== 'custom') throw new Error('expected a custom data spec');
    const options = { family: 'poisson', covarianceType: 'full', response: 'score', group: 'school', fixed: ['hours'], random: [], fixedIntercept: true, randomIntercept: true };
    const { data } = await reg.data.read([file], options);
    const model = reg.create(options) as Model<GlmmModelData, GlmmModelParams, GlmmStats, GlmmPrepared>;
    expect(model.options).toEqual({ family: 'poisson', covarianceType: 'full' });
    model.validate(data as GlmmModelData);
    expect((data as GlmmModelData).y).toEqual([3, 0, 1, 2]);
  });
});

describe('stationarity and saved parameters', () => {
  const fx = JSON.parse(readFileSync(new URL('./fixtures/glmm/lme4.json', import.meta.url), 'utf8')) as {
    cases: { name: string; family: GlmmFamily; group: number[]; y: number[]; x: number[][]; z: number[][]; mle: { polished: { beta: number[]; sigma: number[][] } } }[];
  };

  it("the stationarity check differentiates the quadrature log-likelihood: ≈ 0 at lme4's MLE, clearly not elsewhere", async () => {
    const c = fx.cases.find((k) => k.name === 'poisson-intercept')!;
    const model: GeneralizedLinearMixedModel = glmm({ family: c.family, nQuad: 20 });
    const data = { group: c.group, y: c.y, x: c.x, z: c.z };
    const mle = { beta: c.mle.polished.beta, sigma: c.mle.polished.sigma };
    const at = await stationarity(model, data, mle);
    expect(at.method).toBe('likelihood-differences');
    expect(at.gradNorm).toBeLessThan(1e-5);
    const off = await stationarity(model, data, { beta: [mle.beta[0]! + 0.05, mle.beta[1]!], sigma: mle.sigma });
    expect(off.gradNorm).toBeGreaterThan(100 * at.gradNorm);
  });

  it('parameters round-trip through JSON exactly and validate', () => {
    const { params, input } = dataset('poisson', 2, 18);
    const model: GeneralizedLinearMixedModel = glmm({ family: 'poisson' });
    const back = fromJson(toJson(params)) as GlmmModelParams;
    expect(back).toEqual(params);
    model.validateParams(back, input);
  });
});
