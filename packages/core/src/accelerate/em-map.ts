/**
 * The EM map F(θ) = M(E(θ)) as a black box over a model's unconstrained parametrization.
 *
 * One call of an {@link EmMap} costs one E-step (and one M-step). The E-step
 * yields the log-likelihood ℓ(θ) at the input for free, so every evaluation
 * returns both: F(θ) and ℓ(θ). Accelerators only ever see this interface.
 *
 * @module
 */
import { emError } from '../errors.js';

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

/** True when every entry of `x` is finite. */
export function allFinite(x: Float64Array): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false;
  return true;
}

/** Error codes a map may throw at an extrapolated point that mean "outside the domain". */
const DOMAIN_CODES = new Set(['NOT_POSITIVE_DEFINITE', 'INVALID_PARAMS']);

/**
 * Calls the map once and counts the call; the accelerators' only way to call a map.
 *
 * @internal
 */
export class CountingMap {
  /** Map calls made through this object. */
  calls = 0;

  constructor(
    private readonly map: EmMap,
    private readonly p: number,
  ) {}

  /**
   * Evaluates F at a point of the plain EM path (a point the map itself produced, or the start).
   * @throws `INVALID_PARAMS` if the map reports the point invalid; `INVALID_ARGUMENT` if its output is malformed.
   */
  async plain(theta: Float64Array): Promise<EmMapEvaluation> {
    this.calls++;
    const r = await this.map(theta);
    if (isInvalidPoint(r)) {
      throw emError(
        'INVALID_PARAMS',
        ['theta'],
        theta,
        `the EM map reported a plain EM iterate invalid${r.reason === undefined ? '' : ` (${r.reason})`}`,
        'the model\'s own E- and M-steps must map valid parameters to valid parameters: check the M-step',
      );
    }
    return this.check(r, true)!;
  }

  /**
   * Evaluates F at an extrapolated point; `null` when the point is invalid
   * (the map said so, threw a domain error, or returned non-finite values).
   */
  async trial(theta: Float64Array): Promise<EmMapEvaluation | null> {
    if (!allFinite(theta)) return null;
    this.calls++;
    let r: EmMapResult;
    try {
      r = await this.map(theta);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (e instanceof Error && e.name === 'EmError' && typeof code === 'string' && DOMAIN_CODES.has(code)) return null;
      throw e;
    }
    if (isInvalidPoint(r)) return null;
    return this.check(r, false);
  }

  /** Validates a map result; at plain points a malformed result throws, at trial points it is `null`. */
  private check(r: EmMapEvaluation, strict: boolean): EmMapEvaluation | null {
    const { next, logLikelihood } = r;
    if (!(next instanceof Float64Array) || next.length !== this.p) {
      throw emError(
        'INVALID_ARGUMENT',
        ['map', 'next'],
        next,
        `the EM map must return next as a Float64Array of length p = ${this.p}`,
        'return F(θ) in the same parametrization as θ',
      );
    }
    if (!allFinite(next) || Number.isNaN(logLikelihood) || logLikelihood === Infinity) {
      if (!strict) return null;
      throw emError(
        'INVALID_ARGUMENT',
        ['map', allFinite(next) ? 'logLikelihood' : 'next'],
        allFinite(next) ? logLikelihood : next,
        'the EM map returned a non-finite value at a plain EM iterate',
        'check the E-step and M-step for overflow or division by zero',
      );
    }
    // Copy: the map may reuse its output buffer.
    return { next: Float64Array.from(next), logLikelihood };
  }
}
