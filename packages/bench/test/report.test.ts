// The HTML report: structure, numbers, escaping and self-containment, on hand-made results.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmError } from '@emlab/core';
import { buildSections, formatNumber, meanSd, renderReport, writeReport, type ReportData } from '../src/report/index.js';
import { handMadeResults, type HandRun } from './fixtures/hand-made-results.js';

/** Every match of `re` (global) in `text`. */
function all(text: string, re: RegExp): RegExpExecArray[] {
  return [...text.matchAll(re)];
}

/** The HTML of each `<section class="report-section">`. */
function sections(html: string): string[] {
  return html.split('<section class="report-section"').slice(1).map((s) => s.slice(0, s.indexOf('</section>')));
}

function embedded(html: string): ReportData {
  const m = /<script type="application\/json" id="emlab-report-data">([\s\S]*?)<\/script>/.exec(html);
  if (m === null) throw new Error('no embedded data');
  return JSON.parse(m[1] as string) as ReportData;
}

// Two data sets × two models; on d2/m2 only the exact method ran (no gap plot there).
const RUNS: HandRun[] = [
  { dataset: 'd1', model: 'm1', method: 'exact', seed: 1, bounds: [-30, -20, -10], fitMs: 30 },
  { dataset: 'd1', model: 'm1', method: 'exact', seed: 2, bounds: [-31, -22, -14, -12], fitMs: 50 },
  { dataset: 'd1', model: 'm1', method: 'exact', seed: 3, bounds: [-33, -24, -14], fitMs: 40 },
  { dataset: 'd1', model: 'm1', method: 'hard', seed: 1, bounds: [-40, -30], gaps: [5, 4], fitMs: 20 },
  { dataset: 'd1', model: 'm1', method: 'hard', seed: 2, bounds: [-41, -31], gaps: [6, 2], fitMs: 20 },
  { dataset: 'd1', model: 'm1', method: 'hard', seed: 3, bounds: [-42, -32], gaps: [7, 3], status: 'error' },
  { dataset: 'd1', model: 'm2', method: 'exact', seed: 1, bounds: [-5, -4] },
  { dataset: 'd1', model: 'm2', method: 'hard', seed: 1, bounds: [-6, -5], gaps: [1, 1] },
  { dataset: 'd2', model: 'm1', method: 'exact', seed: 1, bounds: [-7, -6] },
  { dataset: 'd2', model: 'm1', method: 'hard', seed: 2, bounds: [-8, -7], gaps: [null, null] },
  { dataset: 'd2', model: 'm2', method: 'exact', seed: 1, bounds: [-9, -8], metrics: { adjustedRandIndex: 0.5, parameterError: 0.25 } },
  { dataset: 'd2', model: 'm2', method: 'exact', seed: 2, bounds: [-9, -8], metrics: { adjustedRandIndex: 0.7, parameterError: null } },
];

/** The report of RUNS, rendered once (rendering takes seconds). */
let cached: Promise<string> | undefined;
const rendered = (): Promise<string> => (cached ??= renderReport(handMadeResults(RUNS)));

describe('renderReport', () => {
  it('has one section per (data set, model) with runs, in suite order', async () => {
    const html = await rendered();
    const secs = all(html, /<section class="report-section" id="section-\d+" data-section="([^"]*)"/g).map((m) => m[1]);
    expect(secs).toEqual(['d1/m1', 'd1/m2', 'd2/m1', 'd2/m2']);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
  });

  it('draws per-run bound and distance plots everywhere, the paired view where a start has two methods, the gap only where an approximate E-step has one', async () => {
    const html = await rendered();
    const charts = sections(html).map((s) => all(s, /<figure class="plot" data-chart="([^"]+)"/g).map((m) => m[1]));
    expect(charts).toEqual([
      ['bound-iteration', 'distance-iteration', 'paired', 'bound-time', 'gap-iteration'],
      ['bound-iteration', 'distance-iteration', 'paired', 'bound-time', 'gap-iteration'],
      ['bound-iteration', 'distance-iteration', 'bound-time'], // the two methods ran from different starts; hard's gaps are all null
      ['bound-iteration', 'distance-iteration', 'bound-time'], // exact only
    ]);
    // Every figure holds one inline SVG with line marks; per-run figures say how many runs they draw.
    for (const fig of html.split('<figure class="plot"').slice(1)) {
      const body = fig.slice(0, fig.indexOf('</figure>'));
      expect(all(body, /<svg /g)).toHaveLength(1);
      expect(body).toMatch(/class="mark-line role-mark[^"]*"[^>]*>\s*<path /);
    }
    // d1/m1: 5 successful runs, one line each (no averaging).
    const first = sections(html)[0] as string;
    expect(first).toContain('data-chart="bound-iteration" data-runs="5"');
    const svg = /data-chart="bound-iteration"[\s\S]*?<\/svg>/.exec(first)?.[0] as string;
    expect(all(svg, /<path [^>]*d="M/g).length).toBeGreaterThanOrEqual(5);
  });

  it('tables mean ± sample sd over the successful seeds, as numbers computed by hand', async () => {
    const html = await rendered();
    const first = sections(html)[0] as string;
    const cell = (method: string, column: string): { mean: number; sd: number | null; n: number; text: string } => {
      const td = new RegExp(`<td class="num" data-method="${method}" data-column="${column}" data-mean="([^"]+)" data-n="(\\d+)"(?: data-sd="([^"]+)")?>(.*?)</td>`).exec(first);
      if (td === null) throw new Error(`no cell ${method}/${column}`);
      return { mean: Number(td[1]), n: Number(td[2]), sd: td[3] === undefined ? null : Number(td[3]), text: (td[4] as string).replace(/<[^>]+>/g, '') };
    };
    // exact final bounds -10, -12, -14: mean -12, sd 2.
    expect(cell('exact', 'bound')).toEqual({ mean: -12, sd: 2, n: 3, text: '-12 ± 2' });
    // iterations 3, 4, 3: mean 10/3, sd sqrt(1/3).
    const it = cell('exact', 'nIter');
    expect(it.mean).toBeCloseTo(10 / 3, 14);
    expect(it.sd).toBeCloseTo(Math.sqrt(1 / 3), 14);
    expect(it.text).toBe('3.33333 ± 0.577');
    // fit times 30, 50, 40 ms: mean 40, sd 10.
    expect(cell('exact', 'fitMs')).toMatchObject({ mean: 40, sd: 10, n: 3 });
    // hard: the failed seed 3 is left out: -30, -31 → mean -30.5, sd sqrt(0.5).
    const hb = cell('hard', 'bound');
    expect(hb.n).toBe(2);
    expect(hb.mean).toBe(-30.5);
    expect(hb.sd).toBeCloseTo(Math.SQRT1_2, 14);
    expect(first).toContain('<td class="num" data-method="hard" data-column="nRuns" data-value="3">3 <small>(1 failed)</small></td>');
    expect(first).toContain('<td class="num" data-method="hard" data-column="nConverged" data-value="2">2 / 2</td>');
    // Methods are columns in suite order, metrics are rows.
    expect(all(first, /<th scope="col" data-method="([^"]+)">/g).map((m) => m[1])).toEqual(['exact', 'hard']);
    expect(all(first, /<tr data-column="([^"]+)">/g).map((m) => m[1])).toEqual(['nRuns', 'nConverged', 'bound', 'nIter', 'passes', 'eStepCalls', 'fitMs']);
    // Columns with no value anywhere in the section are not shown.
    expect(first).not.toMatch(/data-column="adjustedRandIndex"/);
    // A single value has no sd; a column with some nulls averages the rest.
    const last = sections(html)[3] as string;
    expect(last).toContain('data-method="exact" data-column="parameterError" data-mean="0.25" data-n="1"><span class="mean">0.25</span></td>');
    expect(last).toMatch(/data-method="exact" data-column="adjustedRandIndex" data-mean="0.6" data-n="2" data-sd="0.14142135623730\d*">/);
  });

  it('embeds the numbers of every table and plot as JSON equal to buildSections', async () => {
    const results = handMadeResults(RUNS);
    const data = embedded(await renderReport(results));
    expect(data.format).toBe('emlab/report-data');
    expect(data.manifest).toMatchObject({ emlabVersion: '0.1.0', gitRevision: 'abc123', nodeVersion: 'v20.0.0', backend: 'cpu', seeds: [1, 2, 3], suiteName: 'hand-made' });
    expect(data.sections).toEqual(JSON.parse(JSON.stringify(buildSections(results))));
    // Every run is its own line: (x, y) per iteration, in suite method order then run order.
    const exact = data.sections[0]?.boundIteration.filter((p) => p.method === 'exact');
    expect(exact?.map((p) => [p.seed, p.x, p.y])).toEqual([
      ['1', 1, -30], ['1', 2, -20], ['1', 3, -10],
      ['2', 1, -31], ['2', 2, -22], ['2', 3, -14], ['2', 4, -12],
      ['3', 1, -33], ['3', 2, -24], ['3', 3, -14],
    ]);
    expect(data.sections[0]?.gap.map((p) => [p.method, p.seed, p.x, p.y])).toEqual([
      ['hard', '1', 1, 5], ['hard', '1', 2, 4],
      ['hard', '2', 1, 6], ['hard', '2', 2, 2],
    ]);
    // Gaps that are all null give no gap series.
    expect(data.sections[2]?.gap).toEqual([]);
  });

  it('plots bound against time per run, at the end of each iteration', () => {
    const results = handMadeResults([
      { dataset: 'd', model: 'm', method: 'exact', seed: 1, bounds: [-10, -5], elapsedMs: [10, 30] },
      { dataset: 'd', model: 'm', method: 'exact', seed: 2, bounds: [-8, -6, -4], elapsedMs: [20, 25, 40] },
    ]);
    const [section] = buildSections(results);
    expect(section?.boundTime.map((p) => [p.seed, p.x, p.y])).toEqual([
      ['1', 10, -10], ['1', 30, -5],
      ['2', 20, -8], ['2', 25, -6], ['2', 40, -4],
    ]);
    // Without timings there is no time series (and no bound-time chart).
    const untimed = buildSections({ ...results, timings: { ...results.timings, runs: {} } });
    expect(untimed[0]?.boundTime).toEqual([]);
    expect(untimed[0]?.boundIteration).toHaveLength(5);
  });

  it('measures the distance to the best bound of each start (floored for the log scale) and the paired shortfall of final bounds', () => {
    // One start (seed 1): exact reaches -10 (the best), hard ends at -12.5; a second start has exact only.
    const results = handMadeResults([
      { dataset: 'd', model: 'm', method: 'exact', seed: 1, bounds: [-30, -11, -10] },
      { dataset: 'd', model: 'm', method: 'hard', seed: 1, bounds: [-20, -12.5] },
      { dataset: 'd', model: 'm', method: 'exact', seed: 2, bounds: [-7, -6] },
    ]);
    const [s] = buildSections(results);
    const floor = 1e-10 * 10; // FLOOR_RELATIVE · max(1, |best|) over the section's starts (|-10| and |-6|)
    expect(s?.floor).toBe(floor);
    expect(s?.distance.map((p) => [p.method, p.seed, p.x, p.y])).toEqual([
      ['exact', '1', 1, 20], ['exact', '1', 2, 1], ['exact', '1', 3, floor],
      ['exact', '2', 1, 1], ['exact', '2', 2, floor],
      ['hard', '1', 1, 10], ['hard', '1', 2, 2.5],
    ]);
    expect(s?.paired.map((p) => [p.group, p.method, p.delta, p.shortfall])).toEqual([
      ['d/m/seed=1', 'exact', 0, floor],
      ['d/m/seed=1', 'hard', -2.5, 2.5],
      ['d/m/seed=2', 'exact', 0, floor],
    ]);
  });

  it('counts wins, ties and losses of final bounds per start: ties within the Monte Carlo SE of the difference or 1e-6 relative', () => {
    const results = handMadeResults([
      // start 1: exact -10, hard -10.000001 (1e-7 relative: a tie), mc -9.9 ± 0.2 (|Δ| = 0.1 < hypot(0, 0.2): a tie)
      { dataset: 'd', model: 'm', method: 'exact', seed: 1, bounds: [-11, -10] },
      { dataset: 'd', model: 'm', method: 'hard', seed: 1, bounds: [-11, -10.000001] },
      { dataset: 'd', model: 'm', method: 'stochastic', seed: 1, bounds: [-11, -9.9], stdErrs: [0.3, 0.2] },
      // start 2: exact -5, hard -6 (exact wins), mc -4 ± 0.1 (mc wins against both)
      { dataset: 'd', model: 'm', method: 'exact', seed: 2, bounds: [-5] },
      { dataset: 'd', model: 'm', method: 'hard', seed: 2, bounds: [-6] },
      { dataset: 'd', model: 'm', method: 'stochastic', seed: 2, bounds: [-4], stdErrs: [0.1] },
    ]);
    const [s] = buildSections(results);
    const wtl = Object.fromEntries((s?.winTieLoss ?? []).map((w) => [w.method, w]));
    expect(wtl['exact']?.vs).toEqual({ hard: { wins: 1, ties: 1, losses: 0 }, stochastic: { wins: 0, ties: 1, losses: 1 } });
    expect(wtl['hard']?.vs).toEqual({ exact: { wins: 0, ties: 1, losses: 1 }, stochastic: { wins: 0, ties: 1, losses: 1 } });
    expect(wtl['stochastic']?.vs).toEqual({ exact: { wins: 1, ties: 1, losses: 0 }, hard: { wins: 1, ties: 1, losses: 0 } });
    expect([wtl['exact']?.wins, wtl['exact']?.ties, wtl['exact']?.losses]).toEqual([1, 2, 1]);
    // Monte Carlo estimates do not set the best of a start that has other methods: the paired view
    // measures against exact's -5 on start 2, so the estimate sits above it (delta +1, drawn at the floor).
    expect(s?.paired.filter((p) => p.method === 'stochastic').map((p) => [p.best, p.delta, p.stdErr])).toEqual([[-10, 0.09999999999999964, 0.2], [-5, 1, 0.1]]);
    // ± 2 SE band around the estimate's line.
    expect(s?.boundIteration.filter((p) => p.method === 'stochastic').map((p) => [p.y, p.lo, p.hi])).toEqual([[-11, -11.6, -10.4], [-9.9, -10.3, -9.5], [-4, -4.2, -3.8]]);
  });

  it('shows the win/tie/loss table, the ± 2 SE bands, and the bound against E-step calls and passes and the sample size only when runs report them', async () => {
    const plain = await renderReport(handMadeResults([
      { dataset: 'd', model: 'm', method: 'exact', seed: 1, bounds: [-3, -2] },
      { dataset: 'd', model: 'm', method: 'hard', seed: 1, bounds: [-4, -3] },
    ]));
    for (const chart of ['bound-calls', 'bound-passes', 'sample-size']) expect(plain).not.toContain(`data-chart="${chart}"`);
    expect(plain).toContain('<table class="wtl" data-section="d/m">');
    expect(plain).toContain('<tr data-method="exact"><th scope="row">exact</th><td class="num" data-column="wins">1</td><td class="num" data-column="ties">0</td><td class="num" data-column="losses">0</td>');
    const rich = await renderReport(handMadeResults([
      { dataset: 'd', model: 'm', method: 'exact', seed: 1, bounds: [-3, -2, -1.5], eStepCalls: [1, 3, 5] },
      { dataset: 'd', model: 'm', method: 'stochastic', seed: 1, bounds: [-4, -3, -2.5], stdErrs: [0.5, 0.4, 0.3], sampleSizes: [10, 20, 40], passes: [0.5, 1, 1.5] },
    ]));
    const charts = all(rich, /<figure class="plot" data-chart="([^"]+)"/g).map((m) => m[1]);
    expect(charts).toEqual(['bound-iteration', 'distance-iteration', 'paired', 'bound-time', 'bound-calls', 'bound-passes', 'sample-size']);
    // The Monte Carlo run's band is drawn (an area mark) on the bound plots.
    const boundFig = /data-chart="bound-iteration"[\s\S]*?<\/figure>/.exec(rich)?.[0] as string;
    expect(boundFig).toMatch(/class="mark-area role-mark/);
    const data = embedded(rich).sections[0];
    expect(data?.boundCalls.filter((p) => p.method === 'exact').map((p) => p.x)).toEqual([1, 3, 5]);
    expect(data?.boundCalls.filter((p) => p.method === 'stochastic').map((p) => p.x)).toEqual([1, 2, 3]); // one call per iteration
    expect(data?.boundPasses.filter((p) => p.method === 'stochastic').map((p) => p.x)).toEqual([0.5, 1, 1.5]);
    expect(data?.sampleSize.map((p) => [p.x, p.y])).toEqual([[1, 10], [2, 20], [3, 40]]);
  });

  it('explains MAP bounds where a MAP model has a non-zero log prior, and lists what was skipped', async () => {
    const base = handMadeResults([
      { dataset: 'd', model: 'bn', method: 'exact', seed: 1, bounds: [-12, -11], metrics: { logPrior: -1.5, trainLogLikelihood: -9.5 } },
    ]);
    const map = { ...base, models: base.models.map((m) => ({ ...m, map: true })), skipped: [{ dataset: 'd', model: 'bn', method: 'hard', code: 'UNKNOWN_ESTEP', reason: 'no method "hard" is registered for structure kind "factor-graph"' }] };
    const html = await renderReport(map);
    expect(html).toContain('<dt>MAP bounds</dt>');
    expect(sections(html)[0]).toContain('data-note="map"');
    expect(sections(html)[0]).toContain('data-column="logPrior" data-mean="-1.5"');
    expect(sections(html)[0]).toContain('data-note="skipped">Not run here: <strong>hard</strong> (no method &quot;hard&quot; is registered for structure kind &quot;factor-graph&quot;)');
    expect(sections(await renderReport(base))[0]).not.toContain('data-note="map"');
  });

  it('shows the manifest and explains the bound kinds', async () => {
    const html = await rendered();
    const manifest = /<section id="manifest">([\s\S]*?)<\/section>/.exec(html)?.[1] as string;
    for (const [k, v] of [['emlab', '0.1.0'], ['git revision', '<code>abc123</code>'], ['Node', 'v20.0.0'], ['TensorFlow.js backend', 'cpu'], ['seeds', '1, 2, 3']]) {
      expect(manifest).toContain(`<tr><th scope="row">${k}</th><td>${v}</td></tr>`);
    }
    for (const kind of ['log-likelihood', 'lower bound', 'estimate ± SE']) expect(html).toContain(`<dt>${kind}</dt>`);
  });

  it('escapes names everywhere (headings, attributes, SVG legends, embedded JSON)', async () => {
    const evil = '<img src=x onerror="alert(1)">&\'';
    const results = handMadeResults([
      { dataset: `d${evil}`, model: `m${evil}`, method: 'exact', seed: 1, bounds: [-2, -1] },
      { dataset: `d${evil}`, model: `m${evil}`, method: `h${evil}`, seed: 1, bounds: [-3, -2], gaps: [1, 1] },
      { dataset: `d${evil}`, model: `m${evil}`, method: `h${evil}`, seed: 2, bounds: [-3, -2], gaps: [1, 2] },
    ], `suite</script>${evil}`);
    const html = await renderReport(results);
    expect(html).not.toContain('<img');
    // No onerror attribute in any tag: with quoted attribute values blanked out (names inside them, as in
    // SVG aria-labels, are text), no tag has one. (SVG axis labels escape < and & only, which is safe in text.)
    expect(html.replace(/="[^"]*"/g, '=""')).not.toMatch(/<[a-z][^<>]*\sonerror\s*=/i);
    expect(all(html, /<\/script>/g)).toHaveLength(1);
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;');
    // The JSON survives the round trip.
    const data = embedded(html);
    expect(data.manifest.suiteName).toBe(`suite</script>${evil}`);
    expect(data.sections[0]?.methods).toEqual(['exact', `h${evil}`]);
  });

  it('loads nothing: no external URL in any src, href or CSS url(), no script to run', async () => {
    const html = await rendered();
    expect(html).not.toMatch(/\b(?:src|href|xlink:href)\s*=\s*["']?\s*(?:https?:|\/\/)/i);
    expect(html).not.toMatch(/url\(\s*["']?\s*(?:https?:|\/\/)/i);
    expect(html).not.toMatch(/<link\b|<img\b|<iframe\b|@import/i);
    // The only script element is the inert JSON data block.
    expect(all(html, /<script\b[^>]*>/g).map((m) => m[0])).toEqual(['<script type="application/json" id="emlab-report-data">']);
    // http(s) appears only as SVG namespace names.
    const urls = all(html, /https?:\/\/[^\s"'<>)]+/g).map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink']));
  });

  it('renders results without runs, and notes an interrupted suite', async () => {
    const results = { ...handMadeResults(RUNS.slice(0, 2)), complete: false, nRunsPlanned: 12 };
    const html = await renderReport(results);
    expect(html).toContain('The suite was interrupted: 2 of 12 runs finished');
    const empty = await renderReport({ ...results, runs: [] });
    expect(sections(empty)).toHaveLength(0);
    expect(empty).toContain('The results hold no runs.');
  });

  it('rejects what is not a results document before any work', async () => {
    const err = await renderReport({ format: 'emlab/fit-result' } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmError);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', path: ['results', 'format'] });
    const missing = await renderReport({ ...handMadeResults(RUNS), runs: undefined } as never).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'INVALID_ARGUMENT', path: ['results', 'runs'] });
  });
});

describe('writeReport', () => {
  it('writes report.html into a new directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emlab-report-'));
    try {
      const results = handMadeResults(RUNS);
      const path = await writeReport(results, join(dir, 'out', 'nested'));
      expect(path).toBe(join(dir, 'out', 'nested', 'report.html'));
      expect(await readFile(path, 'utf8')).toBe(await renderReport(results));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('report helpers', () => {
  it('meanSd skips null and non-finite values and uses the n − 1 denominator', () => {
    expect(meanSd([])).toBeNull();
    expect(meanSd([null, Number.NaN, undefined])).toBeNull();
    expect(meanSd([4])).toEqual({ mean: 4, sd: null, n: 1 });
    expect(meanSd([1, null, 3, Number.POSITIVE_INFINITY, 5])).toEqual({ mean: 3, sd: 2, n: 3 });
  });

  it('formatNumber keeps 6 significant digits, integers in full, exponents for the very large and small', () => {
    expect(formatNumber(-1234.56789)).toBe('-1234.57');
    expect(formatNumber(123456789)).toBe('123456789');
    expect(formatNumber(0.000012345)).toBe('1.2345e-5');
    expect(formatNumber(2.5e7 + 0.5)).toBe('2.5e+7');
    expect(formatNumber(0.70710678, 3)).toBe('0.707');
    expect(formatNumber(Number.NEGATIVE_INFINITY)).toBe('−∞');
  });
});
