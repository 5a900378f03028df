#!/usr/bin/env node
/**
 * Restricted-family E-steps against batch EM: passes over the data to
 * convergence and to within a tolerance of batch EM's optimum, wall time, the
 * final log-likelihood and bound, on Gaussian mixtures and Bayesian networks.
 *
 *   npm run build                      # the dist this imports
 *   node benchmarks/restricted-esteps.mjs [--seeds 2] [--rows 10000] [--bn-rows 2000] [--json out.json]
 *   node benchmarks/restricted-esteps.mjs --only tempered --data mixtures   # a subset (batch EM always runs: it sets the target)
 *
 * Every method of a seed starts from the same parameters (the model's init
 * with that seed); everything runs in float64 with fit's default convergence
 * rule (Aitken, tol 1e-10) and maxIter 3000 passes. Columns:
 *
 * - passes: passes over the data until fit stopped (an incremental call is 1/B pass);
 * - to batch: the first pass at whose end L(q, θ) came within 1e-4 nats per
 *   row of batch EM's final bound (its log-likelihood, plus the log prior for
 *   a MAP model; — if never), the figure that
 *   matters for incremental EM (Neal & Hinton 1998; Thiesson et al. 2001);
 * - ll/row: log p(x | θ) at the end (exact; for vb at the posterior-mean point
 *   estimate), bound/row: the method's final bound (with the log prior for a
 *   MAP model; vb: the ELBO on log p(x));
 * - s: wall seconds of the fit.
 *
 * Means over seeds; the machine's load during the run is printed (the timings
 * only mean something on an idle machine).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { fit, initBackend, initialParams, VERSION } from '@emlab/core';
import '@emlab/exact';
import '@emlab/variational';
import { makeGaussianMixture } from '@emlab/data';
import { asiaNetwork, bayesianNetwork, gaussianMixture, parseBif, sampleNetwork } from '@emlab/models';
import { machineBusySeconds, parseFlags } from './bench-util.mjs';

const o = parseFlags(process.argv.slice(2), {
  defaults: { seeds: 2, rows: 10_000, bnRows: 2000, json: undefined, only: undefined, data: 'all' },
  options: { seeds: ['seeds', Number], rows: ['rows', Number], 'bn-rows': ['bnRows', Number], json: ['json', String], only: ['only', String], data: ['data', String] },
  usage: 'usage: node benchmarks/restricted-esteps.mjs [--seeds S] [--rows N] [--bn-rows N] [--only tempered,vb] [--data all|mixtures|networks] [--json FILE]',
});
await initBackend();

const WITHIN = 1e-4; // nats per row
const MAX_ITER = 3000;

/** First pass end at which the bound is within WITHIN · W of `target`. */
function passesTo(result, target) {
  let before = 0;
  for (const rec of result.trace) {
    const passDone = Math.floor(rec.passes + 1e-9) > Math.floor(before + 1e-9);
    before = rec.passes;
    if (passDone && rec.boundAfterM >= target - WITHIN * result.totalWeight) return Math.round(rec.passes);
  }
  return undefined;
}

async function compare(label, model, data, methods, seed) {
  const init = await initialParams(model, data, { seed });
  const rows = [];
  let batchBound;
  const only = o.only === undefined ? undefined : o.only.split(',');
  for (const [name, eStep, eStepOptions] of methods) {
    if (only !== undefined && eStep !== 'exact' && !only.includes(eStep)) continue;
    const t0 = performance.now();
    const r = await fit(model, data, { eStep, ...(eStepOptions === undefined ? {} : { eStepOptions }), init, seed, precision: 'float64', maxIter: MAX_ITER, onWarning: () => {} });
    const s = (performance.now() - t0) / 1000;
    if (name === 'exact (batch EM)') batchBound = r.bound;
    const last = r.trace[r.trace.length - 1];
    rows.push({
      data: label,
      method: name,
      seed,
      passes: r.passes,
      calls: r.nIter,
      converged: r.converged,
      toBatch: eStep === 'vb' ? undefined : passesTo(r, batchBound),
      llPerRow: r.logLikelihood / r.totalWeight,
      boundPerRow: r.bound / r.totalWeight,
      gapPerRow: eStep === 'vb' ? undefined : (r.logLikelihood - r.bound) / r.totalWeight,
      seconds: s,
      lastGap: last?.gap ?? null,
    });
  }
  return rows;
}

const mixtureMethods = [
  ['exact (batch EM)', 'exact'],
  ['incremental B=5', 'incremental', { blocks: 5 }],
  ['incremental B=20', 'incremental', { blocks: 20 }],
  ['incremental B=100', 'incremental', { blocks: 100 }],
  ['sparse m=2 r=5', 'sparse', { m: 2, refreshEvery: 5 }],
  ['tempered (defaults)', 'tempered'],
  ['vb (defaults)', 'vb'],
];
const networkMethods = [
  ['exact (batch EM)', 'exact'],
  ['incremental B=5', 'incremental', { blocks: 5 }],
  ['incremental B=20', 'incremental', { blocks: 20 }],
  ['mean-field', 'mean-field', { exactLogLikelihood: 'never' }],
  ['vb (defaults)', 'vb'],
];

const alarmPath = fileURLToPath(new URL('../data/bn/alarm.bif', import.meta.url));
const alarm = parseBif(readFileSync(alarmPath, 'utf8'), alarmPath);
const asia = asiaNetwork();

const busy0 = machineBusySeconds();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const all = [];
for (let seed = 1; seed <= o.seeds; seed++) {
  const mixtures = o.data !== 'networks';
  const networks = o.data !== 'mixtures';
  const sep = makeGaussianMixture({ nSamples: o.rows, nComponents: 5, nFeatures: 4, seed, separation: 3 });
  if (mixtures) all.push(...(await compare(`mixture N=${o.rows} K=5 D=4 separated`, gaussianMixture({ nComponents: 5 }), { values: sep.x, rows: sep.rows, cols: sep.cols }, mixtureMethods, seed)));
  const ovl = makeGaussianMixture({ nSamples: o.rows, nComponents: 5, nFeatures: 4, seed: 100 + seed, separation: 1 });
  if (mixtures) all.push(...(await compare(`mixture N=${o.rows} K=5 D=4 overlapping`, gaussianMixture({ nComponents: 5 }), { values: ovl.x, rows: ovl.rows, cols: ovl.cols }, mixtureMethods, seed)));
  const asiaData = sampleNetwork(asia, o.bnRows, seed, { missingRate: 0.2, hide: ['either'] });
  if (networks) all.push(...(await compare(`asia N=${o.bnRows}, either hidden, 20% missing`, bayesianNetwork(asia, { hidden: ['either'] }), asiaData, networkMethods, seed)));
  // pseudoCount 1 (MAP, Dirichlet(2) columns): with maximum likelihood a denormal expected count can
  // underflow to θ = 0 in the M-step and the bound becomes −∞ (seen at N = 500, iteration 81).
  const alarmData = sampleNetwork(alarm, o.bnRows, seed, { missingRate: 0.2, onWarning: () => {} });
  if (networks) all.push(...(await compare(`ALARM N=${o.bnRows}, 20% missing, pseudoCount 1`, bayesianNetwork(alarm, { pseudoCount: 1 }), alarmData, networkMethods, seed)));
  console.error(`seed ${seed} done (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const busy1 = machineBusySeconds();
const otherCores = busy0 === undefined ? undefined : Math.max(0, (busy1 - busy0 - (cpu.user + cpu.system) / 1e6) / wall);

// Means over seeds, per data set and method.
const groups = new Map();
for (const r of all) {
  const key = `${r.data}\u0000${r.method}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r);
}
const mean = (xs) => (xs.length === 0 || xs.some((x) => x === undefined || x === null) ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length);
const fmt = (v, d) => (v === undefined ? '—' : v.toFixed(d));
const lines = ['| data | method | passes | to batch | converged | ll/row | bound/row | s |', '|---|---|---|---|---|---|---|---|'];
for (const rs of groups.values()) {
  const reached = rs.filter((r) => r.toBatch !== undefined).length;
  const to = mean(rs.filter((r) => r.toBatch !== undefined).map((r) => r.toBatch));
  lines.push(
    `| ${rs[0].data} | ${rs[0].method} | ${fmt(mean(rs.map((r) => r.passes)), 1)} | ${rs[0].method.startsWith('vb') ? 'n/a' : `${fmt(to, 1)} (${reached}/${rs.length})`} | ${rs.filter((r) => r.converged).length}/${rs.length} | ${fmt(mean(rs.map((r) => r.llPerRow)), 5)} | ${fmt(mean(rs.map((r) => r.boundPerRow)), 5)} | ${fmt(mean(rs.map((r) => r.seconds)), 2)} |`,
  );
}
console.log(lines.join('\n'));
console.log(`\n${o.seeds} seeds, ${wall.toFixed(0)} s wall; other processes kept ${otherCores === undefined ? '?' : otherCores.toFixed(2)} of ${cpus().length} cores busy; emlab ${VERSION}`);
if (o.json) writeFileSync(o.json, JSON.stringify({ benchmark: 'restricted-esteps', version: VERSION, within: WITHIN, runs: all, wallS: wall, otherCoresBusy: otherCores }, null, 2));
