/**
 * Speed of the float64 HMM kernels (`packages/core/src/chain`): forward–backward
 * (three variants), Viterbi and FFBS on S sequences × T steps × K states with
 * random parameters and emissions.
 *
 *   npx tsc -b packages/core && node benchmarks/chain-kernels.mjs [--sequences 1000] [--steps 1000] [--states 8] [--paths 10]
 *
 * Reads the built `packages/core/dist` (the chain kernels are not yet exported
 * from `@emlab/core`). Reports the best of `--repeats` wall times per kernel.
 */
import { createRng } from '../packages/core/dist/index.js';
import { ffbs, forwardBackward, validateChainBatch, viterbi } from '../packages/core/dist/chain/index.js';
import { parseFlags } from './bench-util.mjs';

const o = parseFlags(process.argv.slice(2), {
  defaults: { sequences: 1000, steps: 1000, states: 8, paths: 10, repeats: 3 },
  options: {
    sequences: ['sequences', Number],
    steps: ['steps', Number],
    states: ['states', Number],
    paths: ['paths', Number],
    repeats: ['repeats', Number],
  },
  usage: 'node benchmarks/chain-kernels.mjs [--sequences S] [--steps T] [--states K] [--paths P] [--repeats R]',
});

const { sequences: S, steps: T, states: K } = o;
const rng = createRng(0).child('bench', 'chain');
const logRow = (n) => {
  const p = Array.from({ length: n }, () => -Math.log(1 - rng.uniform()));
  const sum = p.reduce((a, b) => a + b, 0);
  return p.map((v) => Math.log(v / sum));
};
const logInitial = Float64Array.from(logRow(K));
const logTransition = new Float64Array(K * K);
for (let i = 0; i < K; i++) logTransition.set(logRow(K), i * K);
const logEmission = new Float64Array(S * T * K);
for (let i = 0; i < logEmission.length; i++) logEmission[i] = -0.5 * (3 * rng.normal()) ** 2 - 0.919;
const batch = { nStates: K, lengths: new Int32Array(S).fill(T), logEmission, logInitial, logTransition };

const time = (name, f) => {
  let best = Infinity;
  let out;
  for (let r = 0; r < o.repeats; r++) {
    const t0 = performance.now();
    out = f();
    best = Math.min(best, performance.now() - t0);
  }
  console.log(`${name.padEnd(36)} ${(best / 1000).toFixed(3)} s`);
  return out;
};

console.log(`S = ${S}, T = ${T}, K = ${K} (ΣT·K = ${S * T * K}); node ${process.version}; best of ${o.repeats}`);
time('validateChainBatch', () => validateChainBatch(batch));
const fb = time('forwardBackward scaled', () => forwardBackward(batch));
const out = { gamma: new Float64Array(S * T * K), logLikelihoods: new Float64Array(S) };
time('forwardBackward scaled, reused out', () => forwardBackward(batch, { out }));
time('forwardBackward scaled likelihoodOnly', () => forwardBackward(batch, { likelihoodOnly: true }));
time('forwardBackward log', () => forwardBackward(batch, { variant: 'log' }));
time('viterbi', () => viterbi(batch));
time(`ffbs ${o.paths} paths (keepPaths: false)`, () => ffbs(batch, rng.child('ffbs'), o.paths, { keepPaths: false }));
console.log(`logLikelihood ${fb.logLikelihood}, entropy ${fb.entropy}`);
