/**
 * The float64 HMM kernels of core (`src/chain`): forward–backward (three
 * variants), Viterbi and FFBS against brute-force enumeration of all K^T
 * paths on small random HMMs (structural zeros, −∞ emissions, missing steps,
 * frequency weights, impossible sequences), long-sequence agreement of the
 * scaled and log recursions, FFBS draws against the exact marginals within
 * their standard errors, seeding and batching, and typed errors.
 *
 * Tolerances: marginals, counts and per-path values 1e-12 relative,
 * elementwise. Log-quantities (log-likelihoods, expected log joints,
 * entropies; emissions go up to +2, so their terms have both signs) are held
 * to 1e-12 × max(1, magnitude of the terms they are made of): E_q Σ |log terms|
 * is computed by the reference, since that is what float64 can promise for a
 * difference such as H = log p − E_q log p, and the floor 1 because the log of
 * a probability known to relative precision ε is known to absolute precision
 * ε (log p = 5e-324 comes out as log(1) = 0 from the unscaled products).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EmError } from '../src/errors.js';
import { createRng } from '../src/rng.js';
import { ffbs } from '../src/chain/ffbs.js';
import { forwardBackward } from '../src/chain/forward-backward.js';
import type { ChainBatch, ForwardBackwardResult, ForwardBackwardVariant } from '../src/chain/types.js';
import { validateChainBatch } from '../src/chain/validate.js';
import { viterbi } from '../src/chain/viterbi.js';

const RUNS = { numRuns: 200 };
const REL = 1e-12;
const VARIANTS: readonly ForwardBackwardVariant[] = ['scaled', 'log', 'unscaled'];

// ---------------------------------------------------------------------------
// Random HMMs
// ---------------------------------------------------------------------------

interface Hmm {
  readonly k: number;
  readonly lengths: readonly number[];
  readonly logInitial: readonly number[];
  /** [K][K] */
  readonly logTransition: readonly (readonly number[])[];
  /** [ΣT][K] */
  readonly logEmission: readonly (readonly number[])[];
  readonly weights: readonly number[];
}

const toBatch = (h: Hmm, withWeights = true): ChainBatch => ({
  nStates: h.k,
  lengths: Int32Array.from(h.lengths),
  logEmission: Float64Array.from(h.logEmission.flat()),
  logInitial: Float64Array.from(h.logInitial),
  logTransition: Float64Array.from(h.logTransition.flat()),
  ...(withWeights ? { weights: Float64Array.from(h.weights) } : {}),
});

/** Log of a probability row (zeros are structural: −∞), normalized in float64. */
const logNormalized = (p: readonly number[]): number[] => {
  const s = p.reduce((a, b) => a + b, 0);
  return p.map((v) => (v === 0 ? -Infinity : Math.log(v / s)));
};

const probabilityRow = (k: number): fc.Arbitrary<number[]> =>
  fc
    .array(fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: fc.double({ min: 0.05, max: 1, noNaN: true }) }), { minLength: k, maxLength: k })
    .filter((r) => r.some((v) => v > 0))
    .map(logNormalized);

/** An emission row: missing (all 0), or log-densities in [−8, 2] with occasional −∞. */
const emissionRow = (k: number): fc.Arbitrary<number[]> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(Array.from({ length: k }, () => 0)) },
    {
      weight: 6,
      arbitrary: fc.array(fc.oneof({ weight: 1, arbitrary: fc.constant(-Infinity) }, { weight: 7, arbitrary: fc.double({ min: -8, max: 2, noNaN: true }) }), { minLength: k, maxLength: k }),
    },
  );

const hmmArbitrary = (maxK = 4, maxT = 6, maxS = 4): fc.Arbitrary<Hmm> =>
  fc
    .record({ k: fc.integer({ min: 1, max: maxK }), lengths: fc.array(fc.integer({ min: 1, max: maxT }), { minLength: 1, maxLength: maxS }) })
    .chain(({ k, lengths }) => {
      const rows = lengths.reduce((a, b) => a + b, 0);
      return fc.record({
        k: fc.constant(k),
        lengths: fc.constant(lengths),
        logInitial: probabilityRow(k),
        logTransition: fc.array(probabilityRow(k), { minLength: k, maxLength: k }),
        logEmission: fc.array(emissionRow(k), { minLength: rows, maxLength: rows }),
        weights: fc.array(fc.oneof(fc.constant(1), fc.constant(0), fc.double({ min: 0.1, max: 3, noNaN: true })), { minLength: lengths.length, maxLength: lengths.length }),
      });
    });

// ---------------------------------------------------------------------------
// Brute force over all K^T paths (independent of the module under test)
// ---------------------------------------------------------------------------

interface SequenceReference {
  readonly logP: number;
  /** Σ_paths q · Σ |log terms|: the magnitude scale of log p and E_q log p. */
  readonly scale: number;
  /** [T][K] */
  readonly gamma: number[][];
  /** [K][K] (unweighted) */
  readonly xi: number[][];
  readonly elj: number;
  /** −Σ q log q, computed directly. */
  readonly entropy: number;
  /** Every path with its log joint, summed in time order: ((log π + l_1) + log A) + l_2 ... */
  readonly paths: { readonly z: number[]; readonly lj: number }[];
}

/** Neumaier-compensated sum. */
const accurateSum = (xs: readonly number[]): number => {
  let s = 0;
  let c = 0;
  for (const x of xs) {
    const t = s + x;
    c += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    s = t;
  }
  return s + c;
};

function pathLogJoint(h: Hmm, row0: number, z: readonly number[]): { lj: number; abs: number } {
  let lj = (h.logInitial[z[0]!] as number) + (h.logEmission[row0]![z[0]!] as number);
  let abs = Math.abs(h.logInitial[z[0]!]!) + Math.abs(h.logEmission[row0]![z[0]!]!);
  for (let t = 1; t < z.length; t++) {
    const a = h.logTransition[z[t - 1]!]![z[t]!]!;
    const l = h.logEmission[row0 + t]![z[t]!]!;
    lj = lj + a;
    lj = lj + l;
    abs += Math.abs(a) + Math.abs(l);
  }
  return { lj, abs };
}

function bruteForceSequence(h: Hmm, row0: number, len: number): SequenceReference {
  const { k } = h;
  const paths: { z: number[]; lj: number; abs: number }[] = [];
  const n = k ** len;
  for (let code = 0; code < n; code++) {
    const z: number[] = [];
    let c = code;
    for (let t = 0; t < len; t++) {
      z.push(c % k);
      c = Math.floor(c / k);
    }
    paths.push({ z, ...pathLogJoint(h, row0, z) });
  }
  const m = Math.max(...paths.map((p) => p.lj));
  const gamma = Array.from({ length: len }, () => new Array<number>(k).fill(0));
  const xi = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  if (m === -Infinity) return { logP: -Infinity, scale: 0, gamma, xi, elj: -Infinity, entropy: 0, paths };
  const logP = m + Math.log(accurateSum(paths.map((p) => Math.exp(p.lj - m))));
  const eljTerms: number[] = [];
  const entTerms: number[] = [];
  const scaleTerms: number[] = [];
  for (const p of paths) {
    if (p.lj === -Infinity) continue;
    const q = Math.exp(p.lj - logP);
    for (let t = 0; t < len; t++) gamma[t]![p.z[t]!]! += q;
    for (let t = 1; t < len; t++) xi[p.z[t - 1]!]![p.z[t]!]! += q;
    eljTerms.push(q * p.lj);
    entTerms.push(-q * (p.lj - logP));
    scaleTerms.push(q * p.abs);
  }
  return { logP, scale: Math.max(Math.abs(logP), accurateSum(scaleTerms)), gamma, xi, elj: accurateSum(eljTerms), entropy: accurateSum(entTerms), paths };
}

interface BatchReference {
  readonly sequences: SequenceReference[];
  readonly logLikelihood: number;
  readonly expectedLogJoint: number;
  readonly entropy: number;
  /** Σ_s |w_s| scale_s */
  readonly scale: number;
  readonly transitionCounts: number[][];
  readonly initialCounts: number[];
}

function bruteForce(h: Hmm): BatchReference {
  const sequences: SequenceReference[] = [];
  let row0 = 0;
  let logLikelihood = 0;
  let expectedLogJoint = 0;
  let entropy = 0;
  let scale = 0;
  const transitionCounts = Array.from({ length: h.k }, () => new Array<number>(h.k).fill(0));
  const initialCounts = new Array<number>(h.k).fill(0);
  h.lengths.forEach((len, s) => {
    const ref = bruteForceSequence(h, row0, len);
    sequences.push(ref);
    const w = h.weights[s]!;
    if (w !== 0) {
      logLikelihood += w * ref.logP;
      expectedLogJoint += w * ref.elj;
      if (ref.logP !== -Infinity) entropy += w * ref.entropy;
      scale += w * ref.scale;
      for (let i = 0; i < h.k; i++) {
        initialCounts[i]! += w * ref.gamma[0]![i]!;
        for (let j = 0; j < h.k; j++) transitionCounts[i]![j]! += w * ref.xi[i]![j]!;
      }
    }
    row0 += len;
  });
  return { sequences, logLikelihood, expectedLogJoint, entropy, scale, transitionCounts, initialCounts };
}

// ---------------------------------------------------------------------------
// Comparisons
// ---------------------------------------------------------------------------

/** |a − b| ≤ rel · max(|a|, |b|) elementwise; equal infinities and exact zeros must match exactly. */
function expectRel(actual: number, expected: number, what: string, rel = REL): void {
  if (actual === expected) return;
  const ok = Number.isFinite(actual) && Number.isFinite(expected) && Math.abs(actual - expected) <= rel * Math.max(Math.abs(actual), Math.abs(expected));
  if (!ok) expect.fail(`${what}: ${actual} vs ${expected} (relative tolerance ${rel})`);
}

/** |a − b| ≤ rel · max(1, scale, |b|) (for log-quantities, whose terms may cancel); equal infinities must match. */
function expectScaled(actual: number, expected: number, scale: number, what: string, rel = REL): void {
  if (actual === expected) return;
  const ok = Number.isFinite(actual) && Number.isFinite(expected) && Math.abs(actual - expected) <= rel * Math.max(1, scale, Math.abs(expected));
  if (!ok) expect.fail(`${what}: ${actual} vs ${expected} (tolerance ${rel} × ${scale})`);
}

function expectArrayRel(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rel = REL): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expectRel(actual[i]!, expected[i]!, `${what}[${i}]`, rel);
}

function expectMatchesReference(h: Hmm, fb: ForwardBackwardResult, ref: BatchReference, what: string): void {
  ref.sequences.forEach((r, s) => expectScaled(fb.logLikelihoods[s]!, r.logP, r.scale, `${what} logLikelihoods[${s}]`));
  expectScaled(fb.logLikelihood, ref.logLikelihood, ref.scale, `${what} logLikelihood`);
  expectScaled(fb.expectedLogJoint, ref.expectedLogJoint, ref.scale, `${what} expectedLogJoint`);
  expectScaled(fb.entropy, ref.entropy, ref.scale, `${what} entropy`);
  expectArrayRel(fb.gamma, ref.sequences.flatMap((r) => r.gamma.flat()), `${what} gamma`);
  expectArrayRel(fb.transitionCounts, ref.transitionCounts.flat(), `${what} transitionCounts`);
  expectArrayRel(fb.initialCounts, ref.initialCounts, `${what} initialCounts`);
  for (const v of fb.gamma) expect(Number.isNaN(v)).toBe(false);
  // −∞ transitions stay exact zeros.
  for (let ij = 0; ij < h.k * h.k; ij++) if (h.logTransition.flat()[ij] === -Infinity) expect(fb.transitionCounts[ij]).toBe(0);
}

// ---------------------------------------------------------------------------

describe('forwardBackward against brute-force enumeration', () => {
  it('log p(x), gamma, counts, E_q log p and H(q) match for all three variants', () => {
    fc.assert(
      fc.property(hmmArbitrary(), (h) => {
        const batch = toBatch(h);
        validateChainBatch(batch);
        const ref = bruteForce(h);
        for (const variant of VARIANTS) expectMatchesReference(h, forwardBackward(batch, { variant }), ref, variant);
      }),
      RUNS,
    );
  });

  it('the three variants agree with each other to 1e-12 where the unscaled one is in range', () => {
    fc.assert(
      fc.property(hmmArbitrary(), (h) => {
        const batch = toBatch(h);
        const [a, b, c] = VARIANTS.map((variant) => forwardBackward(batch, { variant }));
        for (const other of [b!, c!]) {
          a!.logLikelihoods.forEach((v, s) => expectScaled(other.logLikelihoods[s]!, v, 0, `logLikelihoods[${s}]`));
          expectArrayRel(other.gamma, a!.gamma, 'gamma');
          expectArrayRel(other.transitionCounts, a!.transitionCounts, 'transitionCounts');
          expectArrayRel(other.initialCounts, a!.initialCounts, 'initialCounts');
        }
      }),
      RUNS,
    );
  });

  it('likelihoodOnly gives the same log-likelihoods; unweighted batches weigh every sequence 1', () => {
    fc.assert(
      fc.property(hmmArbitrary(), (h) => {
        for (const variant of VARIANTS) {
          const full = forwardBackward(toBatch(h), { variant });
          const only = forwardBackward(toBatch(h), { variant, likelihoodOnly: true });
          expect(Object.keys(only).sort()).toEqual(['logLikelihood', 'logLikelihoods']);
          expect(Array.from(only.logLikelihoods)).toEqual(Array.from(full.logLikelihoods));
          const unweighted = forwardBackward(toBatch(h, false), { variant });
          const ones = forwardBackward(toBatch({ ...h, weights: h.lengths.map(() => 1) }), { variant });
          expect(unweighted.logLikelihood).toBe(ones.logLikelihood);
          expect(Array.from(unweighted.transitionCounts)).toEqual(Array.from(ones.transitionCounts));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('statistics are additive: stats(A) + stats(B) = stats(A ∪ B)', () => {
    fc.assert(
      fc.property(hmmArbitrary(4, 6, 4).filter((h) => h.lengths.length >= 2), fc.nat(), (h, cut) => {
        const c = 1 + (cut % (h.lengths.length - 1));
        const rowsA = h.lengths.slice(0, c).reduce((a, b) => a + b, 0);
        const part = (from: number, to: number, r0: number, r1: number): Hmm => ({ ...h, lengths: h.lengths.slice(from, to), weights: h.weights.slice(from, to), logEmission: h.logEmission.slice(r0, r1) });
        const all = forwardBackward(toBatch(h));
        const a = forwardBackward(toBatch(part(0, c, 0, rowsA)));
        const b = forwardBackward(toBatch(part(c, h.lengths.length, rowsA, h.logEmission.length)));
        expectArrayRel(all.transitionCounts, all.transitionCounts.map((_, i) => a.transitionCounts[i]! + b.transitionCounts[i]!), 'transitionCounts');
        expectArrayRel(all.initialCounts, all.initialCounts.map((_, i) => a.initialCounts[i]! + b.initialCounts[i]!), 'initialCounts');
        expectArrayRel(all.gamma, [...a.gamma, ...b.gamma], 'gamma');
        expectRel(all.logLikelihood, a.logLikelihood + b.logLikelihood, 'logLikelihood');
      }),
      { numRuns: 50 },
    );
  });

  it('writes into caller buffers', () => {
    const h = fc.sample(hmmArbitrary(3, 5, 3), { numRuns: 1, seed: 3 })[0]!;
    const batch = toBatch(h);
    const rows = h.logEmission.length;
    const gamma = new Float64Array(rows * h.k).fill(Number.NaN);
    const logLikelihoods = new Float64Array(h.lengths.length).fill(Number.NaN);
    const r = forwardBackward(batch, { out: { gamma, logLikelihoods } });
    expect(r.gamma).toBe(gamma);
    expect(r.logLikelihoods).toBe(logLikelihoods);
    expect(Array.from(gamma)).toEqual(Array.from(forwardBackward(batch).gamma));
  });

  it('scaled and log agree on long sequences (T = 5000) where the unscaled recursion underflows', () => {
    const k = 4;
    const lengths = [5000, 3000, 1];
    const rows = lengths.reduce((a, b) => a + b, 0);
    const rng = createRng(11).child('long');
    const row = (): number[] => logNormalized(Array.from({ length: k }, () => (rng.uniform() < 0.2 ? 0 : 0.05 + rng.uniform())).map((v, i, a) => (a.every((x) => x === 0) && i === 0 ? 1 : v)));
    const h: Hmm = {
      k,
      lengths,
      logInitial: row(),
      logTransition: Array.from({ length: k }, row),
      logEmission: Array.from({ length: rows }, () => (rng.uniform() < 0.1 ? new Array<number>(k).fill(0) : Array.from({ length: k }, () => (rng.uniform() < 0.1 ? -Infinity : -3 * rng.uniform())))),
      weights: [1, 2.5, 0.5],
    };
    const batch = toBatch(h);
    validateChainBatch(batch);
    const scaled = forwardBackward(batch);
    const log = forwardBackward(batch, { variant: 'log' });
    const unscaled = forwardBackward(batch, { variant: 'unscaled' });
    expect(unscaled.logLikelihoods[0]).toBe(-Infinity);
    expect(Number.isFinite(scaled.logLikelihoods[0])).toBe(true);
    expect(scaled.logLikelihoods[0]!).toBeLessThan(-1000);
    expectArrayRel(log.logLikelihoods, scaled.logLikelihoods, 'logLikelihoods');
    expectRel(log.expectedLogJoint, scaled.expectedLogJoint, 'expectedLogJoint');
    expectArrayRel(log.gamma, scaled.gamma, 'gamma');
    expectArrayRel(log.transitionCounts, scaled.transitionCounts, 'transitionCounts');
    expectArrayRel(log.initialCounts, scaled.initialCounts, 'initialCounts');
    expectScaled(log.entropy, scaled.entropy, Math.abs(scaled.logLikelihood), 'entropy');
    for (const v of scaled.gamma) expect(Number.isNaN(v)).toBe(false);
    for (let t = 0; t < rows; t++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += scaled.gamma[t * k + j]!;
      expectRel(s, 1, `gamma row ${t} sum`, 1e-10);
    }
  });

  it('a state the chain cannot reach never sets the scale (left-to-right, emission spread > 745)', () => {
    // Only state 0 is reachable at t = 1 and state 2 only from t = 3, yet
    // state 2 has by far the largest emission before that: scaling by the
    // global row maximum would underflow every reachable term to 0.
    const h: Hmm = {
      k: 3,
      lengths: [5, 4],
      logInitial: [0, -Infinity, -Infinity],
      logTransition: [logNormalized([0.5, 0.5, 0]), logNormalized([0, 0.5, 0.5]), [-Infinity, -Infinity, 0]],
      logEmission: [
        [-900, -1000, 0],
        [-950, -800, 0],
        [-1000, -900, -5],
        [-3, -2, -1],
        [-1, -5, -2],
        [-1, -1000, 0],
        [-2, -100, 0],
        [-10, -50, 0],
        [-20, -2000, -1000],
      ],
      weights: [1, 3],
    };
    const ref = bruteForce(h);
    for (const variant of ['scaled', 'log'] as const) expectMatchesReference(h, forwardBackward(toBatch(h), { variant }), ref, variant);
  });

  it('the log variant keeps filtered probabilities below 1e-308 that the scaled one loses', () => {
    // p(z_2 = 1 | x_{1:2}) ≈ e^-898 underflows to 0 in the scaled filter, so
    // the path 0 → 1 → 2 → 2 is lost, though the last two steps lift its
    // posterior, and the smoothed p(z_2 = 1 | x) = p(z_3 = 2 | x), to ≈ 3e-21.
    const h: Hmm = {
      k: 3,
      lengths: [4],
      logInitial: [0, -Infinity, -Infinity],
      logTransition: [logNormalized([0.5, 0.5, 0]), logNormalized([0, 0.5, 0.5]), [-Infinity, -Infinity, 0]],
      logEmission: [[-1, -1000, 0], [-2, -900, 0], [-1000, -850, 0], [-2000, -2000, -1000]],
      weights: [1],
    };
    const ref = bruteForce(h);
    expectMatchesReference(h, forwardBackward(toBatch(h), { variant: 'log' }), ref, 'log');
    const scaled = forwardBackward(toBatch(h));
    expectScaled(scaled.logLikelihood, ref.logLikelihood, ref.scale, 'scaled logLikelihood');
    const lost = [1 * 3 + 1, 2 * 3 + 2]; // (second step, state 1) and (third step, state 2)
    const gammaRef = ref.sequences[0]!.gamma.flat();
    for (const i of lost) {
      expect(gammaRef[i]!).toBeGreaterThan(1e-21);
      expect(scaled.gamma[i]).toBe(0);
    }
    gammaRef.forEach((g, i) => {
      if (!lost.includes(i)) expectRel(scaled.gamma[i]!, g, `scaled gamma[${i}]`);
    });
  });

  it('a predictable state far likelier than the reachable mass rescues the step in log space', () => {
    // p(z_2 = 1) = 1e-290, and state 0 explains x_2 e^{-700} times worse than
    // state 1: the scaled mass is ~1e-290 < 1e-280, so the step is recomputed
    // around max_j l_2(j) + log p_2(j). Brute force and the log recursion agree.
    const tiny = 1e-290;
    const h: Hmm = {
      k: 2,
      lengths: [4],
      logInitial: [0, -Infinity],
      logTransition: [[Math.log1p(-tiny), Math.log(tiny)], [Math.log(0.3), Math.log(0.7)]],
      logEmission: [[-1, 0], [-700, 0], [-1, -2], [-0.5, -3]],
      weights: [2],
    };
    const ref = bruteForce(h);
    for (const variant of ['scaled', 'log'] as const) expectMatchesReference(h, forwardBackward(toBatch(h), { variant }), ref, variant);
  });
});

describe('impossible evidence', () => {
  const possible: Hmm = {
    k: 2,
    lengths: [3],
    logInitial: logNormalized([0.6, 0.4]),
    logTransition: [logNormalized([0.7, 0.3]), [-Infinity, 0]],
    logEmission: [[-1, -2], [0, 0], [-0.5, -3]],
    weights: [1.5],
  };
  const withImpossible = (w: number): Hmm => ({
    ...possible,
    // sequence 1: an all −∞ row; sequence 2: only state 1 then only state 0, but 1 → 0 is a structural zero.
    lengths: [3, 2, 2],
    logEmission: [...possible.logEmission, [-1, -1], [-Infinity, -Infinity], [-Infinity, -1], [-1, -Infinity]],
    weights: [1.5, w, w],
  });

  it('log p = −∞, zero gamma rows, no statistics, no NaN', () => {
    for (const variant of VARIANTS) {
      const base = forwardBackward(toBatch(possible), { variant });
      const r = forwardBackward(toBatch(withImpossible(2)), { variant });
      expect(Array.from(r.logLikelihoods.slice(1))).toEqual([-Infinity, -Infinity]);
      expect(Array.from(r.gamma.slice(6))).toEqual(new Array(8).fill(0));
      expect(Array.from(r.gamma.slice(0, 6))).toEqual(Array.from(base.gamma));
      expect(Array.from(r.transitionCounts)).toEqual(Array.from(base.transitionCounts));
      expect(Array.from(r.initialCounts)).toEqual(Array.from(base.initialCounts));
      expect(r.logLikelihood).toBe(-Infinity);
      expect(r.expectedLogJoint).toBe(-Infinity);
      expect(r.entropy).toBe(base.entropy);
      const zero = forwardBackward(toBatch(withImpossible(0)), { variant });
      expect(zero.logLikelihood).toBe(base.logLikelihood);
      expect(zero.expectedLogJoint).toBe(base.expectedLogJoint);
    }
    const v = viterbi(toBatch(withImpossible(2)));
    expect(Array.from(v.path.slice(3))).toEqual([-1, -1, -1, -1]);
    expect(Array.from(v.logJoints.slice(1))).toEqual([-Infinity, -Infinity]);
    expect(Array.from(v.gamma.slice(6))).toEqual(new Array(8).fill(0));
    const d = ffbs(toBatch(withImpossible(2)), createRng(1), 3);
    for (let p = 0; p < 3; p++) expect(Array.from(d.paths!.slice(p * 7 + 3, p * 7 + 7))).toEqual([-1, -1, -1, -1]);
    expect(Array.from(d.logJointMeans.slice(1))).toEqual([-Infinity, -Infinity]);
    expect(Array.from(d.logJointVariances.slice(1))).toEqual([0, 0]);
    expect(Array.from(d.stateFrequencies.slice(6))).toEqual(new Array(8).fill(0));
    expect(d.logJoint).toBe(-Infinity);
  });
});

// ---------------------------------------------------------------------------

/** Reverse-lexicographic order: compare z_T first, then z_{T−1}, ... */
const reverseLexLess = (a: readonly number[], b: readonly number[]): boolean => {
  for (let t = a.length - 1; t >= 0; t--) if (a[t] !== b[t]) return a[t]! < b[t]!;
  return false;
};

function checkViterbi(h: Hmm, exactTies: boolean): void {
  const batch = toBatch(h);
  const r = viterbi(batch);
  const k = h.k;
  const transitions = new Array<number>(k * k).fill(0);
  const initial = new Array<number>(k).fill(0);
  let total = 0;
  let row0 = 0;
  h.lengths.forEach((len, s) => {
    const ref = bruteForceSequence(h, row0, len);
    const best = Math.max(...ref.paths.map((p) => p.lj));
    const path = Array.from(r.path.slice(row0, row0 + len));
    const w = h.weights[s]!;
    if (best === -Infinity) {
      expect(path).toEqual(new Array(len).fill(-1));
      expect(r.logJoints[s]).toBe(-Infinity);
    } else {
      const scale = Math.max(...ref.paths.filter((p) => p.lj !== -Infinity).map((p) => pathLogJoint(h, row0, p.z).abs));
      const own = pathLogJoint(h, row0, path).lj;
      expectScaled(r.logJoints[s]!, best, scale, `logJoints[${s}]`);
      expectScaled(own, best, scale, `value of the returned path ${path.join(',')}`);
      if (exactTies) {
        let want = ref.paths.find((p) => p.lj === best)!.z;
        for (const p of ref.paths) if (p.lj === best && reverseLexLess(p.z, want)) want = p.z;
        expect(path).toEqual(want);
        expect(r.logJoints[s]).toBe(best);
      } else {
        // Robust to near-ties: the path must be the unique best unless another path is within the tolerance.
        const near = ref.paths.filter((p) => p.lj >= best - 4 * REL * scale);
        if (near.length === 1) expect(path).toEqual(near[0]!.z);
        else expect(near.some((p) => p.z.every((z, t) => z === path[t]))).toBe(true);
      }
      if (w !== 0) total += w * r.logJoints[s]!;
      initial[path[0]!]! += w;
      for (let t = 1; t < len; t++) transitions[path[t - 1]! * k + path[t]!]! += w;
      for (let t = 0; t < len; t++) for (let j = 0; j < k; j++) expect(r.gamma[(row0 + t) * k + j]).toBe(j === path[t] ? 1 : 0);
    }
    if (best === -Infinity && w !== 0) total = -Infinity;
    row0 += len;
  });
  expect(r.logJoint).toBe(total);
  expectArrayRel(r.transitionCounts, transitions, 'transitionCounts');
  expectArrayRel(r.initialCounts, initial, 'initialCounts');
}

describe('viterbi against brute-force enumeration', () => {
  it('path, value and hard statistics on random HMMs (near-ties tolerated)', () => {
    fc.assert(fc.property(hmmArbitrary(), (h) => checkViterbi(h, false)), RUNS);
  });

  it('exact ties go to the reverse-lexicographically smallest path (lowest index at each comparison)', () => {
    // Log-terms on a grid of 1/2 in [−3, 0] (and −∞): every path sum is exact,
    // so ties are exact and frequent. Viterbi needs no normalized rows.
    const grid = fc.oneof({ weight: 1, arbitrary: fc.constant(-Infinity) }, { weight: 6, arbitrary: fc.integer({ min: -6, max: 0 }).map((v) => v / 2) });
    const arb = fc
      .record({ k: fc.integer({ min: 1, max: 4 }), lengths: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }) })
      .chain(({ k, lengths }) => {
        const rows = lengths.reduce((a, b) => a + b, 0);
        const vec = (n: number) => fc.array(grid, { minLength: n, maxLength: n });
        return fc.record({
          k: fc.constant(k),
          lengths: fc.constant(lengths),
          logInitial: vec(k),
          logTransition: fc.array(vec(k), { minLength: k, maxLength: k }),
          logEmission: fc.array(vec(k), { minLength: rows, maxLength: rows }),
          weights: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: lengths.length, maxLength: lengths.length }),
        });
      });
    fc.assert(fc.property(arb, (h) => checkViterbi(h, true)), RUNS);
    // All paths tie: the answer is state 0 throughout.
    const flat: Hmm = { k: 3, lengths: [4], logInitial: logNormalized([1, 1, 1]), logTransition: Array.from({ length: 3 }, () => logNormalized([1, 1, 1])), logEmission: Array.from({ length: 4 }, () => [0, 0, 0]), weights: [1] };
    expect(Array.from(viterbi(toBatch(flat)).path)).toEqual([0, 0, 0, 0]);
  });

  it('writes into caller buffers', () => {
    const h = fc.sample(hmmArbitrary(3, 5, 3), { numRuns: 1, seed: 5 })[0]!;
    const rows = h.logEmission.length;
    const path = new Int32Array(rows).fill(7);
    const gamma = new Float64Array(rows * h.k).fill(Number.NaN);
    const r = viterbi(toBatch(h), { out: { path, gamma } });
    expect(r.path).toBe(path);
    expect(r.gamma).toBe(gamma);
    expect(Array.from(path)).toEqual(Array.from(viterbi(toBatch(h)).path));
    expect(Array.from(gamma)).toEqual(Array.from(viterbi(toBatch(h)).gamma));
  });
});

// ---------------------------------------------------------------------------

describe('ffbs', () => {
  /** A seeded HMM with structural zeros, −∞ emissions and missing steps, every sequence possible. */
  const seededHmm = (seed: number, k: number, lengths: number[], weights: number[]): Hmm => {
    const rng = createRng(seed).child('ffbs-hmm');
    const row = (zeroRate: number): number[] => {
      const p = Array.from({ length: k }, () => (rng.uniform() < zeroRate ? 0 : 0.1 + rng.uniform()));
      if (!p.some((v) => v > 0)) p[rng.int(k)] = 1;
      return logNormalized(p);
    };
    const rows = lengths.reduce((a, b) => a + b, 0);
    const h: Hmm = {
      k,
      lengths,
      logInitial: row(0.25),
      logTransition: Array.from({ length: k }, () => row(0.25)),
      logEmission: Array.from({ length: rows }, () => (rng.uniform() < 0.1 ? new Array<number>(k).fill(0) : Array.from({ length: k }, () => (rng.uniform() < 0.15 ? -Infinity : -4 * rng.uniform())))),
      weights,
    };
    return forwardBackward(toBatch(h)).logLikelihoods.every(Number.isFinite) ? h : seededHmm(seed + 1000, k, lengths, weights);
  };
  const fixed = [seededHmm(1, 3, [7, 1, 5, 4], [1, 2, 0.5, 1.5]), seededHmm(2, 4, [6, 6], [1, 1]), seededHmm(3, 2, [10], [3])];
  const N_PATHS = 4000;

  it('draws match the exact marginals, transition and initial counts within 4 standard errors', () => {
    fixed.forEach((h, c) => {
      const batch = toBatch(h);
      const fb = forwardBackward(batch);
      const d = ffbs(batch, createRng(c).child('ffbs-test'), N_PATHS);
      const { k } = h;
      const rows = h.logEmission.length;
      const nSeq = h.lengths.length;
      expectArrayRel(d.logLikelihoods, fb.logLikelihoods, 'logLikelihoods');
      expectRel(d.logLikelihood, fb.logLikelihood, 'logLikelihood');
      // Marginals: Bernoulli standard errors; a marginal of 0 or 1 must be matched exactly.
      for (let i = 0; i < rows * k; i++) {
        const g = fb.gamma[i]!;
        const f = d.stateFrequencies[i]!;
        const se = Math.sqrt((g * (1 - g)) / N_PATHS);
        if (g === 0) expect(f).toBe(0);
        else if (Math.abs(f - g) > 4 * se + 1e-12) expect.fail(`case ${c}: stateFrequencies[${i}] = ${f} vs gamma ${g} (se ${se})`);
      }
      // Per-draw weighted counts from the paths, their mean and standard error.
      const perDraw = Array.from({ length: N_PATHS }, () => new Float64Array(k * k + k));
      const ljMean = new Float64Array(nSeq);
      for (let p = 0; p < N_PATHS; p++) {
        let row0 = 0;
        h.lengths.forEach((len, s) => {
          const w = h.weights[s]!;
          const z = Array.from(d.paths!.slice(p * rows + row0, p * rows + row0 + len));
          if (z[0] === -1) {
            if (fb.logLikelihoods[s] !== -Infinity) expect.fail(`case ${c}: path of a possible sequence ${s} is -1`);
          } else {
            for (let t = 0; t < len; t++) if (!(d.stateFrequencies[(row0 + t) * k + z[t]!]! > 0)) expect.fail(`case ${c}: drawn state without frequency`);
            perDraw[p]![k * k + z[0]!]! += w;
            for (let t = 1; t < len; t++) perDraw[p]![z[t - 1]! * k + z[t]!]! += w;
            // Each draw's log joint, recomputed from the path.
            expectRel(d.logJoints[p * nSeq + s]!, pathLogJoint(h, row0, z).lj, `logJoints[${p}, ${s}]`);
            ljMean[s]! += d.logJoints[p * nSeq + s]! / N_PATHS;
          }
          row0 += len;
        });
      }
      const exact = [...fb.transitionCounts, ...fb.initialCounts];
      const reported = [...d.transitionCounts, ...d.initialCounts];
      for (let i = 0; i < exact.length; i++) {
        const mean = perDraw.reduce((a, v) => a + v[i]!, 0) / N_PATHS;
        const variance = perDraw.reduce((a, v) => a + (v[i]! - mean) ** 2, 0) / (N_PATHS - 1);
        const se = Math.sqrt(variance / N_PATHS);
        expectScaled(reported[i]!, mean, 1 + Math.abs(mean), `reported count ${i} vs the paths`);
        if (exact[i] === 0) expect(reported[i]).toBe(0);
        else if (Math.abs(reported[i]! - exact[i]!) > 4 * se + 1e-12) expect.fail(`case ${c}: count ${i} = ${reported[i]} vs exact ${exact[i]} (se ${se})`);
      }
      // Mean log joint against E_q log p per sequence, with the reported variances.
      let eljFromMeans = 0;
      let row0 = 0;
      for (let s = 0; s < nSeq; s++) {
        const w = h.weights[s]!;
        const len = h.lengths[s]!;
        const single = forwardBackward(toBatch({ ...h, lengths: [len], weights: [1], logEmission: h.logEmission.slice(row0, row0 + len) }));
        row0 += len;
        if (w !== 0) eljFromMeans += w * d.logJointMeans[s]!;
        if (fb.logLikelihoods[s] === -Infinity) continue;
        expectScaled(d.logJointMeans[s]!, ljMean[s]!, Math.abs(ljMean[s]!), `logJointMeans[${s}]`, 1e-10);
        let ss = 0;
        for (let p = 0; p < N_PATHS; p++) ss += (d.logJoints[p * nSeq + s]! - ljMean[s]!) ** 2;
        expectScaled(d.logJointVariances[s]!, ss / (N_PATHS - 1), 1 + ss / (N_PATHS - 1), `logJointVariances[${s}]`, 1e-9);
        const se = Math.sqrt(d.logJointVariances[s]! / N_PATHS);
        if (Math.abs(d.logJointMeans[s]! - single.expectedLogJoint) > 4 * se + 1e-9) expect.fail(`case ${c}: mean log joint ${d.logJointMeans[s]} vs E_q ${single.expectedLogJoint} (se ${se})`);
      }
      expectScaled(d.logJoint, eljFromMeans, Math.abs(eljFromMeans), 'logJoint');
    });
  });

  it('the same seed gives the same draws; draws do not depend on how sequences are batched', () => {
    for (const h of fixed) {
      const batch = toBatch(h);
      const a = ffbs(batch, createRng(5), 20);
      const b = ffbs(batch, createRng(5), 20);
      expect(Array.from(a.paths!)).toEqual(Array.from(b.paths!));
      expect(Array.from(a.logJoints)).toEqual(Array.from(b.logJoints));
      const c = ffbs(batch, createRng(6), 20);
      expect(Array.from(c.paths!)).not.toEqual(Array.from(a.paths!));
      // One batch per sequence, with global offsets.
      const rows = h.logEmission.length;
      const nSeq = h.lengths.length;
      let row0 = 0;
      h.lengths.forEach((len, s) => {
        const single: Hmm = { ...h, lengths: [len], weights: [h.weights[s]!], logEmission: h.logEmission.slice(row0, row0 + len) };
        const one = ffbs(toBatch(single), createRng(5), 20, { sequenceOffset: s });
        for (let p = 0; p < 20; p++) {
          expect(Array.from(one.paths!.slice(p * len, (p + 1) * len))).toEqual(Array.from(a.paths!.slice(p * rows + row0, p * rows + row0 + len)));
          expect(one.logJoints[p]).toBe(a.logJoints[p * nSeq + s]);
        }
        row0 += len;
      });
    }
  });

  it('keepPaths: false and caller buffers give the same statistics; one path has NaN variance', () => {
    const h = fixed[0]!;
    const batch = toBatch(h);
    const rows = h.logEmission.length;
    const a = ffbs(batch, createRng(9), 50);
    const stateFrequencies = new Float64Array(rows * h.k).fill(Number.NaN);
    const b = ffbs(batch, createRng(9), 50, { keepPaths: false, out: { stateFrequencies } });
    expect(b.paths).toBeNull();
    expect(b.stateFrequencies).toBe(stateFrequencies);
    expect(Array.from(b.stateFrequencies)).toEqual(Array.from(a.stateFrequencies));
    expect(Array.from(b.transitionCounts)).toEqual(Array.from(a.transitionCounts));
    expect(Array.from(b.logJoints)).toEqual(Array.from(a.logJoints));
    const paths = new Int32Array(50 * rows);
    expect(ffbs(batch, createRng(9), 50, { out: { paths } }).paths).toBe(paths);
    expect(Array.from(paths)).toEqual(Array.from(a.paths!));
    const one = ffbs(batch, createRng(9), 1);
    for (let s = 0; s < h.lengths.length; s++) if (Number.isFinite(one.logLikelihoods[s])) expect(one.logJointVariances[s]).toBeNaN();
  });
});

// ---------------------------------------------------------------------------

describe('bad inputs raise typed errors naming the field', () => {
  const good = (): ChainBatch => ({
    nStates: 2,
    lengths: Int32Array.of(2, 1),
    logEmission: Float64Array.of(-1, -2, 0, 0, -0.5, -Infinity),
    logInitial: Float64Array.from(logNormalized([0.3, 0.7])),
    logTransition: Float64Array.from([...logNormalized([0.9, 0.1]), -Infinity, 0]),
    weights: Float64Array.of(1, 2),
  });
  const expectError = (f: () => unknown, path: readonly (string | number)[]): void => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(EmError);
      expect((e as EmError).code).toBe('INVALID_ARGUMENT');
      expect((e as EmError).path).toEqual(path);
      expect((e as EmError).message).toContain('Remedy:');
      return;
    }
    expect.fail(`no error for ${path.join('.')}`);
  };
  const kernels: [string, (b: ChainBatch) => unknown][] = [
    ['validateChainBatch', (b) => validateChainBatch(b)],
    ['forwardBackward', (b) => forwardBackward(b)],
    ['viterbi', (b) => viterbi(b)],
    ['ffbs', (b) => ffbs(b, createRng(0), 2)],
  ];

  it('accepts the good batch', () => {
    expect(validateChainBatch(good())).toEqual({ nStates: 2, nSequences: 2, nRows: 3, maxLength: 2 });
    for (const [, f] of kernels) f(good());
  });

  it('shape errors, from validateChainBatch and from every kernel', () => {
    const cases: [string, ChainBatch, (string | number)[]][] = [
      ['lengths not summing to the rows', { ...good(), lengths: Int32Array.of(1, 1) }, ['batch', 'lengths']],
      ['a length < 1', { ...good(), lengths: Int32Array.of(3, 0) }, ['batch', 'lengths', 1]],
      ['lengths not an Int32Array', { ...good(), lengths: [2, 1] as unknown as Int32Array }, ['batch', 'lengths']],
      ['logEmission not a multiple of K', { ...good(), logEmission: new Float64Array(5) }, ['batch', 'logEmission']],
      ['K mismatch with logInitial', { ...good(), nStates: 3, logEmission: new Float64Array(9) }, ['batch', 'logInitial']],
      ['K mismatch with logTransition', { ...good(), logTransition: new Float64Array(3) }, ['batch', 'logTransition']],
      ['nStates not a positive integer', { ...good(), nStates: 0 }, ['batch', 'nStates']],
      ['weights of the wrong length', { ...good(), weights: Float64Array.of(1) }, ['batch', 'weights']],
      ['logInitial not a Float64Array', { ...good(), logInitial: new Float32Array(2) as unknown as Float64Array }, ['batch', 'logInitial']],
    ];
    for (const [, batch, path] of cases) for (const [, f] of kernels) expectError(() => f(batch), path);
  });

  it('value errors from validateChainBatch', () => {
    const with_ = (field: 'logEmission' | 'logInitial' | 'logTransition' | 'weights', i: number, v: number): ChainBatch => {
      const b = good();
      const a = Float64Array.from(b[field]!);
      a[i] = v;
      return { ...b, [field]: a };
    };
    expectError(() => validateChainBatch(with_('logEmission', 3, Number.NaN)), ['batch', 'logEmission', 1, 1]);
    expectError(() => validateChainBatch(with_('logEmission', 4, Infinity)), ['batch', 'logEmission', 2, 0]);
    expectError(() => validateChainBatch(with_('logTransition', 1, Math.log(0.1 + 2e-9))), ['batch', 'logTransition', 0]);
    expectError(() => validateChainBatch(with_('logTransition', 2, Math.log(1e-6))), ['batch', 'logTransition', 1]);
    expectError(() => validateChainBatch(with_('logTransition', 3, Number.NaN)), ['batch', 'logTransition', 1, 1]);
    expectError(() => validateChainBatch(with_('logInitial', 0, Math.log(0.31))), ['batch', 'logInitial']);
    expectError(() => validateChainBatch(with_('logInitial', 1, Number.NaN)), ['batch', 'logInitial', 1]);
    expectError(() => validateChainBatch(with_('weights', 1, -1)), ['batch', 'weights', 1]);
    expectError(() => validateChainBatch(with_('weights', 0, Infinity)), ['batch', 'weights', 0]);
    // Within 1e-9 passes; K = 1 transition row [0] passes.
    validateChainBatch(with_('logTransition', 1, Math.log(0.1 + 5e-10)));
    validateChainBatch({ nStates: 1, lengths: Int32Array.of(1), logEmission: Float64Array.of(0), logInitial: Float64Array.of(0), logTransition: Float64Array.of(0) });
    expectError(() => validateChainBatch({ nStates: 1, lengths: Int32Array.of(1), logEmission: Float64Array.of(0), logInitial: Float64Array.of(0), logTransition: Float64Array.of(-1) }), ['batch', 'logTransition', 0]);
  });

  it('option errors', () => {
    expectError(() => forwardBackward(good(), { variant: 'fast' as 'log' }), ['options', 'variant']);
    expectError(() => forwardBackward(good(), { out: { gamma: new Float64Array(5) } }), ['options', 'out', 'gamma']);
    expectError(() => viterbi(good(), { out: { path: new Int32Array(2) } }), ['options', 'out', 'path']);
    expectError(() => ffbs(good(), createRng(0), 0), ['nPaths']);
    expectError(() => ffbs(good(), createRng(0), 1.5), ['nPaths']);
    expectError(() => ffbs(good(), createRng(0), 2, { sequenceOffset: -1 }), ['options', 'sequenceOffset']);
    expectError(() => ffbs(good(), createRng(0), 2, { out: { stateFrequencies: new Float64Array(1) } }), ['options', 'out', 'stateFrequencies']);
    expectError(() => ffbs(good(), undefined as unknown as ReturnType<typeof createRng>, 2), ['rng']);
  });
});
