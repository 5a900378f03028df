// The conformance kit on the factorial-chain E-steps (exact on the product chain, structured mean field):
// lifecycle, reproducibility, abort and bad options on random small factorial HMMs (with log p(x) from the
// product chain, which the exact bound must equal and the mean-field bound must not exceed), and the fit
// properties (monotone, bound vs log-likelihood, tensor hygiene, reproducible) on a factorial HMM.
import fc from 'fast-check';
import { forwardBackward, productChain, type FactorialChainStructure } from '@emlab/core';
import { factorialExactEStep } from '@emlab/exact';
import { factorialMeanFieldEStep } from '@emlab/variational';
import { factorialHmm, type FactorialHmmParams } from '@emlab/models';
import { checkEStep, type StructureCase } from '@emlab/testing';

const KS = [2, 3];
const model = factorialHmm({ nChains: 2, nStates: KS });

/** Well-separated random parameters (seeded). */
function params(seed: number): FactorialHmmParams {
  let s = seed >>> 0;
  const u = (): number => ((s = (s * 1_664_525 + 1_013_904_223) >>> 0) / 2 ** 32);
  const dist = (k: number): number[] => {
    const e = Array.from({ length: k }, () => 0.2 + u());
    const t = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / t);
  };
  return {
    initial: KS.map((k) => dist(k)),
    transition: KS.map((k) => Array.from({ length: k }, (_, i) => dist(k).map((v, j) => (v + (i === j ? 2 : 0)) / 3))),
    means: KS.map((k, m) => Array.from({ length: k }, (_, j) => [3 * j * (m + 1) + u(), (m === 0 ? -2 : 2) * j + u()])),
    covariance: [[1, 0.2], [0.2, 0.8]],
  };
}

const structures: fc.Arbitrary<StructureCase> = fc.record({ seed: fc.integer({ min: 0, max: 1e6 }), lengths: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }), weighted: fc.boolean() }).map(({ seed, lengths, weighted }) => {
  const p = params(seed);
  const data = model.sample(p, lengths, seed);
  const weights = weighted ? lengths.map((_, i) => [0.5, 2, 1][i % 3] as number) : undefined;
  const structure = model.structure(model.prepare(data, { precisions: ['float64'], ...(weights === undefined ? {} : { weights: Float64Array.from(weights) }) } as never), p) as FactorialChainStructure;
  const prod = productChain(structure);
  const logLikelihood = forwardBackward({ nStates: prod.nStates, lengths: structure.lengths, logEmission: structure.jointLogEmission(), logInitial: prod.logInitial, logTransition: prod.logTransition, ...(structure.weights === undefined ? {} : { weights: structure.weights }) }, { likelihoodOnly: true }).logLikelihood;
  return { structure, logLikelihood };
});

const fitCases = [
  {
    label: 'factorial HMM (2 chains of 2 and 3 states, D = 2, 2–3 sequences)',
    model,
    data: fc.record({ seed: fc.integer({ min: 0, max: 1e6 }), lengths: fc.array(fc.integer({ min: 6, max: 20 }), { minLength: 2, maxLength: 3 }) }).map(({ seed, lengths }) => {
      const s = model.sample(params(seed), lengths, seed);
      return { x: s.x, lengths: s.lengths };
    }),
  },
];

checkEStep(factorialExactEStep(), structures, { fitCases, numRuns: 10, timeout: 120_000 });
checkEStep(factorialMeanFieldEStep(), structures, { fitCases, numRuns: 10, timeout: 120_000 });
