/**
 * The exponential component family: independent non-negative columns; a
 * missing cell is marginalized.
 * @module
 */
import { parseOptions } from '@emlab/core';
import type { ComponentFamily } from '../component-family.js';
import { independentColumnsFamily, type ColumnDistribution, type ColumnPrepared, type ColumnStats } from '../internal/independent-columns.js';
import { NO_OPTIONS, type ColumnFamilyOptions } from './column-family-options.js';

/** Exponential parameters: rates λ_kc > 0, `[K][C]` (mean 1/λ). @category General mixtures */
export interface ExponentialFamilyParams {
  readonly rates: number[][];
}

const EXPONENTIAL: ColumnDistribution = {
  name: 'exponential',
  key: 'rates',
  support: 'non-negative numbers',
  cellProblem: (x) => (x >= 0 ? undefined : 'is negative'),
  logDensity: (x, rate) => Math.log(rate) - rate * x,
  extra: () => 0,
  expected: (n, sx, _se, rate) => n * Math.log(rate) - rate * sx,
  // The rate maximizing n log λ − λ Σx on (0, max]: n / Σx, capped (a component on zeros only).
  mle: (n, sx, b) => (sx > 0 ? Math.min(n / sx, b.max) : b.max),
  paramProblem: (v) => (v > 0 ? undefined : 'must be a rate > 0'),
  fromMean: (mean, b) => Math.min(1 / Math.max(mean, Number.MIN_VALUE), b.max),
  mean: (rate) => 1 / rate,
  cap: (mean) => 1e8 / Math.max(mean, Number.MIN_VALUE),
};

/**
 * Exponential columns: log p(x | z = k) = Σ_c [log λ_kc − λ_kc x_c], x ≥ 0.
 * M-step λ_kc = Σ w / Σ w x, capped at 10⁸ / (the column mean) so a component
 * on zeros only cannot reach an infinite density (the capped value is the
 * maximum over the allowed range, so the bound still never decreases).
 * Parameters: `{ rates: [K][C] }`; K·C free parameters.
 * @throws EmError `INVALID_ARGUMENT` for an unknown option.
 * @category General mixtures
 */
export function exponentialFamily(options: ColumnFamilyOptions = {}): ComponentFamily<ExponentialFamilyParams, ColumnStats, ColumnPrepared> {
  const { columns, ...rest } = options;
  parseOptions(NO_OPTIONS, rest, { owner: 'exponentialFamily', pathOf: (k) => ['options', 'family', k] });
  return independentColumnsFamily(EXPONENTIAL, columns, { family: 'exponential', ...(columns === undefined ? {} : { columns: [...columns] }) }) as unknown as ComponentFamily<ExponentialFamilyParams, ColumnStats, ColumnPrepared>;
}

