/**
 * The report's plots: Vega-Lite specifications compiled to Vega and rendered
 * to static SVG in Node (no DOM, no network), so the page needs no script.
 * Every run is its own line (no averaging across seeds); Monte Carlo
 * estimates carry a ± 2 standard-error band. vega and vega-lite are imported
 * only when a chart is rendered.
 * @module
 */
import type { TopLevelSpec } from 'vega-lite';
import type { PairedPoint, SeriesPoint } from './aggregate.js';

/** Which chart. @category Report */
export type ChartKind = 'bound-iteration' | 'distance-iteration' | 'bound-time' | 'paired' | 'gap-iteration' | 'bound-calls' | 'bound-passes' | 'sample-size';

/** A qualitative palette (Tableau 10), so a method keeps its colour across a section's plots. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const AXES: Record<ChartKind, { x: string; y: string; logY?: boolean; intX?: boolean }> = {
  'bound-iteration': { x: 'iteration', y: 'bound L(q, θ) after the M-step', intX: true },
  'distance-iteration': { x: 'iteration', y: 'best bound of the start − bound (log)', logY: true, intX: true },
  'bound-time': { x: 'cumulative fit time (ms)', y: 'bound L(q, θ) after the M-step' },
  paired: { x: 'method', y: 'best final bound of the start − final bound (log)', logY: true },
  'gap-iteration': { x: 'iteration', y: 'gap = log-likelihood − bound', intX: true },
  'bound-calls': { x: 'E-step calls', y: 'bound L(q, θ) after the M-step', intX: true },
  'bound-passes': { x: 'passes over the data', y: 'bound L(q, θ) after the M-step' },
  'sample-size': { x: 'iteration', y: 'Monte Carlo sample size', intX: true },
};

const CONFIG = { font: 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif', view: { stroke: '#ccc' } };

function colour(methods: readonly string[], drawn: readonly string[]): { field: string; type: 'nominal'; title: string; scale: { domain: string[]; range: string[] } } {
  return { field: 'method', type: 'nominal', title: 'method', scale: { domain: [...drawn], range: drawn.map((m) => PALETTE[methods.indexOf(m) % PALETTE.length] as string) } };
}

/**
 * The Vega-Lite specification of one per-run chart: a line per run (colour = method), points at each
 * iteration when there are few, and a ± 2 SE band around runs whose points carry `lo`/`hi`.
 * @param methods - the section's methods, fixing the colour of each.
 * @category Report
 */
export function chartSpec(kind: Exclude<ChartKind, 'paired'>, points: readonly SeriesPoint[], methods: readonly string[]): TopLevelSpec {
  const values = points.map((p) => ({ ...p }));
  const a = AXES[kind];
  const drawn = methods.filter((m) => values.some((p) => p.method === m));
  const color = colour(methods, drawn);
  const perRun = Math.max(0, ...[...new Set(values.map((p) => p.run))].map((r) => values.filter((p) => p.run === r).length));
  const xEnc = { field: 'x', type: 'quantitative' as const, title: a.x, scale: { zero: false, nice: false }, axis: a.intX ? { tickMinStep: 1, format: 'd' } : {} };
  const yScale = a.logY ? { type: 'log' as const } : { zero: false };
  const yAxis = kind === 'sample-size' ? { format: '~g' } : {};
  const banded = values.filter((p) => p.lo !== null && p.hi !== null);
  const layers: unknown[] = [];
  if (banded.length > 0) {
    layers.push({
      data: { values: banded },
      mark: { type: 'area', opacity: 0.16 },
      encoding: { x: xEnc, y: { field: 'lo', type: 'quantitative', title: a.y, scale: yScale }, y2: { field: 'hi' }, color: { ...color, legend: null }, detail: { field: 'run' } },
    });
  }
  layers.push({
    mark: { type: 'line', strokeWidth: 1.4, opacity: 0.8, point: perRun <= 30 ? { filled: true, size: 14 } : false },
    encoding: { x: xEnc, y: { field: 'y', type: 'quantitative', title: a.y, scale: yScale, axis: yAxis }, color, detail: { field: 'run' } },
  });
  return {
    width: 380,
    height: 230,
    background: 'white',
    data: { values },
    config: CONFIG,
    resolve: { legend: { color: 'independent' } },
    layer: layers,
  } as TopLevelSpec;
}

/**
 * The paired view: per shared start, each method's shortfall from the best final bound (log scale),
 * a grey line joining the methods of one start, a point per run.
 * @category Report
 */
export function pairedSpec(points: readonly PairedPoint[], methods: readonly string[]): TopLevelSpec {
  const values = points.map((p) => ({ ...p }));
  const drawn = methods.filter((m) => values.some((p) => p.method === m));
  const color = colour(methods, drawn);
  const a = AXES.paired;
  const x = { field: 'method', type: 'nominal' as const, title: a.x, sort: drawn, axis: { labelAngle: 0 } };
  const y = { field: 'shortfall', type: 'quantitative' as const, title: a.y, scale: { type: 'log' as const } };
  return {
    width: Math.max(220, 90 * drawn.length),
    height: 230,
    background: 'white',
    data: { values },
    config: CONFIG,
    layer: [
      { mark: { type: 'line', color: '#9aa3af', strokeWidth: 1, opacity: 0.6 }, encoding: { x, y, detail: { field: 'group' } } },
      { mark: { type: 'point', filled: true, size: 46, opacity: 0.9 }, encoding: { x, y, color, tooltip: [{ field: 'group' }, { field: 'method' }, { field: 'delta', format: '.6g' }] } },
    ],
  } as TopLevelSpec;
}

/**
 * Renders a Vega-Lite specification to an SVG string (headless, in Node). Loads vega and vega-lite
 * on first use.
 * @category Report
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = compile(spec).spec;
  // Loading is disabled: every chart carries its data inline.
  const loader = vega.loader({ mode: 'http' });
  const noLoad = { ...loader, load: async (uri: string): Promise<string> => Promise.reject(new Error(`report charts load no data (${uri})`)) };
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader: noLoad as unknown as import('vega').Loader, logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
