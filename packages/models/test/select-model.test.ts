/**
 * Model selection: BIC picks the true parameterization and number of
 * components on seeded simulations (EEE, VVV and VII truths with K = 2–4),
 * ICL is BIC minus twice the classification entropy, the table follows
 * mclust's sign convention, failed cells are NA with a reason, univariate
 * data compare E and V, row weights count in n, and bad options are typed
 * errors before any fit.
 */
import { describe, expect, it } from 'vitest';
import { createRng, EmError } from '@emlab/core';
import '@emlab/exact';
import { formatSelection, parseComponents, selectModel, SELECTION_CONVENTION } from '../src/mixture/select-model.js';
import type { CovarianceModel } from '../src/mixture/covariance-models.js';

/** N rows of a K-component mixture whose covariances follow `truth` (D = 2). */
function simulate(truth: 'EEE' | 'VVV' | 'VII', K: number, N: number, seed: number): number[][] {
  const rng = createRng(seed);
  const centres = [[0, 0], [7, 1], [1, 8], [8, 8]];
  const factor = (k: number): number[][] => {
    if (truth === 'EEE') return [[1, 0], [0.7, 0.7]];
    if (truth === 'VII') return [[0.6 + 0.5 * k, 0], [0, 0.6 + 0.5 * k]];
    return k % 2 === 0 ? [[1.4, 0], [-0.9, 0.5]] : [[0.5, 0], [0.6, 1.3]];
  };
  return Array.from({ length: N }, (_, i) => {
    const k = i % K;
    const L = factor(k);
    const e = [rng.normal(), rng.normal()];
    return [0, 1].map((r) => centres[k]![r]! + L[r]![0]! * e[0]! + L[r]![1]! * e[1]!);
  });
}

const MODELS: CovarianceModel[] = ['EII', 'VII', 'EEI', 'VVI', 'EEE', 'VVV'];

describe('selection picks the true model', () => {
  for (const [truth, K] of [['EEE', 3], ['VVV', 2], ['VII', 4]] as const) {
    it(`${truth} with K = ${K}`, async () => {
      const rows = simulate(truth, K, 120 * K, 20 + K);
      const sel = await selectModel(rows, { models: MODELS, components: [1, 2, 3, 4, 5], convergence: 'relative', tol: 1e-7 });
      expect([sel.best.model, sel.best.nComponents]).toEqual([truth, K]);
      expect(sel.best.value).toBe(sel.top[0]!.value);
      expect(sel.best.result.params.weights).toHaveLength(K);
      // The table is [components × models], higher is better, and matches the rows.
      expect(sel.table).toHaveLength(5);
      sel.rows.forEach((r) => {
        const g = sel.components.indexOf(r.nComponents);
        const m = sel.models.indexOf(r.model);
        expect(sel.table[g]![m]).toBe(r.value);
        if (r.value !== null) {
          expect(r.value).toBeLessThanOrEqual(sel.best.value);
          expect(r.bic).toBeCloseTo(2 * (r.logLikelihood as number) - r.nParameters * Math.log(rows.length), 8);
          expect(r.icl as number).toBeLessThanOrEqual((r.bic as number) + 1e-9);
        }
      });
    });
  }
});

describe('criterion, conventions and reporting', () => {
  const rows = simulate('VVV', 2, 200, 5);

  it('ICL = BIC + 2 Σ log max_k z_nk, and selecting by it uses it', async () => {
    const sel = await selectModel(rows, { models: ['VII', 'VVV'], components: [1, 2, 3], criterion: 'icl' });
    expect(sel.criterion).toBe('icl');
    for (const r of sel.rows) {
      if (r.value === null) continue;
      expect(r.value).toBe(r.icl);
      if (r.nComponents === 1) expect(r.icl).toBe(r.bic);
    }
    const best = sel.rows.find((r) => r.model === sel.best.model && r.nComponents === sel.best.nComponents)!;
    const z = sel.best.mixture.predictProba(sel.best.result.params, rows);
    const penalty = z.reduce((s, row) => s + Math.log(Math.max(...row)), 0);
    expect(best.icl as number).toBeCloseTo((best.bic as number) + 2 * penalty, 8);
    expect(sel.convention).toBe(SELECTION_CONVENTION);
    expect(SELECTION_CONVENTION).toMatch(/2 log L − p log n.*higher is better/);
    const text = formatSelection(sel);
    expect(text).toMatch(/^ICL: mclust's convention/);
    expect(text).toMatch(/ {2}K {6}VII {6}VVV/);
    expect(text).toMatch(/Best: VVV with 2 component\(s\)/);
  });

  it('a cell that cannot be fitted is NA with a reason; one column compares E and V', async () => {
    const small = rows.slice(0, 6);
    const sel = await selectModel(small, { models: ['VVV'], components: [1, 8], init: 'kmeans++' });
    const failed = sel.rows.find((r) => r.nComponents === 8)!;
    expect(failed.value).toBeNull();
    expect(failed.note).toMatch(/INVALID_DATA.*fewer than nComponents = 8/);
    const uni = await selectModel(rows.map((r) => [r[0]!]), { components: [1, 2] });
    expect(uni.models).toEqual(['E', 'V']);
  });

  it('row weights are frequency weights: n is their sum, as duplicated rows', async () => {
    const base = rows.slice(0, 120);
    const weights = base.map((_, i) => (i < 10 ? 2 : 1));
    const dup = [...base, ...base.slice(0, 10)];
    const w = await selectModel(base, { models: ['EII', 'VVV'], components: [1, 2], init: 'kmeans++', weights });
    const d = await selectModel(dup, { models: ['EII', 'VVV'], components: [1, 2], init: 'kmeans++' });
    expect(w.n).toBe(130);
    // One component: the fits do not depend on the start, so weights and duplicates agree exactly.
    for (const m of ['EII', 'VVV'] as const) {
      const a = w.rows.find((r) => r.model === m && r.nComponents === 1)!;
      const b = d.rows.find((r) => r.model === m && r.nComponents === 1)!;
      expect(Math.abs((a.bic as number) - (b.bic as number))).toBeLessThanOrEqual(1e-9 * Math.abs(b.bic as number));
    }
  });

  it('the Student-t family selects over the same parameterizations', async () => {
    const sel = await selectModel(rows.slice(0, 150), { family: 't', models: ['EEE', 'VVV'], components: [1, 2] });
    expect(sel.family).toBe('t');
    expect(sel.best.result.model.name).toBe('mclust');
    // t adds one ν per component to the Gaussian count.
    const r = sel.rows.find((x) => x.model === 'VVV' && x.nComponents === 2)!;
    expect(r.nParameters).toBe(1 + 2 * 2 + 2 * 3 + 2);
  });
});

describe('options', () => {
  const catchEm = async (f: () => Promise<unknown>): Promise<EmError> => {
    try {
      await f();
    } catch (e) {
      if (e instanceof EmError) return e;
      throw e;
    }
    throw new Error('expected an EmError');
  };
  const rows = simulate('EEE', 2, 40, 1);

  it('are checked before any fit', async () => {
    expect((await catchEm(() => selectModel(rows, { models: ['XYZ' as CovarianceModel] }))).path).toEqual(['options', 'models', 0]);
    expect((await catchEm(() => selectModel(rows, { models: ['E'] }))).message).toMatch(/is univariate but the data has 2 columns/);
    expect((await catchEm(() => selectModel(rows, { components: [0] }))).path).toEqual(['options', 'components', 0]);
    expect((await catchEm(() => selectModel(rows, { criterion: 'aic' as 'bic' }))).path).toEqual(['options', 'criterion']);
    expect((await catchEm(() => selectModel(rows, { weights: [1, 2] }))).path).toEqual(['options', 'weights']);
    expect(parseComponents('1:3,7')).toEqual([1, 2, 3, 7]);
    expect(() => parseComponents('3:1')).toThrow(/is not a range a:b/);
  });
});
