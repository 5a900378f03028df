/**
 * The accelerator contract: one step of an accelerated EM iteration over an {@link EmMap}.
 *
 * An accelerator never owns the loop. The caller starts it at θ₀ with
 * `start`, then calls `step` until its own stopping rule fires; each result is
 * the next state. Guarantees every accelerator keeps (and the tests check):
 *
 * - **evaluated states**: a state's point always comes with its evaluation
 *   (ℓ(θ), F(θ)), so the next step's first map call is never repeated: the
 *   evaluation at an accepted extrapolated point is reused as the next plain
 *   EM step;
 * - **safeguard**: every step first takes the plain EM step θ → F(θ) and
 *   evaluates ℓ(F(θ)); the returned point's log-likelihood is never below it.
 *   A rejected proposal falls back to plain EM: F(F(θ)) (as `squarem1`), or
 *   F(θ) itself if ℓ(F(F(θ))) < ℓ(F(θ));
 * - **exact accounting**: `mapCalls` counts every call of the map in the step;
 * - **finite parameters**: a non-finite or invalid extrapolated point (the map
 *   resolved to `{ invalid: true }` or threw a domain `EmError`) is a rejection,
 *   not a crash.
 *
 * @module
 */
import type { EmMap, EmMapEvaluation } from './em-map.js';

/**
 * Where an accelerated iteration stands: a point, its evaluation, and the scheme's memory.
 * @typeParam M Scheme-specific memory (step bounds, secant pairs, difference history).
 * @category Acceleration
 */
export interface AcceleratorState<M = unknown> {
  /** Current parameters θ, `[p]`. */
  readonly theta: Float64Array;
  /** ℓ(θ) and F(θ) at `theta`. */
  readonly evaluation: EmMapEvaluation;
  /** Scheme-specific memory, carried from step to step; treat as opaque. */
  readonly memory: M;
}

/** Why an extrapolation was rejected. @category Acceleration */
export type RejectionReason =
  /** The extrapolated point was non-finite, or the map reported it invalid. */
  | 'invalid'
  /** Its log-likelihood was below that of the plain EM step F(θ). */
  | 'decrease';

/**
 * The outcome of one accelerator step: the new state plus what happened.
 * @category Acceleration
 */
export interface AcceleratorStep<M = unknown> extends AcceleratorState<M> {
  /** ℓ at the returned `theta` (= `evaluation.logLikelihood`). */
  readonly logLikelihood: number;
  /**
   * ℓ(F(θ)) of the plain EM step from the previous point: the floor the
   * returned log-likelihood never goes below. `NaN` for `start`.
   */
  readonly emLogLikelihood: number;
  /** An extrapolated (off the EM path) point was proposed in this step. */
  readonly extrapolated: boolean;
  /** The returned point comes from the proposal; false for plain EM steps and rejections. */
  readonly accepted: boolean;
  /** Why the proposal was rejected; `undefined` unless `extrapolated && !accepted`. */
  readonly rejection: RejectionReason | undefined;
  /** Step length of the extrapolation (SQUAREM α, parabola t, ...); `undefined` if none. */
  readonly stepLength: number | undefined;
  /** ℓ at the point the safeguard judged (the proposal, or its stabilized image); `undefined` if none was evaluated. */
  readonly proposalLogLikelihood: number | undefined;
  /** Map calls made by this step, exactly. */
  readonly mapCalls: number;
}

/**
 * An EM acceleration scheme over a generic fixed-point map.
 * @typeParam M Scheme-specific memory.
 * @category Acceleration
 */
export interface Accelerator<M = unknown> {
  /** Scheme name: `'em'`, `'squarem'`, `'aitken'`, `'parabolic'`, `'quasi-newton'`. */
  readonly name: string;
  /** The resolved options (defaults filled in), JSON-friendly, for traces. */
  readonly options: Readonly<Record<string, unknown>>;
  /**
   * Evaluates the map at θ₀ (one call) and returns the initial state.
   * @throws `INVALID_ARGUMENT` if θ₀ is not a non-empty finite `Float64Array`; `INVALID_PARAMS` if the map calls θ₀ invalid.
   */
  start(theta: Float64Array, map: EmMap): Promise<AcceleratorStep<M>>;
  /**
   * One accelerated iteration from `state`.
   * @throws `INVALID_PARAMS` if the map calls a plain EM iterate invalid; `INVALID_ARGUMENT` on a malformed state or map output.
   */
  step(state: AcceleratorState<M>, map: EmMap): Promise<AcceleratorStep<M>>;
}
