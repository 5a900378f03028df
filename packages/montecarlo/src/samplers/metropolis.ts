/**
 * Metropolis–Hastings for a batch of independent continuous latents: one
 * chain per group g, each of dimension q, targeting π_g(b) ∝ exp(logTarget(g, b)).
 *
 * Proposals:
 * - `random-walk`: b' = b + σ_g L_g ε, ε ~ N(0, I), with L_g the Cholesky factor
 *   of an optional shape matrix (default I). The scale σ_g adapts during
 *   burn-in only, by Robbins–Monro on log σ toward the acceptance rate 0.44
 *   (q = 1) or 0.234 (q ≥ 2) (Roberts & Rosenthal 2001): log σ ← log σ +
 *   (t + 1)^(−0.6) (α_t − α*), with α_t the acceptance probability of step t.
 *   After burn-in σ is fixed, so the kept draws come from a time-homogeneous
 *   chain with π_g invariant.
 * - `independence`: b' ~ N(m_g, V_g) or a multivariate Student-t with ν
 *   degrees of freedom and scale V_g centred at m_g (e.g. the Laplace q),
 *   accepted with probability min(1, π(b') q(b) / (π(b) q(b'))).
 *
 * Randomness and resumption: the uniforms of chain g in steps
 * [256 k, 256 (k + 1)) come from the stream `rng.child('chain', g, 'block', k)`,
 * and the state records how many uniforms the chain has used in its current
 * block. A run from a saved state re-creates that stream and skips those
 * uniforms, so splitting a run into several calls (with the same `rng`) gives
 * bit-identical draws, scales and states to one call. Across EM iterations an
 * E-step passes each iteration's own `rng` and the chains continue with fresh
 * randomness. Normals are Box–Muller from two uniforms each (no cached spare,
 * so the state is just the count).
 * @module
 */
import { emError, type Rng } from '@emlab/core';
import { gammaDraw } from '../internal/gamma-draw.js';

/** Steps per random-stream block. @category Samplers */
export const METROPOLIS_BLOCK_STEPS = 256;

/** Robbins–Monro step exponent: γ_t = (t + 1)^(−0.6). @category Samplers */
export const ADAPTATION_EXPONENT = 0.6;

/** log π_g(b) up to a constant; −∞ (or NaN) outside the support. `b` is a scratch array: copy it to keep it. @category Samplers */
export type LogTarget = (chain: number, b: Float64Array) => number;

/** A random-walk proposal. @category Samplers */
export interface RandomWalkProposal {
  readonly kind: 'random-walk';
  /** `[G, q, q]` proposal shape per chain (symmetric positive definite; default the identity). */
  readonly shape?: Float64Array;
  /** Acceptance rate the burn-in adaptation aims at (default 0.44 for q = 1, 0.234 otherwise). */
  readonly targetAcceptance?: number;
  /** Adapt the scale during burn-in (default true). */
  readonly adapt?: boolean;
}

/** An independence proposal: Gaussian (`df` = ∞, the default) or multivariate Student-t. @category Samplers */
export interface IndependenceProposal {
  readonly kind: 'independence';
  /** `[G, q]` centres. */
  readonly mean: Float64Array;
  /** `[G, q, q]` covariances (the Student-t's scale matrices), symmetric positive definite. */
  readonly cov: Float64Array;
  /** Degrees of freedom ν > 0 of a Student-t proposal; Infinity (default) for a Gaussian. */
  readonly df?: number;
}

/** A proposal. @category Samplers */
export type MetropolisProposal = RandomWalkProposal | IndependenceProposal;

/**
 * The resumable state of a batch of chains (plain typed arrays: save it between EM iterations).
 * @category Samplers
 */
export interface MetropolisState {
  readonly nChains: number;
  readonly dim: number;
  /** `[G, q]` current points. */
  readonly current: Float64Array;
  /** `[G]` log random-walk scales log σ_g. */
  readonly logScale: Float64Array;
  /** Steps taken so far (burn-in and sampling), the same for every chain. */
  readonly step: number;
  /** Burn-in steps taken so far (the Robbins–Monro clock). */
  readonly adaptStep: number;
  /** `[G]` uniforms used by each chain in its current stream block. */
  readonly streamOffset: Float64Array;
}

/** Options of {@link metropolisRun}. @category Samplers */
export interface MetropolisOptions {
  /** The stream the chains' randomness derives from. */
  readonly rng: Rng;
  readonly proposal: MetropolisProposal;
  /** Draws kept per chain. */
  readonly nDraws: number;
  /** Steps before the first kept draw (default 0), with adaptation for random walks. */
  readonly burnIn?: number;
  /** Keep every thin-th step after burn-in (default 1). */
  readonly thin?: number;
}

/** What {@link metropolisRun} returns. @category Samplers */
export interface MetropolisResult {
  /** `[G, nDraws, q]` kept draws. */
  readonly draws: Float64Array;
  /** `[G, nDraws]` log π_g at each kept draw (as returned by the target). */
  readonly logTargets: Float64Array;
  /** `[G]` fraction of accepted proposals after burn-in (NaN if none were made). */
  readonly acceptanceRate: Float64Array;
  /** `[G]` fraction accepted during this call's burn-in (NaN if none). */
  readonly burnInAcceptanceRate: Float64Array;
  /** The state to resume from. */
  readonly state: MetropolisState;
}

function checkInteger(v: unknown, path: (string | number)[], min: number, remedy: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw emError('INVALID_ARGUMENT', path, v, `must be an integer >= ${min}`, remedy);
  return v;
}

/**
 * A fresh state: chains at `init` (`[G, q]`), scale σ = `scale` (default 2.38/√q), step 0.
 * @throws EmError `INVALID_ARGUMENT` for bad sizes or non-finite values.
 * @category Samplers
 */
export function metropolisInit(init: Float64Array, nChains: number, dim: number, scale?: number): MetropolisState {
  checkInteger(nChains, ['nChains'], 1, 'pass the number of chains (groups)');
  checkInteger(dim, ['dim'], 1, 'pass the dimension q of each latent');
  if (!(init instanceof Float64Array) || init.length !== nChains * dim) {
    throw emError('INVALID_ARGUMENT', ['init'], init, `must be a Float64Array [G, q] of length ${nChains * dim}`, 'give every chain a starting point');
  }
  for (let i = 0; i < init.length; i++) if (!Number.isFinite(init[i]!)) throw emError('INVALID_ARGUMENT', ['init', i], init[i], 'must be finite', 'start inside the support');
  const s = scale ?? 2.38 / Math.sqrt(dim);
  if (!(s > 0) || !Number.isFinite(s)) throw emError('INVALID_ARGUMENT', ['scale'], s, 'must be a finite number > 0', 'pass e.g. 1 or omit it');
  return { nChains, dim, current: Float64Array.from(init), logScale: new Float64Array(nChains).fill(Math.log(s)), step: 0, adaptStep: 0, streamOffset: new Float64Array(nChains) };
}

/** A chain's uniforms, one stream per block of steps, counting what it uses. */
class ChainStream {
  private rng: Rng;
  private block: number;
  used: number;

  constructor(
    private readonly root: Rng,
    private readonly chain: number,
    step: number,
    skip: number,
  ) {
    this.block = Math.floor(step / METROPOLIS_BLOCK_STEPS);
    this.rng = root.child('chain', chain, 'block', this.block);
    for (let i = 0; i < skip; i++) this.rng.uniform();
    this.used = skip;
  }

  /** Called at the start of each step: moves to the next block's stream at a block boundary. */
  enter(step: number): void {
    const block = Math.floor(step / METROPOLIS_BLOCK_STEPS);
    if (block !== this.block) {
      this.block = block;
      this.rng = this.root.child('chain', this.chain, 'block', block);
      this.used = 0;
    }
  }

  uniform(): number {
    this.used++;
    return this.rng.uniform();
  }

  /** Box–Muller from two uniforms (1 − u ∈ (0, 1] keeps the log finite). */
  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Gamma(shape, 1) from this stream (Marsaglia & Tsang, see `gammaDraw`). */
  gamma(shape: number): number {
    return gammaDraw(this, shape);
  }
}

/** Lower Cholesky factors `[G, q, q]` of a batch of matrices. */
function batchCholesky(a: Float64Array, G: number, q: number, path: string[]): Float64Array {
  if (!(a instanceof Float64Array) || a.length !== G * q * q) {
    throw emError('INVALID_ARGUMENT', path, a, `must be a Float64Array [G, q, q] of length ${G * q * q}`, 'give one q×q matrix per chain');
  }
  const out = new Float64Array(G * q * q);
  for (let g = 0; g < G; g++) {
    const o = g * q * q;
    for (let i = 0; i < q; i++) {
      for (let j = 0; j <= i; j++) {
        let s = a[o + i * q + j]!;
        for (let k = 0; k < j; k++) s -= out[o + i * q + k]! * out[o + j * q + k]!;
        if (i === j) {
          if (!(s > 0) || !Number.isFinite(s)) throw emError('INVALID_ARGUMENT', [...path, g], a.subarray(o, o + q * q), `matrix of chain ${g} is not positive definite`, 'pass symmetric positive definite matrices');
          out[o + i * q + i] = Math.sqrt(s);
        } else {
          out[o + i * q + j] = s / out[o + j * q + j]!;
        }
      }
    }
  }
  return out;
}

/** log of the proposal kernel at b (constants that cancel in the ratio dropped): −½|w|² or −((ν+q)/2) log(1 + |w|²/ν), L w = b − m. */
function logKernel(b: Float64Array, mean: Float64Array, L: Float64Array, g: number, q: number, df: number, w: Float64Array): number {
  const o = g * q * q;
  let sq = 0;
  for (let i = 0; i < q; i++) {
    let s = b[i]! - mean[g * q + i]!;
    for (let k = 0; k < i; k++) s -= L[o + i * q + k]! * w[k]!;
    w[i] = s / L[o + i * q + i]!;
    sq += w[i]! * w[i]!;
  }
  return df === Infinity ? -0.5 * sq : -0.5 * (df + q) * Math.log1p(sq / df);
}

function safeLog(v: number): number {
  return Number.isNaN(v) ? -Infinity : v;
}

/**
 * Runs every chain `burnIn + nDraws·thin` steps from `state`, keeping every
 * thin-th step after burn-in.
 * @param logTarget log π_g(b) up to a constant, called once per chain per step (plus once per chain at the start).
 * @throws EmError `INVALID_ARGUMENT` for bad options, proposal shapes, or a start where log π is not finite.
 * @see Metropolis et al. (1953); Hastings (1970); Roberts, G. O. & Rosenthal, J. S. (2001). Optimal scaling for various Metropolis–Hastings algorithms. Statistical Science 16, 351–367; Robbins, H. & Monro, S. (1951).
 * @category Samplers
 */
export function metropolisRun(logTarget: LogTarget, state: MetropolisState, options: MetropolisOptions): MetropolisResult {
  const { nChains: G, dim: q } = state;
  const nDraws = checkInteger(options.nDraws, ['options', 'nDraws'], 0, 'pass the number of draws to keep per chain');
  const burnIn = checkInteger(options.burnIn ?? 0, ['options', 'burnIn'], 0, 'pass burnIn >= 0');
  const thin = checkInteger(options.thin ?? 1, ['options', 'thin'], 1, 'pass thin >= 1');
  if (typeof options.rng?.child !== 'function') throw emError('INVALID_ARGUMENT', ['options', 'rng'], options.rng, 'must be an Rng', 'pass createRng(seed) or a child of it');
  const proposal = options.proposal;
  let shapeL: Float64Array | undefined;
  let target = 0;
  let adapt = false;
  let indepMean: Float64Array | undefined;
  let indepL: Float64Array | undefined;
  let df = Infinity;
  if (proposal?.kind === 'random-walk') {
    if (proposal.shape !== undefined) shapeL = batchCholesky(proposal.shape, G, q, ['options', 'proposal', 'shape']);
    target = proposal.targetAcceptance ?? (q === 1 ? 0.44 : 0.234);
    if (!(target > 0 && target < 1)) throw emError('INVALID_ARGUMENT', ['options', 'proposal', 'targetAcceptance'], target, 'must be in (0, 1)', 'pass e.g. 0.234 or omit it');
    adapt = proposal.adapt ?? true;
  } else if (proposal?.kind === 'independence') {
    if (!(proposal.mean instanceof Float64Array) || proposal.mean.length !== G * q) {
      throw emError('INVALID_ARGUMENT', ['options', 'proposal', 'mean'], proposal.mean, `must be a Float64Array [G, q] of length ${G * q}`, 'give one centre per chain');
    }
    indepMean = proposal.mean;
    indepL = batchCholesky(proposal.cov, G, q, ['options', 'proposal', 'cov']);
    df = proposal.df ?? Infinity;
    if (!(df > 0)) throw emError('INVALID_ARGUMENT', ['options', 'proposal', 'df'], df, 'must be > 0 (Infinity for a Gaussian)', 'pass e.g. df: 5');
  } else {
    throw emError('INVALID_ARGUMENT', ['options', 'proposal', 'kind'], (proposal as { kind?: unknown } | undefined)?.kind, "must be 'random-walk' or 'independence'", "pass { kind: 'random-walk' }");
  }

  const totalSteps = burnIn + nDraws * thin;
  const draws = new Float64Array(G * nDraws * q);
  const logTargets = new Float64Array(G * nDraws);
  const acceptanceRate = new Float64Array(G);
  const burnInAcceptanceRate = new Float64Array(G);
  const current = Float64Array.from(state.current);
  const logScale = Float64Array.from(state.logScale);
  const streamOffset = new Float64Array(G);
  const b = new Float64Array(q);
  const prop = new Float64Array(q);
  const eps = new Float64Array(q);
  const w = new Float64Array(q);

  for (let g = 0; g < G; g++) {
    const stream = new ChainStream(options.rng, g, state.step, state.streamOffset[g]!);
    for (let k = 0; k < q; k++) b[k] = current[g * q + k]!;
    let logPi = safeLog(logTarget(g, b));
    if (!Number.isFinite(logPi)) {
      throw emError('INVALID_ARGUMENT', ['state', 'current', g], Array.from(b), `log π is ${logPi} at the current point of chain ${g}`, 'start every chain where the target density is positive and finite');
    }
    let logQ = indepL === undefined ? 0 : logKernel(b, indepMean!, indepL, g, q, df, w);
    let sigmaLog = logScale[g]!;
    let accBurn = 0;
    let accKeep = 0;
    let kept = 0;
    for (let t = 0; t < totalSteps; t++) {
      stream.enter(state.step + t);
      for (let k = 0; k < q; k++) eps[k] = stream.normal();
      let logQProp = 0;
      if (indepL === undefined) {
        const sigma = Math.exp(sigmaLog);
        for (let i = 0; i < q; i++) {
          let s = 0;
          if (shapeL === undefined) s = eps[i]!;
          else for (let k = 0; k <= i; k++) s += shapeL[g * q * q + i * q + k]! * eps[k]!;
          prop[i] = b[i]! + sigma * s;
        }
      } else {
        const radial = df === Infinity ? 1 : Math.sqrt(df / (2 * stream.gamma(df / 2)));
        for (let i = 0; i < q; i++) {
          let s = 0;
          for (let k = 0; k <= i; k++) s += indepL[g * q * q + i * q + k]! * eps[k]!;
          prop[i] = indepMean![g * q + i]! + radial * s;
        }
        logQProp = logKernel(prop, indepMean!, indepL, g, q, df, w);
      }
      const logPiProp = safeLog(logTarget(g, prop));
      const logRatio = logPiProp - logPi + logQ - logQProp;
      const alpha = logRatio >= 0 ? 1 : Math.exp(logRatio);
      const u = stream.uniform();
      const accept = u < alpha;
      if (accept) {
        for (let k = 0; k < q; k++) b[k] = prop[k]!;
        logPi = logPiProp;
        logQ = logQProp;
      }
      if (t < burnIn) {
        if (accept) accBurn++;
        if (adapt) sigmaLog += Math.pow(state.adaptStep + t + 1, -ADAPTATION_EXPONENT) * (alpha - target);
      } else {
        if (accept) accKeep++;
        if ((t - burnIn + 1) % thin === 0) {
          draws.set(b, (g * nDraws + kept) * q);
          logTargets[g * nDraws + kept] = logPi;
          kept++;
        }
      }
    }
    current.set(b, g * q);
    logScale[g] = sigmaLog;
    // The offset is relative to the block of the next step (0 if that starts a new block).
    stream.enter(state.step + totalSteps);
    streamOffset[g] = stream.used;
    acceptanceRate[g] = nDraws * thin > 0 ? accKeep / (nDraws * thin) : Number.NaN;
    burnInAcceptanceRate[g] = burnIn > 0 ? accBurn / burnIn : Number.NaN;
  }
  return {
    draws,
    logTargets,
    acceptanceRate,
    burnInAcceptanceRate,
    state: { nChains: G, dim: q, current, logScale, step: state.step + totalSteps, adaptStep: state.adaptStep + burnIn, streamOffset },
  };
}
