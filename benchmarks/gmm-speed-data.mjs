/**
 * Child process 1 of the Gaussian-mixture speed benchmark: draws the seeded
 * data set and the shared starting parameters, and writes them to a directory.
 *
 *   node benchmarks/gmm-speed-data.mjs <config a|b> <dir>
 *
 * Writes <dir>/x.f64 (float64, little-endian, row-major N×D) and
 * <dir>/init.json ({ config, nSamples, nFeatures, nComponents, seed, weights,
 * means, covariances }); prints one JSON line. The start is emlab's own
 * `kmeans++` initialization (D² seeding, hard labels, one M-step) with the
 * config's seed; both implementations then start from exactly these parameters.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng, initBackend } from '@emlab/core';
import { makeGaussianMixture } from '@emlab/data';
import { gaussianMixture } from '@emlab/models';
import { CONFIGS, REG_COVAR, SEPARATION } from './gmm-speed-configs.mjs';

const [configName, dir] = process.argv.slice(2);
const cfg = CONFIGS[configName];
if (cfg === undefined || dir === undefined) {
  console.error('usage: node benchmarks/gmm-speed-data.mjs <a|b> <dir>');
  process.exit(2);
}
const { nSamples: n, nFeatures: d, nComponents: k, seed } = cfg;

const t0 = performance.now();
const data = makeGaussianMixture({ nSamples: n, nComponents: k, nFeatures: d, seed, separation: SEPARATION, covariance: 'full' });
const t1 = performance.now();

await initBackend();
const g = gaussianMixture({ nComponents: k, covarianceType: 'full', regCovar: REG_COVAR });
const prepared = g.prepare({ values: data.x, rows: n, cols: d });
let init;
try {
  init = g.init(prepared, 'kmeans++', createRng(seed).child('init'));
} finally {
  prepared.dispose();
}
const t2 = performance.now();

const bytes = new Uint8Array(data.x.buffer, data.x.byteOffset, data.x.byteLength);
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian hosts are not supported');
writeFileSync(join(dir, 'x.f64'), bytes);
writeFileSync(join(dir, 'init.json'), JSON.stringify({
  config: cfg.name, nSamples: n, nFeatures: d, nComponents: k, seed,
  weights: init.weights, means: init.means, covariances: init.covariances,
}));
console.log(JSON.stringify({ generateMs: t1 - t0, initMs: t2 - t1, dataFile: join(dir, 'x.f64'), paramsFile: join(dir, 'init.json') }));
