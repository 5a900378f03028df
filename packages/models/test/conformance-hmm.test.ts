// The model conformance kit on hidden Markov models (categorical and Poisson emissions) with every registered
// chain method: exact forward–backward, Viterbi, FFBS, tempered, incremental, and vb over the parameters.
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import fc from 'fast-check';
import { hiddenMarkovModel, type HmmParams } from '@emlab/models';
import { checkModel } from '@emlab/testing';

const categorical = hiddenMarkovModel({ nStates: 2, emission: 'categorical', nCategories: [3] });
const truth: HmmParams = { initial: [0.5, 0.5], transition: [[0.85, 0.15], [0.2, 0.8]], emission: { type: 'categorical', probabilities: [[[0.7, 0.2, 0.1]], [[0.1, 0.3, 0.6]]] } as never };
const data = fc.record({ seed: fc.integer({ min: 0, max: 1e6 }), lengths: fc.array(fc.integer({ min: 6, max: 20 }), { minLength: 2, maxLength: 3 }) }).map(({ seed, lengths }) => {
  const s = categorical.sample(truth, lengths, seed);
  return { x: s.x, lengths: s.lengths };
});

checkModel(categorical, data, { label: 'conformance: hmm (categorical, K = 2)', numRuns: 6, timeout: 240_000 });
