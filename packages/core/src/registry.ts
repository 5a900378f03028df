/**
 * The registries: methods (E-steps and other fitting algorithms) keyed by
 * (structure kind, method name), and models keyed by name.
 *
 * Packages register on import (`import '@emlab/exact'`, `import '@emlab/models'`;
 * their package.json lists those files under `sideEffects`), plug-in modules
 * register the same way, and `fit`, the CLI and benchmark suites look names up
 * here: no model type or method is hard-coded anywhere else. A duplicate
 * registration warns and replaces; an absent one throws a typed error listing
 * what is registered.
 *
 * There is exactly one registry per JavaScript realm even when `@emlab/core`
 * is loaded twice (two copies in node_modules, or source and build side by
 * side): it lives on `globalThis` under a `Symbol.for` key.
 *
 * @module
 */
import { emError } from './errors.js';
import type { EStep, MethodFamily } from './estep.js';
import type { Method } from './method.js';
import type { Model } from './model.js';
import type { OptionSchema } from './option-schema.js';
import { emitWarning } from './platform.js';

/** A registered method: an E-step factory, or another fitting algorithm (the gradient baseline). @category Registry */
export interface EStepRegistration {
  /** Structure kind it runs on, or `'*'` for every kind (methods that need something else of the model, e.g. a gradient adapter). */
  readonly kind: string;
  readonly method: string;
  readonly family: MethodFamily;
  /** One line for `emlab` help and reports. */
  readonly description: string;
  /** Its options (validation, defaults, `--estep-option` parsing, docs). */
  readonly options?: OptionSchema;
  /** Builds the E-step (or method); validates `options` and throws `INVALID_ARGUMENT` naming the option. */
  readonly create: (options?: Readonly<Record<string, unknown>>) => EStep | Method;
}

/**
 * What the command line asks of a `custom` data reader besides the files and options.
 * @category Registry
 */
export interface ModelReadContext {
  /**
   * `--weights-column NAME`: read row weights (finite, >= 0) from this column of the data file and
   * leave it out of the data. A reader that cannot returns no `weights`, and the command line
   * reports that `--weights-column` is not supported for the model.
   */
  readonly weightsColumn?: string;
}

/**
 * How the command line and benchmark suites get data for a model from files.
 * - `numeric-table`: a CSV of numbers (missing cells allowed), read by `@emlab/data`, passed as a
 *   `{ values, rows, cols }` matrix; `columns` picks and orders columns. `columnOptions` are option
 *   keys whose command-line value names a column of the CSV (e.g. a given partition): the command
 *   line takes that column out of the data and passes its values (a `Float64Array`, NaN for missing
 *   cells) as the option.
 * - `custom`: the registration reads its own files (a network and a table, sequences, ...).
 * @category Registry
 */
export type ModelDataSpec =
  | {
      readonly format: 'numeric-table';
      /** Model options that name a column of the CSV (taken out of the data, e.g. `initLabels`). */
      readonly columnOptions?: readonly string[];
      /**
       * `fit` also accepts the rows as a `RowSource` (read from disk block by block, never the whole
       * table in memory): `emlab fit big.parquet` and `emlab fit big.csv --stream`. Default false.
       */
      readonly rowSource?: boolean;
    }
  | {
      readonly format: 'custom';
      /** One line for help texts, e.g. `'a network (BIF/JSON) and a CSV of state names'`. */
      readonly describe: string;
      /**
       * Names the in-memory data type the model reads (what `read` returns as `data`), e.g. `'bn-table'`.
       * Benchmark data sets of the same type run on the model (suites match data sets to models by it).
       */
      readonly dataType?: string;
      /**
       * Reads data (and whatever the model needs from files) for `emlab fit`, `compare` and suites.
       * `files` are the positional arguments after the command; `options` the model's parsed options
       * (file paths as given); `context` what else the command line asks (row weights from a column).
       * Returns the data, the options to `create` the model with (file paths replaced by what they
       * hold, e.g. a network), and the row weights when `context.weightsColumn` was read.
       */
      readonly read: (
        files: readonly string[],
        options: Readonly<Record<string, unknown>>,
        context?: ModelReadContext,
      ) => Promise<{ readonly data: unknown; readonly options: Readonly<Record<string, unknown>>; readonly weights?: ArrayLike<number> }>;
    };

/** A registered model. @category Registry */
export interface ModelRegistration {
  readonly name: string;
  /** Other names it answers to (e.g. `'bn'` for `'bayesian-network'`). */
  readonly aliases?: readonly string[];
  /** One line for help texts and reports. */
  readonly description: string;
  /** Its latent structure kind (which methods apply). */
  readonly structureKind: string;
  /** Its options; `flag` names the CLI flag (`--components` for nComponents). */
  readonly options: OptionSchema;
  /** Builds the model from validated options. */
  readonly create: (options: Readonly<Record<string, unknown>>) => Model<any, any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Default `{ format: 'numeric-table' }`. */
  readonly data?: ModelDataSpec;
  /**
   * The method commands use when none is named (`emlab fit` without `--estep`): the same as the
   * built model's {@link Model.defaultMethod}. Default `'exact'`.
   */
  readonly defaultMethod?: string;
}

interface Registries {
  readonly methods: Map<string, EStepRegistration>;
  readonly models: Map<string, ModelRegistration>;
}

const KEY = Symbol.for('emlab.registries.v2');

function registries(): Registries {
  const g = globalThis as unknown as Record<symbol, Registries | undefined>;
  let r = g[KEY];
  if (r === undefined) {
    r = { methods: new Map(), models: new Map() };
    g[KEY] = r;
  }
  return r;
}

const keyOf = (kind: string, method: string): string => `${kind}_${method}`;

/** Same registration content (a package loaded twice registers equal objects, not the same one). */
function sameMethod(a: EStepRegistration, b: EStepRegistration): boolean {
  return a === b || (a.kind === b.kind && a.method === b.method && a.family === b.family && a.description === b.description);
}

/**
 * Registers an E-step (or method) factory under (kind, method).
 * @throws EmError `INVALID_ARGUMENT` for a malformed entry.
 * @category Registry
 */
export function registerEStep(entry: EStepRegistration): void {
  for (const f of ['kind', 'method', 'description'] as const) {
    if (typeof entry?.[f] !== 'string' || entry[f].length === 0) throw emError('INVALID_ARGUMENT', ['registerEStep', f], entry?.[f], 'must be a non-empty string', `give the registration a ${f}`);
  }
  if (typeof entry.create !== 'function') throw emError('INVALID_ARGUMENT', ['registerEStep', 'create'], entry.create, 'must be a function (options) => EStep', 'pass a factory function');
  const { methods } = registries();
  const key = keyOf(entry.kind, entry.method);
  const old = methods.get(key);
  if (old !== undefined && !sameMethod(old, entry)) {
    emitWarning(`E-step (${entry.kind}, ${entry.method}) registered twice; the later registration wins`, 'EMLAB_DUPLICATE_ESTEP');
  }
  methods.set(key, entry);
}

/** Removes an entry (tests and plug-in reloads). @category Registry */
export function unregisterEStep(kind: string, method: string): boolean {
  return registries().methods.delete(keyOf(kind, method));
}

/**
 * Every registration, optionally those that apply to one structure kind (including `'*'` methods),
 * sorted by kind then method.
 * @category Registry
 */
export function listESteps(kind?: string): EStepRegistration[] {
  return [...registries().methods.values()]
    .filter((e) => kind === undefined || e.kind === kind || e.kind === '*')
    .sort((a, b) => (a.kind === b.kind ? a.method.localeCompare(b.method) : a.kind.localeCompare(b.kind)));
}

/**
 * The registration of `method` for structure kind `kind` (exact kind first, then `'*'`).
 * @throws EmError `UNKNOWN_ESTEP` when nothing is registered there.
 * @category Registry
 */
export function findEStep(kind: string, method: string, path: readonly (string | number)[] = ['options', 'eStep']): EStepRegistration {
  const { methods } = registries();
  const entry = methods.get(keyOf(kind, method)) ?? methods.get(keyOf('*', method));
  if (entry === undefined) {
    const known = listESteps(kind).map((e) => e.method);
    throw emError('UNKNOWN_ESTEP', path, method,
      `no method registered for structure kind "${kind}" (registered: ${known.length > 0 ? known.join(', ') : 'none'})`,
      'use one of the registered methods, or import the package that registers it (@emlab/exact, @emlab/variational, @emlab/montecarlo, or a plug-in)');
  }
  return entry;
}

/**
 * Builds the method registered under (kind, method).
 * @throws EmError `UNKNOWN_ESTEP`, or the factory's `INVALID_ARGUMENT`.
 * @category Registry
 */
export function createEStep(kind: string, method: string, options?: Readonly<Record<string, unknown>>): EStep | Method {
  return findEStep(kind, method).create(options);
}

/**
 * Registers a model under its name.
 * @throws EmError `INVALID_ARGUMENT` for a malformed entry.
 * @category Registry
 */
export function registerModel(entry: ModelRegistration): void {
  for (const f of ['name', 'description', 'structureKind'] as const) {
    if (typeof entry?.[f] !== 'string' || entry[f].length === 0) throw emError('INVALID_ARGUMENT', ['registerModel', f], entry?.[f], 'must be a non-empty string', `give the registration a ${f}`);
  }
  if (typeof entry.create !== 'function') throw emError('INVALID_ARGUMENT', ['registerModel', 'create'], entry.create, 'must be a function (options) => Model', 'pass a factory function');
  if (typeof entry.options !== 'object' || entry.options === null) throw emError('INVALID_ARGUMENT', ['registerModel', 'options'], entry.options, 'must be an option schema', 'pass {} for a model without options');
  if (entry.defaultMethod !== undefined && (typeof entry.defaultMethod !== 'string' || entry.defaultMethod.length === 0)) {
    throw emError('INVALID_ARGUMENT', ['registerModel', 'defaultMethod'], entry.defaultMethod, 'must be a non-empty method name', "name a method registered for the model's structure kind, or leave it out for 'exact'");
  }
  const { models } = registries();
  const old = models.get(entry.name);
  if (old !== undefined && old !== entry && (old.description !== entry.description || old.structureKind !== entry.structureKind)) {
    emitWarning(`model "${entry.name}" registered twice; the later registration wins`, 'EMLAB_DUPLICATE_MODEL');
  }
  models.set(entry.name, entry);
}

/** Removes a model registration. @category Registry */
export function unregisterModel(name: string): boolean {
  return registries().models.delete(name);
}

/** Every registered model, sorted by name. @category Registry */
export function listModels(): ModelRegistration[] {
  return [...registries().models.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The registration of model `name`.
 * @throws EmError `INVALID_ARGUMENT` listing the registered models.
 * @category Registry
 */
export function findModel(name: string, path: readonly (string | number)[] = ['model']): ModelRegistration {
  const { models } = registries();
  const entry = models.get(name) ?? [...models.values()].find((m) => m.aliases?.includes(name));
  if (entry === undefined) {
    const known = listModels().map((m) => m.name);
    throw emError('INVALID_ARGUMENT', path, name, `is not a registered model (registered: ${known.length > 0 ? known.join(', ') : 'none'})`, 'use one of those names, or import the package (or --plugin module) that registers it');
  }
  return entry;
}
