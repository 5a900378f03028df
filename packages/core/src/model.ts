/**
 * The model contract: pure hooks, no loop of its own.
 *
 * A model says what the complete-data likelihood is (through its latent
 * structure) and how to maximize it from sufficient statistics. `fit` owns the
 * loop; models only fill in hooks, like scikit-learn's `BaseMixture`.
 *
 * @module
 */
import type { OptionSchema } from './option-schema.js';
import type { Precision } from './precision.js';
import type { Rng } from './rng.js';
import type { ModelShardHooks } from './shard.js';
import type { LouisTerms } from './standard-errors/louis-terms.js';
import type { StatsAlgebra } from './stats.js';
import type { LatentStructure } from './structures.js';

/** Data after `prepare`: uploaded, centred tensors and whatever else a model needs once per fit. @category Interfaces */
export interface PreparedData {
  /** Number of rows (instances) the fit uses. */
  readonly nRows: number;
  /** W: the total row weight (Σ weights; `nRows` when unweighted). The bound, BIC and reported N use it. */
  readonly totalWeight?: number;
  /** Frees tensors; `fit` calls it exactly once, also on errors. */
  dispose(): void;
}

/** What `prepare` gets besides the data. @category Interfaces */
export interface PrepareContext {
  /**
   * Row weights `[rows]` (finite, ≥ 0), in the caller's row order, already checked for values by
   * `fit`; absent when unweighted. `fit` cannot count the rows of a model's data, so `prepare` must
   * throw `INVALID_ARGUMENT` at `['options', 'weights']` when the length differs from its number of
   * rows (the conformance kit checks it). A weight of 2 must equal a duplicated row exactly.
   */
  readonly weights?: Float64Array;
  /** The precisions the fit may ask `structure` for (upload float32 tensors only when float32 is among them). */
  readonly precisions: readonly Precision[];
}

/** What `structure` gets besides the parameters. @category Interfaces */
export interface StructureContext {
  /** The arithmetic the structure's kernels must compute in (one of `Model.precisions`). */
  readonly precision: Precision;
}

/**
 * Something the M-step did that the trace should show: a covariance that
 * needed extra jitter (`regularized`), an empty or collapsed component that
 * was reinitialized (`reinitialized`). A `reinitialized` event exempts the
 * next half-step from the monotonicity check (the bound may legitimately drop).
 * @category Interfaces
 */
export interface ModelEvent {
  readonly type: 'regularized' | 'reinitialized' | (string & {});
  readonly component?: number;
  readonly detail: string;
  readonly value?: number;
}

/** What the M-step gets besides the statistics. @category Interfaces */
export interface MStepContext<PD> {
  /** Stream `seed/restart/r/iter/t/mstep` (degenerate-component reinitialization). */
  readonly rng: Rng;
  readonly prepared: PD;
  readonly iteration: number;
}

/** What the M-step returns. @category Interfaces */
export interface MStepResult<P> {
  readonly params: P;
  readonly events?: readonly ModelEvent[];
  /**
   * How much the M-step may lower L(q, θ) because it maximizes a regularized
   * objective, not L itself (e.g. `regCovar`: Σ = M/n + r·I is the exact
   * argmax of E_q log p − (r/2) Σ_k n_k tr(Σ_k⁻¹)). Added to the M-half
   * monotonicity tolerance and recorded in the trace. Default 0.
   */
  readonly boundSlack?: number;
}

/**
 * A latent-variable model.
 *
 * @typeParam D - the data it accepts.
 * @typeParam P - its parameters: plain JSON data, so results save and reload exactly.
 * @typeParam S - its sufficient statistics (plain data, additive).
 * @typeParam PD - its prepared data.
 * @category Interfaces
 */
export interface Model<D, P, S, PD extends PreparedData = PreparedData> {
  readonly name: string;
  /** The structure kind its `structure` returns: the registry key for E-steps. */
  readonly structureKind: string;
  /** Model options as plain JSON (recorded in results). */
  readonly options: Readonly<Record<string, unknown>>;
  /** Initialization methods by name; the first is the default. */
  readonly initMethods: readonly string[];
  readonly stats: StatsAlgebra<S>;
  /**
   * The precisions its kernels can compute in. Default `['float64']` (host JavaScript kernels: the
   * plug-in path). A model whose kernels are float32 tensors declares `['float32']`; built-in models
   * offer both, so `precision: 'auto'` can run float32 first and finish in float64.
   */
  readonly precisions?: readonly Precision[];
  /** Whether `prepare` honours row weights (`fit` rejects `weights` otherwise). Default false. */
  readonly acceptsWeights?: boolean;
  /**
   * The method `fit` uses when none is given. Default `'exact'`; a model whose structure kind has no
   * exact E-step (a GLMM's continuous random effects) names another registered method.
   */
  readonly defaultMethod?: string;
  /** Checks the data; throws `EmError` before any work. */
  validate(data: D): void;
  /** Checks given parameters (shape from `data` when given); throws `INVALID_PARAMS`. */
  validateParams(params: unknown, data?: D): asserts params is P;
  /** Uploads and centres the data once per fit (and applies row weights). */
  prepare(data: D, ctx: PrepareContext): PD;
  /** Initial parameters by a named method, from a seeded stream. */
  init(prepared: PD, method: string, rng: Rng): P;
  /** What E-steps see at parameters `params`, computed in `ctx.precision`. */
  structure(prepared: PD, params: P, ctx: StructureContext): LatentStructure;
  /** argmax over θ of E_q[log p(x, z | θ)] (+ log prior), from statistics. */
  mStep(stats: S, prev: P, ctx: MStepContext<PD>): MStepResult<P>;
  /**
   * E_q[log p(x, z | θ)] from statistics, every constant included (float64);
   * for a MAP M-step, plus `logPrior(θ)`, so the bound is that of the objective the M-step maximizes.
   */
  expectedLogJoint(stats: S, params: P): number;
  /**
   * log p(θ) when the M-step is MAP and `expectedLogJoint` includes it: `fit` then
   * reports gap = log p(x | θ) + log p(θ) − L(q, θ), which is KL(q ‖ posterior) again.
   */
  logPrior?(params: P): number;
  /**
   * log p(x | θ) when the model can compute it directly (float64 preferred). Without it, `fit`
   * fills the result's `logLikelihood` from the exact E-step registered for the model's structure kind.
   */
  logLikelihood?(prepared: PD, params: P): number;
  /** Number of free parameters (for BIC/AIC and reports). */
  nParameters?(params: P): number;
  /**
   * Rough float64 cost of one iteration in floating-point operations (precision `auto` runs
   * float64 throughout below {@link AUTO_FLOAT64_COST}). Default `nRows · 100`.
   */
  iterationCost?(prepared: PD, params: P): number;
  /**
   * Components (or other parts) of θ that are degenerate: a covariance at the regularization floor,
   * fewer effective points than free parameters. `fit` records them, and prefers non-degenerate restarts.
   */
  degenerate?(stats: S, params: P): readonly DegenerateComponent[];
  /** Numbers about the prepared data worth keeping in the result (`FitResult.data`), e.g. missing cells. */
  summarizeData?(prepared: PD): Readonly<Record<string, number>>;
  /**
   * Unconstrained coordinates of the parameters (for the stationarity check
   * through Fisher's identity when the log-likelihood is not differentiable
   * by autodiff: missing entries, Bayesian networks). See `stationarity`.
   */
  parametrization?(prepared: PD): Parametrization<P>;
  /**
   * The magnitude float32 roundoff in L(q, θ) is relative to, beyond |L| and N
   * (see `monotonicityTolerance`): large when the model is ill-conditioned.
   */
  roundoffScale?(stats: S, params: P): number;
  /**
   * The kept parameters in a canonical form, applied by `fit` once, to the result's `params`
   * (e.g. mixture components in a canonical order). It must leave log p(x | θ) unchanged;
   * the trace keeps the parameters as iterated.
   */
  canonicalParams?(params: P): P;
  /**
   * Sharding (`fit`'s `workers`): how prepared data travel to worker threads or machines and are
   * rebuilt there, so that a worker serves exactly the blocks the main thread would (see `shard.ts`).
   * The model must also be registered under `name` (workers rebuild it with `findModel(name).create(options)`).
   */
  readonly shard?: ModelShardHooks<PD>;
  /**
   * Louis' identity at `params` under the exact posterior of the latent (float64): the expected
   * complete-data Hessian, the posterior covariance of the complete-data score (the missing
   * information) and the expected score, summed over rows (row weights applied), in coordinates of
   * the model's choice (`LouisTerms.coordinates`, e.g. the natural parameters). `standardErrors`
   * uses it for `method: 'louis'` (see `docs/standard-errors.md`).
   */
  louis?(prepared: PD, params: P): LouisTerms<P>;
  /**
   * A data set drawn from the model at `params` shaped like `like`: the same number of rows and
   * columns and the same missing cells (the parametric bootstrap of `standardErrors`). Randomness
   * only from `rng`. It must be data this model accepts (typed `unknown` so that a model stays
   * assignable to `Model` of a narrower data type).
   */
  simulate?(params: P, like: D, rng: Rng): unknown;
  /**
   * A conjugate prior on θ, for variational Bayes over the parameters (the `vb` method of
   * `@emlab/variational`). Absent: the model has none.
   */
  readonly conjugate?: ConjugateHooks<D, P, S, PD>;
}

/**
 * What a model with a conjugate prior p(θ) gives variational Bayes over θ (the `vb` method):
 * q(z, θ) = q(z) q(θ), with q(θ) in the prior's family, so that one coordinate step on q(θ) is an
 * update of hyperparameters from the statistics of q(z), and one on q(z) is an E-step on the
 * structure whose log-joint is E_q(θ)[log p(x, z | θ)]. The method then reports the full evidence
 * lower bound on log p(x) (the marginal likelihood), every constant included:
 *
 *   ELBO = `expectedLogJoint(stats, posterior)` + H(q(z)) − `klDivergence(posterior, prior)`.
 *
 * `Prior` and `Post` are the model's own types (plain data); `fit` never looks inside them.
 * @example
 * ```ts
 * // A Dirichlet–multinomial model: posterior α' = α + counts, E log θ = ψ(α') − ψ(Σ α').
 * conjugate: { priorOptions: {}, prior: () => alpha, posterior: (stats, a) => ({ posterior: add(a, stats) }), ... }
 * ```
 * @category Interfaces
 */
export interface ConjugateHooks<D, P, S, PD extends PreparedData = PreparedData, Prior = unknown, Post = unknown> {
  /** The prior's options (validated by the method before any work; CLI `--estep-option prior={...}`). */
  readonly priorOptions: OptionSchema;
  /**
   * Throws `INVALID_DATA` before any work when the data are outside what variational Bayes here
   * supports (e.g. missing entries). Optional.
   */
  check?(data: D): void;
  /**
   * The prior from validated options, the prepared data (data-dependent defaults, as scikit-learn's)
   * and the starting parameters (parts of θ the model keeps fixed).
   * @throws EmError `INVALID_DATA` / `INVALID_ARGUMENT` when the data or options do not allow it.
   */
  prior(prepared: PD, options: Readonly<Record<string, unknown>>, start: P): Prior;
  /**
   * The coordinate-ascent update of q(θ) given the statistics of q(z). `slack` (≥ 0, default 0): how
   * much the update may lower the ELBO because it maximizes a regularized objective (regCovar), as
   * `MStepResult.boundSlack`. `previous` is the posterior before the update (absent at the start).
   */
  posterior(stats: S, prior: Prior, previous?: Post): { readonly posterior: Post; readonly slack?: number };
  /** The structure whose log-joint is E_q(θ)[log p(x, z | θ)] (every constant): what the E-step on q(z) runs on. */
  structure(prepared: PD, posterior: Post, ctx: StructureContext): LatentStructure;
  /** E_q(z) E_q(θ)[log p(x, z | θ)] from statistics (float64, every constant). */
  expectedLogJoint(stats: S, posterior: Post): number;
  /** KL(q(θ) ‖ p(θ)) = E_q log q(θ) − E_q log p(θ), with every normalizing constant. */
  klDivergence(posterior: Post, prior: Prior): number;
  /** A point estimate of θ in the model's parameter form (posterior means; what `fit` returns as `params`). */
  pointEstimate(posterior: Post): P;
  /** The posterior hyperparameters (and the prior) as plain JSON, for `FitResult.report`. */
  toJson(posterior: Post): Readonly<Record<string, unknown>>;
  /**
   * log p(x_n | data) per row under q(θ) from the JSON of {@link toJson}: the posterior predictive
   * density. Absent when it equals the likelihood at `pointEstimate` (Dirichlet–multinomial models,
   * where E_q Π θ = Π E_q θ for every row).
   * @throws EmError `INVALID_DATA`, `INVALID_PARAMS`
   */
  predictiveLogDensity?(posterior: Readonly<Record<string, unknown>>, data: D): Float64Array;
}

/** A degenerate part of a fit (see `Model.degenerate`). @category Interfaces */
export interface DegenerateComponent {
  readonly component: number;
  /** Why, e.g. `'variance at the regularization floor'`, `'3.2 effective points for 5 free parameters'`. */
  readonly reason: string;
}

/** Precision `auto` computes in float64 throughout when `Model.iterationCost` is at most this (≈ 10–30 ms in JavaScript). @category Interfaces */
export const AUTO_FLOAT64_COST = 1e7;

/**
 * A bijection between a model's parameters and unconstrained real vectors
 * (softmax logits for probabilities, log-Cholesky factors for covariances, ...).
 * @category Interfaces
 */
export interface Parametrization<P> {
  /** One line naming the coordinates (recorded in results). */
  readonly description: string;
  readonly dim: number;
  toVector(params: P): Float64Array;
  fromVector(v: ArrayLike<number>): P;
}
