#!/usr/bin/env node
/**
 * Gaussian-mixture speed benchmark: emlab vs scikit-learn, full covariances,
 * same seeded data, same start, MAX_ITER EM iterations (tol = 0).
 *
 *   npm run bench                       # builds, then runs every config
 *   node benchmarks/gmm-speed.mjs [--config a|b|all] [--skip-sklearn]
 *        [--python /usr/bin/python3] [--sklearn-threads N] [--no-phases] [--json out.json] [--workers N]
 *
 * Every config runs three child processes in turn, so peak memory is measured
 * per implementation and neither pays for the other's data generation:
 *   1. gmm-speed-data.mjs   draws the data and the start and writes them to a temp dir;
 *   2. gmm-speed-emlab.mjs  reads them, fits with emlab, prints timings and peak RSS;
 *   3. sklearn_gmm.py       reads the same files, fits with scikit-learn, prints the same.
 * The figure compared is the mean time of one EM iteration (E-step + M-step)
 * over iterations 2..MAX_ITER; see README.md. Unless --no-phases, the emlab
 * child then profiles one more iteration (after its peak RSS is read) and the
 * driver prints where emlab's time goes, per TensorFlow.js kernel.
 *
 * `--workers N` (default: the number of cores) also times emlab's float32 fit sharded over N worker
 * threads (`fit`'s `workers`: the same result as one thread, bit for bit); `--workers 1` skips it.
 * Before the configs, `gmm-speed-matmul.mjs` measures the backend's float32 matmul rate on one thread
 * of this machine, in the same run, and the table relates emlab's GFLOP/s to it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineBusySeconds, parseFlags } from './bench-util.mjs';
import { CONFIGS, MAX_ITER, flopsPerIteration } from './gmm-speed-configs.mjs';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));

function parseArgs(argv) {
  const o = parseFlags(argv, {
    defaults: { config: 'all', sklearn: true, python: '/usr/bin/python3', sklearnThreads: undefined, json: undefined, phases: true, workers: cpus().length },
    options: { config: ['config', String], python: ['python', String], 'sklearn-threads': ['sklearnThreads', String], json: ['json', String], workers: ['workers', Number] },
    switches: { 'skip-sklearn': { sklearn: false }, 'no-phases': { phases: false } },
    usage: 'usage: node benchmarks/gmm-speed.mjs [--config a|b|all] [--skip-sklearn] [--python PATH] [--sklearn-threads N] [--no-phases] [--json FILE] [--workers N]',
  });
  if (!Number.isInteger(o.workers) || o.workers < 1) throw new Error('--workers must be an integer >= 1');
  if (o.config !== 'all' && !(o.config in CONFIGS)) throw new Error(`--config must be one of ${Object.keys(CONFIGS).join(', ')}, all`);
  return o;
}

/**
 * Runs a child, forwarding its stderr, and returns the last JSON line of its
 * stdout. When the child reports its own CPU time (`cpuMs`), also returns
 * `otherCores`: the average number of cores that other processes on the machine
 * kept busy while it ran (0 on an otherwise idle machine).
 */
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
      if (busy0 !== undefined && busy1 !== undefined && typeof json.cpuMs === 'number') {
        json.otherCores = Math.max(0, (busy1 - busy0 - json.cpuMs / 1000) / wallS);
        json.childWallMs = wallS * 1000;
      }
      resolve(json);
    });
  });
}

function sklearnAvailable(python) {
  if (!existsSync(python)) return { ok: false, why: `${python} not found` };
  const r = spawnSync(python, ['-c', 'import sklearn, numpy; print(sklearn.__version__)'], { encoding: 'utf8' });
  if (r.status !== 0) return { ok: false, why: `${python} has no scikit-learn (${(r.stderr || '').trim().split('\n').pop()})` };
  return { ok: true, version: r.stdout.trim() };
}

const fmt = (v, digits = 1) => (v === undefined || v === null || Number.isNaN(v) ? '—' : v.toFixed(digits));
const mib = (kib) => (kib === undefined ? '—' : `${(kib / 1024).toFixed(0)} MiB`);
const gflops = (cfg, ms) => (ms === undefined ? undefined : flopsPerIteration(cfg) / (ms * 1e6));

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r, i) => {
    const line = r.map((cell, c) => String(cell).padStart(widths[c])).join('  ');
    return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const names = opts.config === 'all' ? Object.keys(CONFIGS) : [opts.config];
  let sk = { ok: false, why: 'skipped (--skip-sklearn)' };
  if (opts.sklearn) sk = sklearnAvailable(opts.python);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${release()}, node ${process.version}`;
  console.log(`gmm-speed: full covariance, ${MAX_ITER} iterations from the same start, tol = 0; ${machine}`);
  if (!sk.ok) console.log(`scikit-learn: ${sk.why} — skipping the comparison`);
  else console.log(`scikit-learn ${sk.version} via ${opts.python}${opts.sklearnThreads ? `, ${opts.sklearnThreads} BLAS thread(s)` : ''}`);

  const matmul = await runJson(process.execPath, [here('./gmm-speed-matmul.mjs')]);
  console.log(`float32 matmul rate (${matmul.backend}, 1 thread, this run): ${fmt(matmul.squareGflops, 2)} GFLOP/s at 1024³, ${fmt(matmul.tableGflops, 2)} at the E-step's [4096×273]×[273×16], ${fmt(matmul.statsGflops, 2)} at the statistics' [16×4096]×[4096×273]` +
    (matmul.otherCores === undefined ? '' : `; other processes kept ${matmul.otherCores.toFixed(2)} cores busy`));
  const results = [];
  for (const name of names) {
    const cfg = CONFIGS[name];
    const dir = mkdtempSync(join(tmpdir(), `emlab-gmm-bench-${name}-`));
    try {
      console.log(`\n[${name}] N=${cfg.nSamples}, D=${cfg.nFeatures}, K=${cfg.nComponents}, seed ${cfg.seed}`);
      const data = await runJson(process.execPath, [here('./gmm-speed-data.mjs'), name, dir]);
      console.log(`[${name}] data + kmeans++ start written (generate ${fmt(data.generateMs, 0)} ms, init ${fmt(data.initMs, 0)} ms)`);
      const em = await runJson(process.execPath, [here('./gmm-speed-emlab.mjs'), data.dataFile, data.paramsFile, '--precision', 'float32', ...(opts.phases ? ['--phases'] : [])]);
      // The same fit in float64 host kernels (the precision `auto` finishes in): its cost per iteration.
      const em64 = await runJson(process.execPath, [here('./gmm-speed-emlab.mjs'), data.dataFile, data.paramsFile, '--precision', 'float64']);
      console.log(`[${name}] emlab float64 (host, 1 thread): ${fmt(em64.msPerIter)} ms/iter (E ${fmt(em64.eStepMs)} + M ${fmt(em64.mStepMs)}), ${fmt(em64.msPerIter / em.msPerIter, 2)}× float32, peak RSS ${mib(em64.peakRssKiB)}; ` +
        `mean log-likelihood ${em64.meanLogLikelihood.toFixed(9)} (float32 ${em.meanLogLikelihood.toFixed(9)})`);
      console.log(`[${name}] emlab (${em.backend}, 1 thread): ${fmt(em.msPerIter)} ms/iter (E ${fmt(em.eStepMs)} + M ${fmt(em.mStepMs)}; first ${fmt(em.firstIterMs)}), fit wall ${fmt(em.fitWallMs, 0)} ms, ` +
        `${fmt(gflops(cfg, em.msPerIter), 2)} GFLOP/s eq., peak RSS ${mib(em.peakRssKiB)}`);
      for (const w of em.warnings ?? []) console.log(`[${name}]   emlab warning: ${w}`);
      if (em.phases) {
        const p = em.phases;
        const pct = (ms) => `${((100 * ms) / p.profiledMs).toFixed(0)}%`;
        const top = Object.entries(p.kernels).slice(0, 6).map(([k, v]) => `${k} ${pct(v.ms)}`);
        console.log(`[${name}]   emlab phases (one extra iteration under tf.profile, ${fmt(p.profiledMs)} ms): ${top.join(', ')}, other kernels ${pct(p.kernelMs - Object.values(p.kernels).slice(0, 6).reduce((s, v) => s + v.ms, 0))}, JavaScript ${pct(p.jsMs)}`);
      }
      let emN;
      if (opts.workers > 1) {
        emN = await runJson(process.execPath, [here('./gmm-speed-emlab.mjs'), data.dataFile, data.paramsFile, '--precision', 'float32', '--workers', String(opts.workers)]);
        const same = emN.meanLogLikelihood === em.meanLogLikelihood;
        console.log(`[${name}] emlab (${emN.backend}, ${opts.workers} worker threads): ${fmt(emN.msPerIter)} ms/iter (E ${fmt(emN.eStepMs)} + M ${fmt(emN.mStepMs)}; first ${fmt(emN.firstIterMs)}), ${fmt(em.msPerIter / emN.msPerIter, 2)}× one thread, ` +
          `${fmt(gflops(cfg, emN.msPerIter), 2)} GFLOP/s eq. (${fmt((100 * gflops(cfg, emN.msPerIter)) / (opts.workers * matmul.squareGflops), 0)}% of ${opts.workers} × the 1024³ matmul rate), peak RSS ${mib(emN.peakRssKiB)}; ` +
          `log-likelihood ${same ? 'identical to one thread' : `DIFFERS from one thread (${emN.meanLogLikelihood} vs ${em.meanLogLikelihood})`}`);
      }
      let skr;
      if (sk.ok) {
        const env = { ...process.env };
        if (opts.sklearnThreads) for (const v of ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS']) env[v] = String(opts.sklearnThreads);
        skr = await runJson(opts.python, [here('./sklearn_gmm.py'), data.dataFile, data.paramsFile], env);
        if (!skr.available) {
          console.log(`[${name}] scikit-learn unavailable (${skr.reason}) — skipped`);
          skr = undefined;
        } else {
          console.log(`[${name}] sklearn (BLAS threads ${skr.blasThreads ?? '?'}): ${fmt(skr.msPerIter)} ms/iter (E ${fmt(skr.eStepMs)} + M ${fmt(skr.mStepMs)}; first ${fmt(skr.firstIterMs)}), fit wall ${fmt(skr.fitWallMs, 0)} ms ` +
            `(init ${fmt(skr.initMs, 0)}, final E ${fmt(skr.finalEStepMs, 0)}), ${fmt(gflops(cfg, skr.msPerIter), 2)} GFLOP/s eq., peak RSS ${mib(skr.peakRssKiB)}, n_iter_ ${skr.nIter}`);
          const rel = Math.abs(em.meanLogLikelihood - skr.meanLogLikelihood) / Math.abs(skr.meanLogLikelihood);
          console.log(`[${name}] final mean log-likelihood: emlab ${em.meanLogLikelihood.toFixed(6)}, sklearn ${skr.meanLogLikelihood.toFixed(6)} (relative difference ${rel.toExponential(1)})`);
        }
      }
      const others = [['emlab', em], [`emlab ×${opts.workers}`, emN], ['sklearn', skr]].filter(([, r]) => r?.otherCores !== undefined);
      if (others.length > 0) {
        const busy = others.some(([, r]) => r.otherCores > 0.25);
        console.log(`[${name}] other processes kept ${others.map(([who, r]) => `${r.otherCores.toFixed(2)} cores busy during ${who}`).join(', ')}` +
          (busy ? ' — the machine was not idle; these timings are disturbed' : ' (machine otherwise idle)'));
      }
      results.push({ config: cfg, data, emlab: em, emlab64: em64, emlabWorkers: emN, sklearn: skr });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const wN = `×${opts.workers}`;
  const rows = [['config', 'N', 'D', 'K', 'emlab ms/it', 'float64 ms/it', 'f64/f32', 'sklearn ms/it', 'ratio', 'emlab GF/s', 'sklearn GF/s', 'emlab peak', 'sklearn peak', 'mem ratio', 'logL rel diff',
    `emlab${wN} ms/it`, `ratio${wN}`, `GF/s${wN}`, `% of ${opts.workers}×matmul`, `peak${wN}`, `mem ratio${wN}`]];
  for (const { config: c, emlab: e, emlab64: e64, emlabWorkers: eN, sklearn: s } of results) {
    rows.push([
      c.name, c.nSamples, c.nFeatures, c.nComponents,
      fmt(e.msPerIter), fmt(e64.msPerIter), fmt(e64.msPerIter / e.msPerIter, 2), s ? fmt(s.msPerIter) : 'skipped',
      s ? fmt(e.msPerIter / s.msPerIter, 2) : '—',
      fmt(gflops(c, e.msPerIter), 2), s ? fmt(gflops(c, s.msPerIter), 2) : '—',
      mib(e.peakRssKiB), s ? mib(s.peakRssKiB) : '—',
      s ? fmt(e.peakRssKiB / s.peakRssKiB, 2) : '—',
      s ? (Math.abs(e.meanLogLikelihood - s.meanLogLikelihood) / Math.abs(s.meanLogLikelihood)).toExponential(1) : '—',
      eN ? fmt(eN.msPerIter) : '—',
      eN && s ? fmt(eN.msPerIter / s.msPerIter, 2) : '—',
      eN ? fmt(gflops(c, eN.msPerIter), 2) : '—',
      eN ? `${fmt((100 * gflops(c, eN.msPerIter)) / (opts.workers * matmul.squareGflops), 0)}%` : '—',
      eN ? mib(eN.peakRssKiB) : '—',
      eN && s ? fmt(eN.peakRssKiB / s.peakRssKiB, 2) : '—',
    ]);
  }
  console.log(`\nms/it = mean E+M time of iterations 2..${MAX_ITER} (emlab float32 kernels; float64 = host kernels); ratio = emlab float32/sklearn (target <= 1.0); GF/s = 4·N·K·D² / time (equivalent, not counted); peak = peak RSS of each child (VmHWM)`);
  console.log(`${wN} = sharded over ${opts.workers} worker threads (target: ratio${wN} <= 0.35 on b); % of matmul = GF/s eq. / (${opts.workers} × ${fmt(matmul.squareGflops, 2)} GFLOP/s, the 1024³ float32 matmul rate measured above)`);
  console.log(`emlab backend: ${results[0]?.emlab.backend ?? '—'}, one thread and ${opts.workers} worker threads${results.find((r) => r.sklearn) ? `; sklearn BLAS threads: ${results.find((r) => r.sklearn).sklearn.blasThreads ?? '?'}` : ''}`);
  console.log(table(rows));
  if (opts.json) {
    writeFileSync(opts.json, `${JSON.stringify({ date: new Date().toISOString(), machine, maxIter: MAX_ITER, matmul, workers: opts.workers, results }, null, 2)}\n`);
    console.log(`results written to ${opts.json}`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
