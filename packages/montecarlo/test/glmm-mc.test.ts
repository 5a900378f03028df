/**
 * The Monte Carlo and Laplace E-steps on the GLMM, against the quadrature MLE of
 * the lme4 fixture (poisson-intercept: glmer nAGQ = 20, polished; our AGHQ
 * log-likelihood matches it to 1e-9, see packages/models/test/glmm-lme4.test.ts).
 *
 * Fixed points: started at the MLE, MCEM (constant sample) and SAEM (Polyak–
 * Ruppert average and last iterate) must stay there within their Monte Carlo
 * error: over 8 seeds, the mean final β and Σ_b are within 4 standard errors
 * (the seeds' spread / √8) of the MLE. EM contracts slowly along the intercept
 * here (rate ≈ 0.9), so a biased Monte Carlo map would drift several times its
 * bias away within these iterations.
 *
 * The Laplace E-step: the bound is the Gaussian-q ELBO with every constant, so
 * at every iteration it is below the exact (quadrature) log-likelihood, the M-half
 * never lowers it, and any E-half drop is reported and exempt.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEStep, fit, listESteps, omitTimings } from '@emlab/core';
import { laplaceEStep, mcemEStep, metropolisEStep, saemEStep, type SaemReport } from '@emlab/montecarlo';
import { glmm, type GlmmModelParams } from '@emlab/models';

interface Lme4Case {
  name: string;
  family: 'poisson' | 'logistic';
  group: number[];
  y: number[];
  x: number[][];
  z: number[][];
  mle: { polished: { beta: number[]; sigma: number[][]; logLik: number } };
}
const fixture = JSON.parse(readFileSync(new URL('../../models/test/fixtures/glmm/lme4.json', import.meta.url), 'utf8')) as { cases: Lme4Case[] };
const c = fixture.cases.find((k) => k.name === 'poisson-intercept')!;
const model = glmm({ family: c.family });
const data = { group: c.group, y: c.y, x: c.x, z: c.z };
const mle: GlmmModelParams = { beta: c.mle.polished.beta, sigma: c.mle.polished.sigma };
const flat = (p: GlmmModelParams): number[] => [...p.beta, p.sigma[0]![0]!];

/** Mean over seeds within 4 standard errors (spread / √R) of the MLE, per coordinate. */
function expectWithinMcError(finals: number[][], label: string): void {
  const R = finals.length;
  const target = flat(mle);
  target.forEach((t, j) => {
    const xs = finals.map((f) => f[j]!);
    const mean = xs.reduce((a, b) => a + b, 0) / R;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (R - 1));
    expect(sd).toBeGreaterThan(0);
    expect(Math.abs(mean - t), `${label}, coordinate ${j}: ${mean} vs ${t} (se ${sd / Math.sqrt(R)})`).toBeLessThanOrEqual((4 * sd) / Math.sqrt(R));
  });
}

describe('registration for the continuous kind', () => {
  it('lists mcem, saem, stochastic (Metropolis–Hastings) and laplace', () => {
    const byName = Object.fromEntries(listESteps('continuous').map((e) => [e.method, e.family]));
    expect(byName).toMatchObject({ mcem: 'monte-carlo', saem: 'monte-carlo', stochastic: 'monte-carlo', laplace: 'restricted' });
    expect(createEStep('continuous', 'stochastic', { nDraws: 3, proposal: 'independence' }).options).toMatchObject({ nDraws: 3, proposal: 'independence', chains: 2 });
  });
});

describe('methods that need an exact E-step', () => {
  it('are refused before any work with typed errors that say what to use (accelerated EM by name and by accelerate)', async () => {
    for (const name of ['squarem', 'aitken', 'quasi-newton', 'parabolic']) {
      await expect(fit(model, data, { eStep: name, maxIter: 2 })).rejects.toThrow(new RegExp(`^options\\.accelerate = "${name}": accelerates the EM map of an exact E-step, and structure kind "continuous" \\(model glmm\\) has no exact E-step registered\\. Remedy: use a method registered for the kind \\(.*mcem.*saem.*\\)`));
    }
    await expect(fit(model, data, { accelerate: 'squarem', maxIter: 2 })).rejects.toThrow(/^options\.eStep = "exact": no method registered for structure kind "continuous"/);
    // Without eStep and without accelerate: the model's default method.
    const r = await fit(model, data, { maxIter: 2, seed: 1, eStepOptions: { nDraws: 5, importanceDraws: 20 }, onWarning: () => {} });
    expect(r.method.name).toBe('mcem');
  });
});

describe('fixed points agree with the quadrature MLE within Monte Carlo error', () => {
  it('MCEM (constant sample, Metropolis–Hastings draws)', async () => {
    const finals: number[][] = [];
    for (let seed = 0; seed < 8; seed++) {
      const r = await fit(model, data, { eStep: mcemEStep({ schedule: 'constant', nDraws: 80, burnIn: 3, initialBurnIn: 50, importanceDraws: 20 }), init: mle, seed, maxIter: 8, tol: 0, recordParams: true });
      finals.push(flat(r.params));
      if (seed === 0) {
        const T = r.trace.length;
        const last = r.trace[T - 1]!;
        // The exact (quadrature) log-likelihood at θ_T−1 rides along, and the importance estimate of it is honest.
        expect(last.logLikelihood).toBe(model.logLikelihood(model.prepare(data), r.trace[T - 2]!.params as GlmmModelParams));
        expect(Math.abs(last.boundAfterE - last.logLikelihood!)).toBeLessThanOrEqual(4 * last.boundStdErr!);
        for (const key of ['acceptanceRate', 'ess', 'rHat', 'deltaQ', 'deltaQStdErr']) expect(Number.isFinite(last.diagnostics[key]), key).toBe(true);
      }
    }
    expectWithinMcError(finals, 'MCEM');
  });

  it('SAEM (the Polyak–Ruppert average and the last iterate)', async () => {
    const averaged: number[][] = [];
    const last: number[][] = [];
    for (let seed = 0; seed < 8; seed++) {
      const r = await fit(model, data, { eStep: saemEStep({ k1: 0, k2: 60, nDraws: 3, burnIn: 2, initialBurnIn: 50, importanceDraws: 2 }), init: mle, seed, maxIter: 100 });
      expect(r.nIter).toBe(60);
      expect(r.convergenceReason).toBe('tol');
      const rep = r.report!['saem'] as SaemReport;
      expect(rep.nAveraged).toBe(60);
      averaged.push(flat(rep.averagedParams as GlmmModelParams));
      last.push(flat(r.params));
      expect(rep.averagedLogLikelihood).toBeLessThanOrEqual(c.mle.polished.logLik + 1e-9);
    }
    expectWithinMcError(averaged, 'SAEM averaged');
    expectWithinMcError(last, 'SAEM last');
  });
});

describe('SAEM with simulated annealing', () => {
  it('keeps Σ_b from shrinking faster than the annealing factor in the first phase, and says so in the trace', async () => {
    const r = await fit(model, data, { eStep: saemEStep({ k1: 20, k2: 10, annealing: 0.9, nDraws: 2, importanceDraws: 2 }), seed: 3, maxIter: 100, recordParams: true });
    expect(r.nIter).toBe(30);
    for (let t = 1; t < r.trace.length; t++) {
      const rec = r.trace[t]!;
      const before = (r.trace[t - 1]!.params as GlmmModelParams).sigma[0]![0]!;
      const after = (rec.params as GlmmModelParams).sigma[0]![0]!;
      if (t + 1 <= 10) {
        expect(rec.diagnostics['annealing']).toBe(0.9);
        expect(rec.exempt).toMatch(/annealing/);
        expect(after).toBeGreaterThanOrEqual(0.9 * before * (1 - 1e-12));
      } else {
        expect(rec.diagnostics['annealing']).toBeUndefined();
      }
      expect(rec.diagnostics['stepSize']).toBe(t + 1 <= 20 ? 1 : 1 / (t + 1 - 20));
    }
  });

  it('annealing is refused for a model without variances to inflate', async () => {
    const { gaussianMixture } = await import('@emlab/models');
    const e = await fit(gaussianMixture({ nComponents: 2 }), [[0], [1], [5], [6]], { eStep: saemEStep({ annealing: 0.95 }) }).catch((x: unknown) => x);
    expect((e as { code?: string; path?: unknown }).code).toBe('INVALID_ARGUMENT');
    expect((e as { path?: unknown }).path).toEqual(['saemEStep', 'annealing']);
  });
});

describe('the Laplace E-step', () => {
  it('its bound is the Gaussian-q ELBO: below the quadrature log-likelihood at every iteration; the M-half never lowers it', async () => {
    const r = await fit(model, data, { eStep: laplaceEStep(), seed: 0, maxIter: 25, tol: 0, monotonicity: 'throw' });
    expect(r.boundKind).toBe('lower-bound');
    for (const t of r.trace) {
      expect(t.gap!).toBeGreaterThanOrEqual(0);
      expect(t.boundAfterM).toBeGreaterThanOrEqual(t.boundAfterE - 1e-9);
      if (t.diagnostics['eHalfDrop']! > 0) expect(t.exempt).toMatch(/Laplace q/);
    }
    // The ELBO at the MLE is within the Laplace approximation's gap of the log-likelihood.
    expect(r.logLikelihood!).toBeLessThanOrEqual(c.mle.polished.logLik + 1e-9);
  });
});

describe('the Metropolis–Hastings stochastic E-step', () => {
  it('reports the estimate ± SE, the exact log-likelihood, MCMC diagnostics, and is reproducible from its seed', async () => {
    const run = async () => fit(model, data, { eStep: metropolisEStep({ nDraws: 10, chains: 2, importanceDraws: 30 }), seed: 'g', maxIter: 4, tol: 0 });
    const a = await run();
    expect(omitTimings(await run())).toEqual(omitTimings(a));
    expect(a.boundKind).toBe('estimate');
    for (const t of a.trace) {
      expect(t.boundStdErr!).toBeGreaterThan(0);
      expect(t.logLikelihood).not.toBeNull();
      for (const key of ['acceptanceRate', 'ess', 'essMedian', 'rHat', 'importanceEss', 'logLikelihoodEstimate', 'logLikelihoodStdErr']) expect(Number.isFinite(t.diagnostics[key]), key).toBe(true);
      expect(t.diagnostics['logLikelihoodEstimate']).toBe(t.diagnostics['eStepBound']);
      expect(Math.abs(t.boundAfterE - t.diagnostics['logLikelihoodEstimate']!)).toBeLessThan(1e-9 * Math.abs(t.boundAfterE));
    }
  });
});
