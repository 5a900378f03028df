#!/usr/bin/env node
/**
 * Monte Carlo E-steps side by side, from shared starts and seeds:
 *
 * - the GLMM data of the lme4 fixture (packages/models/test/fixtures/glmm):
 *   Poisson and logistic random intercepts, against glmer's quadrature MLE;
 *   methods laplace, stochastic (Metropolis–Hastings, 20 draws), mcem with the
 *   automatic rule and with a geometric schedule, saem (with simulated annealing
 *   for the logistic model);
 * - a Gaussian mixture (exact posterior draws) and a Bayesian network with a
 *   hidden node (asia with `either` softened, smoke hidden; Gibbs draws),
 *   against exact EM.
 *
 *   npm run build                              # the dist this imports
 *   node benchmarks/mc-esteps.mjs [--seeds 3] [--parts glmm,mixture,bn] [--json out.json]
 *
 * Reported per method (mean over seeds): iterations, seconds, the exact
 * log-likelihood of the final parameters minus the reference optimum's, the
 * largest parameter difference to the reference, the draws of the last
 * iteration and in total. Times are only meaningful on an idle machine: the
 * script prints the machine's load next to them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createRng, fit, initBackend, VERSION } from '@emlab/core';
import '@emlab/exact';
import { mcemEStep, saemEStep } from '@emlab/montecarlo';
import { bayesianNetwork, gaussianMixture, glmm, sampleNetwork } from '@emlab/models';
import { parseFlags } from './bench-util.mjs';

const o = parseFlags(process.argv.slice(2), {
  defaults: { seeds: 3, parts: ['glmm', 'mixture', 'bn'], json: undefined },
  options: { seeds: ['seeds', Number], parts: ['parts', (v) => v.split(',')], json: ['json', String] },
  usage: 'node benchmarks/mc-esteps.mjs [--seeds 3] [--parts glmm,mixture,bn] [--json out.json]',
});

await initBackend();
const fixture = JSON.parse(readFileSync(new URL('../packages/models/test/fixtures/glmm/lme4.json', import.meta.url), 'utf8'));
const quiet = { onWarning: () => {} };

const flatGlmm = (p) => [...p.beta, ...p.sigma.flat()];
const flatGmm = (p) => [...p.weights, ...p.means.flat()];
const flatBn = (p) => Object.values(p.cpts).flat();

async function compare(name, model, data, reference, flat, methods, common) {
  const rows = [];
  for (const [label, eStep, extra] of methods) {
    const runs = [];
    for (let seed = 0; seed < o.seeds; seed++) {
      const t0 = performance.now();
      const r = await fit(model, data, { eStep, seed, ...common, ...(extra ?? {}), ...quiet });
      const seconds = (performance.now() - t0) / 1000;
      const ref = flat(reference.params);
      const got = flat(r.params);
      const draws = r.trace.map((t) => t.diagnostics.nDraws ?? 0);
      runs.push({
        iterations: r.nIter,
        converged: r.converged,
        seconds,
        logLikDiff: r.logLikelihood - reference.logLikelihood,
        maxParamDiff: Math.max(...got.map((v, i) => Math.abs(v - ref[i]))),
        lastDraws: draws[draws.length - 1],
        totalDraws: draws.reduce((a, b) => a + b, 0),
        finalStdErr: r.trace[r.trace.length - 1].boundStdErr,
      });
    }
    const mean = (k) => runs.reduce((a, r) => a + (r[k] ?? 0), 0) / runs.length;
    const row = { dataset: name, method: label, iterations: mean('iterations'), converged: runs.filter((r) => r.converged).length, seconds: mean('seconds'), logLikDiff: mean('logLikDiff'), maxParamDiff: mean('maxParamDiff'), lastDraws: mean('lastDraws'), totalDraws: mean('totalDraws'), finalStdErr: mean('finalStdErr') };
    rows.push(row);
    console.log(`${name.padEnd(18)} ${label.padEnd(22)} it ${row.iterations.toFixed(0).padStart(4)}  conv ${row.converged}/${o.seeds}  ${row.seconds.toFixed(2).padStart(7)} s  Δℓ ${row.logLikDiff.toExponential(2).padStart(10)}  |Δθ|∞ ${row.maxParamDiff.toExponential(2)}  m_last ${row.lastDraws.toFixed(0).padStart(6)}  Σm ${row.totalDraws.toFixed(0).padStart(7)}`);
  }
  return rows;
}

const results = [];
const load0 = loadavg()[0];

for (const c of o.parts.includes('glmm') ? fixture.cases.filter((k) => k.name !== 'poisson-slope') : []) {
  const model = glmm({ family: c.family });
  const data = { group: c.group, y: c.y, x: c.x, z: c.z };
  const reference = { params: { beta: c.mle.polished.beta, sigma: c.mle.polished.sigma }, logLikelihood: c.mle.polished.logLik };
  const saem = c.family === 'logistic' ? saemEStep({ k1: 200, k2: 200, chains: 3, annealing: 0.97 }) : saemEStep({ k1: 200, k2: 200, chains: 3 });
  results.push(
    ...(await compare(c.name, model, data, reference, flatGlmm, [
      ['laplace', 'laplace', { tol: 1e-10 }],
      ['stochastic (MH, 20)', 'stochastic', { eStepOptions: { nDraws: 10 } }],
      ['mcem auto', mcemEStep({ schedule: 'auto', nDraws: 20, maxDraws: 5000 })],
      ['mcem geometric 1.2', mcemEStep({ schedule: 'geometric', nDraws: 20, ratio: 1.2, maxDraws: 5000 }), { maxIter: 40, tol: 0 }],
      ['saem', saem],
    ], { maxIter: 400 })),
  );
}

if (o.parts.includes('mixture')) {
  const rng = createRng('mc-bench-gmm');
  const rows = Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? [2 + rng.normal(), rng.normal()] : [-1 + 0.7 * rng.normal(), 1 + rng.normal()]));
  const model = gaussianMixture({ nComponents: 2, covarianceType: 'full' });
  const em = await fit(model, rows, { eStep: 'exact', seed: 0, tol: 1e-14, maxIter: 1000 });
  const init = (await fit(model, rows, { eStep: 'exact', seed: 0, maxIter: 1, tol: 0, ...quiet })).params;
  results.push(
    ...(await compare('mixture (N=600)', model, rows, { params: em.params, logLikelihood: em.logLikelihood }, flatGmm, [
      ['exact', 'exact', { tol: 1e-10 }],
      ['stochastic (S=4)', 'stochastic', { eStepOptions: { nDraws: 4 } }],
      ['mcem auto', mcemEStep({ schedule: 'auto', nDraws: 10 })],
      ['mcem geometric 1.2', mcemEStep({ schedule: 'geometric', nDraws: 10, ratio: 1.2 }), { maxIter: 30, tol: 0 }],
      ['saem', saemEStep({ k1: 20, k2: 200 })],
    ], { init, maxIter: 400 })),
  );
}

if (o.parts.includes('bn')) {
  const { asiaNetwork } = await import('@emlab/models');
  // asia's `either` is a logical OR (a deterministic table): single-site Gibbs is reducible on it
  // (see docs/monte-carlo-esteps.md), so the comparison softens it to 0.98 / 0.02.
  const asia = asiaNetwork();
  const net = { ...asia, nodes: asia.nodes.map((n) => (n.name === 'either' ? { ...n, cpt: n.cpt.map((p) => (p === 1 ? 0.98 : p === 0 ? 0.02 : p)) } : n)) };
  const data = sampleNetwork(net, 3000, 5, { missingRate: 0.15, hide: ['smoke'] });
  const model = bayesianNetwork(net, { hidden: ['smoke'] });
  const init = { cpts: Object.fromEntries(net.nodes.map((n) => [n.name, n.cpt])) };
  const em = await fit(model, data, { eStep: 'exact', init, tol: 1e-13, maxIter: 2000, precision: 'float64' });
  results.push(
    ...(await compare('asia* (N=3000)', model, data, { params: em.params, logLikelihood: em.logLikelihood }, flatBn, [
      ['exact', 'exact', { tol: 1e-10 }],
      ['gibbs (20 sweeps)', 'gibbs', { eStepOptions: { nDraws: 20 } }],
      ['mcem auto (≤ 40 it)', mcemEStep({ schedule: 'auto', nDraws: 20, maxDraws: 2000 }), { maxIter: 40 }],
      ['saem', saemEStep({ k1: 20, k2: 100, chains: 2 })],
    ], { init, maxIter: 300 })),
  );
}

console.log(`\nemlab ${VERSION}; load average ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)} (times are only meaningful on an idle machine)`);
if (o.json !== undefined) writeFileSync(o.json, JSON.stringify({ version: VERSION, seeds: o.seeds, loadAverage: [load0, loadavg()[0]], results }, null, 2));
