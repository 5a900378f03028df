// The playground: built with Vite (the build test: static files, the wasm binaries, and no `node:`
// import anywhere in the browser bundle), then opened in Debian's chromium driven by
// playwright-core (the report test's set-up), where it must: load with no console errors and run on
// the wasm backend; step and run every method; keep the exact E-step's bound trace monotone; reach,
// for every method, the final bound Node reaches with `fit` on the same data, start and seed; give
// from "Download results" the JSON `emlab fit --json` prints for the same data; round-trip its state
// through the URL; add a clicked point and drag it; read a CSV file; run an HMM on a series; and draw plots with marks, a legend and axes (screenshot in
// test-output/playground.png).
// Chromium: .ci/run installs Debian's chromium and sets EMLAB_REQUIRE_CHROMIUM=1, so in CI a missing
// browser fails the test. Elsewhere the browser test is skipped with a message on stderr saying why
// and how to run it (the build test always runs).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { fit, fromJson, monotonicityTolerance, toJson, type FitResult } from '@emlab/core';
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { makeGaussianMixture, maskMissing } from '@emlab/data';
import { gaussianMixture, hiddenMarkovModel, type GmmParams } from '@emlab/models';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hmmTruth } from '../src/data.ts';
import { playgroundConfig } from '../vite.config.ts';
import { serveStatic, type StaticServer } from './static-server.ts';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM) || process.env['EMLAB_REQUIRE_CHROMIUM'] === '1';
if (!HAS_CHROMIUM) {
  process.stderr.write(`emlab tests: SKIPPING the playground's browser test: ${CHROMIUM} is missing. Install it with \`apt-get install -y chromium\` (bash .ci/run does) to run it.\n`);
}
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const OUT = join(REPO, 'test-output');
const SITE = join(OUT, 'playground-site');
const CLI = join(REPO, 'packages/cli/dist/bin.js');

/** The view the browser test opens: a generated mixture, seven methods. */
const VIEW = {
  gen: { n: 180, clusters: 3, separation: 1.5, shape: 'full', missing: 0, seed: 4 },
  k: 3,
  cov: 'full',
  seed: 5,
  init: 'random',
  methods: ['exact', 'hard', 'stochastic', 'tempered', 'sparse', 'incremental', 'vb'],
  maxIter: 80,
  precision: 'auto',
} as const;
const QUERY =
  `?model=gmm&data=generated&n=${VIEW.gen.n}&clusters=${VIEW.gen.clusters}&sep=${VIEW.gen.separation}&shape=${VIEW.gen.shape}&missing=${VIEW.gen.missing}&dseed=${VIEW.gen.seed}` +
  `&k=${VIEW.k}&cov=${VIEW.cov}&seed=${VIEW.seed}&init=${VIEW.init}&methods=${VIEW.methods.join('%2C')}&maxIter=${VIEW.maxIter}&tol=default&precision=${VIEW.precision}&backend=wasm&speed=0`;

/** The HMM view: a 3-state series with 5% of its steps missing, the three chain E-steps. */
const HMM_GEN = { n: 300, clusters: 3, separation: 2.5, shape: 'full', missing: 0.05, seed: 2, stay: 0.9 } as const;
const HMM_QUERY =
  `?model=hmm&data=generated&n=${HMM_GEN.n}&clusters=${HMM_GEN.clusters}&sep=${HMM_GEN.separation}&stay=${HMM_GEN.stay}&missing=${HMM_GEN.missing}&dseed=${HMM_GEN.seed}` +
  '&k=3&seed=1&init=random&methods=exact%2Chard%2Cstochastic&maxIter=60&tol=default&precision=auto&backend=wasm&speed=0';

/** The same data, made in Node with the generator calls the page documents. */
function nodeTable(): { values: Float64Array; rows: number; cols: number } {
  const g = makeGaussianMixture({ nSamples: VIEW.gen.n, nComponents: VIEW.gen.clusters, nFeatures: 2, seed: VIEW.gen.seed, separation: VIEW.gen.separation, covariance: VIEW.gen.shape });
  return { values: g.values, rows: g.rows, cols: g.cols };
}

/** float32 tolerance on a bound of N rows: as fit's monotonicity check. */
const f32 = (a: number, b: number, n: number): number => monotonicityTolerance(a, b, n, 0, 'float32');

interface Snapshot {
  iteration: number;
  table: { rows: number; cols: number; values: number[]; columns: string[] } | null;
  lanes: { method: string; family: string | null; error: string | null; boundAfterE: number[]; boundAfterM: number[]; bound: number | null; logLikelihood: number | null; nIter: number | null; json: string | null; ms: number }[];
}

let built = false;
beforeAll(async () => {
  await mkdir(OUT, { recursive: true });
  await build(playgroundConfig({ outDir: SITE, logLevel: 'error' }));
  built = true;
}, 240_000);

describe('playground build', () => {
  it('writes a static site with the wasm binaries and no node: import in the browser bundle', async () => {
    expect(built).toBe(true);
    const html = await readFile(join(SITE, 'index.html'), 'utf8');
    // Relative URLs: the folder can be served from anywhere.
    expect(html).toMatch(/src="\.\/assets\/index-[\w-]+\.js"/);
    const assets = await readdir(join(SITE, 'assets'));
    for (const w of ['tfjs-backend-wasm', 'tfjs-backend-wasm-simd', 'tfjs-backend-wasm-threaded-simd']) {
      expect(assets.some((a) => new RegExp(`^${w}-[\\w-]+\\.wasm$`).test(a)), w).toBe(true);
    }
    const scripts = assets.filter((a) => a.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    let shim = false;
    for (const s of scripts) {
      const code = await readFile(join(SITE, 'assets', s), 'utf8');
      // No static import, dynamic import or require of a node: module, and no Vite browser-external
      // placeholder. (The bare `require("fs")` inside tfjs-backend-wasm's Emscripten worker source,
      // a string guarded by ENVIRONMENT_IS_NODE, is not a module import and is allowed.)
      const found = /.{0,60}(\bfrom\s*["'`]node:|\bimport\s*\(?\s*["'`]node:|\brequire\s*\(\s*["'`]node:|__vite-browser-external).{0,40}/.exec(code);
      expect(found?.[0] ?? null, s).toBeNull();
      if (code.includes('is not available in a browser: the page has no file system')) shim = true;
    }
    // The packages' file readers are in the bundle, calling the typed IO_ERROR shim instead of Node.
    expect(shim).toBe(true);
  });
});

describe.runIf(HAS_CHROMIUM)('playground in chromium', () => {
  let browser: Browser | undefined;
  let server: StaticServer | undefined;

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('runs every method live, matches Node and emlab fit --json, round-trips the URL, and draws its plots', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does this`).toBe(true);
    server = await serveStatic(SITE);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1300, height: 900 }, acceptDownloads: true });
    // Generous waits: under `npm test` every test file runs at once on a small machine.
    context.setDefaultTimeout(90_000);
    const page: Page = await context.newPage();
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith(server?.url ?? '') && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) foreign.push(r.url());
    });

    const t0 = performance.now();
    const mark = (what: string): void => {
      if (process.env['EMLAB_TEST_TIMINGS'] === '1') process.stderr.write(`playground test: ${what} at ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    };
    await page.goto(`${server.url}${QUERY}`, { waitUntil: 'load' });
    await page.evaluate('window.emlabPlayground.ready');
    expect(await page.title()).toBe('emlab playground: E-steps side by side');
    // The wasm backend, with its binary served by the page.
    expect(await page.evaluate('window.emlabPlayground.backend()')).toBe('wasm');
    expect(server.requests.some((r) => /\/assets\/tfjs-backend-wasm[\w-]*\.wasm$/.test(r))).toBe(true);
    expect(await page.$$eval('#problems p', (ps) => ps.map((p) => p.textContent))).toEqual([]);

    // The URL holds every setting: the query the page writes is the one it was opened with, and
    // reading it back gives the same query.
    expect(await page.evaluate('location.search')).toBe(QUERY);
    expect(await page.evaluate('window.emlabPlayground.settingsQuery()')).toBe(QUERY);
    expect(await page.evaluate((q) => {
      const h = (window as unknown as { emlabPlayground: { readSettings(s: string): { settings: unknown; problems: unknown[] }; writeSettings(s: unknown): string } }).emlabPlayground;
      const r = h.readSettings(q);
      return { again: h.writeSettings(r.settings), problems: r.problems.length };
    }, QUERY)).toEqual({ again: QUERY, problems: 0 });

    // The data is the one Node makes with the same calls: the same missing cells, and values equal to
    // roundoff (the generator's Math.log/cos/sqrt may differ in the last bit between JavaScript engines,
    // so the fits below use the page's own table, which the CSV download gives exactly).
    const nodeMade = nodeTable();
    let snap = (await page.evaluate('window.emlabPlayground.snapshot()')) as Snapshot;
    expect(snap.table?.rows).toBe(nodeMade.rows);
    expect(snap.table?.cols).toBe(2);
    expect(snap.table?.columns).toEqual(['x1', 'x2']);
    const pageValues = Float64Array.from(snap.table?.values ?? []);
    expect(pageValues.length).toBe(nodeMade.values.length);
    for (let i = 0; i < pageValues.length; i++) {
      const a = pageValues[i] as number;
      const b = nodeMade.values[i] as number;
      if (Number.isNaN(b)) expect(a, `cell ${i}`).toBeNaN();
      else expect(Math.abs(a - b), `cell ${i}: ${a} vs ${b}`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b)));
    }
    const expectedTable = { values: pageValues, rows: nodeMade.rows, cols: nodeMade.cols };

    // "Download data" gives that table as CSV, exactly.
    const dataDownload = page.waitForEvent('download');
    await page.click('#download-data');
    const dataFile = await dataDownload;
    expect(dataFile.suggestedFilename()).toBe(`emlab-playground-data-seed${VIEW.gen.seed}.csv`);
    const csvText = await readFile(await dataFile.path(), 'utf8');
    const csvRows = csvText.trimEnd().split('\n');
    expect(csvRows[0]).toBe('x1,x2');
    expect(csvRows.length - 1).toBe(expectedTable.rows);
    const cell = (v: number): string => (Number.isNaN(v) ? '' : String(v));
    for (let i = 0; i < expectedTable.rows; i++) expect(csvRows[i + 1]).toBe(`${cell(pageValues[2 * i] as number)},${cell(pageValues[2 * i + 1] as number)}`);

    // Step: one iteration of every method.
    await page.click('#step');
    await page.waitForFunction(() => document.querySelector('#counter')?.textContent === 'iteration 1');
    snap = (await page.evaluate('window.emlabPlayground.snapshot()')) as Snapshot;
    expect(snap.lanes.map((l) => l.method)).toEqual([...VIEW.methods]);
    for (const l of snap.lanes) expect([l.method, l.error, l.boundAfterE.length]).toEqual([l.method, null, 1]);

    // Run (speed max) to the end of every method.
    await page.click('#run');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'all methods finished', undefined, { timeout: 150_000 });
    snap = (await page.evaluate('window.emlabPlayground.snapshot()')) as Snapshot;
    mark(`run to the end (fits ${snap.lanes.map((l) => `${l.method} ${l.ms.toFixed(0)} ms`).join(', ')})`);
    const n = expectedTable.rows;
    for (const l of snap.lanes) {
      expect(l.error, l.method).toBeNull();
      expect(l.bound, l.method).not.toBeNull();
      expect(l.json, l.method).not.toBeNull();
    }

    // Exact EM: the bound never falls, at either half-step.
    const exact = snap.lanes.find((l) => l.method === 'exact') as Snapshot['lanes'][number];
    expect(exact.boundAfterE.length).toBeGreaterThan(3);
    for (let t = 0; t < exact.boundAfterE.length; t++) {
      const e = exact.boundAfterE[t] as number;
      const m = exact.boundAfterM[t] as number;
      expect(m, `M-step ${t + 1}`).toBeGreaterThanOrEqual(e - f32(e, m, n));
      if (t > 0) {
        const prev = exact.boundAfterM[t - 1] as number;
        expect(e, `E-step ${t + 1}`).toBeGreaterThanOrEqual(prev - f32(prev, e, n));
      }
    }
    expect(exact.boundAfterE[exact.boundAfterE.length - 1] as number).toBeGreaterThan((exact.boundAfterE[0] as number) + 1);

    // Every method reaches the bound Node's fit reaches on the same data, start and seed.
    const gmm = gaussianMixture({ nComponents: VIEW.k, covarianceType: VIEW.cov });
    const nodeResults = new Map<string, FitResult<GmmParams>>();
    for (const l of snap.lanes) {
      const r = await fit(gmm, expectedTable, { eStep: l.method, seed: VIEW.seed, init: VIEW.init, maxIter: VIEW.maxIter, precision: VIEW.precision, onWarning: () => undefined });
      nodeResults.set(l.method, r);
      const b = l.bound as number;
      expect(Math.abs(b - r.bound), `${l.method}: browser ${b} vs Node ${r.bound}`).toBeLessThanOrEqual(f32(b, r.bound, n));
      expect(l.nIter, l.method).toBe(r.nIter);
      if (r.logLikelihood !== null) expect(Math.abs((l.logLikelihood as number) - r.logLikelihood), l.method).toBeLessThanOrEqual(f32(r.logLikelihood, r.logLikelihood, n));
    }

    mark('Node fits');
    // Download results = emlab fit --json on the same data (written as CSV) with the same flags.
    const csvPath = join(OUT, 'playground-data.csv');
    await writeFile(csvPath, csvText);
    for (const method of ['exact', 'stochastic']) {
      const downloadEvent = page.waitForEvent('download');
      await page.click(`.lane[data-method="${method}"] button.download`);
      const download = await downloadEvent;
      expect(download.suggestedFilename()).toBe(`emlab-gmm-${method}-seed${VIEW.seed}.json`);
      const browserJson = fromJson(await readFile(await download.path(), 'utf8')) as Record<string, unknown>;
      const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'fit', csvPath, '--model', 'gmm', '--components', String(VIEW.k), '--covariance', VIEW.cov, '--estep', method, '--seed', String(VIEW.seed), '--init', VIEW.init, '--max-iter', String(VIEW.maxIter), '--precision', VIEW.precision, '--json'], { maxBuffer: 64 << 20 });
      const cliJson = fromJson(stdout) as Record<string, unknown>;
      // The same document: the same keys in the same order, the same descriptive fields, the same numbers to float32 tolerance.
      expect(Object.keys(browserJson), method).toEqual(Object.keys(cliJson));
      for (const key of ['format', 'formatVersion', 'model', 'boundKind', 'converged', 'convergenceReason', 'nIter', 'passes', 'eStepCalls', 'restart', 'seed', 'method', 'options', 'precision', 'nRows', 'totalWeight', 'data', 'columns', 'nMissing', 'nRowsAllMissing', 'missingPatterns']) {
        expect(browserJson[key], `${method} ${key}`).toEqual(cliJson[key]);
      }
      const bb = browserJson['bound'] as number;
      const cb = cliJson['bound'] as number;
      expect(Math.abs(bb - cb), `${method} bound ${bb} vs CLI ${cb}`).toBeLessThanOrEqual(f32(bb, cb, n));
      const bp = browserJson['params'] as GmmParams;
      const cp = cliJson['params'] as GmmParams;
      const flat = (p: GmmParams): number[] => [...p.weights, ...p.means.flat(), ...p.covariances.flat(2)];
      const [fb, fc] = [flat(bp), flat(cp)];
      expect(fb.length).toBe(fc.length);
      for (let i = 0; i < fb.length; i++) expect(Math.abs((fb[i] as number) - (fc[i] as number)), `${method} params[${i}]`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(fc[i] as number)));
      expect((browserJson['trace'] as unknown[]).length).toBe((cliJson['trace'] as unknown[]).length);
      // And the snapshot's text is that same download.
      expect(snap.lanes.find((l) => l.method === method)?.json).toBe(toJson(browserJson) + '\n');
    }

    mark('CLI comparisons');
    // The plots: a bound line per method with a legend and axes; per method, the points and K ellipses.
    const chart = await page.$eval('#chart svg.bound-chart', (svg) => ({
      lines: [...svg.querySelectorAll('path.bound-line')].filter((p) => (p.getAttribute('d') ?? '').length > 10 && (p as SVGPathElement).getTotalLength() > 0).map((p) => p.getAttribute('data-method')),
      legend: [...svg.querySelectorAll('.legend-label')].map((t) => t.textContent),
      ticks: svg.querySelectorAll('.axis .tick').length,
      labels: [...svg.querySelectorAll('.axis-label')].map((t) => t.textContent),
      width: svg.getBoundingClientRect().width,
    }));
    expect(chart.lines).toEqual([...VIEW.methods]);
    expect(chart.legend).toEqual([...VIEW.methods]);
    expect(chart.ticks).toBeGreaterThanOrEqual(6);
    expect(chart.labels).toEqual(['passes over the data', 'bound L(q, θ)']);
    expect(chart.width).toBeGreaterThan(600);
    const panels = await page.$$eval('.lane', (ls) => ls.map((l) => ({
      method: l.getAttribute('data-method'),
      status: l.getAttribute('data-status'),
      points: Number(l.querySelector('svg.data-plot')?.getAttribute('data-points')),
      ellipses: l.querySelectorAll('svg.data-plot polygon.ellipse').length,
      ticks: l.querySelectorAll('svg.data-plot .axis .tick').length,
    })));
    const plotted = Array.from({ length: n }, (_, i) => i).filter((i) => !Number.isNaN(expectedTable.values[2 * i] as number) && !Number.isNaN(expectedTable.values[2 * i + 1] as number)).length;
    for (const p of panels) {
      expect(p.points, p.method ?? '').toBe(plotted);
      expect(p.ellipses, p.method ?? '').toBe(VIEW.k);
      expect(p.ticks, p.method ?? '').toBeGreaterThanOrEqual(6);
      expect(p.status, p.method ?? '').toMatch(/^(converged|stopped \(max-iter\))$/);
    }
    const png = await page.screenshot({ path: join(OUT, 'playground.png'), fullPage: true });
    expect(png.readUInt32BE(16)).toBe(1300);
    expect(png.readUInt32BE(20)).toBeGreaterThan(900);
    // The top of the page (controls, chart, first row of panels), as docs/playground.png shows it.
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(OUT, 'playground-view.png'), fullPage: true, clip: { x: 0, y: 0, width: 1300, height: 1180 } });

    mark('screenshot');
    // A changed setting goes to the URL, and the URL restores it in a new page.
    await page.selectOption('select[name="cov"]', 'diag');
    await page.waitForFunction(() => location.search.includes('cov=diag'));
    const changed = (await page.evaluate('location.search')) as string;
    expect(changed).toBe(QUERY.replace('cov=full', 'cov=diag'));
    const again = await context.newPage();
    again.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()} (second page): ${m.text()}`);
    });
    await again.goto(`${server.url}${changed}`, { waitUntil: 'load' });
    await again.evaluate('window.emlabPlayground.ready');
    expect(await again.$eval('select[name="cov"]', (s) => (s as HTMLSelectElement).value)).toBe('diag');
    expect(await again.evaluate('window.emlabPlayground.settingsQuery()')).toBe(changed);

    // A click on a plot adds a point: the URL gets it and the data has one more row.
    const box = await again.$('.lane[data-method="exact"] svg.data-plot');
    await box?.scrollIntoViewIfNeeded();
    const rect = await box?.boundingBox();
    expect(rect).not.toBeNull();
    await again.mouse.click((rect?.x ?? 0) + (rect?.width ?? 0) / 2, (rect?.y ?? 0) + (rect?.height ?? 0) / 3);
    await again.waitForFunction(() => location.search.includes('pts='));
    const withPoint = (await again.evaluate('window.emlabPlayground.snapshot()')) as Snapshot;
    expect(withPoint.table?.rows).toBe(n + 1);
    expect(await again.evaluate('window.emlabPlayground.settingsQuery()')).toBe(await again.evaluate('location.search'));
    // ... which can be dragged: its ring moves it, the data keep n + 1 rows with the moved point last.
    const before = withPoint.table?.values.slice(-2) ?? [];
    const ring = await again.$('.lane[data-method="exact"] svg.data-plot circle.clicked');
    await ring?.scrollIntoViewIfNeeded();
    const at = await ring?.boundingBox();
    expect(at).not.toBeNull();
    const [cx, cy] = [(at?.x ?? 0) + (at?.width ?? 0) / 2, (at?.y ?? 0) + (at?.height ?? 0) / 2];
    const search = (await again.evaluate('location.search')) as string;
    await again.mouse.move(cx, cy);
    await again.mouse.down();
    await again.mouse.move(cx + 20, cy + 15, { steps: 4 });
    await again.mouse.move(cx + 40, cy + 30, { steps: 4 });
    await again.mouse.up();
    await again.waitForFunction((s) => location.search !== s, search);
    const dragged = (await again.evaluate('window.emlabPlayground.snapshot()')) as Snapshot;
    expect(dragged.table?.rows).toBe(n + 1);
    const after = dragged.table?.values.slice(-2) ?? [];
    expect(after[0] as number).toBeGreaterThan(before[0] as number); // moved right
    expect(after[1] as number).toBeLessThan(before[1] as number); // and down (y grows upwards)
    expect(dragged.table?.values.slice(0, -2)).toEqual(withPoint.table?.values.slice(0, -2));

    // Missing cells: the EM methods fit through them; variational Bayes, which needs complete data,
    // shows its typed error in its panel instead of running.
    await again.fill('input[name="missing"]', '0.1');
    await again.dispatchEvent('input[name="missing"]', 'change');
    await again.waitForFunction(() => location.search.includes('missing=0.1'));
    await again.click('#step');
    await again.waitForFunction(() => document.querySelector('#counter')?.textContent === 'iteration 1');
    const holes = (await again.evaluate('window.emlabPlayground.snapshot()')) as Snapshot;
    expect(holes.table?.values.some((v) => Number.isNaN(v))).toBe(true);
    for (const l of holes.lanes) {
      if (l.method === 'vb') expect(l.error ?? '', 'vb on missing data').toMatch(/^INVALID_DATA: .*complete data/);
      else expect([l.method, l.error, l.boundAfterE.length]).toEqual([l.method, null, 1]);
    }
    expect(await again.$eval('.lane[data-method="vb"] .error', (e) => e.textContent)).toMatch(/^INVALID_DATA: /);


    // A CSV file (three columns, one cell missing): the first two are plotted, all three fitted.
    const csv3 = ['a,b,c', ...Array.from({ length: 40 }, (_, i) => `${Math.cos(i)},${Math.sin(i * 0.7) * 2},${i === 5 ? 'NA' : (i % 7) / 3}`)].join('\n');
    await again.setInputFiles('input[name="csv"]', { name: 'three.csv', mimeType: 'text/csv', buffer: Buffer.from(csv3) });
    await again.waitForFunction(() => location.search.includes('data=csv'));
    await again.waitForFunction(() => document.querySelector('#data-description')?.textContent?.startsWith('three.csv') === true);
    const fromCsv = (await again.evaluate('window.emlabPlayground.snapshot()')) as Snapshot;
    expect([fromCsv.table?.rows, fromCsv.table?.cols, fromCsv.table?.columns]).toEqual([40, 3, ['a', 'b', 'c']]);
    expect(await again.$eval('#data-description', (e) => e.textContent)).toBe('three.csv: 40 rows × 3 columns, 1 missing cell');
    expect(await again.$eval('.lane[data-method="exact"] svg.data-plot', (e) => e.getAttribute('data-points'))).toBe('40');
    await again.click('#step');
    await again.waitForFunction(() => document.querySelector('#counter')?.textContent === 'iteration 1');
    const csvStep = (await again.evaluate('window.emlabPlayground.snapshot()')) as Snapshot;
    for (const l of csvStep.lanes) {
      if (l.method === 'vb') expect(l.error ?? '', 'vb on missing data').toMatch(/^INVALID_DATA: /);
      else expect([l.method, l.error, l.boundAfterE.length]).toEqual([l.method, null, 1]);
    }
    mark('second page');

    // The HMM on a 1-D series (with missing steps): the chain E-steps live, exact monotone, Node's bounds.
    const hmmPage = await context.newPage();
    hmmPage.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()} (HMM page): ${m.text()}`);
    });
    hmmPage.on('pageerror', (e) => problems.push(`page error (HMM page): ${e.message}`));
    await hmmPage.goto(`${server.url}${HMM_QUERY}`, { waitUntil: 'load' });
    await hmmPage.evaluate('window.emlabPlayground.ready');
    expect(await hmmPage.evaluate('location.search')).toBe(HMM_QUERY);
    expect(await hmmPage.$$eval('#problems p', (ps) => ps.map((p) => p.textContent))).toEqual([]);
    await hmmPage.click('#run');
    await hmmPage.waitForFunction(() => document.querySelector('#status')?.textContent === 'all methods finished', undefined, { timeout: 150_000 });
    const hs = (await hmmPage.evaluate('window.emlabPlayground.snapshot()')) as Snapshot;
    const hmmModel = hiddenMarkovModel({ nStates: HMM_GEN.clusters, emission: 'gaussian' });
    const made = hmmModel.sample(hmmTruth(HMM_GEN), [HMM_GEN.n], HMM_GEN.seed).x.map((r) => r[0] as number);
    const series = Float64Array.from(hs.table?.values ?? []);
    expect(series.length).toBe(HMM_GEN.n);
    const masked = maskMissing({ values: Float64Array.from(made), rows: HMM_GEN.n, cols: 1 }, { rate: HMM_GEN.missing, seed: HMM_GEN.seed }).table.values;
    let hidden = 0;
    for (let t = 0; t < series.length; t++) {
      expect(Number.isNaN(series[t] as number), `step ${t} missing`).toBe(Number.isNaN(masked[t] as number));
      if (Number.isNaN(series[t] as number)) hidden++;
      else expect(Math.abs((series[t] as number) - (made[t] as number)), `step ${t}`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(made[t] as number)));
    }
    expect(hidden).toBeGreaterThan(0);
    const hmmData = { values: series, rows: series.length, cols: 1, lengths: [series.length] };
    for (const l of hs.lanes) {
      expect(l.error, l.method).toBeNull();
      const r = await fit(hmmModel, hmmData, { eStep: l.method, seed: 1, init: 'random', maxIter: 60, onWarning: () => undefined });
      expect(Math.abs((l.bound as number) - r.bound), `HMM ${l.method}: browser ${l.bound} vs Node ${r.bound}`).toBeLessThanOrEqual(f32(l.bound as number, r.bound, HMM_GEN.n));
      expect(l.nIter, `HMM ${l.method}`).toBe(r.nIter);
    }
    const hx = hs.lanes.find((l) => l.method === 'exact') as Snapshot['lanes'][number];
    expect(hx.boundAfterE.length).toBeGreaterThan(3);
    for (let t = 1; t < hx.boundAfterE.length; t++) {
      const prev = hx.boundAfterM[t - 1] as number;
      const e = hx.boundAfterE[t] as number;
      expect(e, `HMM E-step ${t + 1}`).toBeGreaterThanOrEqual(prev - f32(prev, e, HMM_GEN.n));
      expect(hx.boundAfterM[t] as number, `HMM M-step ${t + 1}`).toBeGreaterThanOrEqual(e - f32(e, hx.boundAfterM[t] as number, HMM_GEN.n));
    }
    // State colours: each panel's observed steps are drawn in decoded-state colours, with K state means.
    const seriesPanels = await hmmPage.$$eval('.lane', (ls) => ls.map((l) => ({
      method: l.getAttribute('data-method'),
      states: [...l.querySelectorAll('svg.series-plot path.points')].map((p) => Number(p.getAttribute('data-state'))),
      drawn: [...l.querySelectorAll('svg.series-plot path.points')].reduce((a, p) => a + ((p.getAttribute('d') ?? '').match(/M/g)?.length ?? 0), 0),
      means: l.querySelectorAll('svg.series-plot line.state-mean').length,
    })));
    expect(seriesPanels.map((p) => p.method)).toEqual(['exact', 'hard', 'stochastic']);
    for (const p of seriesPanels) {
      expect(p.drawn, `${p.method} points`).toBe(HMM_GEN.n - hidden);
      expect(p.states.every((k) => k >= 0 && k < 3), `${p.method} states ${p.states.join(',')}`).toBe(true);
      expect(p.states.length, `${p.method} states`).toBeGreaterThanOrEqual(2);
      expect(p.means, `${p.method} means`).toBe(3);
    }
    await hmmPage.screenshot({ path: join(OUT, 'playground-hmm.png'), fullPage: true });
    mark('HMM page');

    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
  }, 300_000);
});
