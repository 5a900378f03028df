/**
 * The suite file format, defined once (valibot): the TypeScript types are
 * inferred from it, `validateSuite` checks files with it, and the published
 * JSON Schema (`benchmarks/suite.schema.json`) is generated from it.
 *
 * Options of models, methods and data-set kinds are open objects here: each is
 * checked against its registration's option schema (core's `OptionSchema`)
 * when the suite is planned, with the same `suite.…` paths.
 *
 * Messages are written as `problem␀remedy` and split into an `EmError` by
 * `internal/suite-issues.ts`.
 * @module
 */
import * as v from 'valibot';
import { CONVERGENCE_POLICIES, type ConvergencePolicyName } from '@emlab/core';

/** `problem` and `remedy` of an error, packed into one valibot message. @internal */
export const msg = (problem: string, remedy: string): string => `${problem}\u0000${remedy}`;

const ID_PATTERN = /^[A-Za-z0-9_.-]+$/;

const id = v.pipe(
  v.string(msg('must be a string of letters, digits, "_", "." or "-"', 'give the entry a short id such as "small-3" (it names files, table rows and plot series)')),
  v.regex(ID_PATTERN, msg('must be a string of letters, digits, "_", "." or "-"', 'give the entry a short id such as "small-3" (it names files, table rows and plot series)')),
  v.description('A short id: letters, digits, "_", "." or "-" (it names runs, files, table rows and plot series).'),
);

const name = (what: string, remedy: string) => v.pipe(v.string(msg('must be a non-empty string', remedy)), v.minLength(1, msg('must be a non-empty string', remedy)), v.description(what));

const SEED_MESSAGE = msg('must be a safe integer or a non-empty string', 'pass e.g. 0 or "run-a" (seed 0 is a valid seed)');
/** A root seed: a safe integer or a non-empty string. @category Suites */
export const SEED_SCHEMA = v.union([v.pipe(v.number(), v.safeInteger(SEED_MESSAGE)), v.pipe(v.string(), v.minLength(1, SEED_MESSAGE))], SEED_MESSAGE);

const options = (what: string) =>
  v.optional(
    v.pipe(
      v.record(v.string(), v.unknown(), msg('must be an object', `write e.g. "options": {}`)),
      v.check((o) => !Array.isArray(o), msg('must be an object, not an array', 'write e.g. "options": {}')),
      v.description(what),
    ),
    {},
  );

const fraction = (key: string) =>
  v.pipe(
    v.number(msg(`must be a number in [0, 1)`, `pass a ${key} such as 0.1`)),
    v.minValue(0, msg('must be a number in [0, 1)', `pass a ${key} in [0, 1)`)),
    v.ltValue(1, msg('must be a number in [0, 1)', `pass a ${key} in [0, 1)`)),
  );

/** Masking entries as missing after generation. @category Suites */
export const MISSING_SCHEMA = v.pipe(
  v.strictObject(
    {
      rate: v.pipe(fraction('rate'), v.description('Fraction of entries to mask, in [0, 1).')),
      mechanism: v.optional(
        v.pipe(
          v.picklist(['mcar', 'mar'], msg('must be "mcar" or "mar"', 'pass "mcar" (missing completely at random) or "mar" (depends on the observed first column)')),
          v.description('"mcar": each entry with probability rate. "mar": column 0 never; the other entries of rows whose column-0 value is above its median with probability 2·rate.'),
        ),
        'mcar',
      ),
      seed: v.optional(SEED_SCHEMA, 0),
    },
    msg('must be an object', 'write e.g. { "rate": 0.1, "mechanism": "mcar", "seed": 1 }'),
  ),
  v.description('Entries masked as missing (NaN) after the data are made; how is up to the data-set kind (numeric tables: every entry independently; networks: cells while sampling).'),
);

/** A data-set entry in its canonical form. @category Suites */
export const DATASET_SCHEMA = v.pipe(
  v.strictObject(
    {
      id,
      kind: name('A registered data-set kind (built-in: gaussian-mixture, builtin, csv, bayesian-network; plug-ins register more with registerDatasetKind).', 'name a data-set kind, e.g. "gaussian-mixture", "csv", "builtin" or "bayesian-network"'),
      options: options("The kind's options, checked against its option schema."),
      missing: v.optional(MISSING_SCHEMA),
    },
    msg('must be an object', 'write e.g. { "id": "small", "kind": "gaussian-mixture", "options": { "nSamples": 500, "nComponents": 3, "nFeatures": 2, "seed": 1 } }'),
  ),
  v.description('A data set: { id, kind, options, missing? }.'),
);

/**
 * The older shorthand forms of a data-set entry (still accepted; `validateSuite`
 * turns each into the canonical `{ id, kind, options }` form).
 * @category Suites
 */
export const DATASET_SHORTHAND_SCHEMAS = {
  generator: v.strictObject(
    {
      id: v.optional(id),
      generator: v.picklist(['gaussianMixture'], msg('is not a known generator', 'use "gaussianMixture", or the canonical form { "kind": "gaussian-mixture", "options": {...} }')),
      options: options('makeGaussianMixture options (see the gaussian-mixture kind).'),
      missing: v.optional(MISSING_SCHEMA),
    },
    msg('must be an object', 'write e.g. { "id": "small", "generator": "gaussianMixture", "options": { ... } }'),
  ),
  builtin: v.strictObject(
    { id: v.optional(id), builtin: name('A built-in data set name.', 'pass a built-in data set name'), missing: v.optional(MISSING_SCHEMA) },
    msg('must be an object', 'write e.g. { "builtin": "mix5" }'),
  ),
  csv: v.strictObject(
    {
      id: v.optional(id),
      csv: name('A numeric CSV file, relative to the suite file.', 'pass a CSV path relative to the suite file'),
      labelColumn: v.optional(name('A column of integer labels (enables the adjusted Rand index; removed from the data).', 'pass the name of the column with true labels, or omit it')),
      missing: v.optional(MISSING_SCHEMA),
    },
    msg('must be an object', 'write e.g. { "csv": "data.csv" }'),
  ),
  bif: v.strictObject(
    {
      id: v.optional(id),
      bif: name('A network: a built-in name (asia) or a BIF / emlab JSON file relative to the suite file.', 'pass a BIF path relative to the suite file, or a built-in network name such as "asia"'),
      nSamples: v.optional(v.unknown()),
      seed: v.optional(v.unknown()),
      hidden: v.optional(v.unknown()),
      missing: v.optional(MISSING_SCHEMA),
    },
    msg('must be an object', 'write e.g. { "bif": "asia", "nSamples": 2000, "seed": 1 }'),
  ),
} as const;

/** A model entry. @category Suites */
export const MODEL_SCHEMA = v.strictObject(
  {
    id: v.optional(id),
    type: name('A registered model name or alias (emlab models lists them; built-in: gmm, bayesian-network / bn; plug-ins register more).', 'name a registered model, e.g. "gmm" or "bn"'),
    options: options("The model's options, checked against its registration's option schema; options a data set implies (a mixture's true K, a network) are filled in when absent."),
    datasets: v.optional(
      v.pipe(
        v.array(id, msg('must be an array of data set ids', 'list data set ids from "datasets"')),
        v.minLength(1, msg('must be a non-empty array', 'list data set ids from "datasets", or omit the field')),
        v.description('Data set ids this model runs on (default: every data set whose data format the model reads).'),
      ),
    ),
    esteps: v.optional(
      v.pipe(
        v.array(id, msg('must be an array of method ids', 'list method ids from "esteps"')),
        v.minLength(1, msg('must be a non-empty array', 'list method ids from "esteps", or omit the field')),
        v.description('Method ids this model runs with (default: every suite method available for it).'),
      ),
    ),
    init: v.optional(name("Initialization method (default: the suite's init, else the model's first).", 'pass an initialization method of the model, e.g. "kmeans++" (gmm) or "random" (bn)')),
  },
  msg('must be an object', 'write e.g. { "id": "gmm", "type": "gmm", "options": { "nComponents": 3 } }'),
);

const METHOD_OBJECT = v.strictObject(
  {
    id: v.optional(id),
    method: name("A registered method: an E-step name for the model's structure kind, or a method registered for every kind ('*', e.g. gradient).", 'pass a registered method name ("exact", "hard", "stochastic", "gradient", a plug-in\'s)'),
    options: options("The method's options, checked against its registration's option schema."),
  },
  msg('must be a method name or an object', 'write e.g. "exact" or { "method": "stochastic", "options": { "nDraws": 4 } }'),
);

/** A method entry: a registered method name, or `{ id?, method, options? }`. @category Suites */
export const METHOD_SCHEMA = v.union(
  [name('A registered method name.', 'pass a registered method name'), METHOD_OBJECT],
  msg('must be a method name or an object', 'write e.g. "exact" or { "method": "stochastic", "options": { "nDraws": 4 } }'),
);

const positiveInteger = (what: string, max = Number.MAX_SAFE_INTEGER) =>
  v.pipe(
    v.number(msg(`must be an integer in [1, ${max}]`, `pass an integer in [1, ${max}]`)),
    v.safeInteger(msg(`must be an integer in [1, ${max}]`, `pass an integer in [1, ${max}]`)),
    v.minValue(1, msg(`must be an integer in [1, ${max}]`, `pass an integer in [1, ${max}]`)),
    v.maxValue(max, msg(`must be an integer in [1, ${max}]`, `pass an integer in [1, ${max}]`)),
    v.description(what),
  );

const positiveNumber = (what: string, min: number) =>
  v.pipe(
    v.number(msg(`must be a finite number >= ${min}`, `pass a number >= ${min}`)),
    v.finite(msg(`must be a finite number >= ${min}`, `pass a number >= ${min}`)),
    v.minValue(min, msg(`must be a finite number >= ${min}`, `pass a number >= ${min}`)),
    v.description(what),
  );

/** Convergence policies a suite may name: core's built-ins (`CONVERGENCE_POLICIES`). @category Suites */
export const SUITE_CONVERGENCE_POLICIES = CONVERGENCE_POLICIES as readonly ConvergencePolicyName[] as readonly [ConvergencePolicyName, ...ConvergencePolicyName[]];

/** Stopping rules (core `fit` options). @category Suites */
export const STOPPING_SCHEMA = v.strictObject(
  {
    maxIter: v.optional(positiveInteger('Maximum iterations (passes over the data) per run.', 1_000_000), 100),
    tol: v.optional(v.nullable(positiveNumber("The convergence policy's tolerance (null: the policy's default).", 0)), null),
    convergence: v.optional(
      v.nullable(
        v.pipe(
          v.picklist(SUITE_CONVERGENCE_POLICIES, msg(`must be one of ${SUITE_CONVERGENCE_POLICIES.map((p) => `"${p}"`).join(', ')}`, 'name a convergence policy (docs/architecture.md §4), or omit it for the default')),
          v.description("Convergence policy for every method (null: fit's default, or the policy a Monte Carlo E-step supplies)."),
        ),
      ),
      null,
    ),
  },
  msg('must be an object', 'write e.g. { "maxIter": 100, "tol": 1e-6 }'),
);

/** Per-run limits and retries. @category Suites */
export const LIMITS_SCHEMA = v.strictObject(
  {
    timeMs: v.optional(v.nullable(positiveNumber('Wall-clock limit per run attempt, ms (null: none). A run over it fails with code TIMEOUT.', 1)), null),
    memoryMb: v.optional(
      v.nullable(positiveNumber("JavaScript heap limit per worker thread, MB (null: Node's default). A run over it fails with code OUT_OF_MEMORY. Setting it runs every run on a worker thread.", 32)),
      null,
    ),
    maxCells: v.optional(positiveInteger('Largest data set allowed, in cells (rows × columns), checked before anything is generated or read.', Number.MAX_SAFE_INTEGER), 50_000_000),
    retries: v.optional(
      v.pipe(
        v.number(msg('must be an integer in [0, 3]', 'pass 0, 1, 2 or 3')),
        v.safeInteger(msg('must be an integer in [0, 3]', 'pass 0, 1, 2 or 3')),
        v.minValue(0, msg('must be an integer in [0, 3]', 'pass 0, 1, 2 or 3')),
        v.maxValue(3, msg('must be an integer in [0, 3]', 'pass 0, 1, 2 or 3')),
        v.description('How often a run that crashed (worker exit, out of memory, timeout, a thrown error that is not an EmError) is tried again.'),
      ),
      1,
    ),
  },
  msg('must be an object', 'write e.g. { "timeMs": 60000, "memoryMb": 2048 }'),
);

/** Held-out split. @category Suites */
export const HELD_OUT_SCHEMA = v.strictObject(
  { fraction: v.pipe(fraction('fraction'), v.description('Fraction of rows (instances) held out, in [0, 1).')), seed: v.optional(SEED_SCHEMA, 0) },
  msg('must be an object or null', 'write e.g. { "fraction": 0.2, "seed": 0 }'),
);

const nonEmptyArray = <T extends v.GenericSchema>(item: T, remedy: string, what: string) =>
  v.pipe(v.array(item, msg('must be a non-empty array', remedy)), v.minLength(1, msg('must be a non-empty array', remedy)), v.description(what));

/**
 * The suite document (canonical form; `validateSuite` also accepts the data-set shorthands).
 * @category Suites
 */
export const SUITE_SCHEMA = v.strictObject(
  {
    $schema: v.optional(v.string()),
    format: v.optional(v.literal('emlab/suite', msg('is not "emlab/suite"', 'set "format": "emlab/suite" or omit it')), 'emlab/suite'),
    name: v.optional(name('Shown in the report.', 'give the suite a name'), 'suite'),
    description: v.optional(v.pipe(v.string(msg('must be a string', 'describe the suite in one line')), v.description('One line, shown in the report.')), ''),
    plugins: v.optional(
      v.pipe(
        v.array(name('A module path relative to the suite file (or a package name).', 'write e.g. "./my-estep.mjs" (relative to the suite file)'), msg('must be an array', 'list module paths relative to the suite file')),
        v.description('Modules imported before anything else, in the main thread and in every worker; they register models, E-steps, methods or data-set kinds.'),
      ),
      [],
    ),
    datasets: nonEmptyArray(DATASET_SCHEMA, 'list at least one data set', 'The data sets; ids must be unique.'),
    models: nonEmptyArray(MODEL_SCHEMA, 'list at least one model, e.g. { "type": "gmm", "options": { "nComponents": 3 } }', 'The models; ids must be unique.'),
    esteps: nonEmptyArray(METHOD_SCHEMA, 'list at least one method, e.g. ["exact", "hard"]', 'The methods compared from every shared start; ids must be unique.'),
    seeds: v.optional(nonEmptyArray(SEED_SCHEMA, 'list seeds, e.g. [0, 1, 2]', 'Root seeds (distinct): one shared start per (data set, model, seed).'), [0]),
    stopping: v.optional(STOPPING_SCHEMA, {}),
    precision: v.optional(
      v.nullable(v.pipe(v.picklist(['auto', 'float32', 'float64'], msg('must be "auto", "float32" or "float64"', 'pass a precision, or omit it for fit\'s default ("auto")')), v.description("fit's precision for every run (null: fit's default, auto)."))),
      null,
    ),
    init: v.optional(v.nullable(name('Initialization method for every model without its own init (null: each model\'s first).', 'pass an initialization method of the models, e.g. "kmeans++" or "random"')), null),
    heldOut: v.optional(v.nullable(HELD_OUT_SCHEMA), null),
    limits: v.optional(LIMITS_SCHEMA, {}),
  },
  msg('must be an object', 'write e.g. { "datasets": [...], "models": [...], "esteps": [...], "seeds": [0, 1, 2] }'),
);

/** Masking entries as missing (NaN) after generation. @category Suites */
export type MissingSpec = v.InferOutput<typeof MISSING_SCHEMA>;
/** A data-set entry (canonical form, defaults filled in). @category Suites */
export type DatasetSpec = v.InferOutput<typeof DATASET_SCHEMA>;
/** A model entry as validated (the id is always set). @category Suites */
export type ModelSpec = Omit<v.InferOutput<typeof MODEL_SCHEMA>, 'id'> & { readonly id: string };
/** A method entry as validated (`"exact"` becomes `{ id: "exact", method: "exact", options: {} }`). @category Suites */
export interface MethodSpec {
  readonly id: string;
  readonly method: string;
  readonly options: Readonly<Record<string, unknown>>;
}
/** Stopping rules. @category Suites */
export type StoppingSpec = v.InferOutput<typeof STOPPING_SCHEMA>;
/** Per-run limits. @category Suites */
export type LimitsSpec = v.InferOutput<typeof LIMITS_SCHEMA>;
/** Held-out split: a seeded random `fraction` of rows is held out. @category Suites */
export type HeldOutSpec = v.InferOutput<typeof HELD_OUT_SCHEMA>;
/** A suite file as written (before defaults; data sets in any accepted form). @category Suites */
export type SuiteInput = v.InferInput<typeof SUITE_SCHEMA>;

/**
 * A benchmark suite, validated and with defaults filled in (see docs/bench.md).
 * @category Suites
 */
export type Suite = Omit<v.InferOutput<typeof SUITE_SCHEMA>, 'datasets' | 'models' | 'esteps' | '$schema'> & {
  readonly datasets: readonly DatasetSpec[];
  readonly models: readonly ModelSpec[];
  readonly esteps: readonly MethodSpec[];
};
