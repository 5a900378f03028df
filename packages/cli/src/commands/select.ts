/**
 * `emlab select <data.csv> [--models …] [--components 1:9] [--criterion bic|icl] [--json]`:
 * mclust-style model selection from the command line — every covariance
 * parameterization × number of components fitted from mclust's hierarchical
 * initialization, the BIC (or ICL) table, and the best fit.
 *
 * Order of work: flags (each parsed and checked by `selectModel`'s option
 * table, errors naming the flag), the output path, the data (`--weights-column`
 * taken out, then `--columns` picked), the fits; `--out` is written last,
 * atomically.
 * @module
 */
import { initBackend, parseOptionText, parseOptions, toJson, type OptionSpec } from '@emlab/core';
import type { NumericTable } from '@emlab/data';
import { readNumericCsv } from '@emlab/data';
import { SELECT_MODEL_OPTIONS, formatSelection, selectModel, type ModelSelection, type SelectModelOptions, type SelectionRow } from '@emlab/models';
import { asTyped, badFlag } from '../internal/cli-error.js';
import { loadBuiltins } from '../internal/builtins.js';
import { commandFlags, commandSpec, type CommandSpec } from '../internal/commands.js';
import { inTerms } from '../internal/fit-session.js';
import { Interrupt } from '../internal/interrupt.js';
import type { CliIo } from '../internal/io.js';
import { takeWeightsColumn } from '../internal/model-data.js';
import { checkOutputs, commitOutputs } from '../internal/outputs.js';
import { on, parseFlags, positionalArgs, text, type ParsedFlags } from '../internal/parse-flags.js';
import { importPlugins } from '../internal/plugins.js';
import { Progress } from '../internal/progress.js';
import type { Vocabulary } from '../internal/rephrase.js';
import { scanFlag } from '../internal/scan.js';

const EXAMPLE = 'emlab select data.csv --components 1:9';

type SelectKey = keyof typeof SELECT_MODEL_OPTIONS;

/** `selectModel`'s option key → its flag (without dashes): the options command-line text can set. */
export const SELECT_OPTION_FLAGS: ReadonlyMap<string, string> = new Map(
  Object.entries(SELECT_MODEL_OPTIONS).flatMap(([key, spec]) => ('flag' in spec && spec.flag !== undefined ? [[key, spec.flag] as [string, string]] : [])),
);

/**
 * `selectModel`'s options from the parsed flags, each parsed by its schema and checked (ranges,
 * names) before any data is read.
 * @throws EmError `INVALID_ARGUMENT` naming the flag.
 */
function selectOptions(parsed: ParsedFlags): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [key, flag] of SELECT_OPTION_FLAGS) {
    const t = text(parsed, flag);
    if (t === undefined) continue;
    options[key] = asTyped(`--${flag}`, t, () => parseOptionText(SELECT_MODEL_OPTIONS[key as SelectKey] as OptionSpec, t, [`--${flag}`]));
  }
  return parseOptions(SELECT_MODEL_OPTIONS, options, { owner: 'emlab select', pathOf: (k) => [`--${SELECT_OPTION_FLAGS.get(k) ?? k}`] });
}

/**
 * The table restricted to `--columns` (names of the header, or 0-based indices), in that order.
 * @throws EmError `INVALID_ARGUMENT` naming `--columns`.
 */
function pickColumns(table: NumericTable, list: string | undefined, file: string): NumericTable {
  if (list === undefined) return table;
  const names = list.split(',').map((s) => s.trim());
  const shown = `${table.columns.slice(0, 12).join(', ')}${table.columns.length > 12 ? ', ...' : ''}`;
  const idx = names.map((name) => {
    const i = table.columns.indexOf(name);
    if (i >= 0) return i;
    if (/^\d+$/.test(name) && Number(name) < table.cols) return Number(name);
    throw badFlag('--columns', name, `is not a column of the data (columns: ${shown})`, `name columns of ${file}'s header (or 0-based indices), comma-separated`);
  });
  if (new Set(idx).size !== idx.length) throw badFlag('--columns', list, 'names a column twice', 'list every column once');
  const values = new Float64Array(table.rows * idx.length);
  let missing = 0;
  for (let r = 0; r < table.rows; r++) {
    idx.forEach((c, j) => {
      const v = table.values[r * table.cols + c] as number;
      values[r * idx.length + j] = v;
      if (Number.isNaN(v)) missing++;
    });
  }
  return { columns: idx.map((c) => table.columns[c] as string), rows: table.rows, cols: idx.length, values, missing };
}

const fmt = (v: number): string => (Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(3));

/** One line per component of the best fit: weight and mean (and degrees of freedom for t). */
function describeBest(sel: ModelSelection, columns: readonly string[]): string {
  const p = sel.best.result.params;
  const fam = p.families[0] as { means?: number[][]; dof?: number[] };
  const lines = [`component  weight    mean (${columns.join(', ')})${fam.dof === undefined ? '' : '  dof'}`];
  p.weights.forEach((w, k) => {
    const mean = (fam.means?.[k] ?? []).map(fmt);
    lines.push(`${String(k).padStart(9)}  ${w.toFixed(4)}  [${mean.join(', ')}]${fam.dof === undefined ? '' : `  ${(fam.dof[k] as number).toFixed(2)}`}`);
  });
  return `${lines.join('\n')}\n`;
}

/**
 * Runs `emlab select` (`args` after `select`).
 * @returns the exit code (130 when interrupted).
 * @example
 * ```ts
 * await runSelect(['data.csv', '--components', '1:5', '--criterion', 'icl'], io);
 * ```
 * @category CLI
 */
export async function runSelect(args: readonly string[], io: CliIo): Promise<number> {
  const spec = commandSpec('select') as CommandSpec;
  await loadBuiltins();
  await importPlugins(scanFlag(args, 'plugin'));
  const parsed = parseFlags(args, commandFlags(spec), 'emlab select --help');
  if (on(parsed, 'help')) {
    const { commandHelp } = await import('../internal/help.js');
    io.stdout(commandHelp(spec, { models: [], methods: [], convergence: { names: [], defaultTol: {} }, defaultMaxIter: 0 }));
    return 0;
  }
  const [file] = positionalArgs(parsed.positionals, ['<data.csv>'], EXAMPLE) as [string];
  const options = selectOptions(parsed);
  const out = text(parsed, 'out');
  const weightsColumn = text(parsed, 'weights-column');
  await checkOutputs([['--out', out]], [['<data.csv>', file]]);

  const progress = new Progress(io, `select ${file}`);
  const interrupt = new Interrupt(io, 'the model selection');
  try {
    let v: Vocabulary = { modelFlags: SELECT_OPTION_FLAGS };
    progress.note(`reading ${file}`);
    let table = await inTerms(v, () => readNumericCsv(file));
    let weights: Float64Array | undefined;
    if (weightsColumn !== undefined) ({ table, weights } = takeWeightsColumn(table, weightsColumn, file));
    table = pickColumns(table, text(parsed, 'columns'), file);
    v = { ...v, file, columns: table.columns };
    await initBackend();
    const started = performance.now();
    let last = Number.NEGATIVE_INFINITY;
    const onFit = (row: SelectionRow, done: number, total: number): void => {
      const now = performance.now();
      if (now - started < 1000 || now - last < (io.isTty ? 100 : 5000)) return;
      last = now;
      progress.note(`${done}/${total} fits (last ${row.model},${row.nComponents})`, true);
    };
    let sel: ModelSelection;
    try {
      sel = await inTerms(v, () =>
        selectModel(table, { ...(options as SelectModelOptions), ...(weights === undefined ? {} : { weights }), onFit, signal: interrupt.signal }),
      );
    } catch (e) {
      if (interrupt.interrupted) {
        io.stderr('emlab: interrupted: the model selection stopped; nothing was written\n');
        return 130;
      }
      throw e;
    } finally {
      progress.clear();
    }
    if (out !== undefined) {
      interrupt.set('defer');
      await commitOutputs([{ flag: '--out', path: out, content: () => `${toJson(sel.best.result)}\n` }]);
      interrupt.set('exit');
    }
    if (on(parsed, 'json')) {
      const { best, ...rest } = sel;
      io.stdout(`${toJson({ data: file, columns: table.columns, ...(weightsColumn === undefined ? {} : { weightsColumn }), ...rest, best: { model: best.model, nComponents: best.nComponents, value: best.value, result: best.result } })}\n`);
    } else {
      const missing = table.missing > 0 ? `, ${table.missing} missing cells (latent)` : '';
      const weighted = weightsColumn === undefined ? '' : `; row weights from column ${JSON.stringify(weightsColumn)}`;
      io.stdout(`data       ${file}: ${table.rows} rows × ${table.cols} columns (${table.columns.join(', ')})${missing}${weighted}\n\n`);
      io.stdout(formatSelection(sel));
      io.stdout(`\n${describeBest(sel, table.columns)}`);
      if (out !== undefined) io.stdout(`best fit written to ${out}\n`);
    }
    return 0;
  } finally {
    interrupt.dispose();
  }
}
