/**
 * The tempered chain E-step: the tempered q against brute-force enumeration
 * of every state path (marginals, counts, path entropy, the true L of the
 * tempered q ≤ log p(x), log p(x)), and HMM fits (β < 1 exempt and marked,
 * F_β never falling within a stage, M-halves monotone, convergence at β = 1
 * to EM's fixed point, reproducible).
 *
 * Tolerances: the E-step and the enumeration add the same float64 terms in
 * another order: 1e-10 × max(1, Σ|terms|).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createEStep, createRng, fit, listESteps } from '@emlab/core';
import '@emlab/exact';
import { CHAIN_TEMPERED_OPTIONS, chainTemperedEStep } from '@emlab/variational';
import { hiddenMarkovModel } from '@emlab/models';
import { bruteForceChain, catchEmError, chainTableStructure, chainTablesArb, runEStep, type ChainTableStats, type ChainTables } from '@emlab/testing';
import { expectBelowLogLikelihood, expectMonotone } from './helpers.js';
import { GAUSSIAN_HMM_START, gaussianHmmData } from './chain-helpers.js';

/** The tables with every log entry multiplied by β (q_β ∝ p^β as an HMM of its own). */
const temperedTables = (t: ChainTables, beta: number): ChainTables => ({
  ...t,
  logInitial: t.logInitial.map((v) => beta * v),
  logTransition: t.logTransition.map((r) => r.map((v) => beta * v)),
  logEmission: t.logEmission.map((r) => r.map((v) => beta * v)),
});

describe('chainTemperedEStep: options and registry', () => {
  it('is the restricted chain E-step "tempered" with the finite one\'s schedule options (jitter default 0.1)', () => {
    const e = chainTemperedEStep();
    expect([e.name, e.kind, e.family]).toEqual(['tempered', 'chain', 'restricted']);
    expect(e.options).toEqual({ beta0: 0.2, growth: 1.25, itersPerBeta: 5, stageTol: 1e-8, jitter: 0.1 });
    const entry = listESteps('chain').find((r) => r.method === 'tempered');
    expect(entry?.family).toBe('restricted');
    expect(entry?.options).toBe(CHAIN_TEMPERED_OPTIONS);
    expect(createEStep('chain', 'tempered', { betas: [0.5] }).options).toEqual({ betas: [0.5, 1], itersPerBeta: 5, stageTol: 1e-8, jitter: 0.1 });
  });

  it('rejects bad options with typed errors naming the option', () => {
    expect(catchEmError(() => chainTemperedEStep({ beta0: 0 })).path).toEqual(['chainTemperedEStep', 'beta0']);
    expect(catchEmError(() => chainTemperedEStep({ betas: [0.5, 0.2] })).path).toEqual(['chainTemperedEStep', 'betas', 1]);
    expect(catchEmError(() => chainTemperedEStep({ betas: [0.5], beta0: 0.1 })).path).toEqual(['chainTemperedEStep', 'betas']);
    expect(catchEmError(() => chainTemperedEStep({ nope: 1 } as never)).code).toBe('INVALID_ARGUMENT');
  });
});

describe('chainTemperedEStep against brute-force enumeration', () => {
  it('q_β ∝ p(x, z)^β: marginals, counts, H(q_β), L(q_β) = E_q log p + H ≤ log p(x), and log p(x)', async () => {
    await fc.assert(
      fc.asyncProperty(chainTablesArb(false), fc.double({ min: 0.05, max: 1, noNaN: true }), fc.integer({ min: 1, max: 3 }), async (t, beta, block) => {
        const e = await runEStep(chainTemperedEStep({ betas: [beta], jitter: 0 }), chainTableStructure(t, block), { rng: createRng(3) });
        const truth = bruteForceChain(t);
        const tq = bruteForceChain(temperedTables(t, beta));
        const stats = e.stats as ChainTableStats;
        const k = t.nStates;
        const w = t.weights ?? t.lengths.map(() => 1);
        let ll = 0;
        let bound = 0;
        let entropy = 0;
        let scale = 1;
        const trans = new Float64Array(k * k);
        const init = new Float64Array(k);
        let r = 0;
        t.lengths.forEach((len, s) => {
          const ws = w[s] as number;
          for (let i = 0; i < len; i++) {
            for (let j = 0; j < k; j++) {
              const expected = ws * ((tq.gamma[r + i] as number[])[j] as number);
              expect(Math.abs((stats.gamma[(r + i) * k + j] as number) - expected)).toBeLessThanOrEqual(1e-10 * Math.max(1, ws));
            }
          }
          if (ws !== 0) {
            ll += ws * (truth.logLikelihoods[s] as number);
            // E_q log p = E_q[β log p] / β; the tempered chain is impossible exactly when the original is.
            bound += ws * ((tq.expectedLogJoints[s] as number) / beta + (tq.entropies[s] as number));
            entropy += ws * (tq.entropies[s] as number);
            scale += ws * (Math.abs(tq.expectedLogJoints[s] as number) / beta + (tq.entropies[s] as number));
            for (let i = 0; i < k; i++) {
              init[i] = (init[i] as number) + ws * ((tq.initial[s] as number[])[i] as number);
              for (let j = 0; j < k; j++) trans[i * k + j] = (trans[i * k + j] as number) + ws * (((tq.transitions[s] as number[][])[i] as number[])[j] as number);
            }
          }
          r += len;
        });
        if (ll === Number.NEGATIVE_INFINITY) {
          expect(e.bound).toBe(Number.NEGATIVE_INFINITY);
          expect(e.logLikelihood).toBe(Number.NEGATIVE_INFINITY);
          return;
        }
        expect(Math.abs((e.logLikelihood as number) - ll)).toBeLessThanOrEqual(1e-10 * scale);
        expect(Math.abs(e.bound - bound)).toBeLessThanOrEqual(1e-10 * scale);
        expect(Math.abs(e.entropy - entropy)).toBeLessThanOrEqual(1e-10 * scale);
        expect(e.bound).toBeLessThanOrEqual(ll + 1e-10 * scale);
        if (beta === 1) expect(Math.abs(e.bound - ll)).toBeLessThanOrEqual(1e-10 * scale);
        trans.forEach((v, i) => expect(Math.abs((stats.transitions[i] as number) - v)).toBeLessThanOrEqual(1e-10 * Math.max(1, v)));
        init.forEach((v, i) => expect(Math.abs((stats.initial[i] as number) - v)).toBeLessThanOrEqual(1e-10 * Math.max(1, v)));
        // F_β = (1/β) Σ_s w_s log Z_β,s for the tempered q (no jitter).
        let fb = 0;
        t.lengths.forEach((_, s) => {
          if ((w[s] as number) !== 0) fb += ((w[s] as number) * (tq.logLikelihoods[s] as number)) / beta;
        });
        expect(Math.abs((e.diagnostics?.['freeEnergy'] as number) - fb)).toBeLessThanOrEqual(1e-10 * scale);
      }),
      { numRuns: 150 },
    );
  });

  it('with jitter, q is still a chain whose L is its bound (entropy from the jittered chain) and ≤ log p', async () => {
    const t: ChainTables = {
      nStates: 2,
      lengths: [4, 3],
      logInitial: [Math.log(0.5), Math.log(0.5)],
      logTransition: [[Math.log(0.9), Math.log(0.1)], [Math.log(0.1), Math.log(0.9)]],
      logEmission: [[-1, -1], [-1, -1], [0, 0], [-2, -2], [-1, -1], [-3, -3], [-1, -1]],
    };
    // Two stages: the second call changes β (0.3 → 0.6) and adds jitter, which breaks the exact symmetry.
    const e = chainTemperedEStep({ betas: [0.3, 0.6], itersPerBeta: 1, jitter: 0.5 });
    const rng = createRng(1);
    const s0 = chainTableStructure(t);
    const state = e.start?.({ rng, restart: 0, structure: s0 });
    const first = await e.run(s0, { rng: rng.child('a'), iteration: 1, passes: 0, state: state as never, precision: 'float64' });
    const second = await e.run(chainTableStructure(t), { rng: rng.child('b'), iteration: 2, passes: 1, state: state as never, precision: 'float64' });
    e.dispose?.(state as never);
    const g1 = (first.stats as ChainTableStats).gamma;
    const g2 = (second.stats as ChainTableStats).gamma;
    // Symmetric tables: without jitter both states are equally likely at every step.
    for (let i = 0; i < g1.length; i += 2) expect(g1[i]).toBeCloseTo(g1[i + 1] as number, 14);
    expect(Array.from(g2).some((v, i) => i % 2 === 0 && Math.abs(v - (g2[i + 1] as number)) > 1e-3)).toBe(true);
    expect(second.exempt).toMatch(/β changed from 0.3000 to 0.6000/);
    expect(second.bound).toBeLessThanOrEqual((second.logLikelihood as number) + 1e-12);
    // L of the kept q: E_q log p + H(q), with E_q log p from its statistics.
    const st = second.stats as ChainTableStats;
    let elj = 0;
    st.initial.forEach((c, j) => (elj += c * (t.logInitial[j] as number)));
    st.transitions.forEach((c, ij) => (elj += c * ((t.logTransition[Math.floor(ij / 2)] as number[])[ij % 2] as number)));
    st.gamma.forEach((g, i) => (elj += g * ((t.logEmission[Math.floor(i / 2)] as number[])[i % 2] as number)));
    expect(second.bound).toBeCloseTo(elj + second.entropy, 12);
    expect(second.entropy).toBeGreaterThan(0);
  });
});

describe('chainTemperedEStep in HMM fits', () => {
  const data = gaussianHmmData(11, [60, 45, 80]);
  const model = hiddenMarkovModel({ nStates: 3, emission: 'gaussian', covarianceType: 'diag' });

  it('β < 1 iterations are exempt and unsettled, F_β never falls within a stage, M-halves are monotone, it ends at EM\'s fixed point', async () => {
    const r = await fit(model, data, { eStep: 'tempered', eStepOptions: { beta0: 0.3, growth: 1.5, itersPerBeta: 4 }, seed: 4, maxIter: 300, tol: 1e-10, monotonicity: 'throw' });
    const w = 185;
    expectMonotone(r.trace, w);
    expectBelowLogLikelihood(r.trace, w);
    const betas = r.trace.map((rec) => rec.diagnostics['beta'] as number);
    expect(betas[0]).toBe(0.3);
    expect(betas.at(-1)).toBe(1);
    for (let i = 1; i < betas.length; i++) expect(betas[i] as number).toBeGreaterThanOrEqual(betas[i - 1] as number);
    r.trace.forEach((rec, i) => {
      const beta = betas[i] as number;
      if (beta < 1) {
        expect(rec.exempt).toBeDefined();
        expect(rec.unsettled).toBeDefined();
      } else expect(rec.exempt).toBeUndefined();
      // F_β at θ_t: never lower than at the previous iteration with the same β.
      if (i > 0 && betas[i - 1] === beta) {
        const f0 = r.trace[i - 1]?.diagnostics['freeEnergy'] as number;
        const f1 = rec.diagnostics['freeEnergy'] as number;
        expect(f1).toBeGreaterThanOrEqual(f0 - 1e-9 * Math.abs(f0));
      }
    });
    expect(r.converged).toBe(true);
    // At β = 1 the E-step is exact: the gap is 0.
    const last = r.trace.at(-1);
    expect(Math.abs(last?.gap as number)).toBeLessThanOrEqual(1e-8 * w);
    // A fixed point of EM: exact EM started there does not move.
    const em = await fit(model, data, { init: r.params, seed: 4, maxIter: 5, tol: 0 });
    expect(Math.abs((em.logLikelihood as number) - (r.logLikelihood as number))).toBeLessThanOrEqual(1e-6 * w);
  });

  it('is reproducible for one seed and honours sequence weights like repeated sequences', async () => {
    const opts = { eStep: 'tempered', eStepOptions: { beta0: 0.4, growth: 2, itersPerBeta: 2, jitter: 0 }, seed: 9, maxIter: 12, init: GAUSSIAN_HMM_START } as const;
    const a = await fit(model, data, opts);
    const b = await fit(model, data, opts);
    expect(b.params).toEqual(a.params);
    expect(b.trace.map((x) => x.boundAfterE)).toEqual(a.trace.map((x) => x.boundAfterE));
    // Weight 2 on the first sequence = the first sequence twice (no jitter: the draws would depend on the layout).
    const weighted = await fit(model, data, { ...opts, weights: [2, 1, 1] });
    const repeated = await fit(model, { x: [...data.x.slice(0, 60), ...data.x], lengths: [60, ...data.lengths] }, opts);
    expect(weighted.trace.length).toBe(repeated.trace.length);
    weighted.trace.forEach((rec, i) => expect(Math.abs(rec.boundAfterM - (repeated.trace[i]?.boundAfterM as number))).toBeLessThanOrEqual(1e-9 * 245));
  });
});

describe('chain tempered and incremental E-steps with a further latent (missing Gaussian cells, mixture emissions)', () => {
  it('stay monotone where checked and below log p(x | θ): the further latent keeps its exact conditional and its entropy', async () => {
    const data = gaussianHmmData(21, [50, 40, 60]);
    // 15% of cells missing (seeded), two fully missing steps.
    let s = 12345;
    const u = (): number => ((s = (s * 1_664_525 + 1_013_904_223) >>> 0) / 2 ** 32);
    const x = data.x.map((row) => row.map((v) => (u() < 0.15 ? Number.NaN : v)));
    x[10] = [Number.NaN, Number.NaN];
    x[70] = [Number.NaN, Number.NaN];
    const missing = { x, lengths: data.lengths };
    const w = 150;
    const gauss = hiddenMarkovModel({ nStates: 3, emission: 'gaussian', covarianceType: 'full' });
    const gmm = hiddenMarkovModel({ nStates: 2, emission: 'gmm', nMix: 2, covarianceType: 'diag' });
    for (const [model, d] of [[gauss, missing], [gmm, data]] as const) {
      for (const eStep of ['tempered', 'incremental'] as const) {
        const r = await fit(model, d, { eStep, eStepOptions: eStep === 'tempered' ? { beta0: 0.4, growth: 1.6, itersPerBeta: 3 } : { blocks: 3 }, seed: 2, maxIter: 40, monotonicity: 'throw' });
        expectMonotone(r.trace, w);
        expectBelowLogLikelihood(r.trace, w);
        // Tempered sees log p(x | θ) (the gap is KL(q ‖ posterior)); incremental reports none.
        if (eStep === 'tempered') expect(r.trace.every((rec) => rec.gap !== null && rec.gap >= -1e-9 * w)).toBe(true);
      }
    }
  });
});
