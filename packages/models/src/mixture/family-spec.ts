/**
 * Component families by name: the built-in table, plug-in registration, and
 * the family specification of the API (`{ family: 'poisson', columns: [...] }`,
 * lists of them for products) and of the command line
 * (`gaussian(x,y):covariance=VEV+poisson(count)+categorical(a,b)`).
 * @module
 */
import { emError, parseOptionText, type ErrorPath, type OptionSchema } from '@emlab/core';
import type { ComponentFamily } from './component-family.js';
import { bernoulliFamily } from './families/bernoulli-family.js';
import { CATEGORICAL_FAMILY_OPTIONS, categoricalFamily } from './families/categorical-family.js';
import { NO_OPTIONS } from './families/column-family-options.js';
import { exponentialFamily } from './families/exponential-family.js';
import { GAUSSIAN_FAMILY_OPTIONS, gaussianFamily } from './families/gaussian-family.js';
import { poissonFamily } from './families/poisson-family.js';
import { REGRESSION_FAMILY_OPTIONS, regressionFamily } from './families/regression-family.js';
import { STUDENT_T_FAMILY_OPTIONS, studentTFamily } from './families/student-t-family.js';

/**
 * A family by name with its options and columns (plain JSON).
 * @category General mixtures
 */
export interface FamilySpec {
  /** A registered family: `gaussian`, `t`, `poisson`, `exponential`, `bernoulli`, `categorical`, `regression`, or a plug-in. */
  readonly family: string;
  /** Columns (names or 0-based indices); regression: the response first. */
  readonly columns?: readonly (string | number)[];
  /** The family's options (e.g. `covariance: 'VEV'`, `dof: 'equal'`, `levels: 3`). */
  readonly [option: string]: unknown;
}

/**
 * What the mixture's `family` option accepts: a name or command-line text, a
 * spec, a family object, or a list of specs and objects (a product over
 * disjoint columns).
 * @category General mixtures
 */
export type FamilyInput = string | FamilySpec | ComponentFamily | readonly (FamilySpec | ComponentFamily)[];

/** A registered family: its option table (besides `columns`) and factory. @category General mixtures */
export interface FamilyRegistration {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** One line for help texts. */
  readonly description: string;
  readonly options: OptionSchema;
  readonly create: (options: Readonly<Record<string, unknown>>) => ComponentFamily;
}

const KEY = Symbol.for('emlab.component-families.v1');

function table(): Map<string, FamilyRegistration> {
  const g = globalThis as unknown as Record<symbol, Map<string, FamilyRegistration> | undefined>;
  let t = g[KEY];
  if (t === undefined) {
    t = new Map();
    g[KEY] = t;
  }
  return t;
}

/**
 * Registers a component family under its name (plug-ins); a later registration of the same name replaces it.
 * @throws EmError `INVALID_ARGUMENT` for a malformed entry.
 * @category General mixtures
 */
export function registerComponentFamily(entry: FamilyRegistration): void {
  if (typeof entry?.name !== 'string' || entry.name.length === 0 || /[^a-z0-9-]/i.test(entry.name)) {
    throw emError('INVALID_ARGUMENT', ['registerComponentFamily', 'name'], entry?.name, 'must be a non-empty name of letters, digits and dashes', 'give the family a name');
  }
  if (typeof entry.create !== 'function') throw emError('INVALID_ARGUMENT', ['registerComponentFamily', 'create'], entry.create, 'must be a function (options) => ComponentFamily', 'pass a factory');
  table().set(entry.name, entry);
}

/** Every registered family, sorted by name. @category General mixtures */
export function listComponentFamilies(): FamilyRegistration[] {
  return [...table().values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The registration of a family name (or alias).
 * @throws EmError `INVALID_ARGUMENT` listing the registered families.
 * @category General mixtures
 */
export function findComponentFamily(name: string, path: ErrorPath = ['options', 'family']): FamilyRegistration {
  const t = table();
  const entry = t.get(name) ?? [...t.values()].find((e) => e.aliases?.includes(name));
  if (entry === undefined) {
    throw emError('INVALID_ARGUMENT', path, name, `is not a component family (known: ${listComponentFamilies().map((e) => e.name).join(', ')})`, 'use one of those names, or register a plug-in family');
  }
  return entry;
}

const builtins: FamilyRegistration[] = [
  { name: 'gaussian', aliases: ['normal'], description: "Gaussian with mclust's 14 covariance parameterizations (missing entries latent)", options: GAUSSIAN_FAMILY_OPTIONS, create: (o) => gaussianFamily(o) },
  { name: 't', aliases: ['student-t', 'student'], description: 'multivariate Student-t (latent Gamma scale per row), any covariance parameterization', options: STUDENT_T_FAMILY_OPTIONS, create: (o) => studentTFamily(o) },
  { name: 'poisson', description: 'independent Poisson counts per column (missing cells marginalized)', options: NO_OPTIONS, create: (o) => poissonFamily(o) },
  { name: 'exponential', description: 'independent exponential columns (missing cells marginalized)', options: NO_OPTIONS, create: (o) => exponentialFamily(o) },
  { name: 'bernoulli', aliases: ['binary'], description: 'independent 0/1 columns (missing cells marginalized)', options: NO_OPTIONS, create: (o) => bernoulliFamily(o) },
  { name: 'categorical', aliases: ['lca', 'multinomial'], description: 'independent categorical columns: latent class analysis (missing cells marginalized)', options: CATEGORICAL_FAMILY_OPTIONS, create: (o) => categoricalFamily(o) },
  { name: 'regression', aliases: ['linear-regression'], description: 'linear regression of the first column on the others (conditional likelihood)', options: REGRESSION_FAMILY_OPTIONS, create: (o) => regressionFamily(o) },
];
for (const b of builtins) if (!table().has(b.name)) registerComponentFamily(b);

function isFamily(x: unknown): x is ComponentFamily {
  return typeof x === 'object' && x !== null && typeof (x as ComponentFamily).structure === 'function' && typeof (x as ComponentFamily).mStep === 'function';
}

/** A bare integer is a column index, anything else a column name. */
function columnRef(text: string): string | number {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : t;
}

/**
 * Parses command-line family text into specs: terms joined by `+`, each
 * `NAME[(COLUMNS)][:KEY=VALUE]...`; COLUMNS is a comma list of names or
 * 0-based indices (regression: `y~x1,x2`). Values are parsed with the
 * family's option table.
 * @example
 * ```ts
 * parseFamilyText('gaussian(x,y):covariance=VEV+poisson(count)');
 * // [{ family: 'gaussian', columns: ['x', 'y'], covariance: 'VEV' }, { family: 'poisson', columns: ['count'] }]
 * ```
 * @throws EmError `INVALID_ARGUMENT` naming the term.
 * @category General mixtures
 */
export function parseFamilyText(text: string, path: ErrorPath = ['--family']): FamilySpec[] {
  // Split on '+' outside parentheses.
  const terms: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === '+' && depth === 0) {
      terms.push(cur);
      cur = '';
    } else cur += ch;
  }
  terms.push(cur);
  return terms.map((raw, i) => {
    const term = raw.trim();
    const m = /^([A-Za-z][\w-]*)\s*(?:\(([^()]*)\))?\s*((?::[^:]*)*)$/.exec(term);
    if (m === null) {
      throw emError('INVALID_ARGUMENT', [...path, i], term, 'is not a family term NAME[(COLUMNS)][:KEY=VALUE]...', "write e.g. 'gaussian(x,y):covariance=VEV+poisson(count)'");
    }
    const reg = findComponentFamily(m[1] as string, [...path, i]);
    const spec: Record<string, unknown> = { family: reg.name };
    if (m[2] !== undefined && m[2].trim() !== '') {
      const cols = m[2].includes('~') ? [m[2].split('~')[0] as string, ...(m[2].split('~')[1] as string).split(',')] : m[2].split(',');
      if (cols.some((c) => c.trim() === '')) throw emError('INVALID_ARGUMENT', [...path, i, 'columns'], m[2], 'has an empty column name', 'separate column names with commas');
      spec['columns'] = cols.map(columnRef);
    }
    for (const kv of (m[3] ?? '').split(':').filter((s) => s.trim() !== '')) {
      const eq = kv.indexOf('=');
      if (eq < 0) throw emError('INVALID_ARGUMENT', [...path, i], kv, 'is not KEY=VALUE', `write e.g. '${reg.name}:${Object.keys(reg.options)[0] ?? 'option'}=...'`);
      const key = kv.slice(0, eq).trim();
      const spec0 = reg.options[key];
      if (spec0 === undefined) {
        const known = Object.keys(reg.options);
        throw emError('INVALID_ARGUMENT', [...path, i, key], kv.slice(eq + 1), `is not an option of the ${reg.name} family`, known.length > 0 ? `use one of: ${known.join(', ')}` : `the ${reg.name} family takes only columns`);
      }
      spec[key] = parseOptionText(spec0, kv.slice(eq + 1).trim(), [...path, i, key]);
    }
    return spec as FamilySpec;
  });
}

/**
 * The command-line text of family specs (the inverse of {@link parseFamilyText}):
 * `gaussian(x,y):covariance=VEV+poisson(count)`, regression's response before `~`. Undefined when a
 * value has no text form (an object, or text with `(`, `)`, `+`, `:`, `,` or `=`).
 * @example
 * ```ts
 * formatFamilyText([{ family: 'regression', columns: ['y', 'x'] }]); // 'regression(y~x)'
 * ```
 * @category General mixtures
 */
export function formatFamilyText(specs: readonly Readonly<Record<string, unknown>>[]): string | undefined {
  const plain = (v: unknown): string | undefined => {
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (typeof v === 'string') return /[()+:,=~]/.test(v) || v.trim() !== v || v === '' ? undefined : v;
    return undefined;
  };
  const terms: string[] = [];
  for (const spec of specs) {
    const name = plain(spec['family']);
    if (name === undefined) return undefined;
    let term = name;
    const cols = spec['columns'];
    if (cols !== undefined) {
      if (!Array.isArray(cols) || cols.length === 0) return undefined;
      const shown = cols.map(plain);
      if (shown.some((c) => c === undefined)) return undefined;
      term += name === 'regression' ? `(${shown[0] as string}~${shown.slice(1).join(',')})` : `(${shown.join(',')})`;
    }
    for (const [key, value] of Object.entries(spec)) {
      if (key === 'family' || key === 'columns' || value === undefined) continue;
      const shown = Array.isArray(value) ? (value.every((x) => typeof x === 'number') ? value.join(',') : undefined) : plain(value);
      if (shown === undefined) return undefined;
      term += `:${key}=${shown}`;
    }
    terms.push(term);
  }
  return terms.join('+');
}

/** Defaults the mixture passes to families that do not set them. @category General mixtures */
export interface FamilyDefaults {
  /** Covariance parameterization of Gaussian and Student-t families. */
  readonly covariance?: string;
  /** Ridge of Gaussian and Student-t families. */
  readonly regCovar?: number;
}

/**
 * The families of a {@link FamilyInput}, defaults applied to specs that do not set them.
 * @throws EmError `INVALID_ARGUMENT` naming the family and option.
 * @category General mixtures
 */
export function createFamilies(input: FamilyInput, defaults: FamilyDefaults = {}): ComponentFamily[] {
  const list: readonly (FamilySpec | ComponentFamily | string)[] = typeof input === 'string' ? parseFamilyText(input, ['options', 'family']) : Array.isArray(input) ? input : [input as FamilySpec | ComponentFamily];
  if (list.length === 0) throw emError('INVALID_ARGUMENT', ['options', 'family'], input, 'is an empty list', "pass at least one family, e.g. 'gaussian'");
  return list.map((item, i) => {
    if (isFamily(item)) return item;
    const spec = typeof item === 'string' ? (parseFamilyText(item, ['options', 'family', i])[0] as FamilySpec) : item;
    if (typeof spec !== 'object' || spec === null || typeof spec.family !== 'string') {
      throw emError('INVALID_ARGUMENT', ['options', 'family', i], item, 'must be a family name, a spec { family, columns?, ...options } or a ComponentFamily', "pass e.g. { family: 'poisson', columns: ['count'] }");
    }
    const reg = findComponentFamily(spec.family, ['options', 'family', i, 'family']);
    const { family: _name, ...options } = spec;
    const withDefaults: Record<string, unknown> = { ...options };
    for (const [k, v] of Object.entries(defaults)) if (v !== undefined && k in reg.options && withDefaults[k] === undefined) withDefaults[k] = v;
    return reg.create(withDefaults);
  });
}
