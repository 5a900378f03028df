/**
 * The Monte Carlo E-steps and the GLMM through the built binary: `emlab fit --model glmm` runs the
 * model's default method (mcem: its structure kind has no exact E-step), `--estep mcem|saem|laplace`
 * with `--estep-option`, the summary's Monte Carlo lines (± 2 SE band, draws per iteration, sampler
 * diagnostics), reproducibility from the seed, `--estep mcem|saem` on the mixture and on a network
 * (`bn fit`), `compare --esteps` with sampling methods, and the user errors naming the flag.
 * `npm test` builds first; by hand run `npx tsc -b packages/cli` before vitest.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FitResult } from '@emlab/core';
import { generateGlmmData, type GlmmMatrix, type GlmmModelParams } from '@emlab/models';
import { ASIA, clusterRows, csv } from './fit-fixtures.js';
import { BIN, expectUserError, run, runAll, type Run } from './run-cli.js';

let dir = '';
const file = (name: string): string => join(dir, name);

// 24 clinics × 8 visits; true β = (0.5, 0.3), σ_b² = 0.36.
const TRUE_BETA = [0.5, 0.3];

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npx tsc -b packages/cli\` (npm test builds first)`);
  dir = await mkdtemp(join(tmpdir(), 'emlab-mc-cli-'));
  const g = generateGlmmData({ family: 'poisson', nGroups: 24, groupSize: 8, beta: TRUE_BETA, sigma: [[0.36]], seed: 'cli-glmm' });
  const { y, group } = g.input;
  const x = g.input.x as GlmmMatrix; // generateGlmmData makes x = [1, t] row-major
  const rows = Array.from({ length: y.length }, (_, r) => [y[r] as number, `c${group[r] as number}`, x.values[r * 2 + 1] as number]);
  await Promise.all([writeFile(file('visits.csv'), csv('visits,clinic,t', rows)), writeFile(file('good.csv'), csv('x,y,z', clusterRows()))]);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const GLMM = (): string[] => ['fit', file('visits.csv'), '--model', 'glmm', '--family', 'poisson', '--response', 'visits', '--group', 'clinic', '--fixed', 't', '--seed', '7'];
const ok = (r: Run | undefined): Run => {
  expect(r?.code, r?.stderr).toBe(0);
  return r as Run;
};
const json = <P = unknown>(r: Run | undefined): FitResult<P> => JSON.parse(ok(r).stdout) as FitResult<P>;

describe('emlab fit --model glmm', () => {
  it('runs mcem without --estep (the model has no exact E-step), reproducibly from the seed; saem and laplace by --estep', async () => {
    const [a, b, human, saem, laplace] = await runAll(
      [
        [...GLMM(), '--json'],
        [...GLMM(), '--json'],
        GLMM(),
        [...GLMM(), '--estep', 'saem', '--estep-option', 'k1=60', '--estep-option', 'k2=60', '--estep-option', 'chains=2', '--draws', '4', '--json'],
        [...GLMM(), '--estep', 'laplace', '--json'],
      ],
      2,
    );
    const r = json<GlmmModelParams>(a);
    expect(r.method.name).toBe('mcem');
    expect(r.method.family).toBe('monte-carlo');
    expect(r.converged).toBe(true);
    expect(r.boundKind).toBe('estimate');
    expect(r.nRows).toBe(192);
    // The fixed effects near the truth (192 rows: well within 0.5).
    r.params.beta.forEach((v, j) => expect(Math.abs(v - (TRUE_BETA[j] as number)), `beta[${j}] = ${v}`).toBeLessThan(0.5));
    // Every iteration reports its sample size; the ascent rule grew it from the starting 20.
    const draws = r.trace.map((t) => t.diagnostics['nDraws'] as number);
    expect(draws[0]).toBe(20);
    expect(Math.max(...draws)).toBeGreaterThan(20);
    for (const t of r.trace) expect(t.boundStdErr ?? NaN).toBeGreaterThan(0);
    // The same seed, the same run.
    const r2 = json<GlmmModelParams>(b);
    expect(r2.params).toEqual(r.params);
    expect(r2.bound).toBe(r.bound);
    expect(r2.trace.map((t) => t.diagnostics['nDraws'])).toEqual(draws);

    const text = ok(human).stdout;
    expect(text).toMatch(/^method {5}mcem \(monte-carlo\) schedule=auto /m);
    expect(text).toMatch(/^bound {6}-?[\d.]+ \(estimate\) ± [\d.e-]+ \(standard error\)$/m);
    expect(text).toMatch(/^mc band {4}bound -?[\d.]+ ± 2 SE = \[-?[\d.]+, -?[\d.]+\] \(Monte Carlo estimate, not a bound\)$/m);
    expect(text).toMatch(/^draws {6}per iteration: 20, /m);
    expect(text).toMatch(/^sampler {4}last iteration: .*acceptance rate 0?\.\d+/m);
    // The band is bound ± 2 standard errors, as printed.
    const last = r.trace[r.trace.length - 1] as FitResult['trace'][number];
    const band = /± 2 SE = \[(-?[\d.]+), (-?[\d.]+)\]/.exec(text) as RegExpExecArray;
    expect(Number(band[1])).toBeCloseTo(last.boundAfterM - 2 * (last.boundStdErr as number), 5);
    expect(Number(band[2])).toBeCloseTo(last.boundAfterM + 2 * (last.boundStdErr as number), 5);

    const s = json<GlmmModelParams>(saem);
    expect(s.method.name).toBe('saem');
    expect(s.method.options).toMatchObject({ k1: 60, k2: 60, chains: 2, nDraws: 4 });
    expect(s.nIter).toBe(120);
    expect(s.trace.every((t) => t.diagnostics['nDraws'] === 8)).toBe(true);
    // MCEM and SAEM reach the same maximum of the exact (quadrature) log-likelihood up to Monte Carlo error.
    expect(Math.abs((s.logLikelihood as number) - (r.logLikelihood as number))).toBeLessThan(0.5);

    const l = json<GlmmModelParams>(laplace);
    expect(l.method.name).toBe('laplace');
    expect(l.boundKind).toBe('lower-bound');
    expect(l.bound).toBeLessThanOrEqual(l.logLikelihood as number);
    // The Laplace fixed point is not the MLE: the exact log-likelihood there is no higher than MCEM's (up to its Monte Carlo error).
    expect(l.logLikelihood as number).toBeLessThan((r.logLikelihood as number) + 0.1);
  });

  it('names the flag in user errors: no exact E-step, bad E-step options, --draws with a deterministic method', async () => {
    const [exact, schedule, k1, draws, help] = await runAll([
      [...GLMM(), '--estep', 'exact'],
      [...GLMM(), '--estep-option', 'schedule=weekly'],
      [...GLMM(), '--estep', 'saem', '--estep-option', 'k1=-3'],
      [...GLMM(), '--estep', 'laplace', '--draws', '10'],
      ['fit', '--help', '--model', 'glmm'],
    ]);
    expectUserError(exact as Run, /\[UNKNOWN_ESTEP\]/, /--estep/, /"exact"/, /mcem/, /saem/);
    expectUserError(schedule as Run, /--estep-option schedule/, /weekly/);
    expectUserError(k1 as Run, /--estep-option k1/, /-3/);
    expectUserError(draws as Run, /--draws/, /sampling E-steps only/, /mcem/);
    expect(ok(help).stdout).toMatch(/Method without\s+--estep: mcem\./);
  });
});

describe('sampling E-steps on the other models', () => {
  it('fit --estep mcem|saem on the mixture, bn fit --estep mcem|gibbs on a network, compare --esteps with sampling methods', async () => {
    const sample = await run(['bn', 'sample', ASIA, '--n', '400', '--seed', '3', '--missing-rate', '0.2', '--out', file('asia.csv')]);
    expect(sample.code, sample.stderr).toBe(0);
    const [mcem, saem, bnMcem, bnGibbs, compare, bnHuman, bnBad] = await runAll(
      [
        ['fit', file('good.csv'), '--components', '3', '--estep', 'mcem', '--estep-option', 'schedule=geometric', '--draws', '5', '--max-iter', '15', '--seed', '2', '--json'],
        ['fit', file('good.csv'), '--components', '3', '--estep', 'saem', '--estep-option', 'k1=10', '--estep-option', 'k2=10', '--seed', '2', '--json'],
        ['bn', 'fit', ASIA, file('asia.csv'), '--estep', 'mcem', '--estep-option', 'schedule=linear', '--draws', '4', '--max-iter', '8', '--seed', '2', '--json'],
        ['bn', 'fit', ASIA, file('asia.csv'), '--estep', 'gibbs', '--estep-option', 'chains=2', '--draws', '4', '--max-iter', '8', '--seed', '2', '--json'],
        ['compare', file('good.csv'), '--components', '3', '--esteps', 'exact,mcem,saem', '--estep-option', 'k1=5', '--estep-option', 'k2=5', '--draws', '3', '--seeds', '1', '--max-iter', '10', '--workers', '1', '--out', file('cmp')],
        ['bn', 'fit', ASIA, file('asia.csv'), '--estep', 'saem', '--estep-option', 'k1=4', '--estep-option', 'k2=4', '--seed', '2', '--out', file('fitted.bif')],
        ['bn', 'fit', ASIA, file('asia.csv'), '--estep', 'gibbs', '--estep-option', 'chains=0', '--json'],
      ],
      2,
    );
    const m = json(mcem);
    expect(m.method).toMatchObject({ name: 'mcem', options: { schedule: 'geometric', nDraws: 5 } });
    const d = m.trace.map((t) => t.diagnostics['nDraws'] as number);
    expect(d[0]).toBe(5);
    for (let i = 1; i < d.length; i++) expect(d[i]).toBeGreaterThanOrEqual(d[i - 1] as number);
    const s = json(saem);
    expect(s.method).toMatchObject({ name: 'saem', options: { k1: 10, k2: 10 } });
    expect(s.nIter).toBe(20);
    const b1 = json(bnMcem);
    expect(b1.method).toMatchObject({ name: 'mcem', options: { schedule: 'linear', nDraws: 4 } });
    expect(b1.trace.every((t) => t.boundStdErr !== null && t.diagnostics['nDraws'] !== undefined)).toBe(true);
    const b2 = json(bnGibbs);
    expect(b2.method).toMatchObject({ name: 'gibbs', options: { chains: 2, nDraws: 4 } });
    expect(b2.trace.every((t) => t.diagnostics['nDraws'] !== undefined)).toBe(true);
    const h = ok(bnHuman).stdout;
    expect(h).toMatch(/^method {5}saem \(monte-carlo\)/m);
    expect(h).toMatch(/^mc band {4}bound -?[\d.]+ ± 2 SE = \[/m);
    expect(h).toMatch(/^draws {6}per iteration: /m);
    expect(existsSync(file('fitted.bif'))).toBe(true);
    expectUserError(bnBad as Run, /--estep-option chains/, /0/);
    const c = ok(compare);
    for (const name of ['exact', 'mcem', 'saem']) expect(c.stdout).toContain(name);
  });
});

describe('emlab bench with Monte Carlo methods', () => {
  it('gives the same results with --workers 1 and --workers 2 (every run reproducible from its seed), with ± 2 SE data per iteration', async () => {
    const suite = {
      name: 'mc-workers',
      datasets: [
        { id: 'mix', kind: 'gaussian-mixture', options: { nSamples: 150, nComponents: 2, nFeatures: 2, seed: 3 } },
        { id: 'asia', kind: 'bayesian-network', options: { network: 'asia', nSamples: 300, seed: 1 }, missing: { rate: 0.2, mechanism: 'mcar', seed: 1 } },
        { id: 'g', kind: 'glmm', options: { family: 'logistic', nGroups: 16, groupSize: 6, beta: [-0.3, 0.8], sigma: [0.8], seed: 2 } },
      ],
      models: [{ id: 'gmm', type: 'gmm' }, { id: 'bn', type: 'bn', options: { pseudoCount: 1 } }, { id: 'glmm', type: 'glmm' }],
      esteps: [{ id: 'mcem', method: 'mcem', options: { maxDraws: 40 } }, { id: 'saem', method: 'saem', options: { k1: 5, k2: 5 } }, { id: 'gibbs', method: 'gibbs', options: { nDraws: 4 } }],
      seeds: [0, 1],
      stopping: { maxIter: 10 },
      heldOut: { fraction: 0.2, seed: 0 },
    };
    await writeFile(file('mc-suite.json'), JSON.stringify(suite));
    const [one, two] = await runAll([
      ['bench', file('mc-suite.json'), '--out', file('w1'), '--workers', '1'],
      ['bench', file('mc-suite.json'), '--out', file('w2'), '--workers', '2'],
    ]);
    const { readFile } = await import('node:fs/promises');
    const load = async (d: string): Promise<{ runs: { method: string; status: string; trace: { boundStdErr: number | null; sampleSize: number | null }[] }[]; timings?: unknown }> => JSON.parse(await readFile(join(d, 'results.json'), 'utf8'));
    ok(one);
    ok(two);
    const [a, b] = [await load(file('w1')), await load(file('w2'))];
    // gibbs runs on the network only; mcem and saem on all three models.
    expect(a.runs.map((r) => r.method).sort()).toEqual(['gibbs', 'gibbs', ...Array(6).fill('mcem'), ...Array(6).fill('saem')]);
    expect(a.runs.every((r) => r.status === 'ok')).toBe(true);
    for (const r of a.runs) for (const t of r.trace) {
      expect(t.boundStdErr).toBeGreaterThan(0);
      expect(t.sampleSize).toBeGreaterThanOrEqual(1);
    }
    expect({ ...b, timings: undefined }).toEqual({ ...a, timings: undefined });
  });
});
