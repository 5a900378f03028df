/**
 * What every accelerator shares: argument checks, the start step, the plain EM step, result records.
 *
 * @module
 * @internal
 */
import { emError } from '../errors.js';
import type { ErrorPath } from '../errors.js';
import type { AcceleratorState, AcceleratorStep, RejectionReason } from './accelerator.js';
import { CountingMap, allFinite } from './counting-map.js';
import type { EmMap, EmMapEvaluation } from './em-map.js';
import { sameVector } from './vector.js';

/** Checks that θ is a non-empty `Float64Array` of finite numbers. */
export function checkTheta(theta: unknown, path: ErrorPath): asserts theta is Float64Array {
  if (!(theta instanceof Float64Array) || theta.length === 0) {
    throw emError('INVALID_ARGUMENT', path, theta, 'must be a non-empty Float64Array', 'pass the parameters in the model\'s unconstrained parametrization');
  }
  if (!allFinite(theta)) {
    throw emError('INVALID_ARGUMENT', path, theta, 'must hold finite numbers only', 'start from finite parameters');
  }
}

/** Checks a state handed to `step`. */
export function checkState(state: AcceleratorState<unknown>): void {
  checkTheta(state?.theta, ['state', 'theta']);
  const e = state.evaluation;
  if (e === undefined || !(e.next instanceof Float64Array) || e.next.length !== state.theta.length) {
    throw emError(
      'INVALID_ARGUMENT',
      ['state', 'evaluation'],
      e,
      `must be the map's evaluation at state.theta (next of length ${state.theta.length})`,
      'pass the result of start() or of the previous step() unchanged',
    );
  }
}

/** Checks a numeric option against [min, max] (inclusive unless stated). */
export function checkNumber(
  value: unknown,
  name: string,
  opts: { min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean },
  remedy: string,
): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (opts.integer !== true || Number.isInteger(value)) &&
    (opts.min === undefined || (opts.exclusiveMin === true ? value > opts.min : value >= opts.min)) &&
    (opts.max === undefined || value <= opts.max);
  if (!ok) {
    const range = [
      opts.integer === true ? 'an integer' : 'a finite number',
      opts.min === undefined ? '' : `${opts.exclusiveMin === true ? '>' : '>='} ${opts.min}`,
      opts.max === undefined ? '' : `<= ${opts.max}`,
    ]
      .filter((s) => s !== '')
      .join(' ');
    throw emError('INVALID_ARGUMENT', ['options', name], value, `must be ${range}`, remedy);
  }
  return value as number;
}

/** Fields of a step result that vary by outcome. */
export interface Outcome<M> {
  theta: Float64Array;
  evaluation: EmMapEvaluation;
  memory: M;
  emLogLikelihood: number;
  extrapolated: boolean;
  accepted: boolean;
  rejection?: RejectionReason | undefined;
  stepLength?: number | undefined;
  proposalLogLikelihood?: number | undefined;
  mapCalls: number;
}

/** Builds an {@link AcceleratorStep} record. */
export function stepResult<M>(o: Outcome<M>): AcceleratorStep<M> {
  return {
    theta: o.theta,
    evaluation: o.evaluation,
    memory: o.memory,
    logLikelihood: o.evaluation.logLikelihood,
    emLogLikelihood: o.emLogLikelihood,
    extrapolated: o.extrapolated,
    accepted: o.accepted,
    rejection: o.extrapolated && !o.accepted ? (o.rejection ?? 'decrease') : undefined,
    stepLength: o.stepLength,
    proposalLogLikelihood: o.proposalLogLikelihood,
    mapCalls: o.mapCalls,
  };
}

/** The `start` of every accelerator: one map call at θ₀. */
export async function startAt<M>(theta: Float64Array, map: EmMap, memory: M): Promise<AcceleratorStep<M>> {
  checkTheta(theta, ['theta']);
  const counter = new CountingMap(map, theta.length);
  const x = Float64Array.from(theta);
  const evaluation = await counter.plain(x);
  return stepResult({ theta: x, evaluation, memory, emLogLikelihood: Number.NaN, extrapolated: false, accepted: false, mapCalls: counter.calls });
}

/** The plain EM step every accelerator takes first: θ → p1 = F(θ), evaluated. */
export interface PlainStep {
  readonly counter: CountingMap;
  /** θ. */
  readonly theta: Float64Array;
  /** ℓ(θ), F(θ). */
  readonly e0: EmMapEvaluation;
  /** p1 = F(θ). */
  readonly p1: Float64Array;
  /** ℓ(p1), F(p1) = p2; `null` when θ is an exact fixed point (no call was made). */
  readonly e1: EmMapEvaluation | null;
}

/** Checks the state and takes the plain EM step (one map call, none at an exact fixed point). */
export async function plainStep(state: AcceleratorState<unknown>, map: EmMap): Promise<PlainStep> {
  checkState(state);
  const counter = new CountingMap(map, state.theta.length);
  const p1 = state.evaluation.next;
  // At an exact fixed point F(θ) = θ the evaluation at p1 is the one at θ.
  const e1 = sameVector(p1, state.theta) ? null : await counter.plain(p1);
  return { counter, theta: state.theta, e0: state.evaluation, p1, e1 };
}

/** The result of staying at an exact fixed point (no map call, nothing proposed). */
export function fixedPointResult<M>(state: AcceleratorState<M>, memory: M): AcceleratorStep<M> {
  return stepResult({
    theta: state.theta,
    evaluation: state.evaluation,
    memory,
    emLogLikelihood: state.evaluation.logLikelihood,
    extrapolated: false,
    accepted: false,
    mapCalls: 0,
  });
}

/** A plain step that moved: θ was not a fixed point, so p1 has been evaluated. */
export type MovedStep = PlainStep & { readonly e1: EmMapEvaluation };

/** True when the plain step moved (F(θ) ≠ θ). */
export function moved(s: PlainStep): s is MovedStep {
  return s.e1 !== null;
}

/** What a step reports besides the point it returns. */
export interface StepReport {
  extrapolated?: boolean;
  rejection?: RejectionReason | undefined;
  stepLength?: number | undefined;
  proposalLogLikelihood?: number | undefined;
}

/** The plain result: return p1 = F(θ) with its evaluation (no further call). */
export function emResult<M>(s: MovedStep, memory: M, report: StepReport = {}): AcceleratorStep<M> {
  return stepResult({
    theta: s.p1,
    evaluation: s.e1,
    memory,
    emLogLikelihood: s.e1.logLikelihood,
    extrapolated: report.extrapolated ?? false,
    accepted: false,
    rejection: report.rejection,
    stepLength: report.stepLength,
    proposalLogLikelihood: report.proposalLogLikelihood,
    mapCalls: s.counter.calls,
  });
}

/** The fallback after a failed extrapolation: p2 = F(F(θ)), or p1 if ℓ(p2) < ℓ(p1). */
export interface Fallback {
  readonly theta: Float64Array;
  readonly evaluation: EmMapEvaluation;
  /** 2 when the fallback is p2, 1 when it is p1. */
  readonly emSteps: 1 | 2;
}

/**
 * Evaluates p2 = F(p1) (one call) and returns it unless its log-likelihood is below ℓ(p1).
 *
 * As in `squarem1`: after a failure two EM steps are kept, so the next
 * extrapolation starts one EM step further (p2 costs one call here, as it
 * would as the next step's first call, but the next step's proposal is then
 * made from p2 rather than p1).
 */
export async function emFallback(s: MovedStep): Promise<Fallback> {
  const p2 = s.e1.next;
  const e2 = await s.counter.plain(p2);
  return e2.logLikelihood >= s.e1.logLikelihood ? { theta: p2, evaluation: e2, emSteps: 2 } : { theta: s.p1, evaluation: s.e1, emSteps: 1 };
}

/** Builds the result of a fallback. */
export function fallbackResult<M>(s: MovedStep, fb: Fallback, memory: M, report: StepReport): AcceleratorStep<M> {
  return stepResult({
    theta: fb.theta,
    evaluation: fb.evaluation,
    memory,
    emLogLikelihood: s.e1.logLikelihood,
    extrapolated: report.extrapolated ?? false,
    accepted: false,
    rejection: report.rejection,
    stepLength: report.stepLength,
    proposalLogLikelihood: report.proposalLogLikelihood,
    mapCalls: s.counter.calls,
  });
}

/** Builds the result of an accepted proposal. */
export function acceptedResult<M>(
  s: MovedStep,
  point: { theta: Float64Array; evaluation: EmMapEvaluation },
  memory: M,
  stepLength?: number,
): AcceleratorStep<M> {
  return stepResult({
    theta: point.theta,
    evaluation: point.evaluation,
    memory,
    emLogLikelihood: s.e1.logLikelihood,
    extrapolated: true,
    accepted: true,
    stepLength,
    proposalLogLikelihood: point.evaluation.logLikelihood,
    mapCalls: s.counter.calls,
  });
}
