/**
 * Child of the Gaussian-mixture speed benchmark: the float32 matmul rate of the TensorFlow.js backend
 * on one thread of this machine, measured in the same run as the fits (what emlab's GFLOP/s are
 * compared with). Prints one JSON line:
 * - `squareGflops`: C = A B with A, B 1024 × 1024 (2·n³ flops), best of 5 after a warm-up;
 * - `tableGflops`: the E-step's shape, [4096 × 273] × [273 × 16] (Φ Q of config b), best of 20;
 * - `statsGflops`: the statistics' shape, [16 × 4096] × [4096 × 273] (Wᵀ Φ), best of 20.
 *
 *   node benchmarks/gmm-speed-matmul.mjs
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@emlab/core';

const backend = await initBackend();
function rate(m, k, n, reps) {
  const a = tf.randomUniform([m, k], -1, 1, 'float32', 1);
  const b = tf.randomUniform([k, n], -1, 1, 'float32', 2);
  tf.matMul(a, b).dataSync();
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    best = Math.min(best, performance.now() - t0);
    c.dispose();
  }
  a.dispose();
  b.dispose();
  return (2 * m * k * n) / (best * 1e6);
}
const cpu0 = process.cpuUsage();
const out = { backend, squareGflops: rate(1024, 1024, 1024, 5), tableGflops: rate(4096, 273, 16, 20), statsGflops: rate(16, 4096, 273, 20) };
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ ...out, cpuMs: (cpu.user + cpu.system) / 1000 }));
