// The report in a real browser: Debian's chromium driven by playwright-core. The report is made from
// real runner output (a tiny suite), opened from a file:// URL, and checked for console errors,
// network requests, rendered marks in every plot, and table numbers against results.json.
// Chromium: .ci/run installs Debian's chromium and sets EMLAB_REQUIRE_CHROMIUM=1, so in CI a missing
// browser fails the test. Elsewhere (a plain `npm test` on a machine without it) the test is skipped
// with a message on stderr saying why and how to run it.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../src/report/index.js';
import type { BenchResults, RunRecord, RunTimings } from '../src/results.js';
import { runSuite } from '../src/runner.js';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM) || process.env['EMLAB_REQUIRE_CHROMIUM'] === '1';
if (!HAS_CHROMIUM) {
  process.stderr.write(`emlab tests: SKIPPING the report's browser test: ${CHROMIUM} is missing. Install it with \`apt-get install -y chromium\` (bash .ci/run does) to run it.\n`);
}
const OUT = fileURLToPath(new URL('../../../test-output/', import.meta.url));
const REPORT_DIR = join(OUT, 'report');

const SUITE = {
  format: 'emlab/suite',
  name: 'report browser test',
  description: 'Two generated mixtures and a MAP network, three E-steps and the gradient baseline, two seeds.',
  datasets: [
    { id: 'separated', kind: 'gaussian-mixture', options: { nSamples: 240, nComponents: 3, nFeatures: 2, seed: 7 } },
    { id: 'overlapping', kind: 'gaussian-mixture', options: { nSamples: 300, nComponents: 4, nFeatures: 2, seed: 3, separation: 1.5 } },
    { id: 'asia', kind: 'bayesian-network', options: { network: 'asia', nSamples: 400, seed: 1 }, missing: { rate: 0.1 } },
  ],
  models: [{ id: 'gmm', type: 'gmm', options: {} }, { id: 'bn', type: 'bn', options: { pseudoCount: 1 } }],
  esteps: ['exact', 'hard', { method: 'stochastic', options: { nDraws: 4 } }, 'gradient'],
  seeds: [1, 2],
  stopping: { maxIter: 40, tol: 1e-7 },
  heldOut: { fraction: 0.2, seed: 0 },
};

/** How the test reads each table column from results.json (independently of the report's code). */
const COLUMN_VALUE: Record<string, (r: RunRecord, t: RunTimings | undefined) => number | null> = {
  bound: (r) => r.metrics.bound,
  trainLogLikelihood: (r) => r.metrics.trainLogLikelihood,
  trainLogLikelihoodPerRow: (r) => r.metrics.trainLogLikelihoodPerRow,
  logPrior: (r) => r.metrics.logPrior,
  heldOutLogLikelihood: (r) => r.metrics.heldOutLogLikelihood,
  heldOutLogLikelihoodPerRow: (r) => r.metrics.heldOutLogLikelihoodPerRow,
  nIter: (r) => r.metrics.nIter,
  passes: (r) => r.metrics.passes,
  eStepCalls: (r) => r.metrics.eStepCalls,
  fitMs: (_r, t) => t?.fitMs ?? null,
  iterationsToBest: (r) => r.metrics.iterationsToBest,
  timeToBestMs: (_r, t) => t?.timeToBestMs ?? null,
  parameterError: (r) => r.metrics.parameterError,
  adjustedRandIndex: (r) => r.metrics.adjustedRandIndex,
  stationarity: (r) => r.metrics.stationarity,
};

interface CellRead {
  method: string;
  column: string;
  text: string;
  mean: string | null;
  sd: string | null;
  n: string | null;
}
interface TableRead {
  section: string;
  methods: string[];
  rows: string[];
  cells: CellRead[];
}

function expected(results: BenchResults, section: string, method: string, column: string): { mean: number; sd: number | null; n: number } | null {
  const xs = results.runs
    .filter((r) => `${r.dataset}/${r.model}` === section && r.method === method && r.status === 'ok')
    .map((r) => (COLUMN_VALUE[column] as (typeof COLUMN_VALUE)[string])(r, results.timings.runs[r.id]))
    .filter((x): x is number => x !== null && Number.isFinite(x));
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length < 2 ? null : Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { mean, sd, n: xs.length };
}

/** `a` equals `b` to `rel` relative precision (absolute near 0). */
function close(a: number, b: number, rel: number): boolean {
  return Math.abs(a - b) <= rel * Math.max(Math.abs(b), 1e-300) || Math.abs(a - b) < 1e-12;
}

describe.runIf(HAS_CHROMIUM)('report.html in chromium', () => {
  let results: BenchResults;
  let reportPath: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    results = await runSuite(SUITE, { workers: 1 });
    await mkdir(REPORT_DIR, { recursive: true });
    await writeFile(join(REPORT_DIR, 'results.json'), JSON.stringify(results, null, 2));
    reportPath = await writeReport(results, REPORT_DIR);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('loads with no console errors or network requests, renders every plot, and its tables match results.json', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does this`).toBe(true);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    const url = pathToFileURL(reportPath).href;
    const response = await page.goto(url, { waitUntil: 'load' });
    expect(response?.ok() ?? true).toBe(true);
    expect(await page.title()).toBe(`emlab benchmark report: ${results.manifest.suite.name}`);

    // Nothing but the file itself was requested.
    expect(requests).toEqual([url]);

    // One section per (data set, model) with runs: the mixtures with every view, the network (exact only) with the per-run views and the MAP note.
    const sectionIds = [...new Set(results.runs.map((r) => `${r.dataset}/${r.model}`))];
    expect(sectionIds).toEqual(['separated/gmm', 'overlapping/gmm', 'asia/bn']);
    const family = (m: string): string => results.methods.find((x) => x.id === m)?.family ?? '';
    const read = await page.$$eval('section.report-section', (els) =>
      els.map((e) => ({
        id: e.getAttribute('data-section'),
        notes: [...e.querySelectorAll('p.note[data-note]')].map((n) => n.getAttribute('data-note')),
        wtl: [...e.querySelectorAll('table.wtl tbody tr')].map((tr) => [tr.getAttribute('data-method'), ...[...tr.querySelectorAll('td[data-column]')].map((td) => Number(td.textContent))]),
        charts: [...e.querySelectorAll('figure.plot')].map((f) => {
          const svg = f.querySelector('svg') as NonNullable<ReturnType<typeof f.querySelector>>;
          const box = svg.getBoundingClientRect();
          const drawn = (sel: string): number => [...svg.querySelectorAll(sel)].filter((p) => (p.getAttribute('d') ?? '').length > 10 && (p as unknown as { getTotalLength(): number }).getTotalLength() > 0).length;
          return {
            kind: f.getAttribute('data-chart'),
            runs: Number(f.getAttribute('data-runs') ?? Number.NaN),
            points: Number(f.getAttribute('data-points') ?? Number.NaN),
            width: box.width,
            height: box.height,
            lines: drawn('g.mark-line.role-mark path'),
            areas: drawn('g.mark-area.role-mark path'),
            symbols: svg.querySelectorAll('g.mark-symbol.role-mark path').length,
            legend: [...svg.querySelectorAll('.role-legend-label text')].map((t) => t.textContent),
          };
        }),
      })),
    );
    expect(read.map((x) => x.id)).toEqual(sectionIds);
    for (const sec of read) {
      const ok = results.runs.filter((r) => `${r.dataset}/${r.model}` === sec.id && r.status === 'ok');
      const methods = [...new Set(ok.map((r) => r.method))];
      const mc = ok.filter((r) => family(r.method) === 'monte-carlo');
      const approximate = ok.filter((r) => family(r.method) === 'restricted' || family(r.method) === 'monte-carlo');
      const expectedKinds = methods.length > 1 ? ['bound-iteration', 'distance-iteration', 'paired', 'bound-time', 'gap-iteration', 'sample-size'] : ['bound-iteration', 'distance-iteration', 'bound-time'];
      expect(sec.charts.map((c) => c.kind), sec.id ?? '').toEqual(expectedKinds);
      for (const c of sec.charts) {
        const where = `${sec.id} ${c.kind}`;
        expect(c.width, where).toBeGreaterThan(200);
        expect(c.height, where).toBeGreaterThan(150);
        if (c.kind === 'paired') {
          // A point per run, a grey line per start joining its methods.
          expect(c.points, where).toBe(ok.length);
          expect(c.symbols, where).toBe(ok.length);
          expect(c.lines, where).toBe(new Set(ok.map((r) => r.group)).size);
          expect(c.legend, where).toEqual(methods);
          continue;
        }
        // Per-run charts: one line per run drawn, no averaging.
        const drawnRuns = c.kind === 'gap-iteration' ? approximate : c.kind === 'sample-size' ? mc : ok;
        expect(c.runs, where).toBe(drawnRuns.length);
        expect(c.lines, where).toBe(drawnRuns.length);
        expect(c.legend, where).toEqual([...new Set(drawnRuns.map((r) => r.method))]);
        // ± 2 SE bands: one area per Monte Carlo run on the bound plots.
        if (c.kind === 'bound-iteration' || c.kind === 'bound-time') expect(c.areas, where).toBe(mc.length);
      }
      // Wins, ties and losses: a row per method; each pair of methods is compared once per start.
      if (methods.length > 1) {
        expect(sec.wtl.map((w) => w[0])).toEqual(methods);
        const starts = new Set(ok.map((r) => r.group)).size;
        for (const w of sec.wtl) expect((w[1] as number) + (w[2] as number) + (w[3] as number)).toBe(starts * (methods.length - 1));
      }
    }
    expect(read[2]?.notes).toContain('map');
    const methods = results.methods.map((m) => m.id);

    // The manifest shows what results.json says.
    const manifest = await page.$$eval('table.manifest tr', (rows) => Object.fromEntries(rows.map((r) => [r.querySelector('th')?.textContent ?? '', r.querySelector('td')?.textContent ?? ''])));
    expect(manifest).toMatchObject({ emlab: results.manifest.emlabVersion, Node: results.manifest.nodeVersion, 'TensorFlow.js backend': results.manifest.backend, seeds: '1, 2' });

    // Every number of every table, as displayed and as embedded, matches results.json.
    const tables: TableRead[] = await page.$$eval('table.metrics', (ts) =>
      ts.map((t) => ({
        section: t.getAttribute('data-section') ?? '',
        methods: [...t.querySelectorAll('thead th[data-method]')].map((th) => th.getAttribute('data-method') ?? ''),
        rows: [...t.querySelectorAll('tbody tr')].map((tr) => tr.getAttribute('data-column') ?? ''),
        cells: [...t.querySelectorAll('tbody td[data-mean]')].map((td) => ({
          method: td.getAttribute('data-method') ?? '',
          column: td.getAttribute('data-column') ?? '',
          text: td.textContent ?? '',
          mean: td.getAttribute('data-mean'),
          sd: td.getAttribute('data-sd'),
          n: td.getAttribute('data-n'),
        })),
      })),
    );
    expect(tables.map((t) => t.section)).toEqual(sectionIds);
    let checked = 0;
    for (const table of tables) {
      // Methods are the columns; every metric with a value in results.json is a row, and only those.
      const sectionMethods = methods.filter((m) => results.runs.some((r) => `${r.dataset}/${r.model}` === table.section && r.method === m));
      expect(table.methods).toEqual(sectionMethods);
      const present = Object.keys(COLUMN_VALUE).filter((c) => sectionMethods.some((m) => expected(results, table.section, m, c) !== null));
      expect(table.rows).toEqual(['nRuns', 'nConverged', ...present]);
      // Every (method, metric) with a value has a cell, and every cell has a value in results.json.
      const withValue = sectionMethods.flatMap((m) => present.filter((c) => expected(results, table.section, m, c) !== null).map((c) => `${m}/${c}`));
      expect(table.cells.map((c) => `${c.method}/${c.column}`).sort()).toEqual(withValue.sort());
      for (const cell of table.cells) {
        const want = expected(results, table.section, cell.method, cell.column);
        const where = `${table.section} ${cell.method} ${cell.column}`;
        expect(want, where).not.toBeNull();
        if (want === null) continue;
        expect(Number(cell.n), where).toBe(want.n);
        expect(close(Number(cell.mean), want.mean, 1e-12), `${where}: data-mean ${cell.mean} vs ${want.mean}`).toBe(true);
        const shown = /^\s*(\S+)(?:\s*±\s*(\S+))?\s*$/.exec(cell.text);
        expect(shown, `${where}: "${cell.text}"`).not.toBeNull();
        expect(close(Number(shown?.[1]), want.mean, 5e-6), `${where}: shown mean ${shown?.[1]} vs ${want.mean}`).toBe(true);
        if (want.sd === null) {
          expect(shown?.[2], where).toBeUndefined();
        } else {
          expect(close(Number(cell.sd), want.sd, 1e-9), `${where}: data-sd ${cell.sd} vs ${want.sd}`).toBe(true);
          expect(close(Number(shown?.[2]), want.sd, 5e-3), `${where}: shown sd ${shown?.[2]} vs ${want.sd}`).toBe(true);
        }
        checked++;
      }
    }
    // At least bound, log-likelihood (total, per row), iterations, time, time to best for each method.
    expect(checked).toBeGreaterThanOrEqual(2 * methods.length * 6 + 6);

    // The embedded data parses in the page.
    const embeddedSections = await page.$eval('#emlab-report-data', (el) => (JSON.parse(el.textContent ?? '{}') as { sections: { id: string }[] }).sections.map((s) => s.id));
    expect(embeddedSections).toEqual(sectionIds);

    // Screenshots for people (test-output/report.png, and the first section alone): the whole page,
    // as tall as the document, and the first section with its plots.
    const png = await page.screenshot({ path: join(OUT, 'report.png'), fullPage: true });
    const height = (await page.evaluate('document.documentElement.scrollHeight')) as number;
    expect(png.readUInt32BE(16)).toBe(1300); // IHDR width
    expect(png.readUInt32BE(20)).toBe(height); // IHDR height: the full page
    const first = await page.$('section.report-section');
    const shot = await first?.screenshot({ path: join(OUT, 'report-section.png') });
    expect(shot?.readUInt32BE(20)).toBeGreaterThan(600);
    expect(problems).toEqual([]);
  });
});
