/**
 * BIC and ICL with mclust's conventions: against mclust 6.0.0's `Mclust`
 * fits (fixtures/mclust/generate.R: loglik, df, bic, icl and z), closed-form
 * special cases, the first-maximum rule of the hard classification, and
 * typed errors.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EmError } from '@emlab/core';
import { mixtureParameterCount, type CovarianceModel } from '../src/mixture/covariance-models.js';
import { bic, icl } from '../src/mixture/model-selection.js';

interface Fit {
  model: CovarianceModel;
  G: number;
  n: number;
  d: number;
  loglik: number;
  df: number;
  bic: number;
  icl: number;
  z: number[];
  iclFromRoundedZ: number;
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/mclust/model-selection.json', import.meta.url), 'utf8')) as { fits: Fit[] };

function catchEm(f: () => unknown): EmError {
  try {
    f();
  } catch (e) {
    if (e instanceof EmError) return e;
    throw e;
  }
  throw new Error('expected an EmError');
}

describe('against mclust 6.0.0', () => {
  it('uses the fixtures it was generated for', () => {
    expect(fx.fits.map((f) => f.model)).toEqual(['EII', 'VVV', 'EVE', 'VEV']);
  });

  it("bic(loglik, df, n) is Mclust's bic, and df is mixtureParameterCount", () => {
    for (const f of fx.fits) {
      expect(mixtureParameterCount(f.model, f.G, f.d)).toBe(f.df);
      expect(Math.abs(bic(f.loglik, f.df, f.n) - f.bic)).toBeLessThanOrEqual(1e-12 * Math.abs(f.bic));
    }
  });

  it("icl(bic, z) is mclust's icl", () => {
    for (const f of fx.fits) {
      const z = Float64Array.from(f.z);
      // z was written with 15 significant digits: exact against the ICL of the rounded z, to 1e-10 of the original.
      expect(Math.abs(icl(f.bic, z, f.n, f.G) - f.iclFromRoundedZ)).toBeLessThanOrEqual(1e-12 * Math.abs(f.icl));
      expect(Math.abs(icl(f.bic, z, f.n, f.G) - f.icl)).toBeLessThanOrEqual(1e-10 * Math.abs(f.icl));
      expect(icl(f.bic, z, f.n, f.G)).toBeLessThan(f.bic);
    }
  });
});

describe('closed forms', () => {
  it('bic is 2 log L − p log n, higher is better', () => {
    expect(bic(-100, 5, 8)).toBe(-200 - 5 * Math.log(8));
    expect(bic(-100, 0, 7)).toBe(-200);
    expect(bic(-100, 3, 50)).toBeGreaterThan(bic(-100, 4, 50));
  });

  it('icl equals bic for hard z and subtracts 2 Σ log max_k z_nk otherwise', () => {
    expect(icl(-50, new Float64Array([1, 0, 0, 1, 0, 1]), 3, 2)).toBe(-50);
    const z = new Float64Array([0.9, 0.1, 0.3, 0.7, 0.5, 0.5]);
    expect(icl(-50, z, 3, 2)).toBeCloseTo(-50 + 2 * (Math.log(0.9) + Math.log(0.7) + Math.log(0.5)), 12);
    // Ties use the first maximal column (mclust's which.max); a row of zeros counts 0.
    expect(icl(0, new Float64Array([0.5, 0.5, 0, 0]), 2, 2)).toBeCloseTo(2 * Math.log(0.5), 14);
    expect(icl(0, new Float64Array(0), 0, 3)).toBe(0);
  });

  it('rejects bad arguments', () => {
    expect(catchEm(() => bic(Number.NaN, 1, 10)).path).toEqual(['logLik']);
    expect(catchEm(() => bic(-1, -1, 10)).path).toEqual(['nParams']);
    expect(catchEm(() => bic(-1, 1, 0)).path).toEqual(['n']);
    expect(catchEm(() => icl(Number.POSITIVE_INFINITY, new Float64Array(2), 1, 2)).path).toEqual(['bic']);
    expect(catchEm(() => icl(0, new Float64Array(3), 1, 2)).path).toEqual(['z']);
    expect(catchEm(() => icl(0, new Float64Array([0.5, 1.5]), 1, 2)).path).toEqual(['z', 0, 1]);
  });
});
