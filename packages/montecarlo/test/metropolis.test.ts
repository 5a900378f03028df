/**
 * Metropolis–Hastings on targets with known moments (seeded), judged against
 * 4 Monte Carlo standard errors computed from each chain with Geyer's ESS
 * (diagnostics.ts, tested separately): normal (q = 1, a different target per
 * chain), a gamma variable sampled on the log scale, and a correlated 2-D
 * normal; adaptation toward the Roberts–Rosenthal acceptance rates; and
 * bit-identical resumption.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '@emlab/core';
import { monteCarloStandardError } from '../src/samplers/diagnostics.js';
import { metropolisInit, metropolisRun, type LogTarget, type MetropolisProposal } from '../src/samplers/metropolis.js';

/** Checks E f(X) = expected for chain g's kept draws, within 4 MCSE. */
function expectMoment(draws: Float64Array, g: number, nDraws: number, q: number, f: (b: Float64Array) => number, expected: number, label: string): void {
  const vals = new Float64Array(nDraws);
  for (let s = 0; s < nDraws; s++) vals[s] = f(draws.subarray((g * nDraws + s) * q, (g * nDraws + s + 1) * q));
  const m = vals.reduce((a, v) => a + v, 0) / nDraws;
  const se = monteCarloStandardError(vals);
  expect(se).toBeGreaterThan(0);
  expect(Math.abs(m - expected), `${label}, chain ${g}: ${m} vs ${expected} (se ${se})`).toBeLessThan(4 * se);
}

describe('targets with known moments', () => {
  it('normal, q = 1, a different N(μ_g, σ_g²) per chain: mean and variance', () => {
    const G = 8;
    const mu = (g: number): number => 0.5 * g - 2;
    const sd = (g: number): number => 0.5 + 0.25 * g;
    const logTarget: LogTarget = (g, b) => -0.5 * ((b[0]! - mu(g)) / sd(g)) ** 2;
    const state = metropolisInit(new Float64Array(G), G, 1);
    const nDraws = 8000;
    const r = metropolisRun(logTarget, state, { rng: createRng(1), proposal: { kind: 'random-walk' }, nDraws, burnIn: 2000 });
    for (let g = 0; g < G; g++) {
      expectMoment(r.draws, g, nDraws, 1, (b) => b[0]!, mu(g), 'mean');
      expectMoment(r.draws, g, nDraws, 1, (b) => (b[0]! - mu(g)) ** 2, sd(g) ** 2, 'variance');
      expect(r.logTargets[g * nDraws]).toBe(logTarget(g, r.draws.subarray(g * nDraws, g * nDraws + 1)));
    }
  });

  // u = log x with x ~ Gamma(α, rate β): log π(u) = α u − β eᵘ. E eᵘ = α/β, E e²ᵘ = α(α+1)/β².
  const alpha = 3;
  const beta = 2;
  const gammaLog: LogTarget = (_g, b) => alpha * b[0]! - beta * Math.exp(b[0]!);
  const uMode = Math.log(alpha / beta); // d/du: α − β eᵘ = 0
  const uVar = 1 / alpha; // −d²/du² at the mode = β e^{u*} = α
  const proposals: [string, MetropolisProposal][] = [
    ['adaptive random walk', { kind: 'random-walk' }],
    ['independence Student-t (ν = 4) at the mode', { kind: 'independence', mean: new Float64Array(4).fill(uMode), cov: new Float64Array(4).fill(2 * uVar), df: 4 }],
  ];
  for (const [name, proposal] of proposals) {
    it(`gamma in log space, ${name}: E x and E x²`, () => {
      const G = 4;
      const nDraws = 10000;
      const r = metropolisRun(gammaLog, metropolisInit(new Float64Array(G), G, 1), { rng: createRng(2), proposal, nDraws, burnIn: 2000 });
      for (let g = 0; g < G; g++) {
        expectMoment(r.draws, g, nDraws, 1, (b) => Math.exp(b[0]!), alpha / beta, 'E x');
        expectMoment(r.draws, g, nDraws, 1, (b) => Math.exp(2 * b[0]!), (alpha * (alpha + 1)) / (beta * beta), 'E x²');
      }
    });
  }

  // Correlated 2-D normal: mean (1, −2), sds (1, 3), correlation 0.9.
  const m = [1, -2];
  const S = [1, 0.9 * 3, 0.9 * 3, 9];
  const det = S[0]! * S[3]! - S[1]! * S[2]!;
  const normal2: LogTarget = (_g, b) => {
    const d0 = b[0]! - m[0]!;
    const d1 = b[1]! - m[1]!;
    return (-0.5 * (S[3]! * d0 * d0 - 2 * S[1]! * d0 * d1 + S[0]! * d1 * d1)) / det;
  };
  const G2 = 4;
  const rep = (a: number[]): Float64Array => Float64Array.from({ length: G2 * a.length }, (_, i) => a[i % a.length]!);
  const proposals2: [string, MetropolisProposal, number][] = [
    ['adaptive random walk, identity shape', { kind: 'random-walk' }, 30000],
    ['adaptive random walk shaped by the covariance', { kind: 'random-walk', shape: rep(S) }, 10000],
    ['independence Gaussian, covariance × 1.5', { kind: 'independence', mean: rep([0.5, -1]), cov: rep(S.map((v) => 1.5 * v)) }, 10000],
  ];
  for (const [name, proposal, nDraws] of proposals2) {
    it(`correlated 2-D normal, ${name}: means, variances, covariance`, () => {
      const r = metropolisRun(normal2, metropolisInit(new Float64Array(G2 * 2), G2, 2), { rng: createRng(3), proposal, nDraws, burnIn: 3000 });
      for (let g = 0; g < G2; g++) {
        expectMoment(r.draws, g, nDraws, 2, (b) => b[0]!, m[0]!, 'mean 0');
        expectMoment(r.draws, g, nDraws, 2, (b) => b[1]!, m[1]!, 'mean 1');
        expectMoment(r.draws, g, nDraws, 2, (b) => (b[0]! - m[0]!) ** 2, S[0]!, 'var 0');
        expectMoment(r.draws, g, nDraws, 2, (b) => (b[1]! - m[1]!) ** 2, S[3]!, 'var 1');
        expectMoment(r.draws, g, nDraws, 2, (b) => (b[0]! - m[0]!) * (b[1]! - m[1]!), S[1]!, 'cov');
      }
    });
  }

  it('an independence proposal equal to the target accepts (almost) everything', () => {
    const G = 3;
    const r = metropolisRun(normal2, metropolisInit(rep([1, -2]).subarray(0, G * 2), G, 2), {
      rng: createRng(4),
      proposal: { kind: 'independence', mean: Float64Array.from({ length: G * 2 }, (_, i) => m[i % 2]!), cov: Float64Array.from({ length: G * 4 }, (_, i) => S[i % 4]!) },
      nDraws: 2000,
    });
    for (let g = 0; g < G; g++) expect(r.acceptanceRate[g]).toBeGreaterThan(0.999);
  });

  it('a Student-t independence proposal equal to a Student-t target accepts everything and has covariance V ν/(ν − 2)', () => {
    const nu = 5;
    const V = [2, 0.6, 0.6, 1];
    const dV = V[0]! * V[3]! - V[1]! * V[2]!;
    const studentT: LogTarget = (_g, b) => -0.5 * (nu + 2) * Math.log1p((V[3]! * b[0]! * b[0]! - 2 * V[1]! * b[0]! * b[1]! + V[0]! * b[1]! * b[1]!) / dV / nu);
    const G = 2;
    const nDraws = 20000;
    const r = metropolisRun(studentT, metropolisInit(new Float64Array(G * 2), G, 2), {
      rng: createRng(6),
      proposal: { kind: 'independence', mean: new Float64Array(G * 2), cov: Float64Array.from({ length: G * 4 }, (_, i) => V[i % 4]!), df: nu },
      nDraws,
    });
    const c = nu / (nu - 2);
    for (let g = 0; g < G; g++) {
      expect(r.acceptanceRate[g]).toBeGreaterThan(0.999);
      expectMoment(r.draws, g, nDraws, 2, (b) => b[0]! * b[0]!, c * V[0]!, 't var 0');
      expectMoment(r.draws, g, nDraws, 2, (b) => b[1]! * b[1]!, c * V[3]!, 't var 1');
      expectMoment(r.draws, g, nDraws, 2, (b) => b[0]! * b[1]!, c * V[1]!, 't cov');
    }
  });
});

describe('adaptation', () => {
  for (const [q, target] of [[1, 0.44], [2, 0.234]] as const) {
    it(`drives the post-burn-in acceptance rate to ${target} for q = ${q} from a scale 20× too large, and stops after burn-in`, () => {
      const G = 16;
      const std: LogTarget = (_g, b) => {
        let s = 0;
        for (let k = 0; k < q; k++) s += b[k]! * b[k]!;
        return -0.5 * s;
      };
      const start = metropolisInit(new Float64Array(G * q), G, q, 20 * (2.38 / Math.sqrt(q)));
      const r = metropolisRun(std, start, { rng: createRng(5), proposal: { kind: 'random-walk' }, nDraws: 4000, burnIn: 4000 });
      const mean = r.acceptanceRate.reduce((s, v) => s + v, 0) / G;
      expect(Math.abs(mean - target)).toBeLessThan(0.04);
      expect(r.burnInAcceptanceRate.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(r.state.adaptStep).toBe(4000);
      // No adaptation without burn-in: the scales are unchanged.
      const r2 = metropolisRun(std, r.state, { rng: createRng(5), proposal: { kind: 'random-walk' }, nDraws: 500 });
      expect(Array.from(r2.state.logScale)).toEqual(Array.from(r.state.logScale));
      expect(r2.state.adaptStep).toBe(4000);
      // Nor with adapt: false.
      const r3 = metropolisRun(std, start, { rng: createRng(5), proposal: { kind: 'random-walk', adapt: false }, nDraws: 10, burnIn: 100 });
      expect(Array.from(r3.state.logScale)).toEqual(Array.from(start.logScale));
    });
  }
});

describe('resumption is bit-identical to one run', () => {
  const logTarget: LogTarget = (g, b) => -0.5 * ((b[0]! - g) ** 2 + (b[1]! + 0.5 * b[0]!) ** 2 / 0.3);
  const G = 3;
  const cases: [string, MetropolisProposal, number][] = [
    ['adaptive random walk', { kind: 'random-walk' }, 1],
    ['independence Student-t, thinned by 3 (variable uniforms per step)', { kind: 'independence', mean: new Float64Array(G * 2), cov: Float64Array.from({ length: G * 4 }, (_, i) => [2, 0, 0, 2][i % 4]!), df: 3 }, 3],
  ];
  for (const [name, proposal, thin] of cases) {
    it(name, () => {
      const rng = createRng(9).child('resume');
      const init = metropolisInit(Float64Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6), G, 2);
      const one = metropolisRun(logTarget, init, { rng, proposal, nDraws: 700, burnIn: 300, thin });
      // Split the sampling (across stream blocks of 256 steps).
      const a = metropolisRun(logTarget, init, { rng, proposal, nDraws: 230, burnIn: 300, thin });
      const b = metropolisRun(logTarget, a.state, { rng, proposal, nDraws: 470, thin });
      // Split the burn-in as well.
      const c1 = metropolisRun(logTarget, init, { rng, proposal, nDraws: 0, burnIn: 111 });
      const c2 = metropolisRun(logTarget, c1.state, { rng, proposal, nDraws: 700, burnIn: 189, thin });
      for (const [first, second] of [[a, b]] as const) {
        for (let g = 0; g < G; g++) {
          const joined = [...first.draws.subarray(g * 230 * 2, (g + 1) * 230 * 2), ...second.draws.subarray(g * 470 * 2, (g + 1) * 470 * 2)];
          expect(joined).toEqual(Array.from(one.draws.subarray(g * 700 * 2, (g + 1) * 700 * 2)));
          const lt = [...first.logTargets.subarray(g * 230, (g + 1) * 230), ...second.logTargets.subarray(g * 470, (g + 1) * 470)];
          expect(lt).toEqual(Array.from(one.logTargets.subarray(g * 700, (g + 1) * 700)));
        }
      }
      expect(Array.from(c2.draws)).toEqual(Array.from(one.draws));
      for (const s of [b.state, c2.state]) {
        expect(Array.from(s.current)).toEqual(Array.from(one.state.current));
        expect(Array.from(s.logScale)).toEqual(Array.from(one.state.logScale));
        expect(Array.from(s.streamOffset)).toEqual(Array.from(one.state.streamOffset));
        expect([s.step, s.adaptStep]).toEqual([one.state.step, one.state.adaptStep]);
      }
      // A different rng gives different draws.
      const other = metropolisRun(logTarget, init, { rng: createRng(10), proposal, nDraws: 700, burnIn: 300, thin });
      expect(Array.from(other.draws)).not.toEqual(Array.from(one.draws));
    });
  }
});

describe('validation', () => {
  const logTarget: LogTarget = (_g, b) => (b[0]! > 0 ? -b[0]! : -Infinity);
  const state = metropolisInit(Float64Array.of(1, 2), 2, 1);
  const rng = createRng(0);
  it('names the bad option', () => {
    expect(() => metropolisRun(logTarget, state, { rng, proposal: { kind: 'random-walk' }, nDraws: -1 })).toThrow(/nDraws/);
    expect(() => metropolisRun(logTarget, state, { rng, proposal: { kind: 'random-walk' }, nDraws: 1, thin: 0 })).toThrow(/thin/);
    expect(() => metropolisRun(logTarget, state, { rng, proposal: { kind: 'random-walk', targetAcceptance: 1 }, nDraws: 1 })).toThrow(/targetAcceptance/);
    expect(() => metropolisRun(logTarget, state, { rng, proposal: { kind: 'random-walk', shape: Float64Array.of(1, -1) }, nDraws: 1 })).toThrow(/positive definite/);
    expect(() => metropolisRun(logTarget, state, { rng, proposal: { kind: 'independence', mean: new Float64Array(1), cov: Float64Array.of(1, 1) }, nDraws: 1 })).toThrow(/mean/);
    expect(() => metropolisRun(logTarget, state, { rng, proposal: { kind: 'independence', mean: new Float64Array(2), cov: Float64Array.of(1, 1), df: 0 }, nDraws: 1 })).toThrow(/df/);
    expect(() => metropolisRun(logTarget, state, { rng, proposal: { kind: 'slice' } as unknown as MetropolisProposal, nDraws: 1 })).toThrow(/kind/);
    expect(() => metropolisRun(logTarget, metropolisInit(Float64Array.of(1, -2), 2, 1), { rng, proposal: { kind: 'random-walk' }, nDraws: 1 })).toThrow(/chain 1/);
    expect(() => metropolisInit(Float64Array.of(1), 2, 1)).toThrow(/init/);
    expect(() => metropolisInit(Float64Array.of(1, Number.NaN), 2, 1)).toThrow(/finite/);
  });

  it('never leaves the support (proposals with log π = −∞ are rejected)', () => {
    const r = metropolisRun(logTarget, state, { rng, proposal: { kind: 'random-walk' }, nDraws: 2000, burnIn: 200 });
    expect(r.draws.every((v) => v > 0)).toBe(true);
  });
});
