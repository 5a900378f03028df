/**
 * Options shared by the one-parameter column families (Poisson, exponential,
 * Bernoulli) and the `0 log 0 = 0` convention their densities use.
 * @module
 */
import type { OptionSchema } from '@emlab/core';

/** Options of the one-parameter families. @category General mixtures */
export interface ColumnFamilyOptions {
  /** Its columns (names or 0-based indices); default every column no other family names. */
  readonly columns?: readonly (string | number)[];
}

/** They take no options besides `columns`. @internal */
export const NO_OPTIONS = {} as const satisfies OptionSchema;

/** x log θ with 0 log 0 = 0. @internal */
export function xlog(x: number, theta: number): number {
  return x === 0 ? 0 : x * Math.log(theta);
}
