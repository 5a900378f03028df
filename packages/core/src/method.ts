/**
 * Fitting methods: what `fit`'s restart loop drives.
 *
 * An E-step becomes a method through {@link emMethod} (E-step, M-step,
 * Neal–Hinton record, monotonicity check, precision); other algorithms (the
 * gradient-ascent baseline) implement {@link Method} directly and register
 * like E-steps, so `fit`, the command line and suites treat them alike, and
 * every method shares `fit`'s options checks, restarts, convergence policies,
 * callbacks, step API and result assembly.
 *
 * @module
 */
import type { ConvergencePolicy } from './convergence.js';
import type { EStep, MethodFamily } from './estep.js';
import type { Model, PreparedData } from './model.js';
import type { Precision } from './precision.js';
import type { IterationRecord, MonotonicityPolicy } from './result.js';
import type { Rng } from './rng.js';
import type { ShardEngine } from './shard.js';

/** What a method gets once per fit. @category Methods */
export interface FitContext<D, P, S, PD extends PreparedData> {
  readonly model: Model<D, P, S, PD>;
  readonly data: D;
  readonly prepared: PD;
  /** W, the total row weight. */
  readonly totalWeight: number;
  readonly warn: (message: string) => void;
  readonly monotonicity: MonotonicityPolicy;
  readonly signal: AbortSignal | undefined;
  /** Set when the fit is sharded (`fit`'s `workers`): the engine, and the precisions the fit may use. */
  readonly shards?: { readonly engine: ShardEngine; readonly precisions: readonly Precision[] };
}

/** What a method gets once per restart. @category Methods */
export interface RestartContext<P> {
  readonly params: P;
  /** Stream `seed/restart/r`. */
  readonly rng: Rng;
  readonly restart: number;
  /** The precision the first iteration uses, and whether `auto` may move on to float64. */
  readonly precision: { readonly start: Precision; readonly canRefine: boolean };
}

/** One iteration of a restart: its record and the parameters after it. @category Methods */
export interface MethodStep<P> {
  readonly record: IterationRecord;
  readonly params: P;
  /**
   * E-step (or objective) evaluations this iteration made, counted in `FitResult.eStepCalls`.
   * Default 1; an accelerated EM step evaluates the EM map several times.
   */
  readonly eStepCalls?: number;
}

/** One restart of a method. @category Methods */
export interface RestartRun<P> {
  /** Runs one iteration (one call of the E-step: a pass, or part of one). */
  step(): Promise<MethodStep<P>>;
  /** Called when the convergence policy reports the precision's floor: move to a finer precision (true) or not (false). */
  refine?(): boolean;
  /** ‖∇θ L / W‖₂ at the current parameters (the `gradient` convergence policy), when computable. */
  gradientNorm?(): number | undefined;
  /** Degenerate components at the end (see `Model.degenerate`). */
  degenerate?(): readonly { readonly component: number; readonly reason: string }[];
  /** Frees the restart's state (E-step state); called exactly once, also after errors. */
  dispose(): void;
}

/** A method's per-fit session. @category Methods */
export interface MethodSession<P> {
  begin(ctx: RestartContext<P>): RestartRun<P> | Promise<RestartRun<P>>;
  /** Fields the method adds to the result (e.g. the gradient baseline's optimizer report). */
  summary?(kept: { readonly params: P; readonly restart: number }): Readonly<Record<string, unknown>>;
  /** Frees per-fit resources; called exactly once. */
  dispose(): void;
}

/**
 * A fitting method. E-steps are wrapped by {@link emMethod}; the gradient baseline implements this directly.
 * @category Methods
 */
export interface Method {
  readonly name: string;
  /** Structure kind it runs on, or `'*'`. */
  readonly kind: string;
  readonly family: MethodFamily;
  readonly options: Readonly<Record<string, unknown>>;
  /** The precisions it computes in. */
  readonly precisions: readonly Precision[];
  /** Supplied convergence policy (used unless the user passes one). */
  readonly convergence?: ConvergencePolicy;
  /** The E-step it wraps, when it is EM (`emMethod`): what sharded fits rebuild on workers. */
  readonly eStep?: EStep;
  /** Throws a typed error when it cannot run on this model, or on these data when given (before any work). */
  check?(model: Model<any, any, any, any>, data: unknown): void; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Opens a per-fit session (after `prepare`). */
  open<D, P, S, PD extends PreparedData>(ctx: FitContext<D, P, S, PD>): MethodSession<P> | Promise<MethodSession<P>>;
}

/** Whether a value is a {@link Method} (as opposed to an E-step). @category Methods */
export function isMethod(v: unknown): v is Method {
  return typeof v === 'object' && v !== null && typeof (v as Method).open === 'function' && typeof (v as { run?: unknown }).run !== 'function';
}
