#!/usr/bin/env node
/**
 * Gaussian-HMM speed benchmark: emlab vs pomegranate 0.14.8 and a vectorized
 * NumPy Baum–Welch written in this directory — same seeded data, same start,
 * the same number of EM iterations (tol = 0).
 *
 *   npx tsc -b && node benchmarks/hmm-speed.mjs [--sequences 1000] [--steps 1000] [--states 8] [--dims 4]
 *        [--iters 10] [--python /usr/bin/python3] [--numpy-threads N] [--skip-numpy] [--skip-pomegranate] [--workers N] [--json out.json]
 *
 * `--workers N` (N > 1) runs emlab once more with each E-step sharded over N worker threads
 * (bit-identical log-likelihood, checked) and reports its time per iteration and speed-up.
 *
 * Children, one after the other (so each peak RSS is its own):
 *   1. hmm-speed-data.mjs        data (Gaussian HMM, full covariances) and emlab's kmeans start → temp dir;
 *   2. hmm-speed-emlab.mjs       emlab, exact forward–backward, float64, one thread;
 *   3. hmm_speed_numpy.py        NumPy/SciPy Baum–Welch vectorized over sequences;
 *   4. hmm_speed_pomegranate.py  pomegranate's HiddenMarkovModel (n_jobs = 1).
 * The figure compared is the mean time of one EM iteration over iterations
 * 2..iters; see README.md (section hmm-speed).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineBusySeconds, parseFlags } from './bench-util.mjs';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));

const o = parseFlags(process.argv.slice(2), {
  defaults: { sequences: 1000, steps: 1000, states: 8, dims: 4, iters: 10, python: '/usr/bin/python3', numpyThreads: undefined, numpy: true, pomegranate: true, workers: 1, json: undefined },
  options: {
    sequences: ['sequences', Number],
    steps: ['steps', Number],
    states: ['states', Number],
    dims: ['dims', Number],
    iters: ['iters', Number],
    python: ['python', String],
    'numpy-threads': ['numpyThreads', String],
    workers: ['workers', Number],
    json: ['json', String],
  },
  switches: { 'skip-numpy': { numpy: false }, 'skip-pomegranate': { pomegranate: false } },
  usage: 'usage: node benchmarks/hmm-speed.mjs [--sequences S] [--steps T] [--states K] [--dims D] [--iters N] [--python PATH] [--numpy-threads N] [--skip-numpy] [--skip-pomegranate] [--workers N] [--json FILE]',
});
if (!(o.iters >= 2)) throw new Error('--iters must be at least 2 (the first iteration is a warm-up)');

/** Runs a child and returns its last JSON line, with the cores other processes kept busy meanwhile. */
function runJson(cmd, args, env = process.env) {
  return new Promise((resolve, reject) => {
    const busy0 = machineBusySeconds();
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s) => { out += s; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wallS = (performance.now() - t0) / 1000;
      const busy1 = machineBusySeconds();
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited with ${signal ?? code}\n${out}`));
      const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'));
      if (line === undefined) return reject(new Error(`${cmd} ${args.join(' ')} printed no JSON line:\n${out}`));
      const json = JSON.parse(line);
      if (busy0 !== undefined && busy1 !== undefined && typeof json.cpuMs === 'number') json.otherCores = Math.max(0, (busy1 - busy0 - json.cpuMs / 1000) / wallS);
      resolve(json);
    });
  });
}

const fmt = (v, digits = 1) => (v === undefined || v === null || Number.isNaN(v) ? '—' : v.toFixed(digits));
const mib = (kib) => (kib === undefined ? '—' : `${(kib / 1024).toFixed(0)} MiB`);

async function main() {
  const { sequences: S, steps: T, states: K, dims: D, iters } = o;
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${release()}, node ${process.version}`;
  console.log(`hmm-speed: Gaussian HMM, full covariances, S=${S} sequences × T=${T} steps, K=${K}, D=${D}; ${iters} iterations from the same start, tol = 0; ${machine}`);
  const pythonOk = existsSync(o.python) && spawnSync(o.python, ['-c', 'import numpy, scipy'], { encoding: 'utf8' }).status === 0;
  if (!pythonOk) console.log(`${o.python} with numpy and scipy not found — skipping the Python peers`);
  const dir = mkdtempSync(join(tmpdir(), 'emlab-hmm-bench-'));
  const results = {};
  try {
    const data = await runJson(process.execPath, [here('./hmm-speed-data.mjs'), dir, String(S), String(T), String(K), String(D)]);
    console.log(`data + kmeans start written (generate ${fmt(data.generateMs, 0)} ms, init ${fmt(data.initMs, 0)} ms)`);
    results.emlab = await runJson(process.execPath, [here('./hmm-speed-emlab.mjs'), data.dataFile, data.paramsFile, String(iters)]);
    const e = results.emlab;
    console.log(`emlab ${e.version} (float64 host kernels, 1 thread): ${fmt(e.msPerIter)} ms/iter (E ${fmt(e.eStepMs)} + M ${fmt(e.mStepMs)}; first ${fmt(e.iterMs[0])}), peak RSS ${mib(e.peakRssKiB)}, log-lik/row ${e.logLikelihoodPerRow.toFixed(8)}`);
    for (const w of e.warnings) console.log(`  emlab warning: ${w}`);
    if (o.workers > 1) {
      results.emlabSharded = await runJson(process.execPath, [here('./hmm-speed-emlab.mjs'), data.dataFile, data.paramsFile, String(iters), '--workers', String(o.workers)]);
      const w = results.emlabSharded;
      const same = Object.is(w.logLikelihood, e.logLikelihood);
      results.emlabSharded.identicalLogLikelihood = same;
      console.log(`emlab sharded over ${o.workers} worker threads: ${fmt(w.msPerIter)} ms/iter (E ${fmt(w.eStepMs)} + M ${fmt(w.mStepMs)}), ${fmt(e.msPerIter / w.msPerIter, 2)}× one thread, peak RSS ${mib(w.peakRssKiB)}, log-likelihood ${same ? 'identical to' : 'DIFFERENT from'} one thread; other processes ${fmt(w.otherCores, 2)} cores`);
    }
    if (pythonOk && o.numpy) {
      const env = { ...process.env };
      if (o.numpyThreads) for (const v of ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS']) env[v] = String(o.numpyThreads);
      results.numpy = await runJson(o.python, [here('./hmm_speed_numpy.py'), data.dataFile, data.paramsFile, String(iters)], env);
      const n = results.numpy;
      console.log(`numpy ${n.numpy} (BLAS threads ${n.blasThreads ?? '?'}): ${fmt(n.msPerIter)} ms/iter (first ${fmt(n.iterMs[0])}), peak RSS ${mib(n.peakRssKiB)}, log-lik/row ${n.logLikelihoodPerRow.toFixed(8)}`);
    }
    if (pythonOk && o.pomegranate) {
      const p = await runJson(o.python, [here('./hmm_speed_pomegranate.py'), data.dataFile, data.paramsFile, String(iters)]);
      if (!p.available) console.log(`pomegranate unavailable (${p.reason}) — apt-get install python3-pomegranate`);
      else {
        results.pomegranate = p;
        console.log(`pomegranate ${p.version} (n_jobs 1): ${fmt(p.msPerIter)} ms/iter (first ${fmt(p.iterMs[0])}), peak RSS ${mib(p.peakRssKiB)}, log-lik/row ${p.logLikelihoodPerRow.toFixed(8)}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const e = results.emlab;
  const peers = ['numpy', 'pomegranate'].filter((n) => results[n] !== undefined);
  const rows = [['implementation', 'ms/iter', 'ratio emlab/peer', 'peak RSS', 'mem ratio emlab/peer', 'log-lik/row', 'rel. diff to emlab', 'other cores busy']];
  for (const name of ['emlab', ...peers]) {
    const r = results[name];
    rows.push([
      name,
      fmt(r.msPerIter),
      name === 'emlab' ? '—' : fmt(e.msPerIter / r.msPerIter, 2),
      mib(r.peakRssKiB),
      name === 'emlab' ? '—' : fmt(e.peakRssKiB / r.peakRssKiB, 2),
      r.logLikelihoodPerRow.toFixed(8),
      name === 'emlab' ? '—' : (Math.abs(r.logLikelihoodPerRow - e.logLikelihoodPerRow) / Math.abs(e.logLikelihoodPerRow)).toExponential(1),
      fmt(r.otherCores, 2),
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  console.log('');
  rows.forEach((r, i) => {
    console.log(r.map((cell, c) => String(cell).padStart(widths[c])).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
  if (peers.length > 0) {
    const fastest = peers.reduce((a, b) => (results[a].msPerIter <= results[b].msPerIter ? a : b));
    const ratio = e.msPerIter / results[fastest].msPerIter;
    const mem = e.peakRssKiB / results[fastest].peakRssKiB;
    console.log(`\nfastest peer: ${fastest}; emlab/fastest = ${ratio.toFixed(2)} (target <= 0.5: ${ratio <= 0.5 ? 'met' : `missed by ${(ratio / 0.5).toFixed(1)}x`}); memory ${mem.toFixed(2)}x (target <= 1: ${mem <= 1 ? 'met' : 'missed'})`);
    const busy = Object.entries(results).filter(([, r]) => (r.otherCores ?? 0) > 0.25).map(([n]) => n);
    if (busy.length > 0) console.log(`other processes kept more than 0.25 cores busy during ${busy.join(', ')}: these timings are disturbed`);
  }
  if (o.json) {
    writeFileSync(o.json, `${JSON.stringify({ date: new Date().toISOString(), machine, options: o, results }, null, 2)}\n`);
    console.log(`results written to ${o.json}`);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
