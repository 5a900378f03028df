/**
 * Variational Bayes over θ for hidden Markov models (Dirichlet initial and
 * transition rows; Dirichlet categorical or Gamma Poisson emissions): the ELBO
 * never decreases (fit checks both halves), it stays below the exact log
 * marginal likelihood enumerated over every state path with the
 * Dirichlet–multinomial / Gamma–Poisson closed forms, and at the fixed point it
 * equals log Z(q(θ)) − KL(q(θ) ‖ p(θ)) computed independently here (forward
 * sums by enumeration, every normalizing constant). Unsupported setups are
 * typed errors.
 */
import { describe, expect, it } from 'vitest';
import { digamma, fit, logGamma } from '@emlab/core';
import '@emlab/exact';
import { vbPredictiveLogDensities } from '@emlab/variational';
import { hiddenMarkovModel, type HmmParams } from '@emlab/models';
import { bruteForceChain, catchEmError, catchEmErrorAsync } from '@emlab/testing';
import { expectMonotone } from './helpers.js';

const logSumExp = (v: readonly number[]): number => {
  const m = Math.max(...v);
  return m === Number.NEGATIVE_INFINITY ? m : m + Math.log(v.reduce((a, x) => a + Math.exp(x - m), 0));
};

/** log of the Dirichlet normalizer ratio B(α + n) / B(α) for one group. */
const dirMult = (n: readonly number[], a: number): number => logGamma(n.length * a) - logGamma(n.reduce((s, x) => s + x, 0) + n.length * a) + n.reduce((s, x) => s + logGamma(x + a) - logGamma(a), 0);

/** KL(Dir(α') ‖ Dir(α₀)). */
const dirKl = (alpha: readonly number[], a0: number): number => {
  const s = alpha.reduce((x, y) => x + y, 0);
  return logGamma(s) - logGamma(alpha.length * a0) + alpha.length * logGamma(a0) + alpha.reduce((acc, a) => acc - logGamma(a) + (a - a0) * (digamma(a) - digamma(s)), 0);
};

/** Every path of every sequence: K^ΣT joint assignments. */
function* allPaths(k: number, lengths: readonly number[]): Generator<number[][]> {
  const total = lengths.reduce((a, b) => a + b, 0);
  for (let n = 0; n < k ** total; n++) {
    let r = n;
    const flat: number[] = [];
    for (let i = 0; i < total; i++) {
      flat.push(r % k);
      r = Math.floor(r / k);
    }
    let o = 0;
    yield lengths.map((len) => flat.slice(o, (o += len)));
  }
}

describe('vb for a categorical HMM', () => {
  const k = 2;
  const x = [[0], [0], [1], [1], [1], [0], [1], [0]];
  const lengths = [5, 3];
  const data = { x, lengths };
  const model = hiddenMarkovModel({ nStates: k, emission: 'categorical', nCategories: [2] });
  const start: HmmParams = { initial: [0.6, 0.4], transition: [[0.7, 0.3], [0.4, 0.6]], emission: { type: 'categorical', probabilities: [[[0.8, 0.2]], [[0.3, 0.7]]] } as never };
  const prior = { initialConcentration: 1.5, transitionConcentration: 2, emissionConcentration: 0.7 };

  it('the ELBO never decreases, stays below the enumerated log marginal likelihood, and equals log Z(q(θ)) − KL at the fixed point', async () => {
    const r = await fit(model, data, { eStep: 'vb', eStepOptions: { prior }, init: start, seed: 1, maxIter: 2000, tol: 1e-13, monotonicity: 'throw' });
    expectMonotone(r.trace, 8);
    // log p(x) = log Σ_z Π_groups B(α + n_group(z)) / B(α).
    const terms: number[] = [];
    for (const z of allPaths(k, lengths)) {
      const init = [0, 0];
      const trans = [[0, 0], [0, 0]];
      const emit = [[0, 0], [0, 0]];
      let o = 0;
      z.forEach((path) => {
        path.forEach((s, t) => {
          if (t === 0) init[s]! += 1;
          else trans[path[t - 1]!]![s]! += 1;
          emit[s]![x[o + t]![0]!]! += 1;
        });
        o += path.length;
      });
      terms.push(dirMult(init, prior.initialConcentration) + trans.reduce((a, row) => a + dirMult(row, prior.transitionConcentration), 0) + emit.reduce((a, row) => a + dirMult(row, prior.emissionConcentration), 0));
    }
    const logEvidence = logSumExp(terms);
    const elbo = r.trace.at(-1)!.boundAfterM;
    expect(elbo).toBeLessThanOrEqual(logEvidence + 1e-10);
    // Not far below: the gap is KL(q ‖ posterior), at least log 2 here (q sits in one of two label-switched modes).
    expect(elbo).toBeGreaterThan(logEvidence - 5);
    // Independent ELBO at the final q(θ): log Σ_z exp(E log p(x, z | θ)) − KL(q(θ) ‖ p(θ)).
    const post = r.report?.['posterior'] as { initial: number[]; transition: number[]; emission: { beta: number[] } };
    const elog = (a: readonly number[]): number[] => a.map((v) => digamma(v) - digamma(a.reduce((s, y) => s + y, 0)));
    const logInitial = elog(post.initial);
    const logTransition = [elog(post.transition.slice(0, 2)), elog(post.transition.slice(2, 4))];
    const logB = [elog(post.emission.beta.slice(0, 2)), elog(post.emission.beta.slice(2, 4))];
    const bf = bruteForceChain({ nStates: 2, lengths, logInitial, logTransition, logEmission: x.map((row) => [logB[0]![row[0]!]!, logB[1]![row[0]!]!]) });
    const logZ = bf.logLikelihoods.reduce((a, b) => a + b, 0);
    const kl = dirKl(post.initial, prior.initialConcentration) + dirKl(post.transition.slice(0, 2), 2) + dirKl(post.transition.slice(2, 4), 2) + dirKl(post.emission.beta.slice(0, 2), 0.7) + dirKl(post.emission.beta.slice(2, 4), 0.7);
    expect(Math.abs(logZ - kl - elbo)).toBeLessThanOrEqual(1e-8);
    expect(Math.abs((r.report?.['klDivergence'] as number) - kl)).toBeLessThanOrEqual(1e-9);
    // The point estimate is the posterior mean.
    expect((r.params as HmmParams).initial[0]).toBeCloseTo(post.initial[0]! / (post.initial[0]! + post.initial[1]!), 12);
  });

  it('keeps structural zeros (left-right) at zero and parts the model does not update fixed', async () => {
    const lr = hiddenMarkovModel({ nStates: 2, emission: 'categorical', nCategories: [2], topology: 'left-right', params: 'te' });
    const s0: HmmParams = { initial: [1, 0], transition: [[0.7, 0.3], [0, 1]], emission: start.emission };
    const r = await fit(lr, data, { eStep: 'vb', init: s0, seed: 1, maxIter: 200, monotonicity: 'throw' });
    const p = r.params as HmmParams;
    expect(p.transition[1]![0]).toBe(0);
    expect(p.initial).toEqual([1, 0]);
    const post = r.report?.['posterior'] as { initial: number[] | null; transition: number[] };
    expect(post.initial).toBeNull();
    expect(post.transition[2]).toBe(0);
  });
});

describe('vb for a Poisson HMM', () => {
  it('the ELBO never decreases and stays below the enumerated Gamma–Poisson log marginal likelihood; ELBO = log Z − KL at the fixed point', async () => {
    const x = [[0], [3], [4], [1], [6], [0], [2]];
    const lengths = [4, 3];
    const model = hiddenMarkovModel({ nStates: 2, emission: 'poisson' });
    const start: HmmParams = { initial: [0.5, 0.5], transition: [[0.8, 0.2], [0.3, 0.7]], emission: { type: 'poisson', rates: [[0.8], [4]] } as never };
    const prior = { rateShape: 2, rateRate: 0.5 };
    const r = await fit(model, { x, lengths }, { eStep: 'vb', eStepOptions: { prior }, init: start, seed: 1, maxIter: 3000, tol: 1e-13, monotonicity: 'throw' });
    expectMonotone(r.trace, 7);
    const logFact = x.reduce((a, row) => a + logGamma(row[0]! + 1), 0);
    const terms: number[] = [];
    for (const z of allPaths(2, lengths)) {
      const init = [0, 0];
      const trans = [[0, 0], [0, 0]];
      const n = [0, 0];
      const s = [0, 0];
      let o = 0;
      z.forEach((path) => {
        path.forEach((st, t) => {
          if (t === 0) init[st]! += 1;
          else trans[path[t - 1]!]![st]! += 1;
          n[st]! += 1;
          s[st]! += x[o + t]![0]!;
        });
        o += path.length;
      });
      let v = dirMult(init, 1) + dirMult(trans[0]!, 1) + dirMult(trans[1]!, 1) - logFact;
      for (let j = 0; j < 2; j++) v += prior.rateShape * Math.log(prior.rateRate) - logGamma(prior.rateShape) + logGamma(prior.rateShape + s[j]!) - (prior.rateShape + s[j]!) * Math.log(prior.rateRate + n[j]!);
      terms.push(v);
    }
    const logEvidence = logSumExp(terms);
    const elbo = r.trace.at(-1)!.boundAfterM;
    expect(elbo).toBeLessThanOrEqual(logEvidence + 1e-10);
    expect(elbo).toBeGreaterThan(logEvidence - 5);
    const post = r.report?.['posterior'] as { initial: number[]; transition: number[]; emission: { shape: number[]; rate: number[] } };
    const elog = (a: readonly number[]): number[] => a.map((v) => digamma(v) - digamma(a.reduce((q, y) => q + y, 0)));
    const { shape, rate } = post.emission;
    const logEmission = x.map((row) => [0, 1].map((j) => row[0]! * (digamma(shape[j]!) - Math.log(rate[j]!)) - shape[j]! / rate[j]! - logGamma(row[0]! + 1)));
    const bf = bruteForceChain({ nStates: 2, lengths, logInitial: elog(post.initial), logTransition: [elog(post.transition.slice(0, 2)), elog(post.transition.slice(2, 4))], logEmission });
    const logZ = bf.logLikelihoods.reduce((a, b) => a + b, 0);
    const gammaKl = (a: number, b: number): number => (a - prior.rateShape) * digamma(a) - logGamma(a) + logGamma(prior.rateShape) + prior.rateShape * (Math.log(b) - Math.log(prior.rateRate)) + (a * (prior.rateRate - b)) / b;
    const kl = dirKl(post.initial, 1) + dirKl(post.transition.slice(0, 2), 1) + dirKl(post.transition.slice(2, 4), 1) + gammaKl(shape[0]!, rate[0]!) + gammaKl(shape[1]!, rate[1]!);
    expect(Math.abs(logZ - kl - elbo)).toBeLessThanOrEqual(1e-8);
  });
});

describe('vb for HMMs: what it does not support', () => {
  it('Gaussian emissions (no conjugate hook) and a stationary initial distribution are typed errors', async () => {
    const gauss = hiddenMarkovModel({ nStates: 2, emission: 'gaussian' });
    const e1 = await catchEmErrorAsync(fit(gauss, { x: [[0], [1], [2], [3]], lengths: [4] }, { eStep: 'vb', seed: 1 }));
    expect([e1.code, e1.path]).toEqual(['INVALID_ARGUMENT', ['options', 'eStep']]);
    const pois = hiddenMarkovModel({ nStates: 2, emission: 'poisson' });
    const r = await fit(pois, { x: [[0], [1], [2], [3]], lengths: [4] }, { eStep: 'vb', seed: 1, maxIter: 5 });
    const e0 = catchEmError(() => vbPredictiveLogDensities(pois, r, { x: [[1]], lengths: [1] }));
    expect([e0.code, e0.path]).toEqual(['INVALID_ARGUMENT', ['result', 'report', 'posterior']]);
    const st = hiddenMarkovModel({ nStates: 2, emission: 'poisson', initial: 'stationary' });
    const e2 = await catchEmErrorAsync(fit(st, { x: [[0], [1], [2], [3]], lengths: [4] }, { eStep: 'vb', seed: 1 }));
    expect([e2.code, e2.path]).toEqual(['INVALID_ARGUMENT', ['options', 'initial']]);
  });
});
