#!/usr/bin/env node
/**
 * emlab's mclust models vs R's mclust, side by side in one run, on the same seeded data and the
 * same start (mclust's default: hierarchical clustering with the VVV criterion on the
 * SVD-transformed data, computed by mclust and given to both):
 *
 *   - per-iteration time of EM for VVV, EEE and VEV: (best time of 2·iters − best time of iters
 *     iterations) / iters on both sides (bests of --repeats), so fixed costs cancel (tolerance never
 *     met; inner M-step tolerance √ε in both, mclust's default);
 *   - the time of a full BIC selection over the 14 models × 1–9 components (mclust: mclustBIC with
 *     its defaults, its own hc included; emlab: selectModel with mclust's stopping rule,
 *     --convergence relative --tol 1e-5, its own hc included).
 *
 *   npx tsc -b && node benchmarks/mclust-speed.mjs [--rows 3000] [--dims 4] [--components 4]
 *        [--iters 25] [--repeats 5] [--gmax 9] [--rscript Rscript] [--json out.json]
 *
 * Needs R with mclust (Debian: apt-get install r-cran-mclust); without it the benchmark prints why
 * and exits 0 having measured nothing. Results: README.md, section mclust-speed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng, fit, initBackend, VERSION } from '@emlab/core';
import '@emlab/exact';
import { mclustMixture, selectModel } from '@emlab/models';
import { machineBusySeconds, parseFlags } from './bench-util.mjs';

const o = parseFlags(process.argv.slice(2), {
  defaults: { rows: 3000, dims: 4, components: 4, iters: 25, repeats: 5, gmax: 9, rscript: 'Rscript', json: undefined },
  options: {
    rows: ['rows', Number],
    dims: ['dims', Number],
    components: ['components', Number],
    iters: ['iters', Number],
    repeats: ['repeats', Number],
    gmax: ['gmax', Number],
    rscript: ['rscript', String],
    json: ['json', String],
  },
  usage: 'usage: node benchmarks/mclust-speed.mjs [--rows N] [--dims D] [--components K] [--iters N] [--repeats R] [--gmax G] [--rscript PATH] [--json FILE]',
});
const MODELS = ['VVV', 'EEE', 'VEV'];

const probe = spawnSync(o.rscript, ['-e', 'suppressPackageStartupMessages(library(mclust)); cat(as.character(packageVersion("mclust")))'], { encoding: 'utf8' });
if (probe.error !== undefined || probe.status !== 0) {
  const why = probe.error !== undefined ? `${o.rscript} could not be run (${probe.error.code ?? probe.error.message})` : `R could not load mclust (${(probe.stderr || '').trim().split('\n').pop()})`;
  console.log(`mclust-speed: SKIPPED, nothing measured: ${why}. Install R and mclust (Debian: apt-get install r-cran-mclust) or pass --rscript PATH.`);
  process.exit(0);
}

// Data: K Gaussian clusters in D dimensions with random full covariances (different volumes,
// shapes and orientations), overlapping enough that EM does not converge within the iterations
// timed; seeded.
const rng = createRng(20_261_204).child('mclust-speed');
const { rows: N, dims: D, components: K } = o;
const centres = Array.from({ length: K }, () => Array.from({ length: D }, () => 1.5 * rng.normal()));
const factors = Array.from({ length: K }, () => Array.from({ length: D * D }, () => rng.normal() * (0.5 + rng.uniform())));
const values = new Float64Array(N * D);
for (let n = 0; n < N; n++) {
  const k = rng.int(K);
  const e = Array.from({ length: D }, () => rng.normal());
  for (let i = 0; i < D; i++) {
    let v = centres[k][i];
    for (let j = 0; j <= i; j++) v += factors[k][i * D + j] * e[j];
    values[n * D + i] = Number(v.toPrecision(15));
  }
}
const columns = Array.from({ length: D }, (_, i) => `x${i + 1}`);
const table = { columns, rows: N, cols: D, values };
const dir = mkdtempSync(join(tmpdir(), 'emlab-mclust-speed-'));
try {
  const csv = join(dir, 'data.csv');
  const lines = [columns.join(',')];
  for (let n = 0; n < N; n++) lines.push(Array.from(values.subarray(n * D, (n + 1) * D), (v) => String(v)).join(','));
  writeFileSync(csv, `${lines.join('\n')}\n`);

  // mclust first: it writes the shared start.
  const labelsFile = join(dir, 'labels.json');
  const busy0 = machineBusySeconds();
  const r = spawnSync(o.rscript, [fileURLToPath(new URL('./mclust_speed.R', import.meta.url)), csv, labelsFile, String(K), String(o.iters), MODELS.join(','), String(o.gmax), String(o.repeats)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`mclust_speed.R failed:\n${r.stderr}`);
  const mclust = JSON.parse(r.stdout.trim().split('\n').reverse().find((l) => l.startsWith('{')));
  const initLabels = JSON.parse(readFileSync(labelsFile, 'utf8'));

  await initBackend();
  // Per iteration: (best time of 2·iters iterations − best time of iters iterations) / iters, bests
  // of `repeats`, so fixed costs (data preparation, the initial M-step, the final log-likelihood) cancel;
  // one warm-up fit per model first (JIT).
  const ours = {};
  const timeFit = async (covariance, iters) => {
    const model = mclustMixture({ nComponents: K, covariance, initLabels });
    const t0 = performance.now();
    const result = await fit(model, table, { init: 'labels', maxIter: iters, tol: 0, convergence: 'absolute', seed: 0, onWarning: () => undefined });
    return { seconds: (performance.now() - t0) / 1000, result };
  };
  for (const covariance of MODELS) {
    await timeFit(covariance, o.iters);
    let best1 = Number.POSITIVE_INFINITY;
    let best2 = Number.POSITIVE_INFINITY;
    let result;
    for (let rep = 0; rep < o.repeats; rep++) {
      best1 = Math.min(best1, (await timeFit(covariance, o.iters)).seconds);
      const two = await timeFit(covariance, 2 * o.iters);
      best2 = Math.min(best2, two.seconds);
      result = two.result;
    }
    ours[covariance] = { seconds: Math.max(0, best2 - best1) / o.iters, iterations: o.iters, loglik: result.logLikelihood, nIter: result.nIter };
  }
  const t0 = performance.now();
  const sel = await selectModel(table, { components: Array.from({ length: o.gmax }, (_, i) => i + 1), convergence: 'relative', tol: 1e-5 });
  const selSeconds = (performance.now() - t0) / 1000;
  const busy1 = machineBusySeconds();

  const rowsOut = [];
  const ms = (s) => (1000 * s).toFixed(3);
  console.log(`mclust-speed: N = ${N}, D = ${D}, K = ${K}; emlab ${VERSION} (node ${process.versions.node}) vs mclust ${mclust.mclust} (R ${mclust.R}); ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`);
  console.log(`start: mclust's hc (VVV criterion, SVD), cut at K = ${K}, given to both; best of ${o.repeats} runs\n`);
  console.log(`| row | emlab | mclust | emlab / mclust | log-likelihood after ${2 * o.iters} iterations (mclust: its count), emlab − mclust |`);
  console.log('|---|---:|---:|---:|---:|');
  for (const m of MODELS) {
    const a = ours[m].seconds; // per iteration
    const b = mclust.perIteration[m].seconds; // per iteration (mclust_speed.R)
    rowsOut.push({ row: `${m} per iteration`, emlabMs: 1000 * a, mclustMs: 1000 * b, ratio: a / b, iterations: { emlab: ours[m].nIter, mclust: Math.abs(mclust.perIteration[m].iterations) }, logLikelihood: { emlab: ours[m].loglik, mclust: mclust.perIteration[m].loglik } });
    console.log(`| ${m}, one EM iteration (ms) | ${ms(a)} | ${ms(b)} | ${(a / b).toFixed(2)} | ${(ours[m].loglik - mclust.perIteration[m].loglik).toExponential(2)} (${ours[m].nIter} / ${Math.abs(mclust.perIteration[m].iterations)} iterations) |`);
  }
  const ratio = selSeconds / mclust.selection.seconds;
  rowsOut.push({ row: `BIC selection, 14 models × 1–${o.gmax}`, emlabMs: 1000 * selSeconds, mclustMs: 1000 * mclust.selection.seconds, ratio, best: { emlab: `${sel.best.model},${sel.best.nComponents}`, mclust: mclust.selection.best }, bic: { emlab: sel.best.value, mclust: mclust.selection.bic } });
  console.log(`| BIC selection, ${sel.models.length} models × 1–${o.gmax} (s; best emlab ${sel.best.model},${sel.best.nComponents} BIC ${sel.best.value.toFixed(2)}, mclust ${mclust.selection.best} BIC ${mclust.selection.bic.toFixed(2)}) | ${selSeconds.toFixed(2)} | ${mclust.selection.seconds.toFixed(2)} | ${ratio.toFixed(2)} | |`);
  if (busy0 !== undefined && busy1 !== undefined) console.log(`\nmachine: ${(busy1 - busy0).toFixed(0)} busy CPU-seconds across all processes during the run (contention inflates both sides)`);
  if (o.json !== undefined) writeFileSync(o.json, `${JSON.stringify({ rows: N, dims: D, components: K, iters: o.iters, repeats: o.repeats, mclust: mclust.mclust, emlab: VERSION, results: rowsOut }, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
