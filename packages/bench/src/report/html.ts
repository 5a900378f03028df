/**
 * HTML helpers of the report: escaping, number formatting and the page's style.
 * @module
 */

/** Escapes text for HTML content and quoted attribute values. @category Report */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/**
 * JSON for a `<script type="application/json">` element: `<`, U+2028 and
 * U+2029 are escaped so the text cannot close the element or break parsing;
 * non-finite numbers become null.
 * @category Report
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * A number with `digits` significant digits (integers below 1e9 in full;
 * exponent notation below 1e-3 and from 1e6 on). Non-finite numbers print as `NaN`, `∞`, `−∞`.
 * @category Report
 */
export function formatNumber(x: number, digits = 6): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (Number.isInteger(x) && a < 1e9) return String(x);
  if (a >= 1e6 || a < 1e-3) return x.toExponential(digits - 1).replace(/\.?0+e/, 'e');
  return String(Number(x.toPrecision(digits)));
}

/** The page's style sheet (inline: the report loads nothing). */
export const STYLE = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6473; --line: #d9dde3; --band: #f5f7fa; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); margin: 0 auto; max-width: 1320px; padding: 24px 28px 64px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 36px 0 6px; padding-top: 12px; border-top: 2px solid var(--line); }
h3 { font-size: 1rem; margin: 18px 0 6px; }
p, dl { max-width: 80ch; }
.muted, figcaption, small { color: var(--muted); }
code { font: 0.9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
table { border-collapse: collapse; margin: 6px 0 12px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
thead th { background: var(--band); font-weight: 600; }
.table-wrap { overflow-x: auto; max-width: 100%; }
table.metrics td.num, table.wtl td.num { text-align: right; white-space: nowrap; }
table.wtl td.missing { color: var(--muted); text-align: center; }
table.metrics thead th[data-method] { text-align: right; }
table.metrics td.missing { color: var(--muted); text-align: center; }
td .sd { color: var(--muted); }
dt { font-weight: 600; margin-top: 8px; }
dd { margin: 2px 0 0 18px; }
nav ol { columns: 2; max-width: 900px; }
.plots { display: flex; flex-wrap: wrap; gap: 18px; }
figure.plot { margin: 0; flex: 0 1 auto; max-width: 640px; }
figure.plot figcaption { max-width: 600px; }
figure.plot svg { display: block; max-width: 100%; height: auto; }
.note { background: #fff8e5; border-left: 3px solid #e0b341; padding: 6px 10px; max-width: 80ch; }
`;
