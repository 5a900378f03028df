// The conformance kit on the restricted chain E-steps (tempered, incremental): lifecycle, reproducibility,
// abort and bad options on random small HMM tables (with their brute-force log-likelihood, which a
// restricted bound must not exceed), and the fit properties (monotone, bound vs log-likelihood, tensor
// hygiene, reproducible) on a Gaussian HMM.
import '@emlab/exact';
import fc from 'fast-check';
import { chainIncrementalEStep, chainTemperedEStep } from '@emlab/variational';
import { hiddenMarkovModel } from '@emlab/models';
import { bruteForceChain, chainTableStructure, chainTablesArb, checkEStep, type StructureCase } from '@emlab/testing';
import { gaussianHmmData } from './chain-helpers.js';

const structures: fc.Arbitrary<StructureCase> = fc.tuple(chainTablesArb(true), fc.integer({ min: 1, max: 3 })).map(([t, block]) => {
  const bf = bruteForceChain(t);
  const w = t.weights ?? t.lengths.map(() => 1);
  const logLikelihood = bf.logLikelihoods.reduce((a, v, s) => ((w[s] as number) === 0 ? a : a + (w[s] as number) * v), 0);
  // Impossible evidence (log p = −∞) is covered by the brute-force tests; here the bound is compared with a finite log p.
  return Number.isFinite(logLikelihood) ? { structure: chainTableStructure(t, block), logLikelihood } : { structure: chainTableStructure(t, block) };
});

const fitCases = [
  {
    label: 'Gaussian HMM (K = 3, diag, 2–4 sequences)',
    model: hiddenMarkovModel({ nStates: 3, emission: 'gaussian', covarianceType: 'diag' }),
    data: fc.record({ seed: fc.integer({ min: 0, max: 1_000_000 }), lengths: fc.array(fc.integer({ min: 8, max: 30 }), { minLength: 2, maxLength: 4 }) }).map(({ seed, lengths }) => gaussianHmmData(seed, lengths)),
  },
];

checkEStep(chainTemperedEStep({ beta0: 0.3, growth: 1.6, itersPerBeta: 2 }), structures, { fitCases, numRuns: 10, timeout: 120_000 });
checkEStep(chainIncrementalEStep({ blocks: 3 }), structures, { fitCases, numRuns: 10, timeout: 120_000 });
