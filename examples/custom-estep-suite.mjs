#!/usr/bin/env node
// Two user-written E-steps — examples/top-k-estep.mjs (the posterior restricted to the 2 most
// probable components) and examples/tempered-estep.mjs (deterministic annealing, with state and its
// own convergence policy) — checked by the conformance kit, then run in a benchmark suite beside the
// exact E-step with @emlab/bench's public `runSuite`: same data, model, starts and seeds, so
// differences are the E-steps' alone.
//
//   node examples/custom-estep-suite.mjs          # conformance outcomes and a comparison table
//   node examples/custom-estep-suite.mjs --json   # the same as JSON
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runSuite } from '@emlab/bench';
import '@emlab/exact';
import { eStepProperties, runConformance } from '@emlab/testing';
import { temperedEStep } from './tempered-estep.mjs';
import { topKEStep } from './top-k-estep.mjs';

/** The suite: a 5-component mixture in 3-D, the exact, top-2 and tempered E-steps, 3 seeds. */
export const SUITE = {
  format: 'emlab/suite',
  name: 'user-written E-steps vs exact',
  description: 'a sparse and an annealed E-step, written as plug-ins, beside the exact one',
  plugins: ['./top-k-estep.mjs', './tempered-estep.mjs'],
  datasets: [{ id: 'mix5-3d', generator: 'gaussianMixture', options: { nSamples: 1000, nComponents: 5, nFeatures: 3, seed: 4, separation: 1.5 } }],
  models: [{ id: 'gmm-full', type: 'gmm', options: { nComponents: 5, covarianceType: 'full' } }],
  esteps: [
    { id: 'exact', method: 'exact' },
    { id: 'top-2', method: 'top-k', options: { keep: 2 } },
    { id: 'tempered', method: 'tempered', options: { beta0: 0.3, growth: 1.3 } },
  ],
  seeds: [0, 1, 2],
  stopping: { maxIter: 200, tol: 1e-8 },
};

export async function main(args = []) {
  // The kit's E-step properties: brute force on small tables (q restricted to 2 components and
  // renormalized, L(q) ≤ log p(x)), the continuous-latent hooks, lifecycle, options, and fits of the
  // kit's missing-entry mixture (monotone, bound ≤ log-likelihood, no leaks, reproducible).
  const conformance = await runConformance([
    ...eStepProperties(topKEStep({ keep: 2 }), undefined, {
      numRuns: 10,
      inFamily: (q) => {
        const i = q.findIndex((row) => row !== null && row.filter((v) => v > 0).length > 2);
        return i < 0 ? undefined : `row ${i} has more than 2 components with mass`;
      },
    }).map((p) => ({ ...p, name: `top-k: ${p.name}` })),
    ...eStepProperties(temperedEStep(), undefined, { numRuns: 10 }).map((p) => ({ ...p, name: `tempered: ${p.name}` })),
  ]);
  const results = await runSuite(SUITE, { workers: 1, baseDir: dirname(fileURLToPath(import.meta.url)) });
  const rows = results.runs.map((r) => ({ method: r.method, seed: r.seed, status: r.status, initHash: r.initHash, logLikelihood: r.metrics.trainLogLikelihood, bound: r.metrics.bound, boundKind: r.metrics.boundKind, nIter: r.metrics.nIter, converged: r.metrics.converged, adjustedRandIndex: r.metrics.adjustedRandIndex }));
  const out = { conformance, runs: rows };
  if (args.includes('--json')) {
    console.log(JSON.stringify(out));
  } else {
    for (const o of conformance) console.log(`conformance ${o.ok ? 'ok  ' : 'FAIL'} ${o.name}${o.ok ? '' : `\n  ${o.error}`}`);
    console.log('\nmethod    seed  log-likelihood   bound (kind)                  iterations  ARI');
    for (const r of rows) console.log(`${r.method.padEnd(9)} ${String(r.seed).padStart(4)}  ${r.logLikelihood?.toFixed(6).padStart(14)}   ${r.bound?.toFixed(6).padStart(14)} (${r.boundKind})  ${String(r.nIter).padStart(5)}       ${r.adjustedRandIndex?.toFixed(4)}`);
  }
  if (conformance.some((o) => !o.ok) || rows.some((r) => r.status !== 'ok')) process.exitCode = 1;
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
