/**
 * MCEM: options and registration, schedules, the ascent-based rule and its
 * policy, common random numbers, reproducibility, and convergence to the exact
 * EM fixed point with a growing sample:
 *
 * - a Gaussian mixture (exact posterior draws): the final component means are
 *   within 4 × 1.5 one-step Monte Carlo standard errors of exact EM's fixed point
 *   (the one-step SE is computed from the exact responsibilities:
 *   Var μ̂_kd = Σ_n r_nk(1 − r_nk)(x_nd − μ_kd)² / (m n_k²); the 1.5 allows for noise
 *   carried over from earlier, smaller samples through EM's contraction, which
 *   is fast for these well-separated components), and the error shrinks as m grows;
 * - a Bayesian network with a hidden node and missing cells (Gibbs draws):
 *   over 8 seeds, the mean final CPT entry is within 4 standard errors (the
 *   seeds' spread / √8) of exact EM's (junction tree) fixed point (columns with
 *   at least one expected instance).
 */
import { describe, expect, it } from 'vitest';
import { convergencePolicy, createEStep, createRng, type EmError, fit, listESteps, omitTimings, type ConvergenceInput, type IterationRecord } from '@emlab/core';
import { factorGraphExactEStep } from '@emlab/exact';
import { ascentPolicy, mcemEStep, scheduledDraws } from '@emlab/montecarlo';
import { bayesianNetwork, gaussianMixture, sampleNetwork, type BnParams, type BnStats, type GmmParams } from '@emlab/models';
import { randomBayesNet, runEStep, catchEmError } from '@emlab/testing';

/** Two well-separated 2-D Gaussian clusters. */
function mixtureRows(n: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => {
    const c = i % 3 === 0 ? [3, 0] : [-1, 1];
    return [c[0]! + rng.normal(), c[1]! + 0.7 * rng.normal()];
  });
}

describe('options and registration', () => {
  it('is registered for finite, factor-graph and continuous structures as a Monte Carlo method', () => {
    for (const kind of ['finite', 'factor-graph', 'continuous']) expect(listESteps(kind).find((e) => e.method === 'mcem')?.family).toBe('monte-carlo');
    const m = createEStep('continuous', 'mcem', { schedule: 'geometric', nDraws: 8 });
    expect([m.name, m.kind, m.family]).toEqual(['mcem', 'continuous', 'monte-carlo']);
    expect(m.options['schedule']).toBe('geometric');
    expect(m.options['increment']).toBe(8);
    expect(mcemEStep({ schedule: (t: number) => 5 * t }).options['schedule']).toBe('function');
  });

  it('rejects bad options with typed errors naming the option', () => {
    expect(catchEmError(() => mcemEStep({ schedule: 'fast' as never })).path).toEqual(['mcemEStep', 'schedule']);
    expect(catchEmError(() => mcemEStep({ alpha: 0.6 })).path).toEqual(['mcemEStep', 'alpha']);
    expect(catchEmError(() => mcemEStep({ nDraws: 0 })).path).toEqual(['mcemEStep', 'nDraws']);
    expect(catchEmError(() => mcemEStep({ nDraws: 50, maxDraws: 10 })).path).toEqual(['mcemEStep', 'maxDraws']);
    expect(catchEmError(() => mcemEStep({ draws: 5 } as never)).path).toEqual(['mcemEStep', 'draws']);
    // Markov-chain options do not apply to exact finite draws.
    expect(catchEmError(() => createEStep('finite', 'mcem', { chains: 2 })).path).toEqual(['mcemEStep', 'chains']);
  });

  it('refuses a model whose structure it cannot sample, before any work', async () => {
    const fake = gaussianMixture({ nComponents: 2 });
    const model = Object.assign(Object.create(Object.getPrototypeOf(fake) as object) as object, fake, { structureKind: 'tree' }) as typeof fake;
    const e = await fit(model, mixtureRows(20, 1), { eStep: mcemEStep() }).catch((x: unknown) => x);
    expect((e as EmError).code).toBe('INVALID_ARGUMENT');
  });
});

describe('schedules', () => {
  const p = { nDraws: 10, increment: 5, ratio: 1.5, maxDraws: 40 };
  it('constant, linear, geometric, a function, capped at maxDraws; auto starts at nDraws', () => {
    expect([1, 2, 3].map((t) => scheduledDraws('constant', t, p))).toEqual([10, 10, 10]);
    expect([1, 2, 3, 8].map((t) => scheduledDraws('linear', t, p))).toEqual([10, 15, 20, 40]);
    expect([1, 2, 3, 4, 5].map((t) => scheduledDraws('geometric', t, p))).toEqual([10, 15, 23, 34, 40]);
    expect([1, 4].map((t) => scheduledDraws((t: number) => t * t, t, p))).toEqual([1, 16]);
    expect(scheduledDraws('auto', 7, p)).toBe(10);
    expect(catchEmError(() => scheduledDraws(() => 2.5, 3, p)).path).toEqual(['options', 'schedule']);
    expect(catchEmError(() => scheduledDraws(() => 0, 1, p)).code).toBe('INVALID_ARGUMENT');
  });
});

describe('the ascent-based stopping rule', () => {
  const rec = (bound: number, upper: number | undefined): IterationRecord =>
    ({ iteration: 1, boundAfterE: bound, boundAfterM: bound, logLikelihood: null, gap: null, entropy: 0, boundStdErr: 0, mStepSlack: 0, roundoffScale: 0, precision: 'float64', passes: 1, eStepMs: 0, mStepMs: 0, diagnostics: upper === undefined ? {} : { deltaQUpper: upper }, events: [], violations: [] }) as IterationRecord;
  const input = (trace: IterationRecord[]): ConvergenceInput => ({ trace, totalWeight: 100, precision: 'float64', family: 'monte-carlo', parameterHistory: () => undefined, gradientNorm: () => undefined });

  it('stops when the upper confidence bound of ΔQ is at most tol · max(|L|, W), never before two iterations', () => {
    const p = ascentPolicy(1e-4);
    expect(p.check(input([rec(-1000, 0.05)])).converged).toBe(false);
    expect(p.check(input([rec(-1000, 1), rec(-1000, 0.05)]))).toEqual({ converged: true, value: 5e-5, threshold: 1e-4 });
    expect(p.check(input([rec(-1000, 1), rec(-1000, 0.2)])).converged).toBe(false);
    expect(p.check(input([rec(-10, 1), rec(-10, 0.02)])).value).toBeCloseTo(2e-4, 15); // W = 100 is the scale
    expect(p.check(input([rec(-10, 1), rec(-10, Number.NaN)])).converged).toBe(false);
    expect(p.withTol!(1e-2).tol).toBe(1e-2);
    expect(p.withTol!(1e-2).check(input([rec(-1000, 1), rec(-1000, 5)])).converged).toBe(true);
  });

  it("is MCEM's policy in fit, and keeps applying when fit gets a tol", async () => {
    const gmm = gaussianMixture({ nComponents: 2 });
    const rows = mixtureRows(60, 2);
    const r = await fit(gmm, rows, { eStep: mcemEStep({ nDraws: 5 }), seed: 1, maxIter: 8, tol: 1e-3 });
    expect(r.convergence.policy).toBe('mcem-ascent');
    expect(r.convergence.tol).toBe(1e-3);
    const r2 = await fit(gmm, rows, { eStep: mcemEStep({ nDraws: 5 }), seed: 1, maxIter: 8, convergence: convergencePolicy('monte-carlo', 1e-3) });
    expect(r2.convergence.policy).toBe('monte-carlo');
  });
});

describe('MCEM on a Gaussian mixture (exact posterior draws)', () => {
  const rows = mixtureRows(150, 3);
  const gmm = gaussianMixture({ nComponents: 2, covarianceType: 'diag' });

  it('with a geometric schedule approaches exact EM’s fixed point within its Monte Carlo error', async () => {
    const em = await fit(gmm, rows, { eStep: 'exact', seed: 4, tol: 1e-14, maxIter: 500 });
    const init = (await fit(gmm, rows, { eStep: 'exact', seed: 4, maxIter: 1, tol: 0 })).params;
    const iterations = 22;
    const r = await fit(gmm, rows, { eStep: mcemEStep({ schedule: 'geometric', nDraws: 10, ratio: 1.3 }), init, seed: 5, maxIter: iterations, tol: 0, recordParams: true });
    expect(r.trace.map((t) => t.diagnostics['nDraws'])).toEqual(Array.from({ length: iterations }, (_, t) => Math.ceil(10 * 1.3 ** t - 1e-9)));
    const star = em.params as GmmParams;
    // Responsibilities at the fixed point, by hand.
    const resp = rows.map((x) => {
      const l = star.weights.map((w, k) => {
        let s = Math.log(w);
        for (let d = 0; d < 2; d++) {
          const v = (star.covariances[k] as number[][])[d]![d]!;
          s += -0.5 * Math.log(2 * Math.PI * v) - ((x[d]! - star.means[k]![d]!) ** 2) / (2 * v);
        }
        return s;
      });
      const m = Math.max(...l);
      const e = l.map((v) => Math.exp(v - m));
      const z = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / z);
    });
    const m = r.trace[iterations - 1]!.diagnostics['nDraws']!;
    const final = r.params as GmmParams;
    const errAt = (t: number): number => {
      const p = r.trace[t]!.params as GmmParams;
      return Math.max(...p.means.flatMap((mu, k) => mu.map((v, d) => Math.abs(v - star.means[k]![d]!))));
    };
    for (let k = 0; k < 2; k++) {
      const nk = resp.reduce((a, r0) => a + r0[k]!, 0);
      for (let d = 0; d < 2; d++) {
        let v = 0;
        rows.forEach((x, n) => (v += resp[n]![k]! * (1 - resp[n]![k]!) * (x[d]! - star.means[k]![d]!) ** 2));
        const se = Math.sqrt(v / (m * nk * nk));
        expect(Math.abs(final.means[k]![d]! - star.means[k]![d]!), `mean ${k},${d} (se ${se})`).toBeLessThanOrEqual(4 * 1.5 * se);
      }
    }
    // The error shrinks as the sample grows.
    const early = [3, 4, 5, 6, 7].map(errAt).reduce((a, b) => a + b, 0);
    const late = [17, 18, 19, 20, 21].map(errAt).reduce((a, b) => a + b, 0);
    expect(late).toBeLessThan(early);
    // Honest estimates: the bound is log p(x | θ) estimated ± SE; the exact value comes with it.
    const last = r.trace[iterations - 1]!;
    expect(last.logLikelihood).not.toBeNull();
    expect(Math.abs(last.boundAfterE - last.logLikelihood!)).toBeLessThanOrEqual(4 * last.boundStdErr!);
    expect(last.diagnostics['ess']).toBe(m);
  });

  it('the automatic rule grows the sample, appends draws when ΔQ is not significant, and stops on the upper bound', async () => {
    const r = await fit(gmm, rows, { eStep: mcemEStep({ schedule: 'auto', nDraws: 5, maxDraws: 3000 }), seed: 6, maxIter: 60, tol: 1e-6 });
    const draws = r.trace.map((t) => t.diagnostics['nDraws']!);
    expect(r.convergenceReason).toBe('tol');
    expect(draws[draws.length - 1]!).toBeGreaterThan(draws[0]!);
    for (const t of r.trace) {
      const d = t.diagnostics;
      // ΔQ̂ ≥ 0 (the M-step maximizes Q̃) and the bounds bracket it.
      expect(d['deltaQ']!).toBeGreaterThanOrEqual(-1e-9);
      expect(d['deltaQLower']!).toBeLessThanOrEqual(d['deltaQ']! + 1e-12);
      expect(d['deltaQUpper']!).toBeGreaterThanOrEqual(d['deltaQ']! - 1e-12);
      // Accepted steps had a positive lower bound unless the cap stopped the growth.
      if (d['nDraws']! < 3000) expect(d['deltaQLower']!).toBeGreaterThan(0);
      expect(d['nextDraws']!).toBeGreaterThanOrEqual(5);
    }
    expect(r.trace.some((t) => t.diagnostics['extensions']! > 0)).toBe(true);
    const last = r.trace[r.trace.length - 1]!;
    expect(last.diagnostics['deltaQUpper']! / Math.max(Math.abs(last.boundAfterM), 150)).toBeLessThanOrEqual(1e-6);
  });

  it('common random numbers make the Monte Carlo map deterministic: the iterates settle exactly, unlike fresh draws', async () => {
    const spread = async (crn: boolean): Promise<number> => {
      const r = await fit(gmm, rows, { eStep: mcemEStep({ schedule: 'constant', nDraws: 50, crn }), seed: 7, maxIter: 40, tol: 0, recordParams: true });
      const mu = (t: number): number => (r.trace[t]!.params as GmmParams).means[0]![0]!;
      return Math.abs(mu(39) - mu(38));
    };
    expect(await spread(true)).toBeLessThan(1e-9);
    expect(await spread(false)).toBeGreaterThan(1e-6);
  });

  it('is reproducible from its seed', async () => {
    const run = async () => omitTimings(await fit(gmm, rows, { eStep: mcemEStep({ schedule: 'auto', nDraws: 5 }), seed: 'same', maxIter: 6 }));
    expect(await run()).toEqual(await run());
  });
});

describe('MCEM on a Bayesian network (Gibbs draws)', () => {
  const net = randomBayesNet(12, { nNodes: 5, maxCard: 2, edgeProbability: 0.6 });
  const hidden = net.nodes[1]!.name;
  const data = sampleNetwork(net, 300, 3, { missingRate: 0.15, hide: [hidden] });
  const model = bayesianNetwork(net, { hidden: [hidden] });
  const init: BnParams = { cpts: Object.fromEntries(net.nodes.map((n) => [n.name, n.cpt])) };

  it('with a growing sample, the mean over seeds of the final CPTs is within 4 standard errors of exact EM’s fixed point', async () => {
    const em = await fit(model, data, { eStep: 'exact', init, tol: 1e-13, maxIter: 2000, precision: 'float64' });
    const R = 8;
    const finals: BnParams[] = [];
    for (let seed = 0; seed < R; seed++) {
      const r = await fit(model, data, { eStep: mcemEStep({ schedule: 'geometric', nDraws: 40, ratio: 1.25, chains: 2, burnIn: 3, initialBurnIn: 30 }), init: em.params, seed, maxIter: 8, tol: 0 });
      finals.push(r.params);
    }
    // Expected family counts at the fixed point: columns (parent configurations) with less than one
    // expected instance are left out (a rare configuration may get no draw at all, and its column is
    // then the M-step's uniform 0/0 convention, not an estimate).
    const prepared = model.prepare(data, { precisions: ['float64'] });
    const st = model.structure(prepared, em.params, { precision: 'float64' });
    const counts = ((await runEStep(factorGraphExactEStep(), st)).stats as BnStats).counts;
    let checked = 0;
    for (const [v, node] of net.nodes.entries()) {
      const exact = em.params.cpts[node.name]!;
      const K = node.states.length;
      exact.forEach((e, i) => {
        const c0 = i - (i % K);
        let column = 0;
        for (let k = 0; k < K; k++) column += counts[v]![c0 + k]!;
        if (column < 1) return;
        const xs = finals.map((f) => f.cpts[node.name]![i]!);
        const mean = xs.reduce((a, b) => a + b, 0) / R;
        const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (R - 1));
        // A family observed in every row: the same counts as EM's, up to the junction tree's rounding.
        if (sd === 0) expect(mean).toBeCloseTo(e, 10);
        else {
          expect(Math.abs(mean - e), `${node.name}[${i}]: ${mean} vs ${e} (se ${sd / Math.sqrt(R)})`).toBeLessThanOrEqual((4 * sd) / Math.sqrt(R));
          checked++;
        }
      });
    }
    expect(checked).toBeGreaterThan(4);
  });

  it('reports Gibbs diagnostics and does not depend on how evidence patterns are batched', async () => {
    const run = async (batchSize: number) => {
      const r = omitTimings(await fit(bayesianNetwork(net, { hidden: [hidden], batchSize }), data, { eStep: mcemEStep({ schedule: 'constant', nDraws: 20 }), init, seed: 3, maxIter: 3, tol: 0 })) as { trace: IterationRecord[]; params: BnParams };
      return { trace: r.trace, params: r.params };
    };
    const a = await run(7);
    expect(await run(4096)).toEqual(a);
    const d = a.trace[2]!.diagnostics;
    for (const key of ['nDraws', 'ess', 'rHat', 'deltaQ', 'deltaQStdErr', 'importanceEss']) expect(Number.isFinite(d[key]), key).toBe(true);
  });
});
