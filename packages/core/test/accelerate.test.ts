/**
 * EM accelerators over a generic fixed-point map: linear contractions with a
 * known fixed point, the genetic-linkage EM of Dempster, Laird & Rubin (1977),
 * a slow two-component normal mixture, maps that reject extrapolated points,
 * and the bookkeeping every accelerator promises (exact map-call counts,
 * evaluations that really are the map at the returned point, the safeguard).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { emError, EmError } from '../src/errors.js';
import { createRng } from '../src/rng.js';
import type { Accelerator, AcceleratorStep } from '../src/accelerate/accelerator.js';
import type { EmMap, EmMapResult } from '../src/accelerate/em-map.js';
import { isInvalidPoint } from '../src/accelerate/em-map.js';
import { plainEm } from '../src/accelerate/plain-em.js';
import { squarem } from '../src/accelerate/squarem.js';
import { aitken } from '../src/accelerate/aitken.js';
import { parabolicEm } from '../src/accelerate/parabolic-em.js';
import { quasiNewton } from '../src/accelerate/quasi-newton.js';
import { ACCELERATOR_NAMES, createAccelerator } from '../src/accelerate/create-accelerator.js';
import { leastSquares } from '../src/accelerate/least-squares.js';

// ---------------------------------------------------------------------------
// A driver that checks every promise of the Accelerator contract at every step.
// ---------------------------------------------------------------------------

interface Run {
  final: AcceleratorStep;
  /** Map calls, counted outside the accelerator. */
  calls: number;
  steps: number;
  accepted: number;
  rejected: number;
  /** Points returned, in order (start included). */
  path: Float64Array[];
  /** Broken promises, as messages (expected empty). */
  violations: string[];
}

interface RunOptions {
  done: (s: AcceleratorStep) => boolean;
  maxCalls: number;
  /** Allowed decrease of ℓ between returned points (EM maps are monotone up to rounding). */
  monotoneSlack?: (ll: number) => number;
  maxSteps?: number;
}

const roundoff = (ll: number): number => 64 * Number.EPSILON * Math.max(1, Math.abs(ll));

async function run(acc: Accelerator, rawMap: EmMap, theta0: Float64Array, o: RunOptions): Promise<Run> {
  let counted = 0;
  const map: EmMap = (t) => {
    counted++;
    return rawMap(t);
  };
  const violations: string[] = [];
  const check = async (s: AcceleratorStep, before: number, prev: AcceleratorStep | null, step: number): Promise<void> => {
    const where = `${acc.name} step ${step}`;
    if (s.mapCalls !== counted - before) violations.push(`${where}: mapCalls ${s.mapCalls} but the map was called ${counted - before} times`);
    if (s.logLikelihood !== s.evaluation.logLikelihood) violations.push(`${where}: logLikelihood differs from evaluation`);
    if (!s.theta.every(Number.isFinite)) violations.push(`${where}: non-finite theta`);
    if (s.accepted && !s.extrapolated) violations.push(`${where}: accepted without extrapolation`);
    if ((s.rejection !== undefined) !== (s.extrapolated && !s.accepted)) violations.push(`${where}: rejection ${s.rejection} inconsistent`);
    if (prev !== null && s.mapCalls > 0 && !(s.logLikelihood >= s.emLogLikelihood)) {
      violations.push(`${where}: returned ℓ ${s.logLikelihood} below the plain EM step's ${s.emLogLikelihood}`);
    }
    if (prev !== null && o.monotoneSlack !== undefined && s.logLikelihood < prev.logLikelihood - o.monotoneSlack(prev.logLikelihood)) {
      violations.push(`${where}: ℓ decreased from ${prev.logLikelihood} to ${s.logLikelihood}`);
    }
    // The state's evaluation must be the map at the state's point (it is reused as the next first call).
    const fresh = await rawMap(s.theta);
    if (isInvalidPoint(fresh)) violations.push(`${where}: returned a point the map calls invalid`);
    else if (fresh.logLikelihood !== s.evaluation.logLikelihood || fresh.next.some((v, i) => v !== s.evaluation.next[i])) {
      violations.push(`${where}: state's evaluation is not the map at its point`);
    }
  };
  let s = await acc.start(theta0, map);
  await check(s, 0, null, 0);
  const path = [s.theta];
  let steps = 0;
  let accepted = 0;
  let rejected = 0;
  while (!o.done(s) && counted < o.maxCalls && steps < (o.maxSteps ?? Infinity)) {
    const before = counted;
    const prev = s;
    s = await acc.step(s, map);
    steps++;
    await check(s, before, prev, steps);
    if (s.accepted) accepted++;
    if (s.rejection !== undefined) rejected++;
    path.push(s.theta);
  }
  return { final: s, calls: counted, steps, accepted, rejected, path, violations };
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** Every scheme with its defaults, plus the SQUAREM step-length variants. */
function schemes(): Accelerator[] {
  return [
    squarem({ method: 'S1' }),
    squarem({ method: 'S2' }),
    squarem({ method: 'S3' }),
    aitken(),
    parabolicEm(),
    quasiNewton(),
  ];
}
const label = (a: Accelerator): string => (a.name === 'squarem' ? `squarem-${String(a.options.method)}` : a.name);

// ---------------------------------------------------------------------------
// Linear contractions F(θ) = Aθ + b, A = Q diag(λ) Qᵀ, fixed point θ*.
// ---------------------------------------------------------------------------

/** Orthonormal columns by Gram–Schmidt on Gaussian vectors. */
function randomOrthogonal(p: number, rng: ReturnType<typeof createRng>): Float64Array[] {
  const Q: Float64Array[] = [];
  while (Q.length < p) {
    const v = Float64Array.from({ length: p }, () => rng.normal());
    for (const q of Q) {
      let d = 0;
      for (let i = 0; i < p; i++) d += q[i]! * v[i]!;
      for (let i = 0; i < p; i++) v[i] = v[i]! - d * q[i]!;
    }
    const n = Math.hypot(...v);
    if (n > 1e-8) Q.push(v.map((x) => x / n));
  }
  return Q;
}

interface Linear {
  map: EmMap;
  star: Float64Array;
  start: Float64Array;
}

/**
 * F(θ) = θ* + A(θ − θ*) written as Aθ + b, with ℓ(θ) = −½‖θ − θ*‖²
 * (A symmetric with eigenvalues in [0, 1), so ℓ never decreases under F).
 */
function linearContraction(eigenvalues: readonly number[], seed: number): Linear {
  const p = eigenvalues.length;
  const rng = createRng(seed).child('linear-contraction');
  const Q = randomOrthogonal(p, rng);
  const A = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let k = 0; k < p; k++) s += Q[k]![i]! * eigenvalues[k]! * Q[k]![j]!;
      A[i * p + j] = s;
    }
  }
  const star = Float64Array.from({ length: p }, () => rng.normal());
  const b = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = star[i]!;
    for (let j = 0; j < p; j++) s -= A[i * p + j]! * star[j]!;
    b[i] = s;
  }
  const map: EmMap = (t) => {
    const next = new Float64Array(p);
    let ll = 0;
    for (let i = 0; i < p; i++) {
      let s = b[i]!;
      for (let j = 0; j < p; j++) s += A[i * p + j]! * t[j]!;
      next[i] = s;
      ll -= 0.5 * (t[i]! - star[i]!) ** 2;
    }
    return { next, logLikelihood: ll };
  };
  const start = Float64Array.from(star, (x) => x + rng.normal());
  return { map, star, start };
}

/** One slow direction (as when one parameter carries most of the missing information). */
const ONE_SLOW = [1, 0.5, 0.4, 0.3, 0.2, 0.1];
/** Three slow directions: ρ, 0.97ρ, 0.9ρ. */
const THREE_SLOW = [1, 0.97, 0.9, 0.7, 0.4, 0.1];

describe('linear contractions: every scheme reaches the fixed point to 1e-10 with fewer map calls', () => {
  const table: string[] = [];
  for (const [spectrumName, shape] of [
    ['one slow direction', ONE_SLOW],
    ['three slow directions', THREE_SLOW],
  ] as const) {
    for (const rho of [0.9, 0.99, 0.999]) {
      it(`${spectrumName}, spectral radius ${rho}`, async () => {
        const { map, star, start } = linearContraction(
          shape.map((f) => f * rho),
          7,
        );
        const done = (s: AcceleratorStep): boolean => maxAbs(s.theta, star) <= 1e-10;
        const plain = await run(plainEm(), map, start, { done, maxCalls: 100_000, monotoneSlack: roundoff });
        expect(plain.violations).toEqual([]);
        expect(maxAbs(plain.final.theta, star)).toBeLessThanOrEqual(1e-10);
        const row = [`${spectrumName}, ρ = ${rho}: em ${plain.calls}`];
        const accs = [...schemes(), quasiNewton({ q: 4 })];
        for (const acc of accs) {
          const r = await run(acc, map, start, { done, maxCalls: plain.calls, monotoneSlack: roundoff });
          const name = acc.name === 'quasi-newton' ? `quasi-newton-q${String(acc.options.q)}` : label(acc);
          row.push(`${name} ${r.calls}`);
          expect(r.violations, name).toEqual([]);
          expect(maxAbs(r.final.theta, star), name).toBeLessThanOrEqual(1e-10);
          expect(r.calls, name).toBeLessThan(plain.calls);
          if (rho >= 0.99) expect(r.calls * 2, name).toBeLessThanOrEqual(plain.calls);
          if (rho === 0.999) {
            const tenfold = acc.name === 'squarem' || (acc.name === 'quasi-newton' && (spectrumName === 'one slow direction' || acc.options.q === 4));
            if (tenfold) expect(r.calls * 10, name).toBeLessThanOrEqual(plain.calls);
          }
        }
        table.push(row.join(', '));
        console.info(`map calls to reach θ* within 1e-10 — ${row.join(', ')}`);
      });
    }
  }
});

describe('SQUAREM step-length bounds (step.min0, step.max0, mstep as in squarem1)', () => {
  it('stepMax grows by mstep while α hits it, and the 1-D linear map is solved exactly once α = 1/(1 − ρ) fits', async () => {
    const rho = 0.99;
    const map: EmMap = (t) => ({ next: Float64Array.of(rho * t[0]!), logLikelihood: -0.5 * t[0]! ** 2 });
    const acc = squarem();
    let s = await acc.start(Float64Array.of(1), map);
    const lengths: (number | undefined)[] = [];
    const bounds: number[] = [];
    for (let i = 0; i < 5; i++) {
      s = await acc.step(s, map);
      lengths.push(s.stepLength);
      bounds.push(s.memory.stepMax);
    }
    // α = 1 (clipped at step.max0 = 1), 4, 16, 64, then the raw 1/(1 − ρ) = 100 < 256.
    expect(lengths.slice(0, 4)).toEqual([1, 4, 16, 64]);
    expect(lengths[4]).toBeCloseTo(1 / (1 - rho), 8);
    expect(bounds).toEqual([4, 16, 64, 256, 256]);
    // θ + 2αr + α²v with α = 1/(1 − ρ) is the fixed point 0 of a 1-D linear map.
    expect(Math.abs(s.theta[0]!)).toBeLessThan(1e-12);
  });

  it('a rejection at α = stepMax divides stepMax by mstep (not below step.max0), then α := 1 regrows it as squarem1 does', async () => {
    const rho = 0.99;
    const plain: EmMap = (t) => ({ next: Float64Array.of(rho * t[0]!), logLikelihood: -0.5 * t[0]! ** 2 });
    const acc = squarem({ mstep: 4 });
    const onPath = (t: Float64Array): boolean => Math.abs(Math.log(Math.abs(t[0]!)) / Math.log(rho) - Math.round(Math.log(Math.abs(t[0]!)) / Math.log(rho))) < 1e-9;
    const guarded: EmMap = (t) => (onPath(t) ? plain(t) : { invalid: true, reason: 'off the EM path' });
    let s = await acc.start(Float64Array.of(1), guarded);
    s = await acc.step(s, guarded);
    expect(s.memory.stepMax).toBe(4);
    s = await acc.step(s, guarded);
    expect([s.stepLength, s.extrapolated, s.accepted, s.rejection]).toEqual([4, true, false, 'invalid']);
    // max(step.max0 = 1, 4/4) = 1, then α := 1 = stepMax multiplies it by 4 again.
    expect(s.memory.stepMax).toBe(4);
    // Fallback: two plain EM steps.
    expect(s.theta[0]).toBeCloseTo(rho ** 4, 14);
  });

  it('S1 on an oscillating map: α = 2/3 solves F(θ) = −θ/2 in one step and leaves the bounds alone', async () => {
    // r = −1.5θ, v = 2.25θ, α = −rᵀv/vᵀv = 2/3 and θ + 2αr + α²v = (1 − 1.5α)²θ = 0.
    const map: EmMap = (t) => ({ next: Float64Array.of(-0.5 * t[0]!), logLikelihood: -0.5 * t[0]! ** 2 });
    const acc = squarem({ method: 'S1', stepMin0: -1, stepMax0: 1 });
    let s = await acc.start(Float64Array.of(1), map);
    s = await acc.step(s, map);
    expect(s.stepLength).toBeCloseTo(2 / 3, 14);
    expect(Math.abs(s.theta[0]!)).toBeLessThan(1e-14);
    expect(s.memory).toEqual({ stepMin: -1, stepMax: 1 });
  });

  it('a negative stepMin grows by mstep when α hits it (S1 on F(θ) = 2θ, raw α = −1)', async () => {
    const map: EmMap = (t) => ({ next: Float64Array.of(2 * t[0]!), logLikelihood: -0.5 * t[0]! ** 2 });
    const acc = squarem({ method: 'S1', stepMin0: -1, stepMax0: 1 });
    let s = await acc.start(Float64Array.of(1), map);
    s = await acc.step(s, map);
    expect(s.stepLength).toBe(-1);
    expect([s.extrapolated, s.accepted]).toEqual([true, true]);
    expect(s.theta[0]).toBe(0);
    expect(s.memory).toEqual({ stepMin: -4, stepMax: 1 });
  });

  it('stabilize: false judges the extrapolated point itself (two map calls per accepted step)', async () => {
    const { map, star, start } = linearContraction(ONE_SLOW.map((f) => f * 0.99), 3);
    const r = await run(squarem({ stabilize: false }), map, start, { done: (s) => maxAbs(s.theta, star) <= 1e-10, maxCalls: 5000, monotoneSlack: roundoff });
    expect(r.violations).toEqual([]);
    expect(maxAbs(r.final.theta, star)).toBeLessThanOrEqual(1e-10);
  });
});

// ---------------------------------------------------------------------------
// Genetic linkage (Dempster, Laird & Rubin 1977, §1).
// ---------------------------------------------------------------------------

describe('genetic linkage EM (DLR 1977): counts (125, 18, 20, 34)', () => {
  const y = [125, 18, 20, 34] as const;
  const sigmoid = (t: number): number => 1 / (1 + Math.exp(-t));
  /** Cell probabilities (1/2 + π/4, (1 − π)/4, (1 − π)/4, π/4); y₁ splits into 1/2 and π/4. θ = logit π. */
  const map: EmMap = (t) => {
    const pi = sigmoid(t[0]!);
    const x2 = (y[0] * (pi / 4)) / (0.5 + pi / 4);
    const next = (x2 + y[3]) / (x2 + y[1] + y[2] + y[3]);
    const logLikelihood = y[0] * Math.log(0.5 + pi / 4) + (y[1] + y[2]) * Math.log((1 - pi) / 4) + y[3] * Math.log(pi / 4);
    return { next: Float64Array.of(Math.log(next / (1 - next))), logLikelihood };
  };
  /** The MLE as the root of the score y₁/(2 + π) − (y₂ + y₃)/(1 − π) + y₄/π (decreasing on (0, 1)), by bisection. */
  const mle = (() => {
    const score = (p: number): number => y[0] / (2 + p) - (y[1] + y[2]) / (1 - p) + y[3] / p;
    let lo = 1e-12;
    let hi = 1 - 1e-12;
    for (let i = 0; i < 200 && hi - lo > 0; i++) {
      const mid = 0.5 * (lo + hi);
      if (mid === lo || mid === hi) break;
      if (score(mid) > 0) lo = mid;
      else hi = mid;
    }
    return 0.5 * (lo + hi);
  })();
  const start = Float64Array.of(0); // π = 0.5

  it('the bisection root is a root of the score (sanity of the reference)', () => {
    const score = (p: number): number => y[0] / (2 + p) - (y[1] + y[2]) / (1 - p) + y[3] / p;
    expect(score(mle - 1e-9)).toBeGreaterThan(0);
    expect(score(mle + 1e-9)).toBeLessThan(0);
  });

  it('plain EM and every scheme reach the MLE to 1e-10 in π', async () => {
    const done = (s: AcceleratorStep): boolean => Math.abs(sigmoid(s.theta[0]!) - mle) <= 1e-10;
    const row: string[] = [];
    for (const acc of [plainEm(), ...schemes()]) {
      const r = await run(acc, map, start, { done, maxCalls: 1000, monotoneSlack: roundoff });
      expect(r.violations, label(acc)).toEqual([]);
      expect(Math.abs(sigmoid(r.final.theta[0]!) - mle), label(acc)).toBeLessThanOrEqual(1e-10);
      row.push(`${label(acc)} ${r.calls}`);
    }
    console.info(`genetic linkage, map calls to |π − π̂| ≤ 1e-10 (π̂ = ${mle.toFixed(10)}): ${row.join(', ')}`);
  });
});

// ---------------------------------------------------------------------------
// A slow two-component normal mixture (equal variances, heavy overlap).
// ---------------------------------------------------------------------------

/**
 * EM map of π N(μ₁, σ²) + (1 − π) N(μ₂, σ²) in θ = (logit π, μ₁, μ₂, log σ), float64, two passes.
 * Non-finite output (e.g. an empty component at an extrapolated point) is left to the accelerator.
 */
function mixtureMap(xs: Float64Array): EmMap {
  const n = xs.length;
  const r = new Float64Array(n);
  const c = 0.5 * Math.log(2 * Math.PI);
  return (t) => {
    const lw1 = -Math.log1p(Math.exp(-t[0]!));
    const lw2 = -Math.log1p(Math.exp(t[0]!));
    const [m1, m2, ls] = [t[1]!, t[2]!, t[3]!];
    const s = Math.exp(ls);
    let ll = 0;
    let n1 = 0;
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = xs[i]!;
      const a = lw1 - c - ls - 0.5 * ((x - m1) / s) ** 2;
      const b = lw2 - c - ls - 0.5 * ((x - m2) / s) ** 2;
      const m = Math.max(a, b);
      const lse = m + Math.log(Math.exp(a - m) + Math.exp(b - m));
      ll += lse;
      const ri = Math.exp(a - lse);
      r[i] = ri;
      n1 += ri;
      s1 += ri * x;
      s2 += (1 - ri) * x;
    }
    const n2 = n - n1;
    const mu1 = s1 / n1;
    const mu2 = s2 / n2;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += r[i]! * (xs[i]! - mu1) ** 2 + (1 - r[i]!) * (xs[i]! - mu2) ** 2;
    return { next: Float64Array.of(Math.log(n1 / n2), mu1, mu2, 0.5 * Math.log(ss / n)), logLikelihood: ll };
  };
}

describe('two-component normal mixture with heavy overlap (EM rate > 0.99)', () => {
  const rng = createRng(3).child('mixture');
  const N = 300;
  // Means 0 and 1 with unit variance, equal weights: one standard deviation apart.
  const xs = Float64Array.from({ length: N }, () => (rng.uniform() < 0.5 ? 0 : 1) + rng.normal());
  const map = mixtureMap(xs);
  const mean = xs.reduce((a, b) => a + b, 0) / N;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / N);
  const start = Float64Array.of(0.2, mean - 0.5 * sd, mean + 0.5 * sd, Math.log(sd));
  const residual = (s: AcceleratorStep): number => maxAbs(s.evaluation.next, s.theta);
  const done = (s: AcceleratorStep): boolean => residual(s) <= 1e-8;
  const slack = (ll: number): number => 1e-9 * Math.max(1, Math.abs(ll));

  it('same optimum as plain EM (ℓ within 1e-8), never below the plain EM step, fewer map calls', async () => {
    const plain = await run(plainEm(), map, start, { done, maxCalls: 100_000, monotoneSlack: slack });
    expect(plain.violations).toEqual([]);
    expect(done(plain.final)).toBe(true);
    // The EM rate: ratio of successive increments over the last ten plain steps.
    const p = plain.path;
    const k = p.length - 1;
    const inc = (i: number): number => Math.hypot(...Array.from(p[i]!, (v, j) => v - p[i - 1]![j]!));
    const rate = (inc(k) / inc(k - 10)) ** 0.1;
    expect(rate).toBeGreaterThan(0.99);
    expect(rate).toBeLessThan(1);

    const row = [`em ${plain.calls}`];
    for (const acc of schemes()) {
      const r = await run(acc, map, start, { done, maxCalls: plain.calls, monotoneSlack: slack });
      expect(r.violations, label(acc)).toEqual([]);
      expect(done(r.final), label(acc)).toBe(true);
      expect(Math.abs(r.final.logLikelihood - plain.final.logLikelihood), label(acc)).toBeLessThanOrEqual(1e-8);
      expect(maxAbs(r.final.theta, plain.final.theta), label(acc)).toBeLessThan(1e-4);
      expect(r.calls, label(acc)).toBeLessThan(plain.calls);
      row.push(`${label(acc)} ${r.calls} (${r.accepted} accepted, ${r.rejected} rejected)`);
    }
    console.info(`normal mixture (EM rate ${rate.toFixed(5)}), map calls to ‖F(θ) − θ‖∞ ≤ 1e-8: ${row.join(', ')}`);
  });
});

// ---------------------------------------------------------------------------
// Maps that refuse extrapolated points.
// ---------------------------------------------------------------------------

describe('maps that reject extrapolated points', () => {
  const key = (t: Float64Array): string => Array.from(t).join(',');
  /** Valid only at the start and at points the map itself produced: every extrapolation is refused. */
  function guarded(inner: EmMap, start: Float64Array, refuse: (t: Float64Array) => EmMapResult): EmMap {
    const seen = new Set([key(start)]);
    return async (t) => {
      if (!seen.has(key(t))) return refuse(t);
      const r = await inner(t);
      if (!isInvalidPoint(r)) seen.add(key(r.next));
      return r;
    };
  }
  const { map, start } = linearContraction(ONE_SLOW.map((f) => f * 0.99), 11);

  async function plainPath(steps: number): Promise<Set<string>> {
    const out = new Set<string>();
    let t = start;
    out.add(key(t));
    for (let i = 0; i < steps; i++) {
      const r = await map(t);
      if (isInvalidPoint(r)) throw new Error('unexpected');
      t = r.next;
      out.add(key(t));
    }
    return out;
  }

  for (const [what, refuse] of [
    ['resolving to { invalid: true }', () => ({ invalid: true, reason: 'not positive definite' }) as const],
    [
      'throwing a NOT_POSITIVE_DEFINITE EmError',
      (t: Float64Array) => {
        throw emError('NOT_POSITIVE_DEFINITE', ['covariances', 0], t, 'not positive definite', 'none');
      },
    ],
    ['returning NaN', (t: Float64Array) => ({ next: t.map(() => Number.NaN), logLikelihood: Number.NaN })],
  ] as const) {
    it(`${what}: every extrapolation is rejected as invalid, the points stay on the plain EM path, calls are exact`, async () => {
      const path = await plainPath(400);
      for (const acc of schemes()) {
        const g = guarded(map, start, refuse as (t: Float64Array) => EmMapResult);
        const r = await run(acc, g, start, { done: () => false, maxCalls: Infinity, maxSteps: 60, monotoneSlack: roundoff });
        expect(r.violations, label(acc)).toEqual([]);
        expect(r.accepted, label(acc)).toBe(0);
        expect(r.rejected, label(acc)).toBeGreaterThan(0);
        for (const t of r.path) expect(path.has(key(t)), label(acc)).toBe(true);
      }
    });
  }

  it('other exceptions at an extrapolated point propagate', async () => {
    const g = guarded(map, start, () => {
      throw new Error('bug in the model');
    });
    const acc = squarem();
    let s = await acc.start(start, g);
    s = await acc.step(s, g); // α = 1: no extrapolation yet
    await expect(acc.step(s, g)).rejects.toThrow('bug in the model');
  });

  it('an invalid plain EM iterate is an INVALID_PARAMS error, at start or later', async () => {
    const bad: EmMap = () => ({ invalid: true, reason: 'broken M-step' });
    await expect(squarem().start(start, bad)).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
    let calls = 0;
    const laterBad: EmMap = (t) => (calls++ < 1 ? map(t) : { invalid: true });
    const acc = quasiNewton();
    const s = await acc.start(start, laterBad);
    await expect(acc.step(s, laterBad)).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
  });

  it('malformed map output at a plain iterate is an INVALID_ARGUMENT error', async () => {
    const short: EmMap = () => ({ next: new Float64Array(2), logLikelihood: 0 });
    await expect(aitken().start(start, short)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', path: ['map', 'next'] });
    const nan: EmMap = (t) => ({ next: t.map(() => Number.NaN), logLikelihood: 0 });
    await expect(parabolicEm().start(start, nan)).rejects.toBeInstanceOf(EmError);
  });
});

// ---------------------------------------------------------------------------
// Contract details.
// ---------------------------------------------------------------------------

describe('accelerator contract', () => {
  it('an exact fixed point costs no map call and stays put', async () => {
    const map: EmMap = (t) => ({ next: Float64Array.from(t), logLikelihood: -1 });
    for (const acc of [plainEm(), ...schemes()]) {
      const s0 = await acc.start(Float64Array.of(1, 2), map);
      expect(s0.mapCalls).toBe(1);
      const s1 = await acc.step(s0, map);
      expect(s1.mapCalls).toBe(0);
      expect(Array.from(s1.theta)).toEqual([1, 2]);
    }
  });

  it('accepted extrapolations hand their evaluation to the next step (its first map call is at F(θ))', async () => {
    const { map, start } = linearContraction(ONE_SLOW.map((f) => f * 0.99), 5);
    const seen: string[] = [];
    const logged: EmMap = (t) => {
      seen.push(Array.from(t).join(','));
      return map(t);
    };
    for (const acc of schemes()) {
      let s = await acc.start(start, logged);
      let checked = 0;
      for (let i = 0; i < 40; i++) {
        const wasAccepted = s.accepted;
        const expectedFirst = Array.from(s.evaluation.next).join(',');
        seen.length = 0;
        s = await acc.step(s, logged);
        // (No call at all when the extrapolation landed exactly on the fixed point.)
        if (wasAccepted && seen.length > 0) {
          expect(seen[0], label(acc)).toBe(expectedFirst);
          checked++;
        }
      }
      expect(checked, label(acc)).toBeGreaterThan(0);
    }
  });

  it('the options are resolved and JSON-friendly; bad options fail before any work', () => {
    expect(squarem().options).toEqual({ method: 'S3', stepMin0: 1, stepMax0: 1, mstep: 4, stabilize: true });
    expect(quasiNewton().options).toEqual({ q: 2 });
    expect(parabolicEm().options).toEqual({ warmup: 10, h: 0.1, a: 1.5, version: 'geometric', maxTrials: 30 });
    const bad: [() => unknown, string][] = [
      [() => squarem({ method: 'S4' as 'S1' }), 'method'],
      [() => squarem({ stepMax0: 0.5 }), 'stepMax0'],
      [() => squarem({ stepMin0: 2, stepMax0: 1 }), 'stepMin0'],
      [() => squarem({ mstep: 1 }), 'mstep'],
      [() => quasiNewton({ q: 0 }), 'q'],
      [() => quasiNewton({ q: 1.5 }), 'q'],
      [() => aitken({ window: 0 }), 'window'],
      [() => parabolicEm({ a: 1 }), 'a'],
      [() => parabolicEm({ warmup: 1 }), 'warmup'],
      [() => parabolicEm({ h: -0.1 }), 'h'],
    ];
    for (const [f, name] of bad) {
      expect(f).toThrow(EmError);
      try {
        f();
      } catch (e) {
        expect((e as EmError).code).toBe('INVALID_ARGUMENT');
        expect((e as EmError).path).toEqual(['options', name]);
      }
    }
    expect(() => createAccelerator('nope' as 'em')).toThrow(/squarem/);
    for (const name of ACCELERATOR_NAMES) expect(createAccelerator(name).name).toBe(name);
  });

  it("step rejects another scheme's state or a malformed one before calling the map", async () => {
    let calls = 0;
    const map: EmMap = (t) => {
      calls++;
      return { next: t.map((v) => 0.5 * v), logLikelihood: 0 };
    };
    const fromSquarem = await squarem().start(Float64Array.of(1, 2), map);
    calls = 0;
    for (const acc of [quasiNewton(), aitken(), parabolicEm()] as Accelerator[]) {
      await expect(acc.step(fromSquarem, map), acc.name).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', path: ['state', 'memory'] });
    }
    const fromQn = await quasiNewton().start(Float64Array.of(1, 2), map);
    calls = 0;
    await expect(squarem().step(fromQn as never, map)).rejects.toMatchObject({ path: ['state', 'memory'] });
    await expect(squarem().step(undefined as never, map)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(plainEm().step({ ...fromSquarem, memory: null, evaluation: { next: new Float64Array(1), logLikelihood: 0 } }, map)).rejects.toMatchObject({
      path: ['state', 'evaluation'],
    });
    expect(calls).toBe(0);
  });

  it('start rejects a bad θ₀ before calling the map', async () => {
    let calls = 0;
    const map: EmMap = (t) => {
      calls++;
      return { next: t, logLikelihood: 0 };
    };
    await expect(squarem().start(Float64Array.of(1, Number.NaN), map)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(squarem().start(new Float64Array(0), map)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(squarem().start([1, 2] as unknown as Float64Array, map)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(calls).toBe(0);
  });

  it('property: random symmetric contractions (ρ ≤ 0.95, p ≤ 5): every scheme converges and keeps every promise', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.double({ min: 0.3, max: 0.95, noNaN: true }),
        async (p, seed, rho) => {
          const rng = createRng(seed).child('eigenvalues');
          const eig = Array.from({ length: p }, (_, i) => (i === 0 ? rho : rho * rng.uniform()));
          const { map, star, start } = linearContraction(eig, seed);
          const done = (s: AcceleratorStep): boolean => maxAbs(s.theta, star) <= 1e-9;
          const plain = await run(plainEm(), map, start, { done, maxCalls: 10_000, monotoneSlack: roundoff });
          for (const acc of [...schemes(), quasiNewton({ q: 1 }), aitken({ window: 1 })]) {
            const r = await run(acc, map, start, { done, maxCalls: 4 * plain.calls + 40, monotoneSlack: roundoff });
            if (r.violations.length > 0 || !done(r.final)) return false;
          }
          return true;
        },
      ),
      { numRuns: 25 },
    );
  });
});

// ---------------------------------------------------------------------------
// The small least-squares solver the extrapolations rely on.
// ---------------------------------------------------------------------------

describe('leastSquares (pivoted Householder QR)', () => {
  /** Solves the normal equations AᵀA c = Aᵀb by Gaussian elimination with partial pivoting (independent reference). */
  function normalEquations(cols: Float64Array[], b: Float64Array): Float64Array {
    const m = cols.length;
    const M = Array.from({ length: m }, (_, i) => [...Array.from({ length: m }, (_, j) => cols[i]!.reduce((s, v, k) => s + v * cols[j]![k]!, 0)), cols[i]!.reduce((s, v, k) => s + v * b[k]!, 0)]);
    for (let c = 0; c < m; c++) {
      let piv = c;
      for (let r = c + 1; r < m; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[piv]![c]!)) piv = r;
      [M[c], M[piv]] = [M[piv]!, M[c]!];
      for (let r = c + 1; r < m; r++) {
        const f = M[r]![c]! / M[c]![c]!;
        for (let k = c; k <= m; k++) M[r]![k] = M[r]![k]! - f * M[c]![k]!;
      }
    }
    const x = new Float64Array(m);
    for (let r = m - 1; r >= 0; r--) {
      let s = M[r]![m]!;
      for (let k = r + 1; k < m; k++) s -= M[r]![k]! * x[k]!;
      x[r] = s / M[r]![r]!;
    }
    return x;
  }

  it('matches the normal equations on well-conditioned full-rank problems', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 1e6 }), (m, extra, seed) => {
        const rng = createRng(seed).child('ls');
        const n = m + extra;
        const cols = Array.from({ length: m }, () => Float64Array.from({ length: n }, () => rng.normal()));
        for (let j = 0; j < m; j++) cols[j]![j] = cols[j]![j]! + 4; // keep it well conditioned
        const b = Float64Array.from({ length: n }, () => rng.normal());
        const c = leastSquares(cols, b)!;
        const ref = normalEquations(cols, b);
        return maxAbs(c, ref) <= 1e-9 * (1 + Math.max(...Array.from(ref, Math.abs)));
      }),
      { numRuns: 200 },
    );
  });

  it('drops a duplicated column and still minimizes the residual', () => {
    const a = Float64Array.of(1, 2, 3, 4);
    const b2 = Float64Array.of(0, 1, 0, 1);
    const rhs = Float64Array.of(1, 0, 2, 1);
    const c = leastSquares([a, b2, Float64Array.from(a)], rhs)!;
    expect(c.every(Number.isFinite)).toBe(true);
    const ref = normalEquations([a, b2], rhs);
    const res = (coef: ArrayLike<number>, cols: Float64Array[]): number =>
      Math.hypot(...Array.from(rhs, (v, i) => v - cols.reduce((s, col, j) => s + coef[j]! * col[i]!, 0)));
    expect(res(c, [a, b2, a])).toBeCloseTo(res(ref, [a, b2]), 12);
    expect(leastSquares([new Float64Array(3)], Float64Array.of(1, 2, 3))).toBeNull();
  });
});
