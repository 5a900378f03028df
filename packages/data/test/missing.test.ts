/** Masking mechanisms and the heuristic baselines of the missing-data comparison. */
import { describe, expect, it } from 'vitest';
import { dropIncompleteRows, fillMissing, makeGaussianMixture, maskMissing } from '@emlab/data';
import { catchEmError } from '@emlab/testing';

const data = makeGaussianMixture({ nSamples: 4000, nComponents: 2, nFeatures: 4, seed: 1 });
const table = { values: data.values, rows: data.rows, cols: data.cols };

describe('maskMissing', () => {
  it('MCAR hides about `rate` of the entries, reproducibly, and reports the mask', () => {
    const a = maskMissing(table, { rate: 0.2, seed: 3 });
    const b = maskMissing(table, { rate: 0.2, seed: 3 });
    expect(Array.from(a.mask)).toEqual(Array.from(b.mask));
    const hidden = a.mask.reduce((n, v) => n + v, 0);
    expect(Math.abs(hidden / a.mask.length - 0.2)).toBeLessThan(0.01);
    a.mask.forEach((m, i) => expect(Number.isNaN(a.table.values[i] as number)).toBe(m === 1));
    expect(table.values.some(Number.isNaN)).toBe(false); // input untouched
  });

  it('MAR keeps column 0 and hides more where x0 is large', () => {
    const { mask } = maskMissing(table, { rate: 0.2, mechanism: 'mar', seed: 3 });
    const byRow = Array.from({ length: table.rows }, (_, r) => ({ x0: table.values[r * 4] as number, hidden: mask[r * 4 + 1]! + mask[r * 4 + 2]! + mask[r * 4 + 3]!, first: mask[r * 4]! }));
    expect(byRow.every((r) => r.first === 0)).toBe(true);
    byRow.sort((a, b) => a.x0 - b.x0);
    const low = byRow.slice(0, 1000).reduce((n, r) => n + r.hidden, 0);
    const high = byRow.slice(-1000).reduce((n, r) => n + r.hidden, 0);
    expect(high).toBeGreaterThan(3 * low);
    const rate = byRow.reduce((n, r) => n + r.hidden, 0) / (table.rows * 3);
    expect(Math.abs(rate - 0.2)).toBeLessThan(0.015);
  });

  it('rejects bad options and already-masked tables', () => {
    expect(catchEmError(() => maskMissing(table, { rate: 1 })).message).toMatch(/rate/);
    expect(catchEmError(() => maskMissing(table, { rate: 0.6, mechanism: 'mar' })).message).toMatch(/rate/);
    expect(catchEmError(() => maskMissing(table, { rate: 0.1, mechanism: 'nmar' as never })).message).toMatch(/mechanism/);
    const masked = maskMissing(table, { rate: 0.1 }).table;
    expect(catchEmError(() => maskMissing(masked, { rate: 0.1 })).message).toMatch(/already has missing entries/);
  });
});

describe('baselines', () => {
  const t = { values: Float64Array.from([1, 2, NaN, 4, 5, 6, NaN, NaN, 9]), rows: 3, cols: 3 };

  it('dropIncompleteRows keeps complete rows in order', () => {
    const d = dropIncompleteRows(t);
    expect(d.rows).toBe(1);
    expect(Array.from(d.values)).toEqual([4, 5, 6]);
    expect(Array.from(d.kept)).toEqual([1]);
    expect(catchEmError(() => dropIncompleteRows({ values: Float64Array.from([NaN, 1]), rows: 1, cols: 2 })).message).toMatch(/no complete row/);
  });

  it('fillMissing fills zeros or observed column means', () => {
    expect(Array.from(fillMissing(t, 'zero').values)).toEqual([1, 2, 0, 4, 5, 6, 0, 0, 9]);
    expect(Array.from(fillMissing(t, 'mean').values)).toEqual([1, 2, 7.5, 4, 5, 6, 2.5, 3.5, 9]);
    expect(catchEmError(() => fillMissing({ values: Float64Array.from([NaN, 1]), rows: 1, cols: 2 }, 'mean')).message).toMatch(/column 0 has no observed value/);
    expect(catchEmError(() => fillMissing(t, 'median' as never)).message).toMatch(/median/);
  });
});
