/**
 * The EM map F(θ) = M(E(θ)) as a black box over a model's unconstrained parametrization.
 *
 * One call of an {@link EmMap} costs one E-step (and one M-step). The E-step
 * yields the log-likelihood ℓ(θ) at the input for free, so every evaluation
 * returns both: F(θ) and ℓ(θ). Accelerators only ever see this interface.
 *
 * @module
 */
/**
 * One evaluation of the EM map at θ: the image F(θ) and the log-likelihood at the input.
 * @category Acceleration
 */
export interface EmMapEvaluation {
  /** F(θ), `[p]`: the parameters after one E-step and one M-step from θ. */
  readonly next: Float64Array;
  /** ℓ(θ) = log p(x | θ) at the input θ (not at `next`). */
  readonly logLikelihood: number;
}

/**
 * The map's answer at a point where the model cannot be evaluated.
 *
 * A map returns this (instead of throwing) when θ is outside the model's
 * domain, e.g. an extrapolated covariance that is not positive definite. At an
 * extrapolated point it counts as a rejected extrapolation; at a plain EM
 * iterate it is an error.
 * @category Acceleration
 */
export interface InvalidPoint {
  readonly invalid: true;
  /** Why, for traces and error messages. */
  readonly reason?: string;
}

/** What an {@link EmMap} resolves to. @category Acceleration */
export type EmMapResult = EmMapEvaluation | InvalidPoint;

/**
 * The EM map θ ↦ (F(θ), ℓ(θ)) on R^p; θ is a `Float64Array` of length p.
 *
 * Contract: the map does not mutate its argument; `next` has length p. It may
 * resolve to `{ invalid: true }` at points outside the model's domain. An
 * `EmError` with code `NOT_POSITIVE_DEFINITE` or `INVALID_PARAMS` thrown at an
 * extrapolated point is treated the same way; every other exception propagates.
 * @category Acceleration
 */
export type EmMap = (theta: Float64Array) => Promise<EmMapResult> | EmMapResult;

/** True when a map result is the {@link InvalidPoint} signal. @category Acceleration */
export function isInvalidPoint(result: EmMapResult): result is InvalidPoint {
  return (result as { invalid?: unknown }).invalid === true;
}
