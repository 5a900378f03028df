/**
 * `emlab fit`'s acceleration, online EM and standard-error flags, checked
 * before any work (names, ranges, and which flags go together), and the pieces
 * that run them:
 *
 * - `--accelerate squarem|quasi-newton|aitken|parabolic|em`: `fit(…, { accelerate })`
 *   around the exact E-step (float64; `--max-iter` counts E-step calls).
 * - `--online [--minibatch-size B] [--step-alpha A] [--step-offset N0] [--passes P]
 *   [--average-from N] [--held-out-file FILE]`: `fitOnline(model, <data.csv>, …)`
 *   streams the CSV in minibatches (never read whole), with step sizes
 *   (n + n₀)^−α; the held-out CSV's log-likelihood is reported after each pass.
 * - `--se [--se-method louis|hessian|bootstrap] [--replicates B]`: standard
 *   errors of the fitted parameters (`standardErrors`); the bootstrap is seeded
 *   by `--seed` and refits with the command's method and stopping rule.
 *
 * Values are parsed by the library's own option tables (`ONLINE_EM_OPTIONS`,
 * `STANDARD_ERRORS_OPTIONS`), so ranges and defaults are the library's.
 * @module
 */
import {
  ACCELERATOR_NAMES,
  EmError,
  ONLINE_EM_OPTIONS,
  STANDARD_ERRORS_OPTIONS,
  isMethod,
  parseOptionText,
  type AcceleratorName,
  type FitOptions,
  type OnlineFitResult,
  type OnlinePassRecord,
  type OptionSpec,
  type StandardErrorMethod,
  type StandardErrorsOptions,
  type StandardErrorsResult,
} from '@emlab/core';
import { NO_VALUE, asTyped, badFlag, flagError, problemOf } from './cli-error.js';
import type { MethodChoice } from './method-flags.js';
import { on, text, type ParsedFlags } from './parse-flags.js';

/** The online EM settings the flags set (what `fitOnline` receives besides callbacks and the data). */
export interface OnlineFlagOptions {
  readonly batchSize?: number;
  readonly stepAlpha?: number;
  readonly stepOffset?: number;
  readonly passes?: number;
  readonly averageFrom?: number;
  /** `--held-out-file FILE` (read before the fit). */
  readonly heldOutFile?: string;
}

/** The standard-error settings the flags set. */
export interface SeFlagOptions {
  readonly method?: StandardErrorMethod;
  readonly replicates?: number;
}

/** What `--accelerate`, `--online` and `--se` ask for. */
export interface FitExtras {
  readonly accelerate?: AcceleratorName;
  readonly online?: OnlineFlagOptions;
  readonly se?: SeFlagOptions;
}

/** Online flags → `fitOnline` option keys. */
export const ONLINE_FLAG_KEYS = [
  ['minibatch-size', 'batchSize'],
  ['step-alpha', 'stepAlpha'],
  ['step-offset', 'stepOffset'],
  ['passes', 'passes'],
  ['average-from', 'averageFrom'],
] as const;

/** Flags of batch fitting that online EM does not use, and why. */
const NOT_ONLINE: readonly (readonly [string, string])[] = [
  ['n-init', 'online EM makes one pass from one start'],
  ['max-iter', 'online EM runs --passes passes over the data'],
  ['tol', 'online EM runs --passes passes over the data'],
  ['convergence', 'online EM runs --passes passes over the data'],
  ['precision', 'online EM runs the E-step in float64 per minibatch'],
  ['record-params', 'online EM keeps a record per minibatch instead'],
  ['weights-column', 'the streamed CSV is read as data columns only'],
];

const given = (parsed: ParsedFlags, name: string): boolean => parsed.values[name] !== undefined;

/** The text of a flag as typed (a switch is `true`). */
const shown = (parsed: ParsedFlags, name: string): unknown => {
  const v = parsed.values[name];
  return v === true ? NO_VALUE : Array.isArray(v) ? v.join(' ') : v;
};

/** A value parsed by a library option spec, the error naming the flag with the text as typed. */
function optionValue(flag: string, spec: OptionSpec, value: string): unknown {
  return asTyped(`--${flag}`, value, () => parseOptionText(spec, value, [`--${flag}`]));
}

/**
 * The acceleration, online and standard-error flags, checked against each other and against the
 * method (`--estep`) and the batch fitting flags.
 * @throws EmError `INVALID_ARGUMENT` naming the flag.
 */
export function fitExtrasFromFlags(parsed: ParsedFlags, method: MethodChoice): FitExtras {
  const online = on(parsed, 'online');
  // --accelerate
  const accelerate = text(parsed, 'accelerate');
  if (accelerate !== undefined) {
    if (!(ACCELERATOR_NAMES as readonly string[]).includes(accelerate)) {
      throw badFlag('--accelerate', accelerate, `is not an accelerator (known: ${ACCELERATOR_NAMES.join(', ')})`, 'pass e.g. --accelerate squarem (docs/acceleration.md)');
    }
    if (online) throw badFlag('--accelerate', accelerate, 'does not apply to --online (online EM takes one E-step per minibatch)', 'drop --accelerate or --online');
    const r = method.registration;
    if (r.family !== 'exact' || isMethod(r.create(method.options))) {
      throw badFlag('--accelerate', accelerate, `accelerates the EM map of an exact E-step, and --estep ${r.method} is ${isMethod(r.create(method.options)) ? 'a fitting method itself' : `a ${r.family} E-step`}`, 'drop --estep (the exact E-step is the default), or drop --accelerate');
    }
  }
  // --online and its settings
  const settings: Record<string, number> = {};
  for (const [flag, key] of ONLINE_FLAG_KEYS) {
    const value = text(parsed, flag);
    if (value === undefined) continue;
    if (!online) throw badFlag(`--${flag}`, value, 'only applies to --online', `add --online, or drop --${flag}`);
    settings[key] = optionValue(flag, ONLINE_EM_OPTIONS[key] as OptionSpec, value) as number;
  }
  const heldOutFile = text(parsed, 'held-out-file');
  if (heldOutFile !== undefined && !online) throw badFlag('--held-out-file', heldOutFile, 'only applies to --online (its log-likelihood is reported after each pass)', 'add --online, or drop --held-out-file');
  if (online) {
    for (const [flag, why] of NOT_ONLINE) {
      if (given(parsed, flag)) throw badFlag(`--${flag}`, shown(parsed, flag), `does not apply to --online: ${why}`, `drop --${flag}, or drop --online`);
    }
    if (isMethod(method.registration.create(method.options))) {
      throw badFlag('--estep', method.name, 'is a fitting method, and --online blends the sufficient statistics of an E-step per minibatch', 'drop --estep (exact), or pass another E-step (emlab esteps)');
    }
  }
  // --se and its settings
  const se = on(parsed, 'se');
  const seMethod = text(parsed, 'se-method');
  const replicatesText = text(parsed, 'replicates');
  if (!se) {
    if (seMethod !== undefined) throw badFlag('--se-method', seMethod, 'only applies to --se', 'add --se, or drop --se-method');
    if (replicatesText !== undefined) throw badFlag('--replicates', replicatesText, 'only applies to --se --se-method bootstrap', 'add --se --se-method bootstrap, or drop --replicates');
  }
  if (se && online) throw badFlag('--se', NO_VALUE, 'does not apply to --online (the data are streamed, never held in memory)', 'drop --se, or fit without --online (then --se works on the whole data)');
  const seOptions: { method?: StandardErrorMethod; replicates?: number } = {};
  if (seMethod !== undefined) seOptions.method = optionValue('se-method', STANDARD_ERRORS_OPTIONS.method as OptionSpec, seMethod) as StandardErrorMethod;
  if (replicatesText !== undefined) {
    if (seOptions.method !== 'bootstrap') throw badFlag('--replicates', replicatesText, 'only applies to --se-method bootstrap', 'add --se-method bootstrap, or drop --replicates');
    seOptions.replicates = optionValue('replicates', STANDARD_ERRORS_OPTIONS.replicates as OptionSpec, replicatesText) as number;
  }
  return {
    ...(accelerate === undefined ? {} : { accelerate: accelerate as AcceleratorName }),
    ...(online ? { online: { ...settings, ...(heldOutFile === undefined ? {} : { heldOutFile }) } } : {}),
    ...(se ? { se: seOptions } : {}),
  };
}

/**
 * Checks, before the fit, that the model can give standard errors the asked way (the checks
 * `standardErrors` makes after it), in flag terms.
 * @throws EmError `INVALID_ARGUMENT` naming `--se` or `--se-method`.
 */
export function checkStandardErrorsApply(model: { readonly name: string; readonly parametrization?: unknown; readonly louis?: unknown; readonly simulate?: unknown; readonly precisions?: readonly string[] }, se: SeFlagOptions, modelFlag: string): void {
  if (model.parametrization === undefined) {
    throw badFlag('--se', NO_VALUE, `is not available for ${modelFlag}: the model has no parametrization (the coordinates standard errors are given in)`, 'drop --se, or use a model with one (gmm, bayesian-network)');
  }
  if (!(model.precisions ?? ['float64']).includes('float64')) {
    throw badFlag('--se', NO_VALUE, `is not available for ${modelFlag}: the model does not compute in float64`, 'drop --se');
  }
  if (se.method === 'louis' && model.louis === undefined) {
    throw badFlag('--se-method', 'louis', `needs Louis' identity, which ${modelFlag} does not provide`, 'pass --se-method hessian (needs only the log-likelihood) or bootstrap');
  }
  if (se.method === 'bootstrap' && model.simulate === undefined) {
    throw badFlag('--se-method', 'bootstrap', `needs to simulate data from ${modelFlag}, which it cannot`, 'pass --se-method hessian or louis');
  }
}


/**
 * `e` from `standardErrors` in flag terms: its options are `--se-method` and `--replicates`, anything
 * else (a model without the hook, an information matrix that is not positive definite) is about `--se`.
 */
export function seErrorInFlagTerms(e: unknown): unknown {
  if (!(e instanceof EmError) || e.code === 'INTERNAL') return e;
  const key = e.path[0] === 'options' ? e.path[1] : undefined;
  const flag = key === 'method' ? '--se-method' : key === 'replicates' ? '--replicates' : '--se';
  const where = flag === '--se' && e.path.length > 0 ? `${e.path.join('.')}: ` : '';
  return flagError(e.code, [flag], flag === '--se' ? NO_VALUE : e.value, `${where}${problemOf(e)}`, e.remedy ?? 'see emlab fit --help', e);
}

/** One line per online pass: rows, prequential log-likelihood per row, held-out log-likelihood. */
export function describePass(p: OnlinePassRecord): string {
  const held = p.heldOutLogLikelihood === null ? '' : `, held-out log-likelihood ${p.heldOutLogLikelihood.toFixed(4)} (${(p.heldOutPerRow as number).toFixed(6)} per row)`;
  return `pass ${p.pass}: ${p.rows} rows in ${p.batches} minibatches, running log-likelihood ${p.logLikelihoodPerRow.toFixed(6)} per row (estimate)${held}, ${(p.ms / 1000).toFixed(1)} s`;
}

/** An online result without its in-memory running state (which `partialFit` needs, and JSON cannot hold). */
export function onlineResultJson<P>(r: OnlineFitResult<P>): Omit<OnlineFitResult<P>, 'state'> {
  const { state: _state, ...rest } = r;
  return rest;
}

/** A table of every parameter with its estimate and standard error. */
export function describeStandardErrors(se: StandardErrorsResult): string {
  const width = Math.max(9, ...se.natural.names.map((n) => n.length));
  const method = `${se.method}${se.method === 'bootstrap' ? `, ${se.bootstrap?.replicates} replicates` : ''}`;
  const lines = [`standard errors (${method}):`, `  ${'parameter'.padEnd(width)}  ${'estimate'.padStart(14)}  ${'std. error'.padStart(12)}`];
  se.natural.names.forEach((name, i) => {
    const v = se.natural.values[i] as number;
    const s = se.natural.standardErrors[i] as number;
    lines.push(`  ${name.padEnd(width)}  ${v.toPrecision(8).padStart(14)}  ${s.toPrecision(4).padStart(12)}`);
  });
  return `${lines.join('\n')}\n`;
}

/** The standard errors as plain JSON (typed arrays as arrays). */
export function standardErrorsJson(se: StandardErrorsResult): Record<string, unknown> {
  const arr = (a: Float64Array | null): number[] | null => (a === null ? null : Array.from(a));
  return {
    method: se.method,
    parametrization: se.parametrization,
    objective: se.objective,
    scoreNorm: se.scoreNorm,
    theta: arr(se.theta),
    standardErrors: arr(se.standardErrors),
    covariance: arr(se.covariance),
    natural: { names: se.natural.names, values: arr(se.natural.values), standardErrors: arr(se.natural.standardErrors), covariance: arr(se.natural.covariance) },
    ...(se.louis === undefined ? {} : { louis: { coordinates: se.louis.coordinates, missingFraction: se.louis.missingFraction } }),
    ...(se.bootstrap === undefined ? {} : { bootstrap: se.bootstrap }),
    warnings: se.warnings,
  };
}

/** The refit options of the bootstrap: the command's method and stopping rule. */
export function bootstrapFitOptions(method: MethodChoice, o: { readonly maxIter?: number; readonly tol?: number; readonly convergence?: FitOptions['convergence']; readonly accelerate?: AcceleratorName }, onWarning: (m: string) => void): NonNullable<StandardErrorsOptions['fitOptions']> {
  return {
    eStep: method.name,
    ...(Object.keys(method.options).length === 0 ? {} : { eStepOptions: method.options }),
    ...(o.accelerate === undefined ? {} : { accelerate: o.accelerate }),
    ...(o.maxIter === undefined ? {} : { maxIter: o.maxIter }),
    ...(o.tol === undefined ? {} : { tol: o.tol }),
    ...(o.convergence === undefined ? {} : { convergence: o.convergence }),
    onWarning,
  };
}
