/**
 * The method flags: `--estep NAME` (any method registered for the model's
 * structure kind, `gradient` included), `--estep-option KEY=VALUE` parsed by
 * the registration's option schema, and `--draws S`, the shortcut for
 * `--estep-option nDraws=S` of sampling (monte-carlo) E-steps, an error with
 * any other method. Everything is checked, and the method built once, before
 * any work.
 * @module
 */
import { EmError, findEStep, isMethod, listESteps, parseOptionText, type EStepRegistration, type Model, type OptionSpec } from '@emlab/core';
import { NO_VALUE, asTyped, badFlag, flagError, problemOf } from './cli-error.js';
import { inFlagTerms, type Vocabulary } from './rephrase.js';
import { text, texts, type ParsedFlags } from './parse-flags.js';

/** A method chosen on the command line. */
export interface MethodChoice {
  readonly registration: EStepRegistration;
  readonly name: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** `KEY=VALUE` items of `--estep-option`, split (each key once). */
function optionItems(items: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw badFlag('--estep-option', item, 'is not of the form KEY=VALUE', 'pass e.g. --estep-option nDraws=4');
    const key = item.slice(0, eq).trim();
    if (out.some(([k]) => k === key)) throw badFlag('--estep-option', item, `sets ${key} twice`, `give --estep-option ${key}=... once`);
    out.push([key, item.slice(eq + 1)]);
  }
  return out;
}

const schemaOf = (r: EStepRegistration): Readonly<Record<string, OptionSpec>> => r.options ?? {};
const samples = (r: EStepRegistration): boolean => r.family === 'monte-carlo' && schemaOf(r)['nDraws'] !== undefined;

/** Names of the sampling methods of a structure kind (for remedies). */
function samplingMethods(kind: string): string {
  const names = listESteps(kind).filter(samples).map((r) => r.method);
  return names.length === 0 ? 'none is registered' : names.join(', ');
}

/** Parses one option's text for a registration, naming `--estep-option KEY` (or `flag`). */
function parseMethodOption(r: EStepRegistration, key: string, value: string, flag: string): unknown {
  const spec = schemaOf(r)[key];
  if (spec === undefined) {
    const keys = Object.keys(schemaOf(r));
    throw badFlag(flag, value, `${key} is not an option of --estep ${r.method}`, keys.length === 0 ? `--estep ${r.method} takes no options: drop ${flag}` : `use one of: ${keys.join(', ')}`);
  }
  return asTyped(flag, value, () => parseOptionText(spec, value, [flag]));
}

/** Builds the method once with its options, so cross-option errors come now, naming the flags. */
function build(r: EStepRegistration, options: Readonly<Record<string, unknown>>, fromDraws: boolean): void {
  try {
    r.create(options);
  } catch (e) {
    if (!(e instanceof EmError) || e.code === 'INTERNAL') throw e;
    const key = e.path[e.path.length - 1];
    const flag = typeof key === 'string' && key in options ? (key === 'nDraws' && fromDraws ? '--draws' : `--estep-option ${key}`) : '--estep';
    throw flagError(e.code, [flag], typeof key === 'string' && key in options ? options[key] : r.method, problemOf(e), e.remedy ?? 'see emlab esteps', e);
  }
}

/**
 * The method of `--estep` (default `exact`) for a model's structure kind, with its options.
 * @throws EmError `UNKNOWN_ESTEP` or `INVALID_ARGUMENT` naming the flag.
 */
export function methodFromFlags(kind: string, parsed: ParsedFlags): MethodChoice {
  const name = text(parsed, 'estep') ?? 'exact';
  const registration = findEStep(kind, name, ['--estep']);
  const options: Record<string, unknown> = {};
  for (const [key, value] of optionItems(texts(parsed, 'estep-option'))) options[key] = parseMethodOption(registration, key, value, `--estep-option ${key}`);
  const draws = text(parsed, 'draws');
  if (draws !== undefined) {
    if (!samples(registration)) {
      throw badFlag('--draws', draws, `applies to sampling E-steps only, and --estep ${registration.method} is ${registration.family}`, `drop --draws, or pass --estep with a sampling E-step (${samplingMethods(kind)})`);
    }
    if ('nDraws' in options) throw badFlag('--draws', draws, 'conflicts with --estep-option nDraws', 'give the number of draws once');
    options['nDraws'] = parseMethodOption(registration, 'nDraws', draws, '--draws');
  }
  build(registration, options, draws !== undefined);
  return { registration, name: registration.method, options };
}

/**
 * The methods of `--esteps A,B,...` with `--estep-option` (each option goes to every listed method
 * that has it; one that none has is an error) and `--draws` (every listed sampling method; an error
 * when none samples).
 * @throws EmError `UNKNOWN_ESTEP` or `INVALID_ARGUMENT` naming the flag.
 */
export function methodsFromFlags(kind: string, parsed: ParsedFlags, fallback: string): MethodChoice[] {
  const list = text(parsed, 'esteps') ?? fallback;
  const names = list.split(',').map((s) => s.trim());
  names.forEach((n, i) => {
    if (n === '') throw badFlag('--esteps', list, `item ${i + 1} is empty`, 'pass comma-separated method names, e.g. exact,hard,stochastic');
    if (names.indexOf(n) !== i) throw badFlag('--esteps', list, `lists "${n}" twice`, 'list each method once');
  });
  const regs = names.map((n) => findEStep(kind, n, ['--esteps']));
  const items = optionItems(texts(parsed, 'estep-option'));
  for (const [key, value] of items) {
    if (!regs.some((r) => key in schemaOf(r))) throw badFlag(`--estep-option ${key}`, value, `${key} is not an option of any listed method (${names.join(', ')})`, 'drop it, or list a method that has it (emlab esteps)');
  }
  const draws = text(parsed, 'draws');
  if (draws !== undefined && !regs.some(samples)) {
    throw badFlag('--draws', draws, `applies to sampling E-steps only, and none of ${names.join(', ')} samples`, `drop --draws, or add a sampling E-step to --esteps (${samplingMethods(kind)})`);
  }
  if (draws !== undefined && items.some(([k]) => k === 'nDraws')) throw badFlag('--draws', draws, 'conflicts with --estep-option nDraws', 'give the number of draws once');
  return regs.map((registration) => {
    const options: Record<string, unknown> = {};
    for (const [key, value] of items) if (key in schemaOf(registration)) options[key] = parseMethodOption(registration, key, value, `--estep-option ${key}`);
    if (draws !== undefined && samples(registration)) options['nDraws'] = parseMethodOption(registration, 'nDraws', draws, '--draws');
    build(registration, options, draws !== undefined);
    return { registration, name: registration.method, options };
  });
}

/**
 * Checks that a method runs on this model and data (e.g. gradient ascent needs a gradient adapter
 * and complete data) before any work.
 * @throws EmError `INVALID_ARGUMENT` naming `flag` and the method.
 */
export function checkApplies(choice: MethodChoice, model: Model<any, any, any, any>, data: unknown, flag: string, v: Vocabulary): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  const made = choice.registration.create(choice.options);
  if (!isMethod(made) || made.check === undefined) return;
  try {
    made.check(model, data);
  } catch (e) {
    if (!(e instanceof EmError) || e.code === 'INTERNAL') throw e;
    const r = inFlagTerms(e, v) as EmError;
    const at = r.message.lastIndexOf('. Remedy: ');
    throw flagError(e.code, [flag], NO_VALUE, `cannot run on this data: ${at < 0 ? r.message : r.message.slice(0, at)}`, r.remedy ?? 'choose another method', e);
  }
}
