/**
 * The commands: their synopsis, summary and flags (by group, for help), in
 * one table. Light: no registry or TensorFlow.js import.
 * @module
 */
import { FITTING_FLAGS, FLAGS, METHOD_FLAGS, SCALE_FLAGS, SELECT_FLAGS, SHARD_FLAGS, type FlagGroup, type FlagSpec } from './flag-spec.js';

/** A command of `emlab`. */
export interface CommandSpec {
  /** `fit`, `bn fit`, ... */
  readonly name: string;
  /** Usage lines (without the leading `emlab `). */
  readonly synopsis: readonly string[];
  /** One line for the global help. */
  readonly summary: string;
  /** Flags other than model flags, by group. */
  readonly groups: readonly FlagGroup[];
  /** Model flags (from the registry's option schemas) are added: all models, or one named model. */
  readonly modelFlags?: 'any' | 'bayesian-network' | 'hmm';
  /** The method options by E-step are listed (commands that take --estep-option). */
  readonly methodOptions?: boolean;
  /** Paragraphs after the flags. */
  readonly notes?: readonly string[];
}

/** How a suite is run (`emlab bench`, `emlab compare`): `runSuite`'s options. */
const RUNNER_FLAGS: readonly FlagSpec[] = [FLAGS.workers, FLAGS.resume, FLAGS.isolate, FLAGS['time-limit'], FLAGS['memory-limit'], FLAGS.retries, FLAGS.parquet];

const other = (...extra: FlagSpec[]): FlagGroup => ({ title: 'Other', flags: [...extra, FLAGS.plugin, FLAGS.help] });

/** Every command, in the order of the global help. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'fit',
    synopsis: ['fit <data.csv|.parquet|.arrow> [--model NAME] [model flags] [--estep NAME] [flags]'],
    summary: 'fit a registered model to data by EM (or another registered method) and print or save the result',
    modelFlags: 'any',
    methodOptions: true,
    groups: [
      { title: 'Model', flags: [FLAGS.model] },
      { title: 'Method', flags: METHOD_FLAGS },
      { title: 'Fitting', flags: FITTING_FLAGS },
      { title: 'Acceleration', flags: [FLAGS.accelerate] },
      { title: 'Online EM', flags: [FLAGS.online, FLAGS['minibatch-size'], FLAGS['step-alpha'], FLAGS['step-offset'], FLAGS.passes, FLAGS['average-from'], FLAGS['held-out-file']] },
      { title: 'Standard errors', flags: [FLAGS.se, FLAGS['se-method'], FLAGS.replicates] },
      { title: 'Scale', flags: SCALE_FLAGS },
      { title: 'Output', flags: [FLAGS.out, FLAGS.json] },
      other(),
    ],
    notes: [
      'Data: a model with numeric-table data reads a CSV with a header row of column names and numeric cells (UTF-8, or UTF-16 with a byte-order mark; RFC 4180 quoting); empty, NA, NaN, nan and ? cells are missing values, fitted through as latent variables. Other models read the files their registration describes (emlab models).',
      'Scale: --workers N and --queue URL --shards S spread each E-step over threads or machines (models with sharding hooks: gmm, bn, hmm; E-steps exact, hard, stochastic); the result does not depend on N or S. A .parquet or .arrow file, or a CSV with --stream, is converted once to a row cache on disk and read block by block in every pass (models that accept streamed rows, e.g. gmm; complete rows, no --weights-column). docs/scaling.md.',
      'Output: a summary (bound, log-likelihood to 12 significant digits, precision used), or with --json the FitResult (every number exact: shortest round-trip float64). --out saves it for loadResult and --init-params. Progress lines go to stderr; Ctrl-C stops the fit and writes nothing.',
      '--online (models that read a numeric CSV) prints a line per pass on stderr and the online result (running and held-out log-likelihoods: estimates); it takes none of --n-init, --max-iter, --tol, --convergence, --precision, --record-params, --weights-column, --accelerate, --se. --se adds a table of estimates and standard errors (and "standardErrors" to --json and --out).',
    ],
  },
  {
    name: 'impute',
    synopsis: ['impute <data.csv> --out FILE [--model gmm] [model flags] [--imputations M] [--variance FILE] [flags]'],
    summary: 'fit through the missing cells and write the completed table (conditional means or multiple-imputation draws)',
    modelFlags: 'any',
    methodOptions: true,
    groups: [
      { title: 'Imputation', flags: [{ ...FLAGS.out, description: 'the completed table (required; same header and column order)' }, FLAGS.imputations, FLAGS.variance] },
      { title: 'Model', flags: [FLAGS.model] },
      { title: 'Method', flags: METHOD_FLAGS },
      { title: 'Fitting', flags: FITTING_FLAGS.filter((f) => f.name !== 'record-params') },
      other(),
    ],
    notes: ['Every output path is checked before the fit; the outputs are written together at the end (each atomically), so a failed run changes none of them.'],
  },
  {
    name: 'select',
    synopsis: ['select <data.csv> [--models EII,VVV,...] [--components 1:9] [--criterion bic|icl] [--json] [flags]'],
    summary: "mixture model selection as mclust's: the BIC (or ICL) of every covariance model × number of components, and the best fit",
    groups: [
      { title: 'Selection', flags: [SELECT_FLAGS.models, SELECT_FLAGS.components, SELECT_FLAGS.criterion, SELECT_FLAGS.family, SELECT_FLAGS.columns, FLAGS['weights-column']] },
      { title: 'Fitting', flags: [SELECT_FLAGS.init, SELECT_FLAGS['hc-model'], SELECT_FLAGS['hc-use'], SELECT_FLAGS['hc-max-rows'], SELECT_FLAGS['reg-covar'], SELECT_FLAGS.estep, SELECT_FLAGS['max-iter'], SELECT_FLAGS.tol, SELECT_FLAGS.convergence, SELECT_FLAGS['n-init'], FLAGS.seed, SELECT_FLAGS.order] },
      { title: 'Output', flags: [SELECT_FLAGS.out, SELECT_FLAGS.json] },
      other(),
    ],
    notes: [
      "Every cell is a fit of the mclust model (every registered finite E-step applies) from mclust's initialization: model-based hierarchical clustering with the VVV criterion on the SVD-transformed data, computed once and cut at each K. A fit that fails or ends degenerate is NA, as in mclust.",
      "Sign convention (mclust's): BIC = 2 log L − p log n and ICL = BIC + 2 Σ_n log max_k z_nk, higher is better; p counts parameters as mclust does; n is the number of rows (the sum of the row weights with --weights-column). scikit-learn's bic() is −BIC.",
      'Data: a CSV with a header row; empty, NA, NaN, nan and ? cells are missing values, fitted through as latent variables. See docs/mixtures.md.',
    ],
  },
  {
    name: 'compare',
    synopsis: ['compare <data.csv> --out DIR [--model gmm] [model flags] [--esteps A,B,...] [flags]'],
    summary: 'compare methods on one data set from shared starts (a one-line benchmark suite: results.json, runs.csv, report.html)',
    modelFlags: 'any',
    methodOptions: true,
    groups: [
      { title: 'Model', flags: [FLAGS.model] },
      {
        title: 'Methods',
        flags: [
          FLAGS.esteps,
          { ...FLAGS['estep-option'], description: 'an option for every listed E-step that has it (repeatable; an option none of them has is an error)' },
          { ...FLAGS.draws, description: 'draws per row of the listed sampling E-steps (--estep-option nDraws=S); an error when none samples' },
        ],
      },
      { title: 'Runs', flags: [FLAGS.seeds, FLAGS['max-iter'], FLAGS.tol, FLAGS['held-out'], ...RUNNER_FLAGS, FLAGS.queue] },
      { title: 'Output', flags: [{ ...FLAGS.out, value: 'DIR', description: 'output directory (required)' }] },
      other(),
    ],
  },
  {
    name: 'bench',
    synopsis: ['bench <suite.json> --out DIR [--workers N | --queue redis://HOST:PORT] [--resume] [--isolate] [--time-limit MS] [--memory-limit MB] [--retries N] [--parquet runs|iterations|none]'],
    summary: 'run a benchmark suite (docs/bench.md), here or on emlab workers through a queue (docs/scaling.md)',
    groups: [{ title: 'Runs', flags: [{ ...FLAGS.out, value: 'DIR', description: 'output directory (required)' }, ...RUNNER_FLAGS, FLAGS.queue] }, other()],
    notes: ['With --queue the runs go on a BullMQ queue in that Redis; emlab worker processes on any machines take them, and this command collects the results and writes the same results.json, runs.csv and report as a run here. A worker that dies mid-run loses nothing (the run goes to another worker); --resume continues against the queue.'],
  },
  {
    name: 'worker',
    synopsis: ['worker --queue redis://HOST:PORT [--concurrency N] [--no-fits] [--plugin FILE.js]'],
    summary: 'take suite runs (emlab bench --queue) and fit shards (emlab fit --queue) from a queue until Ctrl-C',
    groups: [{ title: 'Queue', flags: [{ ...FLAGS.queue, description: 'the Redis server of the submitting commands (required)' }, FLAGS.concurrency, FLAGS['no-fits']] }, other()],
    notes: ['Ctrl-C finishes the job in progress and stops; a second Ctrl-C stops at once, and the queue gives that job to another worker. Plug-ins (--plugin) are imported for every job, as the submitter\'s suite names them.'],
  },
  {
    name: 'models',
    synopsis: ['models'],
    summary: 'list the registered models with their flags and defaults',
    groups: [other()],
  },
  {
    name: 'esteps',
    synopsis: ['esteps'],
    summary: 'list the registered E-steps and methods with their options and defaults',
    groups: [other()],
  },
  {
    name: 'demo',
    synopsis: ['demo [--dataset mix5] [--seed S]'],
    summary: 'fit a built-in mixture with every E-step and print a comparison',
    groups: [{ title: 'Demo', flags: [FLAGS.dataset, FLAGS.seed] }, { title: 'Other', flags: [FLAGS.help] }],
  },
  {
    name: 'bn fit',
    synopsis: ['bn fit <network.bif|json> <data.csv> --out FITTED.bif|json [model flags] [flags]'],
    summary: 'Bayesian networks: EM for the CPTs with hidden nodes and missing cells (exact E-step unless --estep names another); writes the fitted network',
    modelFlags: 'bayesian-network',
    methodOptions: true,
    groups: [
      { title: 'Method', flags: METHOD_FLAGS },
      { title: 'Fitting', flags: [{ ...FLAGS.init, default: 'random', description: 'random (seeded Dirichlet CPTs) or network (the file\'s CPTs)' }, ...FITTING_FLAGS.filter((f) => !['init', 'record-params'].includes(f.name))] },
      { title: 'Scale', flags: SHARD_FLAGS },
      { title: 'Output', flags: [{ ...FLAGS.out, description: 'the fitted network (.bif or .json; required unless --json)' }, { ...FLAGS.json, description: 'print the FitResult with the CPTs by node on stdout' }] },
      other(),
    ],
    notes: [
      'The CSV header names nodes; cells are state names or indices; empty, NA, NaN, nan and ? cells are missing; nodes without a column are hidden.',
      'Scale: --workers N or --queue URL --shards S spread the distinct evidence patterns over threads or machines in blocks of --batch-size patterns (exact E-step); the result does not depend on N or S. docs/scaling.md.',
    ],
  },
  {
    name: 'bn sample',
    synopsis: ['bn sample <network.bif|json> --n N [--seed S] [--missing-rate P] [--hide A,B] [--out data.csv]'],
    summary: 'Bayesian networks: forward (ancestral) sampling to CSV (stdout without --out)',
    groups: [{ title: 'Sampling', flags: [FLAGS.n, FLAGS.seed, FLAGS['missing-rate'], FLAGS.hide, { ...FLAGS.out, description: 'write the CSV here (atomically) instead of stdout' }] }, { title: 'Other', flags: [FLAGS.help] }],
  },
  {
    name: 'bn query',
    synopsis: ['bn query <network.bif|json> --target A [--evidence B=s,C=t] [--json]'],
    summary: 'Bayesian networks: exact posterior P(target | evidence) (junction tree, float64)',
    groups: [{ title: 'Query', flags: [FLAGS.target, FLAGS.evidence, { ...FLAGS.json, description: 'print the posterior as JSON' }] }, { title: 'Other', flags: [FLAGS.help] }],
  },
  {
    name: 'hmm fit',
    synopsis: ['hmm fit <data.csv> --states K [model flags] [--estep exact|hard|stochastic] [flags]'],
    summary: 'hidden Markov models: EM over one or many sequences (missing cells as latent variables); prints or saves the fit',
    modelFlags: 'hmm',
    methodOptions: true,
    groups: [
      { title: 'Method', flags: METHOD_FLAGS },
      { title: 'Fitting', flags: FITTING_FLAGS.filter((f) => !['weights-column', 'precision'].includes(f.name)) },
      { title: 'Scale', flags: SHARD_FLAGS },
      { title: 'Output', flags: [{ ...FLAGS.out, description: 'save the result (for emlab hmm decode/sample --result and --init-params; atomically)' }, { ...FLAGS.json, description: 'print the FitResult (with BIC and AIC) as JSON on stdout' }] },
      other(),
    ],
    notes: [
      'Data: a CSV with a header row; rows are time steps in order, --sequence-column groups them into sequences (rows of a sequence may be interleaved with other sequences). Cells are numbers (category labels with --emission categorical); empty, NA, NaN, nan and ? cells are missing, fitted through as latent variables.',
      'Methods: --estep exact is forward-backward, hard is Viterbi training, stochastic draws state paths (FFBS; --draws S paths per sequence). The arithmetic is float64.',
      'Scale: --workers N or --queue URL --shards S spread the sequences over threads or machines in blocks of whole sequences (--block-rows time steps; E-steps exact, hard, stochastic); the result does not depend on N or S. docs/scaling.md.',
    ],
  },
  {
    name: 'hmm decode',
    synopsis: ['hmm decode <data.csv> --result RESULT.json [--columns a,b] [--sequence-column id] [--proba] [--json] [--out states.csv]'],
    summary: 'hidden Markov models: the most probable state path of every sequence (Viterbi) under a fitted model, in file order',
    groups: [
      {
        title: 'Decoding',
        flags: [
          FLAGS.result,
          { name: 'columns', value: 'A,B', description: "observation columns of the CSV, in order (default: the fit's columns)" },
          { name: 'sequence-column', value: 'NAME', description: 'CSV column of sequence ids (default: one sequence)' },
          FLAGS.proba,
        ],
      },
      { title: 'Output', flags: [{ ...FLAGS.json, description: 'print the states (and probabilities) by sequence as JSON' }, { ...FLAGS.out, description: 'write the CSV (or JSON) here, atomically, instead of stdout' }] },
      { title: 'Other', flags: [FLAGS.help] },
    ],
    notes: ['Output: one CSV line per data row in file order: sequence, row (0-based data row), state (0-based); --proba adds p0..p{K-1}.'],
  },
  {
    name: 'hmm sample',
    synopsis: ['hmm sample --result RESULT.json (--n T | --lengths T1,T2,...) [--seed S] [--out data.csv]'],
    summary: 'hidden Markov models: sequences drawn from a fitted model, as CSV (stdout without --out)',
    groups: [
      { title: 'Sampling', flags: [FLAGS.result, { ...FLAGS.n, description: 'time steps of one sequence (or --lengths)' }, FLAGS.lengths, FLAGS.seed, { ...FLAGS.out, description: 'write the CSV here (atomically) instead of stdout' }] },
      { title: 'Other', flags: [FLAGS.help] },
    ],
    notes: ['Output: columns sequence (1-based), state (0-based) and the observation columns of the fit (category labels for categorical emissions).'],
  },
];

/** A command by name (`fit`, `bn fit`). */
export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** Every non-model flag of a command (for parsing). */
export function commandFlags(spec: CommandSpec): FlagSpec[] {
  return spec.groups.flatMap((g) => g.flags);
}
