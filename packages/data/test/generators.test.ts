import { catchEmError } from '@emlab/testing';
import { describe, expect, it } from 'vitest';
import { builtinDatasets, loadBuiltin, makeGaussianMixture, toRows, type GaussianMixtureOptions } from '../src/index.js';

const base: GaussianMixtureOptions = { nSamples: 500, nComponents: 3, nFeatures: 2, seed: 1 };

function isSymmetricPd(m: number[][]): boolean {
  const d = m.length;
  const at = (a: number[][], i: number, j: number): number => (a[i] as number[])[j] as number;
  const l = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      if (at(m, i, j) !== at(m, j, i)) return false;
      let s = at(m, i, j);
      for (let p = 0; p < j; p++) s -= at(l, i, p) * at(l, j, p);
      if (i === j) {
        if (!(s > 0)) return false;
        (l[i] as number[])[i] = Math.sqrt(s);
      } else (l[i] as number[])[j] = s / at(l, j, j);
    }
  }
  return true;
}

/** Largest eigenvalue of a symmetric 2×2 matrix. */
function lambdaMax2(m: number[][]): number {
  const [[a, b], [, c]] = m as [[number, number], [number, number]];
  return (a + c) / 2 + Math.sqrt(((a - c) / 2) ** 2 + b * b);
}

describe('makeGaussianMixture', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = makeGaussianMixture(base);
    const b = makeGaussianMixture({ ...base });
    expect(a.x).toEqual(b.x);
    expect(a.labels).toEqual(b.labels);
    expect(a.truth).toEqual(b.truth);
    const c = makeGaussianMixture({ ...base, seed: 2 });
    expect(c.x).not.toEqual(a.x);
    const s = makeGaussianMixture({ ...base, seed: 'one' });
    expect(s.x).not.toEqual(a.x);
    expect(makeGaussianMixture({ ...base, seed: 'one' }).x).toEqual(s.x);
  });

  it('has the documented shapes', () => {
    for (const covariance of ['full', 'diag', 'spherical', 'tied'] as const) {
      const g = makeGaussianMixture({ nSamples: 123, nComponents: 4, nFeatures: 3, seed: 5, covariance });
      expect(g.rows).toBe(123);
      expect(g.cols).toBe(3);
      expect(g.x).toBeInstanceOf(Float64Array);
      expect(g.x.length).toBe(123 * 3);
      expect(g.values).toBe(g.x);
      expect(g.labels).toBeInstanceOf(Int32Array);
      expect(g.labels.length).toBe(123);
      expect(Array.from(g.labels).every((l) => l >= 0 && l < 4)).toBe(true);
      expect(g.x.every(Number.isFinite)).toBe(true);
      expect(g.truth.weights).toHaveLength(4);
      expect(g.truth.means).toHaveLength(4);
      expect(g.truth.means.every((m) => m.length === 3)).toBe(true);
      expect(g.truth.covariances).toHaveLength(4);
      for (const cov of g.truth.covariances) {
        expect(cov).toHaveLength(3);
        expect(isSymmetricPd(cov)).toBe(true);
        const offDiag = cov.flatMap((row, i) => row.filter((_, j) => j !== i));
        if (covariance === 'diag' || covariance === 'spherical') expect(offDiag.every((v) => v === 0)).toBe(true);
        if (covariance === 'spherical') expect(new Set(cov.map((row, i) => row[i])).size).toBe(1);
      }
      if (covariance === 'tied') {
        for (const cov of g.truth.covariances) expect(cov).toEqual(g.truth.covariances[0]);
      }
      expect(toRows(g.x, g.rows, g.cols)[5]).toEqual(Array.from(g.x.subarray(15, 18)));
    }
  });

  it('draws weights that sum to 1 and are bounded away from 0', () => {
    for (let seed = 0; seed < 20; seed++) {
      const { truth } = makeGaussianMixture({ nSamples: 1, nComponents: 5, nFeatures: 1, seed });
      expect(truth.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(Math.min(...truth.weights)).toBeGreaterThanOrEqual(0.5 / 5 - 1e-12);
    }
    const given = makeGaussianMixture({ ...base, weights: [0.2, 0.3, 0.5] });
    expect(given.truth.weights).toEqual([0.2, 0.3, 0.5]);
  });

  it('separates means by the requested number of cluster scales', () => {
    for (const separation of [4, 1.5, 8]) {
      const g = makeGaussianMixture({ nSamples: 1, nComponents: 6, nFeatures: 2, seed: 3, separation });
      const m = g.truth.means;
      const scales = g.truth.covariances.map((c) => Math.sqrt(lambdaMax2(c)));
      for (let i = 0; i < m.length; i++) {
        for (let j = 0; j < i; j++) {
          const dist = Math.hypot(...(m[i] as number[]).map((v, p) => v - ((m[j] as number[])[p] as number)));
          expect(dist).toBeGreaterThanOrEqual((separation * ((scales[i] as number) + (scales[j] as number))) / 2 - 1e-9);
        }
      }
    }
  });

  it('has empirical means, weights and covariances close to the truth for large N', () => {
    const n = 60_000;
    const k = 3;
    const d = 3;
    const g = makeGaussianMixture({ nSamples: n, nComponents: k, nFeatures: d, seed: 42 });
    const counts = new Array<number>(k).fill(0);
    const sums = Array.from({ length: k }, () => new Array<number>(d).fill(0));
    for (let r = 0; r < n; r++) {
      const c = g.labels[r] as number;
      counts[c] = (counts[c] as number) + 1;
      for (let p = 0; p < d; p++) (sums[c] as number[])[p] = ((sums[c] as number[])[p] as number) + (g.x[r * d + p] as number);
    }
    for (let c = 0; c < k; c++) {
      const nc = counts[c] as number;
      expect(Math.abs(nc / n - (g.truth.weights[c] as number))).toBeLessThan(0.01);
      for (let p = 0; p < d; p++) {
        const mean = ((sums[c] as number[])[p] as number) / nc;
        // s.e. = sqrt(var / n_c) <= ~sqrt(3 / 10000) ≈ 0.017
        expect(Math.abs(mean - ((g.truth.means[c] as number[])[p] as number))).toBeLessThan(0.08);
      }
      // Empirical variance of feature 0 vs truth.
      let ss = 0;
      const mu = ((sums[c] as number[])[0] as number) / nc;
      for (let r = 0; r < n; r++) if (g.labels[r] === c) ss += ((g.x[r * d] as number) - mu) ** 2;
      const v = ((g.truth.covariances[c] as number[][])[0] as number[])[0] as number;
      expect(Math.abs(ss / (nc - 1) - v) / v).toBeLessThan(0.08);
    }
  });

  it('validates options before any work', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ nSamples: 0 }, 'nSamples'],
      [{ nSamples: 1.5 }, 'nSamples'],
      [{ nComponents: -1 }, 'nComponents'],
      [{ nFeatures: '2' }, 'nFeatures'],
      [{ seed: 1.5 }, 'seed'],
      [{ seed: '' }, 'seed'],
      [{ separation: -1 }, 'separation'],
      [{ separation: Number.NaN }, 'separation'],
      [{ covariance: 'banded' }, 'covariance'],
      [{ weights: [0.5, 0.5] }, 'weights'],
      [{ weights: [0.5, 0.5, 0.5] }, 'weights'],
      [{ weights: [1.5, -0.25, -0.25] }, 'weights'],
      [{ nSampels: 10 }, 'nSampels'],
    ];
    for (const [patch, key] of cases) {
      const e = catchEmError(() => makeGaussianMixture({ ...base, ...patch } as GaussianMixtureOptions));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.path[0]).toBe('options');
      expect(e.path[1]).toBe(key);
      expect(e.message).toContain('Remedy:');
    }
    expect(catchEmError(() => makeGaussianMixture(null as unknown as GaussianMixtureOptions)).code).toBe('INVALID_ARGUMENT');
  });

  it('toRows validates the shape', () => {
    expect(toRows([1, 2, 3, 4, 5, 6], 3, 2)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(catchEmError(() => toRows([1, 2, 3], 2, 2)).code).toBe('INVALID_ARGUMENT');
  });
});

describe('built-in data sets', () => {
  it('blobs3 and blobs5d have the documented sizes and are deterministic', () => {
    const b3 = loadBuiltin('blobs3');
    expect(b3).toMatchObject({ name: 'blobs3', rows: 600, cols: 2, columns: ['x1', 'x2'] });
    expect(b3.truth.weights).toHaveLength(3);
    expect(b3.values).toBe(b3.x);
    expect(b3.description).toBe(builtinDatasets.blobs3?.description);
    expect(loadBuiltin('blobs3').x).toEqual(b3.x);
    const b5 = loadBuiltin('blobs5d');
    expect(b5).toMatchObject({ name: 'blobs5d', rows: 2000, cols: 5, columns: ['x1', 'x2', 'x3', 'x4', 'x5'] });
    expect(b5.truth.weights).toHaveLength(4);
    expect(b5.labels.length).toBe(2000);
  });

  it('every registered data set loads', () => {
    for (const name of Object.keys(builtinDatasets)) {
      const d = loadBuiltin(name);
      expect(d.x.length).toBe(d.rows * d.cols);
      expect(d.description.length).toBeGreaterThan(0);
    }
  });

  it('an unknown name lists the known names', () => {
    for (const bad of ['nope', 'toString', '__proto__']) {
      const e = catchEmError(() => loadBuiltin(bad));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toContain('blobs3');
      expect(e.message).toContain('blobs5d');
      expect(e.message).toContain('Remedy:');
    }
  });
});
