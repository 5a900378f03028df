/**
 * The Bernoulli component family: independent 0/1 columns (latent class
 * analysis with binary items); a missing cell is marginalized.
 * @module
 */
import { parseOptions } from '@emlab/core';
import type { ComponentFamily } from '../component-family.js';
import { independentColumnsFamily, type ColumnDistribution, type ColumnPrepared, type ColumnStats } from '../internal/independent-columns.js';
import { NO_OPTIONS, xlog, type ColumnFamilyOptions } from './column-family-options.js';

/** Bernoulli parameters: probabilities p_kc = P(x_c = 1 | z = k) ∈ [0, 1], `[K][C]`. @category General mixtures */
export interface BernoulliFamilyParams {
  readonly probs: number[][];
}

const BERNOULLI: ColumnDistribution = {
  name: 'bernoulli',
  key: 'probs',
  support: '0 or 1',
  cellProblem: (x) => (x === 0 || x === 1 ? undefined : 'is neither 0 nor 1'),
  logDensity: (x, p) => (x === 1 ? Math.log(p) : Math.log1p(-p)),
  extra: () => 0,
  expected: (n, sx, _se, p) => xlog(sx, p) + (n - sx === 0 ? 0 : (n - sx) * Math.log1p(-p)),
  mle: (n, sx) => Math.min(1, Math.max(0, sx / n)),
  paramProblem: (v) => (v >= 0 && v <= 1 ? undefined : 'must be a probability in [0, 1]'),
  fromMean: (mean) => Math.min(1, Math.max(0, mean)),
  mean: (p) => p,
  cap: () => 1,
};

/**
 * Bernoulli indicators (0/1 columns): log p(x | z = k) = Σ_c [x_c log p_kc + (1 − x_c) log(1 − p_kc)].
 * M-step p_kc = Σ w x / Σ w. Parameters: `{ probs: [K][C] }`; K·C free parameters.
 * A mixture of Bernoulli columns is latent class analysis with binary items.
 * @throws EmError `INVALID_ARGUMENT` for an unknown option.
 * @category General mixtures
 */
export function bernoulliFamily(options: ColumnFamilyOptions = {}): ComponentFamily<BernoulliFamilyParams, ColumnStats, ColumnPrepared> {
  const { columns, ...rest } = options;
  parseOptions(NO_OPTIONS, rest, { owner: 'bernoulliFamily', pathOf: (k) => ['options', 'family', k] });
  return independentColumnsFamily(BERNOULLI, columns, { family: 'bernoulli', ...(columns === undefined ? {} : { columns: [...columns] }) }) as unknown as ComponentFamily<BernoulliFamilyParams, ColumnStats, ColumnPrepared>;
}
