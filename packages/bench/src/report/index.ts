/**
 * The HTML report of a benchmark suite: one self-contained `report.html`
 * (inline style, plots as inline SVG rendered with Vega-Lite at generation
 * time, no script, no network), with the manifest, how to read the bound
 * kinds (and MAP bounds), and for each (data set, model): per-run lines of the
 * bound against iteration and time (± 2 SE bands for Monte Carlo estimates),
 * the distance to the best bound on a log scale, the paired view of final
 * bounds per shared start, win/tie/loss counts, the gap of approximate
 * E-steps, the bound against E-step calls and passes and the Monte Carlo
 * sample size when runs report them, and a table of final metrics (mean ± sd
 * over seeds). The numbers behind every table and plot are embedded as JSON in
 * `<script type="application/json" id="emlab-report-data">`.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EmError, emError } from '@emlab/core';
import { writeFileAtomic } from '@emlab/core/node';
import type { BenchManifest, BenchResults } from '../results.js';
import { buildSections, METRIC_COLUMNS, TIE_RELATIVE, type MeanSd, type ReportSection, type SeriesPoint } from './aggregate.js';
import { chartSpec, pairedSpec, renderSvg, type ChartKind } from './charts.js';
import { escapeHtml, formatNumber, scriptJson, STYLE } from './html.js';

export { buildSections, isApproximate, meanSd, METRIC_COLUMNS } from './aggregate.js';
export type { MeanSd, MetricColumn, PairedPoint, ReportSection, RunSeries, SeriesPoint, TableRow, WinTieLoss } from './aggregate.js';
export { chartSpec, renderSvg } from './charts.js';
export type { ChartKind } from './charts.js';
export { escapeHtml, formatNumber } from './html.js';

/** The id of the JSON data element in the report. @category Report */
export const REPORT_DATA_ELEMENT_ID = 'emlab-report-data';

/**
 * The embedded data (`JSON.parse` of the `#emlab-report-data` element).
 * @category Report
 */
export interface ReportData {
  readonly format: 'emlab/report-data';
  /** 2: per-run series, paired view, win/tie/loss. */
  readonly formatVersion: 2;
  /** The manifest without the suite itself, plus the suite's name. */
  readonly manifest: Omit<BenchManifest, 'suite'> & { readonly suiteName: string };
  readonly sections: readonly ReportSection[];
}

const CHART_CAPTIONS: Record<ChartKind, string> = {
  'bound-iteration': 'Bound after each M-step against iteration, one line per run (± 2 SE band for Monte Carlo estimates)',
  'distance-iteration': 'Distance to the best bound of the same start against iteration (log scale; at the floor = reached)',
  'bound-time': 'Bound against cumulative fit time, one line per run',
  paired: 'Paired view: per start, best final bound − each method\'s final bound (log scale; one grey line per start)',
  'gap-iteration': 'Gap (log-likelihood − bound) of approximate methods, one line per run',
  'bound-calls': 'Bound against E-step calls (methods that call the E-step more than once per iteration)',
  'bound-passes': 'Bound against passes over the data (methods that update part of the data per call)',
  'sample-size': 'Monte Carlo sample size per iteration',
};

function checkResults(results: unknown): asserts results is BenchResults {
  const r = results as Partial<BenchResults> | null;
  if (typeof r !== 'object' || r === null || r.format !== 'emlab/bench-results') {
    throw emError('INVALID_ARGUMENT', ['results', 'format'], r === null || typeof r !== 'object' ? r : r.format, 'is not an emlab/bench-results document', 'pass the object read from a results.json written by `emlab bench`');
  }
  for (const key of ['manifest', 'runs', 'methods', 'datasets', 'models'] as const) {
    if (r[key] === undefined || r[key] === null) {
      throw emError('INVALID_ARGUMENT', ['results', key], r[key], 'is missing', 'pass a complete results.json written by `emlab bench`');
    }
  }
}

function cell(stats: MeanSd | null, method: string, key: string): string {
  const at = `data-method="${escapeHtml(method)}" data-column="${key}"`;
  if (stats === null) return `<td class="missing" ${at}>—</td>`;
  const attrs = `${at} data-mean="${stats.mean}" data-n="${stats.n}"${stats.sd === null ? '' : ` data-sd="${stats.sd}"`}`;
  const sd = stats.sd === null ? '' : ` <span class="sd">± ${formatNumber(stats.sd, 3)}</span>`;
  return `<td class="num" ${attrs}><span class="mean">${formatNumber(stats.mean)}</span>${sd}</td>`;
}

/** Methods as columns, metrics as rows (a suite has few methods and many metrics). */
function tableHtml(section: ReportSection): string {
  const cols = METRIC_COLUMNS.filter((c) => section.columns.includes(c.key));
  const head = section.table
    .map((r) => `<th scope="col" data-method="${escapeHtml(r.method)}">${escapeHtml(r.method)}<br><small>${escapeHtml(r.family)} · ${escapeHtml(r.boundKind ?? '—')}</small></th>`)
    .join('');
  const runs = section.table
    .map((r) => `<td class="num" data-method="${escapeHtml(r.method)}" data-column="nRuns" data-value="${r.nRuns}">${r.nRuns}${r.nErrors > 0 ? ` <small>(${r.nErrors} failed)</small>` : ''}</td>`)
    .join('');
  const converged = section.table
    .map((r) => `<td class="num" data-method="${escapeHtml(r.method)}" data-column="nConverged" data-value="${r.nConverged}">${r.nConverged} / ${r.nRuns - r.nErrors}</td>`)
    .join('');
  const rows = cols.map(
    (c) =>
      `<tr data-column="${c.key}"><th scope="row">${escapeHtml(c.label)}${c.unit === '' ? '' : ` <small>${escapeHtml(c.unit)}</small>`}</th>` +
      section.table.map((r) => cell(r.cells[c.key] ?? null, r.method, c.key)).join('') +
      '</tr>',
  );
  return (
    `<div class="table-wrap"><table class="metrics" data-section="${escapeHtml(section.id)}"><thead><tr><th scope="col">metric</th>${head}</tr></thead><tbody>` +
    `<tr data-column="nRuns"><th scope="row">runs</th>${runs}</tr><tr data-column="nConverged"><th scope="row">converged</th>${converged}</tr>${rows.join('')}</tbody></table></div>`
  );
}

async function figure(kind: ChartKind, svg: string, extra = ''): Promise<string> {
  return `<figure class="plot" data-chart="${kind}"${extra}><figcaption>${escapeHtml(CHART_CAPTIONS[kind])}</figcaption>${svg}</figure>`;
}

/** Starts with final bounds of at least two methods (the paired view compares within a start). */
function pairedStarts(section: ReportSection): number {
  const count = new Map<string, number>();
  for (const p of section.paired) count.set(p.group, (count.get(p.group) ?? 0) + 1);
  return [...count.values()].filter((n) => n >= 2).length;
}

async function chartsHtml(section: ReportSection): Promise<string> {
  const charts: { kind: Exclude<ChartKind, 'paired'>; points: readonly SeriesPoint[] }[] = [
    { kind: 'bound-iteration', points: section.boundIteration },
    { kind: 'distance-iteration', points: section.distance },
    { kind: 'bound-time', points: section.boundTime },
    { kind: 'gap-iteration', points: section.gap },
    { kind: 'bound-calls', points: section.boundCalls },
    { kind: 'bound-passes', points: section.boundPasses },
    { kind: 'sample-size', points: section.sampleSize },
  ];
  const parts: string[] = [];
  for (const { kind, points } of charts) {
    if (points.length === 0) continue;
    const runs = new Set(points.map((p) => p.run)).size;
    parts.push(await figure(kind, await renderSvg(chartSpec(kind, points, section.methods)), ` data-runs="${runs}"`));
    if (kind === 'distance-iteration' && pairedStarts(section) > 0) {
      parts.push(await figure('paired', await renderSvg(pairedSpec(section.paired, section.methods)), ` data-points="${section.paired.length}"`));
    }
  }
  return parts.length === 0 ? '<p class="note">No successful run has a trace to plot.</p>' : `<div class="plots">${parts.join('')}</div>`;
}

/** Win/tie/loss counts of final bounds on shared starts: totals and per opponent. */
function winTieLossHtml(section: ReportSection): string {
  if (section.methods.length < 2 || section.winTieLoss.every((w) => w.wins + w.ties + w.losses === 0)) return '';
  const ms = section.winTieLoss.map((w) => w.method);
  const head = ms.map((m) => `<th scope="col">vs ${escapeHtml(m)}</th>`).join('');
  const rows = section.winTieLoss
    .map(
      (w) =>
        `<tr data-method="${escapeHtml(w.method)}"><th scope="row">${escapeHtml(w.method)}</th>` +
        `<td class="num" data-column="wins">${w.wins}</td><td class="num" data-column="ties">${w.ties}</td><td class="num" data-column="losses">${w.losses}</td>` +
        ms.map((o) => (o === w.method ? '<td class="missing">—</td>' : `<td class="num" data-vs="${escapeHtml(o)}">${w.vs[o]?.wins ?? 0}–${w.vs[o]?.ties ?? 0}–${w.vs[o]?.losses ?? 0}</td>`)).join('') +
        '</tr>',
    )
    .join('');
  return (
    `<h3>Wins, ties and losses (final bounds, same start)</h3><p class="muted">Each method against each other on every start both finished: a tie is a difference within the Monte Carlo standard error of the difference or ${TIE_RELATIVE} relative; cells read wins–ties–losses.</p>` +
    `<div class="table-wrap"><table class="wtl" data-section="${escapeHtml(section.id)}"><thead><tr><th scope="col">method</th><th scope="col">wins</th><th scope="col">ties</th><th scope="col">losses</th>${head}</tr></thead><tbody>${rows}</tbody></table></div>`
  );
}

const MAP_NOTE =
  '<p class="note" data-note="map">This model is fitted by MAP (a prior on θ, e.g. Dirichlet pseudo-counts): its M-step maximizes log p(x | θ) + log p(θ), so its bound is L(q, θ) = log p(x | θ) + log p(θ) − KL(q ‖ p(z | x, θ)). Even with an exact E-step the final bound is log-likelihood + log prior, not the log-likelihood; the table shows both (and the log prior).</p>';

function manifestHtml(results: BenchResults): string {
  const m = results.manifest;
  const ok = results.runs.filter((r) => r.status === 'ok').length;
  const rows: [string, string][] = [
    ['suite', `${escapeHtml(m.suite.name)}${m.suitePath === null ? '' : ` <small>(${escapeHtml(m.suitePath)})</small>`}`],
    ['emlab', escapeHtml(m.emlabVersion)],
    ['git revision', m.gitRevision === null ? '<span class="muted">none (not a git checkout)</span>' : `<code>${escapeHtml(m.gitRevision)}</code>`],
    ['Node', escapeHtml(m.nodeVersion)],
    ['TensorFlow.js backend', escapeHtml(m.backend)],
    ['seeds', escapeHtml(m.seeds.map(String).join(', '))],
    ['stopping', `maxIter ${m.suite.stopping.maxIter}, ${m.suite.stopping.convergence === null ? "fit's default convergence policy" : `convergence ${escapeHtml(m.suite.stopping.convergence)}`}, tol ${m.suite.stopping.tol === null ? "the policy's default" : formatNumber(m.suite.stopping.tol)}`],
    ['precision', m.suite.precision === null ? "fit's default (auto)" : escapeHtml(m.suite.precision)],
    ['limits per run', `${m.suite.limits.timeMs === null ? 'no time limit' : `${formatNumber(m.suite.limits.timeMs)} ms`}, ${m.suite.limits.memoryMb === null ? "Node's heap limit" : `${formatNumber(m.suite.limits.memoryMb)} MB heap`}, ${m.suite.limits.retries} retr${m.suite.limits.retries === 1 ? 'y' : 'ies'} after a crash`],
    ['held-out split', m.suite.heldOut === null ? 'none' : `${formatNumber(m.suite.heldOut.fraction)} of rows (seed ${escapeHtml(String(m.suite.heldOut.seed))})`],
    ['runs', `${results.runs.length} of ${results.nRunsPlanned} planned (${ok} ok, ${results.runs.length - ok} failed)`],
  ];
  if (results.timings !== undefined) {
    rows.push(['started', escapeHtml(results.timings.startedAt)]);
    rows.push(['wall-clock time', `${formatNumber(results.timings.totalMs / 1000, 4)} s on ${results.timings.workers} worker${results.timings.workers === 1 ? '' : 's'}`]);
  }
  const methods = results.methods
    .map((x) => `<tr><th scope="row">${escapeHtml(x.id)}</th><td>${escapeHtml(x.method)}</td><td>${escapeHtml(x.family)}</td><td><code>${escapeHtml(JSON.stringify(x.options))}</code></td></tr>`)
    .join('');
  const datasets = results.datasets
    .map((d) => `<tr><th scope="row">${escapeHtml(d.id)}</th><td>${escapeHtml(d.description)}</td><td>${d.nTrain}</td><td>${d.nTest}</td><td>${d.nFeatures}</td><td>${d.hasTruth ? 'yes' : 'no'}</td></tr>`)
    .join('');
  const interrupted = results.complete === false ? `<p class="note">The suite was interrupted: ${results.runs.length} of ${results.nRunsPlanned} runs finished (<code>emlab bench --resume</code> completes it).</p>` : '';
  return (
    `<section id="manifest"><h2>Manifest</h2>${interrupted}<table class="manifest"><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${k}</th><td>${v}</td></tr>`).join('')}</tbody></table>` +
    `<h3>Methods</h3><table class="methods"><thead><tr><th>id</th><th>method</th><th>family</th><th>options</th></tr></thead><tbody>${methods}</tbody></table>` +
    `<h3>Data sets</h3><table class="datasets"><thead><tr><th>id</th><th>description</th><th>train rows</th><th>held-out rows</th><th>features</th><th>truth known</th></tr></thead><tbody>${datasets}</tbody></table></section>`
  );
}

const READING = `<section id="reading"><h2>Reading the numbers</h2>
<p>Every method reports the bound L(q, θ) = E<sub>q</sub>[log p(x, z | θ)] + H(q) with every constant included, so numbers from different methods on the same data are directly comparable. What the bound is depends on the E-step's family (the table's <em>bound kind</em>):</p>
<dl>
<dt>log-likelihood</dt><dd>Exact E-step (q = p(z | x, θ)) and the gradient baseline: the bound <em>is</em> log p(x | θ); the gap is 0 up to float32 roundoff.</dd>
<dt>lower bound</dt><dd>Restricted E-steps (hard / classification EM, mean-field): L(q, θ) ≤ log p(x | θ). The gap log p(x | θ) − L = KL(q ‖ posterior) ≥ 0 is plotted when the log-likelihood is tractable. A higher bound is not always a higher likelihood: compare the log-likelihood columns.</dd>
<dt>estimate ± SE</dt><dd>Monte Carlo E-steps (stochastic EM, MCEM, SAEM): the bound is a Monte Carlo estimate with a standard error; it may move down between iterations, and its final value is a noisy estimate. Plots draw ± 2 standard errors around it.</dd>
<dt>MAP bounds</dt><dd>A model with a prior on its parameters (a Bayesian network with Dirichlet pseudo-counts) is fitted by MAP: the M-step maximizes log p(x | θ) + log p(θ), and the bound includes the log prior, L(q, θ) = log p(x | θ) + log p(θ) − KL(q ‖ posterior). Its bound therefore differs from its log-likelihood even with an exact E-step, by log p(θ) (usually negative); the table's <em>log prior</em> row shows it.</dd>
</dl>
<p>Plots show every run as its own line (colour = method; no averages across seeds, which would hide the spread and mix runs that stopped at different times). Runs of one (data set, model, seed) start from the same parameters, so the fair comparison is within a start: the <em>distance</em> plot shows, on a log scale, how far each run is below the best bound any method reached from its start (runs at the floor, 10<sup>−10</sup>·|best|, reached it), and the <em>paired view</em> shows each method's final shortfall per start, joined by a grey line per start. <em>Wins, ties and losses</em> count, for every pair of methods and every start, which final bound is higher. Tables: mean ± sample standard deviation over seeds of the successful runs (no ± with a single value); <em>time to best</em> is the time to come within 10<sup>−3</sup> (relative) of the best bound any method found from the same start; <em>parameter error</em> and <em>ARI</em> need the true parameters and labels; <em>stationarity</em> is the norm of the log-likelihood's gradient with respect to unconstrained parameters at the end (near 0 at a stationary point).</p>
</section>`;

/**
 * The report as one self-contained HTML document (no network access needed to view it).
 * @param results - a `results.json` document (as written by `emlab bench`).
 * @returns the HTML text.
 * @throws EmError `INVALID_ARGUMENT` when `results` is not an emlab/bench-results document.
 * @example
 * ```ts
 * const results = JSON.parse(await readFile('out/results.json', 'utf8'));
 * await writeFile('out/report.html', await renderReport(results));
 * ```
 * @category Report
 */
export async function renderReport(results: BenchResults): Promise<string> {
  checkResults(results);
  const sections = buildSections(results);
  const { suite, ...manifest } = results.manifest;
  const data: ReportData = { format: 'emlab/report-data', formatVersion: 2, manifest: { ...manifest, suiteName: suite.name }, sections };
  const body: string[] = [];
  for (const [i, s] of sections.entries()) {
    const desc = [s.datasetDescription, s.modelDescription].filter((x): x is string => x !== null).map(escapeHtml).join('<br>');
    body.push(
      `<section class="report-section" id="section-${i + 1}" data-section="${escapeHtml(s.id)}" data-dataset="${escapeHtml(s.dataset)}" data-model="${escapeHtml(s.model)}">` +
        `<h2>${escapeHtml(s.dataset)} × ${escapeHtml(s.model)}</h2>` +
        (desc === '' ? '' : `<p class="muted">${desc}</p>`) +
        `<p class="muted">${s.methods.length} method${s.methods.length === 1 ? '' : 's'}, seeds ${escapeHtml(s.seeds.map(String).join(', '))}</p>` +
        (s.map ? MAP_NOTE : '') +
        (s.skipped.length === 0 ? '' : `<p class="note" data-note="skipped">Not run here: ${s.skipped.map((k) => `<strong>${escapeHtml(k.method)}</strong> (${escapeHtml(k.reason)})`).join('; ')}.</p>`) +
        (await chartsHtml(s)) +
        winTieLossHtml(s) +
        `<h3>Final metrics (mean ± sd over seeds)</h3>${tableHtml(s)}</section>`,
    );
  }
  const toc = sections.map((s, i) => `<li><a href="#section-${i + 1}">${escapeHtml(s.dataset)} × ${escapeHtml(s.model)}</a></li>`).join('');
  const title = `emlab benchmark report: ${suite.name}`;
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>` +
    `<header><h1>${escapeHtml(title)}</h1>${suite.description === '' ? '' : `<p>${escapeHtml(suite.description)}</p>`}</header>` +
    (sections.length === 0 ? '<p class="note">The results hold no runs.</p>' : `<nav><ol>${toc}</ol></nav>`) +
    manifestHtml(results) +
    READING +
    body.join('\n') +
    `<script type="application/json" id="${REPORT_DATA_ELEMENT_ID}">${scriptJson(data)}</script>` +
    '</body></html>\n'
  );
}

/**
 * Writes `report.html` into `outDir` (created if missing).
 * @returns the path of the file written.
 * @throws EmError `INVALID_ARGUMENT` (see {@link renderReport}), `IO_ERROR`
 * @category Report
 */
export async function writeReport(results: BenchResults, outDir: string): Promise<string> {
  const html = await renderReport(results);
  const path = join(outDir, 'report.html');
  try {
    await mkdir(outDir, { recursive: true });
    await writeFileAtomic(path, html, ['outDir']);
  } catch (e) {
    if (e instanceof EmError) throw e;
    throw emError('IO_ERROR', ['outDir'], outDir, `cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check that the directory is writable', e);
  }
  return path;
}
