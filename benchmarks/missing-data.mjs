#!/usr/bin/env node
/**
 * Missing data as latent variables: does EM through the missing entries beat
 * the heuristics, and what does it cost?
 *
 *   npm run bench:missing               # builds, then runs both parts
 *   node benchmarks/missing-data.mjs [--part quality|speed|all] [--json out.json]
 *
 * Quality: seeded data from a known mixture (K = 3, D = 6, full covariances,
 * N = 4000 training and 4000 held-out rows). Entries are hidden completely at
 * random (MCAR) at 10%, 20% and 40%, and at random (MAR: column 0 observed,
 * other entries missing with probability rising with x₀'s rank) at 20%; the
 * held-out rows get the same mechanism. Methods, all fitted by exact EM from
 * the same options (kmeans++, nInit 3, seed 1, tol 1e-6, maxIter 500):
 *   em-missing   EM through the missing entries (emlab)
 *   drop-rows    listwise deletion, then EM on the complete rows
 *   zero-fill    missing entries set to 0, then EM
 *   mean-fill    missing entries set to the column mean, then EM
 * Reported per method: held-out observed-data log-likelihood per row (every
 * method's parameters scored the same way, on the held-out rows' observed
 * entries), mean error of the means ‖μ̂_k − μ_k‖ / √D and of the covariances
 * ‖Σ̂_k − Σ_k‖_F / ‖Σ_k‖_F after matching components to the truth (best of all
 * K! assignments), imputation RMSE on the hidden training entries (the fill
 * value for the fill methods; the conditional mean under the fitted
 * parameters for em-missing and drop-rows), and fit time.
 *
 * Speed: N = 100,000, D = 8, K = 8, full covariances, 20% MCAR: mean time of
 * one exact EM iteration (E + M, iterations 2…6 from the same start) with the
 * holes vs on the same data without holes, measured in one run.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fit, initBackend, VERSION } from '@emlab/core';
import '@emlab/exact';
import { gaussianMixture, impute } from '@emlab/models';
import { dropIncompleteRows, fillMissing, makeGaussianMixture, maskMissing } from '@emlab/data';
import { parseFlags } from './bench-util.mjs';

function parseArgs(argv) {
  const o = parseFlags(argv, {
    defaults: { part: 'all', json: undefined },
    options: { part: ['part', String], json: ['json', String] },
    usage: 'usage: node benchmarks/missing-data.mjs [--part quality|speed|all] [--json FILE]',
  });
  if (!['quality', 'speed', 'all'].includes(o.part)) throw new Error('--part must be quality, speed or all');
  return o;
}

function permutations(k) {
  if (k === 1) return [[0]];
  return permutations(k - 1).flatMap((p) => Array.from({ length: k }, (_, i) => [...p.slice(0, i), k - 1, ...p.slice(i)]));
}

/** Mean mean-error and covariance-error after the best matching of fitted components to true ones. */
function parameterError(params, truth) {
  const k = truth.weights.length;
  const d = truth.means[0].length;

  let best = { mean: Infinity, cov: Infinity };
  for (const perm of permutations(k)) {
    let mean = 0;
    let cov = 0;
    perm.forEach((c, t) => {
      mean += Math.sqrt(params.means[c].reduce((s, v, i) => s + (v - truth.means[t][i]) ** 2, 0) / d);
      let num = 0;
      let den = 0;
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
        num += (params.covariances[c][i][j] - truth.covariances[t][i][j]) ** 2;
        den += truth.covariances[t][i][j] ** 2;
      }
      cov += Math.sqrt(num / den);
    });
    if (mean / k < best.mean) best = { mean: mean / k, cov: cov / k };
  }
  return best;
}

function rmse(estimate, truth, mask) {
  let s = 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] === 1) {
    s += (estimate[i] - truth[i]) ** 2;
    n++;
  }
  return Math.sqrt(s / n);
}

async function quality() {
  const K = 3, D = 6, N = 4000;
  const data = makeGaussianMixture({ nSamples: 2 * N, nComponents: K, nFeatures: D, seed: 2026, separation: 3 });
  const train = { values: data.values.slice(0, N * D), rows: N, cols: D };
  const test = { values: data.values.slice(N * D), rows: N, cols: D };
  const settings = [
    { label: 'MCAR 10%', mechanism: 'mcar', rate: 0.1 },
    { label: 'MCAR 20%', mechanism: 'mcar', rate: 0.2 },
    { label: 'MCAR 40%', mechanism: 'mcar', rate: 0.4 },
    { label: 'MAR 20%', mechanism: 'mar', rate: 0.2 },
  ];
  const options = { seed: 1, nInit: 3, maxIter: 500, tol: 1e-6, onWarning: () => {} };
  const model = gaussianMixture({ nComponents: K });
  const rows = [];
  for (const s of settings) {
    const { table: masked, mask } = maskMissing(train, { rate: s.rate, mechanism: s.mechanism, seed: 7 });
    const { table: heldOut } = maskMissing(test, { rate: s.rate, mechanism: s.mechanism, seed: 8 });
    const methods = {
      'em-missing': { data: masked, imputed: (params) => impute(params, masked).values },
      'drop-rows': { data: dropIncompleteRows(masked), imputed: (params) => impute(params, masked).values },
      'zero-fill': { data: fillMissing(masked, 'zero'), imputed: () => fillMissing(masked, 'zero').values },
      'mean-fill': { data: fillMissing(masked, 'mean'), imputed: () => fillMissing(masked, 'mean').values },
    };
    for (const [name, m] of Object.entries(methods)) {
      const t0 = performance.now();
      const r = await fit(model, m.data, options);
      const ms = performance.now() - t0;
      const err = parameterError(r.params, data.truth);
      rows.push({
        setting: s.label,
        method: name,
        rowsUsed: m.data.rows,
        heldOutLogLik: model.score(r.params, heldOut),
        meanError: err.mean,
        covError: err.cov,
        imputationRmse: rmse(m.imputed(r.params), train.values, mask),
        ms,
        nIter: r.nIter,
      });
    }
  }
  console.log(`\nQuality (K = ${K}, D = ${D}, N = ${N} train + ${N} held out, seeded; lower is better except log-likelihood)`);
  console.log('setting    method       rows  held-out LL/row  mean err  cov err  impute RMSE   time ms  iters');
  for (const r of rows) {
    console.log(`${r.setting.padEnd(10)} ${r.method.padEnd(11)} ${String(r.rowsUsed).padStart(5)} ${r.heldOutLogLik.toFixed(4).padStart(16)} ${r.meanError.toFixed(4).padStart(9)} ${r.covError.toFixed(4).padStart(8)} ${r.imputationRmse.toFixed(4).padStart(12)} ${r.ms.toFixed(0).padStart(9)} ${String(r.nIter).padStart(6)}`);
  }
  const verdicts = settings.map((s) => {
    const group = rows.filter((r) => r.setting === s.label);
    const em = group.find((r) => r.method === 'em-missing');
    const others = group.filter((r) => r !== em);
    return {
      setting: s.label,
      bestHeldOut: others.every((r) => em.heldOutLogLik > r.heldOutLogLik),
      bestParams: others.every((r) => em.meanError <= r.meanError && em.covError <= r.covError),
    };
  });
  for (const v of verdicts) console.log(`${v.setting}: em-missing best held-out log-likelihood: ${v.bestHeldOut ? 'yes' : 'NO'}; best parameter error: ${v.bestParams ? 'yes' : 'NO'}`);
  return { rows, verdicts };
}

async function speed() {
  const N = 100_000, D = 8, K = 8, ITER = 6;
  const data = makeGaussianMixture({ nSamples: N, nComponents: K, nFeatures: D, seed: 11 });
  const complete = { values: data.values, rows: N, cols: D };
  const { table: holes } = maskMissing(complete, { rate: 0.2, mechanism: 'mcar', seed: 12 });
  const model = gaussianMixture({ nComponents: K });
  const start = (await fit(model, complete, { maxIter: 1, seed: 1, onWarning: () => {} })).params;
  const perIter = async (x) => {
    const r = await fit(model, x, { init: start, maxIter: ITER, tol: 0, onWarning: () => {} });
    const t = r.trace.slice(1).map((it) => it.eStepMs + it.mStepMs);
    return t.reduce((a, b) => a + b, 0) / t.length;
  };
  await perIter(complete); // warm-up (wasm compile, kernels)
  const full = await perIter(complete);
  const missing = await perIter(holes);
  const ratio = missing / full;
  console.log(`\nSpeed (N = ${N}, D = ${D}, K = ${K}, full, 20% MCAR; mean of iterations 2…${ITER}, one run)`);
  console.log(`complete data   ${full.toFixed(1)} ms/iteration`);
  console.log(`20% missing     ${missing.toFixed(1)} ms/iteration`);
  console.log(`ratio           ${ratio.toFixed(2)} (target <= 3)`);
  return { full, missing, ratio };
}

const o = parseArgs(process.argv.slice(2));
const backend = await initBackend();
console.log(`emlab ${VERSION}, backend ${backend}, node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? '?'})`);
const out = {};
if (o.part !== 'speed') out.quality = await quality();
if (o.part !== 'quality') out.speed = await speed();
if (o.json !== undefined) writeFileSync(o.json, JSON.stringify(out, null, 2));
