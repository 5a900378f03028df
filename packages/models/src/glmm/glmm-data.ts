/**
 * GLMM data: validation, a stable sort of the rows into contiguous groups,
 * parameter validation, per-group views, and a seeded data generator.
 * @module
 */
import { cholesky, createRng, emError, type Rng, type Seed } from '@emlab/core';
import {
  GLMM_FAMILIES,
  type GlmmData,
  type GlmmDataInput,
  type GlmmFamily,
  type GlmmGroup,
  type GlmmMatrix,
  type GlmmParams,
  type RandomCovarianceType,
} from './glmm-types.js';

/** Size of the log-factorial table; larger counts use Stirling's series (truncation error < 1e-19 there, far below roundoff). */
const LOG_FACTORIAL_TABLE_SIZE = 1024;
let logFactorialTable: Float64Array | undefined;

/**
 * log y! for an integer y ≥ 0: a cumulative sum of log k up to 1023, then
 * Stirling's series with three correction terms (truncation error < 1/(1188 y⁷) < 1e-19 for
 * y ≥ 1024, so the result is exact to float64 roundoff of its own size).
 * @category GLMM
 */
export function logFactorial(y: number): number {
  if (logFactorialTable === undefined) {
    const t = new Float64Array(LOG_FACTORIAL_TABLE_SIZE);
    for (let k = 2; k < LOG_FACTORIAL_TABLE_SIZE; k++) t[k] = t[k - 1]! + Math.log(k);
    logFactorialTable = t;
  }
  if (y < LOG_FACTORIAL_TABLE_SIZE) return logFactorialTable[y]!;
  const n = y;
  const inv = 1 / n;
  const inv2 = inv * inv;
  return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260));
}

function isMatrix(m: unknown): m is GlmmMatrix {
  return typeof m === 'object' && m !== null && !Array.isArray(m) && 'values' in m && 'rows' in m && 'cols' in m;
}

/** Reads `x` or `z` into a row-major Float64Array `[n, cols]`, checking the shape and that every entry is finite. */
function readCovariates(m: GlmmDataInput['x'], name: 'x' | 'z', n: number): { values: Float64Array; cols: number } {
  let cols: number;
  let at: (r: number, c: number) => unknown;
  if (isMatrix(m)) {
    if (m.rows !== n) throw emError('INVALID_DATA', ['data', name], m.rows, `has ${m.rows} rows but y has ${n}`, `give ${name} one row per response`);
    cols = m.cols;
    if (!Number.isInteger(cols) || cols < 0 || m.values.length !== n * cols) {
      throw emError('INVALID_DATA', ['data', name, 'values'], m.values, `must hold rows × cols = ${n} × ${cols} numbers`, 'pass a row-major array of matching length');
    }
    at = (r, c) => m.values[r * cols + c];
  } else if (Array.isArray(m)) {
    if (m.length !== n) throw emError('INVALID_DATA', ['data', name], m, `has ${m.length} rows but y has ${n}`, `give ${name} one row per response`);
    const rows = m as readonly (readonly number[])[];
    const first = rows[0];
    if (!Array.isArray(first)) throw emError('INVALID_DATA', ['data', name, 0], first, 'must be an array of numbers', `give ${name} as number[][] (one array per row)`);
    cols = first.length;
    for (let r = 0; r < n; r++) {
      const row = rows[r];
      if (!Array.isArray(row)) throw emError('INVALID_DATA', ['data', name, r], row, 'must be an array of numbers', `give ${name} as number[][] (one array per row)`);
      if (row.length !== cols) throw emError('INVALID_DATA', ['data', name, r], row, `has ${row.length} values but row 0 has ${cols}`, `give every row of ${name} the same number of columns`);
    }
    at = (r, c) => rows[r]![c];
  } else {
    throw emError('INVALID_DATA', ['data', name], m, 'must be an array of rows or a dense matrix { values, rows, cols }', `pass ${name} as number[][]`);
  }
  if (cols === 0) {
    const what = name === 'x' ? 'fixed effects (p = 0)' : 'random effects (q = 0)';
    const remedy = name === 'x' ? 'add at least a column of ones (an intercept) to x' : 'give z at least a column of ones (a random intercept)';
    throw emError('INVALID_DATA', ['data', name], m, `has no columns: the model needs at least one of its ${what}`, remedy);
  }
  const values = new Float64Array(n * cols);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < cols; c++) {
      const v = at(r, c);
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw emError('INVALID_DATA', ['data', name, r, c], v, `${name}[${r}][${c}] must be a finite number`, `remove or impute row ${r}: covariates cannot be missing or infinite`);
      }
      values[r * cols + c] = v;
    }
  }
  return { values, cols };
}

function checkResponse(family: GlmmFamily, y: ArrayLike<number>, n: number): void {
  for (let r = 0; r < n; r++) {
    const v = y[r];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw emError('INVALID_DATA', ['data', 'y', r], v, 'must be a finite number', `remove row ${r} or give its response`);
    }
    if (family === 'logistic' && v !== 0 && v !== 1) {
      throw emError('INVALID_DATA', ['data', 'y', r], v, 'must be 0 or 1 for the logistic (Bernoulli) family', 'code the response as 0/1');
    }
    if (family === 'poisson' && (v < 0 || !Number.isInteger(v))) {
      throw emError('INVALID_DATA', ['data', 'y', r], v, 'must be a non-negative integer count for the Poisson family', 'give counts 0, 1, 2, ...');
    }
  }
}

function compareIds(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/**
 * Validates GLMM data and sorts its rows stably by group.
 *
 * Groups are ordered by id (numbers ascending, strings by code unit), or as
 * listed in `levels` when given (then every level must have a row). Within a
 * group, rows keep their input order.
 *
 * @param input Rows with group ids, responses and covariates; optional `levels` lists every group id.
 * @returns The sorted data with group ranges `groupStart` (`[G + 1]`).
 * @throws EmError `INVALID_ARGUMENT` for an unknown family; `INVALID_DATA` naming the field and row for:
 *   y not in {0, 1} (logistic), negative or non-integer counts (Poisson), NaN/±Inf responses or
 *   covariates, p = 0 or q = 0, more fixed effects than rows, ragged or mis-sized x/z/group,
 *   a group id that is not a finite number or string, or a level with no rows.
 * @category GLMM
 */
export function prepareGlmmData(input: GlmmDataInput & { readonly levels?: readonly (number | string)[] }): GlmmData {
  const { family } = input;
  if (!GLMM_FAMILIES.includes(family)) {
    throw emError('INVALID_ARGUMENT', ['data', 'family'], family, `must be one of ${GLMM_FAMILIES.join(', ')}`, "pass family: 'poisson' or 'logistic'");
  }
  const y = input.y;
  if (y === null || typeof y !== 'object' || typeof y.length !== 'number') {
    throw emError('INVALID_DATA', ['data', 'y'], y, 'must be an array of numbers', 'pass one response per row');
  }
  const n = y.length;
  if (n === 0) throw emError('INVALID_DATA', ['data', 'y'], y, 'has no rows', 'pass at least one row');
  checkResponse(family, y, n);
  const x = readCovariates(input.x, 'x', n);
  const z = readCovariates(input.z, 'z', n);
  const p = x.cols;
  const q = z.cols;
  if (p > n) {
    throw emError('INVALID_DATA', ['data', 'x'], p, `has p = ${p} fixed effects but only ${n} rows`, 'use fewer fixed-effect columns than rows (β is not identifiable otherwise)');
  }
  const group = input.group;
  if (group === null || typeof group !== 'object' || group.length !== n) {
    throw emError('INVALID_DATA', ['data', 'group'], group, `must give a group id for each of the ${n} rows`, 'pass one group id per row');
  }
  let kind: 'number' | 'string' | undefined;
  for (let r = 0; r < n; r++) {
    const g = group[r];
    const k = typeof g === 'number' && Number.isFinite(g) ? 'number' : typeof g === 'string' ? 'string' : undefined;
    if (k === undefined) throw emError('INVALID_DATA', ['data', 'group', r], g, 'must be a finite number or a string', `give row ${r} a group id`);
    if (kind === undefined) kind = k;
    else if (kind !== k) throw emError('INVALID_DATA', ['data', 'group', r], g, `is a ${k} but row 0 has a ${kind} group id`, 'use one type of group id (all numbers or all strings)');
  }

  // Group ids and their order.
  let ids: (number | string)[];
  const index = new Map<number | string, number>();
  if (input.levels !== undefined) {
    ids = [...input.levels];
    ids.forEach((id, i) => {
      if (index.has(id)) throw emError('INVALID_DATA', ['data', 'levels', i], id, 'is listed twice', 'list each group id once');
      index.set(id, i);
    });
  } else {
    const seen = new Set<number | string>();
    for (let r = 0; r < n; r++) seen.add(group[r]!);
    ids = [...seen].sort(compareIds);
    ids.forEach((id, i) => index.set(id, i));
  }
  const G = ids.length;
  const groupOf = new Int32Array(n);
  const counts = new Int32Array(G);
  for (let r = 0; r < n; r++) {
    const gi = index.get(group[r]!);
    if (gi === undefined) throw emError('INVALID_DATA', ['data', 'group', r], group[r], 'is not one of the listed levels', 'add it to levels or fix the group id');
    groupOf[r] = gi;
    counts[gi]!++;
  }
  for (let g = 0; g < G; g++) {
    if (counts[g] === 0) throw emError('INVALID_DATA', ['data', 'levels', g], ids[g], 'is a group with no rows', 'drop the level: a group without rows carries no information');
  }
  // Counting sort by group index: stable.
  const groupStart = new Int32Array(G + 1);
  for (let g = 0; g < G; g++) groupStart[g + 1] = groupStart[g]! + counts[g]!;
  const fill = groupStart.slice(0, G);
  const order = new Int32Array(n);
  for (let r = 0; r < n; r++) order[fill[groupOf[r]!]!++] = r;

  const ys = new Float64Array(n);
  const xs = new Float64Array(n * p);
  const zs = new Float64Array(n * q);
  for (let i = 0; i < n; i++) {
    const r = order[i]!;
    ys[i] = y[r]!;
    xs.set(x.values.subarray(r * p, (r + 1) * p), i * p);
    zs.set(z.values.subarray(r * q, (r + 1) * q), i * q);
  }
  const logFactorialSum = new Float64Array(G);
  if (family === 'poisson') {
    for (let g = 0; g < G; g++) {
      let s = 0;
      for (let i = groupStart[g]!; i < groupStart[g + 1]!; i++) s += logFactorial(ys[i]!);
      logFactorialSum[g] = s;
    }
  }
  return { family, nRows: n, p, q, nGroups: G, y: ys, x: xs, z: zs, groupStart, groupIds: ids, order, logFactorialSum };
}

/**
 * Group g's rows as views into the sorted data (no copies).
 * @throws EmError `INVALID_ARGUMENT` if g is not a group index.
 * @category GLMM
 */
export function groupView(data: GlmmData, g: number): GlmmGroup {
  if (!Number.isInteger(g) || g < 0 || g >= data.nGroups) {
    throw emError('INVALID_ARGUMENT', ['g'], g, `must be a group index in [0, ${data.nGroups})`, 'pass a group index');
  }
  const a = data.groupStart[g]!;
  const b = data.groupStart[g + 1]!;
  const { p, q } = data;
  return {
    family: data.family,
    n: b - a,
    p,
    q,
    y: data.y.subarray(a, b),
    x: data.x.subarray(a * p, b * p),
    z: data.z.subarray(a * q, b * q),
    logFactorialSum: data.logFactorialSum[g]!,
  };
}

/**
 * Checks GLMM parameters against p and q: β finite `[p]`; Σ_b `[q, q]` finite,
 * symmetric (to 1e-12 relative), positive definite, and diagonal when
 * `covarianceType` is `'diagonal'`.
 * @throws EmError `INVALID_PARAMS` naming `params.beta[j]` or `params.sigma`.
 * @category GLMM
 */
export function validateGlmmParams(params: GlmmParams, p: number, q: number, covarianceType: RandomCovarianceType = 'full'): void {
  const { beta, sigma } = params;
  if (!(beta instanceof Float64Array) || beta.length !== p) {
    throw emError('INVALID_PARAMS', ['params', 'beta'], beta, `must be a Float64Array of length p = ${p}`, 'give one coefficient per column of x');
  }
  for (let j = 0; j < p; j++) {
    if (!Number.isFinite(beta[j]!)) throw emError('INVALID_PARAMS', ['params', 'beta', j], beta[j], 'must be finite', 'give finite fixed effects');
  }
  if (!(sigma instanceof Float64Array) || sigma.length !== q * q) {
    throw emError('INVALID_PARAMS', ['params', 'sigma'], sigma, `must be a row-major Float64Array of length q² = ${q * q}`, 'give the q×q random-effect covariance');
  }
  let scale = 0;
  for (let i = 0; i < q * q; i++) {
    if (!Number.isFinite(sigma[i]!)) throw emError('INVALID_PARAMS', ['params', 'sigma', Math.floor(i / q), i % q], sigma[i], 'must be finite', 'give a finite covariance');
    scale = Math.max(scale, Math.abs(sigma[i]!));
  }
  for (let i = 0; i < q; i++) {
    for (let j = 0; j < i; j++) {
      const a = sigma[i * q + j]!;
      const b = sigma[j * q + i]!;
      if (Math.abs(a - b) > 1e-12 * scale) throw emError('INVALID_PARAMS', ['params', 'sigma', i, j], a, `differs from sigma[${j}][${i}] = ${b}: Σ_b must be symmetric`, 'symmetrize it');
      if (covarianceType === 'diagonal' && a !== 0) throw emError('INVALID_PARAMS', ['params', 'sigma', i, j], a, 'must be 0 for a diagonal Σ_b', "zero the off-diagonal entries or use covarianceType 'full'");
    }
  }
  if (cholesky(sigma, q) === null) {
    throw emError('INVALID_PARAMS', ['params', 'sigma'], sigma, 'is not positive definite', 'give variances > 0 and correlations strictly inside (−1, 1)');
  }
}

/** Options of {@link generateGlmmData}. @category GLMM */
export interface GenerateGlmmOptions {
  readonly family: GlmmFamily;
  readonly nGroups: number;
  /** Rows per group: a number, or `[min, max]` drawn uniformly per group. */
  readonly groupSize: number | readonly [number, number];
  /** `[p]` fixed effects, p ≥ 1. */
  readonly beta: readonly number[];
  /** `[q][q]` Σ_b with q = 1 or 2. */
  readonly sigma: readonly (readonly number[])[];
  readonly seed: Seed;
}

/** What {@link generateGlmmData} returns. @category GLMM */
export interface GeneratedGlmm {
  readonly input: GlmmDataInput;
  readonly data: GlmmData;
  readonly params: GlmmParams;
  /** `[G, q]` the random effects drawn. */
  readonly b: Float64Array;
}

/**
 * A Poisson(λ) draw: multiplication of uniforms for λ < 10, otherwise
 * Hörmann's transformed rejection with squeeze (PTRS).
 * @see Hörmann, W. (1993). The transformed rejection method for generating Poisson random variables. Insurance: Mathematics and Economics 12, 39–45.
 * @category GLMM
 */
export function poissonDraw(rng: Rng, lambda: number): number {
  if (lambda < 10) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let prod = rng.uniform();
    while (prod > limit) {
      k++;
      prod *= rng.uniform();
    }
    return k;
  }
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.uniform() - 0.5;
    const v = rng.uniform();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logFactorial(k)) return k;
  }
}

/**
 * Seeded GLMM data. Columns of x: 1, then t (when p ≥ 2), then standard
 * normals; z = [1] (q = 1) or [1, t] (q = 2), where t runs evenly over
 * [−1, 1] within each group (0 for a one-row group). b_g ~ N(0, Σ_b), then
 * y_gi ~ Poisson(exp η_gi) or Bernoulli(logistic η_gi).
 *
 * Streams: `<seed>/glmm/sizes`, `<seed>/glmm/x`, `<seed>/glmm/b`, `<seed>/glmm/y`.
 * @throws EmError `INVALID_ARGUMENT` for a bad option; `INVALID_PARAMS` for a Σ_b that is not positive definite.
 * @category GLMM
 */
export function generateGlmmData(options: GenerateGlmmOptions): GeneratedGlmm {
  const { family, nGroups, groupSize, beta, sigma, seed } = options;
  if (!GLMM_FAMILIES.includes(family)) throw emError('INVALID_ARGUMENT', ['options', 'family'], family, `must be one of ${GLMM_FAMILIES.join(', ')}`, "pass 'poisson' or 'logistic'");
  if (!Number.isInteger(nGroups) || nGroups < 1) throw emError('INVALID_ARGUMENT', ['options', 'nGroups'], nGroups, 'must be an integer >= 1', 'pass e.g. nGroups: 30');
  const [minSize, maxSize] = typeof groupSize === 'number' ? [groupSize, groupSize] : groupSize;
  if (!Number.isInteger(minSize) || !Number.isInteger(maxSize) || minSize < 1 || maxSize < minSize) {
    throw emError('INVALID_ARGUMENT', ['options', 'groupSize'], groupSize, 'must be an integer >= 1 or [min, max] with 1 <= min <= max', 'pass e.g. groupSize: 10 or [5, 15]');
  }
  const p = beta.length;
  if (p < 1 || beta.some((v) => !Number.isFinite(v))) throw emError('INVALID_ARGUMENT', ['options', 'beta'], beta, 'must be a non-empty array of finite numbers', 'pass e.g. beta: [0.5, 0.3]');
  const q = sigma.length;
  if (q !== 1 && q !== 2) throw emError('INVALID_ARGUMENT', ['options', 'sigma'], sigma, 'must be 1×1 or 2×2', 'pass e.g. sigma: [[0.5]]');
  const sig = new Float64Array(q * q);
  for (let i = 0; i < q; i++) {
    const row = sigma[i];
    if (row === undefined || row.length !== q) throw emError('INVALID_ARGUMENT', ['options', 'sigma', i], row, `must have ${q} entries`, 'pass a square matrix');
    for (let j = 0; j < q; j++) sig[i * q + j] = row[j]!;
  }
  const params: GlmmParams = { beta: Float64Array.from(beta), sigma: sig };
  validateGlmmParams(params, p, q);
  const L = cholesky(sig, q)!;

  const root = createRng(seed).child('glmm');
  const sizeRng = root.child('sizes');
  const xRng = root.child('x');
  const bRng = root.child('b');
  const yRng = root.child('y');
  const sizes: number[] = [];
  for (let g = 0; g < nGroups; g++) sizes.push(minSize + sizeRng.int(maxSize - minSize + 1));
  const n = sizes.reduce((s, v) => s + v, 0);
  const group = new Int32Array(n);
  const y = new Float64Array(n);
  const x = new Float64Array(n * p);
  const z = new Float64Array(n * q);
  const b = new Float64Array(nGroups * q);
  let r = 0;
  for (let g = 0; g < nGroups; g++) {
    const eps = Array.from({ length: q }, () => bRng.normal());
    for (let i = 0; i < q; i++) {
      let s = 0;
      for (let k = 0; k <= i; k++) s += L[i * q + k]! * eps[k]!;
      b[g * q + i] = s;
    }
    const ng = sizes[g]!;
    for (let i = 0; i < ng; i++, r++) {
      const t = ng > 1 ? -1 + (2 * i) / (ng - 1) : 0;
      group[r] = g;
      x[r * p] = 1;
      if (p >= 2) x[r * p + 1] = t;
      for (let j = 2; j < p; j++) x[r * p + j] = xRng.normal();
      z[r * q] = 1;
      if (q === 2) z[r * q + 1] = t;
      let eta = 0;
      for (let j = 0; j < p; j++) eta += x[r * p + j]! * beta[j]!;
      for (let k = 0; k < q; k++) eta += z[r * q + k]! * b[g * q + k]!;
      y[r] = family === 'poisson' ? poissonDraw(yRng, Math.exp(eta)) : yRng.uniform() < 1 / (1 + Math.exp(-eta)) ? 1 : 0;
    }
  }
  const input: GlmmDataInput = { family, group, y, x: { values: x, rows: n, cols: p }, z: { values: z, rows: n, cols: q } };
  return { input, data: prepareGlmmData(input), params, b };
}
