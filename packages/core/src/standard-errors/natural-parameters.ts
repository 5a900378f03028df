/**
 * A model's parameters (plain JSON) as a named vector: every number, in document order.
 *
 * @module
 */

/**
 * Every number in `params` (nested objects and arrays, keys in insertion order) with its path,
 * e.g. `weights.0`, `means.1.0`, `covariances.0.1.1`, `cpts.smoke.3`. Strings and booleans are
 * skipped. These are the "natural parameters" whose standard errors `standardErrors` reports by the
 * delta method (covariance matrices appear entry by entry, so a symmetric pair has equal errors;
 * structural zeros have error 0).
 * @example
 * ```ts
 * flattenParams({ weights: [0.3, 0.7], covarianceType: 'full' }); // { names: ['weights.0', 'weights.1'], values: [0.3, 0.7] }
 * ```
 * @category Standard errors
 */
export function flattenParams(params: unknown): { names: string[]; values: Float64Array } {
  const names: string[] = [];
  const values: number[] = [];
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'number') {
      names.push(path);
      values.push(v);
    } else if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      const a = v as ArrayLike<unknown>;
      for (let i = 0; i < a.length; i++) walk(a[i], path === '' ? String(i) : `${path}.${i}`);
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) walk(x, path === '' ? k : `${path}.${k}`);
    }
  };
  walk(params, '');
  return { names, values: Float64Array.from(values) };
}
