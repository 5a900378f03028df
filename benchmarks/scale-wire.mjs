#!/usr/bin/env node
/**
 * What a sharded Gaussian-mixture fit sends over the wire per EM iteration, measured, and the speed-up
 * it allows for W workers, estimated.
 *
 *   node benchmarks/scale-wire.mjs [--rows 1000000] [--features 16] [--components 16]
 *        [--compute-ms MS] [--mstep-ms MS] [--main-ms MS] [--bandwidth-mbit 1000] [--latency-ms 2] [--precision float32|float64]
 *
 * Measured (on a small sample of rows: the sizes per block do not depend on N): the serialized size
 * (v8, as `queueShards` stores it; Redis holds it base64, 4/3 of that) of one shard request (θ out)
 * and of one block outcome (statistics back), and the rows per block, by running core's
 * `ShardWorker` in this thread. Then, for N rows: bytes per iteration = W requests + every block's
 * outcome (each block once, whatever W).
 *
 * Estimated, for W = 1, 2, 4, …, 100 workers:
 *   T(W) = computeMs / W + mstepMs + mainMs + latencyMs · 2 + bytes(W) / bandwidth
 * where `computeMs` is the E-step of one iteration on one worker (default: the single-thread figure
 * of benchmarks/README.md for config b, 1e6 × 16, K = 16), `mstepMs` the M-step (main thread), and
 * `mainMs` adding the block outcomes in order on the main thread (default: measured here, adding the
 * outcomes of N/blockRows blocks). Speed-up = (computeMs + mstepMs) / T(W): against one thread with no wire at all. It is a model, not a measurement on
 * many machines: it assumes equal workers, one round trip per iteration, and the submitter's link
 * carrying all the bytes.
 */
import { serialize } from 'node:v8';
import { createRng, initBackend, ShardWorker, findModel, mergeShardOutcomes, reduceFiniteChunks, replayStructure } from '@emlab/core';
import '@emlab/exact';
import { gaussianMixture } from '@emlab/models';
import { parseFlags } from './bench-util.mjs';

const o = parseFlags(process.argv.slice(2), {
  defaults: { rows: 1_000_000, features: 16, components: 16, computeMs: 1972, mstepMs: 1, mainMs: undefined, bandwidthMbit: 1000, latencyMs: 2, precision: 'float32' },
  options: {
    rows: ['rows', Number], features: ['features', Number], components: ['components', Number], 'compute-ms': ['computeMs', Number], 'mstep-ms': ['mstepMs', Number], 'main-ms': ['mainMs', Number],
    'bandwidth-mbit': ['bandwidthMbit', Number], 'latency-ms': ['latencyMs', Number], precision: ['precision', String],
  },
  switches: {},
  usage: 'usage: node benchmarks/scale-wire.mjs [--rows N] [--features D] [--components K] [--compute-ms MS] [--main-ms MS] [--bandwidth-mbit B] [--latency-ms L] [--precision float32|float64]',
});
for (const k of ['rows', 'features', 'components']) if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`--${k} must be an integer >= 1`);
if (o.precision !== 'float32' && o.precision !== 'float64') throw new Error('--precision must be float32 or float64');

await initBackend();
findModel('gmm'); // registered by @emlab/models
const d = o.features;
const k = o.components;
const rng = createRng(7).child('wire');
// Enough rows for several blocks of either precision.
const sampleRows = 40_000;
const rows = Array.from({ length: sampleRows }, (_, i) => Array.from({ length: d }, (_, j) => (i % k) * 0.7 + (j === i % k ? 1 : 0) + rng.normal()));
const model = gaussianMixture({ nComponents: k });
const prepared = model.prepare({ values: Float64Array.from(rows.flat()), rows: sampleRows, cols: d }, { precisions: [o.precision] });
const params = {
  weights: Array.from({ length: k }, () => 1 / k),
  means: Array.from({ length: k }, (_, c) => Array.from({ length: d }, (_, j) => c * 0.7 + (j === c ? 1 : 0))),
  covariances: Array.from({ length: k }, () => Array.from({ length: d }, (_, a) => Array.from({ length: d }, (_, b) => (a === b ? 1 : 0)))),
};
const probe = model.structure(prepared, params, { precision: o.precision });
const algebra = probe.algebra;
probe.dispose?.();
const payload = model.shard.exportPrepared(prepared, { share: (a) => a });
const worker = new ShardWorker({ model: { name: 'gmm', options: { nComponents: k } }, eStep: { kind: 'finite', name: 'exact', options: {} }, payload, precisions: [o.precision], shard: 0, nShards: 1 });
const request = { params, precision: o.precision, rngPath: '0/restart/0/iter/1/estep', iteration: 1, passes: 0 };
const reply = await worker.evaluate(request);
worker.dispose();
prepared.dispose();
const requestBytes = serialize(request).length;
const blockBytes = reply.blocks.map((b) => serialize(b).length);
const perBlock = Math.max(...blockBytes);
const blockRows = Math.ceil(sampleRows / reply.nBlocks);
const nBlocks = Math.ceil(o.rows / blockRows);

// The main thread's share: adding nBlocks outcomes in order (mergeShardOutcomes + the block loop's sums).
let mainMs = o.mainMs;
if (mainMs === undefined) {
  const fake = { nComponents: k, nBlocks, blocks: Array.from({ length: nBlocks }, (_, i) => ({ index: i, outcome: reply.blocks[i % reply.blocks.length].outcome })) };
  // What the main thread's E-step does with them: the block loop adds them in block order (best of 5, after warm-up).
  mainMs = Number.POSITIVE_INFINITY;
  for (let rep = 0; rep < 6; rep++) {
    const t0 = performance.now();
    const merged = mergeShardOutcomes([fake]);
    reduceFiniteChunks(replayStructure(merged.outcomes, o.rows, k, algebra, o.precision), createRng(1), () => ({}));
    if (rep > 0) mainMs = Math.min(mainMs, performance.now() - t0);
  }
}

const mb = (b) => (b / 2 ** 20).toFixed(2);
console.log(`GMM N=${o.rows}, D=${d}, K=${k}, ${o.precision}: ${blockRows} rows per block, ${nBlocks} blocks per pass`);
console.log(`θ out: ${requestBytes} bytes per shard request; statistics back: ${perBlock} bytes per block outcome (v8; base64 in Redis is 4/3 of it) = ${mb(nBlocks * perBlock)} MiB per iteration, whatever the number of workers`);
console.log(`model: E-step ${o.computeMs} ms per iteration on one thread, M-step ${o.mstepMs} ms, main thread ${mainMs.toFixed(1)} ms (adding the outcomes in block order), ${o.bandwidthMbit} Mbit/s, ${o.latencyMs} ms latency each way`);
const t1 = o.computeMs + o.mstepMs;
const rowsOut = [['workers', 'bytes/iter', 'wire ms', 'compute ms', 'iter ms', 'speed-up']];
for (const w of [1, 2, 4, 8, 16, 32, 64, 100]) {
  const bytes = w * requestBytes + nBlocks * perBlock;
  const wireMs = (bytes * 8) / (o.bandwidthMbit * 1e3) + 2 * o.latencyMs;
  const t = o.computeMs / w + o.mstepMs + mainMs + wireMs;
  rowsOut.push([w, `${mb(bytes)} MiB`, wireMs.toFixed(1), (o.computeMs / w).toFixed(1), t.toFixed(1), `${(t1 / t).toFixed(1)}×`]);
}
const widths = rowsOut[0].map((_, c) => Math.max(...rowsOut.map((r) => String(r[c]).length)));
for (const r of rowsOut) console.log(r.map((c, i) => String(c).padStart(widths[i])).join('  '));
console.log(JSON.stringify({ rows: o.rows, features: d, components: k, precision: o.precision, blockRows, nBlocks, requestBytes, blockOutcomeBytes: perBlock, bytesPerIteration: nBlocks * perBlock, mainMs, computeMs: o.computeMs, mstepMs: o.mstepMs, bandwidthMbit: o.bandwidthMbit, latencyMs: o.latencyMs }));
