/**
 * Pieces for `emlab fit` that the command wires: `--accelerate NAME`, online EM
 * (`--online --batch-size B --step-alpha A --passes P --held-out FILE`) and
 * standard errors (`--se [--se-method louis|hessian|bootstrap] [--replicates B]`).
 * Each flag is parsed against the library's own option tables, so errors name
 * the flag, the value and a remedy.
 *
 * Semantics:
 * - `--accelerate squarem|quasi-newton|aitken|parabolic|em`: `fit(…, { accelerate })`
 *   around the exact E-step (float64; `--max-iter` counts E-step calls); an
 *   error beside a non-exact `--estep`.
 * - `--online`: `fitOnline(model, <data.csv>, …)` streams the CSV (never read
 *   whole) in minibatches of `--batch-size` rows (default 256) for `--passes`
 *   passes (default 1) with step sizes (n + n₀)^−α (`--step-alpha`, default
 *   0.6; `--step-offset`, default 0); `--held-out FILE` (a CSV with the same
 *   columns) reports the held-out log-likelihood after each pass.
 * - `--se`: standard errors of the fitted parameters (`standardErrors`): Louis'
 *   identity when the model has the hook (Gaussian mixtures, networks), else the
 *   numerical Hessian; `--se-method bootstrap --replicates B` for the parametric
 *   bootstrap (seeded by `--seed`).
 * @module
 */
import type { ParseArgsConfig } from 'node:util';
import {
  ACCELERATOR_NAMES,
  emError,
  fitOnline,
  ONLINE_EM_OPTIONS,
  parseOptionText,
  standardErrors,
  type AcceleratorName,
  type Model,
  type OnlineFitResult,
  type OnlinePassRecord,
  type Seed,
  type StandardErrorMethod,
  type StandardErrorsResult,
} from '@emlab/core';
import { readNumericCsv } from '@emlab/data';
import type { CliIo } from './main.js';

/** The flags this module reads, for `parseArgs` (merge into a command's options). @category CLI */
export const ONLINE_SE_FLAGS = {
  accelerate: { type: 'string' },
  online: { type: 'boolean' },
  'batch-size': { type: 'string' },
  'step-alpha': { type: 'string' },
  'step-offset': { type: 'string' },
  passes: { type: 'string' },
  'average-from': { type: 'string' },
  'held-out': { type: 'string' },
  se: { type: 'boolean' },
  'se-method': { type: 'string' },
  replicates: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Help lines for these flags. @category CLI */
export const ONLINE_SE_USAGE = `  [--accelerate squarem|quasi-newton|aitken|parabolic]   accelerated EM (E-step calls counted in --max-iter)
  [--online [--batch-size B] [--step-alpha A] [--step-offset N0] [--passes P] [--held-out FILE]]
                                              online EM streaming the CSV in minibatches
  [--se [--se-method louis|hessian|bootstrap] [--replicates B]]   standard errors of the estimates`;

type Values = { readonly [K in keyof typeof ONLINE_SE_FLAGS]?: (typeof ONLINE_SE_FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

/**
 * `fit` options from `--accelerate` (empty when absent).
 * @throws EmError `INVALID_ARGUMENT` naming `--accelerate`.
 * @category CLI
 */
export function accelerateFromFlags(values: Values): { accelerate?: AcceleratorName } {
  const a = values.accelerate;
  if (a === undefined) return {};
  if (!(ACCELERATOR_NAMES as readonly string[]).includes(a)) {
    throw emError('INVALID_ARGUMENT', ['--accelerate'], a, `is not an accelerator (known: ${ACCELERATOR_NAMES.join(', ')})`, 'pass e.g. --accelerate squarem');
  }
  if (values.online) throw emError('INVALID_ARGUMENT', ['--accelerate'], a, 'does not apply to --online (online EM takes one E-step per minibatch)', 'drop --accelerate or --online');
  return { accelerate: a as AcceleratorName };
}

/**
 * `fitOnline` options from the online flags (each parsed by the option table of `fitOnline`).
 * @throws EmError `INVALID_ARGUMENT` naming the flag.
 * @category CLI
 */
export function onlineOptionsFromFlags(values: Values): { batchSize?: number; stepAlpha?: number; stepOffset?: number; passes?: number; averageFrom?: number } {
  const out: Record<string, number> = {};
  const pairs = [
    ['batch-size', 'batchSize'],
    ['step-alpha', 'stepAlpha'],
    ['step-offset', 'stepOffset'],
    ['passes', 'passes'],
    ['average-from', 'averageFrom'],
  ] as const;
  for (const [flag, key] of pairs) {
    const text = values[flag];
    if (text === undefined) continue;
    if (!values.online) throw emError('INVALID_ARGUMENT', [`--${flag}`], text, 'only applies to --online', `add --online or drop --${flag}`);
    out[key] = parseOptionText(ONLINE_EM_OPTIONS[key], text, [`--${flag}`]) as number;
  }
  return out;
}

/**
 * Runs online EM on a CSV file (streamed), with the held-out CSV when given; writes one line per pass on stderr.
 * @throws EmError as `fitOnline` and the CSV reader.
 * @category CLI
 */
export async function runOnlineFit<P>(model: Model<any, P, any, any>, file: string, values: Values, seed: Seed, io: CliIo, warnings: string[]): Promise<OnlineFitResult<P>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const heldOut = values['held-out'] === undefined ? undefined : await readNumericCsv(values['held-out']);
  return fitOnline(model, file, {
    ...onlineOptionsFromFlags(values),
    seed,
    ...(heldOut === undefined ? {} : { heldOut }),
    onPass: (p: OnlinePassRecord) => io.stderr(`${describePass(p)}\n`),
    onWarning: (m) => warnings.push(m),
  });
}

/** One line per pass: rows, prequential log-likelihood per row, held-out log-likelihood. @category CLI */
export function describePass(p: OnlinePassRecord): string {
  const held = p.heldOutLogLikelihood === null ? '' : `, held-out log-likelihood ${p.heldOutLogLikelihood.toFixed(4)} (${(p.heldOutPerRow as number).toFixed(6)} per row)`;
  return `pass ${p.pass}: ${p.rows} rows in ${p.batches} minibatches, running log-likelihood ${p.logLikelihoodPerRow.toFixed(6)} per row (estimate)${held}, ${(p.ms / 1000).toFixed(1)} s`;
}

/**
 * Standard errors from `--se`, `--se-method`, `--replicates` (seed from `--seed`).
 * @throws EmError `INVALID_ARGUMENT` naming the flag, or as `standardErrors`.
 * @category CLI
 */
export async function standardErrorsFromFlags<D, P>(model: Model<D, P, any, any>, fitted: { readonly params: P }, data: D, values: Values, seed: Seed): Promise<StandardErrorsResult> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const method = values['se-method'];
  if (method !== undefined && !['louis', 'hessian', 'bootstrap'].includes(method)) {
    throw emError('INVALID_ARGUMENT', ['--se-method'], method, 'is not a method (known: louis, hessian, bootstrap)', 'pass e.g. --se-method hessian');
  }
  const replicatesText = values.replicates;
  if (replicatesText !== undefined && method !== 'bootstrap') throw emError('INVALID_ARGUMENT', ['--replicates'], replicatesText, 'only applies to --se-method bootstrap', 'add --se-method bootstrap or drop --replicates');
  const replicates = replicatesText === undefined ? undefined : (parseOptionText({ type: 'integer', min: 2, description: 'bootstrap replicates' }, replicatesText, ['--replicates']) as number);
  return standardErrors(model, fitted, data, {
    ...(method === undefined ? {} : { method: method as StandardErrorMethod }),
    ...(replicates === undefined ? {} : { replicates }),
    seed,
  });
}

/** A table of every parameter with its estimate and standard error. @category CLI */
export function describeStandardErrors(se: StandardErrorsResult): string {
  const width = Math.max(9, ...se.natural.names.map((n) => n.length));
  const lines = [`standard errors (${se.method}${se.method === 'bootstrap' ? `, ${se.bootstrap?.replicates} replicates` : ''}):`, `  ${'parameter'.padEnd(width)}  ${'estimate'.padStart(14)}  ${'std. error'.padStart(12)}`];
  se.natural.names.forEach((name, i) => {
    const v = se.natural.values[i] as number;
    const s = se.natural.standardErrors[i] as number;
    lines.push(`  ${name.padEnd(width)}  ${v.toPrecision(8).padStart(14)}  ${s.toPrecision(4).padStart(12)}`);
  });
  return `${lines.join('\n')}\n`;
}

/** The standard errors as plain JSON (typed arrays as arrays). @category CLI */
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
