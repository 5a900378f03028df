// The examples run as `node examples/<file>.mjs --json` (what a user runs after `npm ci`), and their
// numbers are checked against references computed here independently.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { covarianceFromInformation, logGamma, numericalHessian } from '@emlab/core';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = async (file: string): Promise<Record<string, unknown>> => {
  const { stdout } = await promisify(execFile)(process.execPath, [`examples/${file}`, '--json'], { cwd: root, maxBuffer: 1 << 26 });
  return JSON.parse(stdout) as Record<string, unknown>;
};
type Outcome = { name: string; ok: boolean; error?: string };
const allOk = (outcomes: unknown): void => {
  const failed = (outcomes as Outcome[]).filter((o) => !o.ok);
  expect(failed, failed.map((o) => `${o.name}: ${o.error}`).join('\n')).toEqual([]);
  expect((outcomes as Outcome[]).length).toBeGreaterThan(0);
};

// The three examples run concurrently (each is a separate Node process).
let linkage: Record<string, unknown>;
let poisson: Record<string, unknown>;
let suite: Record<string, unknown>;
beforeAll(async () => {
  [linkage, poisson, suite] = await Promise.all([run('genetic-linkage.mjs'), run('poisson-mixture.mjs'), run('custom-estep-suite.mjs')]);
}, 120_000);

describe('genetic-linkage.mjs (Dempster, Laird & Rubin 1977, §1)', () => {
  const [n1, n2, n3, n4] = [125, 18, 20, 34];
  // The EM map of DLR §1: split n1 by π/4 against 1/2, then π = (x12 + x4) / (x12 + x2 + x3 + x4).
  const emMap = (pi: number): number => {
    const x12 = (n1 * (pi / 4)) / (0.5 + pi / 4);
    return (x12 + n4) / (x12 + n2 + n3 + n4);
  };
  // The score of Σ n_c log p_c, d/dπ [n1 log(1/2 + π/4) + (n2 + n3) log((1 − π)/4) + n4 log(π/4)], is decreasing on (0, 1).
  const score = (pi: number): number => n1 / (2 + pi) - (n2 + n3) / (1 - pi) + n4 / pi;
  const logLik = (pi: number): number => n1 * Math.log(0.5 + pi / 4) + (n2 + n3) * Math.log((1 - pi) / 4) + n4 * Math.log(pi / 4);
  const mle = (): number => {
    let [lo, hi] = [1e-9, 1 - 1e-9];
    while (hi - lo > 1e-15) {
      const mid = (lo + hi) / 2;
      if (score(mid) > 0) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  };

  it('iterates from π = 0.5 follow the EM map to 1e-10', () => {
    const iterates = linkage['iterates'] as number[];
    expect(iterates[0]).toBe(0.5);
    expect(iterates.length).toBeGreaterThan(5);
    for (let t = 1; t < iterates.length; t++) expect(Math.abs((iterates[t] as number) - emMap(iterates[t - 1] as number))).toBeLessThan(1e-10);
  });
  it('converges to the root of the score equation (bisection) to 1e-10, with the log-likelihood filled from the exact E-step', () => {
    const pi = mle();
    expect(Math.abs(pi - 0.6268215)).toBeLessThan(1e-7); // DLR's Table 1 value, to its printed digits
    expect(Math.abs((linkage['mle'] as number) - pi)).toBeLessThan(1e-10);
    expect(linkage['converged']).toBe(true);
    expect(linkage['logLikelihood']).not.toBeNull();
    expect(Math.abs((linkage['logLikelihood'] as number) - logLik(pi))).toBeLessThan(1e-10 * Math.abs(logLik(pi)));
  });
  it('passes the conformance kit', () => allOk(linkage['conformance']));
});

describe('poisson-mixture.mjs', () => {
  type P = { weights: number[]; rates: number[] };
  const rows = (): number[] => (poisson['rows'] as number[][]).map((r) => r[0] as number);
  // log p(x | θ), written here from the Poisson pmf.
  const logLik = (x: readonly number[], p: P): number =>
    x.reduce((s, xi) => {
      const terms = p.weights.map((w, j) => Math.log(w) + xi * Math.log(p.rates[j] as number) - (p.rates[j] as number) - logGamma(xi + 1));
      const m = Math.max(...terms);
      return s + m + Math.log(terms.reduce((a, v) => a + Math.exp(v - m), 0));
    }, 0);

  it('every iterate equals a float64 reference EM from the same start to 1e-10', () => {
    const x = rows();
    let p = poisson['start'] as P;
    for (const q of poisson['iterates'] as P[]) {
      const resp = x.map((xi) => {
        const t = p.weights.map((w, j) => w * Math.exp(xi * Math.log(p.rates[j] as number) - (p.rates[j] as number) - logGamma(xi + 1)));
        const s = t.reduce((a, b) => a + b, 0);
        return t.map((v) => v / s);
      });
      const n = p.weights.map((_, j) => resp.reduce((a, r) => a + (r[j] as number), 0));
      p = { weights: n.map((v) => v / x.length), rates: n.map((v, j) => resp.reduce((a, r, i) => a + (r[j] as number) * (x[i] as number), 0) / v) };
      p.weights.forEach((w, j) => expect(Math.abs(w - (q.weights[j] as number))).toBeLessThan(1e-10));
      p.rates.forEach((l, j) => expect(Math.abs(l - (q.rates[j] as number))).toBeLessThan(1e-10 * Math.max(1, l)));
    }
    expect(poisson['converged']).toBe(true);
  });
  it('recovers the truth within 5 standard errors (observed information), at a log-likelihood above the truth\'s', () => {
    const x = rows();
    const est = poisson['params'] as P;
    const truth = poisson['truth'] as P;
    // Coordinates (π_1, λ_1, λ_2); the observed information is minus the Hessian of log p(x | θ) there.
    const f = (v: Float64Array): number => logLik(x, { weights: [v[0] as number, 1 - (v[0] as number)], rates: [v[1] as number, v[2] as number] });
    const at = Float64Array.of(est.weights[0] as number, est.rates[0] as number, est.rates[1] as number);
    const cov = covarianceFromInformation(numericalHessian(f, at).map((h) => -h)).covariance;
    const se = [0, 1, 2].map((i) => Math.sqrt(cov[i * 3 + i] as number));
    const order = (est.rates[0] as number) < (est.rates[1] as number) ? [0, 1] : [1, 0];
    const truthVec = [truth.weights[order[0] as number] as number, truth.rates[order[0] as number] as number, truth.rates[order[1] as number] as number];
    at.forEach((v, i) => expect(Math.abs(v - (truthVec[i] as number))).toBeLessThan(5 * (se[i] as number)));
    expect(poisson['logLikelihood'] as number).toBeGreaterThanOrEqual(logLik(x, truth));
    expect(Math.abs((poisson['logLikelihood'] as number) - logLik(x, est))).toBeLessThan(1e-10 * Math.abs(logLik(x, est)));
  });
  it('passes the conformance kit', () => allOk(poisson['conformance']));
});

describe('custom-estep-suite.mjs', () => {
  type Run = { method: string; seed: number; status: string; initHash: string; logLikelihood: number; bound: number; boundKind: string; nIter: number };
  it('runs the top-2 and tempered E-steps beside the exact one from shared starts, with the right bound kinds', () => {
    const runs = suite['runs'] as Run[];
    expect(runs.length).toBe(9);
    expect(runs.map((r) => r.status)).toEqual(runs.map(() => 'ok'));
    for (const seed of [0, 1, 2]) {
      const [exact, ...user] = ['exact', 'top-2', 'tempered'].map((m) => runs.find((r) => r.method === m && r.seed === seed) as Run);
      expect(exact?.boundKind).toBe('log-likelihood');
      for (const r of user) {
        expect(r.initHash).toBe(exact?.initHash);
        expect(r.boundKind).toBe('lower-bound');
        // A lower bound stays below the log-likelihood at the final parameters.
        expect(r.bound).toBeLessThanOrEqual(r.logLikelihood);
      }
    }
  });
  it('the user-written E-steps pass the conformance kit', () => allOk(suite['conformance']));
});

describe('the guides quote the examples', () => {
  it('every code block marked with an example region is that region, verbatim', () => {
    for (const guide of ['docs/guide-model.md', 'docs/guide-estep.md']) {
      const text = readFileSync(`${root}${guide}`, 'utf8');
      const blocks = [...text.matchAll(/<!-- (examples\/[\w.-]+)#([\w-]+) -->\s*```js\n([\s\S]*?)```/g)];
      expect(blocks.length, guide).toBeGreaterThan(0);
      for (const [, file, region, code] of blocks) {
        const source = readFileSync(`${root}${file}`, 'utf8');
        const m = new RegExp(`// <guide:${region}>\\n([\\s\\S]*?)// </guide:${region}>`).exec(source);
        expect(m, `${file} has no region ${region}`).not.toBeNull();
        expect(code, `${guide}: ${file}#${region}`).toBe((m as RegExpExecArray)[1]);
      }
    }
  });
});
