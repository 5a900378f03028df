#!/usr/bin/env node
/**
 * Data larger than memory: a Gaussian mixture fitted to a table read from disk
 * block by block (never the whole table in memory).
 *
 *   node benchmarks/scale-out-of-core.mjs [--rows 10000000] [--features 16] [--components 16]
 *        [--iters 5] [--workers 2] [--format arrow|csv|parquet] [--dir DIR] [--keep] [--json FILE]
 *
 * 1. Draws a seeded mixture and writes it to DIR/big.<format> in batches (Arrow IPC stream by
 *    default: 1e7 × 16 doubles = 1.28 GB; never the whole table in memory).
 * 2. `openRowSource` converts it to a row cache (one streaming pass, a progress line every 2^20 rows).
 * 3. `fit(gaussianMixture({ nComponents: K }), rows, { workers, precision: 'float32', maxIter: iters, tol: 0 })`:
 *    k-means++ start (K streaming passes), then one progress line per EM pass (bound, seconds,
 *    RSS, rows read), then the final float64 log-likelihood (one more pass).
 * Prints the peak RSS of the process (VmHWM: main thread and worker threads) and how busy the rest
 * of the machine was.
 */
import { createWriteStream, mkdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { RecordBatchStreamWriter, tableFromArrays } from 'apache-arrow';
import { createRng, fit, initBackend } from '@emlab/core';
import { openRowSource, threadShards } from '@emlab/core/node';
import '@emlab/exact';
import { gaussianMixture } from '@emlab/models';
import { machineBusySeconds, parseFlags, peakRssKiB } from './bench-util.mjs';

const o = parseFlags(process.argv.slice(2), {
  defaults: { rows: 10_000_000, features: 16, components: 16, iters: 5, workers: 2, format: 'arrow', dir: join(tmpdir(), 'emlab-out-of-core'), keep: false, json: undefined },
  options: { rows: ['rows', Number], features: ['features', Number], components: ['components', Number], iters: ['iters', Number], workers: ['workers', Number], format: ['format', String], dir: ['dir', String], json: ['json', String] },
  switches: { keep: { keep: true } },
  usage: 'usage: node benchmarks/scale-out-of-core.mjs [--rows N] [--features D] [--components K] [--iters T] [--workers W] [--format arrow|csv|parquet] [--dir DIR] [--keep] [--json FILE]',
});
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const rss = () => process.memoryUsage().rss;
const t0 = performance.now();
const busy0 = machineBusySeconds();
const cpu0 = process.cpuUsage();
const secs = () => ((performance.now() - t0) / 1000).toFixed(1);
console.log(`scale-out-of-core: N=${o.rows}, D=${o.features}, K=${o.components}, ${o.iters} passes, ${o.workers} worker thread(s), ${o.format}; ${cpus().length} × ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);

mkdirSync(o.dir, { recursive: true });
const file = join(o.dir, `big.${o.format === 'arrow' ? 'arrows' : o.format}`);
const BATCH = 65_536;

/** Seeded mixture rows, batch by batch: K means spread on a cube, unit-ish covariances. */
function* batches() {
  const rng = createRng(17).child('out-of-core');
  const means = Array.from({ length: o.components }, () => Array.from({ length: o.features }, () => rng.normal() * 3));
  for (let start = 0; start < o.rows; start += BATCH) {
    const n = Math.min(BATCH, o.rows - start);
    const cols = Array.from({ length: o.features }, () => new Float64Array(n));
    for (let i = 0; i < n; i++) {
      const k = rng.int(o.components);
      let shared = rng.normal();
      for (let j = 0; j < o.features; j++) {
        shared = 0.5 * shared + rng.normal();
        cols[j][i] = means[k][j] + shared;
      }
    }
    yield cols;
  }
}

async function writeData() {
  const names = Array.from({ length: o.features }, (_, j) => `x${j}`);
  if (o.format === 'arrow') {
    const writer = new RecordBatchStreamWriter();
    const out = createWriteStream(file);
    writer.toNodeStream().pipe(out);
    for (const cols of batches()) {
      for (const batch of tableFromArrays(Object.fromEntries(names.map((nm, j) => [nm, cols[j]]))).batches) writer.write(batch);
      // Let the bytes flow to the file before the next batch (bounded memory).
      await new Promise((r) => setImmediate(r));
      while (out.writableNeedDrain) await once(out, 'drain');
    }
    writer.finish();
    await once(out, 'finish');
  } else if (o.format === 'csv') {
    const out = createWriteStream(file);
    out.write(`${names.join(',')}\n`);
    for (const cols of batches()) {
      const lines = [];
      for (let i = 0; i < cols[0].length; i++) lines.push(cols.map((c) => c[i]).join(','));
      if (!out.write(`${lines.join('\n')}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  } else {
    throw new Error('--format parquet: generate the file with your own tool (hyparquet-writer holds a whole table in memory); arrow or csv here');
  }
}

await writeData();
console.log(`[${secs()} s] wrote ${file} (${mib(statSync(file).size)}), RSS ${mib(rss())}`);

const tc = performance.now();
const rows = await openRowSource(file, { cacheDir: join(o.dir, 'cache'), rebuild: true, onProgress: (p) => { if (p.rows % 2 ** 20 === 0) console.log(`[${secs()} s] converting: ${p.rows} rows (${mib(p.bytes)}), RSS ${mib(rss())}`); } });
const convertS = (performance.now() - tc) / 1000;
console.log(`[${secs()} s] row cache ready: ${rows.nRows} × ${rows.nColumns} in ${convertS.toFixed(1)} s, RSS ${mib(rss())}`);

await initBackend();
const engine = o.workers > 1 ? threadShards({ workers: o.workers }) : undefined;
let last = performance.now();
let read0 = rows.stats.bytesRead;
const passes = [];
const tf0 = performance.now();
const result = await fit(gaussianMixture({ nComponents: o.components }), rows, {
  seed: 1,
  maxIter: o.iters,
  tol: 0,
  precision: 'float32',
  ...(engine === undefined ? {} : { workers: engine }),
  onWarning: () => undefined,
  onProgress: (p) => {
    console.log(`[${secs()} s] ${p.phase}${p.restart === undefined ? '' : ` (restart ${p.restart})`}, previous phase ${((p.ms ?? 0) / 1000).toFixed(1)} s, RSS ${mib(rss())}`);
    last = performance.now();
  },
  onIteration: (r) => {
    const now = performance.now();
    const readMain = rows.stats.bytesRead - read0;
    read0 = rows.stats.bytesRead;
    passes.push({ pass: r.iteration, seconds: (now - last) / 1000, eStepMs: r.eStepMs, mStepMs: r.mStepMs, bound: r.boundAfterM, rssBytes: rss() });
    console.log(`[${secs()} s] pass ${r.iteration}: bound ${r.boundAfterM.toExponential(9)}, ${((now - last) / 1000).toFixed(1)} s (E ${(r.eStepMs / 1000).toFixed(1)} s), RSS ${mib(rss())}, main thread read ${mib(readMain)}`);
    last = now;
  },
});
const fitS = (performance.now() - tf0) / 1000;
await engine?.close();
const cpuS = (process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6;
const busy1 = machineBusySeconds();
const wallS = (performance.now() - t0) / 1000;
const otherCores = busy0 === undefined ? undefined : Math.max(0, (busy1 - busy0 - cpuS) / wallS);
const peak = peakRssKiB() * 1024;
console.log(`[${secs()} s] done: log-likelihood ${result.logLikelihood?.toExponential(12)} (mean ${(result.logLikelihood / o.rows).toFixed(6)}), fit ${fitS.toFixed(1)} s, peak RSS ${mib(peak)} (limit 2048 MiB: ${peak <= 2 ** 31 ? 'met' : 'NOT met'})`);
if (otherCores !== undefined) console.log(`other processes kept ${otherCores.toFixed(2)} cores busy on average (${cpus().length} cores)`);
const summary = { date: new Date().toISOString(), rows: o.rows, features: o.features, components: o.components, workers: o.workers, format: o.format, fileBytes: statSync(file).size, convertSeconds: convertS, fitSeconds: fitS, passes, logLikelihood: result.logLikelihood, peakRssBytes: peak, otherCores };
if (o.json) writeFileSync(o.json, `${JSON.stringify(summary, null, 2)}\n`);
console.log(JSON.stringify(summary));
if (!o.keep) rmSync(o.dir, { recursive: true, force: true });
