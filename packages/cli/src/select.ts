/**
 * `emlab select`: mclust-style model selection from the command line — every
 * covariance parameterization × number of components fitted from mclust's
 * hierarchical initialization, the BIC (or ICL) table, and the best fit.
 *
 * Same conventions as the rest of the CLI: user errors are `EmError`s naming
 * the flag (or the row and column), printed by `main` as one line with exit
 * code 2.
 * @module
 */
import type { ParseArgsConfig } from 'node:util';
import { EmError, emError, formatPath, initBackend, parseOptionText, parseOptions, toJson, type ErrorPath } from '@emlab/core';
import { saveResult } from '@emlab/core/node';
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { readNumericCsv, type NumericTable } from '@emlab/data';
import { formatSelection, SELECT_MODEL_OPTIONS, selectModel, type ModelSelection, type SelectModelOptions } from '@emlab/models';
import { parseFlags, positionalArgs } from './args.js';
import type { CliIo } from './main.js';

/** Usage of `emlab select` (also shown by `emlab select --help`). @category CLI */
export const SELECT_USAGE = `emlab select — mixture model selection by BIC or ICL (mclust's models and conventions)

Usage:
  emlab select <data.csv> [--models EII,VVV,...] [--components 1:9] [--criterion bic|icl]
               [--family gaussian|t] [--init hc|kmeans++|random] [--hc-model VVV|EII] [--hc-use svd|vars|std]
               [--columns a,b,...] [--reg-covar R] [--estep exact|hard|stochastic] [--max-iter N] [--tol T]
               [--convergence aitken|relative|...] [--n-init R] [--seed S] [--order none|mean|weight]
               [--out best.json] [--json]

  Fits every covariance parameterization (default: the 14 of mclust, or E,V for one column) for every
  number of components (default 1:9; also 2,3,5) from mclust's initialization (hierarchical clustering
  with the VVV criterion on the SVD-transformed data, computed once) and prints the criterion table.
  Sign convention (mclust's): BIC = 2 log L − p log n, higher is better; scikit-learn's bic() is −BIC.
  ICL = BIC + 2 Σ log max_k z_nk. A fit that fails or ends degenerate is NA.
  --columns picks the columns to model (default all); --out saves the best fit (loadResult reads it);
  --json prints the table, every cell and the best fit as JSON.

Exit codes: 0 ok, 2 user error, 1 internal error.`;

const SELECT_FLAGS = {
  models: { type: 'string' },
  components: { type: 'string' },
  criterion: { type: 'string' },
  family: { type: 'string' },
  init: { type: 'string' },
  'hc-model': { type: 'string' },
  'hc-use': { type: 'string' },
  'hc-max-rows': { type: 'string' },
  columns: { type: 'string' },
  'reg-covar': { type: 'string' },
  estep: { type: 'string' },
  'max-iter': { type: 'string' },
  tol: { type: 'string' },
  convergence: { type: 'string' },
  'n-init': { type: 'string' },
  seed: { type: 'string' },
  order: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** The option of `selectModel` each flag sets. */
const OPTION_OF: Readonly<Record<string, keyof typeof SELECT_MODEL_OPTIONS>> = Object.fromEntries(
  Object.entries(SELECT_MODEL_OPTIONS).flatMap(([key, spec]) => ('flag' in spec && spec.flag !== undefined ? [[spec.flag, key as keyof typeof SELECT_MODEL_OPTIONS]] : [])),
);

/** The table restricted to `--columns` (names, or 0-based indices), in that order. */
function pickColumns(table: NumericTable, text: string | undefined): NumericTable {
  if (text === undefined) return table;
  const names = text.split(',').map((s) => s.trim());
  const idx = names.map((name) => {
    const i = table.columns.indexOf(name);
    if (i >= 0) return i;
    if (/^\d+$/.test(name) && Number(name) < table.cols) return Number(name);
    throw emError('INVALID_ARGUMENT', ['--columns'], name, `is not a column of the data (columns: ${table.columns.slice(0, 12).join(', ')}${table.columns.length > 12 ? ', ...' : ''})`, 'name columns of the CSV header, comma-separated');
  });
  if (new Set(idx).size !== idx.length) throw emError('INVALID_ARGUMENT', ['--columns'], text, 'names a column twice', 'list every column once');
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

/** Rewrites `selectModel.options.tol`-style paths as the flag (`--tol`). */
function inFlagTerms(e: unknown): unknown {
  if (!(e instanceof EmError) || e.path[0] !== 'options' || typeof e.path[1] !== 'string') return e;
  const spec = SELECT_MODEL_OPTIONS[e.path[1] as keyof typeof SELECT_MODEL_OPTIONS] as { flag?: string } | undefined;
  if (spec?.flag === undefined) return e;
  const prefix = formatPath(e.path.slice(0, 2));
  if (!e.message.startsWith(prefix)) return e;
  const path: ErrorPath = [`--${spec.flag}`, ...e.path.slice(2)];
  return new EmError(e.code, `--${spec.flag}${e.message.slice(prefix.length)}`, { path, value: e.value, ...(e.remedy === undefined ? {} : { remedy: e.remedy }), cause: e });
}

/** One line per best-fit component: weight and mean. */
function describeBest(sel: ModelSelection, columns: readonly string[]): string {
  const p = sel.best.result.params;
  const fam = p.families[0] as { means?: number[][]; dof?: number[] };
  const lines = [`component  weight    mean (${columns.join(', ')})${fam.dof === undefined ? '' : '  dof'}`];
  p.weights.forEach((w, k) => {
    const mean = (fam.means?.[k] ?? []).map((v) => (Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(3)));
    lines.push(`${String(k).padStart(9)}  ${w.toFixed(4)}  [${mean.join(', ')}]${fam.dof === undefined ? '' : `  ${(fam.dof[k] as number).toFixed(2)}`}`);
  });
  return `${lines.join('\n')}\n`;
}

/**
 * Runs `emlab select <data.csv> ...` (`argv` without the leading `select`).
 * @returns the exit code; user errors are thrown as `EmError` for `main` to print.
 * @example
 * ```ts
 * await runSelect(['data.csv', '--components', '1:5', '--criterion', 'icl'], io);
 * ```
 * @category CLI
 */
export async function runSelect(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, SELECT_FLAGS, 'emlab select --help');
  if (values.help) {
    io.stdout(`${SELECT_USAGE}\n`);
    return 0;
  }
  const [file] = positionalArgs(positionals, ['<data.csv>'], 'emlab select data.csv --components 1:9') as [string];
  const options: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(OPTION_OF)) {
    const text = (values as Record<string, string | boolean | undefined>)[flag];
    if (typeof text !== 'string') continue;
    options[key] = parseOptionText(SELECT_MODEL_OPTIONS[key], text, [`--${flag}`]);
  }
  // Options are checked (with flag names) before the data is read.
  parseOptions(SELECT_MODEL_OPTIONS, options, { owner: 'emlab select', pathOf: (k) => [`--${(SELECT_MODEL_OPTIONS[k as keyof typeof SELECT_MODEL_OPTIONS] as { flag?: string }).flag ?? k}`] });
  const table = pickColumns(await readNumericCsv(file), values.columns);
  await initBackend();
  const started = performance.now();
  let last = Number.NEGATIVE_INFINITY;
  let sel: ModelSelection;
  try {
    sel = await selectModel(table, {
      ...(options as SelectModelOptions),
      onFit: (row, done, total) => {
        const now = performance.now();
        if (now - started < 1000 || now - last < (io.isTty ? 100 : 5000)) return;
        last = now;
        const line = `select ${file}: ${done}/${total} fits (last ${row.model},${row.nComponents})`;
        io.stderr(io.isTty ? `\r${line}\u001b[K` : `${line}\n`);
      },
    });
  } catch (e) {
    throw inFlagTerms(e);
  }
  if (io.isTty) io.stderr('\r\u001b[K');
  if (values.out !== undefined) await saveResult(values.out, sel.best.result);
  if (values.json) {
    const { best, ...rest } = sel;
    io.stdout(`${toJson({ data: file, columns: table.columns, ...rest, best: { model: best.model, nComponents: best.nComponents, value: best.value, result: best.result } })}\n`);
  } else {
    io.stdout(`data       ${file}: ${table.rows} rows × ${table.cols} columns (${table.columns.join(', ')})${table.missing > 0 ? `, ${table.missing} missing cells (latent)` : ''}\n\n`);
    io.stdout(formatSelection(sel));
    io.stdout(`\n${describeBest(sel, table.columns)}`);
    if (values.out !== undefined) io.stdout(`best fit written to ${values.out}\n`);
  }
  return 0;
}
