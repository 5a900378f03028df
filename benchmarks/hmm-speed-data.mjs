/**
 * Child process 1 of the HMM speed benchmark: draws S sequences × T steps from
 * a seeded Gaussian HMM (K states, D dimensions, full covariances, sticky
 * transitions) and computes the common start with emlab's `kmeans` init
 * (seed 0), then writes `x.f64` (float64, row-major, sequences one after the
 * other) and `init.json` (initial, transition, means, covariances) to `dir`.
 *
 *   node benchmarks/hmm-speed-data.mjs <dir> <S> <T> <K> <D>
 *
 * Prints one JSON line with the file names and timings.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng, initialParams } from '@emlab/core';
import { hiddenMarkovModel } from '@emlab/models';

const [dir, ...sizes] = process.argv.slice(2);
const [S, T, K, D] = sizes.map(Number);
if (dir === undefined || [S, T, K, D].some((v) => !Number.isSafeInteger(v) || v < 1)) {
  console.error('usage: node benchmarks/hmm-speed-data.mjs <dir> <S> <T> <K> <D>');
  process.exit(2);
}
const t0 = performance.now();
const rng = createRng('hmm-speed').child('truth');
const means = Array.from({ length: K }, () => Array.from({ length: D }, () => 2.5 * rng.normal()));
const chol = Array.from({ length: K }, () => {
  // L = lower-triangular with a positive diagonal: Σ = L Lᵀ.
  const l = new Float64Array(D * D);
  for (let i = 0; i < D; i++) for (let j = 0; j <= i; j++) l[i * D + j] = i === j ? 0.5 + rng.uniform() : 0.3 * rng.normal();
  return l;
});
const transition = Array.from({ length: K }, (_, i) => {
  const row = Array.from({ length: K }, (_, j) => (i === j ? 0.9 * K : 0.1 + rng.uniform() * 0.2));
  const s = row.reduce((a, b) => a + b, 0);
  return row.map((v) => v / s);
});
const x = new Float64Array(S * T * D);
const eps = new Float64Array(D);
const draw = createRng('hmm-speed').child('draws');
for (let s = 0; s < S; s++) {
  let z = draw.int(K);
  for (let t = 0; t < T; t++) {
    if (t > 0) z = draw.categorical(transition[z]);
    const r = (s * T + t) * D;
    for (let i = 0; i < D; i++) eps[i] = draw.normal();
    const l = chol[z];
    for (let i = 0; i < D; i++) {
      let v = means[z][i];
      for (let j = 0; j <= i; j++) v += l[i * D + j] * eps[j];
      x[r + i] = v;
    }
  }
}
const generateMs = performance.now() - t0;
const dataFile = join(dir, 'x.f64');
writeFileSync(dataFile, new Uint8Array(x.buffer));
const t1 = performance.now();
const model = hiddenMarkovModel({ nStates: K, covarianceType: 'full' });
const start = await initialParams(model, { values: x, rows: S * T, cols: D, lengths: new Array(S).fill(T) }, { seed: 0 });
const initMs = performance.now() - t1;
const paramsFile = join(dir, 'init.json');
writeFileSync(paramsFile, JSON.stringify({ S, T, K, D, initial: start.initial, transition: start.transition, means: start.emission.means, covariances: start.emission.covariances }));
console.log(JSON.stringify({ dataFile, paramsFile, generateMs, initMs }));
