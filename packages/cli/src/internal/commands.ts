/**
 * The commands: their synopsis, summary and flags (by group, for help), in
 * one table. Light: no registry or TensorFlow.js import.
 * @module
 */
import { FITTING_FLAGS, FLAGS, METHOD_FLAGS, SCALE_FLAGS, type FlagGroup, type FlagSpec } from './flag-spec.js';

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
  readonly modelFlags?: 'any' | 'bayesian-network';
  /** The method options by E-step are listed (commands that take --estep-option). */
  readonly methodOptions?: boolean;
  /** Paragraphs after the flags. */
  readonly notes?: readonly string[];
}

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
      { title: 'Scale', flags: SCALE_FLAGS },
      { title: 'Output', flags: [FLAGS.out, FLAGS.json] },
      other(),
    ],
    notes: [
      'Data: a model with numeric-table data reads a CSV with a header row of column names and numeric cells (UTF-8, or UTF-16 with a byte-order mark; RFC 4180 quoting); empty, NA, NaN, nan and ? cells are missing values, fitted through as latent variables. Other models read the files their registration describes (emlab models).',
      'Scale: --workers N and --queue URL --shards S spread each E-step over threads or machines (models with sharding hooks, e.g. gmm; E-steps exact, hard, stochastic); the result does not depend on N or S. A .parquet or .arrow file, or a CSV with --stream, is converted once to a row cache on disk and read block by block in every pass (models that accept streamed rows, e.g. gmm; complete rows, no --weights-column). docs/scaling.md.',
      'Output: a summary (bound, log-likelihood to 12 significant digits, precision used), or with --json the FitResult (every number exact: shortest round-trip float64). --out saves it for loadResult and --init-params. Progress lines go to stderr; Ctrl-C stops the fit and writes nothing.',
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
      { title: 'Runs', flags: [FLAGS.seeds, FLAGS['max-iter'], FLAGS.tol, FLAGS['held-out'], FLAGS.workers, FLAGS.queue, FLAGS.resume] },
      { title: 'Output', flags: [{ ...FLAGS.out, value: 'DIR', description: 'output directory (required)' }] },
      other(),
    ],
  },
  {
    name: 'bench',
    synopsis: ['bench <suite.json> --out DIR [--workers N | --queue redis://HOST:PORT] [--resume]'],
    summary: 'run a benchmark suite (docs/bench.md), here or on emlab workers through a queue (docs/scaling.md)',
    groups: [{ title: 'Runs', flags: [{ ...FLAGS.out, value: 'DIR', description: 'output directory (required)' }, FLAGS.workers, FLAGS.queue, FLAGS.resume] }, other()],
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
    summary: 'Bayesian networks: EM for the CPTs with hidden nodes and missing cells (exact E-step); writes the fitted network',
    modelFlags: 'bayesian-network',
    groups: [
      { title: 'Fitting', flags: [{ ...FLAGS.init, default: 'random', description: 'random (seeded Dirichlet CPTs) or network (the file\'s CPTs)' }, ...FITTING_FLAGS.filter((f) => !['init', 'record-params'].includes(f.name))] },
      { title: 'Output', flags: [{ ...FLAGS.out, description: 'the fitted network (.bif or .json; required unless --json)' }, { ...FLAGS.json, description: 'print the FitResult with the CPTs by node on stdout' }] },
      other(),
    ],
    notes: ['The CSV header names nodes; cells are state names or indices; empty, NA, NaN, nan and ? cells are missing; nodes without a column are hidden.'],
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
];

/** A command by name (`fit`, `bn fit`). */
export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** Every non-model flag of a command (for parsing). */
export function commandFlags(spec: CommandSpec): FlagSpec[] {
  return spec.groups.flatMap((g) => g.flags);
}
