/**
 * Child process 2 of the HMM speed benchmark: emlab's Gaussian HMM (full
 * covariances, exact forward–backward E-step, float64 host kernels, one
 * thread) on the data and start written by hmm-speed-data.mjs, for exactly
 * `iters` iterations (tol = 0).
 *
 *   node benchmarks/hmm-speed-emlab.mjs <x.f64> <init.json> <iters> [--workers N]
 *
 * `--workers N` shards each E-step over N worker threads (whole sequences in blocks of 65,536 time
 * steps; the threads are started by a tiny untimed fit first; their memory is in the peak RSS).
 *
 * Prints one JSON line. `iterMs` is eStepMs + mStepMs of every iteration from
 * the trace (reading the file is not timed); the headline is their mean over
 * iterations 2..iters. Peak RSS is read right after the fit.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { fit, VERSION } from '@emlab/core';
import { threadShards } from '@emlab/core/node';
import '@emlab/exact';
import { hiddenMarkovModel } from '@emlab/models';
import { peakRssKiB } from './bench-util.mjs';

const [dataFile, paramsFile, itersText, ...flags] = process.argv.slice(2);
const iters = Number(itersText);
const workersAt = flags.indexOf('--workers');
const workers = workersAt >= 0 ? Number(flags[workersAt + 1]) : 1;
if (!Number.isInteger(workers) || workers < 1) throw new Error('--workers must be an integer >= 1');
const start = JSON.parse(readFileSync(paramsFile, 'utf8'));
const { S, T, K, D } = start;
const x = new Float64Array(S * T * D);
const bytes = new Uint8Array(x.buffer);
const fd = openSync(dataFile, 'r');
try {
  for (let off = 0; off < bytes.length; ) {
    const got = readSync(fd, bytes, off, bytes.length - off, off);
    if (got === 0) throw new Error(`${dataFile}: short file`);
    off += got;
  }
} finally {
  closeSync(fd);
}
const model = hiddenMarkovModel({ nStates: K, covarianceType: 'full', regCovar: 1e-6 });
const init = { initial: start.initial, transition: start.transition, emission: { type: 'gaussian', covarianceType: 'full', means: start.means, covariances: start.covariances } };
const warnings = [];
const engine = workers > 1 ? threadShards({ workers }) : undefined;
if (engine !== undefined) {
  await fit(model, { values: x.subarray(0, T * D), rows: T, cols: D, lengths: [T] }, { init, maxIter: 1, tol: 0, precision: 'float64', workers: engine, onWarning: () => {} });
}
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const result = await fit(model, { values: x, rows: S * T, cols: D, lengths: new Array(S).fill(T) }, { init, maxIter: iters, tol: 0, precision: 'float64', onWarning: (m) => warnings.push(m), ...(engine === undefined ? {} : { workers: engine }) });
const fitWallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const peak = peakRssKiB();
await engine?.close();
const iterMs = result.trace.map((r) => r.eStepMs + r.mStepMs);
const tail = iterMs.slice(1);
const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
console.log(JSON.stringify({
  impl: 'emlab',
  version: VERSION,
  iters: result.trace.length,
  iterMs,
  msPerIter: mean(tail),
  eStepMs: mean(result.trace.slice(1).map((r) => r.eStepMs)),
  mStepMs: mean(result.trace.slice(1).map((r) => r.mStepMs)),
  fitWallMs,
  cpuMs: (cpu.user + cpu.system) / 1000,
  peakRssKiB: peak,
  workers,
  logLikelihood: result.logLikelihood,
  logLikelihoodPerRow: result.logLikelihood / (S * T),
  warnings,
}));
