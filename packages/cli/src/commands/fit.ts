/**
 * `emlab fit <data> --model NAME [model flags] [--estep NAME] [flags]`: fits
 * any registered model with any registered method, and prints a summary, the
 * FitResult as JSON (`--json`), or saves it (`--out`).
 *
 * Order of work: flags (model flags from the registration's schema, the
 * method and its options, the fitting flags), the output path, the model
 * (so cross-option errors come first), the data, `--init-params`, then the
 * fit; the output is written last, atomically.
 * @module
 */
import { toJson, type FitResult } from '@emlab/core';
import { badFlag } from '../internal/cli-error.js';
import { fitFlags } from '../internal/fit-flags.js';
import { inTerms, parseCommandArgs, readInitParams, runFitJob, vocabulary } from '../internal/fit-session.js';
import { Interrupt } from '../internal/interrupt.js';
import type { CliIo } from '../internal/io.js';
import { checkApplies, methodFromFlags } from '../internal/method-flags.js';
import { readModelData, type ModelData } from '../internal/model-data.js';
import { modelOptions } from '../internal/model-flags.js';
import { checkOutputs, commitOutputs } from '../internal/outputs.js';
import { on, positionalArgs, text } from '../internal/parse-flags.js';
import { Progress } from '../internal/progress.js';
import { checkScaleApplies, fitScaleFlags, fitWorkers, openStreamedRows, type FitScale } from '../internal/scale-flags.js';
import type { Vocabulary } from '../internal/rephrase.js';
import { describeFit, missingInfo } from '../internal/summary.js';

const EXAMPLE = 'emlab fit data.csv --model gmm --components 3';

/**
 * Runs `emlab fit` (`args` after `fit`).
 * @returns the exit code (130 when interrupted).
 */
export async function runFit(args: readonly string[], io: CliIo): Promise<number> {
  const { parsed, model: mf } = await parseCommandArgs('fit', args, 'gmm');
  const registration = mf.registration;
  const given = modelOptions(mf, parsed);
  const method = methodFromFlags(registration.structureKind, parsed);
  const options = fitFlags(parsed);
  const out = text(parsed, 'out');
  const weightsColumn = text(parsed, 'weights-column');
  const numeric = (registration.data ?? { format: 'numeric-table' }).format === 'numeric-table';
  const scale = fitScaleFlags(parsed, numeric ? parsed.positionals[0] : undefined);
  checkScaleApplies(scale, registration, weightsColumn);
  await checkOutputs([['--out', out]], [['--init-params', options.initParams]]);

  const label = `fit ${parsed.positionals.join(' ')}`;
  const progress = new Progress(io, label);
  const interrupt = new Interrupt(io, 'the fit');
  let engine: Awaited<ReturnType<typeof fitWorkers>> | undefined;
  try {
    const terms = (w: Vocabulary): Vocabulary => (scale.workersFlag === undefined ? w : { ...w, workersFlag: scale.workersFlag });
    let v = terms(vocabulary(mf));
    // Numeric-table models are built before the data is read: their options do not depend on it.
    const early = numeric ? await inTerms(v, () => registration.create(given)) : undefined;
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
    const initParams = options.initParams === undefined ? undefined : await inTerms(v, () => readInitParams(options.initParams as string, model));
    const warnings: string[] = [];
    engine = await fitWorkers(scale);
    const result = await runFitJob({ model, data: loaded.data, weights: loaded.weights, method, options, initParams, progress, interrupt, vocabulary: v, workers: engine.workers }, warnings);
    if (result === null) {
      io.stderr('emlab: interrupted: the fit stopped; nothing was written\n');
      return 130;
    }
    const missing = loaded.table === undefined ? undefined : missingInfo(loaded.table);
    // Streamed rows are complete (the model refuses missing cells there): the same keys as a table without any.
    const streamedInfo = loaded.columns === undefined ? {} : { columns: loaded.columns, nMissing: 0, nRowsAllMissing: 0, missingPatterns: [{ missing: [], count: result.nRows }] };
    const extras = loaded.table === undefined ? streamedInfo : { columns: loaded.table.columns, ...missing, ...(weightsColumn === undefined ? {} : { weightsColumn }) };
    if (out !== undefined) {
      interrupt.set('defer');
      await commitOutputs([{ flag: '--out', path: out, content: () => `${toJson(result)}\n` }]);
      interrupt.set('exit');
    }
    if (on(parsed, 'json')) {
      io.stdout(`${toJson({ ...result, ...extras })}\n`);
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
