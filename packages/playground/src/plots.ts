/**
 * The two plots, drawn as SVG with no plotting library: the data with each component's
 * 2-standard-deviation ellipse (per method), and the bound against passes for every method on one
 * chart (dashed: the exact log-likelihood where the method computed it).
 * @module
 */
import type { IterationRecord } from '@emlab/core';

const SVG = 'http://www.w3.org/2000/svg';

/** Creates an SVG element with attributes. */
export function svgEl<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, parent?: Element): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  parent?.appendChild(el);
  return el;
}

/** A colour per method (stable by position). */
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22', '#393b79', '#637939'];
export const colourOf = (i: number): string => PALETTE[i % PALETTE.length] as string;

/** "Nice" axis ticks over [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag);
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

const tickText = (v: number): string => {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(6)));
};

interface Frame {
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

const sx = (f: Frame, x: number): number => f.left + ((x - f.x0) / (f.x1 - f.x0)) * f.width;
const sy = (f: Frame, y: number): number => f.top + (1 - (y - f.y0) / (f.y1 - f.y0)) * f.height;

/** Axes with ticks and labels into `g`. */
function axes(g: SVGGElement, f: Frame, xLabel: string, yLabel: string): void {
  const ax = svgEl('g', { class: 'axis', 'font-size': 10, fill: '#333' }, g);
  svgEl('line', { x1: f.left, x2: f.left + f.width, y1: f.top + f.height, y2: f.top + f.height, stroke: '#555' }, ax);
  svgEl('line', { x1: f.left, x2: f.left, y1: f.top, y2: f.top + f.height, stroke: '#555' }, ax);
  for (const t of ticks(f.x0, f.x1)) {
    const x = sx(f, t);
    svgEl('line', { class: 'tick', x1: x, x2: x, y1: f.top + f.height, y2: f.top + f.height + 4, stroke: '#555' }, ax);
    const tx = svgEl('text', { x, y: f.top + f.height + 15, 'text-anchor': 'middle' }, ax);
    tx.textContent = tickText(t);
  }
  for (const t of ticks(f.y0, f.y1)) {
    const y = sy(f, t);
    svgEl('line', { class: 'tick', x1: f.left - 4, x2: f.left, y1: y, y2: y, stroke: '#555' }, ax);
    svgEl('line', { x1: f.left, x2: f.left + f.width, y1: y, y2: y, stroke: '#eee' }, ax);
    const ty = svgEl('text', { x: f.left - 6, y: y + 3, 'text-anchor': 'end' }, ax);
    ty.textContent = tickText(t);
  }
  const xl = svgEl('text', { class: 'axis-label', x: f.left + f.width / 2, y: f.top + f.height + 30, 'text-anchor': 'middle', 'font-size': 11 }, ax);
  xl.textContent = xLabel;
  const yl = svgEl('text', { class: 'axis-label', x: 12, y: f.top + f.height / 2, 'text-anchor': 'middle', 'font-size': 11, transform: `rotate(-90 12 ${f.top + f.height / 2})` }, ax);
  yl.textContent = yLabel;
}

/** Range of finite values, padded. */
function extent(xs: Iterable<number>, pad = 0.05): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const x of xs) {
    if (!Number.isFinite(x)) continue;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (lo === Number.POSITIVE_INFINITY) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  const d = (hi - lo) * pad;
  return [lo - d, hi + d];
}

/** Mixture parameters as the plot reads them (any model with weights, means, covariances). */
export interface MixtureLike {
  readonly weights: readonly number[];
  readonly means: readonly (readonly number[])[];
  readonly covariances: readonly (readonly (readonly number[])[])[];
  readonly scale?: readonly number[];
}

export function isMixtureLike(p: unknown): p is MixtureLike {
  const q = p as Partial<MixtureLike> | null;
  return typeof q === 'object' && q !== null && Array.isArray(q.weights) && Array.isArray(q.means) && Array.isArray(q.covariances) && q.means.length === q.weights.length && q.covariances.length === q.weights.length;
}

/** A data panel: points drawn once, ellipses redrawn per update. */
export class DataPlot {
  readonly svg: SVGSVGElement;
  private readonly frame: Frame;
  private readonly overlay: SVGGElement;
  private readonly clicked: SVGGElement;

  /**
   * @param values - row-major `[rows × cols]`; the first two columns are plotted (rows with either missing are left out of the plot, not of the fit).
   */
  constructor(parent: HTMLElement, values: Float64Array, rows: number, cols: number, columns: readonly string[], width: number, height: number) {
    this.svg = svgEl('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'data-plot' });
    parent.appendChild(this.svg);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < rows; i++) {
      const x = values[i * cols] as number;
      const y = values[i * cols + 1] as number;
      if (Number.isFinite(x) && Number.isFinite(y)) {
        xs.push(x);
        ys.push(y);
      }
    }
    const [x0, x1] = extent(xs, 0.08);
    const [y0, y1] = extent(ys, 0.08);
    this.frame = { x0, x1, y0, y1, left: 46, top: 8, width: width - 56, height: height - 48 };
    const g = svgEl('g', {}, this.svg);
    axes(g, this.frame, columns[0] ?? 'x1', columns[1] ?? 'x2');
    // All points as one path of zero-length segments with round caps: one element for any N.
    let d = '';
    for (let i = 0; i < xs.length; i++) d += `M${sx(this.frame, xs[i] as number).toFixed(1)} ${sy(this.frame, ys[i] as number).toFixed(1)}h0`;
    svgEl('path', { class: 'points', d, stroke: '#444', 'stroke-opacity': 0.45, 'stroke-width': 3.2, 'stroke-linecap': 'round', fill: 'none', 'data-count': xs.length }, g);
    this.svg.setAttribute('data-points', String(xs.length));
    this.overlay = svgEl('g', { class: 'components' }, this.svg);
    this.clicked = svgEl('g', { class: 'clicked-points' }, this.svg);
  }

  /** Draws the clicked points (hollow rings with their index, for dragging). */
  drawClicked(points: readonly (readonly [number, number])[]): void {
    this.clicked.replaceChildren();
    points.forEach(([x, y], i) => {
      svgEl('circle', { class: 'clicked', cx: sx(this.frame, x), cy: sy(this.frame, y), r: 5, fill: '#fff', 'fill-opacity': 0.6, stroke: '#000', 'stroke-width': 1.5, 'data-index': i }, this.clicked);
    });
  }

  /** Moves a clicked point's ring to screen position (client coordinates), while dragging. */
  moveClicked(index: number, clientX: number, clientY: number): void {
    const ring = this.clicked.querySelector(`circle[data-index="${index}"]`);
    if (ring === null) return;
    const r = this.svg.getBoundingClientRect();
    ring.setAttribute('cx', String(clientX - r.left));
    ring.setAttribute('cy', String(clientY - r.top));
  }

  /** Data coordinates of a click (original units). */
  toData(clientX: number, clientY: number): [number, number] {
    const r = this.svg.getBoundingClientRect();
    const f = this.frame;
    const x = f.x0 + ((clientX - r.left - f.left) / f.width) * (f.x1 - f.x0);
    const y = f.y0 + (1 - (clientY - r.top - f.top) / f.height) * (f.y1 - f.y0);
    return [x, y];
  }

  /** Draws each component's mean and 2-sd ellipse of its (x1, x2) marginal. */
  drawComponents(params: unknown, colour: string): void {
    this.overlay.replaceChildren();
    if (!isMixtureLike(params)) return;
    const f = this.frame;
    params.weights.forEach((w, k) => {
      const m = params.means[k] as readonly number[];
      const c = params.covariances[k] as readonly (readonly number[])[];
      const s0 = params.scale?.[0] ?? 1;
      const s1 = params.scale?.[1] ?? 1;
      const a = (c[0]?.[0] ?? 0) * s0 * s0;
      const b = (c[0]?.[1] ?? 0) * s0 * s1;
      const d = (c[1]?.[1] ?? 0) * s1 * s1;
      // Eigen-decomposition of the 2 × 2 covariance [[a, b], [b, d]].
      const tr = (a + d) / 2;
      const disc = Math.sqrt(Math.max(0, ((a - d) / 2) ** 2 + b * b));
      const l1 = Math.max(0, tr + disc);
      const l2 = Math.max(0, tr - disc);
      // The first eigenvector is (b, l1 − a).
      const angle = b === 0 ? (a >= d ? 0 : Math.PI / 2) : Math.atan2(l1 - a, b);
      const pts: string[] = [];
      for (let i = 0; i <= 48; i++) {
        const t = (i / 48) * 2 * Math.PI;
        const u = 2 * Math.sqrt(l1) * Math.cos(t);
        const v = 2 * Math.sqrt(l2) * Math.sin(t);
        const x = (m[0] ?? 0) + u * Math.cos(angle) - v * Math.sin(angle);
        const y = (m[1] ?? 0) + u * Math.sin(angle) + v * Math.cos(angle);
        pts.push(`${sx(f, x).toFixed(1)},${sy(f, y).toFixed(1)}`);
      }
      const opacity = Math.min(1, 0.35 + 2 * w);
      svgEl('polygon', { class: 'ellipse', points: pts.join(' '), fill: colour, 'fill-opacity': 0.08, stroke: colour, 'stroke-width': 1.6, 'stroke-opacity': opacity, 'data-weight': w }, this.overlay);
      svgEl('circle', { class: 'mean', cx: sx(f, m[0] ?? 0), cy: sy(f, m[1] ?? 0), r: 3.5, fill: colour, stroke: '#fff', 'stroke-width': 1 }, this.overlay);
    });
  }
}

/** One method's series on the bound chart. */
export interface BoundSeries {
  readonly method: string;
  readonly colour: string;
  readonly records: readonly IterationRecord[];
  /** Draw the log-likelihood (dashed) too: for methods whose bound is not the log-likelihood. */
  readonly logLikelihood: boolean;
}

/** The bound against passes for every method (solid), and the log-likelihood where known (dashed). */
export function drawBoundChart(parent: HTMLElement, series: readonly BoundSeries[], width: number, height: number, zoom: boolean): SVGSVGElement {
  const svg = svgEl('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'bound-chart' });
  const pts = (r: IterationRecord): number => r.passes;
  const allX: number[] = [0];
  const allY: number[] = [];
  for (const s of series) {
    for (const [i, r] of s.records.entries()) {
      allX.push(pts(r));
      // Zoomed: leave out each method's first quarter of iterations from the y range.
      if (zoom && i < Math.floor(s.records.length / 4)) continue;
      allY.push(r.boundAfterE);
      if (r.logLikelihood !== null && s.records.length > 0) allY.push(r.logLikelihood);
    }
  }
  const [x0, x1] = extent(allX, 0.02);
  const [y0, y1] = extent(allY, 0.06);
  const legendWidth = 150;
  const f: Frame = { x0: Math.max(0, x0), x1, y0, y1, left: 70, top: 10, width: width - 90 - legendWidth, height: height - 50 };
  const g = svgEl('g', {}, svg);
  axes(g, f, 'passes over the data', 'bound L(q, θ)');
  const clipId = 'bound-clip';
  const defs = svgEl('defs', {}, svg);
  const clip = svgEl('clipPath', { id: clipId }, defs);
  svgEl('rect', { x: f.left, y: f.top, width: f.width, height: f.height }, clip);
  const marks = svgEl('g', { class: 'marks', 'clip-path': `url(#${clipId})` }, svg);
  for (const s of series) {
    if (s.records.length === 0) continue;
    const line = s.records.map((r, i) => `${i === 0 ? 'M' : 'L'}${sx(f, pts(r)).toFixed(2)} ${sy(f, r.boundAfterE).toFixed(2)}`).join('');
    svgEl('path', { class: 'bound-line', 'data-method': s.method, d: line, fill: 'none', stroke: s.colour, 'stroke-width': 2 }, marks);
    const ll = s.records.filter((r) => r.logLikelihood !== null);
    if (s.logLikelihood && ll.length > 1) {
      const d = ll.map((r, i) => `${i === 0 ? 'M' : 'L'}${sx(f, pts(r)).toFixed(2)} ${sy(f, r.logLikelihood as number).toFixed(2)}`).join('');
      svgEl('path', { class: 'loglik-line', 'data-method': s.method, d, fill: 'none', stroke: s.colour, 'stroke-width': 1.2, 'stroke-dasharray': '4 3' }, marks);
    }
  }
  const legend = svgEl('g', { class: 'legend', 'font-size': 11 }, svg);
  series.forEach((s, i) => {
    const y = f.top + 8 + i * 16;
    const x = f.left + f.width + 16;
    svgEl('line', { x1: x, x2: x + 18, y1: y, y2: y, stroke: s.colour, 'stroke-width': 2.5 }, legend);
    const t = svgEl('text', { class: 'legend-label', x: x + 24, y: y + 4 }, legend);
    t.textContent = s.method;
  });
  const note = svgEl('text', { x: f.left + f.width + 16, y: f.top + 16 + series.length * 16 + 6, 'font-size': 10, fill: '#555' }, legend);
  note.textContent = 'dashed: log-likelihood';
  parent.replaceChildren(svg);
  return svg;
}

/** A state colour (for the HMM's decoded states): distinct from the method colours' order. */
export const stateColourOf = (k: number): string => (['#e41a1c', '#377eb8', '#4daf4a', '#984ea3', '#ff7f00', '#a65628', '#f781bf', '#999999', '#66c2a5', '#fc8d62', '#8da0cb', '#e78ac3'] as const)[k % 12] as string;

/** The HMM's emission parameters as the series plot reads them (Gaussian, first coordinate). */
function stateMeans(params: unknown): { means: number[]; sds: number[] } | null {
  const e = (params as { emission?: { means?: unknown; covariances?: unknown } } | null)?.emission;
  if (e === undefined || !Array.isArray(e.means) || !Array.isArray(e.covariances)) return null;
  const means = (e.means as number[][]).map((m) => m[0] ?? 0);
  const sds = (e.covariances as number[][][]).map((c) => Math.sqrt(Math.max(0, c[0]?.[0] ?? 0)));
  return { means, sds };
}

/** An HMM panel: the series against time, points coloured by the decoded (Viterbi) state, each state's mean ± 2 sd. */
export class SeriesPlot {
  readonly svg: SVGSVGElement;
  private readonly frame: Frame;
  private readonly overlay: SVGGElement;
  private readonly xs: number[] = [];
  private readonly ys: number[] = [];

  constructor(parent: HTMLElement, values: Float64Array, rows: number, column: string, width: number, height: number) {
    this.svg = svgEl('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'series-plot' });
    parent.appendChild(this.svg);
    for (let t = 0; t < rows; t++) {
      const y = values[t] as number;
      if (Number.isFinite(y)) {
        this.xs.push(t + 1);
        this.ys.push(y);
      }
    }
    const [y0, y1] = extent(this.ys, 0.08);
    this.frame = { x0: 0, x1: Math.max(1, rows + 1), y0, y1, left: 46, top: 8, width: width - 56, height: height - 48 };
    const g = svgEl('g', {}, this.svg);
    axes(g, this.frame, 'time step t', column);
    this.svg.setAttribute('data-points', String(this.xs.length));
    this.overlay = svgEl('g', { class: 'states' }, this.svg);
    this.drawStates(null, null, '#444');
  }

  /**
   * Redraws the points coloured by `states` (one per time step, observed or not; null: grey) and
   * each state's mean ± 2 sd band from `params` in the method's colour.
   */
  drawStates(params: unknown, states: Int32Array | null, colour: string): void {
    this.overlay.replaceChildren();
    const f = this.frame;
    const sm = stateMeans(params);
    if (sm !== null) {
      sm.means.forEach((m, k) => {
        const sd = sm.sds[k] ?? 0;
        const top = sy(f, Math.min(f.y1, m + 2 * sd));
        const bottom = sy(f, Math.max(f.y0, m - 2 * sd));
        svgEl('rect', { class: 'state-band', x: f.left, y: top, width: f.width, height: Math.max(0, bottom - top), fill: stateColourOf(k), 'fill-opacity': 0.07 }, this.overlay);
        svgEl('line', { class: 'state-mean', x1: f.left, x2: f.left + f.width, y1: sy(f, m), y2: sy(f, m), stroke: colour, 'stroke-width': 1.4, 'stroke-dasharray': '5 3' }, this.overlay);
      });
    }
    const paths = new Map<number, string>();
    for (let i = 0; i < this.xs.length; i++) {
      const t = this.xs[i] as number;
      const k = states === null ? -1 : (states[t - 1] ?? -1);
      paths.set(k, `${paths.get(k) ?? ''}M${sx(f, t).toFixed(1)} ${sy(f, this.ys[i] as number).toFixed(1)}h0`);
    }
    for (const [k, d] of paths) {
      svgEl('path', { class: 'points', 'data-state': k, d, stroke: k < 0 ? '#444' : stateColourOf(k), 'stroke-opacity': 0.8, 'stroke-width': 3.2, 'stroke-linecap': 'round', fill: 'none' }, this.overlay);
    }
  }
}
