/**
 * The factorial HMM and its two E-steps: exact inference on the product chain
 * against enumeration of every joint path of every chain (log-likelihood,
 * per-chain marginals and counts, second moments, entropy), the structured
 * mean-field E-step against an enumerated ELBO of its own q (every constant),
 * bound ≤ log p(x), M = 1 equal to exact, and fits (monotone at every
 * half-step, bound below the log-likelihood, statistics-based bound equal to
 * the E-step's). Model options, data and parameters: typed errors.
 *
 * Tolerances: float64 sums of the same terms in other orders, 1e-9 relative.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, fit, listESteps, type FactorialChainStructure } from '@emlab/core';
import { factorialExactEStep } from '@emlab/exact';
import { factorialMeanFieldEStep } from '@emlab/variational';
import { factorialHmm, type FactorialHmmParams, type FactorialHmmStats } from '@emlab/models';
import { catchEmError, runEStep } from '@emlab/testing';
import { driver, expectBelowLogLikelihood, expectMonotone } from './helpers.js';

/** Random parameters for chains of sizes ks and D output dimensions. */
function randomParams(seed: number, ks: readonly number[], d: number): FactorialHmmParams {
  const rng = createRng(seed).child('fhmm-params');
  const dist = (k: number): number[] => {
    const e = Array.from({ length: k }, () => 0.1 - Math.log(1 - rng.uniform()));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };
  const a = Array.from({ length: d }, () => Array.from({ length: d }, () => rng.normal() * 0.5));
  const covariance = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 0.6 : 0) + a[i]!.reduce((s, v, c) => s + v * a[j]![c]!, 0)));
  return {
    initial: ks.map((k) => dist(k)),
    transition: ks.map((k) => Array.from({ length: k }, () => dist(k))),
    means: ks.map((k) => Array.from({ length: k }, () => Array.from({ length: d }, () => 2 * rng.normal()))),
    covariance,
  };
}

/** log N(x; μ, C) for small D by Gaussian elimination (independent of core's Cholesky). */
function logGauss(x: readonly number[], mu: readonly number[], c: readonly (readonly number[])[]): number {
  const d = x.length;
  const a = c.map((row, i) => [...row, x[i]! - mu[i]!]);
  let logDet = 0;
  for (let i = 0; i < d; i++) {
    logDet += Math.log(a[i]![i]!);
    for (let r = i + 1; r < d; r++) {
      const f = a[r]![i]! / a[i]![i]!;
      for (let k = i; k <= d; k++) a[r]![k]! -= f * a[i]![k]!;
    }
  }
  // back substitution: C⁻¹ (x − μ)
  const z = new Array<number>(d).fill(0);
  for (let i = d - 1; i >= 0; i--) {
    let s = a[i]![d]!;
    for (let k = i + 1; k < d; k++) s -= a[i]![k]! * z[k]!;
    z[i] = s / a[i]![i]!;
  }
  const quad = z.reduce((s, v, i) => s + v * (x[i]! - mu[i]!), 0);
  return -0.5 * (d * Math.log(2 * Math.PI) + logDet + quad);
}

/** Enumerates every joint path of one sequence: log p(x), per-chain marginals [T][m][k], pairwise E[e eᵀ] sums, counts, entropy. */
function enumerate(p: FactorialHmmParams, ks: readonly number[], x: readonly (readonly number[])[]) {
  const m = ks.length;
  const t = x.length;
  const joint = ks.reduce((a, k) => a * k, 1);
  const total = joint ** t;
  const offsets = ks.map((_, l) => ks.slice(0, l).reduce((a, b) => a + b, 0));
  const tot = ks.reduce((a, b) => a + b, 0);
  const paths: { states: number[][]; lj: number }[] = [];
  for (let n = 0; n < total; n++) {
    let rest = n;
    const states: number[][] = [];
    for (let i = 0; i < t; i++) {
      const c = rest % joint;
      rest = Math.floor(rest / joint);
      let r = c;
      const s = new Array<number>(m);
      for (let l = m - 1; l >= 0; l--) {
        s[l] = r % ks[l]!;
        r = Math.floor(r / ks[l]!);
      }
      states.push(s);
    }
    let lj = 0;
    for (let i = 0; i < t; i++) {
      const s = states[i]!;
      for (let l = 0; l < m; l++) lj += Math.log(i === 0 ? p.initial[l]![s[l]!]! : p.transition[l]![states[i - 1]![l]!]![s[l]!]!);
      const mu = x[0]!.map((_, j) => s.reduce((a, k, l) => a + p.means[l]![k]![j]!, 0));
      lj += logGauss(x[i]!, mu, p.covariance);
    }
    paths.push({ states, lj });
  }
  const top = Math.max(...paths.map((q) => q.lj));
  const logP = top + Math.log(paths.reduce((a, q) => a + Math.exp(q.lj - top), 0));
  const pairs = new Float64Array(tot * tot);
  const init = ks.map((k) => new Float64Array(k));
  const trans = ks.map((k) => new Float64Array(k * k));
  let entropy = 0;
  for (const q of paths) {
    const w = Math.exp(q.lj - logP);
    entropy -= w * (q.lj - logP);
    q.states.forEach((s, i) => {
      for (let l = 0; l < m; l++) {
        for (let h = 0; h < m; h++) {
          const idx = (offsets[l]! + s[l]!) * tot + offsets[h]! + s[h]!;
          pairs[idx] = pairs[idx]! + w;
        }
        const a = (i === 0 ? init[l] : trans[l])!;
        const j = i === 0 ? s[l]! : q.states[i - 1]![l]! * ks[l]! + s[l]!;
        a[j] = a[j]! + w;
      }
    });
  }
  return { logP, pairs, init, trans, entropy };
}

const close = (a: number, b: number, scale: number): void => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, scale));

describe('factorialHmm: options, data and parameters', () => {
  it('rejects bad options, missing cells and bad parameters with typed errors naming them', () => {
    expect(catchEmError(() => factorialHmm({ nChains: 0 })).path).toEqual(['factorialHmm', 'nChains']);
    expect(catchEmError(() => factorialHmm({ nChains: 2, nStates: [2, 3, 4] })).path).toEqual(['factorialHmm', 'nStates']);
    expect(catchEmError(() => factorialHmm({ nChains: 2, nStates: 0 })).code).toBe('INVALID_ARGUMENT');
    const model = factorialHmm({ nChains: 2, nStates: [2, 3] });
    const e = catchEmError(() => model.validate({ x: [[1, 2], [Number.NaN, 1]], lengths: [2] }));
    expect([e.code, e.path]).toEqual(['INVALID_DATA', ['data', 'x', 1, 0]]);
    const p = randomParams(1, [2, 3], 2);
    expect(catchEmError(() => model.validateParams({ ...p, covariance: [[1, 2], [2, 1]] })).path).toEqual(['params', 'covariance']);
    expect(catchEmError(() => model.validateParams({ ...p, initial: [[0.5, 0.6], p.initial[1]] })).path).toEqual(['params', 'initial', 0]);
    expect(catchEmError(() => model.validateParams({ ...p, means: [p.means[0], [[1, 2], [1, 2]]] })).path).toEqual(['params', 'means', 1]);
    expect(catchEmError(() => model.validateParams(p, { x: [[1, 2, 3]], lengths: [1] })).path).toEqual(['params', 'covariance']);
    expect(catchEmError(() => model.sample(p, [3, 0])).path).toEqual(['lengths', 1]);
    const s = model.sample(p, [4, 3], 2);
    expect([s.x.length, s.states.length, s.states[0]?.length, s.lengths]).toEqual([7, 7, 2, [4, 3]]);
  });

  it('registers exact and mean-field E-steps for the factorial-chain kind', () => {
    const entries = listESteps('factorial-chain');
    expect(entries.find((r) => r.method === 'exact')?.family).toBe('exact');
    expect(entries.find((r) => r.method === 'mean-field')?.family).toBe('restricted');
    expect(catchEmError(() => factorialMeanFieldEStep({ innerTol: -1 })).path).toEqual(['factorialMeanFieldEStep', 'innerTol']);
    expect(catchEmError(() => factorialExactEStep({ maxJointStates: 0 })).path).toEqual(['factorialExactEStep', 'maxJointStates']);
  });
});

describe('factorialHmm M-step', () => {
  it('keeps a probability positive when its expected count is positive but denormal (the bound stays finite)', async () => {
    const model = factorialHmm({ nChains: 1, nStates: 2 });
    const p = randomParams(3, [2], 1);
    const data = model.sample(p, [6], 1);
    const prepared = model.prepare(data);
    const e = await runEStep(factorialExactEStep(), model.structure(prepared, p));
    const st = e.stats as FactorialHmmStats;
    const tiny: FactorialHmmStats = { ...st, transitions: [Float64Array.of(5, 1e-320, 0, 3)], initial: [Float64Array.of(1, 1e-321)] };
    const next = model.mStep(tiny, p, { rng: createRng(0), prepared, iteration: 1 }).params;
    expect(next.transition[0]![0]![1]).toBeGreaterThan(0);
    expect(next.transition[0]![1]![0]).toBe(0);
    expect(next.initial[0]![1]).toBeGreaterThan(0);
    expect(Number.isFinite(model.expectedLogJoint(tiny, next))).toBe(true);
  });
});

describe('factorial exact E-step against enumeration of every joint path', () => {
  it('log p(x), entropy, per-chain counts and second moments; the bound from statistics equals log p(x)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1e6 }), fc.constantFrom([2, 2], [2, 3], [3], [2, 2, 2]), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }), async (seed, ks, d, t) => {
        const model = factorialHmm({ nChains: ks.length, nStates: ks });
        const p = randomParams(seed, ks, d);
        const x = model.sample(p, [t], seed).x;
        const prepared = model.prepare({ x, lengths: [t] });
        const structure = model.structure(prepared, p);
        const e = await runEStep(factorialExactEStep(), structure);
        const truth = enumerate(p, ks, x);
        close(e.bound, truth.logP, Math.abs(truth.logP));
        close(e.logLikelihood as number, truth.logP, Math.abs(truth.logP));
        close(e.entropy, truth.entropy, truth.entropy);
        const st = e.stats as FactorialHmmStats;
        st.pairs.forEach((v, i) => close(v, truth.pairs[i]!, t));
        ks.forEach((_, l) => {
          st.initial[l]!.forEach((v, i) => close(v, truth.init[l]![i]!, 1));
          st.transitions[l]!.forEach((v, i) => close(v, truth.trans[l]![i]!, t));
        });
        close(model.expectedLogJoint(st, p) + e.entropy, e.bound, Math.abs(truth.logP) + truth.entropy);
      }),
      { numRuns: 40 },
    );
  });

  it('rejects product chains beyond maxJointStates with a typed error naming the remedy', async () => {
    const model = factorialHmm({ nChains: 3, nStates: 3 });
    const p = randomParams(2, [3, 3, 3], 1);
    const s = model.structure(model.prepare(model.sample(p, 5, 1).x), p);
    const err = await (async () => {
      try {
        await runEStep(factorialExactEStep({ maxJointStates: 10 }), s);
      } catch (error) {
        return error as { code: string; path: unknown[]; message: string };
      }
      throw new Error('no error');
    })();
    expect([err.code, err.path]).toEqual(['INVALID_ARGUMENT', ['structure', 'nStates']]);
    expect(err.message).toMatch(/mean-field/);
  });
});

describe('factorial structured mean field', () => {
  it('its bound is the ELBO of its own q by enumeration (every constant) and ≤ log p(x); with one chain it is exact', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1e6 }), fc.constantFrom([2, 2], [2, 3], [3], [2, 2, 2]), fc.integer({ min: 1, max: 3 }), async (seed, ks, t) => {
        const model = factorialHmm({ nChains: ks.length, nStates: ks });
        const p = randomParams(seed, ks, 2);
        const x = model.sample(p, [t], seed).x;
        const structure = model.structure(model.prepare({ x, lengths: [t] }), p) as FactorialChainStructure<FactorialHmmStats>;
        const d = driver(factorialMeanFieldEStep({ innerTol: 1e-14, maxSweeps: 2000 }), structure);
        const e = await d.run(structure);
        const q = d.state.marginals as Float64Array[];
        d.dispose();
        const truth = enumerate(p, ks, x);
        expect(e.bound).toBeLessThanOrEqual(truth.logP + 1e-9 * Math.abs(truth.logP));
        close(e.logLikelihood as number, truth.logP, Math.abs(truth.logP));
        if (ks.length === 1) close(e.bound, truth.logP, Math.abs(truth.logP));
        // q_m: the chain with π_m, A_m and φ^m from the others' final marginals; enumerate its paths.
        const m = ks.length;
        const chainPaths = ks.map((k, l) => {
          const phi = structure.meanFieldLogEmission(l, q);
          const list: { path: number[]; lw: number }[] = [];
          for (let n = 0; n < k ** t; n++) {
            const path: number[] = [];
            let r = n;
            for (let i = 0; i < t; i++) {
              path.push(r % k);
              r = Math.floor(r / k);
            }
            let lw = 0;
            path.forEach((s, i) => (lw += Math.log(i === 0 ? p.initial[l]![s]! : p.transition[l]![path[i - 1]!]![s]!) + phi[i * k + s]!));
            list.push({ path, lw });
          }
          const top = Math.max(...list.map((a) => a.lw));
          const z = top + Math.log(list.reduce((a, b) => a + Math.exp(b.lw - top), 0));
          return list.map((a) => ({ path: a.path, q: Math.exp(a.lw - z) }));
        });
        // ELBO = Σ_{paths of all chains} Π q_m · log p(x, s) + Σ_m H(q_m).
        let elbo = 0;
        for (const cp of chainPaths) for (const a of cp) if (a.q > 0) elbo -= a.q * Math.log(a.q);
        const rec = (l: number, weight: number, chosen: number[][]): void => {
          if (l === m) {
            let lj = 0;
            for (let i = 0; i < t; i++) {
              for (let c = 0; c < m; c++) lj += Math.log(i === 0 ? p.initial[c]![chosen[c]![0]!]! : p.transition[c]![chosen[c]![i - 1]!]![chosen[c]![i]!]!);
              lj += logGauss(x[i]!, x[0]!.map((_, j) => chosen.reduce((a, path, c) => a + p.means[c]![path[i]!]![j]!, 0)), p.covariance);
            }
            elbo += weight * lj;
            return;
          }
          for (const a of chainPaths[l]!) rec(l + 1, weight * a.q, [...chosen, a.path]);
        };
        rec(0, 1, []);
        close(e.bound, elbo, Math.abs(elbo));
        close(model.expectedLogJoint(e.stats as FactorialHmmStats, p) + e.entropy, e.bound, Math.abs(elbo));
      }),
      { numRuns: 30 },
    );
  });

  it('fits: monotone at every half-step (warm start), bound ≤ log p(x | θ) with the gap in the trace, reproducible', async () => {
    const ks = [2, 3];
    const model = factorialHmm({ nChains: 2, nStates: ks });
    const truth = randomParams(7, ks, 2);
    const data = model.sample(truth, [40, 30, 50], 3);
    const start = randomParams(8, ks, 2);
    const mf = await fit(model, data, { eStep: 'mean-field', init: start, seed: 1, maxIter: 60, monotonicity: 'throw' });
    expectMonotone(mf.trace, 120);
    expectBelowLogLikelihood(mf.trace, 120);
    expect(mf.trace.every((r) => (r.gap as number) >= -1e-8)).toBe(true);
    const again = await fit(model, data, { eStep: 'mean-field', init: start, seed: 1, maxIter: 60 });
    expect(again.params).toEqual(mf.params);
    const ex = await fit(model, data, { init: start, seed: 1, maxIter: 60, monotonicity: 'throw' });
    expectMonotone(ex.trace, 120);
    // Both raise the likelihood from the start; exact EM's bound is the log-likelihood itself.
    expect(mf.logLikelihood).toBeGreaterThan(mf.trace[0]!.logLikelihood as number);
    expect(Math.abs(ex.trace.at(-1)!.gap as number)).toBeLessThanOrEqual(1e-8 * 120);
    // Sequence weights: weight 2 = the sequence twice.
    const w = await fit(model, data, { eStep: 'mean-field', init: start, seed: 1, maxIter: 5, weights: [2, 1, 1], tol: 0 });
    const twice = await fit(model, { x: [...data.x.slice(0, 40), ...data.x], lengths: [40, ...data.lengths] }, { eStep: 'mean-field', init: start, seed: 1, maxIter: 5, tol: 0 });
    w.trace.forEach((r, i) => close(r.boundAfterM, twice.trace[i]!.boundAfterM, 200));
  });
});
