/**
 * `emlab fit <data> --model NAME [model flags] [--estep NAME] [flags]`: fits
 * any registered model with any registered method, and prints a summary, the
 * FitResult as JSON (`--json`), or saves it (`--out`).
 *
 * With `--accelerate NAME` the fit accelerates the exact E-step's EM map; with
 * `--online` it is online EM streaming the CSV (`fitOnline`); with `--se` the
 * standard errors of the estimates follow the fit (internal/fit-extras.ts).
 *
 * Order of work: flags (model flags from the registration's schema, the
 * method and its options, the fitting, acceleration, online and
 * standard-error flags), the output path, the model (so cross-option errors
 * come first), the data, `--init-params`, then the fit; the output is written
 * last, atomically.
 * @module
 */
import { open } from 'node:fs/promises';
import { EmError, fitOnline, splitCsvLine, standardErrors, toJson, type FitResult, type Model, type StandardErrorsResult } from '@emlab/core';
import { readNumericCsv } from '@emlab/data';
import { NO_VALUE, aboutFlag, badFlag, flagError, problemOf } from '../internal/cli-error.js';
import { bootstrapFitOptions, checkStandardErrorsApply, describePass, describeStandardErrors, fitExtrasFromFlags, onlineResultJson, seErrorInFlagTerms, standardErrorsJson, type FitExtras, type OnlineFlagOptions } from '../internal/fit-extras.js';
import { FIT_OPTION_FLAGS, fitFlags, type FitFlagOptions } from '../internal/fit-flags.js';
import { inTerms, parseCommandArgs, readInitParams, runFitJob, vocabulary } from '../internal/fit-session.js';
import { Interrupt } from '../internal/interrupt.js';
import type { CliIo } from '../internal/io.js';
import { checkApplies, methodFromFlags, type MethodChoice } from '../internal/method-flags.js';
import { namesColumns, readModelData, type ModelData } from '../internal/model-data.js';
import { modelOptions, type ModelFlags } from '../internal/model-flags.js';
import { checkOutputs, commitOutputs } from '../internal/outputs.js';
import { on, positionalArgs, text, type ParsedFlags } from '../internal/parse-flags.js';
import { Progress } from '../internal/progress.js';
import { checkScaleApplies, fitScaleFlags, fitWorkers, openStreamedRows, type FitScale } from '../internal/scale-flags.js';
import { inFlagTerms, type Vocabulary } from '../internal/rephrase.js';
import { sig } from '../internal/format.js';
import { componentTable, describeFit, missingInfo, optionsAsFlags } from '../internal/summary.js';

const EXAMPLE = 'emlab fit data.csv --model gmm --components 3';

/**
 * Runs `emlab fit` (`args` after `fit`).
 * @returns the exit code (130 when interrupted).
 */
export async function runFit(args: readonly string[], io: CliIo): Promise<number> {
  const { parsed, model: mf } = await parseCommandArgs('fit', args, 'gmm');
  const registration = mf.registration;
  const given = modelOptions(mf, parsed);
  const method = methodFromFlags(registration.structureKind, parsed, registration.defaultMethod);
  const options = fitFlags(parsed);
  const extras = fitExtrasFromFlags(parsed, method);
  const out = text(parsed, 'out');
  const weightsColumn = text(parsed, 'weights-column');
  const numeric = (registration.data ?? { format: 'numeric-table' }).format === 'numeric-table';
  if (extras.online !== undefined && !numeric) {
    throw badFlag('--online', NO_VALUE, `streams one numeric CSV, and --model ${registration.name} reads its own data files`, 'fit without --online, or use a model that reads a numeric CSV (emlab models)');
  }
  const scale = fitScaleFlags(parsed, numeric ? parsed.positionals[0] : undefined);
  checkScaleApplies(scale, registration, weightsColumn);
  if (extras.online !== undefined && (scale.sharding !== undefined || scale.stream)) {
    const f = scale.workersFlag ?? { flag: '--stream', value: NO_VALUE };
    throw badFlag(f.flag, f.value, 'does not go with --online (online EM streams the CSV itself, on one thread)', `drop ${f.flag}, or fit without --online`);
  }
  if (extras.accelerate !== undefined && scale.sharding !== undefined) {
    const f = scale.workersFlag as { flag: string; value: string };
    throw badFlag(f.flag, f.value, 'does not go with --accelerate (accelerated fits run on one thread)', `drop ${f.flag}, or fit without --accelerate`);
  }
  await checkOutputs([['--out', out]], [['--init-params', options.initParams], ['--held-out-file', extras.online?.heldOutFile], ...parsed.positionals.map((p) => ['<data.csv>', p] as const)]);
  if (extras.online !== undefined) return runOnline(io, { parsed, mf, given, method, options, online: extras.online, out });

  const label = `fit ${parsed.positionals.join(' ')}`;
  const progress = new Progress(io, label);
  const interrupt = new Interrupt(io, 'the fit');
  let engine: Awaited<ReturnType<typeof fitWorkers>> | undefined;
  try {
    const terms = (w: Vocabulary): Vocabulary => (scale.workersFlag === undefined ? w : { ...w, workersFlag: scale.workersFlag });
    let v = terms(vocabulary(mf));
    // Numeric-table models are built before the data is read (their options do not depend on it),
    // unless an option names a column of the data (--init-labels COLUMN).
    const early = numeric && !namesColumns(registration, given) ? await inTerms(v, () => registration.create(given)) : undefined;
    if (early !== undefined && extras.se !== undefined) checkStandardErrorsApply(early, extras.se, `--model ${registration.name}`);
    if (early !== undefined && weightsColumn !== undefined && early.acceptsWeights !== true) {
      throw badFlag('--weights-column', weightsColumn, `is not supported: model ${registration.name} does not accept row weights`, 'drop --weights-column, or repeat weighted rows in the data');
    }
    if (early !== undefined) checkShardable(scale, early);
    const loaded = scale.stream
      ? await streamedData(parsed.positionals, scale, given, progress, v)
      : await inTerms(v, () => readModelData(registration, parsed.positionals, given, { weightsColumn, progress, example: EXAMPLE }));
    const file = numeric ? parsed.positionals[0] : undefined;
    v = terms(vocabulary(mf, file, loaded.table?.columns ?? loaded.columns));
    const model = early ?? (await inTerms(v, () => registration.create(loaded.options)));
    if (loaded.weights !== undefined && model.acceptsWeights !== true) {
      throw badFlag('--weights-column', weightsColumn, `is not supported: model ${registration.name} does not accept row weights`, 'drop --weights-column, or repeat weighted rows in the data');
    }
    checkShardable(scale, model);
    checkApplies(method, model, loaded.data, `--estep ${method.name}`, v);
    if (extras.se !== undefined) checkStandardErrorsApply(model, extras.se, `--model ${registration.name}`);
    const initParams = options.initParams === undefined ? undefined : await inTerms(v, () => readInitParams(options.initParams as string, model));
    const warnings: string[] = [];
    engine = await fitWorkers(scale);
    const result = await runFitJob({ model, data: loaded.data, weights: loaded.weights, method, options, initParams, accelerate: extras.accelerate, progress, interrupt, vocabulary: v, workers: engine.workers }, warnings);
    if (result === null) {
      io.stderr('emlab: interrupted: the fit stopped; nothing was written\n');
      return 130;
    }
    const se = extras.se === undefined ? undefined : await computeStandardErrors(model, result, loaded.data, loaded.weights, { method, options, extras, progress, warnings });
    const seJson = se === undefined ? {} : { standardErrors: standardErrorsJson(se) };
    const missing = loaded.table === undefined ? undefined : missingInfo(loaded.table);
    // Streamed rows are complete (the model refuses missing cells there): the same keys as a table without any.
    const streamedInfo = loaded.columns === undefined ? {} : { columns: loaded.columns, nMissing: 0, nRowsAllMissing: 0, missingPatterns: [{ missing: [], count: result.nRows }] };
    const tableExtras = loaded.table === undefined ? streamedInfo : { columns: loaded.table.columns, ...missing, ...(weightsColumn === undefined ? {} : { weightsColumn }) };
    if (out !== undefined) {
      interrupt.set('defer');
      await commitOutputs([{ flag: '--out', path: out, content: () => `${toJson({ ...result, ...seJson })}\n` }]);
      interrupt.set('exit');
    }
    if (on(parsed, 'json')) {
      io.stdout(`${toJson({ ...result, ...tableExtras, ...seJson })}\n`);
    } else {
      io.stdout(
        describeFit(result as FitResult, {
          modelDescription: registration.description,
          flagOf: mf.flagOf,
          data: loaded.table !== undefined ? loaded.summary : `${loaded.summary}: ${result.nRows} rows${weightsColumn === undefined ? '' : `; row weights from column ${JSON.stringify(weightsColumn)}`}`,
          ...(missing === undefined ? {} : { missing }),
          ...(loaded.table === undefined ? (loaded.columns === undefined ? {} : { columns: loaded.columns }) : { columns: loaded.table.columns }),
          weighted: loaded.weights !== undefined,
        }),
      );
      if (se !== undefined) io.stdout(describeStandardErrors(se));
      if (out !== undefined) io.stdout(`result written to ${out}\n`);
    }
    for (const w of warnings) io.stderr(`emlab: warning: ${w}\n`);
    return 0;
  } finally {
    interrupt.dispose();
    await engine?.close();
  }
}

/**
 * Standard errors of a batch fit (`--se`): the bootstrap refits with the command's method and
 * stopping rule, seeded by `--seed`.
 * @throws EmError naming `--se`, `--se-method` or `--replicates`.
 */
async function computeStandardErrors(
  model: Model<any, any, any, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
  result: FitResult,
  data: unknown,
  weights: Float64Array | undefined,
  o: { readonly method: MethodChoice; readonly options: FitFlagOptions; readonly extras: FitExtras; readonly progress: Progress; readonly warnings: string[] },
): Promise<StandardErrorsResult> {
  const se = o.extras.se ?? {};
  const refitWarnings = new Set<string>();
  o.progress.note(`standard errors (${se.method ?? 'default method'})`, se.method === 'bootstrap');
  try {
    const r = await standardErrors(model, result, data, {
      ...se,
      seed: o.options.seed,
      ...(weights === undefined ? {} : { weights }),
      ...(se.method === 'bootstrap' ? { fitOptions: bootstrapFitOptions(o.method, { ...o.options, ...(o.extras.accelerate === undefined ? {} : { accelerate: o.extras.accelerate }) }, (m) => refitWarnings.add(m)), onReplicate: (done: number, total: number) => o.progress.note(`bootstrap replicate ${done}/${total}`) } : {}),
    });
    for (const w of r.warnings) o.warnings.push(`standard errors: ${w}`);
    for (const w of refitWarnings) o.warnings.push(`bootstrap refits: ${w}`);
    return r;
  } catch (e) {
    throw seErrorInFlagTerms(e);
  }
}

/** `fitOnline`'s option keys → flags, for its errors. */
const ONLINE_FLAGS_OF: Readonly<Record<string, string>> = { batchSize: '--minibatch-size', stepAlpha: '--step-alpha', stepOffset: '--step-offset', passes: '--passes', averageFrom: '--average-from', heldOut: '--held-out-file', init: '--init', seed: '--seed', eStep: '--estep', eStepOptions: '--estep-option' };

/** Errors of `fitOnline` in flag terms (its options are the online flags; data paths name the file). */
function onlineInFlagTerms(e: unknown, v: Vocabulary): unknown {
  if (e instanceof EmError && e.code !== 'INTERNAL' && e.path[0] === 'options' && typeof e.path[1] === 'string' && ONLINE_FLAGS_OF[e.path[1]] !== undefined && FIT_OPTION_FLAGS[e.path[1]] === undefined) {
    return flagError(e.code, [ONLINE_FLAGS_OF[e.path[1]] as string], e.value, problemOf(e), e.remedy ?? 'see emlab fit --help', e);
  }
  return inFlagTerms(e, v);
}

/**
 * `emlab fit <data.csv> --online ...`: `fitOnline` streaming the CSV, a line per pass on stderr, and
 * the online result (without its in-memory running state) printed or saved.
 */
async function runOnline(
  io: CliIo,
  o: { readonly parsed: ParsedFlags; readonly mf: ModelFlags; readonly given: Record<string, unknown>; readonly method: MethodChoice; readonly options: FitFlagOptions; readonly online: OnlineFlagOptions; readonly out: string | undefined },
): Promise<number> {
  const [file] = positionalArgs(o.parsed.positionals, ['<data.csv>'], 'emlab fit big.csv --components 3 --online --minibatch-size 512 --passes 2') as [string];
  const registration = o.mf.registration;
  const interrupt = new Interrupt(io, 'the online fit');
  try {
    let v = vocabulary(o.mf);
    const model = await inTerms(v, () => registration.create(o.given));
    const { heldOutFile, ...settings } = o.online;
    let heldOut: unknown;
    if (heldOutFile !== undefined) {
      try {
        heldOut = await readNumericCsv(heldOutFile);
      } catch (e) {
        throw e instanceof EmError && e.code !== 'INTERNAL' ? aboutFlag(e, '--held-out-file', heldOutFile) : e;
      }
      const columns = (heldOut as { columns: string[] }).columns;
      const trainColumns = await csvHeader(file);
      if (trainColumns !== undefined && trainColumns.join('\u0000') !== columns.join('\u0000')) {
        throw badFlag('--held-out-file', heldOutFile, `has the columns ${columns.join(', ')}, and ${file} has ${trainColumns.join(', ')}`, 'hold out rows with the same columns, in the same order');
      }
      try {
        model.validate(heldOut);
      } catch (e) {
        const r = inFlagTerms(e, vocabulary(o.mf, heldOutFile, (heldOut as { columns: string[] }).columns));
        throw r instanceof EmError && r.code !== 'INTERNAL' ? aboutFlag(r, '--held-out-file', heldOutFile) : r;
      }
    }
    const initParams = o.options.initParams === undefined ? undefined : await inTerms(v, () => readInitParams(o.options.initParams as string, model));
    v = vocabulary(o.mf, file);
    const warnings: string[] = [];
    let result;
    try {
      result = await fitOnline(model, file, {
        ...settings,
        seed: o.options.seed,
        eStep: o.method.name,
        ...(Object.keys(o.method.options).length === 0 ? {} : { eStepOptions: o.method.options }),
        ...(initParams !== undefined ? { init: initParams } : o.options.init === undefined ? {} : { init: o.options.init }),
        ...(heldOut === undefined ? {} : { heldOut }),
        signal: interrupt.signal,
        onPass: (p) => io.stderr(`${describePass(p)}\n`),
        onWarning: (m) => warnings.push(m),
      });
    } catch (e) {
      throw onlineInFlagTerms(e, v);
    }
    if (interrupt.interrupted || result.aborted) {
      io.stderr('emlab: interrupted: the online fit stopped; nothing was written\n');
      return 130;
    }
    const json = onlineResultJson(result);
    if (o.out !== undefined) {
      interrupt.set('defer');
      await commitOutputs([{ flag: '--out', path: o.out, content: () => `${toJson(json)}\n` }]);
      interrupt.set('exit');
    }
    if (on(o.parsed, 'json')) {
      io.stdout(`${toJson(json)}\n`);
    } else {
      const s = result.options;
      const lines = [
        `model      ${result.model.name}: ${registration.description}`,
        `options    ${optionsAsFlags(result.model.options, o.mf.flagOf)}`,
        `data       ${file} (streamed): ${result.rows} rows over ${result.passes} pass(es)`,
        `method     online EM with ${result.method.name} (${result.method.family}); minibatches of ${s.batchSize} rows, step sizes (n + ${s.stepOffset})^-${s.stepAlpha}; ${result.updates} updates; seed ${String(result.seed)}`,
        `params     ${result.averaged ? `Polyak-Ruppert average from update ${String(s.averageFrom)}` : 'the last iterate'}`,
        `log-lik    running ${sig(result.runningLogLikelihood, 12)} per row (estimate, last pass)${result.heldOutLogLikelihood === null ? '' : `; held-out ${sig(result.heldOutLogLikelihood, 12)} (${heldOutFile ?? ''})`}`,
        ...componentTable(result.params, await csvHeader(file)),
      ];
      if (o.out !== undefined) lines.push(`result written to ${o.out}`);
      io.stdout(`${lines.join('\n')}\n`);
    }
    for (const w of warnings) io.stderr(`emlab: warning: ${w}\n`);
    return 0;
  } finally {
    interrupt.dispose();
  }
}

/** The header row of a CSV (read up to its first line break), or undefined when it cannot be read (the fit reports why). */
async function csvHeader(file: string): Promise<string[] | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
    const buffer = Buffer.alloc(1 << 16);
    let text = '';
    for (let at = 0; text.indexOf('\n') < 0 && at < 1 << 24; ) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
      if (bytesRead === 0) break;
      text += buffer.toString('utf8', 0, bytesRead);
      at += bytesRead;
    }
    const line = text.replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '';
    return splitCsvLine(line, (problem) => new EmError('PARSE_ERROR', problem));
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

/**
 * `--workers N` / `--queue`: the model must have sharding hooks (the E-step is checked by `fit`).
 * @throws EmError `INVALID_ARGUMENT` naming the flag.
 */
function checkShardable(scale: FitScale, model: { readonly name: string; readonly shard?: unknown }): void {
  if (scale.sharding === undefined || model.shard !== undefined) return;
  const f = scale.workersFlag as { flag: string; value: string };
  throw badFlag(f.flag, f.value, `model ${model.name} cannot shard its E-steps (it has no sharding hooks)`, `drop ${f.flag}: this model fits on one thread`);
}

/** The rows of `emlab fit <file> --stream` (or a .parquet/.arrow file): a row cache read block by block. */
async function streamedData(positionals: readonly string[], scale: FitScale, options: Readonly<Record<string, unknown>>, progress: Progress, v: Vocabulary): Promise<ModelData> {
  const [file] = positionalArgs(positionals, ['<data.csv>'], 'emlab fit big.parquet --model gmm --components 16 --workers 2') as [string];
  const rows = await inTerms({ ...v, file }, () => openStreamedRows(file, scale, progress));
  return { data: rows, options, columns: rows.columns, summary: `${file}: ${rows.nRows} rows × ${rows.nColumns} columns (${rows.columns.join(', ')}), streamed from a row cache on disk` };
}
