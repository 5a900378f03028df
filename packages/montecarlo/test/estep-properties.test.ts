/**
 * Contract properties of the new E-steps and methods (what the conformance kit
 * will check once it is on main): registration and typed option errors, the
 * Gibbs E-step's bound as an honest estimate of the exact log-likelihood
 * (within 4 of its standard errors at every iteration), weight 2 = a duplicated
 * row, reproducibility from the seed, no tensor growth, dispose on abort.
 */
import { describe, expect, it } from 'vitest';
import { createEStep, fit, listESteps, logLikelihoodOf, omitTimings } from '@emlab/core';
import '@emlab/exact';
import { gibbsEStep, laplaceEStep, mcemEStep, metropolisEStep, saemEStep } from '@emlab/montecarlo';
import { bayesianNetwork, sampleNetwork, type BnData, type BnParams } from '@emlab/models';
import { expectNoTensorLeak, randomBayesNet, catchEmError } from '@emlab/testing';

const net = randomBayesNet(31, { nNodes: 5, maxCard: 3, edgeProbability: 0.5 });
const hidden = net.nodes[2]!.name;
const data = sampleNetwork(net, 200, 4, { missingRate: 0.2, hide: [hidden] });
const model = bayesianNetwork(net, { hidden: [hidden] });
const init: BnParams = { cpts: Object.fromEntries(net.nodes.map((n) => [n.name, n.cpt])) };

describe('registration and options', () => {
  it('gibbs is registered for factor graphs; options are checked with typed errors naming them', () => {
    expect(listESteps('factor-graph').find((e) => e.method === 'gibbs')?.family).toBe('monte-carlo');
    expect(createEStep('factor-graph', 'gibbs', { nDraws: 4 }).options).toMatchObject({ nDraws: 4, chains: 2, burnIn: 5, thin: 1 });
    expect(catchEmError(() => gibbsEStep({ nDraws: 0 })).path).toEqual(['gibbsEStep', 'nDraws']);
    expect(catchEmError(() => gibbsEStep({ proposal: 'random-walk' } as never)).path).toEqual(['gibbsEStep', 'proposal']);
    expect(catchEmError(() => metropolisEStep({ df: 0 })).path).toEqual(['metropolisEStep', 'df']);
    expect(catchEmError(() => metropolisEStep({ proposal: 'langevin' as never })).path).toEqual(['metropolisEStep', 'proposal']);
    expect(catchEmError(() => laplaceEStep({ nDraws: 3 })).path).toEqual(['laplaceEStep', 'nDraws']);
    expect(catchEmError(() => createEStep('continuous', 'laplace', { x: 1 })).code).toBe('INVALID_ARGUMENT');
  });
});

describe('the Gibbs E-step on a Bayesian network', () => {
  it('reports log p(x | θ) estimated ± SE, within 4 SE of the exact value at every iteration', async () => {
    const r = await fit(model, data, { eStep: gibbsEStep({ nDraws: 20, importanceDraws: 64 }), init, seed: 1, maxIter: 5, tol: 0, recordParams: true });
    expect(r.boundKind).toBe('estimate');
    let params = init;
    for (const t of r.trace) {
      const exact = (await logLikelihoodOf(model, data, params))!;
      expect(t.boundStdErr!).toBeGreaterThan(0);
      expect(Math.abs(t.boundAfterE - exact), `iteration ${t.iteration}`).toBeLessThanOrEqual(4 * t.boundStdErr!);
      for (const key of ['nDraws', 'ess', 'rHat', 'importanceEss', 'logLikelihoodEstimate', 'logLikelihoodStdErr']) expect(Number.isFinite(t.diagnostics[key]), key).toBe(true);
      params = t.params as BnParams;
    }
    expect(r.logLikelihood).not.toBeNull();
  });

  it('a row of weight 2 is a duplicated row; reproducible from the seed; no tensors left behind', async () => {
    const cols = data.columns.length;
    const dup: BnData = { columns: data.columns, nRows: data.nRows + 1, values: Int32Array.from([...data.values, ...data.values.subarray(0, cols)]) };
    const weights = Array.from({ length: data.nRows }, (_, i) => (i === 0 ? 2 : 1));
    const opts = { eStep: gibbsEStep({ nDraws: 6 }), init, seed: 2, maxIter: 3, tol: 0 } as const;
    const a = await expectNoTensorLeak(() => fit(model, data, { ...opts, weights }));
    const b = await fit(model, dup, opts);
    expect(a.params).toEqual(b.params);
    expect(a.trace.map((t) => t.boundAfterM)).toEqual(b.trace.map((t) => t.boundAfterM));
    expect(omitTimings(await fit(model, data, { ...opts, weights }))).toEqual(omitTimings(a));
  });
});

describe('methods stop cleanly', () => {
  it('MCEM and SAEM end with reason aborted when the signal fires mid-fit', async () => {
    for (const eStep of [mcemEStep({ schedule: 'constant', nDraws: 5 }), saemEStep({ k1: 2, k2: 50 })]) {
      const controller = new AbortController();
      const r = await fit(model, data, { eStep, init, seed: 0, maxIter: 50, tol: 0, signal: controller.signal, onIteration: (rec) => void (rec.iteration === 2 && controller.abort()) });
      expect(r.convergenceReason).toBe('aborted');
      expect(r.nIter).toBe(2);
    }
  });
});
