// The model conformance kit on the factorial HMM (exact E-step on the product chain and structured mean field):
// monotone, bound vs log-likelihood, additive statistics (over sequences), weights = repeated sequences,
// round trip, tensor hygiene, bad input, reproducible.
import '@emlab/exact';
import '@emlab/variational';
import fc from 'fast-check';
import { factorialHmm, type FactorialHmmParams } from '@emlab/models';
import { checkModel } from '@emlab/testing';

const model = factorialHmm({ nChains: 2, nStates: [2, 2] });
const truth: FactorialHmmParams = {
  initial: [[0.6, 0.4], [0.3, 0.7]],
  transition: [[[0.9, 0.1], [0.2, 0.8]], [[0.7, 0.3], [0.25, 0.75]]],
  means: [[[0, 0], [3, 0]], [[0, 0], [0, 2]]],
  covariance: [[0.6, 0.1], [0.1, 0.5]],
};
const data = fc.record({ seed: fc.integer({ min: 0, max: 1e6 }), lengths: fc.array(fc.integer({ min: 5, max: 15 }), { minLength: 2, maxLength: 3 }) }).map(({ seed, lengths }) => {
  const s = model.sample(truth, lengths, seed);
  return { x: s.x, lengths: s.lengths };
});

checkModel(model, data, { label: 'conformance: factorial-hmm (2 × 2 states, D = 2)', numRuns: 8, timeout: 180_000 });
