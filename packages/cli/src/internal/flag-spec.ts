/**
 * The flags of the command line, declared once: every command that takes a
 * flag takes this declaration of it, so a flag means the same thing (and
 * shows the same default) everywhere. Help texts are generated from these
 * tables and from the registries' option schemas.
 *
 * This module imports nothing heavy: `emlab --help` and `emlab fit --help`
 * read it without loading TensorFlow.js.
 * @module
 */

/** One flag of the command line. */
export interface FlagSpec {
  /** Name without dashes. */
  readonly name: string;
  /** Placeholder of its value (`N`, `FILE`); absent for a switch (`--json`). */
  readonly value?: string;
  /** May be given several times (`--plugin a.js --plugin b.js`). */
  readonly repeatable?: boolean;
  /** Value when given without one (`--record-params` = `--record-params 1`); only a value matching `optionalPattern` is taken from the next argument. */
  readonly optionalValue?: string;
  readonly optionalPattern?: RegExp;
  /** One-letter alias (`-h`). */
  readonly short?: string;
  /** The default as shown in help (absent: no default, or described in `description`). */
  readonly default?: string;
  /** One line of help. */
  readonly description: string;
}

const flag = (spec: FlagSpec): FlagSpec => spec;

/** Every flag that is not a model option, by name. */
export const FLAGS = {
  help: flag({ name: 'help', short: 'h', description: 'print this help' }),
  plugin: flag({ name: 'plugin', value: 'FILE.js', repeatable: true, description: 'import a module that registers models or E-steps before anything else (repeatable)' }),
  model: flag({ name: 'model', value: 'NAME', default: 'gmm', description: 'a registered model (emlab models lists them, with their flags)' }),
  estep: flag({ name: 'estep', value: 'NAME', default: 'exact', description: "the method: an E-step registered for the model's structure kind, or gradient (emlab esteps)" }),
  'estep-option': flag({ name: 'estep-option', value: 'KEY=VALUE', repeatable: true, description: "an option of the E-step, parsed by its schema (repeatable; emlab esteps lists them)" }),
  draws: flag({ name: 'draws', value: 'S', description: 'draws per row of a sampling (monte-carlo) E-step: the same as --estep-option nDraws=S' }),
  'weights-column': flag({ name: 'weights-column', value: 'NAME', description: 'row weights from this column of the data CSV (finite, >= 0; removed from the data); for models that accept weights' }),
  init: flag({ name: 'init', value: 'NAME', default: "the model's first", description: "the model's initialization method (gmm: kmeans++, random; bn: random, network)" }),
  'init-params': flag({ name: 'init-params', value: 'FILE.json', description: 'start from these parameters: a file saveParams wrote, or a saved result (--out)' }),
  precision: flag({ name: 'precision', value: 'auto|float32|float64', default: 'auto', description: 'arithmetic of the kernels: auto starts in float32 on large problems and refines in float64' }),
  convergence: flag({ name: 'convergence', value: 'NAME', default: "the E-step's own, else aitken (monte-carlo for sampling E-steps)", description: 'stopping rule: aitken, absolute, relative, params, gradient or monte-carlo' }),
  tol: flag({ name: 'tol', value: 'T', default: "the rule's (aitken 1e-10, absolute 1e-3, relative 1e-8, params 1e-6, gradient 1e-5, monte-carlo 1e-6)", description: 'tolerance of the stopping rule; 0 runs --max-iter passes' }),
  'max-iter': flag({ name: 'max-iter', value: 'N', default: '1000', description: 'maximum passes over the data per restart' }),
  'n-init': flag({ name: 'n-init', value: 'R', default: '1', description: 'restarts from different seeded starts; the best final bound is kept' }),
  seed: flag({ name: 'seed', value: 'S', default: '0', description: 'root seed (an integer, or any text)' }),
  'record-params': flag({ name: 'record-params', value: 'K', optionalValue: '1', optionalPattern: /^\d+$/, description: 'keep the parameters in the trace every K iterations (every iteration without K)' }),
  out: flag({ name: 'out', value: 'FILE', description: 'write the result here (atomically: a failed run leaves the previous file as it was)' }),
  json: flag({ name: 'json', description: 'print the result as JSON on stdout' }),
  imputations: flag({ name: 'imputations', value: 'M', description: 'write M multiple-imputation draws stacked, with a leading "draw" column, instead of conditional means' }),
  variance: flag({ name: 'variance', value: 'FILE', description: 'also write the conditional variances (0 for observed cells)' }),
  esteps: flag({ name: 'esteps', value: 'A,B,...', default: 'exact,hard,stochastic', description: 'methods to compare (registered E-steps, gradient)' }),
  seeds: flag({ name: 'seeds', value: 'N', default: '5', description: 'seeds 0..N-1; every method starts from the same start per seed' }),
  'held-out': flag({ name: 'held-out', value: 'F', description: 'fraction of rows held out for the held-out log-likelihood (in [0, 0.9])' }),
  workers: flag({ name: 'workers', value: 'N', default: 'the number of cores', description: 'worker threads' }),
  resume: flag({ name: 'resume', description: 'continue an interrupted run in the output directory' }),
  queue: flag({ name: 'queue', value: 'redis://HOST:PORT', description: 'a Redis server whose BullMQ queue emlab worker processes (on any machines) take the work from (docs/scaling.md)' }),
  shards: flag({ name: 'shards', value: 'S', description: 'with --queue: split each E-step into S shards for the queue\'s workers (the result is the same for every S)' }),
  stream: flag({ name: 'stream', description: 'read the rows from disk block by block (a row cache; data larger than memory); always on for .parquet and .arrow files' }),
  'cache-dir': flag({ name: 'cache-dir', value: 'DIR', default: 'emlab-row-cache in the temporary directory', description: 'where --stream keeps the row cache (reused while the data file is unchanged)' }),
  concurrency: flag({ name: 'concurrency', value: 'N', default: 'the number of cores', description: 'suite runs this worker runs at once, one thread each (fit shards: one at a time)' }),
  'no-fits': flag({ name: 'no-fits', description: 'take suite runs only, not shards of distributed fits' }),
  dataset: flag({ name: 'dataset', value: 'NAME', default: 'mix5', description: 'built-in data set' }),
  n: flag({ name: 'n', value: 'N', description: 'number of rows to sample (required)' }),
  'missing-rate': flag({ name: 'missing-rate', value: 'P', default: '0', description: 'fraction of cells masked completely at random (in [0, 1))' }),
  hide: flag({ name: 'hide', value: 'A,B', description: 'nodes left out of the sample (hidden)' }),
  evidence: flag({ name: 'evidence', value: 'A=s,B=t', description: 'observed states (names or indices)' }),
  target: flag({ name: 'target', value: 'A,B', description: 'nodes whose posterior to print (required)' }),
} as const satisfies Readonly<Record<string, FlagSpec>>;

/** A flag by name. */
export type FlagName = keyof typeof FLAGS;

/** A group of flags in a command's help. */
export interface FlagGroup {
  readonly title: string;
  readonly flags: readonly FlagSpec[];
}

/** `emlab fit`'s flags for using more cores, more machines, and data larger than memory. */
export const SCALE_FLAGS: readonly FlagSpec[] = [
  { ...FLAGS.workers, default: '1 (this thread)', description: 'shard each E-step over N worker threads (the result is the same, bit for bit, for every N)' },
  { ...FLAGS.queue, description: 'shard each E-step over emlab worker processes on a Redis/BullMQ queue (needs --shards)' },
  FLAGS.shards,
  FLAGS.stream,
  FLAGS['cache-dir'],
];

/** The common flags of every command that fits a model: method, fitting and output. */
export const METHOD_FLAGS: readonly FlagSpec[] = [FLAGS.estep, FLAGS['estep-option'], FLAGS.draws];
export const FITTING_FLAGS: readonly FlagSpec[] = [
  FLAGS['weights-column'],
  FLAGS.init,
  FLAGS['init-params'],
  FLAGS.precision,
  FLAGS.convergence,
  FLAGS.tol,
  FLAGS['max-iter'],
  FLAGS['n-init'],
  FLAGS.seed,
  FLAGS['record-params'],
];
