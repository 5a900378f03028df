/**
 * Recovery of the "occasionally dishonest casino" (Durbin, Eddy, Krogh &
 * Mitchison 1998, §3.2): a fair die and a loaded one (P(6) = 0.5, other faces
 * 0.1), P(fair → loaded) = 0.05, P(loaded → fair) = 0.10. One sequence of
 * T = 30,000 rolls drawn from the true model (seeded), fitted by exact EM
 * (forward–backward, float64) from k-means starts on rolls averaged over
 * 9-step windows (single rolls say too little about the die: plain k-means
 * starts EM next to the independent-mixture saddle), 2 restarts: every
 * transition and emission probability within ±0.02 of the truth (the
 * sampling error at this T is about 0.002–0.006), the loaded state identified
 * by its P(6).
 */
import { describe, expect, it } from 'vitest';
import { fit } from '@emlab/core';
import '@emlab/exact';
import { hiddenMarkovModel, type CategoricalEmissionParams, type HmmParams } from '@emlab/models';

const TRUTH: HmmParams<CategoricalEmissionParams> = {
  initial: [0.5, 0.5],
  transition: [
    [0.95, 0.05],
    [0.1, 0.9],
  ],
  emission: { type: 'categorical', probabilities: [[[1 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6]], [[0.1, 0.1, 0.1, 0.1, 0.1, 0.5]]] },
};

describe('occasionally dishonest casino', () => {
  it('recovers both transition probabilities and both dice within ±0.02 at T = 30,000', async () => {
    const model = hiddenMarkovModel({ nStates: 2, emission: 'categorical', nCategories: [6], initWindow: 9 });
    const { x } = model.sample(TRUTH as never, 30_000, 'casino');
    const result = await fit(model, x, { seed: 1, nInit: 2, precision: 'float64', monotonicity: 'throw' });
    expect(result.converged).toBe(true);
    const p = result.params as HmmParams<CategoricalEmissionParams>;
    const loaded = ((p.emission.probabilities[1] as number[][])[0] as number[])[5]! > ((p.emission.probabilities[0] as number[][])[0] as number[])[5]! ? 1 : 0;
    const fair = 1 - loaded;
    expect(Math.abs((p.transition[fair] as number[])[loaded]! - 0.05)).toBeLessThanOrEqual(0.02);
    expect(Math.abs((p.transition[loaded] as number[])[fair]! - 0.1)).toBeLessThanOrEqual(0.02);
    const dieOf = (s: number): number[] => (p.emission.probabilities[s] as number[][])[0] as number[];
    dieOf(loaded).forEach((v, face) => expect(Math.abs(v - (face === 5 ? 0.5 : 0.1))).toBeLessThanOrEqual(0.02));
    dieOf(fair).forEach((v) => expect(Math.abs(v - 1 / 6)).toBeLessThanOrEqual(0.02));
    expect(result.logLikelihood).toBeCloseTo(result.bound, 6);
  });
});
