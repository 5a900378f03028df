/**
 * Exact posterior draws for the `chain` kind (hidden Markov models): state
 * paths z_s ~ p(z | x_s, θ) by forward-filtering backward-sampling (core's
 * `ffbs`), in independent units of draws.
 * @module
 */
import { ffbs, forwardBackward, type ChainBatch, type ChainChunk, type ChainStructure } from '@emlab/core';
import { unitMeanAndStdErr } from '../internal/unit-stats.js';
import { FINITE_MAX_UNITS } from './finite-sampler.js';
import { checkAbort, type DrawBatch, type DrawUnit, type LatentSampler, type SampleRequest } from './sampler.js';

/**
 * The exact sampler for `chain` structures: independent paths, no chains. Unit u (draws j0 … j1 − 1, at
 * most 16 units) draws sequence s from `rng/draws/j0/sequence/s` (global sequence index), so the draws
 * do not depend on how the model blocks its sequences. Statistics integrate a step's further latent part
 * (missing Gaussian entries, mixture components) exactly given the drawn state (`chunk.stats`,
 * Rao–Blackwellized). The estimate of log p(x | θ) is the draws' mean of log p(x, z) plus the exact path
 * entropy (forward–backward), its standard error by batch means over the units; the exact
 * log-likelihood comes with it.
 * @category Samplers
 */
export const chainSampler: LatentSampler<ChainStructure, null> = {
  kind: 'chain',
  independent: true,
  start: () => null,
  clone: () => null,
  async sample(structure: ChainStructure, _chains: null, request: SampleRequest): Promise<DrawBatch> {
    const m = request.nDraws;
    const k = structure.nStates;
    const U = Math.min(m, FINITE_MAX_UNITS);
    const bounds = Array.from({ length: U + 1 }, (_, u) => Math.round((u * m) / U));
    const algebra = structure.algebra;
    const unitStats: unknown[] = new Array(U);
    const unitLogJoint = new Float64Array(U);
    let entropy = 0;
    let logLikelihood = 0;
    for (const chunk of structure.chunks() as Iterable<ChainChunk<unknown>>) {
      checkAbort(request.signal);
      const raw = chunk.logEmission();
      const e = raw instanceof Float64Array ? raw : Float64Array.from(raw);
      const weights = chunk.weights;
      const batch: ChainBatch = { nStates: k, lengths: chunk.lengths, logEmission: e, logInitial: chunk.logInitial, logTransition: chunk.logTransition, ...(weights === undefined ? {} : { weights }) };
      if (request.estimate) {
        const fb = forwardBackward(batch);
        entropy += fb.entropy;
        logLikelihood += fb.logLikelihood;
      }
      for (let u = 0; u < U; u++) {
        const j0 = bounds[u]!;
        const d = ffbs(batch, request.rng.child('draws', j0), bounds[u + 1]! - j0, { sequenceOffset: chunk.start, keepPaths: false });
        let gamma = d.stateFrequencies;
        if (weights !== undefined) {
          gamma = gamma.slice();
          let r = 0;
          for (let s = 0; s < chunk.lengths.length; s++) {
            const len = chunk.lengths[s]!;
            for (let i = r * k; i < (r + len) * k; i++) gamma[i] = gamma[i]! * weights[s]!;
            r += len;
          }
        }
        const st = chunk.stats(gamma, d.transitionCounts, d.initialCounts);
        unitStats[u] = unitStats[u] === undefined ? st : algebra.add(unitStats[u], st);
        unitLogJoint[u] = unitLogJoint[u]! + d.logJoint;
      }
    }
    const units: DrawUnit[] = [];
    let total: unknown;
    const sizes = new Float64Array(U);
    for (let u = 0; u < U; u++) {
      const size = bounds[u + 1]! - bounds[u]!;
      sizes[u] = size;
      const st = unitStats[u];
      units.push({ chain: 0, size, stats: () => st, logJoint: unitLogJoint[u]! });
      const scaled = algebra.scale(st, size / m);
      total = total === undefined ? scaled : algebra.add(total, scaled);
    }
    const q = unitMeanAndStdErr(unitLogJoint, sizes);
    let stdErr = q.stdErr;
    if (request.estimate && !Number.isFinite(stdErr)) {
      // Too few units for a spread between them (one draw per sequence): the spread about the exact
      // mean E_q[log p(x, z)] = log p(x) − H(q) from forward–backward instead, σ̂² = Σ_u n_u (ā_u − E)² / U,
      // an unbiased variance estimate for any number of draws (as the chain stochastic E-step's).
      const exactMean = logLikelihood - entropy;
      let ss = 0;
      for (let u = 0; u < U; u++) ss += sizes[u]! * (unitLogJoint[u]! - exactMean) ** 2;
      stdErr = Math.sqrt(ss / U / m);
    }
    return {
      units,
      nDraws: m,
      stats: total,
      ...(request.estimate ? { estimate: { value: q.mean + entropy, stdErr }, logLikelihood } : {}),
      diagnostics: { nDraws: m, ess: m },
    };
  },
};
