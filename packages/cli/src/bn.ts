/**
 * `emlab bn`: Bayesian networks from the command line — `bn fit` (EM with hidden nodes and
 * missing cells), `bn sample` (forward sampling to CSV) and `bn query` (exact posterior of a node).
 *
 * Same conventions as the rest of the CLI: user errors are `EmError`s naming the flag (or the
 * node, row and column), printed by `main` as one line with exit code 2.
 * @module
 */
import { writeFile } from 'node:fs/promises';
import type { ParseArgsConfig } from 'node:util';
import { EmError, emError, fit, formatPath, initBackend, toJson, type ErrorPath, type FitResult, type IterationRecord } from '@emlab/core';
import { posteriorMarginals } from '@emlab/exact';
import {
  bayesianNetwork,
  bnFactorGraph,
  bnFreeParameterCount,
  networkFormat,
  networkWithParams,
  readBnCsv,
  readNetwork,
  sampleNetwork,
  writeBnCsv,
  writeNetwork,
  type BayesNet,
  type BnData,
} from '@emlab/models';
import { flagNumber, parseFlags, positionalArgs, printWarnings, progressLine, seedOf } from './args.js';
import type { CliIo } from './main.js';

/** Usage of `emlab bn` (also shown by `emlab bn --help`). @category CLI */
export const BN_USAGE = `emlab bn — discrete Bayesian networks (BIF or emlab JSON files)

Usage:
  emlab bn fit <network.bif|json> <data.csv> --out fitted.bif|json [--hidden A,B] [--pseudo-count a]
               [--seed S] [--n-init R] [--max-iter N] [--tol T] [--init random|network] [--json]
      EM for the network's CPTs from data with missing cells and hidden nodes (exact E-step).
      The CSV header names nodes; cells are state names or indices; empty, NA, NaN, nan, ? are missing;
      nodes without a column are hidden. --init random (default) draws seeded Dirichlet CPTs, --init network
      starts from the file's CPTs. --json prints the FitResult (with the CPTs by node) on stdout.
  emlab bn sample <network.bif|json> --n N [--seed S] [--missing-rate p] [--hide A,B] [--out data.csv]
      Forward (ancestral) sampling; --missing-rate masks cells completely at random; CSV on stdout without --out.
  emlab bn query <network.bif|json> --target C [--evidence A=yes,B=no] [--json]
      Exact posterior P(C | evidence), one line per state (junction tree).

Exit codes: 0 ok, 2 user error, 1 internal error.`;

// ---------------------------------------------------------------- flags

/** `A,B` → ['A', 'B'], each a node of `net` (named in the error otherwise). */
function nodeList(flag: string, text: string | undefined, net: BayesNet): string[] {
  if (text === undefined) return [];
  const names = text.split(',').map((s) => s.trim());
  const known = net.nodes.map((n) => n.name);
  for (const name of names) {
    if (!known.includes(name)) {
      throw emError('INVALID_ARGUMENT', [`--${flag}`], name, `is not a node of the network`, `name nodes of the network, comma-separated (${known.slice(0, 12).join(', ')}${known.length > 12 ? ', ...' : ''})`);
    }
  }
  if (new Set(names).size !== names.length) throw emError('INVALID_ARGUMENT', [`--${flag}`], text, 'names a node twice', 'list every node once');
  return names;
}

/** Rewrites a library error's path prefix as a flag: `options.missingRate = 1: ...` → `--missing-rate = 1: ...`. */
function asFlag(e: unknown, flags: Readonly<Record<string, string>>): unknown {
  if (!(e instanceof EmError)) return e;
  const key = formatPath(e.path.slice(0, 2));
  const one = formatPath(e.path.slice(0, 1));
  const [prefix, flag, rest] =
    flags[key] !== undefined ? [key, flags[key] as string, e.path.slice(2)] : flags[one] !== undefined ? [one, flags[one] as string, e.path.slice(1)] : [undefined, undefined, e.path];
  if (prefix === undefined || flag === undefined || !e.message.startsWith(prefix)) return e;
  const path: ErrorPath = [flag, ...rest];
  return new EmError(e.code, `${flag}${e.message.slice(prefix.length)}`, { path, value: e.value, ...(e.remedy === undefined ? {} : { remedy: e.remedy }), cause: e });
}

async function loadNetwork(path: string, warnings: string[]): Promise<BayesNet> {
  networkFormat(path); // extension check first: a clear error before reading
  return readNetwork(path, { onWarning: (m) => warnings.push(m) });
}

/** A log-likelihood in fixed notation (they are large; exponents would hide the digits that change). */
function loglik(x: number | null): string {
  return x === null ? '—' : x.toFixed(4);
}

/** A probability with 6 significant digits (the E-step runs in float32), trailing zeros dropped. */
function prob(p: number): string {
  return String(Number(p.toPrecision(6)));
}

/** A marginal rescaled to sum to 1 (float32 message passing leaves it off by ~1e-7). */
function normalized(m: readonly number[]): number[] {
  const total = m.reduce((a, b) => a + b, 0);
  return m.map((p) => p / total);
}

// ---------------------------------------------------------------- bn sample

const SAMPLE_OPTIONS = {
  n: { type: 'string' },
  seed: { type: 'string' },
  'missing-rate': { type: 'string' },
  hide: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

async function runSample(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, SAMPLE_OPTIONS, 'emlab bn --help');
  if (values.help) {
    io.stdout(`${BN_USAGE}\n`);
    return 0;
  }
  const [file] = positionalArgs(positionals, ['<network>'], 'emlab bn sample asia.bif --n 1000 --seed 1 --out data.csv') as [string];
  const n = flagNumber('n', values.n, 'int', 1);
  if (n === undefined) throw emError('INVALID_ARGUMENT', ['--n'], undefined, 'is required', 'pass the number of rows, e.g. --n 1000');
  const missingRate = flagNumber('missing-rate', values['missing-rate'], 'float', 0, 1, true);
  const seed = seedOf(values.seed);
  const warnings: string[] = [];
  const net = await loadNetwork(file, warnings);
  const hide = nodeList('hide', values.hide, net);
  let data: BnData;
  try {
    data = sampleNetwork(net, n, seed, { ...(missingRate === undefined ? {} : { missingRate }), hide });
  } catch (e) {
    throw asFlag(e, { nRows: '--n', seed: '--seed', 'options.missingRate': '--missing-rate', 'options.hide': '--hide' });
  }
  const csv = writeBnCsv(data, net);
  if (values.out === undefined) {
    io.stdout(csv);
  } else {
    try {
      await writeFile(values.out, csv);
    } catch (e) {
      throw emError('IO_ERROR', ['--out'], values.out, `could not write the file (${(e as Error).message})`, 'check the path: the directory must exist and be writable', e);
    }
    let missing = 0;
    for (const v of data.values) if (v < 0) missing++;
    const hidden = hide.length === 0 ? '' : `; hidden: ${hide.join(', ')}`;
    io.stdout(`sampled ${n} rows × ${data.columns.length} columns from ${file} (seed ${String(seed)}; ${missing} missing cells${hidden})\nwritten to ${values.out}\n`);
  }
  printWarnings(io, warnings);
  return 0;
}

// ---------------------------------------------------------------- bn query

/** `A=yes,B=0` → { A: state index, B: 0 }, every node and state checked. */
function parseEvidence(text: string | undefined, net: BayesNet): Record<string, number> {
  const evidence: Record<string, number> = {};
  if (text === undefined || text.trim() === '') return evidence;
  for (const item of text.split(',')) {
    const eq = item.indexOf('=');
    if (eq < 0) throw emError('INVALID_ARGUMENT', ['--evidence'], item.trim(), 'is not of the form NODE=STATE', 'pass e.g. --evidence smoke=yes,xray=no');
    const name = item.slice(0, eq).trim();
    const state = item.slice(eq + 1).trim();
    const node = net.nodes.find((n) => n.name === name);
    if (node === undefined) {
      const known = net.nodes.map((n) => n.name);
      throw emError('INVALID_ARGUMENT', ['--evidence'], name, 'is not a node of the network', `name nodes of the network (${known.slice(0, 12).join(', ')}${known.length > 12 ? ', ...' : ''})`);
    }
    let k = node.states.indexOf(state);
    if (k < 0 && /^\d+$/.test(state) && Number(state) < node.states.length) k = Number(state);
    if (k < 0) throw emError('INVALID_ARGUMENT', ['--evidence', name], state, `is not a state of ${name} (states: ${node.states.join(', ')})`, `pass one of ${node.states.join(', ')} (or a state index)`);
    if (name in evidence) throw emError('INVALID_ARGUMENT', ['--evidence'], name, 'is given twice', 'give every node at most once');
    evidence[name] = k;
  }
  return evidence;
}

async function runQuery(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, { evidence: { type: 'string' }, target: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const, 'emlab bn --help');
  if (values.help) {
    io.stdout(`${BN_USAGE}\n`);
    return 0;
  }
  const [file] = positionalArgs(positionals, ['<network>'], 'emlab bn query asia.bif --evidence smoke=yes --target lung') as [string];
  if (values.target === undefined) throw emError('INVALID_ARGUMENT', ['--target'], undefined, 'is required', 'name the node whose posterior to print, e.g. --target lung');
  const warnings: string[] = [];
  const net = await loadNetwork(file, warnings);
  const targets = nodeList('target', values.target, net);
  const evidence = parseEvidence(values.evidence, net);
  await initBackend();
  let q: ReturnType<typeof posteriorMarginals>;
  try {
    q = posteriorMarginals(bnFactorGraph(net), evidence);
  } catch (e) {
    if (e instanceof EmError && e.code === 'INVALID_PARAMS') {
      throw emError('INVALID_ARGUMENT', ['--evidence'], values.evidence, 'has probability 0 under the network (impossible evidence)', 'check the evidence against the zeros of the CPTs', e);
    }
    throw e;
  }
  const given = Object.entries(evidence).map(([name, k]) => `${name}=${net.nodes.find((n) => n.name === name)?.states[k] as string}`);
  if (values.json) {
    const posterior: Record<string, Record<string, number>> = {};
    for (const t of targets) {
      const node = net.nodes.find((n) => n.name === t) as BayesNet['nodes'][number];
      const m = normalized(q.marginals[t] as readonly number[]);
      posterior[t] = Object.fromEntries(node.states.map((s, k) => [s, m[k] as number]));
    }
    io.stdout(`${toJson({ network: file, evidence: Object.fromEntries(given.map((g) => g.split('=') as [string, string])), logEvidence: q.logEvidence, posterior })}\n`);
  } else {
    const cond = given.length === 0 ? '' : ` | ${given.join(', ')}`;
    for (const t of targets) {
      const node = net.nodes.find((n) => n.name === t) as BayesNet['nodes'][number];
      const m = normalized(q.marginals[t] as readonly number[]);
      node.states.forEach((s, k) => io.stdout(`P(${t}=${s}${cond}) = ${prob(m[k] as number)}\n`));
    }
  }
  printWarnings(io, warnings);
  return 0;
}

// ---------------------------------------------------------------- bn fit

const FIT_OPTIONS = {
  hidden: { type: 'string' },
  'pseudo-count': { type: 'string' },
  seed: { type: 'string' },
  'n-init': { type: 'string' },
  'max-iter': { type: 'string' },
  tol: { type: 'string' },
  init: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const FIT_FLAGS: Readonly<Record<string, string>> = {
  'options.maxIter': '--max-iter',
  'options.tol': '--tol',
  'options.nInit': '--n-init',
  'options.seed': '--seed',
  'options.pseudoCount': '--pseudo-count',
  'options.hidden': '--hidden',
  'options.init': '--init',
};

/** The log-likelihood after iterations 1, 2, 5, 10, 20, 50, ... and the last one. */
function traceSummary(trace: readonly IterationRecord[]): string {
  const picks: IterationRecord[] = [];
  for (const r of trace) {
    const t = r.iteration;
    const mantissa = t / 10 ** Math.floor(Math.log10(t));
    if (mantissa === 1 || mantissa === 2 || mantissa === 5 || r === trace[trace.length - 1]) picks.push(r);
  }
  return picks.map((r) => `${r.iteration}: ${loglik(r.logLikelihood ?? r.boundAfterE)}`).join(', ');
}

async function runFit(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, FIT_OPTIONS, 'emlab bn --help');
  if (values.help) {
    io.stdout(`${BN_USAGE}\n`);
    return 0;
  }
  const [netFile, dataFile] = positionalArgs(positionals, ['<network>', '<data.csv>'], 'emlab bn fit asia.bif data.csv --out fitted.bif') as [string, string];
  if (values.out === undefined && !values.json) throw emError('INVALID_ARGUMENT', ['--out'], undefined, 'is required (or --json to print the fit on stdout)', 'pass e.g. --out fitted.bif (or fitted.json)');
  if (values.out !== undefined) networkFormat(values.out);
  const pseudoCount = flagNumber('pseudo-count', values['pseudo-count'], 'float', 0);
  const maxIter = flagNumber('max-iter', values['max-iter'], 'int', 1);
  const tol = flagNumber('tol', values.tol, 'float', 0);
  const nInit = flagNumber('n-init', values['n-init'], 'int', 1);
  const seed = seedOf(values.seed);
  const init = values.init ?? 'random';
  if (!['random', 'network'].includes(init)) throw emError('INVALID_ARGUMENT', ['--init'], init, 'is not an initialization (random, network)', 'pass --init random (seeded Dirichlet CPTs) or --init network (start from the file\'s CPTs)');
  const warnings: string[] = [];
  const net = await loadNetwork(netFile, warnings);
  const hidden = nodeList('hidden', values.hidden, net);
  const data = await readBnCsv(dataFile, net, { hidden });
  let result: FitResult<unknown>;
  let fitted: BayesNet;
  try {
    const model = bayesianNetwork(net, { hidden, ...(pseudoCount === undefined ? {} : { pseudoCount }) });
    result = (await fit(model, data, {
      eStep: 'exact',
      init,
      seed,
      ...(maxIter === undefined ? {} : { maxIter }),
      ...(tol === undefined ? {} : { tol }),
      ...(nInit === undefined ? {} : { nInit }),
      onIteration: progressLine(io, `bn fit ${dataFile}`, 'log-likelihood', loglik),
      onWarning: (m) => warnings.push(m),
    })) as FitResult<unknown>;
    fitted = networkWithParams(net, result.params as Parameters<typeof networkWithParams>[1]);
  } catch (e) {
    throw asFlag(e, FIT_FLAGS);
  }
  if (io.isTty) io.stderr('\r\u001b[K');
  if (values.out !== undefined) await writeNetwork(values.out, fitted);
  const observed = new Set(data.columns);
  const latent = net.nodes.filter((n) => !observed.has(n.name)).map((n) => n.name);
  if (values.json) {
    const cpts = Object.fromEntries(fitted.nodes.map((n) => [n.name, { states: n.states, parents: n.parents, cpt: n.cpt }]));
    io.stdout(`${toJson({ ...result, network: netFile, data: dataFile, hidden: latent, cpts })}\n`);
  } else {
    let missing = 0;
    for (const v of data.values) if (v < 0) missing++;
    const lines = [
      `network    ${netFile}: ${net.nodes.length} nodes, ${bnFreeParameterCount(net)} free parameters; hidden: ${latent.length === 0 ? 'none' : latent.join(', ')}`,
      `data       ${dataFile}: ${data.nRows} rows × ${data.columns.length} columns, ${missing} missing cells (${((100 * missing) / Math.max(1, data.values.length)).toFixed(1)}%)`,
      `method     ${result.method.name} (${result.method.family}); backend ${result.backend}; seed ${String(result.seed)}${pseudoCount === undefined ? '' : `; pseudo-count ${pseudoCount}`}`,
      `converged  ${result.converged ? 'yes' : 'no'} (${result.convergenceReason}) after ${result.nIter} iterations; best of ${result.restarts.length} restart(s): #${result.restart + 1}`,
      `log-lik    ${loglik(result.logLikelihood)}${pseudoCount === undefined ? '' : ` (objective with log-prior ${loglik(result.bound)})`}`,
      `trace      ${traceSummary(result.trace)}`,
    ];
    if (values.out !== undefined) lines.push(`written    ${values.out}`);
    io.stdout(`${lines.join('\n')}\n`);
  }
  printWarnings(io, warnings);
  return 0;
}

// ---------------------------------------------------------------- dispatch

/**
 * Runs `emlab bn <fit|sample|query> ...` (`args` without the leading `bn`).
 * @returns the exit code; user errors are thrown as `EmError` for `main` to print.
 * @category CLI
 */
export async function runBn(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'fit':
      return await runFit(rest, io);
    case 'sample':
      return await runSample(rest, io);
    case 'query':
      return await runQuery(rest, io);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      io.stdout(`${BN_USAGE}\n`);
      return 0;
    default:
      throw emError('INVALID_ARGUMENT', ['bn'], sub, 'is not a bn command (commands: fit, sample, query)', 'see emlab bn --help');
  }
}
