/**
 * Online (stepwise) EM over a stream of row blocks: the expected sufficient statistics of each
 * minibatch are blended into running statistics by stochastic approximation,
 *
 *   s_n = (1 − γ_n) s_{n−1} + γ_n ŝ(X_n; θ_{n−1}) / W_n,   γ_n = (n + n₀)^−α (n ≥ 2),   θ_n = M(W · s_n),
 *
 * (s per unit row weight; γ_1 = 1: the first minibatch sets s_1 = ŝ_1 / W_1), over one or more
 * passes, with Polyak–Ruppert averaging of θ_n in the model's parametrization. It never holds more
 * than two minibatches of the data. The bound it reports is an estimate: the prequential
 * log-likelihood of each minibatch under the parameters before it was learned from, and, with
 * `heldOut`, the held-out log-likelihood after each pass.
 *
 * @see Cappé, O. & Moulines, E. (2009). On-line expectation–maximization algorithm for latent data models. *JRSS B* 71, 593–613.
 * @see Liang, P. & Klein, D. (2009). Online EM for unsupervised models. *NAACL-HLT*, 611–619.
 * @see Polyak, B. T. & Juditsky, A. B. (1992). Acceleration of stochastic approximation by averaging.
 * @module
 */
import { emError, EmError } from '../errors.js';
import type { EStep } from '../estep.js';
import { logLikelihoodOf } from '../fit.js';
import { isMethod } from '../method.js';
import type { Model, ModelEvent, Parametrization, PreparedData } from '../model.js';
import { parseOptions, type OptionSchema } from '../option-schema.js';
import { emitWarning, nowMs, yieldToEventLoop } from '../platform.js';
import { createEStep } from '../registry.js';
import { createRng, validateSeed, type Rng, type Seed } from '../rng.js';
import { VERSION } from '../version.js';
import { isRowArray, minibatches, rowCount } from './row-tables.js';

/**
 * Where the rows come from: an (async) iterable of row blocks (model data: `{ values, rows, cols }`
 * numeric tables, arrays of rows, Bayesian-network tables, ...), a function returning a fresh one for
 * each pass, a CSV file path (streamed; numeric-table models), or one data set held in memory.
 * @category Online EM
 */
export type OnlineSource<D> = string | AsyncIterable<D> | Iterable<D> | (() => AsyncIterable<D> | Iterable<D>) | D;

/** Options of {@link fitOnline}. @category Online EM */
export interface OnlineEmOptions<P = unknown> {
  /** Rows per minibatch B (blocks are split and joined to this size). Default 256. */
  readonly batchSize?: number;
  /** Step-size exponent α ∈ (0.5, 1] of γ_n = (n + n₀)^−α. Default 0.6. */
  readonly stepAlpha?: number;
  /** Step-size offset n₀ ≥ 0 (γ_n = (n + n₀)^−α for n ≥ 2; γ_1 = 1: the first minibatch sets the statistics). Default 0. */
  readonly stepOffset?: number;
  /** Passes over the source. Default 1. */
  readonly passes?: number;
  /** Polyak–Ruppert averaging of θ in the model's parametrization. Default true when the model has one. */
  readonly average?: boolean;
  /**
   * Updates before averaging starts (the early iterates are transients). Default: with `passes` > 1,
   * the updates of the first pass (the average is over the later passes); with one pass, 0.
   */
  readonly averageFrom?: number;
  /** The E-step per minibatch: an E-step object or a registered name. Default `'exact'`. */
  readonly eStep?: EStep | string;
  /** Options of a named `eStep`. */
  readonly eStepOptions?: Readonly<Record<string, unknown>>;
  /** An initialization method of the model (run on the first minibatch) or given parameters. */
  readonly init?: string | P;
  /** Root seed. Default 0. */
  readonly seed?: Seed;
  /** Held-out data: its log-likelihood after each pass (kept in memory). */
  readonly heldOut?: unknown;
  /**
   * W in θ_n = M(W · s_n) (matters for MAP priors and regularization). Default: the row weight seen so
   * far in the first pass and in `partialFit` calls (later passes re-read the same rows).
   */
  readonly totalWeight?: number;
  /** Validate every minibatch (`Model.validate`). Default true. */
  readonly validate?: boolean;
  /** After each minibatch; return false to stop. */
  readonly onBatch?: (record: OnlineBatchRecord) => void | boolean;
  /** After each pass. */
  readonly onPass?: (record: OnlinePassRecord) => void;
  /** Stops after the current minibatch (the result so far is returned). */
  readonly signal?: AbortSignal;
  /** Missing-cell markers of a CSV source (default `''`, `NA`, `NaN`, `nan`, `?`). */
  readonly missingMarkers?: readonly string[];
  /** Receives warnings. Default: `process.emitWarning`. */
  readonly onWarning?: (message: string) => void;
}

const fn = (name: string) => (v: unknown, path: readonly (string | number)[]): unknown => {
  if (typeof v !== 'function') throw emError('INVALID_ARGUMENT', path, v, 'must be a function', `pass a function or leave ${name} unset`);
  return v;
};
const any = (v: unknown): unknown => v;

/** The option table of {@link fitOnline} (validation, CLI flags, docs). @category Online EM */
export const ONLINE_EM_OPTIONS = {
  batchSize: { type: 'integer', min: 1, default: 256, flag: 'batch-size', description: 'rows per minibatch' },
  stepAlpha: { type: 'number', min: 0.5, exclusiveMin: true, max: 1, default: 0.6, flag: 'step-alpha', description: 'step-size exponent α of γ_n = (n + n₀)^−α' },
  stepOffset: { type: 'number', min: 0, default: 0, flag: 'step-offset', description: 'step-size offset n₀' },
  passes: { type: 'integer', min: 1, default: 1, flag: 'passes', description: 'passes over the source' },
  average: { type: 'boolean', flag: 'average', description: 'Polyak–Ruppert averaging of θ in the model’s parametrization (default: when it has one)' },
  averageFrom: { type: 'integer', min: 0, flag: 'average-from', description: 'updates before averaging starts (default: the first pass when passes > 1, else 0)' },
  eStep: { type: 'custom', shape: 'an E-step object or a registered name', description: 'the E-step per minibatch (default exact)', check: any, parse: (t) => t },
  eStepOptions: { type: 'custom', shape: 'an options object', description: 'options of a named eStep', check: (v, path) => (typeof v === 'object' && v !== null ? v : fail(path, v, 'must be an options object')) },
  init: { type: 'custom', shape: 'an initialization method name or parameters', description: 'initialization (on the first minibatch) or given parameters', check: any, parse: (t) => t },
  seed: { type: 'custom', shape: 'a safe integer or a non-empty string', description: 'root seed (default 0)', check: (v, path) => (validateSeed(v, path), v), parse: (t) => (/^-?\d+$/.test(t) ? Number(t) : t) },
  heldOut: { type: 'custom', shape: 'model data', description: 'held-out data (log-likelihood after each pass)', check: any },
  totalWeight: { type: 'number', min: 0, exclusiveMin: true, description: 'W in θ = M(W·s) (default: the row weight seen so far, up to one pass)' },
  validate: { type: 'boolean', default: true, description: 'validate every minibatch' },
  onBatch: { type: 'custom', shape: 'a function (record) => void | boolean', description: 'after each minibatch', check: fn('onBatch') },
  onPass: { type: 'custom', shape: 'a function (record) => void', description: 'after each pass', check: fn('onPass') },
  signal: { type: 'custom', shape: 'an AbortSignal', description: 'stops after the current minibatch', check: (v, path) => (typeof v === 'object' && v !== null && typeof (v as AbortSignal).aborted === 'boolean' ? v : fail(path, v, 'must be an AbortSignal')) },
  missingMarkers: { type: 'custom', shape: 'an array of strings', description: 'missing-cell markers of a CSV source', check: (v, path) => (Array.isArray(v) && v.every((m) => typeof m === 'string') ? v : fail(path, v, 'must be an array of strings')) },
  onWarning: { type: 'custom', shape: 'a function (message) => void', description: 'receives warnings', check: fn('onWarning') },
} as const satisfies OptionSchema;

function fail(path: readonly (string | number)[], v: unknown, problem: string): never {
  throw emError('INVALID_ARGUMENT', path, v, problem, 'see the options of fitOnline');
}

/** One minibatch update. @category Online EM */
export interface OnlineBatchRecord {
  /** Update number n (1-based, over all passes and `partialFit` calls). */
  readonly batch: number;
  /** 1-based pass (0 for `partialFit`). */
  readonly pass: number;
  /** Rows of the minibatch as given (a Gaussian mixture leaves rows with nothing observed out of `weight`). */
  readonly rows: number;
  /** Σ row weights of the rows the model used (its rows when unweighted). */
  readonly weight: number;
  /** γ_n. */
  readonly stepSize: number;
  /** log p(X_n | θ_{n−1}): the minibatch under the parameters before it was learned from (prequential; exact E-steps). */
  readonly logLikelihood: number;
  /** Mean log-likelihood per row of the pass's minibatches so far (prequential): the running bound, an estimate. */
  readonly runningLogLikelihood: number;
  readonly eStepMs: number;
  readonly mStepMs: number;
  readonly events: readonly ModelEvent[];
}

/** One pass over the source. @category Online EM */
export interface OnlinePassRecord {
  readonly pass: number;
  readonly batches: number;
  readonly rows: number;
  readonly weight: number;
  /** Prequential mean log-likelihood per row over the pass. */
  readonly logLikelihoodPerRow: number;
  /** log p(held-out | θ̂) at the reported parameters (the average when averaging), or null without `heldOut`. */
  readonly heldOutLogLikelihood: number | null;
  /** The same per held-out row. */
  readonly heldOutPerRow: number | null;
  /** log p(held-out | θ_n) at the last iterate. */
  readonly heldOutLastIterate: number | null;
  readonly ms: number;
}

/** The running state of an online fit (in memory; what {@link partialFit} continues from). @category Online EM */
export interface OnlineState<P, S> {
  /** s_n: running statistics per unit row weight (undefined before the first minibatch). */
  readonly stats: S | undefined;
  /** Updates so far (n). */
  readonly updates: number;
  /** θ_n, the last iterate. */
  readonly params: P | undefined;
  /** Running Polyak–Ruppert average of θ in `parametrization`, and how many iterates it holds. */
  readonly average: Float64Array | null;
  readonly averageCount: number;
  readonly parametrization: Parametrization<P> | null;
  /** Row weight seen in the first pass and in partial fits (the default W of the M-step). */
  readonly weightSeen: number;
  /** Whether a full pass has been completed (W stops growing). */
  readonly passComplete: boolean;
  /** Updates after which iterates enter the average. */
  readonly averageStart: number;
}

/** What {@link fitOnline} and {@link partialFit} return. @category Online EM */
export interface OnlineFitResult<P = unknown, S = unknown> {
  readonly format: 'emlab/online-result';
  readonly model: { readonly name: string; readonly options: Readonly<Record<string, unknown>> };
  /** θ̂: the Polyak–Ruppert average when averaging has started, else the last iterate. */
  readonly params: P;
  /** θ_n. */
  readonly lastParams: P;
  readonly averaged: boolean;
  /** The bound reported is an estimate (prequential and held-out log-likelihoods). */
  readonly boundKind: 'estimate';
  /** Running log-likelihood per row over the last pass (prequential estimate). */
  readonly runningLogLikelihood: number | null;
  /** Held-out log-likelihood at `params` after the last pass, or null. */
  readonly heldOutLogLikelihood: number | null;
  readonly passes: number;
  readonly updates: number;
  /** Rows processed (all passes and partial fits). */
  readonly rows: number;
  readonly trace: readonly OnlineBatchRecord[];
  readonly passTrace: readonly OnlinePassRecord[];
  /** E-step calls (one per minibatch) plus held-out evaluations. */
  readonly eStepCalls: number;
  readonly method: { readonly name: string; readonly family: string; readonly options: Readonly<Record<string, unknown>> };
  /** The settings used; `averageFrom` resolved (null while averaging has not been scheduled). */
  readonly options: { readonly batchSize: number; readonly stepAlpha: number; readonly stepOffset: number; readonly passes: number; readonly average: boolean; readonly averageFrom: number | null; readonly totalWeight: number | null };
  readonly seed: Seed;
  readonly aborted: boolean;
  readonly warnings: readonly string[];
  readonly version: string;
  /** In-memory running state (statistics, average): pass the result to {@link partialFit} to continue. */
  readonly state: OnlineState<P, S>;
}

interface Settings {
  readonly batchSize: number;
  readonly stepAlpha: number;
  readonly stepOffset: number;
  readonly passes: number;
  readonly average: boolean;
  /** Undefined: the first pass when passes > 1, else 0. */
  readonly averageFrom: number | undefined;
  readonly totalWeight: number | undefined;
  readonly validate: boolean;
  readonly seed: Seed;
}

/** The E-step of an online fit. */
function resolveEStep(kind: string, e: unknown, eo: Readonly<Record<string, unknown>> | undefined): EStep {
  const made = typeof e === 'string' || e === undefined ? createEStep(kind, (e as string | undefined) ?? 'exact', eo) : e;
  if (isMethod(made) || typeof made !== 'object' || made === null || typeof (made as EStep).run !== 'function') {
    throw emError('INVALID_ARGUMENT', ['options', 'eStep'], typeof made === 'object' && made !== null ? (made as { name?: unknown }).name : made, 'must be an E-step (a fitting method such as gradient ascent or an accelerated method has no statistics to blend)', "pass eStep: 'exact' (default) or another E-step");
  }
  if ((made as EStep).kind !== kind) throw emError('INVALID_ARGUMENT', ['options', 'eStep'], (made as EStep).name, `runs on structure kind "${(made as EStep).kind}" but the model has kind "${kind}"`, `use an E-step registered for "${kind}"`);
  return made as EStep;
}

/** One online update machine over a state. */
class OnlineRunner<D, P, S, PD extends PreparedData> {
  stats: S | undefined;
  updates: number;
  params: P | undefined;
  average: Float64Array | null;
  averageCount: number;
  par: Parametrization<P> | null;
  weightSeen: number;
  passComplete: boolean;
  averageStart: number;
  rows = 0;
  eStepCalls = 0;
  readonly trace: OnlineBatchRecord[] = [];
  passLL = 0;
  passW = 0;
  private readonly root: Rng;

  constructor(
    readonly model: Model<D, P, S, PD>,
    readonly eStep: EStep,
    readonly s: Settings,
    readonly init: string | P,
    state: OnlineState<P, S> | undefined,
  ) {
    this.stats = state?.stats;
    this.updates = state?.updates ?? 0;
    this.params = state?.params;
    this.average = state?.average === null || state?.average === undefined ? null : state.average.slice();
    this.averageCount = state?.averageCount ?? 0;
    this.par = state?.parametrization ?? null;
    this.weightSeen = state?.weightSeen ?? 0;
    this.passComplete = state?.passComplete ?? false;
    this.averageStart = state?.averageStart ?? s.averageFrom ?? (s.passes > 1 ? Number.POSITIVE_INFINITY : 0);
    this.root = createRng(s.seed);
  }

  state(): OnlineState<P, S> {
    return { stats: this.stats, updates: this.updates, params: this.params, average: this.average?.slice() ?? null, averageCount: this.averageCount, parametrization: this.par, weightSeen: this.weightSeen, passComplete: this.passComplete, averageStart: this.averageStart };
  }

  /** θ̂: the average when it holds iterates, else the last iterate. */
  reported(): P {
    if (this.params === undefined) throw new EmError('INTERNAL', 'no minibatch was processed');
    return this.average !== null && this.averageCount > 0 && this.par !== null ? this.par.fromVector(this.average) : this.params;
  }

  async update(batch: D, pass: number): Promise<OnlineBatchRecord> {
    const model = this.model;
    if (this.s.validate) model.validate(batch);
    const prepared = model.prepare(batch, { precisions: ['float64'] });
    const n = this.updates + 1;
    const rng = this.root.child('batch', n);
    try {
      if (this.params === undefined) {
        const init = this.init;
        this.params = typeof init === 'string' ? model.init(prepared, init, this.root.child('init')) : init;
      }
      if (this.s.average && this.par === null) {
        this.par = model.parametrization?.(prepared) ?? null;
      }
      const theta = this.params;
      const t0 = nowMs();
      const structure = model.structure(prepared, theta, { precision: 'float64' });
      let e;
      try {
        let st: unknown;
        if (this.eStep.start !== undefined) st = this.eStep.start({ rng: rng.child('estep-start'), restart: 0, structure });
        try {
          e = await this.eStep.run(structure, { rng: rng.child('estep'), iteration: n, passes: n - 1, state: st, precision: 'float64' });
        } finally {
          if (this.eStep.start !== undefined) this.eStep.dispose?.(st);
        }
      } finally {
        structure.dispose?.();
      }
      this.eStepCalls++;
      const t1 = nowMs();
      const w = prepared.totalWeight ?? prepared.nRows;
      const rows = rowCount(batch) ?? prepared.nRows;
      const algebra = model.stats;
      const perRow = algebra.scale(e.stats as S, 1 / w);
      const gamma = n === 1 ? 1 : (n + this.s.stepOffset) ** -this.s.stepAlpha;
      // The first minibatch sets the statistics (there is nothing to blend with yet).
      this.stats = this.stats === undefined || gamma === 1 ? perRow : algebra.add(algebra.scale(this.stats, 1 - gamma), algebra.scale(perRow, gamma));
      // W grows with new rows: the first pass, and partialFit (pass 0); later passes re-read the same rows.
      if (pass <= 1) this.weightSeen += w;
      const W = this.s.totalWeight ?? this.weightSeen;
      const m = model.mStep(algebra.scale(this.stats, W), theta, { rng: rng.child('mstep'), prepared, iteration: n });
      this.params = m.params;
      this.updates = n;
      if (this.s.average && this.par !== null && n > this.averageStart) {
        const v = this.par.toVector(m.params);
        if (this.average === null || this.averageCount === 0) {
          this.average = v;
          this.averageCount = 1;
        } else {
          this.averageCount++;
          const a = this.average;
          for (let i = 0; i < a.length; i++) a[i] = (a[i] as number) + ((v[i] as number) - (a[i] as number)) / this.averageCount;
        }
      }
      const ll = e.logLikelihood ?? e.bound;
      this.passLL += ll;
      this.passW += w;
      this.rows += rows;
      const record: OnlineBatchRecord = {
        batch: n,
        pass,
        rows,
        weight: w,
        stepSize: gamma,
        logLikelihood: ll,
        runningLogLikelihood: this.passLL / this.passW,
        eStepMs: t1 - t0,
        mStepMs: nowMs() - t1,
        events: m.events ?? [],
      };
      this.trace.push(record);
      return record;
    } finally {
      prepared.dispose();
    }
  }
}

/** Parses the options; returns the settings and the rest. */
function settingsOf<D, P, S, PD extends PreparedData>(model: Model<D, P, S, PD>, options: OnlineEmOptions<P>): { s: Settings; o: Record<string, unknown> } {
  const o = parseOptions(ONLINE_EM_OPTIONS, options, { owner: 'fitOnline', pathOf: (k) => ['options', k] });
  const hasPar = typeof model.parametrization === 'function';
  const average = (o['average'] as boolean | undefined) ?? hasPar;
  if (average && !hasPar) throw emError('INVALID_ARGUMENT', ['options', 'average'], true, `needs a model with a parametrization (model ${model.name} has none)`, 'pass average: false');
  if (!(model.precisions ?? ['float64']).includes('float64')) throw emError('INVALID_ARGUMENT', ['model'], model.name, 'does not compute in float64 (online EM runs its E-steps in float64)', 'use a model with float64 kernels');
  return {
    s: {
      batchSize: o['batchSize'] as number,
      stepAlpha: o['stepAlpha'] as number,
      stepOffset: o['stepOffset'] as number,
      passes: o['passes'] as number,
      average,
      averageFrom: o['averageFrom'] as number | undefined,
      totalWeight: o['totalWeight'] as number | undefined,
      validate: o['validate'] as boolean,
      seed: (o['seed'] as Seed | undefined) ?? 0,
    },
    o,
  };
}

/** The blocks of one pass of a source. */
async function passBlocks<D>(source: OnlineSource<D>, markers: readonly string[] | undefined, batchSize: number): Promise<AsyncIterable<D> | Iterable<D>> {
  if (typeof source === 'string') {
    // Node only, loaded on demand: the browser entry stays free of node: imports.
    const { csvRowBlocks } = await import('./csv-row-blocks.js');
    return csvRowBlocks(source, { blockRows: batchSize, ...(markers === undefined ? {} : { missingMarkers: markers }) }) as unknown as AsyncIterable<D>;
  }
  if (typeof source === 'function') return (source as () => AsyncIterable<D> | Iterable<D>)();
  if (isRowArray(source)) return [source as D];
  if (typeof source === 'object' && source !== null && (Symbol.asyncIterator in source || Symbol.iterator in source)) return source as AsyncIterable<D> | Iterable<D>;
  return [source as D];
}

function resultOf<D, P, S, PD extends PreparedData>(r: OnlineRunner<D, P, S, PD>, passTrace: OnlinePassRecord[], passes: number, aborted: boolean, warnings: string[], running: number | null): OnlineFitResult<P, S> {
  const lastPass = passTrace[passTrace.length - 1];
  return {
    format: 'emlab/online-result',
    model: { name: r.model.name, options: r.model.options },
    params: r.reported(),
    lastParams: r.params as P,
    averaged: r.average !== null && r.averageCount > 0,
    boundKind: 'estimate',
    runningLogLikelihood: running,
    heldOutLogLikelihood: lastPass?.heldOutLogLikelihood ?? null,
    passes,
    updates: r.updates,
    rows: r.rows,
    trace: r.trace,
    passTrace,
    eStepCalls: r.eStepCalls,
    method: { name: r.eStep.name, family: r.eStep.family, options: r.eStep.options },
    options: { batchSize: r.s.batchSize, stepAlpha: r.s.stepAlpha, stepOffset: r.s.stepOffset, passes: r.s.passes, average: r.s.average, averageFrom: Number.isFinite(r.averageStart) ? r.averageStart : null, totalWeight: r.s.totalWeight ?? null },
    seed: r.s.seed,
    aborted,
    warnings,
    version: VERSION,
    state: r.state(),
  };
}

/**
 * Fits a model by online (stepwise) EM over a stream of row blocks (see the module documentation).
 * Each minibatch is validated, prepared (float64), run through the E-step at θ_{n−1}, blended into
 * the running statistics with γ_n, and followed by an M-step; the Polyak–Ruppert average of θ_n in
 * the model's parametrization is the reported estimate. Works for any model whose data can be
 * split into row blocks (numeric tables with missing entries, Bayesian-network tables, ...).
 *
 * @param source - row blocks (see {@link OnlineSource}); several passes need a re-iterable source
 *   (an array, a function returning a fresh iterable, or a CSV path).
 * @example
 * ```ts
 * import { fitOnline, partialFit } from '@emlab/core';
 * const r = await fitOnline(gaussianMixture({ nComponents: 3 }), 'big.csv', { batchSize: 512, passes: 2, heldOut: test });
 * console.log(r.params, r.passTrace.map((p) => p.heldOutPerRow));
 * const later = await partialFit(gmm, r, moreRows);
 * ```
 * @throws EmError `INVALID_ARGUMENT` (options, an E-step that is a method), `INVALID_DATA` (a
 *   minibatch), `PARSE_ERROR`/`IO_ERROR` (a CSV source), `UNKNOWN_ESTEP`.
 * @category Online EM
 */
export async function fitOnline<D, P, S, PD extends PreparedData>(model: Model<D, P, S, PD>, source: OnlineSource<D>, options: OnlineEmOptions<P> = {}): Promise<OnlineFitResult<P, S>> {
  if (typeof model !== 'object' || model === null || typeof (model as Model<D, P, S, PD>).structure !== 'function') {
    throw emError('INVALID_ARGUMENT', ['model'], model, 'is not a model', 'pass a model object, e.g. gaussianMixture({ nComponents: 3 })');
  }
  if (source === undefined || source === null) throw emError('INVALID_ARGUMENT', ['source'], source, 'is missing', 'pass row blocks, a function returning them, or a CSV path');
  const { s, o } = settingsOf(model, options);
  const eStep = resolveEStep(model.structureKind, o['eStep'], o['eStepOptions'] as Readonly<Record<string, unknown>> | undefined);
  const initOpt = o['init'] ?? model.initMethods[0];
  if (typeof initOpt === 'string' && !model.initMethods.includes(initOpt)) {
    throw emError('INVALID_ARGUMENT', ['options', 'init'], initOpt, `is not an initialization method of ${model.name} (known: ${model.initMethods.join(', ')})`, 'pass one of those names or parameters to start from');
  }
  if (typeof initOpt !== 'string') model.validateParams(initOpt);
  const heldOut = o['heldOut'] as D | undefined;
  if (heldOut !== undefined) model.validate(heldOut);
  const warnings: string[] = [];
  const onWarning = o['onWarning'] as ((m: string) => void) | undefined;
  const warn = (m: string): void => {
    warnings.push(m);
    if (onWarning !== undefined) onWarning(m);
    else emitWarning(m);
  };
  const onBatch = o['onBatch'] as OnlineEmOptions['onBatch'];
  const onPass = o['onPass'] as OnlineEmOptions['onPass'];
  const signal = o['signal'] as AbortSignal | undefined;
  const runner = new OnlineRunner<D, P, S, PD>(model, eStep, s, initOpt as string | P, undefined);
  const passTrace: OnlinePassRecord[] = [];
  let aborted = false;
  let running: number | null = null;
  for (let pass = 1; pass <= s.passes && !aborted; pass++) {
    const t0 = nowMs();
    runner.passLL = 0;
    runner.passW = 0;
    let batches = 0;
    let rows = 0;
    const blocks = await passBlocks(source, o['missingMarkers'] as readonly string[] | undefined, s.batchSize);
    for await (const batch of minibatches(blocks, s.batchSize)) {
      if (signal?.aborted) {
        aborted = true;
        break;
      }
      const rec = await runner.update(batch, pass);
      batches++;
      rows += rec.rows;
      if (onBatch?.(rec) === false) {
        aborted = true;
        break;
      }
      await yieldToEventLoop();
    }
    if (batches === 0) {
      if (pass === 1) throw emError('INVALID_DATA', ['source'], source, 'yielded no rows', 'pass a source with at least one row block');
      throw emError('INVALID_ARGUMENT', ['source'], 'iterator', `yielded no rows on pass ${pass}: a one-shot iterator cannot be read twice`, 'pass a function returning a fresh iterable for each pass, an array of blocks, or a CSV path; or use passes: 1');
    }
    if (!aborted) {
      runner.passComplete = true;
      // Default averaging: over the passes after the first.
      if (pass === 1 && s.averageFrom === undefined && s.passes > 1) runner.averageStart = runner.updates;
    }
    running = runner.passLL / runner.passW;
    let heldOutLL: number | null = null;
    let heldOutLast: number | null = null;
    let heldRows: number | null = null;
    if (heldOut !== undefined) {
      heldOutLL = await logLikelihoodOf(model, heldOut, runner.reported(), { validate: false });
      heldOutLast = runner.average === null ? heldOutLL : await logLikelihoodOf(model, heldOut, runner.params as P, { validate: false });
      runner.eStepCalls += runner.average === null ? 1 : 2;
      heldRows = rowCount(heldOut);
    }
    const rec: OnlinePassRecord = {
      pass,
      batches,
      rows,
      weight: runner.passW,
      logLikelihoodPerRow: running,
      heldOutLogLikelihood: heldOutLL,
      heldOutPerRow: heldOutLL === null || heldRows === null ? null : heldOutLL / heldRows,
      heldOutLastIterate: heldOutLast,
      ms: nowMs() - t0,
    };
    passTrace.push(rec);
    onPass?.(rec);
  }
  if (aborted) warn(`online EM stopped early after ${runner.updates} minibatch updates (callback or abort signal)`);
  return resultOf(runner, passTrace, passTrace.length, aborted, warnings, running);
}

/**
 * Continues an online fit with more rows (scikit-learn's `partial_fit`): the rows are split into
 * minibatches of the fit's `batchSize` and each is one more stochastic-approximation update with
 * the continuing step sizes γ_n; the average continues too. Pass records are not added (these rows
 * are outside the passes); batch records have `pass` 0.
 *
 * @param model - the model of the fit (results are plain data and do not hold it).
 * @param result - a result of {@link fitOnline} or `partialFit` (its in-memory `state`).
 * @param rows - model data (one block or several, as for {@link fitOnline}).
 * @example
 * ```ts
 * let r = await fitOnline(gmm, firstBlocks, { batchSize: 256 });
 * for await (const block of arriving) r = await partialFit(gmm, r, block);
 * ```
 * @throws EmError `INVALID_ARGUMENT` (a result without state, or of another model), `INVALID_DATA`.
 * @category Online EM
 */
export async function partialFit<D, P, S, PD extends PreparedData>(
  model: Model<D, P, S, PD>,
  result: OnlineFitResult<P, S>,
  rows: OnlineSource<D>,
  options: Pick<OnlineEmOptions<P>, 'onBatch' | 'signal' | 'eStep' | 'eStepOptions' | 'validate'> = {},
): Promise<OnlineFitResult<P, S>> {
  if (typeof result !== 'object' || result === null || result.format !== 'emlab/online-result' || typeof result.state !== 'object' || result.state === null) {
    throw emError('INVALID_ARGUMENT', ['result'], result, 'must be a result of fitOnline or partialFit (with its in-memory state)', 'pass the value fitOnline returned');
  }
  if (result.model.name !== model.name) throw emError('INVALID_ARGUMENT', ['result', 'model'], result.model.name, `comes from model "${result.model.name}", not "${model.name}"`, 'pass the model the fit was made with');
  const o = parseOptions(
    { onBatch: ONLINE_EM_OPTIONS.onBatch, signal: ONLINE_EM_OPTIONS.signal, eStep: ONLINE_EM_OPTIONS.eStep, eStepOptions: ONLINE_EM_OPTIONS.eStepOptions, validate: ONLINE_EM_OPTIONS.validate },
    options,
    { owner: 'partialFit', pathOf: (k) => ['options', k] },
  );
  const ro = result.options;
  const s: Settings = { batchSize: ro.batchSize, stepAlpha: ro.stepAlpha, stepOffset: ro.stepOffset, passes: ro.passes, average: ro.average, averageFrom: ro.averageFrom ?? undefined, totalWeight: ro.totalWeight ?? undefined, validate: o['validate'] as boolean, seed: result.seed };
  const eStep = resolveEStep(model.structureKind, o['eStep'] ?? result.method.name, o['eStepOptions'] as Readonly<Record<string, unknown>> | undefined ?? (o['eStep'] === undefined ? result.method.options : undefined));
  const runner = new OnlineRunner<D, P, S, PD>(model, eStep, s, result.state.params ?? (model.initMethods[0] as string), result.state);
  runner.rows = result.rows;
  runner.eStepCalls = result.eStepCalls;
  runner.trace.push(...result.trace);
  const onBatch = o['onBatch'] as OnlineEmOptions['onBatch'];
  const signal = o['signal'] as AbortSignal | undefined;
  let aborted = false;
  const blocks = await passBlocks(rows, undefined, s.batchSize);
  for await (const batch of minibatches(blocks, s.batchSize)) {
    if (signal?.aborted) {
      aborted = true;
      break;
    }
    const rec = await runner.update(batch, 0);
    if (onBatch?.(rec) === false) {
      aborted = true;
      break;
    }
  }
  return resultOf(runner, [...result.passTrace], result.passes, aborted, [...result.warnings], result.runningLogLikelihood);
}
