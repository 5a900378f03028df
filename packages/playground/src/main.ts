/**
 * The playground page: settings form ⇄ URL, the data, the race of methods, and the live view.
 * `window.emlabPlayground` exposes the state for the browser test (and for the curious).
 * @module
 */
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import '@emlab/models';
import { currentBackend, VERSION } from '@emlab/core';
import { startBackend } from './backend.js';
import { buildTable, tableCsv, type DroppedCsv, type Table } from './data.js';
import { colourOf, DataPlot, drawBoundChart, SeriesPlot } from './plots.js';
import { availableMethods, describeError, kindOf, modelOf, Race, type Lane } from './race.js';
import { BACKEND_OPTIONS, COVARIANCES, DATA_SOURCES, DEFAULT_HMM_METHODS, DEFAULT_METHODS, MODELS, PRECISION_OPTIONS, readSettings, writeSettings, type Settings, type SettingProblem } from './settings.js';

const $ = <T extends HTMLElement>(sel: string): T => {
  const el = document.querySelector<T>(sel);
  if (el === null) throw new Error(`playground page: missing element ${sel}`);
  return el;
};

const form = $<HTMLFormElement>('#controls');
const field = <T extends HTMLInputElement | HTMLSelectElement>(name: string): T => form.elements.namedItem(name) as T;

let settings: Settings;
let csv: DroppedCsv | null = null;
let race: Race | null = null;
let table: Table | null = null;
let running = false;
let busy = false;
let backendNote: string | null = null;
let plots: (DataPlot | SeriesPlot)[] = [];
let loadProblems: SettingProblem[] = [];

const DATA_LABELS: Record<string, string> = {
  blobs3: 'blobs3: 3 separated clusters (600 × 2)',
  overlap2: 'overlap2: 2 overlapping clusters (500 × 2)',
  blobs5d: 'blobs5d: 4 clusters in 5-D (2000 × 5)',
  mix5: 'mix5: 5 clusters in 4-D (5000 × 4)',
  generated: 'generated',
  csv: 'dropped CSV file',
};
const MODEL_LABELS: Record<string, string> = { gmm: 'Gaussian mixture', hmm: 'HMM on a 1-D series (Gaussian emissions)' };

/** The methods' check boxes for the model's structure kind. */
function buildMethodBoxes(s: Settings): void {
  const box = $('#methods');
  box.replaceChildren();
  for (const m of availableMethods(kindOf(s))) {
    const label = document.createElement('label');
    label.title = m.description;
    const input = Object.assign(document.createElement('input'), { type: 'checkbox', value: m.name });
    label.append(input, ` ${m.name} `, Object.assign(document.createElement('small'), { textContent: m.family }));
    box.append(label);
  }
}

/** The selects whose choices depend on the model: data sources and initializations. */
function modelChoices(s: Settings): void {
  fillSelect('data', s.model === 'hmm' ? ['generated', 'csv'] : DATA_SOURCES, DATA_LABELS);
  fillSelect('init', modelOf(s).initMethods);
  buildMethodBoxes(s);
}

function fillSelect(name: string, values: readonly string[], labels: Record<string, string> = {}): void {
  const sel = field<HTMLSelectElement>(name);
  sel.replaceChildren(...values.map((v) => new Option(labels[v] ?? v, v)));
}

function showSettings(s: Settings): void {
  modelChoices(s);
  field<HTMLSelectElement>('model').value = s.model;
  field<HTMLSelectElement>('data').value = s.data;
  field<HTMLInputElement>('stay').value = String(s.gen.stay);
  field<HTMLInputElement>('n').value = String(s.gen.n);
  field<HTMLInputElement>('clusters').value = String(s.gen.clusters);
  field<HTMLInputElement>('sep').value = String(s.gen.separation);
  field<HTMLSelectElement>('shape').value = s.gen.shape;
  field<HTMLInputElement>('missing').value = String(s.gen.missing);
  field<HTMLInputElement>('dseed').value = String(s.gen.seed);
  field<HTMLInputElement>('k').value = String(s.k);
  field<HTMLSelectElement>('cov').value = s.cov;
  field<HTMLSelectElement>('init').value = s.init;
  field<HTMLInputElement>('seed').value = String(s.seed);
  field<HTMLInputElement>('maxIter').value = String(s.maxIter);
  field<HTMLInputElement>('tol').value = s.tol === null ? '' : String(s.tol);
  field<HTMLSelectElement>('precision').value = s.precision;
  field<HTMLSelectElement>('backend').value = s.backend;
  for (const box of document.querySelectorAll<HTMLInputElement>('#methods input[type=checkbox]')) box.checked = s.methods.includes(box.value);
  $<HTMLInputElement>('#speed').value = String(s.speed === 0 ? 61 : s.speed);
  $<HTMLOutputElement>('#speed-out').textContent = s.speed === 0 ? 'max' : `${s.speed}/s`;
  for (const el of document.querySelectorAll<HTMLElement>('.gen')) el.hidden = s.data !== 'generated';
  for (const el of document.querySelectorAll<HTMLElement>('.gmm-only')) el.hidden = s.model !== 'gmm';
  for (const el of document.querySelectorAll<HTMLElement>('.hmm-only')) el.hidden = s.model !== 'hmm';
}

/** Settings from the form, through the same reader as the URL (so the form cannot hold what a URL cannot). */
function formSettings(): { settings: Settings; problems: SettingProblem[] } {
  const p = new URLSearchParams(writeSettings(settings));
  const set = (k: string, v: string): void => p.set(k, v);
  const model = field<HTMLSelectElement>('model').value;
  if (model !== settings.model) {
    // A new model: its default methods, an initialization it has, data it can fit, no clicked points.
    p.set('model', model);
    p.set('methods', (model === 'hmm' ? DEFAULT_HMM_METHODS : DEFAULT_METHODS).join(','));
    p.set('init', 'random');
    p.delete('pts');
    if (model === 'hmm' && p.get('data') !== 'csv') p.set('data', 'generated');
    for (const k of ['stay', 'shape', 'cov']) p.delete(k);
    return readSettings(`?${p.toString()}`);
  }
  set('data', field<HTMLSelectElement>('data').value);
  for (const k of ['n', 'clusters', 'sep', 'missing', 'dseed', 'k', 'seed', 'maxIter', 'stay']) set(k, field<HTMLInputElement>(k).value);
  for (const k of ['shape', 'cov', 'init', 'precision', 'backend']) set(k, field<HTMLSelectElement>(k).value);
  const tol = field<HTMLInputElement>('tol').value.trim();
  set('tol', tol === '' ? 'default' : tol);
  // The order of the URL stays; newly ticked methods go at the end (in registry order).
  const ticked = [...document.querySelectorAll<HTMLInputElement>('#methods input[type=checkbox]')].filter((b) => b.checked).map((b) => b.value);
  const methods = [...settings.methods.filter((m) => ticked.includes(m)), ...ticked.filter((m) => !settings.methods.includes(m))];
  set('methods', methods.join(','));
  const v = Number($<HTMLInputElement>('#speed').value);
  set('speed', String(v >= 61 ? 0 : v));
  return readSettings(`?${p.toString()}`);
}

function showProblems(extra: string[] = []): void {
  const box = $('#problems');
  const lines = [...loadProblems.map((p) => `URL parameter ${p.param}=${JSON.stringify(p.value)} ${p.message}.`), ...(backendNote === null ? [] : [backendNote]), ...extra];
  const known = new Set(availableMethods(kindOf(settings)).map((m) => m.name));
  for (const m of settings.methods) if (!known.has(m)) lines.push(`Method ${JSON.stringify(m)} is not registered for ${MODEL_LABELS[settings.model] ?? settings.model} (registered: ${[...known].join(', ')}).`);
  box.replaceChildren(...lines.map((l) => Object.assign(document.createElement('p'), { textContent: l })));
}

const fmt = (x: number | null | undefined, digits = 10): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : Number(x.toPrecision(digits)).toString());

function laneStatus(l: Lane): string {
  if (l.error !== null) return 'error';
  if (l.result !== null) return l.result.converged ? 'converged' : `stopped (${l.result.convergenceReason})`;
  return l.records.length === 0 ? 'ready' : 'running';
}

/** Updates the chart, the counter and every lane panel. */
function render(): void {
  if (race === null) return;
  const r = race;
  $('#counter').textContent = `iteration ${r.iteration}`;
  $('#status').textContent = r.finished ? 'all methods finished' : running ? 'running' : 'paused';
  const zoom = $<HTMLInputElement>('#zoom').checked;
  const chart = $('#chart');
  drawBoundChart(chart, r.lanes.map((l, i) => ({ method: l.method, colour: colourOf(i), records: l.records, logLikelihood: l.family !== 'exact' })), Math.min(1100, Math.max(640, chart.clientWidth || 900)), 320, zoom);
  r.lanes.forEach((l, i) => {
    const panel = document.querySelector<HTMLElement>(`.lane[data-method="${CSS.escape(l.method)}"]`);
    if (panel === null) return;
    const plot = plots[i];
    if (plot instanceof DataPlot) plot.drawComponents(l.params, colourOf(i));
    else if (plot instanceof SeriesPlot) plot.drawStates(l.params, decode(r, l.params), colourOf(i));
    const last = l.records[l.records.length - 1];
    const rows: [string, string][] = [
      ['iterations', String(l.records.length)],
      ['passes', fmt(last?.passes, 6)],
      ['bound', fmt(l.result?.bound ?? last?.boundAfterM)],
      ['log-likelihood', fmt(l.result?.logLikelihood ?? last?.logLikelihood)],
      ['gap (KL)', fmt(last?.gap, 4)],
      ['± s.e.', fmt(last?.boundStdErr, 3)],
      ['status', laneStatus(l)],
      ['time', `${l.ms.toFixed(0)} ms`],
    ];
    const dl = panel.querySelector('dl') as HTMLElement;
    dl.replaceChildren(...rows.flatMap(([k, v]) => [Object.assign(document.createElement('dt'), { textContent: k }), Object.assign(document.createElement('dd'), { textContent: v })]));
    panel.dataset['status'] = laneStatus(l);
    panel.dataset['iterations'] = String(l.records.length);
    const err = panel.querySelector('.error') as HTMLElement;
    err.textContent = l.error ?? (l.warnings.length > 0 ? `warning: ${l.warnings[l.warnings.length - 1] ?? ''}` : '');
    (panel.querySelector('button.download') as HTMLButtonElement).disabled = l.result === null;
  });
  for (const [id, disabled] of [['#step', running || r.finished], ['#run', running || r.finished], ['#pause', !running]] as const) $<HTMLButtonElement>(id).disabled = disabled;
}

/** The HMM's Viterbi states under `params` (null before the first iteration or if decoding fails). */
function decode(r: Race, params: unknown): Int32Array | null {
  if (params === null || params === undefined || !('decode' in r.model)) return null;
  try {
    return r.model.predict(params as never, r.data as never);
  } catch {
    return null;
  }
}

function save(text: string, type: string, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** A finished method's result: what `emlab fit --json` prints. */
function download(method: string): void {
  if (race !== null) save(race.resultJson(method), 'application/json', `emlab-${settings.model}-${method}-seed${settings.seed}.json`);
}

/** A clicked point being dragged: which, on which plot, and whether it moved. */
let drag: { index: number; plot: DataPlot; moved: boolean } | null = null;

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** Pointer handling of a data plot: a click adds a point, a clicked point's ring can be dragged. */
function wirePlot(plot: DataPlot): void {
  plot.svg.addEventListener('pointerdown', (ev) => {
    const ring = (ev.target as Element).closest('circle.clicked');
    if (ring === null) return;
    drag = { index: Number(ring.getAttribute('data-index')), plot, moved: false };
    plot.svg.setPointerCapture(ev.pointerId);
    ev.preventDefault();
  });
  plot.svg.addEventListener('pointermove', (ev) => {
    if (drag === null || drag.plot !== plot) return;
    drag.moved = true;
    plot.moveClicked(drag.index, ev.clientX, ev.clientY);
  });
  plot.svg.addEventListener('pointerup', (ev) => {
    if (drag === null || drag.plot !== plot) return;
    const d = drag;
    drag = null;
    if (!d.moved) return;
    const [x, y] = plot.toData(ev.clientX, ev.clientY);
    void apply({ ...settings, points: settings.points.map((p, i) => (i === d.index ? [round6(x), round6(y)] as const : p)) });
  });
  plot.svg.addEventListener('click', (ev) => {
    if ((ev.target as Element).closest('circle.clicked') !== null) return; // a ring: dragged, not a new point
    addPoint(plot, ev);
  });
}

function addPoint(plot: DataPlot, ev: MouseEvent): void {
  if (table === null) return;
  if (table.cols !== 2) {
    showProblems([`Points can be added to 2-D data only (this table has ${table.cols} columns).`]);
    return;
  }
  const [x, y] = plot.toData(ev.clientX, ev.clientY);
  void apply({ ...settings, points: [...settings.points, [round6(x), round6(y)]] });
}

/** Builds the lanes' panels for the current race. */
function buildLanes(): void {
  const box = $('#lanes');
  box.replaceChildren();
  plots = [];
  if (race === null || table === null) return;
  const t = table;
  race.lanes.forEach((l, i) => {
    const panel = document.createElement('article');
    panel.className = 'lane';
    panel.dataset['method'] = l.method;
    const h = document.createElement('h2');
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = colourOf(i);
    h.append(sw, ` ${l.method}`, Object.assign(document.createElement('small'), { textContent: l.family === null ? '' : ` ${l.family}` }));
    panel.append(h);
    const holder = document.createElement('div');
    panel.append(holder);
    if (settings.model === 'hmm') {
      plots.push(new SeriesPlot(holder, t.values, t.rows, t.columns[0] ?? 'x', 330, 260));
    } else {
      const plot = new DataPlot(holder, t.values, t.rows, t.cols, t.columns, 330, 260);
      if (t.cols === 2) plot.drawClicked(settings.points);
      wirePlot(plot);
      plots.push(plot);
    }
    panel.append(document.createElement('dl'), Object.assign(document.createElement('p'), { className: 'error' }));
    const dl = Object.assign(document.createElement('button'), { type: 'button', className: 'download', textContent: 'Download results' });
    dl.addEventListener('click', () => download(l.method));
    panel.append(dl);
    box.append(panel);
  });
}

/** Starts over with the current settings: new data, new runs from the same start. */
async function reset(): Promise<void> {
  running = false;
  while (busy) await new Promise((r) => setTimeout(r, 5));
  const old = race;
  race = null;
  await old?.dispose();
  table = null;
  try {
    table = buildTable(settings, csv);
    $('#data-description').textContent = table.description;
    race = new Race(settings, table);
    showProblems();
  } catch (e) {
    $('#data-description').textContent = '';
    showProblems([describeError(e)]);
  }
  buildLanes();
  render();
}

/** Applies new settings: URL, form, backend, and a reset. */
async function apply(next: Settings): Promise<void> {
  const backendChanged = next.backend !== settings.backend;
  settings = next;
  history.replaceState(null, '', writeSettings(settings));
  showSettings(settings);
  if (backendChanged) await chooseBackend();
  await reset();
}

async function chooseBackend(): Promise<void> {
  const b = await startBackend(settings.backend);
  backendNote = b.note;
  $('#backend').textContent = `backend ${b.name}, emlab ${VERSION}`;
}

let lastRender = 0;

/** One iteration of every method; redraws unless `throttle` and the last redraw was under 50 ms ago. */
async function stepOnce(throttle = false): Promise<void> {
  if (race === null || busy || race.finished) return;
  busy = true;
  try {
    await race.step();
  } finally {
    busy = false;
  }
  if (!throttle || race.finished || performance.now() - lastRender >= 50) {
    render();
    lastRender = performance.now();
  }
}

async function runLoop(): Promise<void> {
  if (race === null || running) return;
  running = true;
  render();
  const r = race;
  while (running && race === r && !r.finished) {
    const t0 = performance.now();
    // As fast as possible: redraw at most 20 times a second.
    await stepOnce(settings.speed === 0);
    const wait = settings.speed > 0 ? Math.max(0, 1000 / settings.speed - (performance.now() - t0)) : 0;
    await new Promise((res) => setTimeout(res, wait));
  }
  if (race === r) running = false;
  render();
}

/** Runs every method to its end as fast as possible (the test's entry point; the page's Run with speed max). */
async function runToEnd(): Promise<void> {
  while (race !== null && !race.finished) await stepOnce();
}

function wire(): void {
  form.addEventListener('change', (ev) => {
    const target = ev.target as HTMLInputElement;
    if (target.name === 'csv') return;
    const { settings: next, problems } = formSettings();
    loadProblems = problems;
    void apply(next);
  });
  field<HTMLInputElement>('csv').addEventListener('change', async (ev) => {
    const file = (ev.target as HTMLInputElement).files?.[0];
    if (file !== undefined) await useCsv(file);
  });
  document.addEventListener('dragover', (ev) => ev.preventDefault());
  document.addEventListener('drop', async (ev) => {
    ev.preventDefault();
    const file = ev.dataTransfer?.files[0];
    if (file !== undefined) await useCsv(file);
  });
  $('#clear-points').addEventListener('click', () => void apply({ ...settings, points: [] }));
  $('#step').addEventListener('click', () => void stepOnce());
  $('#run').addEventListener('click', () => void runLoop());
  $('#pause').addEventListener('click', () => {
    running = false;
    render();
  });
  $('#reset').addEventListener('click', () => void reset());
  $('#download-data').addEventListener('click', () => {
    if (table !== null) save(tableCsv(table), 'text/csv', `emlab-playground-data${settings.data === 'generated' ? `-seed${settings.gen.seed}` : ''}.csv`);
  });
  $('#zoom').addEventListener('change', () => render());
  $<HTMLInputElement>('#speed').addEventListener('input', () => {
    const v = Number($<HTMLInputElement>('#speed').value);
    settings = { ...settings, speed: v >= 61 ? 0 : v };
    $<HTMLOutputElement>('#speed-out').textContent = settings.speed === 0 ? 'max' : `${settings.speed}/s`;
    history.replaceState(null, '', writeSettings(settings));
  });
}

async function useCsv(file: File): Promise<void> {
  csv = { name: file.name, text: await file.text() };
  await apply({ ...settings, data: 'csv', points: [] });
}

async function main(): Promise<void> {
  const read = readSettings(location.search);
  settings = read.settings;
  loadProblems = read.problems;
  fillSelect('model', MODELS, MODEL_LABELS);
  fillSelect('shape', COVARIANCES);
  fillSelect('cov', COVARIANCES);
  fillSelect('precision', PRECISION_OPTIONS);
  fillSelect('backend', BACKEND_OPTIONS);
  showSettings(settings);
  history.replaceState(null, '', writeSettings(settings));
  await chooseBackend();
  wire();
  await reset();
}

/** The page's state, for the browser test. */
export interface PlaygroundHandle {
  readonly ready: Promise<void>;
  settingsQuery(): string;
  readSettings: typeof readSettings;
  writeSettings: typeof writeSettings;
  backend(): string;
  runToEnd(): Promise<void>;
  /** Per method: the trace's bounds, the result's bound and log-likelihood, the `emlab fit --json` text. */
  snapshot(): { iteration: number; table: { rows: number; cols: number; values: number[]; columns: string[] } | null; lanes: { method: string; family: string | null; error: string | null; boundAfterE: number[]; boundAfterM: number[]; bound: number | null; logLikelihood: number | null; nIter: number | null; json: string | null; ms: number }[] };
}

const ready = main();
(window as unknown as { emlabPlayground: PlaygroundHandle }).emlabPlayground = {
  ready,
  settingsQuery: () => writeSettings(settings),
  readSettings,
  writeSettings,
  backend: () => currentBackend(),
  runToEnd,
  snapshot: () => ({
    iteration: race?.iteration ?? 0,
    table: table === null ? null : { rows: table.rows, cols: table.cols, values: Array.from(table.values), columns: [...table.columns] },
    lanes: (race?.lanes ?? []).map((l) => ({
      method: l.method,
      family: l.family,
      error: l.error,
      boundAfterE: l.records.map((r) => r.boundAfterE),
      boundAfterM: l.records.map((r) => r.boundAfterM),
      bound: l.result?.bound ?? null,
      logLikelihood: l.result?.logLikelihood ?? null,
      nIter: l.result?.nIter ?? null,
      json: l.result === null || race === null ? null : race.resultJson(l.method),
      ms: l.ms,
    })),
  }),
};
