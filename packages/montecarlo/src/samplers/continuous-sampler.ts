/**
 * Metropolis–Hastings for the `continuous` kind: C chains per group g, each
 * targeting p(b_g | x_g, θ) ∝ p(x_g, b_g | θ), with proposals shaped by the
 * Laplace approximation at θ (mode m_g, covariance V_g = (−∇² log p)⁻¹ at it):
 *
 * - `random-walk` (default): b' = b + σ L_g ε with L_g L_gᵀ = V_g, σ adapted
 *   toward the Roberts–Rosenthal acceptance rate during burn-in
 *   (`metropolisRun`), fixed while draws are kept;
 * - `independence`: b' ~ a Student-t (ν = `df`, default 4) or Gaussian
 *   (ν = ∞) centred at m_g with scale V_g.
 *
 * Chains persist across EM iterations (the sampler's state), so after a
 * longer first burn-in a few burn-in steps per iteration follow θ.
 * Chain 0 of a group starts at its mode, chain c > 0 at m_g + 2 L_g ε
 * (over-dispersed, for R̂).
 * @module
 */
import { choleskyWithJitter, emError, inverseFromCholesky, type ContinuousStructure, type Rng } from '@emlab/core';
import { importanceLogLikelihood } from '../importance.js';
import { modeOf } from '../internal/newton.js';
import { batchBounds } from '../internal/unit-stats.js';
import { effectiveSampleSize, splitRHat } from './diagnostics.js';
import { metropolisInit, metropolisRun, type MetropolisProposal, type MetropolisState } from './metropolis.js';
import { checkAbort, type DrawBatch, type DrawUnit, type LatentSampler, type SampleRequest } from './sampler.js';

/** Proposal kinds of {@link continuousSampler}. @category Samplers */
export const CONTINUOUS_PROPOSALS = ['random-walk', 'independence'] as const;

/** Options of {@link continuousSampler}. @category Samplers */
export interface ContinuousSamplerOptions {
  /** Chains per group (default 2). */
  readonly chains?: number;
  /** `'random-walk'` (default) or `'independence'`. */
  readonly proposal?: (typeof CONTINUOUS_PROPOSALS)[number];
  /** Degrees of freedom of the independence proposal (default 4; Infinity for a Gaussian). */
  readonly df?: number;
  /** Proposal draws per group of the importance-sampling estimate of log p(x | θ) (default 100). */
  readonly importanceDraws?: number;
}

/** The state of {@link continuousSampler}: the Metropolis chains and the last modes. @category Samplers */
export interface ContinuousChains {
  readonly chainsPerGroup: number;
  /** Chains `[G · C]`, chain g·C + c is chain c of group g. */
  mh: MetropolisState;
  /** `[G × q]` the last Laplace modes (warm starts). */
  modes: Float64Array;
}

/** The Laplace mode and covariance factor of every group. */
function laplaceAll(structure: ContinuousStructure, starts: Float64Array | undefined): { modes: Float64Array; covs: Float64Array; chols: Float64Array } {
  const G = structure.nGroups;
  const q = structure.dim;
  const modes = new Float64Array(G * q);
  const covs = new Float64Array(G * q * q);
  const chols = new Float64Array(G * q * q);
  for (let g = 0; g < G; g++) {
    const m = modeOf(structure, g, starts?.subarray(g * q, (g + 1) * q));
    if (!m.mode.every((v) => Number.isFinite(v))) throw emError('NOT_POSITIVE_DEFINITE', ['b', g], m.mode, `the Laplace mode of group ${g} is not finite`, 'check the data and parameters for overflow');
    modes.set(m.mode, g * q);
    const { L: Lh } = choleskyWithJitter(m.negHessian, q, { what: 'negative Hessian at the mode', path: ['b', g] });
    const V = inverseFromCholesky(Lh, q);
    covs.set(V, g * q * q);
    chols.set(choleskyWithJitter(V, q, { what: 'Laplace covariance', path: ['b', g] }).L, g * q * q);
  }
  return { modes, covs, chols };
}

/**
 * The Metropolis–Hastings sampler for continuous structures (see the module notes). Units are ⌊√S⌋
 * batches of consecutive kept draws of chain c over every group (the full latent); the statistics come from
 * `structure.drawStats` over every kept draw. The estimate of log p(x | θ) is by importance sampling
 * (Student-t at the Laplace mode); the exact log p(x | θ) comes from `structure.logMarginal` when the
 * model has it. Diagnostics: `nDraws`, `acceptanceRate` (mean over chains, kept steps), `ess` and
 * `essMedian` (per group, Geyer's ESS of each coordinate summed over chains, then the minimum over
 * coordinates; the minimum and median over groups), `rHat` (the largest split-R̂ over groups and
 * coordinates; ≥ 4 draws per chain), `importanceEss` (smallest over groups).
 * @throws EmError `INVALID_ARGUMENT` for bad options.
 * @category Samplers
 */
export function continuousSampler(options: ContinuousSamplerOptions = {}): LatentSampler<ContinuousStructure, ContinuousChains> {
  const C = options.chains ?? 2;
  const kind = options.proposal ?? 'random-walk';
  const df = options.df ?? 4;
  const isDraws = options.importanceDraws ?? 100;
  if (!Number.isInteger(C) || C < 1) throw emError('INVALID_ARGUMENT', ['options', 'chains'], C, 'must be an integer >= 1', 'pass e.g. chains: 2');
  return {
    kind: 'continuous',
    independent: false,
    start(structure, rng: Rng) {
      const G = structure.nGroups;
      const q = structure.dim;
      const { modes, chols } = laplaceAll(structure, undefined);
      const init = new Float64Array(G * C * q);
      const r = rng.child('chain-start');
      for (let g = 0; g < G; g++) {
        for (let c = 0; c < C; c++) {
          const eps = Array.from({ length: q }, () => (c === 0 ? 0 : 2 * r.normal()));
          for (let i = 0; i < q; i++) {
            let v = modes[g * q + i]!;
            for (let k = 0; k <= i; k++) v += chols[g * q * q + i * q + k]! * eps[k]!;
            init[(g * C + c) * q + i] = v;
          }
        }
      }
      return { chainsPerGroup: C, mh: metropolisInit(init, G * C, q), modes };
    },
    clone: (s) => ({ chainsPerGroup: s.chainsPerGroup, mh: { ...s.mh, current: s.mh.current.slice(), logScale: s.mh.logScale.slice(), streamOffset: s.mh.streamOffset.slice() }, modes: s.modes.slice() }),
    async sample(structure, chains, request: SampleRequest): Promise<DrawBatch> {
      checkAbort(request.signal);
      const G = structure.nGroups;
      const q = structure.dim;
      const S = request.nDraws;
      const { modes, covs } = laplaceAll(structure, chains.modes);
      chains.modes = modes;
      const rep = (a: Float64Array, size: number): Float64Array => {
        const out = new Float64Array(G * C * size);
        for (let g = 0; g < G; g++) for (let c = 0; c < C; c++) out.set(a.subarray(g * size, (g + 1) * size), (g * C + c) * size);
        return out;
      };
      const proposal: MetropolisProposal = kind === 'random-walk' ? { kind: 'random-walk', shape: rep(covs, q * q) } : { kind: 'independence', mean: rep(modes, q), cov: rep(covs, q * q), df };
      const r = metropolisRun((i, b) => structure.logJoint(Math.floor(i / C), b), chains.mh, { rng: request.rng, proposal, nDraws: S, burnIn: request.burnIn, thin: request.thin });
      chains.mh = r.state;
      checkAbort(request.signal);
      // r.draws is [G·C, S, q]: chain (g, c) draw s at ((g·C + c)·S + s)·q.
      // Units: ⌊√S⌋ batches of consecutive draws of chain c over every group.
      const units: DrawUnit[] = [];
      const bounds = batchBounds(S);
      for (let c = 0; c < C; c++) {
        for (let b = 0; b + 1 < bounds.length; b++) {
          const s0 = bounds[b]!;
          const size = bounds[b + 1]! - s0;
          let lj = 0;
          const unitDraws = new Float64Array(G * size * q);
          for (let g = 0; g < G; g++) {
            const at = ((g * C + c) * S + s0) * q;
            unitDraws.set(r.draws.subarray(at, at + size * q), g * size * q);
            for (let s = s0; s < s0 + size; s++) lj += r.logTargets[(g * C + c) * S + s]! / size;
          }
          units.push({ chain: c, size, stats: () => structure.drawStats(unitDraws, size), logJoint: lj });
        }
      }
      const diagnostics: Record<string, number> = { nDraws: C * S };
      let acc = 0;
      for (let i = 0; i < G * C; i++) acc += r.acceptanceRate[i]!;
      if (S > 0) diagnostics['acceptanceRate'] = acc / (G * C);
      if (S >= 4) {
        const essG: number[] = [];
        let rHat = 1;
        let rHatOk = true;
        const series = Array.from({ length: C }, () => new Float64Array(S));
        for (let g = 0; g < G; g++) {
          let essMin = Infinity;
          for (let k = 0; k < q; k++) {
            let ess = 0;
            for (let c = 0; c < C; c++) {
              const sr = series[c]!;
              for (let s = 0; s < S; s++) sr[s] = r.draws[((g * C + c) * S + s) * q + k]!;
              const e = effectiveSampleSize(sr);
              ess += Number.isNaN(e) ? 0 : Math.min(e, S);
            }
            essMin = Math.min(essMin, ess);
            const rh = splitRHat(series);
            if (Number.isNaN(rh)) rHatOk = false;
            else rHat = Math.max(rHat, rh);
          }
          essG.push(essMin);
        }
        essG.sort((a, b) => a - b);
        diagnostics['ess'] = essG[0]!;
        diagnostics['essMedian'] = essG[Math.floor(G / 2)]!;
        if (rHatOk) diagnostics['rHat'] = rHat;
      }
      let estimate: DrawBatch['estimate'];
      let logLikelihood: number | undefined;
      if (request.estimate) {
        const est = importanceLogLikelihood(structure, { rng: request.rng.child('importance'), nDraws: isDraws, df, starts: modes });
        estimate = { value: est.value, stdErr: est.stdErr };
        diagnostics['importanceEss'] = est.minEss;
        if (structure.logMarginal !== undefined) {
          logLikelihood = 0;
          for (let g = 0; g < G; g++) logLikelihood += structure.logMarginal(g);
        }
      }
      return {
        units,
        nDraws: C * S,
        // r.draws is group-major [G, C·S, q] (group g's chains are contiguous): every kept draw.
        stats: structure.drawStats(r.draws, C * S),
        ...(estimate === undefined ? {} : { estimate }),
        ...(logLikelihood === undefined ? {} : { logLikelihood }),
        diagnostics,
      };
    },
  };
}
