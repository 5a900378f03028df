/**
 * The Bayesian-network model: exact log-likelihood through fit, the
 * monotone-bound property over random networks, hidden sets and missingness
 * (ML and MAP), the M-step (MLE, pseudo-counts, empty parent configurations,
 * frozen nodes), initialization, typed validation errors, JSON round trip of
 * the parameters and tensor hygiene.
 *
 * Monotonicity tolerance: core's δ = 64 · 2⁻²⁴ · max(|L_before|, |L_after|, N)
 * at every half-step (fit with `monotonicity: 'throw'`), the same bar as the
 * Gaussian mixture; the trace's log-likelihoods are checked against it too.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, EmError, fit, monotonicityTolerance, type FitResult } from '@emlab/core';
import '@emlab/exact';
import {
  bayesianNetwork,
  BayesianNetwork,
  bnMStepCpt,
  bnParamsFromNetwork,
  logGamma,
  networkWithParams,
  sampleNetwork,
  type BayesNet,
  type BnData,
  type BnParams,
} from '@emlab/models';
import {
  asiaNetwork,
  bnAsFactorGraph,
  bruteForceFactorGraph,
  catchEmError,
  catchEmErrorAsync,
  expectNoTensorLeak,
  randomBayesNet,
} from '@emlab/testing';

const quiet = { onWarning: (): void => {} };

/** Brute-force log-likelihood of BnData (columns may be a subset of nodes). */
function bruteLogLik(net: BayesNet, params: BnParams, data: BnData): number {
  const g = bnAsFactorGraph(networkWithParams(net, params));
  const nv = net.nodes.length;
  const colOf = data.columns.map((c) => net.nodes.findIndex((n) => n.name === c));
  let ll = 0;
  for (let r = 0; r < data.nRows; r++) {
    const row = new Int32Array(nv).fill(-1);
    data.columns.forEach((_, c) => (row[colOf[c] as number] = data.values[r * data.columns.length + c] as number));
    ll += bruteForceFactorGraph(g, row).logEvidence;
  }
  return ll;
}

/** The log-likelihood (ML) or the MAP objective log p(x | θ) + log prior(θ) (= boundAfterE) never decreases. */
function checkTraceMonotone(r: FitResult<BnParams>, n: number, map = false): void {
  const lls = r.trace.map((t) => (map ? t.boundAfterE : (t.logLikelihood as number)));
  for (let i = 1; i < lls.length; i++) {
    const before = lls[i - 1] as number;
    const after = lls[i] as number;
    expect(after).toBeGreaterThanOrEqual(before - monotonicityTolerance(before, after, n));
  }
}

describe('log-likelihood and monotonicity', () => {
  it('fit reports the exact log-likelihood (brute force) and the gap is ~0', async () => {
    const net = asiaNetwork();
    const data = sampleNetwork(net, 300, 1, { missingRate: 0.3, hide: ['lung'] });
    const model = bayesianNetwork(net, { hidden: ['lung'] });
    const r = await fit(model, data, { seed: 2, maxIter: 5, tol: 0, monotonicity: 'throw', ...quiet });
    expect(r.logLikelihood).not.toBeNull();
    const ref = bruteLogLik(net, r.params, data);
    expect(Math.abs((r.logLikelihood as number) - ref)).toBeLessThanOrEqual(1e-5 * Math.abs(ref));
    for (const t of r.trace) expect(Math.abs(t.gap as number)).toBeLessThanOrEqual(1e-4 * Math.abs(t.boundAfterE));
    expect(r.trace[0]?.diagnostics['nPatterns']).toBeGreaterThan(1);
    expect(r.trace[0]?.diagnostics['nPatterns']).toBeLessThanOrEqual(300);
  });

  it('MAP: the bound includes the log prior, and the gap (log-likelihood + log prior − bound) is still ~0', async () => {
    const net = asiaNetwork();
    const data = sampleNetwork(net, 300, 1, { missingRate: 0.3 });
    const model = bayesianNetwork(net, { pseudoCount: 1 });
    const r = await fit(model, data, { seed: 2, maxIter: 5, tol: 0, monotonicity: 'throw', ...quiet });
    expect(model.logPrior(r.params)).toBeLessThan(-1);
    for (const t of r.trace) expect(Math.abs(t.gap as number)).toBeLessThanOrEqual(1e-4 * Math.abs(t.boundAfterE));
  });

  it('monotone over random networks, hidden sets, frozen nodes and missingness (ML and MAP)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: 2, max: 6 }),
        fc.double({ min: 0, max: 0.6, noNaN: true }),
        fc.constantFrom(0, 0, 0.5, 2),
        async (seed, nNodes, missingRate, pseudoCount) => {
          const net = randomBayesNet(seed, { nNodes, concentration: 0.8 });
          const rng = createRng(seed).child('hidden');
          const hidden = net.nodes.filter(() => rng.uniform() < 0.3).map((n) => n.name).slice(0, nNodes - 1);
          const frozen = net.nodes.filter(() => rng.uniform() < 0.2).map((n) => n.name);
          const data = sampleNetwork(net, 60, seed, { missingRate, hide: hidden });
          // Small batches: several evidence batches per E-step.
          const model = bayesianNetwork(net, { hidden, frozen, pseudoCount, batchSize: 1 + rng.int(40) });
          const r = await fit(model, data, { seed, maxIter: 12, tol: 0, monotonicity: 'throw', ...quiet });
          checkTraceMonotone(r, data.nRows, pseudoCount > 0);
          for (const t of r.trace) {
            expect(Number.isFinite(t.boundAfterE)).toBe(true);
            expect(t.violations).toEqual([]);
          }
          for (const cpt of Object.values(r.params.cpts)) for (const p of cpt) expect(Number.isFinite(p)).toBe(true);
        },
      ),
      { numRuns: 40, seed: 21 },
    );
  });

  it('complete data: one M-step is the count MLE and EM stops at once', async () => {
    const net = asiaNetwork();
    const data = sampleNetwork(net, 500, 3);
    const r = await fit(bayesianNetwork(net), data, { seed: 0, tol: 1e-10, ...quiet });
    expect(r.converged).toBe(true);
    expect(r.nIter).toBeLessThanOrEqual(3);
    // P(smoke = yes) is the fraction of rows with smoke = yes.
    const c = data.columns.indexOf('smoke');
    let yes = 0;
    for (let i = 0; i < data.nRows; i++) if (data.values[i * data.columns.length + c] === 0) yes++;
    expect(r.params.cpts['smoke']?.[0]).toBeCloseTo(yes / data.nRows, 6);
  });
});

describe('M-step', () => {
  it('pseudo-counts: (n + a) / (N + K a); a zero-count configuration gets the uniform distribution', () => {
    const { cpt, empty } = bnMStepCpt([3, 1, 0, 0, 2, 2], 2, 0);
    expect(cpt).toEqual([0.75, 0.25, 0.5, 0.5, 0.5, 0.5]);
    expect(empty).toEqual([1]);
    const map = bnMStepCpt([3, 1, 0, 0], 2, 1);
    expect(map.cpt).toEqual([4 / 6, 2 / 6, 0.5, 0.5]);
    expect(map.empty).toEqual([]);
  });

  it('a positive (even denormal) expected count keeps a positive probability; a zero count stays 0', () => {
    const { cpt } = bnMStepCpt([5e-324, 1000, 0, 0, 7], 5, 0);
    expect(cpt[0]).toBeGreaterThan(0);
    expect(cpt[2]).toBe(0);
    expect(cpt[1]! + cpt[4]!).toBeCloseTo(1, 15);
  });

  it('an unseen parent configuration is reported as an event, never NaN', async () => {
    const net: BayesNet = {
      name: 'two',
      nodes: [
        { name: 'A', states: ['a0', 'a1'], parents: [], cpt: [0.5, 0.5] },
        { name: 'B', states: ['b0', 'b1'], parents: ['A'], cpt: [0.3, 0.7, 0.6, 0.4] },
      ],
    };
    // A is always a0 (observed), B observed: the configuration A = a1 has zero expected count.
    const data: BnData = { columns: ['A', 'B'], nRows: 4, values: Int32Array.from([0, 0, 0, 1, 0, 1, 0, -1]) };
    const r = await fit(bayesianNetwork(net), data, { seed: 0, maxIter: 3, tol: 0, monotonicity: 'throw', ...quiet });
    expect(r.params.cpts['B']?.slice(2)).toEqual([0.5, 0.5]);
    const ev = r.trace[0]?.events.find((e) => e.type === 'empty-parent-configuration');
    expect(ev?.detail).toMatch(/node "B".*A=a1/);
    for (const p of Object.values(r.params.cpts).flat()) expect(Number.isNaN(p)).toBe(false);
  });

  it('MAP objective = expected log joint + Dirichlet log prior (with its constant)', () => {
    const net = asiaNetwork();
    const m0 = bayesianNetwork(net);
    const m1 = bayesianNetwork(net, { pseudoCount: 2 });
    const params = bnParamsFromNetwork(net);
    const stats = { counts: net.nodes.map((n) => n.cpt.map((_, i) => i + 1)) };
    // Dir(θ | 3, 3) on 2 states: log Γ(6) − 2 log Γ(3) + 2 Σ log θ, for 1 + 2 + 1 + 2 + 2 + 4 + 2 + 4 = 18 columns.
    let prior = 0;
    for (const n of net.nodes) {
      const cols = n.cpt.length / 2;
      prior += cols * (logGamma(6) - 2 * logGamma(3));
      for (const p of n.cpt) prior += 2 * Math.log(p);
    }
    // asia has zero CPT entries (either): the prior density there is 0, log −∞.
    expect(m1.logPrior(params)).toBe(prior);
    expect(prior).toBe(Number.NEGATIVE_INFINITY);
    const positive = networkWithParams(net, { cpts: Object.fromEntries(net.nodes.map((n) => [n.name, n.cpt.map((p) => (p === 0 ? 0.01 : p === 1 ? 0.99 : p))])) });
    const pp = bnParamsFromNetwork(positive);
    expect(m1.expectedLogJoint(stats, pp) - m0.expectedLogJoint(stats, pp)).toBeCloseTo(m1.logPrior(pp), 10);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
  });

  it('frozen nodes keep their CPTs', async () => {
    const net = asiaNetwork();
    const data = sampleNetwork(net, 200, 4, { missingRate: 0.2 });
    const r = await fit(bayesianNetwork(net, { frozen: ['dysp', 'asia'] }), data, { seed: 0, maxIter: 5, ...quiet });
    expect(r.params.cpts['dysp']).toEqual(net.nodes.find((n) => n.name === 'dysp')?.cpt);
    expect(r.params.cpts['asia']).toEqual([0.01, 0.99]);
    expect(r.params.cpts['smoke']).not.toEqual([0.5, 0.5]);
  });
});

describe('initialization and restarts', () => {
  it('random init: seeded, different per restart, valid CPTs; network init = the network', async () => {
    const net = asiaNetwork();
    const data = sampleNetwork(net, 100, 5, { hide: ['tub'] });
    const model: BayesianNetwork = bayesianNetwork(net, { hidden: ['tub'] });
    const prepared = model.prepare(data);
    try {
      const a = model.init(prepared, 'random', createRng(1).child('a'));
      const a2 = model.init(prepared, 'random', createRng(1).child('a'));
      const b = model.init(prepared, 'random', createRng(1).child('b'));
      expect(a).toEqual(a2);
      expect(a.cpts['tub']).not.toEqual(b.cpts['tub']);
      model.validateParams(a);
      // smoke's family is observed in every row: it starts at its count MLE in every restart.
      expect(a.cpts['smoke']).toEqual(b.cpts['smoke']);
      expect(model.init(prepared, 'network', createRng(0))).toEqual(bnParamsFromNetwork(net));
    } finally {
      prepared.dispose();
    }
    const r = await fit(model, data, { seed: 0, nInit: 3, maxIter: 10, ...quiet });
    expect(r.restarts.length).toBe(3);
    expect(new Set(r.restarts.map((x) => x.bound.toFixed(6))).size).toBeGreaterThanOrEqual(1);
  });

  it('parameters are plain JSON: a reloaded fit warm-starts exactly', async () => {
    const net = asiaNetwork();
    const data = sampleNetwork(net, 150, 6, { missingRate: 0.2 });
    const model = bayesianNetwork(net);
    const r = await fit(model, data, { seed: 0, maxIter: 4, tol: 0, ...quiet });
    const reloaded = JSON.parse(JSON.stringify(r.params)) as BnParams;
    expect(reloaded).toEqual(r.params);
    const again = await fit(model, data, { init: reloaded, maxIter: 1, ...quiet });
    expect(again.trace[0]?.logLikelihood).toBeCloseTo(r.logLikelihood as number, 6);
  });
});

describe('validation (typed errors before any work)', () => {
  const net = asiaNetwork();
  const model = bayesianNetwork(net, { hidden: ['tub'] });
  const good = sampleNetwork(net, 10, 0, { hide: ['tub'] });

  it('data', async () => {
    let e = await catchEmErrorAsync(fit(model, { ...good, columns: ['asia', 'smokes', ...good.columns.slice(2)] }, quiet));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.path).toEqual(['data', 'columns', 1]);
    const bad = Int32Array.from(good.values);
    bad[3 * good.columns.length + 1] = 2;
    e = await catchEmErrorAsync(fit(model, { ...good, values: bad }, quiet));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toMatch(/row 4/);
    const withTub = sampleNetwork(net, 10, 0);
    e = await catchEmErrorAsync(fit(model, withTub, quiet));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.message).toMatch(/declared hidden/);
    e = await catchEmErrorAsync(fit(model, { columns: good.columns, nRows: 0, values: new Int32Array(0) }, quiet));
    expect(e.code).toBe('INVALID_DATA');
  });

  it('options and parameters', () => {
    expect(catchEmError(() => bayesianNetwork(net, { hidden: ['nope'] })).path).toEqual(['options', 'hidden', 0]);
    expect(catchEmError(() => bayesianNetwork(net, { frozen: ['x'] })).code).toBe('INVALID_ARGUMENT');
    expect(catchEmError(() => bayesianNetwork(net, { pseudoCount: -1 })).path).toEqual(['options', 'pseudoCount']);
    expect(catchEmError(() => bayesianNetwork(net, { hiden: ['tub'] } as never)).code).toBe('INVALID_ARGUMENT');
    const p = bnParamsFromNetwork(net);
    expect(catchEmError(() => model.validateParams({ cpts: { ...p.cpts, smoke: [0.5] } })).path).toEqual(['params', 'cpts', 'smoke']);
    expect(catchEmError(() => model.validateParams({ cpts: { ...p.cpts, smoke: [0.7, 0.7] } })).code).toBe('INVALID_PARAMS');
    expect(catchEmError(() => model.validateParams({ cpts: { ...p.cpts, smoke: [Number.NaN, 1] } })).code).toBe('INVALID_PARAMS');
    expect(catchEmError(() => model.validateParams(null)).code).toBe('INVALID_PARAMS');
  });
});

describe('tensor hygiene', () => {
  it('no tensor leaks across fits, restarts and errors', async () => {
    const net = asiaNetwork();
    const data = sampleNetwork(net, 200, 7, { missingRate: 0.2, hide: ['either'] });
    const model = bayesianNetwork(net, { hidden: ['either'], batchSize: 64 });
    await expectNoTensorLeak(() => fit(model, data, { seed: 1, nInit: 2, maxIter: 20, ...quiet }), 'bn fit');
    await expectNoTensorLeak(async () => {
      await catchEmErrorAsync(fit(model, data, { seed: 1, maxIter: 20, onIteration: () => { throw new EmError('INTERNAL', 'stop'); }, ...quiet }));
    }, 'bn fit throwing');
  });
});
