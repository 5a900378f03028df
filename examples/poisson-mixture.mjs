#!/usr/bin/env node
// A mixture of Poisson distributions as an emlab plug-in model, in plain JavaScript arrays (no
// TensorFlow.js): p(x) = Σ_k π_k λ_k^x e^(−λ_k) / x!. Fitted by EM to seeded counts, with the
// conformance kit's core properties. docs/guide-model.md walks through it.
//
//   node examples/poisson-mixture.mjs          # estimate vs truth, and the conformance outcomes
//   node examples/poisson-mixture.mjs --json   # the same as JSON (with the data and the start)
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { createRng, emError, fit, logGamma, parseOptions, registerModel } from '@emlab/core';
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { modelProperties, runConformance } from '@emlab/testing';

// <guide:poisson-options>
/** The option table: validation, defaults, error messages and the CLI flag (`--components`). */
export const POISSON_MIXTURE_OPTIONS = {
  nComponents: { type: 'integer', min: 1, required: true, flag: 'components', description: 'number of components K' },
  maxRows: { type: 'integer', min: 1, default: 4096, flag: 'block-rows', description: 'rows per block of the finite structure' },
};
// </guide:poisson-options>

// <guide:poisson-data>
/** The counts of `[[x], ...]` rows or of a one-column `{ values, rows, cols }` table (what the CLI reads from a CSV). */
function counts(data) {
  const dense = data !== null && typeof data === 'object' && !Array.isArray(data) && 'values' in data;
  if (!Array.isArray(data) && !dense) throw emError('INVALID_DATA', ['data'], data, 'must be rows [[count], ...] or a one-column table', 'pass e.g. [[3], [0], [7]]');
  const n = dense ? data.rows : data.length;
  if (n === 0 || (dense && data.cols !== 1)) throw emError('INVALID_DATA', ['data'], data, 'must have one column and at least one row', 'pass e.g. [[3], [0], [7]]');
  return Float64Array.from({ length: n }, (_, r) => {
    const row = dense ? [data.values[r]] : data[r];
    const x = Array.isArray(row) && row.length === 1 ? row[0] : undefined;
    if (!Number.isSafeInteger(x) || x < 0) throw emError('INVALID_DATA', ['data', r], row, 'must be one count (an integer >= 0)', 'give each row as [count]; missing counts are not supported');
    return x;
  });
}
// </guide:poisson-data>

// <guide:poisson-model>
/**
 * A Poisson mixture with K components. Parameters `{ weights: [K], rates: [K] }` (plain JSON);
 * statistics per component n_k = Σ w_nk, sx_k = Σ w_nk x_n, and lf = Σ w_nk log x_n! (the constant,
 * so that E_q log p(x, z | θ) is complete).
 */
export function poissonMixture(options) {
  const o = parseOptions(POISSON_MIXTURE_OPTIONS, options, { owner: 'poissonMixture', pathOf: (key) => ['options', key] });
  const k = o.nComponents;
  const stats = {
    zero: () => ({ n: new Array(k).fill(0), sx: new Array(k).fill(0), lf: 0 }),
    add: (a, b) => ({ n: a.n.map((v, j) => v + b.n[j]), sx: a.sx.map((v, j) => v + b.sx[j]), lf: a.lf + b.lf }),
    scale: (a, c) => ({ n: a.n.map((v) => c * v), sx: a.sx.map((v) => c * v), lf: c * a.lf }),
  };
  const xlogy = (x, y) => (x === 0 ? 0 : x * Math.log(y)); // 0 · log 0 = 0
  // log p(x, z = j | θ), every constant included.
  const logJoint = (x, j, p) => Math.log(p.weights[j]) + xlogy(x, p.rates[j]) - p.rates[j] - logGamma(x + 1);
  return {
    name: 'poisson-mixture',
    structureKind: 'finite',
    options: o,
    initMethods: ['quantiles', 'random'],
    stats,
    acceptsWeights: true,
    // precisions: ['float64'] is the default: host kernels in JavaScript doubles.
    validate(data) {
      if (counts(data).length < k) throw emError('INVALID_DATA', ['data'], data, `has fewer rows than nComponents = ${k}`, 'pass more rows or fewer components');
    },
    validateParams(params) {
      const bad = (path, value, problem) => {
        throw emError('INVALID_PARAMS', ['params', ...path], value, problem, 'pass { weights: [K numbers summing to 1], rates: [K numbers >= 0] }');
      };
      if (typeof params !== 'object' || params === null) bad([], params, 'must be an object');
      for (const key of ['weights', 'rates']) {
        const v = params[key];
        if (!Array.isArray(v) || v.length !== k) bad([key], v, `must be an array of ${k} numbers`);
        v.forEach((x, j) => {
          if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) bad([key, j], x, 'must be a finite number >= 0');
        });
      }
      const sum = params.weights.reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 1) > 1e-9) bad(['weights'], sum, 'must sum to 1');
    },
    prepare(data, { weights }) {
      const x = counts(data);
      if (weights !== undefined && weights.length !== x.length) throw emError('INVALID_ARGUMENT', ['options', 'weights'], weights, `has ${weights.length} entries for ${x.length} rows`, 'pass one weight per row');
      const totalWeight = weights === undefined ? x.length : weights.reduce((a, b) => a + b, 0);
      return { nRows: x.length, x, weights, totalWeight, dispose() {} };
    },
    // `quantiles`: rates at the K quantiles of the counts, unweighted (deterministic);
    // `random`: rates at K random rows (+ 0.5), from the seeded stream `rng`.
    init({ x }, method, rng) {
      const sorted = Array.from(x).sort((a, b) => a - b);
      const rates = Array.from({ length: k }, (_, j) =>
        method === 'random' ? x[rng.int(x.length)] + 0.5 : sorted[Math.min(sorted.length - 1, Math.floor(((j + 0.5) / k) * sorted.length))] + 0.5,
      );
      return { weights: new Array(k).fill(1 / k), rates };
    },
    // The finite structure at θ: blocks of rows, each a [rows × K] Float64Array of log p(x_n, z_n = j | θ).
    structure({ x, weights }, params) {
      const blocks = [];
      for (let start = 0; start < x.length; start += o.maxRows) {
        const rows = Math.min(o.maxRows, x.length - start);
        blocks.push({
          rows,
          start,
          ...(weights === undefined ? {} : { weights: weights.subarray(start, start + rows) }),
          logJoint() {
            const t = new Float64Array(rows * k);
            for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) t[r * k + j] = logJoint(x[start + r], j, params);
            return t;
          },
          // w[r·K + j] = (row weight) · q(z = j) from core's block loop: the statistics of the block.
          stats(w) {
            const s = stats.zero();
            for (let r = 0; r < rows; r++) {
              const xr = x[start + r];
              for (let j = 0; j < k; j++) {
                const v = w[r * k + j];
                s.n[j] += v;
                s.sx[j] += v * xr;
                s.lf += v * logGamma(xr + 1);
              }
            }
            return s;
          },
        });
      }
      return { kind: 'finite', nRows: x.length, nComponents: k, algebra: stats, chunks: () => blocks };
    },
    // The exact argmax of E_q log p(x, z | θ): π_k = n_k / W, λ_k = sx_k / n_k (a component with no mass keeps its rate).
    mStep(s, prev) {
      const total = s.n.reduce((a, b) => a + b, 0);
      return { params: { weights: s.n.map((n) => n / total), rates: s.n.map((n, j) => (n > 0 ? s.sx[j] / n : prev.rates[j])) } };
    },
    expectedLogJoint(s, p) {
      let total = -s.lf;
      for (let j = 0; j < k; j++) total += xlogy(s.n[j], p.weights[j]) + xlogy(s.sx[j], p.rates[j]) - s.n[j] * p.rates[j];
      return total;
    },
    // log p(x | θ) = Σ_n w_n log Σ_k p(x_n, k | θ) (optional: without it `fit` asks the exact E-step).
    logLikelihood({ x, weights }, params) {
      let total = 0;
      x.forEach((xr, r) => {
        const l = Array.from({ length: k }, (_, j) => logJoint(xr, j, params));
        const m = Math.max(...l);
        total += (weights === undefined ? 1 : weights[r]) * (m === -Infinity ? m : m + Math.log(l.reduce((a, v) => a + Math.exp(v - m), 0)));
      });
      return total;
    },
    nParameters: () => 2 * k - 1,
  };
}

registerModel({
  name: 'poisson-mixture',
  description: 'mixture of Poisson distributions over a column of counts',
  structureKind: 'finite',
  options: POISSON_MIXTURE_OPTIONS,
  create: (options) => poissonMixture(options),
  data: { format: 'numeric-table' },
});
// </guide:poisson-model>

/** The truth the example's data are drawn from. */
export const TRUTH = { weights: [0.35, 0.65], rates: [2.5, 9] };

/** A Poisson draw by inversion (λ ≤ ~50), from a seeded stream. */
function poisson(rng, lambda) {
  let x = 0;
  let p = Math.exp(-lambda);
  let cdf = p;
  const u = rng.uniform();
  while (u > cdf && p > 0) {
    x++;
    p *= lambda / x;
    cdf += p;
  }
  return x;
}

/** n rows drawn from `truth` with seed `seed`: component by inversion on the weights, then the count. */
export function drawCounts(n, seed, truth = TRUTH) {
  const rng = createRng(seed).child('poisson-mixture-example');
  return Array.from({ length: n }, () => [poisson(rng, truth.rates[rng.categorical(truth.weights)])]);
}

/** Fits a K = 2 mixture to 400 seeded counts and runs the conformance kit's core properties. */
export async function main(args = []) {
  const rows = drawCounts(400, 2024);
  const model = poissonMixture({ nComponents: 2 });
  const result = await fit(model, rows, { init: 'quantiles', recordParams: true });
  const start = model.init({ x: Float64Array.from(rows, (r) => r[0]) }, 'quantiles');
  const data = fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3 })), { minLength: 6, maxLength: 40 }).map((cs) => cs.map(([hi, e]) => [hi ? 9 + 2 * e : e]));
  const conformance = await runConformance(
    modelProperties(model, data, { numRuns: 10, methods: ['exact', 'hard', 'stochastic'], properties: ['monotone', 'bound-vs-log-likelihood', 'additive-statistics', 'weights', 'round-trip', 'bad-input', 'reproducible'] }),
  );
  const out = { rows, start, truth: TRUTH, params: result.params, iterates: result.trace.map((r) => r.params), logLikelihood: result.logLikelihood, converged: result.converged, nIter: result.nIter, conformance };
  if (args.includes('--json')) {
    console.log(JSON.stringify(out));
  } else {
    console.log(`400 counts drawn from π = [${TRUTH.weights}], λ = [${TRUTH.rates}] (seed 2024)`);
    console.log(`estimate: π = [${result.params.weights.map((v) => v.toFixed(4))}], λ = [${result.params.rates.map((v) => v.toFixed(4))}]`);
    console.log(`log-likelihood ${result.logLikelihood} after ${result.nIter} iterations (converged: ${result.converged})`);
    for (const o of conformance) console.log(`conformance ${o.ok ? 'ok  ' : 'FAIL'} ${o.name}${o.ok ? '' : `\n  ${o.error}`}`);
  }
  if (conformance.some((o) => !o.ok)) process.exitCode = 1;
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
