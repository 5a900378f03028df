#!/usr/bin/env node
// The genetic-linkage example of Dempster, Laird & Rubin (1977, §1) as an emlab plug-in model, in
// plain JavaScript arrays (no TensorFlow.js).
//
// 197 animals fall into four categories with counts (125, 18, 20, 34) and cell probabilities
// (1/2 + π/4, (1 − π)/4, (1 − π)/4, π/4). EM splits the first cell into two latent parts with
// probabilities 1/2 and π/4. The data are 4 rows (the categories 0–3) with row weights (the counts),
// not 197 rows. The model has no log-likelihood hook: `fit` fills `result.logLikelihood` from the
// exact E-step. The likelihood is that of the 197 observations, Σ_c n_c log p_c (the multinomial
// coefficient, a constant in π, belongs to the likelihood of the counts, not of the observations).
//
//   node examples/genetic-linkage.mjs          # the iterate table from π = 0.5
//   node examples/genetic-linkage.mjs --json   # the same as JSON, with the conformance outcomes
//
// @see Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete data
//   via the EM algorithm. JRSS B 39(1), 1–38, §1 and Table 1.
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { emError, fit, registerModel } from '@emlab/core';
import '@emlab/exact'; // registers the exact finite E-step (`fit`'s default method)
import { modelProperties, runConformance } from '@emlab/testing';

/** The counts of DLR §1 and the categories as data rows. */
export const COUNTS = [125, 18, 20, 34];
export const ROWS = [[0], [1], [2], [3]];

// <guide:linkage-model>
/** The category of each row: `[[c], ...]` rows or a one-column `{ values, rows, cols }` table (a CSV). */
function categories(data) {
  const dense = data !== null && typeof data === 'object' && !Array.isArray(data) && 'values' in data;
  if (!Array.isArray(data) && !dense) throw emError('INVALID_DATA', ['data'], data, 'must be rows [[category], ...] or a one-column table', 'pass e.g. [[0], [1], [2], [3]]');
  const n = dense ? data.rows : data.length;
  if (n === 0 || (dense && data.cols !== 1)) throw emError('INVALID_DATA', ['data'], data, 'must have one column and at least one row', 'pass e.g. [[0], [1], [2], [3]]');
  return Array.from({ length: n }, (_, r) => {
    const row = dense ? [data.values[r]] : data[r];
    const c = Array.isArray(row) && row.length === 1 ? row[0] : undefined;
    if (!Number.isInteger(c) || c < 0 || c > 3) throw emError('INVALID_DATA', ['data', r], row, 'must be one category 0, 1, 2 or 3', 'give each row as [category]');
    return c;
  });
}

/**
 * The linkage model. Latent z per row: for category 0, which part of the first cell (0: the 1/2
 * part, 1: the π/4 part); other categories have one part (z = 0; z = 1 impossible).
 * Statistics: half = expected count of the 1/2 part, a = of π/4 cells, b = of (1 − π)/4 cells.
 */
export function linkageModel() {
  const stats = {
    zero: () => ({ half: 0, a: 0, b: 0 }),
    add: (x, y) => ({ half: x.half + y.half, a: x.a + y.a, b: x.b + y.b }),
    scale: (x, c) => ({ half: c * x.half, a: c * x.a, b: c * x.b }),
  };
  const xlogy = (x, y) => (x === 0 ? 0 : x * Math.log(y)); // 0 · log 0 = 0
  return {
    name: 'genetic-linkage',
    structureKind: 'finite',
    options: {},
    initMethods: ['half'], // π = 0.5, DLR's start
    stats,
    acceptsWeights: true, // the counts are row weights
    validate(data) {
      const c = categories(data);
      for (const need of [[1, 2], [0, 3]]) {
        if (!c.some((x) => need.includes(x))) throw emError('INVALID_DATA', ['data'], `${c.length} rows`, `has no row of category ${need.join(' or ')}: π is not identified`, 'pass rows of every category');
      }
    },
    validateParams(params) {
      const pi = params?.pi;
      if (typeof pi !== 'number' || !(pi > 0 && pi < 1)) throw emError('INVALID_PARAMS', ['params', 'pi'], pi, 'must be a number in (0, 1)', 'pass e.g. { pi: 0.5 }');
    },
    prepare(data, { weights }) {
      const c = categories(data);
      if (weights !== undefined && weights.length !== c.length) throw emError('INVALID_ARGUMENT', ['options', 'weights'], weights, `has ${weights.length} entries for ${c.length} rows`, 'pass one weight (count) per row');
      return { nRows: c.length, categories: c, weights, totalWeight: weights ? weights.reduce((s, w) => s + w, 0) : c.length, dispose() {} };
    },
    init: () => ({ pi: 0.5 }),
    // One block of rows: log p(x_n, z_n = k | π) as a plain Float64Array [rows × 2].
    structure(prepared, { pi }) {
      const { categories: c, weights } = prepared;
      const chunk = {
        rows: c.length,
        start: 0,
        ...(weights === undefined ? {} : { weights }),
        logJoint() {
          const t = new Float64Array(c.length * 2).fill(-Infinity);
          c.forEach((x, n) => {
            if (x === 0) [t[2 * n], t[2 * n + 1]] = [Math.log(0.5), Math.log(pi / 4)];
            else t[2 * n] = Math.log(x === 3 ? pi / 4 : (1 - pi) / 4);
          });
          return t;
        },
        // w[n·2 + k] = (row weight) · q(z_n = k), from core's block loop.
        stats(w) {
          const s = { half: 0, a: 0, b: 0 };
          c.forEach((x, n) => {
            if (x === 0) [s.half, s.a] = [s.half + w[2 * n], s.a + w[2 * n + 1]];
            else if (x === 3) s.a += w[2 * n];
            else s.b += w[2 * n];
          });
          return s;
        },
      };
      return { kind: 'finite', nRows: c.length, nComponents: 2, algebra: stats, chunks: () => [chunk] };
    },
    // argmax over π of a log(π/4) + b log((1 − π)/4): π = a / (a + b).
    mStep: (s) => ({ params: { pi: s.a / (s.a + s.b) } }),
    // E_q log p(x, z | π), every constant included (log 1/2 and log 1/4).
    expectedLogJoint: (s, { pi }) => xlogy(s.half, 0.5) + xlogy(s.a, pi / 4) + xlogy(s.b, (1 - pi) / 4),
    nParameters: () => 1,
    // logit π: the coordinates of the `params` and `gradient` convergence policies.
    parametrization: () => ({
      description: 'logit π',
      dim: 1,
      toVector: ({ pi }) => Float64Array.of(Math.log(pi / (1 - pi))),
      fromVector: (v) => ({ pi: 1 / (1 + Math.exp(-v[0])) }),
    }),
  };
}

// `emlab fit --plugin examples/genetic-linkage.mjs --model genetic-linkage counts.csv --weights-column n`
// and benchmark suites find it by name.
registerModel({
  name: 'genetic-linkage',
  description: 'Dempster, Laird & Rubin (1977, §1): four multinomial cells (1/2 + π/4, (1 − π)/4, (1 − π)/4, π/4)',
  structureKind: 'finite',
  options: {},
  create: () => linkageModel(),
});
// </guide:linkage-model>

/**
 * Fits from π = 0.5 and returns the iterates π_0, π_1, ... (DLR's Table 1), the estimate, the
 * log-likelihood and the core conformance properties' outcomes.
 */
export async function main(args = []) {
  const model = linkageModel();
  // Stop when the extrapolated change of logit π is below 1e-12: π̂ to ~1e-12 (a rule on the bound cannot
  // resolve π beyond ~1e-7: L is flat to second order at the optimum).
  const result = await fit(model, ROWS, { weights: COUNTS, init: { pi: 0.5 }, recordParams: true, convergence: 'params', tol: 1e-12 });
  const iterates = [0.5, ...result.trace.map((r) => r.params.pi)];
  const mle = result.params.pi;
  // The conformance kit's core properties, on category data drawn with every category present.
  const data = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 12 }).map((cs) => [...[0, 1, 2, 3], ...cs].map((c) => [c]));
  const conformance = await runConformance(modelProperties(model, data, { numRuns: 10, properties: ['monotone', 'bound-vs-log-likelihood', 'additive-statistics', 'weights', 'round-trip', 'bad-input', 'reproducible'] }));
  const out = { iterates, mle, logLikelihood: result.logLikelihood, bound: result.bound, converged: result.converged, nIter: result.nIter, convergence: result.convergence, conformance };
  if (args.includes('--json')) {
    console.log(JSON.stringify(out));
  } else {
    console.log('  t   π_t                π_t − π̂            (π_t+1 − π̂)/(π_t − π̂)');
    iterates.forEach((p, t) => {
      const next = iterates[t + 1];
      const ratio = next === undefined || p === mle ? '' : ((next - mle) / (p - mle)).toFixed(7);
      console.log(`${String(t).padStart(3)}   ${p.toFixed(15)}  ${(p - mle).toExponential(6).padStart(14)}    ${ratio}`);
    });
    console.log(`\nπ̂ = ${mle} after ${result.nIter} iterations (converged: ${result.converged}, ${result.convergence.policy} policy)`);
    console.log(`log-likelihood of the 197 observations: ${result.logLikelihood} (from the exact E-step; the model has no hook)`);
    for (const o of conformance) console.log(`conformance ${o.ok ? 'ok  ' : 'FAIL'} ${o.name}${o.ok ? '' : `\n  ${o.error}`}`);
  }
  if (conformance.some((o) => !o.ok)) process.exitCode = 1;
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
