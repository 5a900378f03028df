/**
 * The report's plots: Vega-Lite specifications compiled to Vega and rendered
 * to static SVG in Node (no DOM, no network), so the page needs no script.
 * @module
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { SeriesPoint } from './aggregate.js';

/** Which chart. @category Report */
export type ChartKind = 'bound-iteration' | 'bound-time' | 'gap-iteration';

/** A qualitative palette (Tableau 10), so a method keeps its colour across a section's plots. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const AXIS_TITLES: Record<ChartKind, { x: string; y: string }> = {
  'bound-iteration': { x: 'iteration', y: 'bound L(q, θ) after the M-step' },
  'bound-time': { x: 'elapsed time (ms)', y: 'bound L(q, θ) after the M-step' },
  'gap-iteration': { x: 'iteration', y: 'gap = log-likelihood − bound' },
};

/**
 * The Vega-Lite specification of one chart: a line per method (mean over
 * seeds) over a band (min to max over seeds); on the time axis the line
 * steps (a run's value holds until its next iteration ends).
 * @param methods - the section's methods, fixing the colour of each.
 * @category Report
 */
export function chartSpec(kind: ChartKind, points: readonly SeriesPoint[], methods: readonly string[]): TopLevelSpec {
  const values = points.map((p) => ({ ...p }));
  const titles = AXIS_TITLES[kind];
  // On the time axis a run's value holds until its next iteration ends.
  const interpolate = kind === 'bound-time' ? ('step-after' as const) : ('linear' as const);
  const perMethod = Math.max(0, ...methods.map((m) => values.filter((p) => p.method === m).length));
  // Only the methods drawn are in the legend; each keeps its section-wide colour.
  const drawn = methods.filter((m) => values.some((p) => p.method === m));
  const scale = { domain: drawn, range: drawn.map((m) => PALETTE[methods.indexOf(m) % PALETTE.length] as string) };
  const color = { field: 'method', type: 'nominal' as const, title: 'method', scale };
  const axis = kind === 'bound-time' ? {} : { tickMinStep: 1, format: 'd' };
  const xEnc = { field: 'x', type: 'quantitative' as const, title: titles.x, scale: { zero: false, nice: false }, axis };
  return {
    width: 380,
    height: 230,
    background: 'white',
    data: { values },
    config: { font: 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif', view: { stroke: '#ccc' } },
    // The band's colour has no legend of its own; the lines' legend names the methods.
    resolve: { legend: { color: 'independent' } },
    layer: [
      {
        mark: { type: 'area', opacity: 0.18, interpolate },
        encoding: { x: xEnc, y: { field: 'min', type: 'quantitative', title: titles.y, scale: { zero: false } }, y2: { field: 'max' }, color: { ...color, legend: null } },
      },
      {
        mark: { type: 'line', strokeWidth: 2, interpolate, point: perMethod <= 40 ? { filled: true, size: 22 } : false },
        encoding: { x: xEnc, y: { field: 'mean', type: 'quantitative', title: titles.y, scale: { zero: false } }, color },
      },
    ],
  };
}

/**
 * Renders a Vega-Lite specification to an SVG string (headless, in Node).
 * @category Report
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  // Loading is disabled: every chart carries its data inline.
  const loader = vega.loader({ mode: 'http' });
  const noLoad = { ...loader, load: async (uri: string): Promise<string> => Promise.reject(new Error(`report charts load no data (${uri})`)) };
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader: noLoad as unknown as vega.Loader, logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
