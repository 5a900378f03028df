/**
 * Gibbs sampling on the `factor-graph` kind: per distinct evidence pattern
 * and chain, systematic sweeps over the unobserved variables, each drawn from
 * its full conditional x_v ∝ Π_{f ∋ v} φ_f(x_f) (the evidence fixes the
 * observed ones). Chains are kept across EM iterations (the sampler's state),
 * so a few burn-in sweeps per iteration follow θ as it moves.
 *
 * A pattern stands for all its rows (its multiplicity m_p multiplies its
 * counts), so the cost grows with the number of distinct patterns, not rows.
 * Randomness: chain c of pattern p uses the stream `rng/chain/c/pattern/p` in
 * every call, so draws never depend on how patterns are batched or ordered.
 *
 * A conditional whose every state has probability 0 (a configuration outside
 * the support, from the start or from structural zeros) is drawn uniformly
 * and counted in the diagnostic `zeroConditionals`.
 *
 * Limitation: single-site Gibbs needs every configuration of positive
 * probability to be reachable one variable at a time. Deterministic factors
 * (asia's `either` = lung OR tub) break that: the chain stays in one part of
 * the support and the family counts are biased. Watch `rHat` (chain 0 starts
 * sequentially, the others uniformly at random) and `zeroConditionals`, and
 * use the exact E-step (or soften such tables) there.
 *
 * @see Geman, S. & Geman, D. (1984). Stochastic relaxation, Gibbs distributions, and the Bayesian restoration of images.
 * @module
 */
import type { FactorGraphStructure, Rng } from '@emlab/core';
import { effectiveSampleSize, splitRHat } from './diagnostics.js';
import { conditional, conditionalFreeVariables, gibbsPlan, logFactorProduct, tableIndex, type GibbsPlan } from './gibbs-plan.js';
import { importanceLogLikelihood } from '../importance.js';
import { batchBounds } from '../internal/unit-stats.js';
import { checkAbort, type DrawBatch, type DrawUnit, type LatentSampler, type SampleRequest } from './sampler.js';

/** Chains of the Gibbs sampler: one full assignment per (chain, pattern). @category Samplers */
export interface GibbsChains {
  readonly nChains: number;
  readonly nPatterns: number;
  readonly nVariables: number;
  /** `[nChains × nPatterns × nVariables]` current states (observed variables at their evidence). */
  readonly x: Int32Array;
}

/** Draws from unnormalized weights `w[0..K)` with total `sum` (uniform when the total is 0). */
function draw(rng: Rng, w: Float64Array, K: number, sum: number): number {
  if (!(sum > 0)) return Math.min(K - 1, Math.floor(rng.uniform() * K));
  let u = rng.uniform() * sum;
  for (let k = 0; k < K; k++) {
    u -= w[k]!;
    if (u < 0) return k;
  }
  for (let k = K - 1; k >= 0; k--) if (w[k]! > 0) return k;
  return K - 1;
}

/** Options of {@link gibbsSampler}. @category Samplers */
export interface GibbsSamplerOptions {
  /** Chains per pattern (default 1). */
  readonly chains?: number;
  /** Proposal draws per pattern of the importance-sampling estimate of log p(x | θ) (default 16). */
  readonly importanceDraws?: number;
}

/**
 * A Gibbs sampler for factor graphs (see the module notes). Units are ⌊√S⌋ batches of consecutive kept
 * sweeps of each chain over every pattern; the statistics are the averaged family counts. The estimate of
 * log p(x | θ) is by importance sampling with the chains' smoothed marginals as the proposal
 * (`importanceLogLikelihood`). Diagnostics: `nDraws`, `ess` (Geyer, of log p(x, z) along each chain,
 * summed over chains), `rHat` (split-R̂ of log p(x, z) across chains; ≥ 4 draws per chain),
 * `zeroConditionals`.
 * @category Samplers
 */
export function gibbsSampler(options: GibbsSamplerOptions = {}): LatentSampler<FactorGraphStructure, GibbsChains> {
  const C = options.chains ?? 1;
  const isDraws = options.importanceDraws ?? 16;
  return {
    kind: 'factor-graph',
    independent: false,
    start(structure, rng) {
      const plan = gibbsPlan(structure.spec);
      const ev = structure.evidence;
      const nv = plan.nVariables;
      const P = ev.nPatterns;
      const x = new Int32Array(C * P * nv);
      const free = conditionalFreeVariables(ev);
      const w = new Float64Array(Math.max(...plan.cards));
      for (let c = 0; c < C; c++) {
        for (let p = 0; p < P; p++) {
          const o = (c * P + p) * nv;
          for (let v = 0; v < nv; v++) x[o + v] = Math.max(0, ev.values[p * nv + v]!);
          // Chain 0 starts sequentially (each free variable from its conditional given the states so
          // far); the others uniformly at random (over-dispersed, so R̂ can flag chains that disagree).
          const r = rng.child('chain', c, 'pattern', p);
          for (const v of free[p]!) x[o + v] = c === 0 ? draw(r, w, plan.cards[v]!, conditional(plan, structure.factorTables, v, x, o, w)) : r.int(plan.cards[v]!);
        }
      }
      return { nChains: C, nPatterns: P, nVariables: nv, x };
    },
    clone: (chains) => ({ ...chains, x: chains.x.slice() }),
    async sample(structure, chains, request: SampleRequest): Promise<DrawBatch> {
      const plan: GibbsPlan = gibbsPlan(structure.spec);
      const ev = structure.evidence;
      const nv = plan.nVariables;
      const P = ev.nPatterns;
      const tables = structure.factorTables;
      const logC = structure.logConstant ?? 0;
      const S = request.nDraws;
      const steps = request.burnIn + S * request.thin;
      const free = conditionalFreeVariables(ev);
      const F = plan.familyScopes.length;
      const U = C * S;
      // Units: ⌊√S⌋ batches of consecutive sweeps per chain; counts are per-draw averages over the batch.
      const bounds = batchBounds(S);
      const B = bounds.length - 1;
      const batchOf = new Int32Array(S);
      for (let b = 0; b < B; b++) for (let s = bounds[b]!; s < bounds[b + 1]!; s++) batchOf[s] = b;
      const unitCounts = Array.from({ length: C * B }, () => Array.from(plan.familySizes, (n) => new Float64Array(n)));
      const drawLogJoint = new Float64Array(U);
      const marginals = request.estimate ? new Float64Array(P * plan.totalStates) : undefined;
      const w = new Float64Array(Math.max(...plan.cards));
      const x = chains.x;
      let zeroConditionals = 0;
      for (let c = 0; c < C; c++) {
        for (let p = 0; p < P; p++) {
          if ((p & 63) === 0) checkAbort(request.signal);
          const m = ev.counts[p]!;
          const o = (c * P + p) * nv;
          const fv = free[p]!;
          const rng = request.rng.child('chain', c, 'pattern', p);
          let kept = 0;
          for (let t = 0; t < steps; t++) {
            for (let i = 0; i < fv.length; i++) {
              const v = fv[i]!;
              const sum = conditional(plan, tables, v, x, o, w);
              if (!(sum > 0)) zeroConditionals++;
              x[o + v] = draw(rng, w, plan.cards[v]!, sum);
            }
            if (t < request.burnIn || (t - request.burnIn + 1) % request.thin !== 0) continue;
            const s = kept++;
            const b = batchOf[s]!;
            const size = bounds[b + 1]! - bounds[b]!;
            const counts = unitCounts[c * B + b]!;
            for (let f = 0; f < F; f++) {
              const idx = tableIndex(plan.familyScopes[f]!, plan.familyStrides[f]!, x, o);
              counts[f]![idx] = counts[f]![idx]! + m / size;
            }
            if (m > 0) drawLogJoint[c * S + s] = drawLogJoint[c * S + s]! + m * logFactorProduct(plan, tables, x, o, logC);
            if (marginals !== undefined) for (const v of fv) marginals[p * plan.totalStates + plan.stateOffset[v]! + x[o + v]!]! += 1;
          }
        }
      }
      const units: DrawUnit[] = [];
      const avg = Array.from(plan.familySizes, (n) => new Float64Array(n));
      for (let c = 0; c < C; c++) {
        for (let b = 0; b < B; b++) {
          const counts = unitCounts[c * B + b]!;
          const size = bounds[b + 1]! - bounds[b]!;
          for (let f = 0; f < F; f++) for (let i = 0; i < counts[f]!.length; i++) avg[f]![i] = avg[f]![i]! + (counts[f]![i]! * size) / U;
          let lj = 0;
          for (let s = bounds[b]!; s < bounds[b + 1]!; s++) lj += drawLogJoint[c * S + s]! / size;
          units.push({ chain: c, size, stats: () => structure.stats(counts), logJoint: lj });
        }
      }
      const diagnostics: Record<string, number> = { nDraws: U, zeroConditionals };
      if (S >= 4) {
        const series = Array.from({ length: C }, (_, c) => drawLogJoint.subarray(c * S, (c + 1) * S));
        if (series.every((s) => s.every((v) => Number.isFinite(v)))) {
          let ess = 0;
          for (const s of series) {
            const e = effectiveSampleSize(s);
            ess += Number.isNaN(e) ? S : Math.min(e, S);
          }
          diagnostics['ess'] = ess;
          const r = splitRHat(series);
          if (!Number.isNaN(r)) diagnostics['rHat'] = r;
        }
      }
      let estimate: DrawBatch['estimate'];
      if (marginals !== undefined) {
        const est = importanceLogLikelihood(structure, { rng: request.rng.child('importance'), nDraws: isDraws, marginals, marginalDraws: U });
        estimate = { value: est.value, stdErr: est.stdErr };
        diagnostics['importanceEss'] = est.minEss;
      }
      return { units, nDraws: U, stats: structure.stats(avg), ...(estimate === undefined ? {} : { estimate }), diagnostics };
    },
  };
}
