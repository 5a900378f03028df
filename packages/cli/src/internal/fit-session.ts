/**
 * What the commands that fit share: loading the registrations (built-ins and
 * `--plugin` modules) before parsing, parsing with the model's flags, and
 * running `fit` with progress, Ctrl-C, warnings and errors in flag terms.
 * @module
 */
import { fit, listModels, type AcceleratorName, type FitOptions, type FitResult, type Model, type ShardEngine } from '@emlab/core';
import { loadParams } from '@emlab/core/node';
import { optionFlag } from './catalog.js';
import { asTypedAsync } from './cli-error.js';
import { commandFlags, commandSpec } from './commands.js';
import { loadBuiltins } from './builtins.js';
import type { FitFlagOptions } from './fit-flags.js';
import type { Interrupt } from './interrupt.js';
import type { MethodChoice } from './method-flags.js';
import { modelFlags, type ModelFlags } from './model-flags.js';
import { parseFlags, type ParsedFlags } from './parse-flags.js';
import { importPlugins } from './plugins.js';
import type { Progress } from './progress.js';
import { inFlagTerms, type Vocabulary } from './rephrase.js';
import { scanFlag } from './scan.js';

/** A command's parsed arguments with its model. */
export interface CommandArgs {
  readonly parsed: ParsedFlags;
  readonly model: ModelFlags;
}

/**
 * Loads the built-in packages and `--plugin` modules, finds `--model` (default `defaultModel`), and
 * parses `args` strictly with the command's flags and the model's.
 * @param skip - model options the command sets itself (not flags).
 * @throws EmError naming the flag.
 */
export async function parseCommandArgs(command: string, args: readonly string[], defaultModel: string, skip: readonly string[] = []): Promise<CommandArgs> {
  const spec = commandSpec(command);
  if (spec === undefined) throw new Error(`unknown command ${command}`);
  await loadBuiltins();
  await importPlugins(scanFlag(args, 'plugin'));
  const base = commandFlags(spec);
  // A command for one model (bn fit, hmm fit) takes no --model (hmm decode and sample name their fitted result with --result).
  const fixed = spec.modelFlags !== undefined && spec.modelFlags !== 'any';
  const names = fixed ? [] : scanFlag(args, 'model');
  const model = modelFlags(names[0] ?? defaultModel, base.map((f) => f.name), skip);
  const elsewhere = (flag: string): string | undefined => {
    const owners = listModels().filter((m) => Object.entries(m.options).some(([key, o]) => optionFlag({ key, ...(o.flag === undefined ? {} : { flag: o.flag }) }) === flag));
    return owners.length === 0 ? undefined : `--${flag} is a flag of --model ${owners.map((m) => m.name).join(', ')}: pass that --model, or see emlab ${command} --help`;
  };
  // A repeated --model (which the scan took the first of) is an error here.
  const parsed = parseFlags(args, [...base, ...model.flags], `emlab ${command} --help`, elsewhere);
  return { parsed, model };
}

/** The vocabulary of a command for error messages. */
export function vocabulary(model: ModelFlags, file?: string, columns?: readonly string[]): Vocabulary {
  const data = model.registration.data;
  const rowOptions = data?.format === 'numeric-table' ? data.columnOptions : undefined;
  return { modelFlags: model.flagOf, ...(rowOptions === undefined ? {} : { rowOptions }), ...(file === undefined ? {} : { file }), ...(columns === undefined ? {} : { columns }) };
}

/** Runs `body`, rethrowing its errors in flag terms. */
export async function inTerms<T>(v: Vocabulary, body: () => T | Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    throw inFlagTerms(e, v);
  }
}

/**
 * Reads `--init-params FILE` for a model (a file saveParams wrote, or a saved result), validated.
 * @throws EmError naming `--init-params`.
 */
export async function readInitParams(file: string, model: Model<any, any, any, any>): Promise<unknown> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return asTypedAsync('--init-params', file, () => loadParams(file, { name: model.name, validateParams: (p) => model.validateParams(p) }));
}

/** Everything a command fits with. */
export interface FitJob {
  readonly model: Model<any, any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly data: unknown;
  readonly weights?: Float64Array | undefined;
  readonly method: MethodChoice;
  readonly options: FitFlagOptions;
  readonly initParams?: unknown;
  /** `--accelerate NAME` (around the exact E-step). */
  readonly accelerate?: AcceleratorName | undefined;
  readonly progress: Progress;
  readonly interrupt: Interrupt;
  readonly vocabulary: Vocabulary;
  /** `--workers N` / `--queue URL --shards S`: the engine each E-step is sharded over. */
  readonly workers?: ShardEngine | undefined;
}

/**
 * Runs `fit` with the command's options; warnings are collected (printed by the command after its
 * output). Returns null when Ctrl-C stopped it.
 * @throws EmError in flag terms.
 */
export async function runFitJob(job: FitJob, warnings: string[]): Promise<FitResult | null> {
  const { initParams: _file, ...o } = job.options;
  const options: FitOptions = {
    ...o,
    eStep: job.method.name,
    ...(Object.keys(job.method.options).length === 0 ? {} : { eStepOptions: job.method.options }),
    ...(job.initParams === undefined ? {} : { init: job.initParams }),
    ...(job.weights === undefined ? {} : { weights: job.weights }),
    ...(job.accelerate === undefined ? {} : { accelerate: job.accelerate }),
    ...(job.workers === undefined ? {} : { workers: job.workers }),
    signal: job.interrupt.signal,
    onProgress: job.progress.onProgress,
    onIteration: job.progress.onIteration,
    onWarning: (m) => warnings.push(m),
  };
  job.progress.restarts(job.initParams === undefined ? (o.nInit ?? 1) : 1);
  job.interrupt.detail = () => (job.progress.reached === '' ? ' before its first iteration' : ` at ${job.progress.reached}`);
  try {
    const result = await inTerms(job.vocabulary, () => fit(job.model, job.data, options));
    return job.interrupt.interrupted ? null : result;
  } catch (e) {
    if (job.interrupt.interrupted) return null;
    throw e;
  } finally {
    job.progress.clear();
    job.interrupt.detail = () => '';
  }
}
