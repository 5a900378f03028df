/**
 * Contract properties of the general mixture model (what the conformance kit
 * checks), for several family configurations — mclust VEV, Student-t EEE, a
 * product of Gaussian, Poisson and categorical columns with missing cells,
 * mixtures of regressions and latent class analysis:
 * bound never decreasing for exact and hard E-steps (core's monotonicity
 * tolerance, checked by `fit` and re-checked here), bound ≤ log-likelihood,
 * statistics additive over separately prepared row sets and row-order
 * invariant, weight 2 = a duplicated row, save/load round trip, same seed →
 * identical result, the stochastic E-step, canonical order, given partitions,
 * predictions, and typed errors before any work.
 */
import { describe, expect, it } from 'vitest';
import { createRng, EmError, fit, fromJson, monotonicityTolerance, omitTimings, reduceFiniteChunks, toJson, type FitResult } from '@emlab/core';
import { exactChoice } from '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { mixtureModel, type MixtureModel, type MixtureModelOptions, type MixtureParams, type MixtureStats } from '../src/mixture/mixture-model.js';
import type { MixtureData } from '../src/mixture/mixture-data.js';

interface Table {
  values: Float64Array;
  rows: number;
  cols: number;
  columns: string[];
}

/** Seeded data for each configuration (3 well-separated groups, or 2 regression lines). */
function makeData(kind: 'gaussian' | 't' | 'mixed' | 'regression' | 'lca', n: number, seed = 1): Table {
  const rng = createRng(seed);
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const k = i % (kind === 'regression' || kind === 'lca' ? 2 : 3);
    if (kind === 'gaussian' || kind === 't') {
      const scale = kind === 't' ? 1 / Math.sqrt(Math.max(0.05, (rng.normal() ** 2 + rng.normal() ** 2 + rng.normal() ** 2) / 3)) : 1;
      const a = rng.normal() * scale;
      const b = rng.normal() * scale;
      rows.push([a * (1 + k) + 5 * k, 0.5 * a + b - 3 * (k === 1 ? 1 : 0)]);
    } else if (kind === 'mixed') {
      const rate = [1, 6, 15][k]!;
      let count = 0;
      for (let t = Math.exp(-rate), p = rng.uniform(); p > t; p *= rng.uniform()) count++;
      const cat = rng.uniform() < 0.7 ? k : rng.int(3);
      const row = [rng.normal() + 4 * k, rng.normal() - 2 * k, count, cat];
      for (let j = 0; j < 4; j++) if (rng.uniform() < 0.08) row[j] = Number.NaN;
      if (row.every(Number.isNaN)) row[0] = 0;
      rows.push(row);
    } else if (kind === 'regression') {
      const x = rng.uniform() * 10;
      rows.push([k === 0 ? 1 + 2 * x + 0.5 * rng.normal() : 12 - x + 0.5 * rng.normal(), x]);
    } else {
      const p = k === 0 ? [0.9, 0.8, 0.2, 0.1] : [0.2, 0.1, 0.8, 0.7];
      rows.push(p.map((q) => (rng.uniform() < q ? 1 : 0)));
    }
  }
  const cols = rows[0]!.length;
  const names = kind === 'mixed' ? ['x', 'y', 'count', 'group'] : kind === 'regression' ? ['y', 'x'] : Array.from({ length: cols }, (_, j) => `v${j}`);
  return { values: Float64Array.from(rows.flat()), rows: n, cols, columns: names };
}

const CONFIGS: { name: string; kind: Parameters<typeof makeData>[0]; options: MixtureModelOptions }[] = [
  { name: 'mclust VEV', kind: 'gaussian', options: { nComponents: 3, family: { family: 'gaussian', covariance: 'VEV' } } },
  { name: 'Student-t EEE (equal ν)', kind: 't', options: { nComponents: 3, family: { family: 't', covariance: 'EEE', dof: 'equal' } } },
  { name: 'gaussian(x,y) VVI × poisson(count) × categorical(group), missing cells', kind: 'mixed', options: { nComponents: 3, family: 'gaussian(x,y):covariance=VVI+poisson(count)+categorical(group)' } },
  { name: 'mixture of regressions', kind: 'regression', options: { nComponents: 2, family: [{ family: 'regression', columns: ['y', 'x'] }] } },
  { name: 'latent class analysis (Bernoulli items)', kind: 'lca', options: { nComponents: 2, family: 'bernoulli' } },
];

const quiet = { onWarning: (): void => {} };

function subset(t: Table, rows: readonly number[]): Table {
  const values = new Float64Array(rows.length * t.cols);
  rows.forEach((r, i) => values.set(t.values.subarray(r * t.cols, (r + 1) * t.cols), i * t.cols));
  return { ...t, values, rows: rows.length };
}

/** Exact E-step statistics and log-likelihood of `data` at `params`. */
function exact(model: ReturnType<typeof mixtureModel>, data: MixtureData, params: MixtureParams, weights?: Float64Array): { stats: MixtureStats; logLikelihood: number; entropy: number } {
  const prepared = model.prepare(data, { precisions: ['float64'], ...(weights === undefined ? {} : { weights }) });
  const r = reduceFiniteChunks(model.structure(prepared, params), createRng(0), exactChoice);
  return { stats: r.stats, logLikelihood: r.logLikelihood, entropy: r.entropy };
}

/** Largest |a − b| / (1 + |b|) over every number of two JSON-like values of the same shape. */
function maxDiff(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) / (1 + Math.abs(b));
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) return maxDiff(Array.from(a as Float64Array), Array.from(b as Float64Array));
  if (Array.isArray(a) && Array.isArray(b)) return a.reduce((m: number, v, i) => Math.max(m, maxDiff(v, b[i])), 0);
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    return Object.keys(a).reduce((m, k) => Math.max(m, maxDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])), 0);
  }
  return a === b ? 0 : Number.POSITIVE_INFINITY;
}

describe.each(CONFIGS)('$name', ({ kind, options }) => {
  const data = makeData(kind, 150);
  const model: MixtureModel = mixtureModel(options);

  it('exact and hard E-steps: the bound never decreases (both half-steps) and stays ≤ the log-likelihood', async () => {
    for (const eStep of ['exact', 'hard']) {
      const r = await fit(model, data, { eStep, seed: 3, maxIter: 60, ...quiet });
      expect(r.trace.length).toBeGreaterThan(1);
      r.trace.forEach((rec, t) => {
        expect(rec.violations).toEqual([]);
        expect(Number.isFinite(rec.boundAfterE) && Number.isFinite(rec.boundAfterM)).toBe(true);
        if (!rec.events.some((e) => e.type === 'reinitialized')) {
          expect(rec.boundAfterM).toBeGreaterThanOrEqual(rec.boundAfterE - monotonicityTolerance(rec.boundAfterE, rec.boundAfterM, data.rows, 0, 'float64') - rec.mStepSlack);
        }
        const prev = r.trace[t - 1];
        if (prev !== undefined && !prev.events.some((e) => e.type === 'reinitialized')) {
          expect(rec.boundAfterE).toBeGreaterThanOrEqual(prev.boundAfterM - monotonicityTolerance(prev.boundAfterM, rec.boundAfterE, data.rows, 0, 'float64'));
        }
        expect(rec.boundAfterE).toBeLessThanOrEqual((rec.logLikelihood as number) + 1e-9 * Math.abs(rec.logLikelihood as number));
        if (eStep === 'exact') expect(Math.abs(rec.boundAfterE - (rec.logLikelihood as number))).toBeLessThanOrEqual(1e-9 * Math.abs(rec.logLikelihood as number));
      });
      expect(r.precision.used).toEqual(['float64']);
    }
  });

  it('statistics add over separately prepared row sets and do not depend on row order', async () => {
    const params = (await fit(model, data, { seed: 1, maxIter: 5, tol: 0, ...quiet })).params;
    const all = exact(model, data, params);
    const half = Math.floor(data.rows / 2);
    const a = exact(model, subset(data, Array.from({ length: half }, (_, i) => i)), params);
    const b = exact(model, subset(data, Array.from({ length: data.rows - half }, (_, i) => half + i)), params);
    const summed = model.stats.add(a.stats, b.stats);
    expect(Math.abs(model.expectedLogJoint(summed, params) - model.expectedLogJoint(all.stats, params))).toBeLessThanOrEqual(1e-10 * Math.abs(all.logLikelihood));
    expect(maxDiff(model.mStep(summed, params, { rng: createRng(0), prepared: model.prepare(data), iteration: 1 }).params, model.mStep(all.stats, params, { rng: createRng(0), prepared: model.prepare(data), iteration: 1 }).params)).toBeLessThanOrEqual(1e-9);
    const perm = Array.from({ length: data.rows }, (_, i) => (i * 37) % data.rows);
    const shuffled = exact(model, subset(data, perm), params);
    expect(Math.abs(shuffled.logLikelihood - all.logLikelihood)).toBeLessThanOrEqual(1e-12 * Math.abs(all.logLikelihood));
    expect(Math.abs(model.expectedLogJoint(shuffled.stats, params) - model.expectedLogJoint(all.stats, params))).toBeLessThanOrEqual(1e-10 * Math.abs(all.logLikelihood));
    // zero and scale.
    const zero = model.stats.zero(all.stats);
    expect(maxDiff(model.stats.add(all.stats, zero), all.stats)).toBe(0);
    expect(maxDiff(model.stats.scale(all.stats, 2), model.stats.add(all.stats, all.stats))).toBeLessThanOrEqual(1e-15);
  });

  it('a row weight of 2 is a duplicated row (same start, same fit)', async () => {
    const start = (await fit(model, data, { seed: 2, maxIter: 3, tol: 0, ...quiet })).params;
    const weights = Array.from({ length: data.rows }, (_, i) => (i === 5 ? 2 : 1));
    const dup = subset(data, [...Array.from({ length: data.rows }, (_, i) => i), 5]);
    const w = await fit(model, data, { init: start, weights, maxIter: 15, tol: 0, ...quiet });
    const d = await fit(model, dup, { init: start, maxIter: 15, tol: 0, ...quiet });
    expect(Math.abs((w.logLikelihood as number) - (d.logLikelihood as number))).toBeLessThanOrEqual(1e-10 * Math.abs(d.logLikelihood as number));
    expect(maxDiff(w.params, d.params)).toBeLessThanOrEqual(1e-9);
    expect(w.totalWeight).toBe(data.rows + 1);
  });

  it('save/load round trip; same seed → identical result', async () => {
    const r = await fit(model, data, { seed: 4, nInit: 2, maxIter: 40, ...quiet });
    const back = fromJson(toJson(r)) as FitResult<MixtureParams>;
    model.validateParams(back.params, data);
    expect(back.params).toEqual(r.params);
    expect(Array.from(model.scoreSamples(back.params, data))).toEqual(Array.from(model.scoreSamples(r.params, data)));
    const again = await fit(model, data, { seed: 4, nInit: 2, maxIter: 40, ...quiet });
    expect(omitTimings(again)).toEqual(omitTimings(r));
  });

  it('predictions: Σ scoreSamples = log-likelihood, rows of predictProba sum to 1, predict is their argmax', async () => {
    const r = await fit(model, data, { seed: 5, maxIter: 40, ...quiet });
    const s = model.scoreSamples(r.params, data);
    expect(Math.abs(s.reduce((a, b) => a + b, 0) - (r.logLikelihood as number))).toBeLessThanOrEqual(1e-10 * Math.abs(r.logLikelihood as number));
    const z = model.predictProba(r.params, data);
    const labels = model.predict(r.params, data);
    expect(z.length).toBe(data.rows);
    z.forEach((row, i) => {
      expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(1e-12);
      expect(row[labels[i]!]).toBe(Math.max(...row));
    });
  });

  it('the stochastic E-step runs with finite estimates', async () => {
    const r = await fit(model, data, { eStep: 'stochastic', eStepOptions: { nDraws: 2 }, seed: 6, maxIter: 15, ...quiet });
    expect(r.trace.every((t) => Number.isFinite(t.boundAfterE) && Number.isFinite(t.boundAfterM))).toBe(true);
    expect(Number.isFinite(r.logLikelihood as number)).toBe(true);
  });
});

describe('initialization and canonical order', () => {
  const data = makeData('gaussian', 180, 9);

  it('every init method gives valid parameters; hc is deterministic and given labels start there', async () => {
    const mix: MixtureModel = mixtureModel({ nComponents: 3, family: { family: 'gaussian', covariance: 'VVV' } });
    const prepared = mix.prepare(data);
    for (const method of ['kmeans++', 'random', 'hc']) mix.validateParams(mix.init(prepared, method, createRng(1)), data);
    expect(mix.init(prepared, 'hc', createRng(1))).toEqual(mix.init(prepared, 'hc', createRng(2)));
    const truth = Array.from({ length: data.rows }, (_, i) => i % 3);
    const given = mixtureModel({ nComponents: 3, family: { family: 'gaussian', covariance: 'VVV' }, initLabels: truth });
    expect(given.initMethods[0]).toBe('labels');
    const p = given.init(given.prepare(data), 'labels', createRng(0));
    // One M-step from the true partition: the weights are the label frequencies.
    expect(p.weights).toEqual([1 / 3, 1 / 3, 1 / 3]);
    const r = await fit(given, data, { ...quiet });
    expect(r.options.init).toBe('labels');
    // Unlabelled rows (−1 or NaN) start with 1/K each.
    const partial: MixtureModel = mixtureModel({ nComponents: 3, initLabels: truth.map((l, i) => (i % 10 === 0 ? Number.NaN : l)) });
    partial.validateParams(partial.init(partial.prepare(data), 'labels', createRng(0)), data);
  });

  it("order 'weight' and 'mean' reorder the kept components without changing the likelihood", async () => {
    const base = await fit(mixtureModel({ nComponents: 3, family: 'gaussian' }), data, { seed: 3, ...quiet });
    const byWeight = await fit(mixtureModel({ nComponents: 3, family: 'gaussian', order: 'weight' }), data, { seed: 3, ...quiet });
    const byMean = await fit(mixtureModel({ nComponents: 3, family: 'gaussian', order: 'mean' }), data, { seed: 3, ...quiet });
    expect(byWeight.logLikelihood).toBe(base.logLikelihood);
    expect(Math.abs((byMean.logLikelihood as number) - (base.logLikelihood as number))).toBeLessThanOrEqual(1e-12 * Math.abs(base.logLikelihood as number));
    const w = byWeight.params.weights;
    for (let k = 1; k < w.length; k++) expect(w[k]!).toBeLessThanOrEqual(w[k - 1]!);
    const means = (byMean.params.families[0] as { means: number[][] }).means.map((m) => m[0]!);
    for (let k = 1; k < means.length; k++) expect(means[k]!).toBeGreaterThanOrEqual(means[k - 1]!);
    expect([...w].sort()).toEqual([...base.params.weights].sort());
  });
});

describe('typed errors before any work', () => {
  const data = makeData('mixed', 40);

  const catchEm = async (f: () => unknown): Promise<EmError> => {
    try {
      await f();
    } catch (e) {
      if (e instanceof EmError) return e;
      throw e;
    }
    throw new Error('expected an EmError');
  };

  it('options, columns, data and parameters', async () => {
    expect((await catchEm(() => mixtureModel({ nComponents: 0 }))).path).toEqual(['options', 'nComponents']);
    expect((await catchEm(() => mixtureModel({ nComponents: 2, family: 'gamma' }))).message).toMatch(/is not a component family \(known: .*poisson/);
    expect((await catchEm(() => mixtureModel({ nComponents: 2, family: 'gaussian:covariance=XYZ' }))).message).toMatch(/covariance.*must be one of/);
    expect((await catchEm(() => mixtureModel({ nComponents: 2, family: 'poisson:rate=3' }))).message).toMatch(/is not an option of the poisson family/);
    const missingColumn = mixtureModel({ nComponents: 2, family: 'poisson(visits)' });
    expect((await catchEm(() => fit(missingColumn, data))).message).toMatch(/visits.*is not a column of the data \(columns: x, y, count, group\)/);
    const twice = mixtureModel({ nComponents: 2, family: 'gaussian(x,y)+poisson(x)' });
    expect((await catchEm(() => fit(twice, data))).message).toMatch(/is already modelled by family 0 \(gaussian\)/);
    const t = mixtureModel({ nComponents: 2, family: 't(x,y)' });
    expect((await catchEm(() => fit(t, data))).code).toBe('INVALID_DATA');
    const notCounts = mixtureModel({ nComponents: 2, family: 'poisson(x)' });
    expect((await catchEm(() => fit(notCounts, data))).message).toMatch(/is not a non-negative integer count \(column x, poisson family\)/);
    const tooMany = mixtureModel({ nComponents: 50, family: 'gaussian(x,y)' });
    expect((await catchEm(() => fit(tooMany, data))).message).toMatch(/fewer than nComponents = 50/);
    const ok = mixtureModel({ nComponents: 3, family: 'gaussian(x,y):covariance=VVI+poisson(count)+categorical(group)' });
    const r = await fit(ok, data, { maxIter: 3, ...quiet });
    const bad = JSON.parse(JSON.stringify(r.params)) as MixtureParams;
    (bad.families[1] as { rates: number[][] }).rates[0]![0] = -1;
    expect((await catchEm(() => fit(ok, data, { init: bad }))).path).toEqual(['params', 'families', 1, 'rates', 0, 0]);
    expect((await catchEm(() => fit(ok, data, { init: { ...r.params, weights: [0.5, 0.5, 0.5] } }))).path).toEqual(['params', 'weights']);
    expect((await catchEm(() => mixtureModel({ nComponents: 2, initLabels: [0, 1, 5] }))).path).toEqual(['options', 'initLabels', 2]);
    const labelled = mixtureModel({ nComponents: 2, family: 'gaussian(x,y)', initLabels: [0, 1] });
    expect((await catchEm(() => fit(labelled, data))).message).toMatch(/has 2 labels but the data has 40 rows/);
  });
});
