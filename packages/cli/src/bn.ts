/**
 * `emlab bn`: Bayesian networks from the command line — `bn fit` (EM with
 * hidden nodes and missing cells; the model flags are the
 * `bayesian-network` registration's), `bn sample` (forward sampling to CSV)
 * and `bn query` (exact posterior of a node, float64).
 *
 * Same conventions as the rest of the CLI: user errors name the flag (or the
 * node, row and column) in one line with exit code 2; outputs and limits are
 * checked before any work and written atomically.
 * @module
 */
import { EmError, initBackend, toJson, type IterationRecord } from '@emlab/core';
import { posteriorMarginals } from '@emlab/exact';
import { bnFactorGraph, bnFreeParameterCount, networkFormat, networkWithParams, readBnCsv, readNetwork, sampleNetwork, writeBif, writeBnCsv, writeBnJson, type BayesNet, type BnData, type WeightedBnData } from '@emlab/models';
import { NO_VALUE, aboutFlag, asTyped, badFlag, flagError, problemOf } from './internal/cli-error.js';
import { commandFlags, commandSpec, type CommandSpec } from './internal/commands.js';
import { fitFlags } from './internal/fit-flags.js';
import { inTerms, parseCommandArgs, readInitParams, runFitJob, vocabulary } from './internal/fit-session.js';
import type { Vocabulary } from './internal/rephrase.js';
import { fitScaleFlags, fitWorkers, type FitWorkers } from './internal/scale-flags.js';
import { monteCarloLines } from './internal/summary.js';
import { checkApplies, methodFromFlags } from './internal/method-flags.js';
import { sig } from './internal/format.js';
import { Interrupt } from './internal/interrupt.js';
import type { CliIo } from './internal/io.js';
import { MAX_OUTPUT_CELLS, MAX_TEXT_CHARS, checkCells } from './internal/limits.js';
import { modelOptions } from './internal/model-flags.js';
import { flagNumber, requiredNumber, seedOf } from './internal/numbers.js';
import { checkOutputs, commitOutputs } from './internal/outputs.js';
import { on, parseFlags, positionalArgs, text } from './internal/parse-flags.js';
import { Progress } from './internal/progress.js';
import { loadBuiltins } from './internal/builtins.js';

// ---------------------------------------------------------------- shared

/** `A,B` → ['A', 'B'], each a node of `net` (named in the error otherwise). */
function nodeList(flag: string, names: readonly string[] | undefined, net: BayesNet): string[] {
  if (names === undefined) return [];
  const known = net.nodes.map((n) => n.name);
  for (const name of names) {
    if (!known.includes(name)) {
      throw badFlag(`--${flag}`, name, 'is not a node of the network', `name nodes of the network, comma-separated (${known.slice(0, 12).join(', ')}${known.length > 12 ? ', ...' : ''})`);
    }
  }
  if (new Set(names).size !== names.length) throw badFlag(`--${flag}`, names.join(','), 'names a node twice', 'list every node once');
  return [...names];
}

const splitNames = (t: string | undefined): string[] | undefined => (t === undefined ? undefined : t.split(',').map((s) => s.trim()));

/** A network file's format, the error naming `flag`. */
function formatOf(flag: string, path: string): 'bif' | 'json' {
  return asTyped(flag, path, () => networkFormat(path));
}

async function loadNetwork(path: string, warnings: string[]): Promise<BayesNet> {
  formatOf('<network>', path); // extension first: a clear error before reading
  return readNetwork(path, { onWarning: (m) => warnings.push(m) });
}

/** A log-likelihood with 12 significant digits. */
const loglik = (x: number | null): string => sig(x, 12);

function parseSimple(command: string, args: readonly string[]): ReturnType<typeof parseFlags> {
  return parseFlags(args, commandFlags(commandSpec(command) as CommandSpec), `emlab ${command} --help`);
}

// ---------------------------------------------------------------- bn sample

/**
 * `emlab bn sample <network> --n N [--seed S] [--missing-rate P] [--hide A,B] [--out data.csv]`.
 * @returns the exit code.
 */
export async function runBnSample(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseSimple('bn sample', args);
  const [file] = positionalArgs(parsed.positionals, ['<network>'], 'emlab bn sample asia.bif --n 1000 --seed 1 --out data.csv') as [string];
  const n = requiredNumber('n', text(parsed, 'n'), 'int', 1, undefined, '1000');
  const missingRate = flagNumber('missing-rate', text(parsed, 'missing-rate'), 'float', 0, 1, true);
  const seed = seedOf(text(parsed, 'seed'));
  const out = text(parsed, 'out');
  await checkOutputs([['--out', out]], [['<network>', file]]);
  await loadBuiltins();
  const warnings: string[] = [];
  const net = await loadNetwork(file, warnings);
  const hide = nodeList('hide', splitNames(text(parsed, 'hide')), net);
  const visible = net.nodes.filter((x) => !hide.includes(x.name));
  if (visible.length === 0) throw badFlag('--hide', text(parsed, 'hide'), 'hides every node: the sample would have no columns', 'leave at least one node visible');
  // Limits before sampling: the values (4 bytes a cell) and the CSV text are built in memory.
  const nText = text(parsed, 'n') as string;
  checkCells('--n', nText, n * net.nodes.length, `${n} rows × ${net.nodes.length} nodes`, MAX_OUTPUT_CELLS);
  const rowChars = visible.reduce((s, x) => s + Math.max(2, ...x.states.map((st) => st.length + 2)) + 1, 0);
  checkCells('--n', nText, n * rowChars, `${n} rows × up to ${rowChars} characters`, MAX_TEXT_CHARS, 'characters of CSV');
  let data: BnData;
  try {
    data = sampleNetwork(net, n, seed, { ...(missingRate === undefined ? {} : { missingRate }), hide });
  } catch (e) {
    if (!(e instanceof EmError)) throw e;
    const flag = { nRows: '--n', seed: '--seed', missingRate: '--missing-rate', hide: '--hide' }[String(e.path[e.path.length - 1])];
    throw flag === undefined ? e : flagError(e.code, [flag], e.value, problemOf(e), e.remedy ?? `see emlab bn sample --help`, e);
  }
  const csv = writeBnCsv(data, net);
  if (out === undefined) {
    io.stdout(csv);
  } else {
    await commitOutputs([{ flag: '--out', path: out, content: () => csv }]);
    let missing = 0;
    for (const v of data.values) if (v < 0) missing++;
    const hidden = hide.length === 0 ? '' : `; hidden: ${hide.join(', ')}`;
    io.stdout(`sampled ${n} rows × ${data.columns.length} columns from ${file} (seed ${String(seed)}; ${missing} missing cells${hidden})\nwritten to ${out}\n`);
  }
  for (const w of warnings) io.stderr(`emlab: warning: ${w}\n`);
  return 0;
}

// ---------------------------------------------------------------- bn query

/** `A=yes,B=0` → { A: state index, B: 0 }, every node and state checked. */
function parseEvidence(value: string | undefined, net: BayesNet): Record<string, number> {
  const evidence: Record<string, number> = {};
  if (value === undefined || value.trim() === '') return evidence;
  for (const item of value.split(',')) {
    const eq = item.indexOf('=');
    if (eq < 0) throw badFlag('--evidence', item.trim(), 'is not of the form NODE=STATE', 'pass e.g. --evidence smoke=yes,xray=no');
    const name = item.slice(0, eq).trim();
    const state = item.slice(eq + 1).trim();
    const node = net.nodes.find((x) => x.name === name);
    if (node === undefined) {
      const known = net.nodes.map((x) => x.name);
      throw badFlag('--evidence', name, 'is not a node of the network', `name nodes of the network (${known.slice(0, 12).join(', ')}${known.length > 12 ? ', ...' : ''})`);
    }
    let k = node.states.indexOf(state);
    if (k < 0 && /^\d+$/.test(state) && Number(state) < node.states.length) k = Number(state);
    if (k < 0) throw badFlag(`--evidence ${name}`, state, `is not a state of ${name} (states: ${node.states.join(', ')})`, `pass one of ${node.states.join(', ')} (or a state index)`);
    if (name in evidence) throw badFlag('--evidence', name, 'is given twice', 'give every node at most once');
    evidence[name] = k;
  }
  return evidence;
}

/**
 * `emlab bn query <network> --target A [--evidence B=s] [--json]`: probabilities in float64, printed
 * exactly (shortest round-trip decimal).
 * @returns the exit code.
 */
export async function runBnQuery(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseSimple('bn query', args);
  const [file] = positionalArgs(parsed.positionals, ['<network>'], 'emlab bn query asia.bif --evidence smoke=yes --target lung') as [string];
  const targetText = text(parsed, 'target');
  if (targetText === undefined) throw badFlag('--target', NO_VALUE, 'is required', 'name the node whose posterior to print, e.g. --target lung');
  await loadBuiltins();
  const warnings: string[] = [];
  const net = await loadNetwork(file, warnings);
  const targets = nodeList('target', splitNames(targetText), net);
  const evidence = parseEvidence(text(parsed, 'evidence'), net);
  await initBackend();
  let q: ReturnType<typeof posteriorMarginals>;
  try {
    q = posteriorMarginals(bnFactorGraph(net), evidence);
  } catch (e) {
    if (e instanceof EmError && e.code === 'INVALID_PARAMS') {
      throw badFlag('--evidence', text(parsed, 'evidence'), 'has probability 0 under the network (impossible evidence)', 'check the evidence against the zeros of the CPTs', e);
    }
    throw e;
  }
  const given = Object.entries(evidence).map(([name, k]) => [name, net.nodes.find((x) => x.name === name)?.states[k] as string] as const);
  const posterior = (t: string): [string, number][] => {
    const node = net.nodes.find((x) => x.name === t) as BayesNet['nodes'][number];
    return node.states.map((s, k) => [s, (q.marginals[t] as readonly number[])[k] as number]);
  };
  if (on(parsed, 'json')) {
    io.stdout(`${toJson({ network: file, evidence: Object.fromEntries(given), logEvidence: q.logEvidence, posterior: Object.fromEntries(targets.map((t) => [t, Object.fromEntries(posterior(t))])) })}\n`);
  } else {
    const cond = given.length === 0 ? '' : ` | ${given.map(([n, s]) => `${n}=${s}`).join(', ')}`;
    for (const t of targets) for (const [s, p] of posterior(t)) io.stdout(`P(${t}=${s}${cond}) = ${String(p)}\n`);
  }
  for (const w of warnings) io.stderr(`emlab: warning: ${w}\n`);
  return 0;
}

// ---------------------------------------------------------------- bn fit

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

/**
 * `emlab bn fit <network> <data.csv> --out FITTED [model flags] [flags]`: EM for the CPTs (exact E-step unless `--estep` names another registered method).
 * @returns the exit code (130 when interrupted).
 */
export async function runBnFit(args: readonly string[], io: CliIo): Promise<number> {
  const { parsed, model: mf } = await parseCommandArgs('bn fit', args, 'bayesian-network', ['network']);
  const [netFile, dataFile] = positionalArgs(parsed.positionals, ['<network>', '<data.csv>'], 'emlab bn fit asia.bif data.csv --out fitted.bif') as [string, string];
  const out = text(parsed, 'out');
  if (out === undefined && !on(parsed, 'json')) throw badFlag('--out', NO_VALUE, 'is required (or --json to print the fit on stdout)', 'pass e.g. --out fitted.bif (or fitted.json)');
  const outFormat = out === undefined ? undefined : formatOf('--out', out);
  const options = fitFlags(parsed);
  const scale = fitScaleFlags(parsed, undefined);
  const method = methodFromFlags(mf.registration.structureKind, parsed, mf.registration.defaultMethod);
  const init = options.init ?? 'random';
  if (options.initParams === undefined && !['random', 'network'].includes(init)) {
    throw badFlag('--init', init, 'is not an initialization (random, network)', "pass --init random (seeded Dirichlet CPTs) or --init network (start from the file's CPTs)");
  }
  const given = modelOptions(mf, parsed, { network: netFile });
  await checkOutputs([['--out', out]], [['<data.csv>', dataFile], ['--init-params', options.initParams]]);
  const warnings: string[] = [];
  const net = await loadNetwork(netFile, warnings);
  const hidden = nodeList('hidden', given['hidden'] as string[] | undefined, net);
  nodeList('frozen', given['frozen'] as string[] | undefined, net);
  const progress = new Progress(io, `bn fit ${dataFile}`, 'log-likelihood');
  const interrupt = new Interrupt(io, 'the fit');
  let engine: FitWorkers | undefined;
  try {
    const v: Vocabulary = { ...vocabulary(mf, dataFile), ...(scale.workersFlag === undefined ? {} : { workersFlag: scale.workersFlag }) };
    progress.note(`reading ${dataFile}`);
    const weightsColumn = text(parsed, 'weights-column');
    let read: WeightedBnData;
    try {
      read = await readBnCsv(dataFile, net, { hidden, ...(weightsColumn === undefined ? {} : { weightsColumn }) });
    } catch (e) {
      if (weightsColumn !== undefined && e instanceof EmError && (e.path.includes(weightsColumn) || e.value === weightsColumn)) throw aboutFlag(e, '--weights-column', weightsColumn);
      throw e;
    }
    const { weights, ...data } = read;
    const model = await inTerms(v, () => mf.registration.create({ ...given, network: net }));
    const initParams = options.initParams === undefined ? undefined : await inTerms(v, () => readInitParams(options.initParams as string, model));
    checkApplies(method, model, data, `--estep ${method.name}`, v);
    engine = await fitWorkers(scale);
    const result = await runFitJob({ model, data, weights, method, options, initParams, progress, interrupt, vocabulary: v, workers: engine.workers }, warnings);
    if (result === null) {
      io.stderr('emlab: interrupted: the fit stopped; nothing was written\n');
      return 130;
    }
    const fitted = await inTerms(v, () => networkWithParams(net, result.params as Parameters<typeof networkWithParams>[1]));
    if (out !== undefined) {
      interrupt.set('defer');
      await commitOutputs([{ flag: '--out', path: out, content: () => (outFormat === 'bif' ? writeBif(fitted) : writeBnJson(fitted)) }]);
      interrupt.set('exit');
    }
    const observed = new Set(data.columns);
    const latent = net.nodes.filter((x) => !observed.has(x.name)).map((x) => x.name);
    const pseudoCount = given['pseudoCount'] as number;
    if (on(parsed, 'json')) {
      const cpts = Object.fromEntries(fitted.nodes.map((x) => [x.name, { states: x.states, parents: x.parents, cpt: x.cpt }]));
      io.stdout(`${toJson({ ...result, network: netFile, data: dataFile, hidden: latent, cpts })}\n`);
    } else {
      let missing = 0;
      for (const x of data.values) if (x < 0) missing++;
      const lines = [
        `network    ${netFile}: ${net.nodes.length} nodes, ${bnFreeParameterCount(net)} free parameters; hidden: ${latent.length === 0 ? 'none' : latent.join(', ')}`,
        `data       ${dataFile}: ${data.nRows} rows × ${data.columns.length} columns, ${missing} missing cells (${((100 * missing) / Math.max(1, data.values.length)).toFixed(1)}%)`,
        `method     ${result.method.name} (${result.method.family}); precision ${result.precision.used.join(' then ')} (requested ${result.precision.requested}); backend ${result.backend}; seed ${String(result.seed)}${pseudoCount > 0 ? `; pseudo-count ${pseudoCount}` : ''}`,
        `converged  ${result.converged ? `yes (${result.convergence.policy} rule, tol ${result.convergence.tol})` : `no (${result.convergenceReason})`} after ${result.nIter} iterations; best of ${result.restarts.length} restart(s): #${result.restart + 1}`,
        `log-lik    ${loglik(result.logLikelihood)}${pseudoCount > 0 ? ` (objective with log-prior ${loglik(result.bound)}: a MAP fit maximizes log-likelihood + log-prior, so the bound is that sum)` : ''}`,
        `trace      ${traceSummary(result.trace)}`,
        ...monteCarloLines(result),
      ];
      if (out !== undefined) lines.push(`written    ${out}`);
      io.stdout(`${lines.join('\n')}\n`);
    }
    for (const w of warnings) io.stderr(`emlab: warning: ${w}\n`);
    return 0;
  } finally {
    interrupt.dispose();
    await engine?.close();
  }
}
