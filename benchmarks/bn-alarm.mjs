#!/usr/bin/env node
/**
 * Bayesian-network EM speed benchmark: ALARM (37 nodes, 509 free parameters),
 * N rows sampled with a seed, a fraction of the cells missing completely at
 * random, exact E-step (batched junction tree), random start, MAX_ITER
 * iterations (tol = 0).
 *
 *   npx tsc -b packages/models packages/exact      # build the dist this imports
 *   node benchmarks/bn-alarm.mjs [--rows 100000] [--missing 0.2] [--iters 6] [--batch 4096] [--workers 2] [--json out.json]
 *
 * `--workers N` (N > 1) runs the same fit again sharded over N worker threads (evidence patterns in
 * blocks of `--batch`; threads started before the timed fit) and reports its time per iteration, the
 * speed-up, the peak RSS after it, and whether the log-likelihoods are identical (they must be).
 *
 * Reported: seconds per EM iteration (E-step + M-step from the trace; mean and
 * median over iterations 2..MAX_ITER, the first one also pays for building the
 * junction tree plan), the number of distinct evidence patterns, the junction
 * tree's size, the time to group and upload the evidence (prepare), peak RSS, and the
 * machine's load: the average number of cores that OTHER processes kept busy
 * during the fit (from /proc/stat and this process's CPU time), since the
 * figure is only meaningful on an idle machine.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { fit, initBackend, VERSION } from '@emlab/core';
import { factorGraphExactEStep } from '@emlab/exact';
import { bayesianNetwork, parseBif, sampleNetwork } from '@emlab/models';
import { threadShards } from '@emlab/core/node';
import { machineBusySeconds, parseFlags, peakRssKiB } from './bench-util.mjs';

const o = parseFlags(process.argv.slice(2), {
  defaults: { rows: 100_000, missing: 0.2, iters: 6, batch: 4096, seed: 1, workers: 1, json: undefined },
  options: { rows: ['rows', Number], missing: ['missing', Number], iters: ['iters', Number], batch: ['batch', Number], seed: ['seed', Number], workers: ['workers', Number], json: ['json', String] },
  usage: 'usage: node benchmarks/bn-alarm.mjs [--rows N] [--missing RATE] [--iters N] [--batch B] [--seed S] [--workers N] [--json FILE]',
});
const backend = await initBackend();
const alarmPath = fileURLToPath(new URL('../data/bn/alarm.bif', import.meta.url));
const net = parseBif(readFileSync(alarmPath, 'utf8'), alarmPath);
const tSample = performance.now();
const data = sampleNetwork(net, o.rows, o.seed, { missingRate: o.missing, onWarning: () => {} });
const sampleMs = performance.now() - tSample;

const model = bayesianNetwork(net, { batchSize: o.batch });
// prepare (grouping by evidence pattern + indicator upload) timed on its own; fit prepares again.
const tPrep = performance.now();
const prepared = model.prepare(data);
const prepareMs = performance.now() - tPrep;
const nPatterns = prepared.evidence.nPatterns;
prepared.dispose();

const warnings = [];
const busy0 = machineBusySeconds();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const result = await fit(model, data, { eStep: factorGraphExactEStep(), seed: o.seed, maxIter: o.iters, tol: 0, onWarning: (m) => warnings.push(m) });
const fitWallS = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const busy1 = machineBusySeconds();
const ownCpuS = (cpu.user + cpu.system) / 1e6;
const otherCores = busy0 === undefined ? undefined : Math.max(0, (busy1 - busy0 - ownCpuS) / fitWallS);

const peakRssMB = () => peakRssKiB() / 1024;
const peakRssOneThreadMB = peakRssMB();

/** The same fit sharded over worker threads (started by a tiny untimed fit first). */
async function sharded(workers) {
  const engine = threadShards({ workers });
  try {
    await fit(model, { columns: data.columns, nRows: 64, values: data.values.subarray(0, 64 * data.columns.length) }, { eStep: factorGraphExactEStep(), seed: o.seed, maxIter: 1, tol: 0, workers: engine, onWarning: () => {} });
    const b0 = machineBusySeconds();
    const c0 = process.cpuUsage();
    const t = performance.now();
    const r = await fit(model, data, { eStep: factorGraphExactEStep(), seed: o.seed, maxIter: o.iters, tol: 0, workers: engine, onWarning: () => {} });
    const wallS = (performance.now() - t) / 1000;
    const c = process.cpuUsage(c0);
    const b1 = machineBusySeconds();
    // Worker threads' CPU time is this process's too.
    const other = b0 === undefined ? undefined : Math.max(0, (b1 - b0 - (c.user + c.system) / 1e6) / wallS);
    const it = r.trace.slice(1).map((x) => (x.eStepMs + x.mStepMs) / 1000);
    const identical = r.trace.every((x, i) => Object.is(x.logLikelihood, result.trace[i]?.logLikelihood)) && Object.is(r.logLikelihood, result.logLikelihood);
    return { workers, secondsPerIteration: it.reduce((a, b) => a + b, 0) / it.length, identicalLogLikelihood: identical, otherCoresBusy: other, peakRssMB: peakRssMB() };
  } finally {
    await engine.close();
  }
}
const shardRun = o.workers > 1 ? await sharded(o.workers) : undefined;

const iterS = result.trace.map((t) => (t.eStepMs + t.mStepMs) / 1000);
const steady = iterS.slice(1);
const mean = steady.reduce((a, b) => a + b, 0) / steady.length;
const sorted = [...steady].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
const d = result.trace[0].diagnostics;
const out = {
  benchmark: 'bn-alarm',
  version: VERSION,
  backend,
  cores: cpus().length,
  rows: o.rows,
  missingRate: o.missing,
  batchSize: o.batch,
  nPatterns,
  nCliques: d.nCliques,
  totalCliqueSize: d.totalCliqueSize,
  maxCliqueSize: d.maxCliqueSize,
  sampleS: sampleMs / 1000,
  prepareS: prepareMs / 1000,
  iterations: iterS.length,
  firstIterS: iterS[0],
  secondsPerIteration: mean,
  medianSecondsPerIteration: median,
  eStepS: result.trace.slice(1).map((t) => t.eStepMs / 1000),
  mStepS: result.trace.slice(1).map((t) => t.mStepMs / 1000),
  logLikelihood: result.trace.map((t) => t.logLikelihood),
  fitWallS,
  otherCoresBusy: otherCores,
  loadavg: loadavg(),
  numTensorsAfter: tf.memory().numTensors,
  peakRssMB: peakRssOneThreadMB,
  sharded: shardRun === undefined ? null : { ...shardRun, speedUp: mean / shardRun.secondsPerIteration },
  warnings,
};
console.log(JSON.stringify(out));
console.error(
  `ALARM N=${o.rows} missing=${o.missing}: ${nPatterns} distinct patterns, junction tree ${d.nCliques} cliques / ${d.totalCliqueSize} entries; ` +
    `prepare ${(prepareMs / 1000).toFixed(2)} s; ${mean.toFixed(3)} s per EM iteration (median ${median.toFixed(3)}, first ${iterS[0].toFixed(3)}); ` +
    `peak RSS ${peakRssOneThreadMB.toFixed(0)} MB; other processes kept ${otherCores === undefined ? '?' : otherCores.toFixed(2)} of ${cpus().length} cores busy`,
);
if (shardRun !== undefined) {
  console.error(
    `  sharded over ${shardRun.workers} worker threads: ${shardRun.secondsPerIteration.toFixed(3)} s per EM iteration (${(mean / shardRun.secondsPerIteration).toFixed(2)}× one thread), ` +
      `log-likelihood ${shardRun.identicalLogLikelihood ? 'identical to' : 'DIFFERENT from'} one thread, peak RSS ${shardRun.peakRssMB.toFixed(0)} MB, other processes ${shardRun.otherCoresBusy === undefined ? '?' : shardRun.otherCoresBusy.toFixed(2)} cores`,
  );
}
if (o.json) writeFileSync(o.json, JSON.stringify(out, null, 2));
