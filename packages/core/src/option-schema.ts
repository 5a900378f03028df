/**
 * Declarative option tables (scikit-learn's `_parameter_constraints`): one
 * table per model, E-step and method drives validation, defaults, error
 * messages, CLI flags (`--estep-option key=value`, model flags) and docs.
 *
 * @example
 * ```ts
 * const schema = {
 *   nDraws: { type: 'integer', min: 1, max: 10_000, default: 1, description: 'draws of z per row' },
 * } satisfies OptionSchema;
 * const opts = parseOptions(schema, { nDraws: 4 }, 'stochasticEStep'); // { nDraws: 4 }
 * ```
 * @module
 */
import { emError, type ErrorPath } from './errors.js';

interface SpecBase<T> {
  /** One line for help texts and docs. */
  readonly description: string;
  /** Value when the option is absent (absent and no default: the option stays undefined). */
  readonly default?: T;
  /** Must be given. */
  readonly required?: boolean;
  /** The CLI flag that sets it, without dashes (model options: `components` for `nComponents`). */
  readonly flag?: string;
}

/** One option's constraint. @category Options */
export type OptionSpec =
  | (SpecBase<number> & { readonly type: 'integer'; readonly min?: number; readonly max?: number })
  | (SpecBase<number> & { readonly type: 'number'; readonly min?: number; readonly max?: number; readonly exclusiveMin?: boolean; readonly exclusiveMax?: boolean })
  | (SpecBase<boolean> & { readonly type: 'boolean' })
  | (SpecBase<string> & { readonly type: 'enum'; readonly values: readonly string[] })
  | (SpecBase<string> & { readonly type: 'string' })
  | (SpecBase<readonly number[]> & { readonly type: 'number-list'; readonly min?: number; readonly max?: number })
  | (SpecBase<unknown> & {
      readonly type: 'custom';
      /** What the value looks like, for messages ("a function (iteration) => number", ...). */
      readonly shape: string;
      /** Returns the checked value or throws an EmError at `path`. */
      readonly check: (value: unknown, path: ErrorPath) => unknown;
      /** Parses CLI text (absent: the option cannot be set from the command line). */
      readonly parse?: (text: string, path: ErrorPath) => unknown;
    });

/** An option table. @category Options */
export type OptionSchema = Readonly<Record<string, OptionSpec>>;

/** How {@link parseOptions} names paths in errors. @category Options */
export interface ParseOptionsContext {
  /** Owner of the options, e.g. `'gaussianMixture'` (paths are `[owner, key]`). */
  readonly owner: string;
  /** Overrides the path of a key (the CLI names flags: `['--components']`). */
  readonly pathOf?: (key: string) => ErrorPath;
}

function describeSpec(spec: OptionSpec): string {
  switch (spec.type) {
    case 'integer':
    case 'number': {
      const closed = spec.min !== undefined && spec.max !== undefined && !(spec.type === 'number' && (spec.exclusiveMin || spec.exclusiveMax));
      if (closed) return `${spec.type === 'integer' ? 'an integer' : 'a finite number'} in [${spec.min}, ${spec.max}]`;
      const lo = spec.min === undefined ? '' : `${spec.type === 'number' && spec.exclusiveMin ? '>' : '>='} ${spec.min}`;
      const hi = spec.max === undefined ? '' : `${spec.type === 'number' && spec.exclusiveMax ? '<' : '<='} ${spec.max}`;
      const range = [lo, hi].filter((s) => s !== '').join(' and ');
      return `${spec.type === 'integer' ? 'an integer' : 'a finite number'}${range === '' ? '' : ` ${range}`}`;
    }
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${spec.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'string':
      return 'a string';
    case 'number-list':
      return 'a non-empty list of finite numbers';
    case 'custom':
      return spec.shape;
  }
}

/** Checks one value against its spec; returns it (numbers unchanged). @throws EmError `INVALID_ARGUMENT` @category Options */
export function checkOption(spec: OptionSpec, value: unknown, path: ErrorPath): unknown {
  const bad = (problem?: string): never => {
    throw emError('INVALID_ARGUMENT', path, value, problem ?? `must be ${describeSpec(spec)}`, `pass ${describeSpec(spec)}${spec.default === undefined ? '' : ` (default ${JSON.stringify(spec.default)})`}`);
  };
  const inRange = (v: number, min?: number, max?: number, exMin = false, exMax = false): boolean =>
    (min === undefined || (exMin ? v > min : v >= min)) && (max === undefined || (exMax ? v < max : v <= max));
  switch (spec.type) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || !inRange(value, spec.min, spec.max)) bad();
      return value;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || !inRange(value, spec.min, spec.max, spec.exclusiveMin, spec.exclusiveMax)) bad();
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') bad();
      return value;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) bad();
      return value;
    case 'string':
      if (typeof value !== 'string') bad();
      return value;
    case 'number-list':
      if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'number' || !Number.isFinite(v) || !inRange(v, spec.min, spec.max))) bad();
      return [...(value as number[])];
    case 'custom':
      return spec.check(value, path);
  }
}

/**
 * Validates an options object against a schema: unknown keys are errors (with the known keys in the
 * remedy), required ones must be present, defaults fill the rest.
 * @returns a new object with every schema key that has a value.
 * @throws EmError `INVALID_ARGUMENT` naming the option.
 * @category Options
 */
export function parseOptions(schema: OptionSchema, input: unknown, ctx: ParseOptionsContext | string): Record<string, unknown> {
  const c: ParseOptionsContext = typeof ctx === 'string' ? { owner: ctx } : ctx;
  const pathOf = c.pathOf ?? ((key: string): ErrorPath => [c.owner, key]);
  if (input === undefined || input === null) input = {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw emError('INVALID_ARGUMENT', [c.owner], input, 'must be an options object', `pass { ${Object.keys(schema).join(', ')} } (every key optional unless required)`);
  }
  const obj = input as Record<string, unknown>;
  const known = Object.keys(schema);
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      throw emError('INVALID_ARGUMENT', pathOf(key), obj[key], `is not an option of ${c.owner}`, known.length > 0 ? `use one of: ${known.join(', ')}` : `${c.owner} takes no options`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const value = obj[key];
    if (value === undefined) {
      if (spec.required) throw emError('INVALID_ARGUMENT', pathOf(key), undefined, `is required by ${c.owner}`, `pass ${key}: ${describeSpec(spec)}`);
      if (spec.default !== undefined) out[key] = spec.default;
      continue;
    }
    out[key] = checkOption(spec, value, pathOf(key));
  }
  return out;
}

/**
 * Parses command-line text for one option (`--estep-option nDraws=4`, a model flag): numbers,
 * `true`/`false`, enum names, comma-separated number lists.
 * @throws EmError `INVALID_ARGUMENT` at `path`.
 * @category Options
 */
export function parseOptionText(spec: OptionSpec, text: string, path: ErrorPath): unknown {
  const num = (t: string): number => (t.trim() === '' ? Number.NaN : Number(t));
  switch (spec.type) {
    case 'integer':
    case 'number':
      return checkOption(spec, num(text), path);
    case 'boolean':
      if (text === 'true' || text === '1' || text === 'yes') return true;
      if (text === 'false' || text === '0' || text === 'no') return false;
      return checkOption(spec, text, path);
    case 'enum':
    case 'string':
      return checkOption(spec, text, path);
    case 'number-list':
      return checkOption(spec, text.split(',').map(num), path);
    case 'custom':
      if (spec.parse === undefined) throw emError('INVALID_ARGUMENT', path, text, 'cannot be set from the command line', 'set it through the API or a suite file');
      return spec.parse(text, path);
  }
}

/** One line per option for help texts: `name  description (type, default d)`. @category Options */
export function describeOptions(schema: OptionSchema, indent = '  '): string {
  return Object.entries(schema)
    .map(([key, spec]) => `${indent}${spec.flag === undefined ? key : `--${spec.flag}`}  ${spec.description} (${describeSpec(spec)}${spec.default === undefined ? '' : `; default ${JSON.stringify(spec.default)}`}${spec.required ? '; required' : ''})`)
    .join('\n');
}
