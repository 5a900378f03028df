/**
 * The Poisson component family: independent counts per column; a missing cell
 * is marginalized (it contributes nothing).
 * @module
 */
import { logGamma, parseOptions } from '@emlab/core';
import type { ComponentFamily } from '../component-family.js';
import { independentColumnsFamily, type ColumnDistribution, type ColumnPrepared, type ColumnStats } from '../internal/independent-columns.js';
import { NO_OPTIONS, xlog, type ColumnFamilyOptions } from './column-family-options.js';

/** Poisson parameters: rates λ_kc ≥ 0, `[K][C]`. @category General mixtures */
export interface PoissonFamilyParams {
  readonly rates: number[][];
}

const POISSON: ColumnDistribution = {
  name: 'poisson',
  key: 'rates',
  support: 'non-negative integer counts',
  cellProblem: (x) => (Number.isInteger(x) && x >= 0 ? undefined : 'is not a non-negative integer count'),
  logDensity: (x, rate) => xlog(x, rate) - rate - logGamma(x + 1),
  extra: (x) => logGamma(x + 1),
  expected: (n, sx, se, rate) => xlog(sx, rate) - n * rate - se,
  mle: (n, sx) => sx / n,
  paramProblem: (v) => (v >= 0 ? undefined : 'must be a rate >= 0'),
  fromMean: (mean) => mean,
  mean: (rate) => rate,
  cap: () => Number.POSITIVE_INFINITY,
};

/**
 * Poisson counts per column: log p(x | z = k) = Σ_c [x_c log λ_kc − λ_kc − log x_c!].
 * M-step λ_kc = Σ_n w_nk x_nc / Σ_n w_nk (over rows with x_nc observed).
 * Parameters: `{ rates: [K][C] }`; K·C free parameters.
 * @throws EmError `INVALID_ARGUMENT` for an unknown option.
 * @example
 * ```ts
 * mixtureModel({ nComponents: 2, family: [poissonFamily({ columns: ['visits'] })] });
 * ```
 * @category General mixtures
 */
export function poissonFamily(options: ColumnFamilyOptions = {}): ComponentFamily<PoissonFamilyParams, ColumnStats, ColumnPrepared> {
  const { columns, ...rest } = options;
  parseOptions(NO_OPTIONS, rest, { owner: 'poissonFamily', pathOf: (k) => ['options', 'family', k] });
  return independentColumnsFamily(POISSON, columns, { family: 'poisson', ...(columns === undefined ? {} : { columns: [...columns] }) }) as unknown as ComponentFamily<PoissonFamilyParams, ColumnStats, ColumnPrepared>;
}

