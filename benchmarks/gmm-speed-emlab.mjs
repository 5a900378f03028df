/**
 * Child process 2 of the Gaussian-mixture speed benchmark: fits emlab's
 * full-covariance Gaussian mixture to the data written by gmm-speed-data.mjs,
 * from its starting parameters, for exactly MAX_ITER iterations (tol = 0).
 *
 *   node benchmarks/gmm-speed-emlab.mjs <data.f64> <init.json>
 *
 * Prints one JSON line. Timed: `fit` only (not reading the file, not loading
 * the backend). `iterMs` is eStepMs + mStepMs of each iteration from the
 * trace; the headline figure is their mean over iterations 2..MAX_ITER.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { cpus } from 'node:os';
import { fit, initBackend, VERSION } from '@emlab/core';
import '@emlab/exact';
import { gaussianMixture } from '@emlab/models';
import { MAX_ITER, REG_COVAR, peakRssKiB } from './gmm-speed-configs.mjs';

const [dataFile, paramsFile] = process.argv.slice(2);
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
const peakRssBeforeFitKiB = await peakRssKiB();

const backend = await initBackend();
const g = gaussianMixture({ nComponents: k, covarianceType: 'full', regCovar: REG_COVAR });
const init = { weights: start.weights, means: start.means, covariances: start.covariances };
const warnings = [];

const t0 = performance.now();
const result = await fit(g, { values: x, rows: n, cols: d }, {
  init, maxIter: MAX_ITER, tol: 0, seed, onWarning: (m) => warnings.push(m),
});
const fitWallMs = performance.now() - t0;

const iterMs = result.trace.map((r) => r.eStepMs + r.mStepMs);
const eMs = result.trace.map((r) => r.eStepMs);
const mMs = result.trace.map((r) => r.mStepMs);
const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
const steady = (a) => mean(a.length > 1 ? a.slice(1) : a);
console.log(JSON.stringify({
  impl: 'emlab',
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
  peakRssKiB: await peakRssKiB(),
  maxRssKiB: process.resourceUsage().maxRSS,
  peakRssBeforeFitKiB,
  threads: 1,
  cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  warnings: warnings.filter((w) => !w.includes('did not converge')),
}));
