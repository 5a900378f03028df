/**
 * The human summary of a fit, for any registered model: the model with its
 * flags, the data, the method and the precision it used, convergence, the
 * bound (with its kind) and the log-likelihood to 12 significant digits, and
 * for mixture-shaped parameters (`weights` and `means`) a table of the
 * components.
 * @module
 */
import type { FitResult } from '@emlab/core';
import type { NumericTable } from '@emlab/data';
import { missingSummary } from '@emlab/models';
import { sig } from './format.js';

/** The missing cells of a numeric table, with column names (for the summary and `--json`). */
export interface MissingInfo {
  readonly nMissing: number;
  readonly nRowsAllMissing: number;
  readonly missingPatterns: { readonly missing: string[]; readonly count: number }[];
}

/** Missing cells and patterns of a numeric table. */
export function missingInfo(table: NumericTable): MissingInfo {
  const m = missingSummary(table);
  return { nMissing: m.nMissing, nRowsAllMissing: m.nRowsAllMissing, missingPatterns: m.patterns.map((p) => ({ missing: p.missing.map((c) => table.columns[c] as string), count: p.count })) };
}

/** The model's options as flags: `--components 3 --covariance full`. */
function optionsAsFlags(options: Readonly<Record<string, unknown>>, flagOf: ReadonlyMap<string, string>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) continue; // a network object, ...
    if (Array.isArray(value) && value.length === 0) continue;
    const flag = flagOf.get(key);
    const shown = Array.isArray(value) ? value.join(',') : typeof value === 'number' ? String(value) : String(value);
    parts.push(flag === undefined ? `${key}=${shown}` : `--${flag} ${shown}`);
  }
  return parts.join(' ');
}

/** A table of mixture components when the parameters have `weights` and `means` (any mixture model). */
function componentTable(params: unknown, columns: readonly string[] | undefined): string[] {
  const p = params as { weights?: unknown; means?: unknown } | null;
  if (p === null || typeof p !== 'object' || !Array.isArray(p.weights) || !Array.isArray(p.means) || p.weights.length !== p.means.length) return [];
  if (!p.weights.every((w) => typeof w === 'number') || !p.means.every((m) => Array.isArray(m) && m.every((v) => typeof v === 'number'))) return [];
  const means = p.means as number[][];
  const lines = ['', `component  weight          mean${columns === undefined ? '' : ` (${columns.join(', ')})`}`];
  const shown = Math.min(p.weights.length, 50);
  for (let k = 0; k < shown; k++) {
    lines.push(`${String(k + 1).padStart(9)}  ${sig(p.weights[k] as number, 10).padEnd(14)}  [${(means[k] as number[]).map((v) => sig(v, 10)).join(', ')}]`);
  }
  if (shown < p.weights.length) lines.push(`      ... ${p.weights.length - shown} more components (--json or --out for all)`);
  return lines;
}

/** The summary lines of a fit. */
export function describeFit(
  r: FitResult,
  o: { readonly modelDescription: string; readonly flagOf: ReadonlyMap<string, string>; readonly data: string; readonly missing?: MissingInfo; readonly columns?: readonly string[]; readonly weighted: boolean },
): string {
  const used = r.precision.used.join(' then ');
  const conv = r.converged
    ? `yes (${r.convergence.policy} rule${r.convergence.value === null ? '' : `: ${sig(r.convergence.value, 3)}`} <= tol ${r.convergence.tol})`
    : `no (${r.convergenceReason}${r.convergenceReason === 'max-iter' ? `: ${r.convergence.policy} rule${r.convergence.value === null ? '' : ` at ${sig(r.convergence.value, 3)}`} > tol ${r.convergence.tol}` : ''})`;
  const last = r.trace[r.trace.length - 1];
  const se = last?.boundStdErr == null ? '' : ` ± ${sig(last.boundStdErr, 3)} (standard error)`;
  const lines = [
    `model      ${r.model.name}: ${o.modelDescription}`,
    `options    ${optionsAsFlags(r.model.options, o.flagOf)}`,
    `data       ${o.data}${o.weighted ? `; total weight ${sig(r.totalWeight, 12)}` : ''}`,
    ...(o.missing === undefined || o.missing.nMissing === 0
      ? []
      : [`missing    ${o.missing.nMissing} cells in ${o.missing.missingPatterns.filter((p) => p.missing.length > 0).length} patterns, fitted through as latent variables${o.missing.nRowsAllMissing > 0 ? `; ${o.missing.nRowsAllMissing} rows entirely missing (they contribute nothing)` : ''}`]),
    `method     ${r.method.name} (${r.method.family})${Object.keys(r.method.options).length === 0 ? '' : ` ${Object.entries(r.method.options).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`}; precision ${used} (requested ${r.precision.requested}); backend ${r.backend}; seed ${String(r.seed)}`,
    `converged  ${conv} after ${r.nIter} iterations; best of ${r.restarts.length} restart(s): #${r.restart + 1}`,
    `bound      ${sig(r.bound)} (${r.boundKind})${se}`,
    `log-lik    ${sig(r.logLikelihood)}`,
    ...componentTable(r.params, o.columns),
  ];
  return `${lines.join('\n')}\n`;
}
