/**
 * Host float64 mean field for one evidence pattern of a factor graph:
 * coordinate ascent on L_p(q) = E_q[log Π φ_f] + H(q) over fully factorized
 * q = Π_v q_v (observed variables are point masses), and the pattern's
 * contribution to the bound, the entropy and the family counts.
 * @internal
 * @module
 */
import type { FactorIndex } from './factor-index.js';

/** Inner-loop settings. */
export interface MeanFieldSettings {
  /** Stop when no q_v(x) moved by more than this in a sweep. */
  readonly tol: number;
  readonly maxSweeps: number;
  /** q_v ← (1 − d) · update + d · q_v (0 ≤ d < 1). */
  readonly damping: number;
}

/** Scratch buffers, sized once per spec. */
export interface MeanFieldScratch {
  readonly acc: Float64Array;
  readonly fresh: Float64Array;
  readonly hidden: Int32Array;
}

/** Buffers for a spec. */
export function meanFieldScratch(index: FactorIndex): MeanFieldScratch {
  let maxCard = 1;
  for (const c of index.cards) maxCard = Math.max(maxCard, c);
  return { acc: new Float64Array(maxCard), fresh: new Float64Array(maxCard), hidden: new Int32Array(index.nVariables) };
}

/** Observed variables become point masses in `q`; returns the number of unobserved ones (listed in scratch.hidden). */
export function clampEvidence(index: FactorIndex, values: Int32Array, q: Float64Array, scratch: MeanFieldScratch): number {
  let nh = 0;
  for (let v = 0; v < index.nVariables; v++) {
    const s = values[v] as number;
    const o = index.offsets[v] as number;
    const k = index.cards[v] as number;
    if (s >= 0) {
      q.fill(0, o, o + k);
      q[o + s] = 1;
    } else {
      scratch.hidden[nh++] = v;
    }
  }
  return nh;
}

/**
 * E_{q−v}[log φ_f](x_v) summed over the factors containing v, into `acc[0 … card_v)`. A state with a
 * positive-probability configuration where φ_f = 0 gets −∞; 0 · log 0 = 0 otherwise.
 */
function expectedLogFactorsAt(index: FactorIndex, logPhi: readonly Float64Array[], q: Float64Array, v: number, acc: Float64Array): void {
  const k = index.cards[v] as number;
  acc.fill(0, 0, k);
  for (const { f, j } of index.occurrences[v] as readonly { f: number; j: number }[]) {
    const fac = index.factors[f] as FactorIndex['factors'][number];
    const scope = fac.scope;
    const ns = scope.length;
    const st = fac.states;
    const lp = logPhi[f] as Float64Array;
    for (let e = 0; e < fac.size; e++) {
      let w = 1;
      const base = e * ns;
      for (let u = 0; u < ns && w !== 0; u++) if (u !== j) w *= q[(index.offsets[scope[u] as number] as number) + (st[base + u] as number)] as number;
      if (w === 0) continue;
      const s = st[base + j] as number;
      const l = lp[e] as number;
      if (l === Number.NEGATIVE_INFINITY) acc[s] = Number.NEGATIVE_INFINITY;
      else if (acc[s] !== Number.NEGATIVE_INFINITY) acc[s] = (acc[s] as number) + w * l;
    }
  }
}

/**
 * Sweeps over the unobserved variables (in index order) until no marginal moves by more than
 * `settings.tol` or `maxSweeps` sweeps ran. Every coordinate update (damped or not) maximizes or
 * raises L_p, so L_p never decreases. A variable whose every state is impossible keeps its q.
 * @returns the number of sweeps and whether the tolerance was met.
 */
export function meanFieldSweeps(index: FactorIndex, logPhi: readonly Float64Array[], q: Float64Array, nHidden: number, settings: MeanFieldSettings, scratch: MeanFieldScratch): { sweeps: number; converged: boolean } {
  const { acc, fresh, hidden } = scratch;
  const d = settings.damping;
  for (let sweep = 1; sweep <= settings.maxSweeps; sweep++) {
    let moved = 0;
    for (let h = 0; h < nHidden; h++) {
      const v = hidden[h] as number;
      const k = index.cards[v] as number;
      const o = index.offsets[v] as number;
      expectedLogFactorsAt(index, logPhi, q, v, acc);
      let m = Number.NEGATIVE_INFINITY;
      for (let s = 0; s < k; s++) m = Math.max(m, acc[s] as number);
      if (m === Number.NEGATIVE_INFINITY) continue;
      let z = 0;
      for (let s = 0; s < k; s++) {
        const e = Math.exp((acc[s] as number) - m);
        fresh[s] = e;
        z += e;
      }
      for (let s = 0; s < k; s++) {
        const old = q[o + s] as number;
        const next = d === 0 ? (fresh[s] as number) / z : (1 - d) * ((fresh[s] as number) / z) + d * old;
        moved = Math.max(moved, Math.abs(next - old));
        q[o + s] = next;
      }
    }
    if (moved <= settings.tol) return { sweeps: sweep, converged: true };
  }
  return { sweeps: settings.maxSweeps, converged: false };
}

/** Π_{u ∈ scope} q_u at entry e of a scope table. */
function productAt(index: FactorIndex, s: FactorIndex['factors'][number], q: Float64Array, e: number): number {
  const ns = s.scope.length;
  let w = 1;
  for (let u = 0; u < ns && w !== 0; u++) w *= q[(index.offsets[s.scope[u] as number] as number) + (s.states[e * ns + u] as number)] as number;
  return w;
}

/**
 * One pattern's L_p = Σ_f E_q log φ_f + H(q) (without the log constant) and H(q), adding
 * m · Π q over every family entry to `familyCounts`.
 */
export function meanFieldAccount(
  index: FactorIndex,
  logPhi: readonly Float64Array[],
  q: Float64Array,
  nHidden: number,
  scratch: MeanFieldScratch,
  multiplicity: number,
  familyCounts: readonly Float64Array[],
): { expectedLog: number; entropy: number } {
  let expectedLog = 0;
  index.factors.forEach((fac, f) => {
    const lp = logPhi[f] as Float64Array;
    const counts = index.familiesAreFactors ? (familyCounts[f] as Float64Array) : undefined;
    for (let e = 0; e < fac.size; e++) {
      const w = productAt(index, fac, q, e);
      if (w === 0) continue;
      expectedLog += w * (lp[e] as number);
      if (counts !== undefined) counts[e] = (counts[e] as number) + multiplicity * w;
    }
  });
  if (!index.familiesAreFactors) {
    index.families.forEach((fam, i) => {
      const counts = familyCounts[i] as Float64Array;
      for (let e = 0; e < fam.size; e++) {
        const w = productAt(index, fam, q, e);
        if (w !== 0) counts[e] = (counts[e] as number) + multiplicity * w;
      }
    });
  }
  let entropy = 0;
  for (let h = 0; h < nHidden; h++) {
    const v = scratch.hidden[h] as number;
    const o = index.offsets[v] as number;
    for (let s = 0; s < (index.cards[v] as number); s++) {
      const p = q[o + s] as number;
      if (p > 0) entropy -= p * Math.log(p);
    }
  }
  return { expectedLog, entropy };
}
