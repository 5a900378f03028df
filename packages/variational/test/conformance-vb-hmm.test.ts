// The conformance kit's fit properties on the vb method with hidden Markov models (categorical and
// Poisson emissions): monotone ELBO, tensor hygiene, reproducible.
import '@emlab/exact';
import fc from 'fast-check';
import { vbMethod } from '@emlab/variational';
import { hiddenMarkovModel } from '@emlab/models';
import { checkEStep } from '@emlab/testing';

const seqs = (draw: (rng: () => number) => number[]) =>
  fc.record({ seed: fc.integer({ min: 1, max: 1e6 }), lengths: fc.array(fc.integer({ min: 4, max: 15 }), { minLength: 2, maxLength: 3 }) }).map(({ seed, lengths }) => {
    let s = seed >>> 0;
    const u = (): number => ((s = (s * 1_664_525 + 1_013_904_223) >>> 0) / 2 ** 32);
    const x = Array.from({ length: lengths.reduce((a, b) => a + b, 0) }, () => draw(u));
    return { x, lengths };
  });

checkEStep(vbMethod(), undefined, {
  fitCases: [
    { label: 'categorical HMM (K = 2, 2 columns)', model: hiddenMarkovModel({ nStates: 2, emission: 'categorical', nCategories: [3, 2] }), data: seqs((u) => [Math.floor(3 * u()), Math.floor(2 * u())]) },
    { label: 'Poisson HMM (K = 2)', model: hiddenMarkovModel({ nStates: 2, emission: 'poisson' }), data: seqs((u) => [Math.floor(8 * u() * u())]) },
  ],
  fitProperties: ['monotone', 'tensor-hygiene', 'reproducible'],
  numRuns: 10,
  timeout: 120_000,
});
