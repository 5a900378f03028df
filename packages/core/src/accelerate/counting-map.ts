/**
 * The accelerators' only way to call an {@link EmMap}: counts every call, validates results, and tells plain from trial points.
 *
 * @module
 * @internal
 */
import { emError } from '../errors.js';
import { isInvalidPoint } from './em-map.js';
import type { EmMap, EmMapEvaluation, EmMapResult } from './em-map.js';

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
