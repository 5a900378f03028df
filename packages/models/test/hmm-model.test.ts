/**
 * The HMM model's API and properties:
 *
 * - against brute-force enumeration of every state path on small random
 *   Poisson and categorical HMMs (fast-check; emission densities written in
 *   the test): `scoreSequences`, `predictProba`, `predict` (a most probable
 *   path), and the exact E-step's statistics through the model's structure
 *   (initial, transition and occupancy counts, Poisson moments), 1e-10 relative;
 * - statistics additive over sequences and invariant to their order; a
 *   sequence weight of 2 is the sequence twice (same trace and parameters);
 * - save/load round trip; sampling; BIC/AIC; the registration and its options;
 * - a user emission family (exponential) written in the test;
 * - bad inputs → typed errors naming the field (ragged rows, empty sequences,
 *   lengths that do not add up, unknown categories, K > T, transition rows not
 *   summing to 1, structural zeros violated, weights of the wrong length, ...).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, findModel, fit, type ChainStructure, type StatsAlgebra } from '@emlab/core';
import { loadParams, saveParams } from '@emlab/core/node';
import { chainExactEStep } from '@emlab/exact';
import '@emlab/variational';
import { hiddenMarkovModel, type HmmEmission, type HmmParams, type HmmStats, type ObservationMatrix, type PoissonEmissionStats } from '@emlab/models';
import { catchEmError, catchEmErrorAsync, runEStep } from '@emlab/testing';
import { drawData, randomDistribution } from './hmm-helpers.js';

const quiet = { onWarning: () => undefined };

// ---------------------------------------------------------------------------
// Brute force
// ---------------------------------------------------------------------------

const logFactorial = (n: number): number => {
  let s = 0;
  for (let i = 2; i <= n; i++) s += Math.log(i);
  return s;
};

interface SmallHmm {
  readonly k: number;
  readonly lengths: number[];
  readonly params: HmmParams;
  readonly x: number[][];
  /** log p(x_t | k) by hand: `[ΣT][K]`. */
  readonly logEmission: number[][];
  readonly family: 'poisson' | 'categorical';
}

const smallHmmArb: fc.Arbitrary<SmallHmm> = fc
  .record({
    k: fc.integer({ min: 1, max: 3 }),
    lengths: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
    seed: fc.integer({ min: 0, max: 1e9 }),
    family: fc.constantFrom('poisson' as const, 'categorical' as const),
    missing: fc.double({ min: 0, max: 0.4, noNaN: true }),
  })
  .map(({ k, lengths, seed, family, missing }) => {
    const rng = createRng(seed);
    const rows = lengths.reduce((a, b) => a + b, 0);
    const initial = randomDistribution(rng, k, 0.05);
    const transition = Array.from({ length: k }, () => randomDistribution(rng, k, 0.05));
    const d = 2;
    const emission = family === 'poisson'
      ? { type: 'poisson', rates: Array.from({ length: k }, () => Array.from({ length: d }, () => 0.2 + 6 * rng.uniform())) }
      : { type: 'categorical', probabilities: Array.from({ length: k }, () => [randomDistribution(rng, 3, 0.02), randomDistribution(rng, 2, 0.02)]) };
    const x = Array.from({ length: rows }, () => Array.from({ length: d }, (_, j) => (rng.uniform() < missing ? Number.NaN : family === 'poisson' ? rng.int(9) : rng.int(j === 0 ? 3 : 2))));
    const logEmission = x.map((row) => Array.from({ length: k }, (_, s) => row.reduce((a, v, j) => {
      if (Number.isNaN(v)) return a;
      if (family === 'poisson') {
        const l = ((emission as { rates: number[][] }).rates[s] as number[])[j] as number;
        return a + v * Math.log(l) - l - logFactorial(v);
      }
      return a + Math.log((((emission as { probabilities: number[][][] }).probabilities[s] as number[][])[j] as number[])[v] as number);
    }, 0)));
    return { k, lengths, params: { initial, transition, emission } as HmmParams, x, logEmission, family };
  });

interface Enumerated {
  logP: number[];
  gamma: number[][];
  best: number[];
  init: number[];
  trans: number[];
}

function enumerate(h: SmallHmm): Enumerated {
  const { k } = h;
  const out: Enumerated = { logP: [], gamma: [], best: [], init: new Array<number>(k).fill(0), trans: new Array<number>(k * k).fill(0) };
  let r0 = 0;
  for (const len of h.lengths) {
    const paths: { z: number[]; lj: number }[] = [];
    for (let c = 0; c < k ** len; c++) {
      const z = Array.from({ length: len }, (_, t) => Math.floor(c / k ** (len - 1 - t)) % k);
      let lj = Math.log(h.params.initial[z[0] as number] as number) + ((h.logEmission[r0] as number[])[z[0] as number] as number);
      for (let t = 1; t < len; t++) lj += Math.log((h.params.transition[z[t - 1] as number] as number[])[z[t] as number] as number) + ((h.logEmission[r0 + t] as number[])[z[t] as number] as number);
      paths.push({ z, lj });
    }
    const m = Math.max(...paths.map((p) => p.lj));
    const logP = m + Math.log(paths.reduce((a, p) => a + Math.exp(p.lj - m), 0));
    const gamma = Array.from({ length: len }, () => new Array<number>(k).fill(0));
    for (const p of paths) {
      const q = Math.exp(p.lj - logP);
      p.z.forEach((s, t) => ((gamma[t] as number[])[s] = ((gamma[t] as number[])[s] as number) + q));
      out.init[p.z[0] as number] = (out.init[p.z[0] as number] as number) + q;
      for (let t = 1; t < len; t++) out.trans[(p.z[t - 1] as number) * k + (p.z[t] as number)] = (out.trans[(p.z[t - 1] as number) * k + (p.z[t] as number)] as number) + q;
    }
    out.logP.push(logP);
    out.gamma.push(...gamma);
    out.best.push(m);
    r0 += len;
  }
  return out;
}

const near = (a: number, b: number, scale = 1): void => {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(b), scale));
};

describe('HMM against brute-force enumeration (Poisson and categorical, missing cells)', () => {
  const modelOf = (h: SmallHmm) => hiddenMarkovModel(h.family === 'poisson' ? { nStates: h.k, emission: 'poisson' } : { nStates: h.k, emission: 'categorical', nCategories: [3, 2] });

  it('scoreSequences, predictProba and predict', () => {
    fc.assert(
      fc.property(smallHmmArb, (h) => {
        const model = modelOf(h);
        const data = { x: h.x, lengths: h.lengths };
        const bf = enumerate(h);
        const scale = h.logEmission.flat().reduce((a, v) => a + Math.abs(v), 0);
        model.scoreSequences(h.params as never, data).forEach((v, s) => near(v, bf.logP[s] as number, scale));
        model.predictProba(h.params as never, data).forEach((row, t) => row.forEach((v, j) => near(v, (bf.gamma[t] as number[])[j] as number)));
        const { states, logJoints } = model.decode(h.params as never, data);
        logJoints.forEach((v, s) => near(v, bf.best[s] as number, scale));
        // The decoded path attains the maximum.
        let r0 = 0;
        h.lengths.forEach((len, s) => {
          let lj = Math.log(h.params.initial[states[r0] as number] as number) + ((h.logEmission[r0] as number[])[states[r0] as number] as number);
          for (let t = 1; t < len; t++) lj += Math.log((h.params.transition[states[r0 + t - 1] as number] as number[])[states[r0 + t] as number] as number) + ((h.logEmission[r0 + t] as number[])[states[r0 + t] as number] as number);
          near(lj, bf.best[s] as number, scale);
          r0 += len;
        });
      }),
      { numRuns: 120 },
    );
  });

  it("the exact E-step's statistics through the model's chain structure", async () => {
    await fc.assert(
      fc.asyncProperty(smallHmmArb, async (h) => {
        const model = hiddenMarkovModel({ nStates: h.k, emission: 'poisson' });
        if (h.family !== 'poisson') return;
        const data = { x: h.x, lengths: h.lengths };
        const prepared = model.prepare(data); // (validate would refuse K > ΣT; the E-step itself does not care)
        const e = await runEStep(chainExactEStep(), model.structure(prepared, h.params as never) as ChainStructure);
        const bf = enumerate(h);
        const stats = e.stats as HmmStats<PoissonEmissionStats>;
        stats.initial.forEach((v, i) => near(v, bf.init[i] as number));
        stats.transitions.forEach((v, i) => near(v, bf.trans[i] as number, h.x.length));
        const occupancy = new Array<number>(h.k).fill(0);
        bf.gamma.forEach((row) => row.forEach((g, j) => (occupancy[j] = (occupancy[j] as number) + g)));
        stats.occupancy.forEach((v, j) => near(v, occupancy[j] as number, h.x.length));
        // Poisson moments: Σ_t γ_tk x_td over observed cells.
        for (let j = 0; j < h.k; j++) {
          for (let c = 0; c < 2; c++) {
            let n = 0;
            let s = 0;
            h.x.forEach((row, t) => {
              if (Number.isNaN(row[c] as number)) return;
              n += (bf.gamma[t] as number[])[j] as number;
              s += ((bf.gamma[t] as number[])[j] as number) * (row[c] as number);
            });
            near(stats.emission.n[j * 2 + c] as number, n, h.x.length);
            near(stats.emission.s[j * 2 + c] as number, s, 8 * h.x.length);
          }
        }
        near(e.logLikelihood as number, bf.logP.reduce((a, b) => a + b, 0), h.logEmission.flat().reduce((a, v) => a + Math.abs(v), 0));
      }),
      { numRuns: 120 },
    );
  });
});

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

describe('HMM statistics and weights', () => {
  const data = drawData('gaussian-diag', 2, [30, 20, 25], 'props');
  const model = hiddenMarkovModel({ nStates: 2, covarianceType: 'diag' });
  const statsOf = async (x: number[][], lengths: number[], params: HmmParams): Promise<HmmStats> => {
    const d = { x, lengths };
    model.validate(d);
    return (await runEStep(chainExactEStep(), model.structure(model.prepare(d), params as never) as ChainStructure)).stats as HmmStats;
  };
  const flatten = (s: HmmStats): number[] => {
    const e = s.emission as { n: Float64Array; s1: Float64Array; s2: Float64Array; ref: Float64Array };
    // The mixture statistics are moments about a reference point: compare the moments about 0.
    const d = e.ref.length / e.n.length;
    const raw: number[] = [];
    for (let c = 0; c < e.n.length; c++) {
      for (let i = 0; i < d; i++) raw.push((e.s1[c * d + i] as number) + (e.n[c] as number) * (e.ref[c * d + i] as number));
    }
    return [...s.initial, ...s.transitions, ...s.occupancy, ...e.n, ...raw];
  };
  const close = (a: number[], b: number[]): void => a.forEach((v, i) => expect(Math.abs(v - (b[i] as number))).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(v))));

  it('are additive over sequences and invariant to their order', async () => {
    const init = (await fit(model, data, { seed: 0, maxIter: 2, ...quiet })).params as HmmParams;
    const seqs = [0, 30, 50, 75].slice(0, 3).map((a, s) => data.x.slice(a, a + (data.lengths[s] as number)));
    const all = await statsOf(data.x, data.lengths, init);
    const first = await statsOf(seqs[0] as number[][], [30], init);
    const rest = await statsOf([...(seqs[1] as number[][]), ...(seqs[2] as number[][])], [20, 25], init);
    close(flatten(model.stats.add(first, rest)), flatten(all));
    const reordered = await statsOf([...(seqs[2] as number[][]), ...(seqs[0] as number[][]), ...(seqs[1] as number[][])], [25, 30, 20], init);
    close(flatten(reordered), flatten(all));
  });

  it('a sequence weight of 2 is the sequence twice (trace and parameters)', async () => {
    const init = (await fit(model, data, { seed: 0, maxIter: 1, ...quiet })).params as HmmParams;
    const weighted = await fit(model, data, { init, weights: [1, 2, 1], maxIter: 8, tol: 0, ...quiet });
    const twice = await fit(model, { x: [...data.x, ...data.x.slice(30, 50)], lengths: [30, 20, 25, 20] }, { init, maxIter: 8, tol: 0, ...quiet });
    weighted.trace.forEach((r, i) => expect(Math.abs(r.boundAfterM - (twice.trace[i]?.boundAfterM as number))).toBeLessThanOrEqual(1e-9 * Math.abs(r.boundAfterM)));
    expect(weighted.totalWeight).toBe(twice.totalWeight);
    expect(weighted.totalWeight).toBe(95);
    const a = weighted.params as HmmParams;
    const b = twice.params as HmmParams;
    a.transition.flat().forEach((v, i) => expect(v).toBeCloseTo(b.transition.flat()[i] as number, 10));
  });

  it('weights of the wrong length are an error naming options.weights', async () => {
    const err = await catchEmErrorAsync(fit(model, data, { weights: [1, 1], ...quiet }));
    expect([err.code, err.path]).toEqual(['INVALID_ARGUMENT', ['options', 'weights']]);
  });
});

describe('HMM API', () => {
  const data = drawData('gaussian-full', 3, [80, 60], 'api');
  const model = hiddenMarkovModel({ nStates: 3 });

  it('saves and loads parameters exactly (validated on load)', async () => {
    const r = await fit(model, data, { seed: 1, maxIter: 10, ...quiet });
    const dir = mkdtempSync(join(tmpdir(), 'emlab-hmm-'));
    try {
      const file = join(dir, 'params.json');
      await saveParams(file, model.name, r.params);
      const back = await loadParams<HmmParams>(file, model);
      expect(back).toEqual(r.params);
      expect(model.predict(back as never, data)).toEqual(model.predict(r.params as never, data));
      const other = hiddenMarkovModel({ nStates: 2 });
      expect((await catchEmErrorAsync(loadParams(file, other))).code).toBe('INVALID_PARAMS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('samples sequences of the given lengths whose transitions follow the matrix (within 4 SE)', () => {
    const p: HmmParams = { initial: [1, 0], transition: [[0.9, 0.1], [0.3, 0.7]], emission: { type: 'poisson', rates: [[1], [5]] } as never };
    const m = hiddenMarkovModel({ nStates: 2, emission: 'poisson' });
    const s = m.sample(p as never, [20_000, 10], 7);
    expect(s.lengths).toEqual([20_000, 10]);
    expect(s.x).toHaveLength(20_010);
    expect(s.states[0]).toBe(0);
    expect(s.states[20_000]).toBe(0);
    let from0 = 0;
    let to1 = 0;
    for (let t = 1; t < 20_000; t++) {
      if (s.states[t - 1] === 0) {
        from0++;
        if (s.states[t] === 1) to1++;
      }
    }
    expect(Math.abs(to1 / from0 - 0.1)).toBeLessThanOrEqual(4 * Math.sqrt((0.1 * 0.9) / from0));
    expect(m.sample(p as never, [5, 5], 7)).toEqual(m.sample(p as never, [5, 5], 7));
  });

  it('BIC and AIC: −2 log L + p log ΣT and + 2p, p counting the estimated parameters', async () => {
    const r = await fit(model, data, { seed: 1, maxIter: 5, ...quiet });
    const p = 2 + 6 + 6 + 9; // initial, transitions, means, full covariances (K = 3, D = 2)
    expect(model.nParameters(r.params as never)).toBe(p);
    const ll = model.score(r.params as never, data);
    expect(model.bic(r.params as never, data)).toBeCloseTo(-2 * ll + p * Math.log(140), 9);
    expect(model.aic(r.params as never, data)).toBeCloseTo(-2 * ll + 2 * p, 9);
  });

  it('is registered as hmm with its option schema; options round-trip through the registration', () => {
    const reg = findModel('hmm');
    expect(reg.structureKind).toBe('chain');
    expect(reg.options['nStates']?.flag).toBe('states');
    expect(reg.options['sequenceColumn']?.flag).toBe('sequence-column');
    const m = reg.create({ nStates: 2, emission: 'gmm', nMix: 3, covarianceType: 'diag' }) as typeof model;
    expect(m.options).toMatchObject({ nStates: 2, emission: 'gmm', nMix: 3, covarianceType: 'diag', initial: 'free', params: 'ste' });
    expect((reg.create(m.options) as typeof model).options).toEqual(m.options);
    expect(hiddenMarkovModel({ nStates: 2, emission: 'poisson' }).options).not.toHaveProperty('covarianceType');
  });

  it('summarizes the data: sequences, missing cells and fully missing steps', () => {
    const x = [[1, Number.NaN], [Number.NaN, Number.NaN], [2, 3], [4, 5]];
    const d = { x, lengths: [3, 1] };
    model.validate(d);
    expect(model.summarizeData(model.prepare(d))).toEqual({ nSequences: 2, nMissing: 3, nStepsAllMissing: 1, minLength: 1, maxLength: 3 });
  });
});

// ---------------------------------------------------------------------------
// A user emission family
// ---------------------------------------------------------------------------

interface ExpParams {
  readonly type: 'exponential';
  readonly rates: number[];
}
interface ExpStats {
  readonly n: Float64Array;
  readonly s: Float64Array;
}
const expAlgebra: StatsAlgebra<ExpStats> = {
  zero: (l) => ({ n: new Float64Array(l.n.length), s: new Float64Array(l.s.length) }),
  add: (a, b) => ({ n: a.n.map((v, i) => v + (b.n[i] as number)), s: a.s.map((v, i) => v + (b.s[i] as number)) }),
  scale: (a, c) => ({ n: a.n.map((v) => v * c), s: a.s.map((v) => v * c) }),
};
/** Exponential waiting times (one column): p(x | k) = λ_k e^{−λ_k x}; plain JavaScript. */
const exponential: HmmEmission<ExpParams, ExpStats, ObservationMatrix> = {
  type: 'exponential',
  options: {},
  letters: 'e',
  initMethods: ['random'],
  stats: expAlgebra,
  validate(x) {
    if (x.cols !== 1) throw new Error('one column');
  },
  prepare: (x) => x,
  init: (_x, k, _m, rng) => ({ params: { type: 'exponential', rates: Array.from({ length: k }, () => 0.2 + 2 * rng.uniform()) } }),
  block: (x, p, r0, rows) => ({
    logDensity: () => {
      const k = p.rates.length;
      const out = new Float64Array(rows * k);
      for (let t = 0; t < rows; t++) {
        const v = x.values[r0 + t] as number;
        for (let s = 0; s < k; s++) out[t * k + s] = Number.isNaN(v) ? 0 : Math.log(p.rates[s] as number) - (p.rates[s] as number) * v;
      }
      return out;
    },
    stats: (w) => {
      const k = p.rates.length;
      const n = new Float64Array(k);
      const s = new Float64Array(k);
      for (let t = 0; t < rows; t++) {
        const v = x.values[r0 + t] as number;
        if (Number.isNaN(v)) continue;
        for (let j = 0; j < k; j++) {
          n[j] = (n[j] as number) + (w[t * k + j] as number);
          s[j] = (s[j] as number) + (w[t * k + j] as number) * v;
        }
      }
      return { n, s };
    },
  }),
  mStep: (st, prev, ctx) => (ctx.update.includes('e') ? { params: { type: 'exponential', rates: prev.rates.map((l, k) => ((st.n[k] as number) > 0 ? (st.n[k] as number) / (st.s[k] as number) : l)) } } : { params: prev }),
  expectedLogLikelihood: (st, p) => p.rates.reduce((a, l, k) => a + (st.n[k] as number) * Math.log(l) - l * (st.s[k] as number), 0),
  nParameters: (p, update) => (update.includes('e') ? p.rates.length : 0),
  validateParams(params: unknown, k: number): asserts params is ExpParams {
    const p = params as ExpParams;
    if (p?.type !== 'exponential' || p.rates.length !== k) throw new Error('bad exponential params');
  },
  sample: (p, k, rng) => Float64Array.of(-Math.log(1 - rng.uniform()) / (p.rates[k] as number)),
};

describe('a user emission family', () => {
  it('fits with the exact and hard E-steps, monotone, and recovers its rates', async () => {
    const model = hiddenMarkovModel({ nStates: 2, emission: exponential });
    expect(model.options['emission']).toBe('exponential');
    const truth: HmmParams<ExpParams> = { initial: [0.5, 0.5], transition: [[0.95, 0.05], [0.05, 0.95]], emission: { type: 'exponential', rates: [0.2, 5] } };
    const { x } = model.sample(truth as never, 4000, 11);
    const r = await fit(model, x, { init: 'random', seed: 2, nInit: 2, monotonicity: 'throw', ...quiet });
    const rates = [...(r.params as HmmParams<ExpParams>).emission.rates].sort((a, b) => a - b);
    expect(Math.abs((rates[0] as number) - 0.2)).toBeLessThan(0.02);
    expect(Math.abs((rates[1] as number) - 5)).toBeLessThan(0.5);
    await fit(model, x, { eStep: 'hard', init: 'random', seed: 2, maxIter: 30, monotonicity: 'throw', ...quiet });
  });
});

// ---------------------------------------------------------------------------
// Bad inputs
// ---------------------------------------------------------------------------

describe('HMM bad inputs → typed errors naming the field', () => {
  const g = hiddenMarkovModel({ nStates: 2 });
  const rows = [[0, 1], [1, 2], [2, 3], [3, 4]];
  const good: HmmParams = {
    initial: [0.5, 0.5],
    transition: [[0.9, 0.1], [0.2, 0.8]],
    emission: { type: 'gaussian', covarianceType: 'full', means: [[0, 0], [1, 1]], covariances: [[[1, 0], [0, 1]], [[1, 0], [0, 1]]] } as never,
  };
  const cases: [string, () => unknown, string, (string | number)[]][] = [
    ['ragged rows', () => g.validate({ x: [[0, 1], [1]], lengths: [2] }), 'INVALID_DATA', ['data.x', 1]],
    ['an empty sequence', () => g.validate({ x: rows, lengths: [2, 0, 2] }), 'INVALID_DATA', ['data', 'lengths', 1]],
    ['lengths that do not add up', () => g.validate({ x: rows, lengths: [2, 3] }), 'INVALID_DATA', ['data', 'lengths']],
    ['a negative length', () => g.validate({ x: rows, lengths: [5, -1] }), 'INVALID_DATA', ['data', 'lengths', 1]],
    ['no rows', () => g.validate({ x: [], lengths: [] }), 'INVALID_DATA', ['data.x']],
    ['K > T', () => hiddenMarkovModel({ nStates: 5 }).validate({ x: rows, lengths: [4] }), 'INVALID_DATA', ['data']],
    ['an infinite cell', () => g.validate([[0, 1], [Infinity, 1]]), 'INVALID_DATA', ['data', 1, 0]],
    ['a column of extreme scale (Gaussian)', () => g.validate([[1e300, 0], [-1e300, 1], [5e299, 2]]), 'INVALID_DATA', ['data', 'column', 0]],
    ['every cell missing', () => g.validate([[Number.NaN, Number.NaN], [Number.NaN, Number.NaN]]), 'INVALID_DATA', ['data']],
    ['an unknown category', () => hiddenMarkovModel({ nStates: 2, emission: 'categorical', nCategories: [3] }).validate([[0], [1], [3]]), 'INVALID_DATA', ['data', 2, 0]],
    ['a non-integer category', () => hiddenMarkovModel({ nStates: 2, emission: 'categorical' }).validate([[0], [1.5]]), 'INVALID_DATA', ['data', 1, 0]],
    ['a category the parameters do not know', () => hiddenMarkovModel({ nStates: 1, emission: 'categorical' }).predict({ initial: [1], transition: [[1]], emission: { type: 'categorical', probabilities: [[[0.5, 0.5]]] } } as never, [[0], [2]]), 'INVALID_DATA', ['data', 1, 0]],
    ['a negative count', () => hiddenMarkovModel({ nStates: 1, emission: 'poisson' }).validate([[1], [-1]]), 'INVALID_DATA', ['data', 1, 0]],
    ['transition rows not summing to 1', () => g.validateParams({ ...good, transition: [[0.9, 0.2], [0.2, 0.8]] }), 'INVALID_PARAMS', ['params', 'transition', 0]],
    ['initial not summing to 1', () => g.validateParams({ ...good, initial: [0.5, 0.6] }), 'INVALID_PARAMS', ['params', 'initial']],
    ['a negative transition probability', () => g.validateParams({ ...good, transition: [[1.1, -0.1], [0.2, 0.8]] }), 'INVALID_PARAMS', ['params', 'transition', 0, 1]],
    ['a structural zero violated', () => hiddenMarkovModel({ nStates: 2, topology: 'left-right' }).validateParams({ ...good, initial: [1, 0], transition: [[0.9, 0.1], [0.2, 0.8]] }), 'INVALID_PARAMS', ['params', 'transition', 1, 0]],
    ['emission parameters of another family', () => g.validateParams({ ...good, emission: { type: 'poisson', rates: [[1], [2]] } }), 'INVALID_PARAMS', ['params', 'emission', 'type']],
    ['a non-PD covariance', () => g.validateParams({ ...good, emission: { ...good.emission, covariances: [[[1, 2], [2, 1]], [[1, 0], [0, 1]]] } }), 'INVALID_PARAMS', ['params', 'emission', 'covariances', 0]],
    ['parameters of the wrong width for the data', () => g.predict(good as never, [[0, 1, 2], [1, 2, 3]]), 'INVALID_PARAMS', ['params', 'emission', 'means', 0]],
    ['nStates 0', () => hiddenMarkovModel({ nStates: 0 }), 'INVALID_ARGUMENT', ['options', 'nStates']],
    ['an unknown emission', () => hiddenMarkovModel({ nStates: 2, emission: 'beta' as never }), 'INVALID_ARGUMENT', ['options', 'emission']],
    ['an unknown option', () => hiddenMarkovModel({ nStates: 2, nComponents: 2 } as never), 'INVALID_ARGUMENT', ['options', 'nComponents']],
    ['an unknown parameter letter', () => hiddenMarkovModel({ nStates: 2, params: 'stx' }), 'INVALID_ARGUMENT', ['options', 'params']],
    ['part of the emission in initParams', () => hiddenMarkovModel({ nStates: 2, initParams: 'stm' }), 'INVALID_ARGUMENT', ['options', 'initParams']],
    ['a transitionMatrix option with rows not summing to 1', () => hiddenMarkovModel({ nStates: 2, transitionMatrix: [[0.5, 0.6], [0.5, 0.5]] }), 'INVALID_ARGUMENT', ['options', 'transitionMatrix', 0]],
    ['a transitionMatrix of the wrong size', () => hiddenMarkovModel({ nStates: 3, transitionMatrix: [[1, 0], [0, 1]] }), 'INVALID_ARGUMENT', ['options', 'transitionMatrix']],
    ['left-right with a start outside state 0', () => hiddenMarkovModel({ nStates: 2, topology: 'left-right', initialProbs: [0.5, 0.5] }), 'INVALID_ARGUMENT', ['options', 'initialProbs']],
    ['left-right with a stationary start', () => hiddenMarkovModel({ nStates: 2, topology: 'left-right', initial: 'stationary' }), 'INVALID_ARGUMENT', ['options', 'initial']],
    ['a sample length of 0', () => g.sample(good as never, [3, 0]), 'INVALID_ARGUMENT', ['lengths']],
  ];
  it.each(cases)('%s', (_name, f, code, path) => {
    const err = catchEmError(f);
    expect(err.code).toBe(code);
    expect(err.path).toEqual(path);
  });

  it('an unknown init method names options.init', async () => {
    const err = await catchEmErrorAsync(fit(g, rows, { init: 'kmeans++', ...quiet }));
    expect([err.code, err.path]).toEqual(['INVALID_ARGUMENT', ['options', 'init']]);
  });
});
