/**
 * Child process 2 of the Gaussian-mixture speed benchmark: fits emlab's
 * full-covariance Gaussian mixture to the data written by gmm-speed-data.mjs,
 * from its starting parameters, for exactly MAX_ITER iterations (tol = 0).
 *
 *   node benchmarks/gmm-speed-emlab.mjs <data.f64> <init.json> [--phases] [--precision float32|float64] [--workers N]
 *
 * `--workers N` (default 1) shards each E-step over N worker threads (`fit`'s `workers`; the threads
 * are started before the timed fit, so their start-up is not timed; their memory is in the peak RSS).
 *
 * `--precision` (default float32, the arithmetic scikit-learn's comparison has always used here):
 * float32 runs the TensorFlow.js kernels, float64 the host kernels.
 *
 * Prints one JSON line. Timed: `fit` only (not reading the file, not loading
 * the backend). `iterMs` is eStepMs + mStepMs of each iteration from the
 * trace; the headline figure is their mean over iterations 2..MAX_ITER.
 *
 * With `--phases`, after the fit (and after peak RSS is read) one more E-step
 * and M-step at the final parameters run under `tf.profile`, and the JSON gets
 * `phases`: wall time, time per TensorFlow.js kernel, and the remainder spent
 * in JavaScript (host loops, downloads, parameter factorization).
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { createRng, fit, initBackend, VERSION } from '@emlab/core';
import { threadShards } from '@emlab/core/node';
import { exactEStep } from '@emlab/exact';
import { gaussianMixture } from '@emlab/models';
import { MAX_ITER, REG_COVAR } from './gmm-speed-configs.mjs';
import { peakRssKiB } from './bench-util.mjs';

const [dataFile, paramsFile, ...flags] = process.argv.slice(2);
const wantPhases = flags.includes('--phases');
const precisionAt = flags.indexOf('--precision');
const precision = precisionAt >= 0 ? flags[precisionAt + 1] : 'float32';
const workersAt = flags.indexOf('--workers');
const workers = workersAt >= 0 ? Number(flags[workersAt + 1]) : 1;
if (!Number.isInteger(workers) || workers < 1) {
  console.error('--workers must be an integer >= 1');
  process.exit(2);
}
if (precision !== 'float32' && precision !== 'float64') {
  console.error('--precision must be float32 or float64');
  process.exit(2);
}
if (dataFile === undefined || paramsFile === undefined) {
  console.error('usage: node benchmarks/gmm-speed-emlab.mjs <data.f64> <init.json>');
  process.exit(2);
}
const start = JSON.parse(readFileSync(paramsFile, 'utf8'));
const { nSamples: n, nFeatures: d, nComponents: k, seed } = start;

// Read the raw float64 file straight into its Float64Array (no intermediate copy).
const x = new Float64Array(n * d);
const bytes = new Uint8Array(x.buffer);
const fd = openSync(dataFile, 'r');
try {
  let off = 0;
  while (off < bytes.length) {
    const got = readSync(fd, bytes, off, bytes.length - off, off);
    if (got === 0) throw new Error(`${dataFile}: expected ${bytes.length} bytes, got ${off}`);
    off += got;
  }
} finally {
  closeSync(fd);
}
const peakRssBeforeFitKiB = peakRssKiB();

const backend = await initBackend();
const g = gaussianMixture({ nComponents: k, covarianceType: 'full', regCovar: REG_COVAR });
const init = { weights: start.weights, means: start.means, covariances: start.covariances };
const warnings = [];

// Worker threads are started (backend loaded, packages imported) by a tiny untimed fit first.
const engine = workers > 1 ? threadShards({ workers }) : undefined;
if (engine !== undefined) {
  await fit(g, { values: x.subarray(0, Math.min(n, 64) * d), rows: Math.min(n, 64), cols: d }, { init, maxIter: 1, tol: 0, seed, precision, workers: engine, onWarning: () => undefined });
}
const t0 = performance.now();
const result = await fit(g, { values: x, rows: n, cols: d }, {
  init, maxIter: MAX_ITER, tol: 0, seed, precision, onWarning: (m) => warnings.push(m), ...(engine === undefined ? {} : { workers: engine }),
});
const fitWallMs = performance.now() - t0;

const peakRssAfterFitKiB = peakRssKiB();
const maxRssAfterFitKiB = process.resourceUsage().maxRSS;
await engine?.close();

/** One E-step + M-step at `params` under tf.profile: per-kernel times and the JS remainder. */
async function phases(params) {
  const prepared = g.prepare({ values: x, rows: n, cols: d }, { precisions: [precision] });
  try {
    const eStep = exactEStep();
    const rng = createRng(seed).child('phases');
    let structureMs = 0;
    let eMs = 0;
    let mMs = 0;
    const t0 = performance.now();
    const info = await tf.profile(async () => {
      const a = performance.now();
      const structure = g.structure(prepared, params, { precision });
      const b = performance.now();
      let e;
      try {
        e = await eStep.run(structure, { rng: rng.child('e'), iteration: 1, passes: 0, state: undefined, precision });
      } finally {
        structure.dispose();
      }
      const c = performance.now();
      const m = g.mStep(e.stats, params, { rng: rng.child('m'), prepared, iteration: 1 });
      g.expectedLogJoint(e.stats, m.params);
      const dd = performance.now();
      structureMs = b - a;
      eMs = c - b;
      mMs = dd - c;
    });
    const wallMs = performance.now() - t0;
    const byKernel = {};
    for (const k of info.kernels) {
      const entry = (byKernel[k.name] ??= { ms: 0, calls: 0 });
      entry.ms += k.kernelTimeMs;
      entry.calls += 1;
    }
    const kernelMs = Object.values(byKernel).reduce((s, v) => s + v.ms, 0);
    const kernels = Object.fromEntries(Object.entries(byKernel).sort((p, q) => q[1].ms - p[1].ms));
    return { structureMs, eStepMs: eMs, mStepMs: mMs, profiledMs: structureMs + eMs + mMs, kernelMs, jsMs: structureMs + eMs + mMs - kernelMs, wallWithProfilerMs: wallMs, kernels };
  } finally {
    prepared.dispose();
  }
}
const phaseInfo = wantPhases ? await phases(result.params) : undefined;

const iterMs = result.trace.map((r) => r.eStepMs + r.mStepMs);
const eMs = result.trace.map((r) => r.eStepMs);
const mMs = result.trace.map((r) => r.mStepMs);
const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
const steady = (a) => mean(a.length > 1 ? a.slice(1) : a);
console.log(JSON.stringify({
  impl: 'emlab',
  precision,
  version: VERSION,
  backend: result.backend,
  backendRequested: backend,
  nIter: result.nIter,
  msPerIter: steady(iterMs),
  eStepMs: steady(eMs),
  mStepMs: steady(mMs),
  firstIterMs: iterMs[0],
  iterMs,
  fitWallMs,
  fitWallPerIterMs: fitWallMs / MAX_ITER,
  meanLogLikelihood: result.logLikelihood / n,
  peakRssKiB: peakRssAfterFitKiB,
  maxRssKiB: maxRssAfterFitKiB,
  peakRssBeforeFitKiB,
  threads: workers,
  cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  phases: phaseInfo,
  warnings: warnings.filter((w) => !w.includes('did not converge')),
}));
