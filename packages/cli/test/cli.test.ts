/**
 * End-to-end tests of the real, built `emlab` binary (`packages/cli/dist/bin.js`):
 * spawned with node on CSV files written to a temp directory.
 * `npm test` builds first; by hand run `npx tsc -b` before vitest.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, fromJson, omitTimings, type FitResult } from '@emlab/core';
import { loadResult } from '@emlab/core/node';
import type { GmmParams } from '@emlab/models';
import { BIN, expectUserError, run, type Run } from './run-cli.js';

// ---------------------------------------------------------------- data

const K = 3;
const D = 3;
const N = 300;
const SHIFT = 1000; // added to column "y": fitted means must show it (original units)
const CENTRES = [
  [0, 0, 0],
  [10, 0, 10],
  [0, 10, 10],
] as const;

/** 300 rows × 3 columns from 3 unit-variance clusters, deterministic (core's seeded stream). */
function clusterCsv(): string {
  const rng = createRng(12345).child('cli-test');
  const lines = ['x,y,z'];
  for (let i = 0; i < N; i++) {
    const c = CENTRES[i % K] as readonly number[];
    lines.push(c.map((m, j) => (m + rng.normal() + (j === 1 ? SHIFT : 0)).toFixed(6)).join(','));
  }
  return `${lines.join('\n')}\n`;
}

let dir = '';
const file = (name: string): string => join(dir, name);

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npx tsc -b\` (npm test builds first)`);
  dir = await mkdtemp(join(tmpdir(), 'emlab-cli-'));
  await Promise.all([
    writeFile(file('good.csv'), clusterCsv()),
    writeFile(file('small.csv'), 'x,y,z\n1,2,3\n4,5,6.5\n7,8,9\n0.5,1,2\n'),
    writeFile(file('nonnumeric.csv'), 'x,y,z\n1,2,3\n4,5,6\n7,abc,9\n'),
    writeFile(file('ragged.csv'), 'x,y,z\n1,2,3\n4,5\n7,8,9\n'),
    writeFile(file('empty.csv'), ''),
    writeFile(file('missing.csv'), 'x,y,z\n1,2,3\n4,,6\n7,8,9\n'),
    writeFile(file('nocolumn.csv'), 'x,y,z\n1,,3\n4,NA,6\n7,?,9\n'),
  ]);
});

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- result checks

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks the documented `--json` schema; returns the result typed. */
function checkResult(
  r: Run,
  want: { estep: string; seed: number | string; covariance: string },
): FitResult<GmmParams> & { columns: string[] } {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).not.toContain('    at ');
  expect(r.stderr).not.toMatch(/error/i);
  const res = JSON.parse(r.stdout) as FitResult<GmmParams> & { columns: string[] };
  const p = res.params;

  expect(res.columns).toEqual(['x', 'y', 'z']);
  expect(res.nRows).toBe(N);

  // weights: K non-negative numbers summing to 1
  expect(p.weights).toHaveLength(K);
  for (const w of p.weights) expect(isNum(w) && w >= 0).toBe(true);
  expect(p.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);

  // means: K × D numbers
  expect(p.means).toHaveLength(K);
  for (const m of p.means) {
    expect(m).toHaveLength(D);
    for (const v of m) expect(isNum(v)).toBe(true);
  }

  // covariances: K full D × D symmetric matrices with a positive diagonal, whatever --covariance says
  expect(p.covariances).toHaveLength(K);
  for (const cov of p.covariances) {
    expect(cov).toHaveLength(D);
    for (let i = 0; i < D; i++) {
      const row = cov[i] as number[];
      expect(row).toHaveLength(D);
      expect(row[i] as number).toBeGreaterThan(0);
      for (let j = 0; j < D; j++) {
        const a = row[j] as number;
        const b = (cov[j] as number[])[i] as number;
        expect(isNum(a)).toBe(true);
        expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a)));
      }
    }
  }
  if (want.covariance === 'diag' || want.covariance === 'spherical') {
    for (const cov of p.covariances) {
      for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) if (i !== j) expect((cov[i] as number[])[j]).toBe(0);
      if (want.covariance === 'spherical') for (let i = 1; i < D; i++) expect((cov[i] as number[])[i]).toBeCloseTo((cov[0] as number[])[0] as number, 12);
    }
  }
  if (want.covariance === 'tied') for (const cov of p.covariances) expect(cov).toEqual(p.covariances[0]);

  // scalars
  expect(isNum(res.bound)).toBe(true);
  expect(isNum(res.logLikelihood)).toBe(true);
  // the total log-likelihood (natural log), not a per-row mean: ~ -5.5 per row for these clusters
  expect(res.logLikelihood as number).toBeLessThan(-4 * N);
  expect(res.logLikelihood as number).toBeGreaterThan(-7 * N);
  expect(typeof res.converged).toBe('boolean');
  expect(Number.isInteger(res.nIter) && res.nIter >= 1).toBe(true);
  expect(res.method.name).toBe(want.estep);
  expect(res.seed).toBe(want.seed);

  // trace: one record per iteration, with both half-step bounds
  expect(Array.isArray(res.trace)).toBe(true);
  expect(res.trace.length).toBeGreaterThan(0);
  expect(res.trace).toHaveLength(res.nIter);
  for (const t of res.trace) {
    expect(isNum(t.boundAfterE)).toBe(true);
    expect(isNum(t.boundAfterM)).toBe(true);
  }
  return res;
}

/** Each fitted mean lies near a distinct true centre, in original units (column y shifted by +1000). */
function expectMeansNearTruth(means: readonly (readonly number[])[]): void {
  const truth = CENTRES.map((c) => c.map((v, j) => v + (j === 1 ? SHIFT : 0)));
  const used = new Set<number>();
  for (const m of means) {
    const dist = truth.map((t) => Math.hypot(...t.map((v, j) => v - (m[j] as number))));
    const best = dist.indexOf(Math.min(...dist));
    expect(dist[best], `mean ${JSON.stringify(m)}`).toBeLessThan(0.6);
    used.add(best);
  }
  expect(used.size).toBe(K);
}

// ---------------------------------------------------------------- fits

describe('emlab fit (successful runs)', () => {
  it('prints a human summary, and --out writes a loadable result', async () => {
    const out = file('human.json');
    const r = await run(['fit', file('good.csv'), '--model', 'gmm', '--components', '3', '--seed', '3', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('    at ');
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.stdout).toMatch(/converged\s+yes/);
    expect(r.stdout).toMatch(/log-lik\s+-\d/);
    expect(r.stdout).toContain('x, y, z');
    expect(r.stdout).toContain(`result written to ${out}`);
    const loaded = await loadResult<GmmParams>(out);
    expect(loaded.format).toBe('emlab/fit-result');
    expectMeansNearTruth(loaded.params.means);
  });

  it('--json prints the FitResult with full covariances in original units', async () => {
    const r = await run(['fit', file('good.csv'), '--components', '3', '--seed', '7', '--json', '--tol', '1e-8', '--max-iter', '200', '--reg-covar', '1e-6', '--n-init', '2']);
    const res = checkResult(r, { estep: 'exact', seed: 7, covariance: 'full' });
    expectMeansNearTruth(res.params.means);
    expect(res.converged).toBe(true);
    expect(res.boundKind).toBe('log-likelihood');
    expect(res.bound).toBeCloseTo(res.logLikelihood as number, 1);
    expect(res.options).toMatchObject({ maxIter: 200, tol: 1e-8, nInit: 2 });
    expect(res.restarts).toHaveLength(2);
    expect(res.model.options).toMatchObject({ nComponents: 3, covarianceType: 'full', regCovar: 1e-6 });
  });

  it.each(['diag', 'spherical', 'tied'])('--covariance %s still reports full D×D matrices', async (covariance) => {
    const r = await run(['fit', file('good.csv'), '--components', '3', '--covariance', covariance, '--seed', '1', '--json']);
    const res = checkResult(r, { estep: 'exact', seed: 1, covariance });
    expect(res.params.covarianceType).toBe(covariance);
    expectMeansNearTruth(res.params.means);
  });

  it('--estep hard works', async () => {
    const r = await run(['fit', file('good.csv'), '--components', '3', '--estep', 'hard', '--seed', '2', '--json']);
    const res = checkResult(r, { estep: 'hard', seed: 2, covariance: 'full' });
    expectMeansNearTruth(res.params.means);
  });

  it('--estep stochastic is reproducible; --out equals --json; a string seed is kept', async () => {
    const out = file('stochastic.json');
    const base = ['fit', file('good.csv'), '--components', '3', '--estep', 'stochastic', '--draws', '2', '--json'];
    const args = [...base, '--seed', '11'];
    const [a, b, named] = await Promise.all([run([...args, '--out', out]), run(args), run([...base, '--seed', 'run-a'])]);
    const resA = checkResult(a, { estep: 'stochastic', seed: 11, covariance: 'full' });
    checkResult(b, { estep: 'stochastic', seed: 11, covariance: 'full' });
    checkResult(named, { estep: 'stochastic', seed: 'run-a', covariance: 'full' });
    expectMeansNearTruth(resA.params.means);
    expect(resA.method.options).toMatchObject({ nDraws: 2 });

    // same seed ⇒ identical output apart from wall-clock timings
    const parsedA = fromJson(a.stdout) as FitResult & { columns: string[] };
    const parsedB = fromJson(b.stdout) as FitResult & { columns: string[] };
    expect(omitTimings(parsedA)).toEqual(omitTimings(parsedB));

    // --out writes the same result that --json prints (without the CLI's extra data description)
    const loaded = await loadResult<GmmParams>(out);
    expect(loaded.params).toEqual(resA.params);
    const { columns: _columns, nMissing, nRowsAllMissing: _all, missingPatterns: _patterns, ...withoutExtras } = parsedA as typeof parsedA & { nMissing: number; nRowsAllMissing: number; missingPatterns: unknown };
    expect(nMissing).toBe(0);
    expect(loaded).toEqual(withoutExtras);
  });
});

// ---------------------------------------------------------------- user errors

describe('emlab fit (user errors: exit 2, one line, no stack)', () => {
  const good = (): string => file('good.csv');
  const small = (): string => file('small.csv');
  const cases: [string, () => string[], RegExp[]][] = [
    ['missing file', () => ['fit', file('nope.csv'), '--components', '2'], [/IO_ERROR/, /nope\.csv/, /ENOENT|could not read/]],
    ['no positional', () => ['fit', '--components', '2'], [/<data\.csv>/, /missing/]],
    ['extra positional', () => ['fit', small(), small(), '--components', '2'], [/extra/]],
    ['unknown flag', () => ['fit', small(), '--components', '2', '--bogus'], [/--bogus/]],
    ['--components missing', () => ['fit', small()], [/--components/, /required/]],
    ['--components 0', () => ['fit', small(), '--components', '0'], [/[cC]omponents/, /= 0/]],
    ['--components 2.5', () => ['fit', small(), '--components', '2.5'], [/--components/, /2\.5/, /integer/]],
    ['--components abc', () => ['fit', small(), '--components', 'abc'], [/--components/, /integer/]],
    ['--components > rows', () => ['fit', small(), '--components', '5'], [/INVALID_DATA/, /4 rows/, /5/]],
    ['--covariance bogus', () => ['fit', small(), '--components', '2', '--covariance', 'bogus'], [/--covariance/, /bogus/, /full, diag, spherical, tied/]],
    ['--estep bogus', () => ['fit', small(), '--components', '2', '--estep', 'bogus'], [/bogus/, /exact/]],
    ['--tol -1', () => ['fit', small(), '--components', '2', '--tol', '-1'], [/tol/, /-1/]],
    ['--tol=-1', () => ['fit', small(), '--components', '2', '--tol=-1'], [/tol/, /-1/]],
    ['--tol abc', () => ['fit', small(), '--components', '2', '--tol', 'abc'], [/--tol/, /number/]],
    ['--tol without a value', () => ['fit', small(), '--components', '2', '--tol'], [/--tol/]],
    ['--max-iter 0', () => ['fit', small(), '--components', '2', '--max-iter', '0'], [/max-?[iI]ter/, /= 0/]],
    ['--n-init 0', () => ['fit', small(), '--components', '2', '--n-init', '0'], [/n-?[iI]nit/, /= 0/]],
    ['--reg-covar -1', () => ['fit', small(), '--components', '2', '--reg-covar', '-1'], [/reg-?[cC]ovar/, /-1/]],
    ['--model foo', () => ['fit', small(), '--model', 'foo', '--components', '2'], [/--model/, /foo/, /gmm/]],
    ['--init bogus', () => ['fit', small(), '--components', '2', '--init', 'bogus'], [/init/, /bogus/]],
    ['--draws without stochastic', () => ['fit', small(), '--components', '2', '--draws', '3'], [/--draws/, /stochastic/]],
    ['non-numeric cell', () => ['fit', file('nonnumeric.csv'), '--components', '1'], [/PARSE_ERROR/, /line 4/, /column "y"/, /"abc"/]],
    ['ragged row', () => ['fit', file('ragged.csv'), '--components', '1'], [/PARSE_ERROR/, /line 3/, /expected 3 cells/]],
    ['empty file', () => ['fit', file('empty.csv'), '--components', '1'], [/PARSE_ERROR/, /empty/]],
    ['a column with no observed value', () => ['fit', file('nocolumn.csv'), '--components', '1'], [/INVALID_DATA/, /column 1 has no observed value/, /drop the column/]],
    ['unknown command', () => ['bogus'], [/bogus/, /not an emlab command/]],
    ['demo with an unknown dataset', () => ['demo', '--dataset', 'nope'], [/nope/]],
  ];

  // Spawn them all at once (each pays the wasm start-up), then check one by one.
  let results: Map<string, Run>;
  beforeAll(async () => {
    const runs = await Promise.all(cases.map(async ([name, args]) => [name, await run(args())] as const));
    results = new Map(runs);
  });

  it.each(cases.map(([name, , patterns]) => [name, patterns] as const))('%s', (name, patterns) => {
    expectUserError(results.get(name) as Run, ...patterns);
  });

  it('the good file itself is fine with the same flags (the errors above are about the flags)', async () => {
    const r = await run(['fit', good(), '--components', '2', '--max-iter', '3', '--tol', '0', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as FitResult).nIter).toBe(3);
  });
});

// ---------------------------------------------------------------- missing cells

describe('missing cells (emlab fit, emlab impute)', () => {
  const apple = fileURLToPath(new URL('../../../data/apple_littlerubin.csv', import.meta.url));

  it('emlab fit fits through missing cells and reports them (text and JSON)', async () => {
    const [text, json] = await Promise.all([run(['fit', apple, '--components', '1']), run(['fit', apple, '--components', '1', '--json'])]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/missing {4}6 cells in 1 patterns, fitted through as latent variables/);
    expect(json.code, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout) as { nMissing: number; nRowsAllMissing: number; missingPatterns: { missing: string[]; count: number }[]; converged: boolean };
    expect(out.nMissing).toBe(6);
    expect(out.nRowsAllMissing).toBe(0);
    expect(out.missingPatterns).toEqual([{ missing: [], count: 12 }, { missing: ['worms'], count: 6 }]);
    expect(out.converged).toBe(true);
  });

  it('emlab impute writes the completed table (same header, observed cells unchanged) and variances', async () => {
    const r = await run(['impute', apple, '--components', '1', '--out', file('imputed.csv'), '--variance', file('var.csv')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/imputed 6 missing cells of 18 rows × 2 columns/);
    const input = (await readFile(apple, 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
    const lines = (await readFile(file('imputed.csv'), 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('size,worms');
    const rows = lines.slice(1).map((l) => l.split(',').map(Number));
    expect(rows).toHaveLength(18);
    rows.forEach((row, i) => {
      const cells = input[i] as string[];
      expect(row[0]).toBe(Number(cells[0]));
      if (cells[1] !== '') expect(row[1]).toBe(Number(cells[1]));
      else expect(Number.isFinite(row[1])).toBe(true);
    });
    const variance = (await readFile(file('var.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    variance.forEach((row, i) => expect(row[1] as number > 0).toBe((input[i] as string[])[1] === ''));
  });

  it('emlab impute --draws M stacks M draws with a leading draw column, reproducibly', async () => {
    const args = (out: string, seed: string): string[] => ['impute', apple, '--components', '1', '--draws', '3', '--seed', seed, '--out', file(out)];
    const [a, b, c] = await Promise.all([run(args('d1.csv', '4')), run(args('d2.csv', '4')), run(args('d3.csv', '5'))]);
    for (const r of [a, b, c]) expect(r.code, r.stderr).toBe(0);
    const [t1, t2, t3] = await Promise.all(['d1.csv', 'd2.csv', 'd3.csv'].map((f) => readFile(file(f), 'utf8')));
    expect(t1).toBe(t2);
    expect(t1).not.toBe(t3);
    const lines = (t1 as string).trim().split('\n');
    expect(lines[0]).toBe('draw,size,worms');
    expect(lines).toHaveLength(1 + 3 * 18);
    expect(new Set(lines.slice(1).map((l) => l.split(',')[0]))).toEqual(new Set(['1', '2', '3']));
  });

  it('emlab impute errors: --out missing, bad --draws, a column with nothing observed', async () => {
    const [noOut, badDraws, noColumn] = await Promise.all([
      run(['impute', apple, '--components', '1']),
      run(['impute', apple, '--components', '1', '--draws', '0', '--out', file('x.csv')]),
      run(['impute', file('nocolumn.csv'), '--components', '1', '--out', file('x.csv')]),
    ]);
    expectUserError(noOut, /--out/, /is required/);
    expectUserError(badDraws, /--draws/, /must be an integer >= 1/);
    expectUserError(noColumn, /column 1 has no observed value/);
  });
});

// ---------------------------------------------------------------- other commands

describe('emlab (other commands)', () => {
  it('--help, fit --help, --version, esteps', async () => {
    const [help, fitHelp, version, esteps] = await Promise.all([run(['--help']), run(['fit', '--help']), run(['--version']), run(['esteps'])]);
    for (const r of [help, fitHelp]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Usage');
      expect(r.stdout).toContain('emlab fit <data.csv>');
      expect(r.stderr).toBe('');
    }
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe('0.1.0');
    expect(esteps.code, esteps.stderr).toBe(0);
    for (const name of ['exact', 'hard', 'stochastic']) expect(esteps.stdout).toMatch(new RegExp(`\\b${name}\\b`));
  });
});
