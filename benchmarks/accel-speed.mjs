#!/usr/bin/env node
/**
 * EM acceleration: E-step calls and time to the same tolerance, plain EM against
 * every accelerator, on slowly converging problems.
 *
 *   npm run build && node benchmarks/accel-speed.mjs [--json out.json] [--problems a,b]
 *
 * Problems (seeded, float64 throughout):
 *   overlap     two heavily overlapping Gaussians in 2-D (means 1.5 and 0.75 apart
 *               along the axes, unit covariances, weights 0.6/0.4), N = 2000,
 *               fitted with K = 2 full covariances (regCovar 0)
 *   missing     one Gaussian in 3-D (x₁ = 0.9 x₀ + noise, x₂ = −0.8 x₀ + noise),
 *               N = 4000, x₀ always observed, 90% of x₁ and x₂ missing at random
 *               (MCAR): EM's rate is about the fraction missing; K = 1 full
 *   mixture-missing  K = 3, D = 4 mixture (separation 3), N = 3000, 80% of
 *               all entries missing (MCAR), K = 3 full (regCovar 0)
 *   network     the asia network with two hidden nodes (either, lung), 30% of
 *               the other cells missing, N = 5000, Dirichlet pseudo-count 1
 *
 * Protocol. The optimum ℓ* of each problem (the bound: the log-likelihood, plus
 * the log prior for the network) is the best final bound of a long SQUAREM and a
 * long quasi-Newton run (3000 E-step calls, no stopping rule) and of every run
 * below. Every method then runs from the same start (seed 0) with a stopping
 * rule that fires when its bound reaches ℓ* − ε, ε = 1e-9 · |ℓ*| (reported:
 * E-step calls and wall time when it first reaches ℓ* − 1e-6 · |ℓ*| and
 * ℓ* − 1e-9 · |ℓ*|); and once more with emlab's default rule (Aitken, tol
 * 1e-10), reporting its E-step calls and the gap ℓ* − ℓ at which it stopped
 * (never a worse optimum than plain EM's). E-step calls are `FitResult.eStepCalls`
 * counted per record (`passes`); time is wall clock from the start of `fit`.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createRng, fit, VERSION } from '@emlab/core';
import '@emlab/exact';
import { asiaNetwork, bayesianNetwork, gaussianMixture, sampleNetwork } from '@emlab/models';
import { makeGaussianMixture, maskMissing } from '@emlab/data';
import { machineBusySeconds, parseFlags } from './bench-util.mjs';

const opts = parseFlags(process.argv.slice(2), {
  defaults: { json: undefined, problems: 'overlap,missing,mixture-missing,network' },
  options: { json: ['json', String], problems: ['problems', String] },
  usage: 'node benchmarks/accel-speed.mjs [--json out.json] [--problems overlap,missing,mixture-missing,network]',
});

const METHODS = ['em', 'squarem', 'quasi-newton', 'aitken', 'parabolic'];
const MAX_CALLS = 50000;
const quiet = { onWarning: () => {} };

function problems() {
  const out = {};
  {
    const rng = createRng(1).child('overlap');
    const n = 2000;
    const values = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      const c = rng.uniform() < 0.4 ? 1 : 0;
      values[2 * i] = rng.normal() + 1.5 * c;
      values[2 * i + 1] = rng.normal() + 0.75 * c;
    }
    out.overlap = { description: 'two overlapping Gaussians, 2-D, N = 2000, K = 2 full', model: gaussianMixture({ nComponents: 2, regCovar: 0 }), data: { values, rows: n, cols: 2 } };
  }
  {
    const rng = createRng(2).child('regression');
    const n = 4000;
    const values = new Float64Array(n * 3);
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      values[i * 3] = z;
      values[i * 3 + 1] = rng.uniform() < 0.9 ? Number.NaN : 0.9 * z + 0.44 * rng.normal();
      values[i * 3 + 2] = rng.uniform() < 0.9 ? Number.NaN : -0.8 * z + 0.6 * rng.normal();
    }
    out.missing = { description: 'one Gaussian in 3-D, N = 4000, 90% of two correlated columns missing (MCAR), K = 1 full', model: gaussianMixture({ nComponents: 1, regCovar: 0 }), data: { values, rows: n, cols: 3 } };
  }
  {
    const g = makeGaussianMixture({ nSamples: 3000, nComponents: 3, nFeatures: 4, seed: 4, separation: 3 });
    const m = maskMissing({ values: g.values, rows: g.rows, cols: g.cols }, { rate: 0.8, seed: 1 });
    out['mixture-missing'] = { description: 'K = 3, D = 4 mixture, N = 3000, 80% of entries missing (MCAR)', model: gaussianMixture({ nComponents: 3, regCovar: 0 }), data: m.table };
  }
  {
    const net = asiaNetwork();
    out.network = {
      description: 'asia, hidden either and lung, 30% of cells missing, N = 5000, pseudo-count 1',
      model: bayesianNetwork(net, { hidden: ['either', 'lung'], pseudoCount: 1 }),
      data: sampleNetwork(net, 5000, 1, { hide: ['either', 'lung'], missingRate: 0.3 }),
    };
  }
  return out;
}

/** A stopping rule that fires when the bound reaches `target`. */
function targetPolicy(target, eps) {
  return {
    name: 'target',
    tol: eps,
    description: `bound ≥ ${target}`,
    check(input) {
      const last = input.trace[input.trace.length - 1];
      return { converged: last.boundAfterM >= target, value: target - last.boundAfterM, threshold: 0 };
    },
  };
}

const methodOptions = (m) => (m === 'em' ? { precision: 'float64' } : { accelerate: m });

async function timedFit(p, m, extra) {
  const marks = [];
  const t0 = performance.now();
  const r = await fit(p.model, p.data, {
    seed: 0,
    maxIter: MAX_CALLS,
    ...methodOptions(m),
    ...extra,
    onIteration: (rec) => void marks.push({ passes: rec.passes, bound: rec.boundAfterM, ms: performance.now() - t0 }),
    ...quiet,
  });
  return { r, marks, ms: performance.now() - t0 };
}

const firstReach = (marks, level) => marks.find((x) => x.bound >= level) ?? null;

const results = [];
const busy0 = machineBusySeconds();
const all = problems();
for (const name of opts.problems.split(',')) {
  const p = all[name];
  if (p === undefined) throw new Error(`unknown problem ${name}`);
  // ℓ*: long accelerated runs without a stopping rule.
  let best = -Infinity;
  for (const m of ['squarem', 'quasi-newton']) {
    const r = await fit(p.model, p.data, { seed: 0, maxIter: 3000, tol: 0, accelerate: m, ...quiet });
    best = Math.max(best, r.bound);
  }
  const rows = [];
  for (const m of METHODS) {
    const eps = 1e-9 * Math.abs(best);
    const target = await timedFit(p, m, { convergence: targetPolicy(best - eps, eps) });
    const dflt = await timedFit(p, m, {});
    best = Math.max(best, target.r.bound, dflt.r.bound);
    rows.push({ method: m, target, dflt });
  }
  const loose = 1e-6 * Math.abs(best);
  const tight = 1e-9 * Math.abs(best);
  const summary = rows.map(({ method, target, dflt }) => {
    const a = firstReach(target.marks, best - loose);
    const b = firstReach(target.marks, best - tight);
    return {
      method,
      callsLoose: a?.passes ?? null,
      msLoose: a === null ? null : Math.round(a.ms),
      callsTight: b?.passes ?? null,
      msTight: b === null ? null : Math.round(b.ms),
      defaultCalls: dflt.r.eStepCalls,
      defaultGap: best - dflt.r.bound,
      defaultConverged: dflt.r.converged,
      accepted: dflt.r.report?.accepted ?? null,
      rejected: dflt.r.report?.rejected ?? null,
    };
  });
  const plain = summary[0];
  for (const s of summary) {
    s.speedupCalls = plain.callsTight === null || s.callsTight === null ? null : plain.callsTight / s.callsTight;
    s.speedupTime = plain.msTight === null || s.msTight === null ? null : plain.msTight / s.msTight;
  }
  results.push({ problem: name, description: p.description, optimum: best, summary });
  console.log(`\n${name}: ${p.description}; ℓ* = ${best.toFixed(6)}`);
  console.log('| method | E-step calls (1e-6) | time (1e-6) | E-step calls (1e-9) | time (1e-9) | × fewer calls | × faster | default rule: calls, ℓ* − ℓ | accepted/rejected |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---|---|');
  for (const s of summary) {
    const f = (v, d = 0) => (v === null ? '—' : v.toFixed(d));
    console.log(`| ${s.method === 'em' ? 'plain EM' : s.method} | ${f(s.callsLoose)} | ${f(s.msLoose)} ms | ${f(s.callsTight)} | ${f(s.msTight)} ms | ${f(s.speedupCalls, 1)} | ${f(s.speedupTime, 1)} | ${s.defaultCalls}, ${s.defaultGap.toExponential(1)} | ${s.accepted === null ? '—' : `${s.accepted}/${s.rejected}`} |`);
  }
}
const busy1 = machineBusySeconds();
const manifest = { emlab: VERSION, node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, busySecondsDuringRun: busy0 === undefined || busy1 === undefined ? null : busy1 - busy0, date: new Date().toISOString() };
console.log(`\n${JSON.stringify(manifest)}`);
if (opts.json !== undefined) writeFileSync(opts.json, `${JSON.stringify({ manifest, results }, null, 2)}\n`);
