/**
 * The component-distribution interface of general mixtures (pomegranate's
 * `GeneralMixtureModel(distributions=[...])`, with the statistics as the
 * interface between E and M): a *family* holds the parameters of all K
 * components of one distribution over some columns of the data, so that
 * parameters shared across components (mclust's equal volumes, shapes or
 * orientations; a common variance) are one family's business.
 *
 * A mixture is π_k times a product of families over disjoint column sets:
 *
 *   log p(x_n, z_n = k | θ) = log π_k + Σ_f log p_f(x_{n,f} | z_n = k, θ_f),
 *
 * so mixed-type data (Gaussian columns, counts, categories) is one product.
 * A family sees its columns in the mixture's prepared row order
 * ({@link FamilyData}), serves blocks of rows as host arrays (log-densities
 * `[rows × K]`, weighted statistics), and maximizes its part of
 * E_q[log p(x, z | θ)] from statistics. Missing entries (NaN) are latent:
 * a family either marginalizes them (discrete columns: a missing cell
 * contributes nothing), treats them as a continuous latent with an exact
 * conditional (Gaussian: `latentEntropy`, `sampleStats`), or rejects them.
 *
 * @module
 */
import type { DegenerateComponent, FloatArray, ModelEvent, Rng, StatsAlgebra } from '@emlab/core';

/**
 * A family's columns of the prepared data, in the mixture's prepared row order.
 * @category General mixtures
 */
export interface FamilyData {
  /** Prepared rows (rows with every modelled column missing are left out by the mixture). */
  readonly nRows: number;
  /** The family's columns as indices of the caller's table, in the family's order. */
  readonly columns: readonly number[];
  /** Their names (the table's header, else `x0`, `x1`, ...). */
  readonly names: readonly string[];
  /** `[nRows × columns.length]` row-major float64; NaN marks a missing entry. */
  readonly values: Float64Array;
  /** Row weights `[nRows]` in prepared order, or undefined (every weight 1). */
  readonly weights: Float64Array | undefined;
  /** Σ of the row weights (nRows when unweighted). */
  readonly totalWeight: number;
}

/**
 * A family's columns of the caller's data before any work (validation):
 * `at(row, j)` is column `columns[j]` of row `row` in the caller's order.
 * @category General mixtures
 */
export interface FamilyColumnsView {
  readonly rows: number;
  readonly columns: readonly number[];
  readonly names: readonly string[];
  at(row: number, j: number): number;
}

/**
 * One block of rows of a {@link FamilyStructure}.
 * @category General mixtures
 */
export interface FamilyBlock<S> {
  /**
   * `[rows × K]` log p(x_{n,f} | z_n = k, θ_f), every constant included, with
   * the family's missing entries marginalized (0 for a row whose columns of
   * this family are all missing).
   */
  logDensity(): Float64Array;
  /** Statistics for a weight table `[rows × K]` (row weights already applied). */
  stats(weights: FloatArray): S;
  /**
   * `[rows × K]` entropy of the family's continuous latent given x_n and
   * z_n = k (missing Gaussian entries, a Student-t scale); absent means none.
   */
  latentEntropy?(): Float64Array;
  /** Statistics with the continuous latent drawn from its conditional (Monte Carlo E-steps); absent means `stats`. */
  sampleStats?(weights: FloatArray, rng: Rng): S;
}

/**
 * A family at given parameters: blocks of rows on demand.
 * @category General mixtures
 */
export interface FamilyStructure<S> {
  /** Rows `start … start + rows − 1` of the prepared order. */
  block(start: number, rows: number): FamilyBlock<S>;
}

/**
 * What a family's M-step gets besides statistics.
 * @category General mixtures
 */
export interface FamilyMStepContext {
  /** Stream for reinitializations. */
  readonly rng: Rng;
  /** A prepared row index with positive weight, drawn from `rng`. */
  pickRow(rng: Rng): number;
  /** Components whose total responsibility is below the mixture's empty threshold: reinitialize them. */
  readonly empty: readonly number[];
}

/**
 * What a family's M-step returns.
 * @category General mixtures
 */
export interface FamilyMStepResult<P> {
  readonly params: P;
  /**
   * `reinitialized` events name components reinitialized at a data row (the
   * mixture then gives them weight 1/W); `regularized` events report a ridge.
   */
  readonly events?: readonly ModelEvent[];
  /** How much the M-step may lower E_q log p because it maximizes a regularized objective (see core's `MStepResult.boundSlack`). */
  readonly boundSlack?: number;
}

/**
 * A component distribution family: the parameters of all K components of one
 * distribution over a set of columns, written as pure float64 host code.
 *
 * @typeParam P - its parameters for all K components (plain JSON, original units).
 * @typeParam S - its sufficient statistics (plain data, additive over rows).
 * @typeParam PF - its prepared data.
 * @example
 * ```ts
 * const mix = mixtureModel({ nComponents: 3, family: [gaussianFamily({ columns: ['x', 'y'], covariance: 'VEV' }), poissonFamily({ columns: ['count'] })] });
 * ```
 * @category General mixtures
 */
export interface ComponentFamily<P = unknown, S = unknown, PF = unknown> {
  /** Family name (`gaussian`, `poisson`, ...). */
  readonly name: string;
  /** Its columns as given (names or indices); undefined: every column no other family claims. */
  readonly columns: readonly (string | number)[] | undefined;
  /**
   * How missing entries are handled: `latent` (a continuous latent with an
   * exact conditional), `marginalized` (a missing cell contributes nothing),
   * `response` (regression: a missing response is marginalized, missing
   * covariates are rejected) or `none` (rejected).
   */
  readonly missing: 'latent' | 'marginalized' | 'response' | 'none';
  /** Its options as plain JSON (recorded in results), including `family` and `columns`. */
  readonly spec: Readonly<Record<string, unknown>>;
  /** Smallest and largest number of columns it accepts. */
  readonly arity: { readonly min: number; readonly max: number };
  readonly algebra: StatsAlgebra<S>;
  /** Checks its columns' values (support, missing entries) before any work. @throws EmError `INVALID_DATA` naming the row and column. */
  validate(view: FamilyColumnsView, nComponents: number): void;
  /** Its prepared data (centring, levels, pooled estimates). */
  prepare(data: FamilyData): PF;
  /**
   * Statistics of given responsibilities `[rows × K]` (row weights applied)
   * without parameters, for initialization: missing entries at their column
   * means, latent scales at 1.
   */
  initialStats(prepared: PF, nComponents: number, start: number, rows: number, weights: Float64Array): S;
  /** The family at parameters `params`. */
  structure(prepared: PF, params: P, nComponents: number): FamilyStructure<S>;
  /** argmax over θ_f of the family's part of E_q[log p(x, z | θ)]; `prev` undefined at initialization. */
  mStep(stats: S, prev: P | undefined, prepared: PF, ctx: FamilyMStepContext): FamilyMStepResult<P>;
  /** The family's part of E_q[log p(x, z | θ)] (every constant, float64); with a continuous latent, its expected log joint. */
  expectedLogJoint(stats: S, params: P): number;
  /** Free parameters of the K components (for BIC). */
  nParameters(params: P): number;
  /** @throws EmError `INVALID_PARAMS` naming the field and component (paths start with `path`). */
  validateParams(params: unknown, nComponents: number, prepared: PF | undefined, path: readonly (string | number)[]): asserts params is P;
  /** The parameters with components reordered: component j of the result is component `order[j]`. */
  permute(params: P, order: readonly number[]): P;
  /** E[first column | z = k] (canonical ordering by the first mean coordinate). */
  componentMean(params: P, k: number): number;
  /** Degenerate components (fewer effective rows than the component's free parameters, a variance at 0). */
  degenerate?(stats: S, params: P): readonly DegenerateComponent[];
  /**
   * The magnitude rounding in its part of L(q, θ) is relative to, beyond |L| and N (core's
   * `Model.roundoffScale`; the mixture sums its families'): large when the family is
   * ill-conditioned (a nearly singular covariance). Absent: 0.
   */
  roundoffScale?(stats: S, params: P): number;
}

/** A component whose total responsibility is below this is empty and reinitialized. @category General mixtures */
export const EMPTY_COMPONENT_WEIGHT = 1e-8;
