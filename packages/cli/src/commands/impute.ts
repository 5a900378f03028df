/**
 * `emlab impute <data.csv> --out FILE [--model gmm] [model flags]
 * [--imputations M] [--variance FILE] [flags]`: fits a model through the
 * missing cells, then writes the completed table (conditional means), or the
 * M multiple-imputation draws stacked with a leading `draw` column (1…M), and
 * optionally the conditional variances.
 *
 * Every output path and limit is checked before the fit; the outputs are
 * committed together at the end, so a failed run changes none of them.
 * @module
 */
import { EmError, type FitResult } from '@emlab/core';
import { numericCsvChunks, type NumericTable } from '@emlab/data';
import { impute as gmmImpute, type GmmParams } from '@emlab/models';
import { NO_VALUE, badFlag, problemOf } from '../internal/cli-error.js';
import { fitFlags } from '../internal/fit-flags.js';
import { inTerms, parseCommandArgs, readInitParams, runFitJob, vocabulary } from '../internal/fit-session.js';
import { sig } from '../internal/format.js';
import { Interrupt } from '../internal/interrupt.js';
import type { CliIo } from '../internal/io.js';
import { MAX_OUTPUT_CELLS, checkCells } from '../internal/limits.js';
import { methodFromFlags } from '../internal/method-flags.js';
import { readModelData } from '../internal/model-data.js';
import { modelOptions } from '../internal/model-flags.js';
import { checkOutputs, commitOutputs, type Output } from '../internal/outputs.js';
import { text } from '../internal/parse-flags.js';
import { flagNumber } from '../internal/numbers.js';
import { Progress } from '../internal/progress.js';

const EXAMPLE = 'emlab impute data.csv --components 3 --out imputed.csv';

/** What an imputing model gives: conditional means and variances, and draws. */
interface Imputed {
  readonly values: Float64Array;
  readonly variance: Float64Array;
  readonly draws: readonly Float64Array[];
  readonly nMissing: number;
}

/** Models that can impute, by registration name: the model's imputation function. */
const IMPUTERS: Readonly<Record<string, (result: FitResult, table: NumericTable, draws: number, seed: number | string) => Imputed>> = {
  gmm: (result, table, draws, seed) => gmmImpute(result as FitResult<GmmParams>, table, { draws, seed }),
};

/** Upper bound of `--imputations`. */
const MAX_IMPUTATIONS = 10_000;

/**
 * Runs `emlab impute` (`args` after `impute`).
 * @returns the exit code (130 when interrupted).
 */
export async function runImpute(args: readonly string[], io: CliIo): Promise<number> {
  const { parsed, model: mf } = await parseCommandArgs('impute', args, 'gmm');
  const registration = mf.registration;
  const imputer = IMPUTERS[registration.name];
  if (imputer === undefined) {
    throw badFlag('--model', registration.name, 'cannot impute missing cells', `use a model that imputes: ${Object.keys(IMPUTERS).join(', ')}`);
  }
  const out = text(parsed, 'out');
  if (out === undefined) throw badFlag('--out', NO_VALUE, 'is required', 'pass --out imputed.csv');
  const variance = text(parsed, 'variance');
  const imputations = flagNumber('imputations', text(parsed, 'imputations'), 'int', 1, MAX_IMPUTATIONS);
  const given = modelOptions(mf, parsed);
  let method;
  try {
    method = methodFromFlags(registration.structureKind, parsed);
  } catch (e) {
    // `impute --draws M` used to mean M imputations: say where that went.
    if (e instanceof EmError && e.path[0] === '--draws' && /sampling E-steps only/.test(e.message)) {
      throw badFlag('--draws', text(parsed, 'draws'), problemOf(e), 'for M multiple imputations pass --imputations M; --draws sets the draws per row of a sampling E-step (--estep stochastic)', e);
    }
    throw e;
  }
  const options = fitFlags(parsed);
  const [file] = parsed.positionals;
  await checkOutputs(
    [
      ['--out', out],
      ['--variance', variance],
    ],
    [
      ['<data.csv>', file],
      ['--init-params', options.initParams],
    ],
  );

  const progress = new Progress(io, `impute ${file ?? ''}`);
  const interrupt = new Interrupt(io, 'the imputation');
  try {
    let v = vocabulary(mf);
    const model = await inTerms(v, () => registration.create(given));
    const weightsColumn = text(parsed, 'weights-column');
    if (weightsColumn !== undefined && model.acceptsWeights !== true) {
      throw badFlag('--weights-column', weightsColumn, `is not supported: model ${registration.name} does not accept row weights`, 'drop --weights-column');
    }
    const loaded = await inTerms(v, () => readModelData(registration, parsed.positionals, given, { weightsColumn, progress, example: EXAMPLE }));
    const table = loaded.table as NumericTable;
    v = vocabulary(mf, file, table.columns);
    // Limits before the fit: the draws are held in memory, then written.
    if (imputations !== undefined) checkCells('--imputations', String(imputations), imputations * table.rows * (table.cols + 1), `${imputations} draws × ${table.rows} rows × ${table.cols + 1} columns`, MAX_OUTPUT_CELLS);
    const initParams = options.initParams === undefined ? undefined : await inTerms(v, () => readInitParams(options.initParams as string, model));
    const warnings: string[] = [];
    const result = await runFitJob({ model, data: table, weights: loaded.weights, method, options, initParams, progress, interrupt, vocabulary: v }, warnings);
    if (result === null) {
      io.stderr('emlab: interrupted: the fit stopped; nothing was written\n');
      return 130;
    }
    const imp = await inTerms(v, () => imputer(result, table, imputations ?? 0, options.seed));
    const outputs: Output[] = [
      imputations === undefined
        ? { flag: '--out', path: out, content: () => numericCsvChunks(table.columns, imp.values, table.cols) }
        : { flag: '--out', path: out, content: () => numericCsvChunks(['draw', ...table.columns], stackDraws(imp.draws, table), table.cols + 1) },
      ...(variance === undefined ? [] : [{ flag: '--variance', path: variance, content: () => numericCsvChunks(table.columns, imp.variance, table.cols) }]),
    ];
    interrupt.set('defer');
    await commitOutputs(outputs);
    interrupt.set('exit');
    io.stdout(
      `imputed ${imp.nMissing} missing cells of ${table.rows} rows × ${table.cols} columns with model ${registration.name} ` +
        `(log-likelihood ${sig(result.logLikelihood)}, ${result.converged ? 'converged' : `not converged: ${result.convergenceReason}`} after ${result.nIter} iterations)\n` +
        `${imputations === undefined ? 'conditional means' : `${imputations} draws (column "draw")`} written to ${out}${variance === undefined ? '' : `; conditional variances to ${variance}`}\n`,
    );
    for (const w of warnings) io.stderr(`emlab: warning: ${w}\n`);
    return 0;
  } finally {
    interrupt.dispose();
  }
}

/** The draws stacked row-wise with a leading draw number (1…M). */
function stackDraws(draws: readonly Float64Array[], table: NumericTable): Float64Array {
  const width = table.cols + 1;
  const stacked = new Float64Array(draws.length * table.rows * width);
  draws.forEach((d, t) => {
    for (let r = 0; r < table.rows; r++) {
      const base = (t * table.rows + r) * width;
      stacked[base] = t + 1;
      stacked.set(d.subarray(r * table.cols, (r + 1) * table.cols), base + 1);
    }
  });
  return stacked;
}
