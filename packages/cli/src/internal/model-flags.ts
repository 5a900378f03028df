/**
 * Model flags from a registration's option schema: each option that command
 * line text can set has a flag (its schema's `flag`, else its key in
 * kebab-case), parsed with core's `parseOptionText` and validated with
 * `parseOptions`, so errors name the flag.
 * @module
 */
import { findModel, parseOptionText, parseOptions, type ModelRegistration, type OptionSpec } from '@emlab/core';
import { optionFlag } from './catalog.js';
import { NO_VALUE, asTyped, badFlag } from './cli-error.js';
import type { FlagSpec } from './flag-spec.js';
import { text, type ParsedFlags } from './parse-flags.js';

/** The flags of a model, and the option key of each. */
export interface ModelFlags {
  readonly registration: ModelRegistration;
  readonly flags: readonly FlagSpec[];
  /** Flag name (without dashes) → option key. */
  readonly keyOf: ReadonlyMap<string, string>;
  /** Option key → flag name. */
  readonly flagOf: ReadonlyMap<string, string>;
}

const settable = (spec: OptionSpec): boolean => spec.type !== 'custom' || spec.parse !== undefined;

/**
 * The registered model named by `--model` (default `fallback`) and its flags.
 * @param reserved - the command's own flags: a model option may not take one of them.
 * @param skip - option keys the command sets itself (bn fit's network).
 * @throws EmError `INVALID_ARGUMENT` naming `--model`.
 */
export function modelFlags(name: string, reserved: readonly string[], skip: readonly string[] = []): ModelFlags {
  const registration = findModel(name, ['--model']);
  const flags: FlagSpec[] = [];
  const keyOf = new Map<string, string>();
  const flagOf = new Map<string, string>();
  for (const [key, spec] of Object.entries(registration.options)) {
    if (skip.includes(key) || !settable(spec)) continue;
    const flag = optionFlag({ key, ...(spec.flag === undefined ? {} : { flag: spec.flag }) });
    if (reserved.includes(flag) || keyOf.has(flag)) {
      throw badFlag('--model', registration.name, `registers option ${key} with the flag --${flag}, which the command line already uses`, `give the option another flag in the model's registration (its schema's "flag")`);
    }
    keyOf.set(flag, key);
    flagOf.set(key, flag);
    flags.push({ name: flag, value: spec.type === 'enum' ? spec.values.join('|') : spec.type === 'integer' ? 'N' : 'X', description: spec.description });
  }
  return { registration, flags, keyOf, flagOf };
}

/**
 * The model's options from the parsed flags, checked by its schema (required ones, ranges, defaults).
 * @param given - options the command supplies itself (bn fit's network), keyed by option key.
 * @throws EmError `INVALID_ARGUMENT` naming the flag.
 */
export function modelOptions(m: ModelFlags, parsed: ParsedFlags, given: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  const schema = m.registration.options;
  const options: Record<string, unknown> = { ...given };
  for (const [flag, key] of m.keyOf) {
    const t = text(parsed, flag);
    if (t !== undefined) options[key] = asTyped(`--${flag}`, t, () => parseOptionText(schema[key] as OptionSpec, t, [`--${flag}`]));
  }
  for (const [key, spec] of Object.entries(schema)) {
    if (spec.required === true && options[key] === undefined) {
      const flag = m.flagOf.get(key);
      throw badFlag(flag === undefined ? key : `--${flag}`, NO_VALUE, `is required by --model ${m.registration.name}`, flag === undefined ? `set ${key} through the API or a suite file` : `pass --${flag} ${spec.type === 'integer' ? 'N' : 'VALUE'} (${spec.description})`);
    }
  }
  return parseOptions(schema, options, { owner: `--model ${m.registration.name}`, pathOf: (key) => [m.flagOf.has(key) ? `--${m.flagOf.get(key) as string}` : key] });
}
