/**
 * The `emlab` command line: dispatch to the commands, per-command help, the
 * version, and how failures are reported.
 *
 * Start-up is kept light: this module imports no registry, model or
 * TensorFlow.js code. `emlab --version` reads the package's own version;
 * `emlab <command> --help` reads the build's snapshot of the registries
 * (`dist/registry.json`); each command's module is imported only when it runs.
 *
 * Exit codes: 0 success, 2 user error (bad flags, bad data, bad options: one
 * line on stderr naming the flag, the value and a remedy; no stack trace), 1
 * internal error (with a "please report" line), 130 interrupted.
 * @module
 */
import { loadCatalog } from './internal/catalog.js';
import { commandSpec } from './internal/commands.js';
import { commandHelp, globalHelp, groupHelp } from './internal/help.js';
import type { CliIo } from './internal/io.js';
import { scanFlag } from './internal/scan.js';
import { cliVersion } from './internal/version.js';

export type { CliIo } from './internal/io.js';

/** A command's entry point (args after the command name). */
type Run = (args: readonly string[], io: CliIo) => Promise<number>;

/** Each command's module, imported when the command runs. */
const LOADERS: Readonly<Record<string, () => Promise<Run>>> = {
  fit: async () => (await import('./commands/fit.js')).runFit,
  impute: async () => (await import('./commands/impute.js')).runImpute,
  select: async () => (await import('./commands/select.js')).runSelect,
  compare: async () => (await import('./bench.js')).runCompare,
  bench: async () => (await import('./bench.js')).runBench,
  models: async () => (await import('./commands/listings.js')).runModels,
  esteps: async () => (await import('./commands/listings.js')).runESteps,
  demo: async () => (await import('./commands/demo.js')).runDemo,
  worker: async () => (await import('./commands/worker.js')).runWorkerCommand,
  'bn fit': async () => (await import('./bn.js')).runBnFit,
  'bn sample': async () => (await import('./bn.js')).runBnSample,
  'bn query': async () => (await import('./bn.js')).runBnQuery,
  'hmm fit': async () => (await import('./commands/hmm.js')).runHmmFit,
  'hmm decode': async () => (await import('./commands/hmm.js')).runHmmDecode,
  'hmm sample': async () => (await import('./commands/hmm.js')).runHmmSample,
};

/** Commands with subcommands (`emlab bn fit`, `emlab hmm decode`). */
const GROUPS = ['bn', 'hmm'] as const;
const isGroup = (name: string | undefined): name is (typeof GROUPS)[number] => (GROUPS as readonly (string | undefined)[]).includes(name);

const isHelp = (a: string | undefined): boolean => a === '--help' || a === '-h' || a === 'help';

/** Whether the arguments ask for help (`--help` or `-h` before `--`). */
function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/** Prints a command's help (the snapshot's registries, or the live ones with `--plugin`). */
async function printHelp(name: string, args: readonly string[], io: CliIo): Promise<number> {
  const spec = commandSpec(name);
  if (spec === undefined) return unknownCommand(name);
  const catalog = spec.modelFlags !== undefined || spec.methodOptions === true ? await loadCatalog(scanFlag(args, 'plugin')) : { models: [], methods: [], convergence: { names: [], defaultTol: {} }, defaultMaxIter: 0 };
  io.stdout(commandHelp(spec, catalog, scanFlag(args, 'model')[0]));
  return 0;
}

async function unknownCommand(name: string): Promise<never> {
  const { badFlag } = await import('./internal/cli-error.js');
  const known = ['fit', 'impute', 'select', 'compare', 'bench', 'worker', 'models', 'esteps', 'demo', 'bn', 'hmm'];
  if (name.startsWith('bn ')) throw badFlag('bn', name.slice(3), 'is not a bn command (commands: fit, sample, query)', 'see emlab bn --help');
  if (name.startsWith('hmm ')) throw badFlag('hmm', name.slice(4), 'is not an hmm command (commands: fit, decode, sample)', 'see emlab hmm --help');
  throw badFlag('command', name, `is not an emlab command (commands: ${known.join(', ')})`, 'see emlab --help');
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    io.stdout(globalHelp());
    return 0;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    io.stdout(`${cliVersion()}\n`);
    return 0;
  }
  if (command === 'help') {
    // `emlab help`, `emlab help fit`, `emlab help bn fit`
    if (rest.length === 0) {
      io.stdout(globalHelp());
      return 0;
    }
    if (rest.length === 1 && isGroup(rest[0])) {
      io.stdout(groupHelp(rest[0]));
      return 0;
    }
    return printHelp(rest.join(' '), [], io);
  }
  let name = command;
  let args = rest;
  if (isGroup(command)) {
    const [sub, ...more] = rest;
    if (sub === undefined || isHelp(sub)) {
      io.stdout(groupHelp(command));
      return 0;
    }
    name = `${command} ${sub}`;
    args = more;
  }
  const load = LOADERS[name];
  if (load === undefined) return unknownCommand(name);
  if (wantsHelp(args)) return printHelp(name, args, io);
  const run = await load();
  return await run(args, io);
}

/**
 * Runs the CLI on `argv` (without `node` and the script).
 * @returns the exit code.
 * @category CLI
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (e) {
    const { reportError } = await import('./internal/report-error.js');
    return reportError(e, io, argv);
  }
}
