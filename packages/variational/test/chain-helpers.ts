/**
 * Shared by the chain E-step tests: a seeded 3-state Gaussian HMM sample
 * (states well apart, sticky transitions) and a start near but not at the truth.
 */
import { hiddenMarkovModel, type HmmParams } from '@emlab/models';

/** The true parameters: 3 states, D = 2, diagonal covariances. */
export const GAUSSIAN_HMM_TRUTH: HmmParams = {
  initial: [0.5, 0.3, 0.2],
  transition: [
    [0.85, 0.1, 0.05],
    [0.1, 0.8, 0.1],
    [0.05, 0.15, 0.8],
  ],
  emission: { type: 'gaussian', covarianceType: 'diag', means: [[0, 0], [2.5, 1], [1, 3]], covariances: [[[1, 0], [0, 0.8]], [[0.7, 0], [0, 1.2]], [[1, 0], [0, 1]]] } as never,
};

/** A start for fits: means shrunk towards the centre, flat transitions. */
export const GAUSSIAN_HMM_START: HmmParams = {
  initial: [1 / 3, 1 / 3, 1 / 3],
  transition: [
    [0.6, 0.2, 0.2],
    [0.2, 0.6, 0.2],
    [0.2, 0.2, 0.6],
  ],
  emission: { type: 'gaussian', covarianceType: 'diag', means: [[0.8, 0.8], [1.6, 1.2], [1.2, 2]], covariances: [[[1.5, 0], [0, 1.5]], [[1.5, 0], [0, 1.5]], [[1.5, 0], [0, 1.5]]] } as never,
};

/** Sequences of the given lengths drawn from the truth. */
export function gaussianHmmData(seed: number, lengths: readonly number[]): { x: number[][]; lengths: number[] } {
  const model = hiddenMarkovModel({ nStates: 3, emission: 'gaussian', covarianceType: 'diag' });
  const s = model.sample(GAUSSIAN_HMM_TRUTH as never, lengths, seed);
  return { x: s.x, lengths: s.lengths };
}
