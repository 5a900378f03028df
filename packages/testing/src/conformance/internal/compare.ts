/**
 * Comparing plain numeric data (parameters, statistics) leaf by leaf, with a
 * relative tolerance whose scale is the largest magnitude in the leaf's
 * array (so a covariance entry near 0 is judged against its matrix, not
 * against itself).
 * @module
 */

/** The worst leaf of a comparison. */
export interface Discrepancy {
  /** Largest |a − b| / scale over the numeric leaves (Infinity for a shape mismatch). */
  readonly relative: number;
  /** Where, e.g. `means[1][0]`. */
  readonly path: string;
  readonly a: unknown;
  readonly b: unknown;
}

const isNumericArray = (v: unknown): v is ArrayLike<unknown> => Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));

function maxAbs(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.abs(v) : 0;
  if (isNumericArray(v)) {
    let m = 0;
    for (let i = 0; i < v.length; i++) m = Math.max(m, maxAbs(v[i]));
    return m;
  }
  if (typeof v === 'object' && v !== null) {
    let m = 0;
    for (const x of Object.values(v)) m = Math.max(m, maxAbs(x));
    return m;
  }
  return 0;
}

/**
 * Walks `a` and `b` in parallel and returns their worst relative difference. Numbers inside arrays
 * are compared against the largest magnitude in the outermost array that holds them (at least
 * `floor`); other numbers against their own magnitude. NaN equals NaN; strings, booleans and null
 * must be equal; keys and lengths must match.
 */
export function discrepancy(a: unknown, b: unknown, floor = 1e-300): Discrepancy {
  let worst: Discrepancy = { relative: 0, path: '', a, b };
  const note = (relative: number, path: string, x: unknown, y: unknown): void => {
    if (relative > worst.relative || (Number.isNaN(relative) && !Number.isNaN(worst.relative))) worst = { relative: Number.isNaN(relative) ? Number.POSITIVE_INFINITY : relative, path, a: x, b: y };
  };
  const walk = (x: unknown, y: unknown, path: string, scale: number | undefined): void => {
    if (typeof x === 'number' && typeof y === 'number') {
      if (Number.isNaN(x) && Number.isNaN(y)) return;
      if (x === y) return;
      const s = Math.max(scale ?? Math.max(Math.abs(x), Math.abs(y)), floor);
      note(Math.abs(x - y) / s, path, x, y);
      return;
    }
    if (isNumericArray(x) && isNumericArray(y)) {
      if (x.length !== y.length) return note(Number.POSITIVE_INFINITY, `${path} (length ${x.length} vs ${y.length})`, x, y);
      const s = scale ?? Math.max(maxAbs(x), maxAbs(y));
      for (let i = 0; i < x.length; i++) walk(x[i], y[i], `${path}[${i}]`, s);
      return;
    }
    if (typeof x === 'object' && x !== null && typeof y === 'object' && y !== null && !isNumericArray(x) && !isNumericArray(y)) {
      const kx = Object.keys(x).sort();
      const ky = Object.keys(y).sort();
      if (kx.join('\u0000') !== ky.join('\u0000')) return note(Number.POSITIVE_INFINITY, `${path} (keys ${kx.join(',')} vs ${ky.join(',')})`, x, y);
      for (const k of kx) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`, undefined);
      return;
    }
    if (x !== y) note(Number.POSITIVE_INFINITY, path === '' ? '(value)' : path, x, y);
  };
  walk(a, b, '', undefined);
  return worst;
}

/** Every number leaf of plain data, in walk order, with its path (for mutations). */
export function numericLeaves(v: unknown, path: readonly (string | number)[] = []): { path: (string | number)[]; value: number }[] {
  if (typeof v === 'number') return [{ path: [...path], value: v }];
  if (Array.isArray(v)) return v.flatMap((x, i) => numericLeaves(x, [...path, i]));
  if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v)) return Object.entries(v).flatMap(([k, x]) => numericLeaves(x, [...path, k]));
  return [];
}

/** A deep copy of plain JSON data with the value at `path` replaced. */
export function replaceAt(v: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? replaceAt(x, rest, value) : x));
  const o = v as Record<string, unknown>;
  return { ...o, [head]: replaceAt(o[head], rest, value) };
}

/** The first array found walking plain data (depth first, keys in order), with its path. */
export function firstArray(v: unknown, path: readonly (string | number)[] = []): (string | number)[] | undefined {
  if (Array.isArray(v)) return [...path];
  if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v)) {
    for (const [k, x] of Object.entries(v)) {
      const p = firstArray(x, [...path, k]);
      if (p !== undefined) return p;
    }
  }
  return undefined;
}

/** Reads the value at `path`. */
export function valueAt(v: unknown, path: readonly (string | number)[]): unknown {
  let x = v;
  for (const p of path) x = (x as Record<string | number, unknown>)[p];
  return x;
}

/** `path` as `a.b[2]`. */
export function pathText(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out === '' ? '(value)' : out;
}
