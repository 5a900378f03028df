/**
 * The conformance kit (@emlab/testing) on what this package adds: the GLMM
 * with every method registered for its kind, the continuous E-steps on GLMM
 * structures (with the quadrature log-likelihood as the known value), the
 * Gibbs E-step on the kit's factor graphs, and MCEM/SAEM on the kit's cases.
 *
 * Left out for the GLMM: `additive-statistics` (the kit splits data by rows,
 * and a GLMM's rows within a group share their random effect, so the
 * statistics are additive over groups, not rows: glmm-model.test.ts checks the
 * algebra through Q and row-order invariance) and `weights` (the GLMM takes
 * no row weights).
 */
import fc from 'fast-check';
import { createEStep, type StructureContext } from '@emlab/core';
import '@emlab/exact';
import { gibbsEStep, laplaceEStep, mcemEStep, metropolisEStep, saemEStep } from '@emlab/montecarlo';
import { generateGlmmData, glmm, type GlmmModelData, type GlmmModelParams } from '@emlab/models';
import { checkEStep, checkModel, type StructureCase } from '@emlab/testing';

const model = glmm({ family: 'poisson' });

/** Small Poisson random-intercept data sets (4–7 groups of 2–6 rows). */
const dataArb: fc.Arbitrary<GlmmModelData> = fc
  .record({ nGroups: fc.integer({ min: 4, max: 7 }), seed: fc.integer({ min: 0, max: 1_000_000 }), sd: fc.double({ min: 0.3, max: 1, noNaN: true }) })
  .map(({ nGroups, seed, sd }) => {
    const g = generateGlmmData({ family: 'poisson', nGroups, groupSize: [2, 6], beta: [0.4, 0.3], sigma: [[sd * sd]], seed });
    return { group: g.input.group, y: g.input.y, x: g.input.x, z: g.input.z };
  });

const methods = [
  'laplace',
  metropolisEStep({ nDraws: 6, initialBurnIn: 30, importanceDraws: 40 }),
  mcemEStep({ schedule: 'constant', nDraws: 12, initialBurnIn: 30, importanceDraws: 40 }),
  saemEStep({ k1: 2, k2: 4, nDraws: 2, initialBurnIn: 30, importanceDraws: 40 }),
];

checkModel(model, dataArb, { methods, numRuns: 4, maxIter: 4, properties: ['monotone', 'bound-vs-log-likelihood', 'round-trip', 'tensor-hygiene', 'bad-input', 'reproducible'], timeout: 120_000 });

/** GLMM structures at random parameters, with the quadrature log-likelihood as the known value. */
const structures: fc.Arbitrary<StructureCase> = fc
  .record({ data: dataArb, b0: fc.double({ min: -0.5, max: 1, noNaN: true }), s2: fc.double({ min: 0.1, max: 1.5, noNaN: true }) })
  .map(({ data, b0, s2 }) => {
    const prepared = model.prepare(data);
    const params: GlmmModelParams = { beta: [b0, 0.2], sigma: [[s2]] };
    const ctx: StructureContext = { precision: 'float64' };
    return { structure: model.structure(prepared, params, ctx), logLikelihood: model.logLikelihood(prepared, params) };
  });
const fitCases = [{ label: 'Poisson random intercepts (4–7 groups)', model, data: dataArb as fc.Arbitrary<unknown> }];

checkEStep(laplaceEStep(), structures, { fitCases, numRuns: 4, timeout: 120_000 });
checkEStep(metropolisEStep({ nDraws: 6, initialBurnIn: 30, importanceDraws: 40 }), structures, { fitCases, numRuns: 4, timeout: 120_000 });
checkEStep(gibbsEStep({ nDraws: 8, initialBurnIn: 20 }), undefined, { numRuns: 4, timeout: 120_000 });
checkEStep(createEStep('finite', 'mcem', { schedule: 'constant', nDraws: 8 }), undefined, { numRuns: 4, timeout: 120_000 });
checkEStep(createEStep('finite', 'saem', { k1: 2, k2: 4 }), undefined, { numRuns: 4, timeout: 120_000 });
checkEStep(createEStep('factor-graph', 'mcem', { schedule: 'constant', nDraws: 8, initialBurnIn: 20 }), undefined, { numRuns: 4, timeout: 120_000 });
