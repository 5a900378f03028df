/**
 * The `emlab` command line: `emlab fit`, `emlab impute`, `emlab demo`, `emlab esteps` (and `bn`, `bench`, `compare` from their own files).
 *
 * Exit codes: 0 success, 2 user error (bad flags, bad data, bad options: one
 * line on stderr, no stack trace), 1 internal error.
 * @module
 */
import type { ParseArgsConfig } from 'node:util';
import { EmError, emError, fit, initBackend, listESteps, toJson, type FitResult, type IterationRecord } from '@emlab/core';
import { saveResult } from '@emlab/core/node';
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { loadBuiltin, readNumericCsv, writeNumericCsv, type NumericTable } from '@emlab/data';
import { COVARIANCE_TYPES, gaussianMixture, impute, missingSummary, type CovarianceType, type GaussianMixture, type GmmParams, type MissingSummary } from '@emlab/models';
import { flagNumber, parseFlags, positionalArgs, printWarnings, progressLine, seedOf } from './args.js';
import { BENCH_USAGE, runBench, runCompare } from './bench.js';
import { runBn } from './bn.js';

/** Where the CLI writes; injectable for tests. @category CLI */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress redraws in place). */
  readonly isTty: boolean;
}

const USAGE = `emlab — Expectation-Maximization with swappable E-steps

Usage:
  emlab fit <data.csv> --model gmm --components K [--covariance full|diag|spherical|tied]
            [--estep exact|hard|stochastic] [--draws S] [--seed S] [--max-iter N] [--tol T]
            [--n-init R] [--reg-covar R] [--init kmeans++|random] [--out result.json] [--json]
  emlab impute <data.csv> --components K [--covariance ...] [--seed S] [--draws M]
            [--max-iter N] [--tol T] [--n-init R] [--reg-covar R] --out imputed.csv [--variance var.csv]
                                              fit through the missing cells, write the completed table
                                              (conditional means; with --draws M, M draws stacked with a
                                              leading "draw" column)
  emlab demo [--dataset mix5] [--seed S]     fit a mixture with every E-step, print a comparison
  emlab esteps                                list registered E-steps
  emlab bn fit|sample|query <network.bif|json> ...   Bayesian networks: EM with hidden nodes and
                                              missing cells, forward sampling, exact queries (emlab bn --help)
${BENCH_USAGE}
  emlab --help | --version

The CSV needs a header row of column names and numeric cells; empty, NA, NaN, nan and ? cells
are missing values, fitted through as latent variables.
Exit codes: 0 ok, 2 user error, 1 internal error.`;

/** Flags of every command that fits a Gaussian mixture (fit, impute). */
const MIXTURE_FLAGS = {
  components: { type: 'string' },
  covariance: { type: 'string' },
  seed: { type: 'string' },
  'max-iter': { type: 'string' },
  tol: { type: 'string' },
  'n-init': { type: 'string' },
  'reg-covar': { type: 'string' },
  init: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const FIT_OPTIONS = {
  ...MIXTURE_FLAGS,
  model: { type: 'string' },
  estep: { type: 'string' },
  draws: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

function fmt(x: number | null, digits = 4): string {
  if (x === null) return '—';
  return Math.abs(x) >= 1e5 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(digits) : x.toFixed(digits);
}

async function runFit(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, FIT_OPTIONS);
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const [file] = positionalArgs(positionals, ['<data.csv>'], 'emlab fit data.csv --model gmm --components 3') as [string];
  const model = values.model ?? 'gmm';
  if (model !== 'gmm') throw emError('INVALID_ARGUMENT', ['--model'], model, 'is not a known model (known: gmm)', 'pass --model gmm');
  const components = flagNumber('components', values.components, 'int');
  const covariance = values.covariance ?? 'full';
  const estep = values.estep ?? 'exact';
  const draws = flagNumber('draws', values.draws, 'int');
  if (draws !== undefined && estep !== 'stochastic') throw emError('INVALID_ARGUMENT', ['--draws'], values.draws, 'only applies to --estep stochastic', 'drop --draws or pass --estep stochastic');
  const gmm = mixtureFromFlags(components, covariance, values['reg-covar']);
  const table = await readNumericCsv(file);
  const warnings: string[] = [];
  const result = await fitFromFlags(gmm, table, values, io, `fit ${file}`, warnings, {
    eStep: estep,
    ...(draws === undefined ? {} : { eStepOptions: { nDraws: draws } }),
  });
  if (values.out !== undefined) await saveResult(values.out, result);
  const missing = missingSummary(table);
  if (values.json) {
    const patterns = missing.patterns.map((p) => ({ missing: p.missing.map((c) => table.columns[c] as string), count: p.count }));
    io.stdout(`${toJson({ ...result, columns: table.columns, nMissing: missing.nMissing, nRowsAllMissing: missing.nRowsAllMissing, missingPatterns: patterns })}\n`);
  } else {
    io.stdout(describeFit(result, table.columns, missing));
    if (values.out !== undefined) io.stdout(`result written to ${values.out}\n`);
  }
  printWarnings(io, warnings);
  return 0;
}

function mixtureFromFlags(components: number | undefined, covariance: string, regCovarText: string | undefined): GaussianMixture {
  if (components === undefined) throw emError('INVALID_ARGUMENT', ['--components'], undefined, 'is required', 'pass --components K, e.g. --components 3');
  if (!COVARIANCE_TYPES.includes(covariance as CovarianceType)) {
    throw emError('INVALID_ARGUMENT', ['--covariance'], covariance, 'is not a covariance type', `pass one of ${COVARIANCE_TYPES.join(', ')}`);
  }
  const regCovar = flagNumber('reg-covar', regCovarText, 'float');
  return gaussianMixture({ nComponents: components, covarianceType: covariance as CovarianceType, ...(regCovar === undefined ? {} : { regCovar }) });
}

/** `fit` with the shared flags (--max-iter, --tol, --n-init, --init, --seed), a progress line and collected warnings. */
async function fitFromFlags(
  gmm: GaussianMixture,
  table: NumericTable,
  values: { 'max-iter'?: string | undefined; tol?: string | undefined; 'n-init'?: string | undefined; init?: string | undefined; seed?: string | undefined },
  io: CliIo,
  label: string,
  warnings: string[],
  extra: { eStep?: string; eStepOptions?: Record<string, unknown> } = {},
): Promise<FitResult<GmmParams>> {
  const maxIter = flagNumber('max-iter', values['max-iter'], 'int');
  const tol = flagNumber('tol', values.tol, 'float');
  const nInit = flagNumber('n-init', values['n-init'], 'int');
  const result = await fit(gmm, table, {
    ...extra,
    ...(maxIter === undefined ? {} : { maxIter }),
    ...(tol === undefined ? {} : { tol }),
    ...(nInit === undefined ? {} : { nInit }),
    ...(values.init === undefined ? {} : { init: values.init }),
    seed: seedOf(values.seed),
    onIteration: progressLine(io, label, 'bound', (x) => fmt(x)),
    onWarning: (m) => warnings.push(m),
  });
  if (io.isTty) io.stderr('\r\u001b[K');
  return result;
}

const IMPUTE_OPTIONS = {
  ...MIXTURE_FLAGS,
  draws: { type: 'string' },
  variance: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/**
 * `emlab impute`: fits a Gaussian mixture through the missing cells, then
 * writes the completed table (conditional means), or with `--draws M` the M
 * multiple-imputation draws stacked with a leading `draw` column (1…M).
 */
async function runImpute(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, IMPUTE_OPTIONS);
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const [file] = positionalArgs(positionals, ['<data.csv>'], 'emlab impute data.csv --components 3 --out imputed.csv') as [string];
  if (values.out === undefined) throw emError('INVALID_ARGUMENT', ['--out'], undefined, 'is required', 'pass --out imputed.csv');
  const gmm = mixtureFromFlags(flagNumber('components', values.components, 'int'), values.covariance ?? 'full', values['reg-covar']);
  const draws = flagNumber('draws', values.draws, 'int', 1);
  const table = await readNumericCsv(file);
  const warnings: string[] = [];
  const result = await fitFromFlags(gmm, table, values, io, `impute ${file}`, warnings);
  const out = impute(result, table, { draws: draws ?? 0, seed: seedOf(values.seed) });
  if (draws === undefined) {
    await writeNumericCsv(values.out, table.columns, out.values, table.cols);
  } else {
    const stacked = new Float64Array(draws * table.rows * (table.cols + 1));
    out.draws.forEach((d, t) => {
      for (let r = 0; r < table.rows; r++) {
        const base = (t * table.rows + r) * (table.cols + 1);
        stacked[base] = t + 1;
        stacked.set(d.subarray(r * table.cols, (r + 1) * table.cols), base + 1);
      }
    });
    await writeNumericCsv(values.out, ['draw', ...table.columns], stacked, table.cols + 1);
  }
  if (values.variance !== undefined) await writeNumericCsv(values.variance, table.columns, out.variance, table.cols);
  io.stdout(
    `imputed ${out.nMissing} missing cells of ${table.rows} rows × ${table.cols} columns with a ${result.params.weights.length}-component ${result.params.covarianceType} mixture ` +
      `(log-likelihood ${fmt(result.logLikelihood)}, ${result.converged ? 'converged' : 'not converged'} after ${result.nIter} iterations)\n` +
      `${draws === undefined ? 'conditional means' : `${draws} draws (column "draw")`} written to ${values.out}${values.variance === undefined ? '' : `; conditional variances to ${values.variance}`}\n`,
  );
  printWarnings(io, warnings);
  return 0;
}

function describeFit(r: FitResult<GmmParams>, columns: readonly string[], missing: MissingSummary): string {
  const lines = [
    `model      gmm, ${r.params.weights.length} components, ${r.params.covarianceType} covariance, ${r.nRows} rows × ${columns.length} columns`,
    ...(missing.nMissing === 0
      ? []
      : [`missing    ${missing.nMissing} cells in ${missing.patterns.filter((p) => p.missing.length > 0).length} patterns, fitted through as latent variables${missing.nRowsAllMissing > 0 ? `; ${missing.nRowsAllMissing} rows entirely missing (they contribute nothing)` : ''}`]),
    `method     ${r.method.name} (${r.method.family}); backend ${r.backend}; seed ${String(r.seed)}`,
    `converged  ${r.converged ? 'yes' : 'no'} (${r.convergenceReason}) after ${r.nIter} iterations; best of ${r.restarts.length} restart(s): #${r.restart}`,
    `bound      ${fmt(r.bound)} (${r.boundKind})`,
    `log-lik    ${fmt(r.logLikelihood)}`,
    '',
    `component  weight    mean (${columns.join(', ')})`,
  ];
  r.params.weights.forEach((w, k) => {
    lines.push(`${String(k).padStart(9)}  ${w.toFixed(4)}  [${(r.params.means[k] as number[]).map((v) => fmt(v, 3)).join(', ')}]`);
  });
  return `${lines.join('\n')}\n`;
}

async function runDemo(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, { dataset: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const);
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const data = loadBuiltin(values.dataset ?? 'mix5');
  const k = data.truth.weights.length;
  const seed = seedOf(values.seed);
  const backend = await initBackend();
  io.stdout(`emlab demo: Gaussian mixture (K=${k}, full covariance) on built-in "${data.name}" (${data.rows} rows × ${data.cols} features, seed ${String(seed)})\n`);
  io.stdout(`${data.description}\nEvery E-step starts from the same k-means++ initialization (same seed); backend ${backend}.\n\n`);
  const gmm = gaussianMixture({ nComponents: k, covarianceType: 'full' });
  const rows: string[][] = [['E-step', 'family', 'bound kind', 'final bound', '± s.e.', 'log-likelihood', 'iterations', 'converged', 'ms']];
  for (const estep of ['exact', 'hard', 'stochastic']) {
    const t0 = performance.now();
    const r = await fit(gmm, data, { eStep: estep, seed, maxIter: 200, onWarning: () => undefined });
    const ms = performance.now() - t0;
    const last = r.trace[r.trace.length - 1];
    rows.push([estep, r.method.family, r.boundKind, fmt(r.bound, 2), last?.boundStdErr == null ? '' : fmt(last.boundStdErr, 2), fmt(r.logLikelihood, 2), String(r.nIter), r.converged ? 'yes' : `no (${r.convergenceReason})`, ms.toFixed(0)]);
  }
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((row) => (row[c] as string).length)));
  for (const [i, row] of rows.entries()) {
    io.stdout(`${row.map((cell, c) => cell.padEnd(widths[c] as number)).join('  ')}\n`);
    if (i === 0) io.stdout(`${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  }
  io.stdout('\nThe exact E-step\'s bound is the log-likelihood; the hard E-step\'s is the classification likelihood (a lower bound);\nthe stochastic E-step\'s is a Monte Carlo estimate. All include every constant, so they are comparable.\n');
  return 0;
}

function runEsteps(io: CliIo): number {
  for (const e of listESteps()) io.stdout(`${e.kind.padEnd(8)} ${e.method.padEnd(11)} ${e.family.padEnd(12)} ${e.description}\n`);
  return 0;
}

const FLAG_OF: Readonly<Record<string, string>> = {
  nComponents: '--components',
  covarianceType: '--covariance',
  regCovar: '--reg-covar',
  maxIter: '--max-iter',
  tol: '--tol',
  nInit: '--n-init',
  seed: '--seed',
  init: '--init',
  eStep: '--estep',
  nDraws: '--draws',
};

/** Names the command-line flag instead of the library option (`options.tol` → `--tol`). */
function inFlagTerms(e: EmError): string {
  const [owner, name] = e.path;
  const flag = typeof name === 'string' ? FLAG_OF[name] : undefined;
  if (flag === undefined || typeof owner !== 'string' || !['options', 'stochasticEStep'].includes(owner)) return e.message;
  return e.message.replace(`${owner}.${name}`, flag);
}

/**
 * Runs the CLI on `argv` (without `node` and the script).
 * @returns the exit code.
 * @category CLI
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'fit':
        return await runFit(rest, io);
      case 'impute':
        return await runImpute(rest, io);
      case 'demo':
        return await runDemo(rest, io);
      case 'bench':
        return await runBench(rest, io);
      case 'compare':
        return await runCompare(rest, io);
      case 'bn':
        return await runBn(rest, io);
      case 'esteps':
        await import('@emlab/exact');
        return runEsteps(io);
      case '--version':
      case '-v': {
        const { VERSION } = await import('@emlab/core');
        io.stdout(`${VERSION}\n`);
        return 0;
      }
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout(`${USAGE}\n`);
        return 0;
      default:
        throw emError('INVALID_ARGUMENT', ['command'], command, 'is not an emlab command (commands: fit, impute, demo, esteps, bench, compare, bn)', 'see emlab --help');
    }
  } catch (e) {
    if (e instanceof EmError) {
      io.stderr(`emlab: error [${e.code}]: ${inFlagTerms(e)}\n`);
      return 2;
    }
    io.stderr(`emlab: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
