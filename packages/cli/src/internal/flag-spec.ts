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
  estep: flag({ name: 'estep', value: 'NAME', default: "exact, or the model's default method (shown with its model flags)", description: "the method: an E-step registered for the model's structure kind, or gradient (emlab esteps)" }),
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
  isolate: flag({ name: 'isolate', description: 'run every run in a worker thread, even with --workers 1 (a crash or a limit then costs one run, not the suite)' }),
  'time-limit': flag({ name: 'time-limit', value: 'MS', default: "the suite's limits.timeMs, else none", description: 'wall time per run attempt in milliseconds (>= 1); a run over it fails with TIMEOUT' }),
  'memory-limit': flag({ name: 'memory-limit', value: 'MB', default: "the suite's limits.memoryMb, else none", description: 'heap per run in MB (>= 32; runs in worker threads)' }),
  retries: flag({ name: 'retries', value: 'N', default: "the suite's limits.retries, else 0", description: 'retries of a run whose worker crashed (0 to 3)' }),
  parquet: flag({ name: 'parquet', value: 'runs|iterations|none', default: 'runs', description: 'Parquet output: runs.parquet, also iterations.parquet, or none' }),
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
  accelerate: flag({ name: 'accelerate', value: 'NAME', description: "accelerate the exact E-step's EM map: squarem, quasi-newton, aitken, parabolic (em: plain EM through the same machinery); float64, --max-iter counts E-step calls (docs/acceleration.md)" }),
  online: flag({ name: 'online', description: 'online EM: stream the CSV in minibatches (never read whole) with step sizes (n + n0)^-alpha; the result is an estimate (docs/online-em.md)' }),
  'minibatch-size': flag({ name: 'minibatch-size', value: 'B', default: '256', description: 'rows per minibatch (--online)' }),
  'step-alpha': flag({ name: 'step-alpha', value: 'A', default: '0.6', description: 'step-size exponent alpha in (0.5, 1] (--online)' }),
  'step-offset': flag({ name: 'step-offset', value: 'N0', default: '0', description: 'step-size offset n0 >= 0 (--online)' }),
  passes: flag({ name: 'passes', value: 'P', default: '1', description: 'passes over the CSV (--online)' }),
  'average-from': flag({ name: 'average-from', value: 'N', default: 'the first pass when --passes > 1, else 0', description: 'updates before Polyak-Ruppert averaging of the parameters starts (--online)' }),
  'held-out-file': flag({ name: 'held-out-file', value: 'FILE', description: 'a CSV with the same columns whose log-likelihood is reported after each pass (--online)' }),
  se: flag({ name: 'se', description: 'standard errors of the fitted parameters (docs/standard-errors.md)' }),
  'se-method': flag({ name: 'se-method', value: 'louis|hessian|bootstrap', default: "louis when the model has Louis' identity, else hessian", description: 'how the covariance of the estimates is computed (--se)' }),
  replicates: flag({ name: 'replicates', value: 'B', default: '200', description: 'parametric bootstrap replicates, seeded by --seed (--se --se-method bootstrap)' }),
  /** `hmm decode` and `hmm sample`: the fitted result (a file; `--model` names registered models everywhere). */
  result: flag({ name: 'result', value: 'RESULT.json', description: 'the fitted model: a result written by emlab hmm fit --out (required)' }),
  proba: flag({ name: 'proba', description: 'also print the posterior probability of every state (columns p0, p1, ...)' }),
  lengths: flag({ name: 'lengths', value: 'T1,T2,...', description: 'lengths of several sequences to draw (instead of --n)' }),
} as const satisfies Readonly<Record<string, FlagSpec>>;

/**
 * The flags of `emlab select` that no other command has (the options of `selectModel`; their
 * defaults are `SELECT_MODEL_OPTIONS`', which a test checks against these texts).
 */
export const SELECT_FLAGS = {
  models: flag({ name: 'models', value: 'EII,VVV,...', default: 'the 14 of mclust, or E,V for one column', description: 'covariance parameterizations to compare (mclust\'s names)' }),
  components: flag({ name: 'components', value: '1:9|2,3,5', default: '1:9', description: 'numbers of components: a range a:b or a comma list' }),
  criterion: flag({ name: 'criterion', value: 'bic|icl', default: 'bic', description: "selection criterion (mclust's sign: higher is better)" }),
  family: flag({ name: 'family', value: 'gaussian|t', default: 'gaussian', description: 'component family (t: Student-t with the same parameterizations of its scale matrices)' }),
  init: flag({ name: 'init', value: 'hc|kmeans++|random', default: 'hc', description: "initialization: hc is mclust's hierarchical clustering, computed once and cut at each K" }),
  'hc-model': flag({ name: 'hc-model', value: 'VVV|EII', default: 'VVV', description: 'criterion of the hierarchical clustering' }),
  'hc-use': flag({ name: 'hc-use', value: 'svd|vars|std', default: 'svd', description: "transformation before the hierarchical clustering (mclust's hcUse)" }),
  'hc-max-rows': flag({ name: 'hc-max-rows', value: 'N', default: '2000', description: 'rows clustered exactly by the hierarchical clustering (a seeded subsample above)' }),
  'reg-covar': flag({ name: 'reg-covar', value: 'R', default: '0', description: 'ridge of the covariance M-steps (0: maximum likelihood, as mclust without a prior)' }),
  order: flag({ name: 'order', value: 'none|mean|weight', default: 'none', description: 'canonical component order of the fits: by first mean coordinate, by weight, or as fitted' }),
  columns: flag({ name: 'columns', value: 'A,B,...', default: 'every column', description: 'the columns to model (names of the header, or 0-based indices), in this order' }),
  estep: flag({ name: 'estep', value: 'NAME', default: 'exact', description: 'a registered finite E-step for every fit (emlab esteps)' }),
  tol: flag({ name: 'tol', value: 'T', default: '1e-8', description: "tolerance of the stopping rule of every fit (--convergence relative --tol 1e-5 is mclust's rule)" }),
  convergence: flag({ name: 'convergence', value: 'NAME', default: 'aitken', description: 'stopping rule of every fit: aitken, absolute, relative, params, gradient, monte-carlo or accelerated' }),
  'n-init': flag({ name: 'n-init', value: 'R', default: '1', description: 'restarts per cell with --init kmeans++ or random' }),
  'max-iter': flag({ name: 'max-iter', value: 'N', default: '1000', description: 'maximum passes per fit' }),
  out: flag({ name: 'out', value: 'FILE', description: 'save the best fit here (atomically; loadResult and --init-params read it)' }),
  json: flag({ name: 'json', description: 'print the table, every cell and the best fit as JSON on stdout' }),
} as const satisfies Readonly<Record<string, FlagSpec>>;


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

/** The scaling flags of `emlab bn fit` and `emlab hmm fit` (their data are read whole: no --stream). */
export const SHARD_FLAGS: readonly FlagSpec[] = SCALE_FLAGS.filter((f) => ['workers', 'queue', 'shards'].includes(f.name));

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
