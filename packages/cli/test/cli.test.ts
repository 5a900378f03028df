/**
 * End-to-end tests of the real, built `emlab` binary (`packages/cli/dist/bin.js`) fitting:
 * spawned with node on CSV files written to a temp directory. `npm test` builds first; by hand
 * run `npm run build -w @emlab/cli` (tsc and the registry snapshot) before vitest.
 * User errors are in `cli-errors.test.ts` (in-process); weights, given starts, other models and
 * encodings in `cli-features.test.ts`; help, outputs and Ctrl-C in `cli-io.test.ts`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromJson, omitTimings, type FitResult } from '@emlab/core';
import { loadResult } from '@emlab/core/node';
import type { GmmParams } from '@emlab/models';
import { checkResult, expectMeansNearTruth, makeFixtures } from './fit-fixtures.js';
import { BIN, expectUserError, run, runAll, type Run } from './run-cli.js';

let file: (name: string) => string = () => '';
let cleanup = async (): Promise<void> => undefined;
beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build -w @emlab/cli\` (npm test builds first)`);
  ({ file, cleanup } = await makeFixtures());
});
afterAll(async () => cleanup());

// ---------------------------------------------------------------- fits

describe('emlab fit', () => {
  let human: Run;
  let json: Run;
  let tied: Run;
  let hard: Run;
  let stoch: [Run, Run, Run, Run];
  beforeAll(async () => {
    const s = ['fit', file('good.csv'), '--components', '3', '--estep', 'stochastic', '--json', '--seed', '11'];
    const rs = await runAll([
      ['fit', file('good.csv'), '--model', 'gmm', '--components', '3', '--seed', '3', '--out', file('human.json')],
      ['fit', file('good.csv'), '--components', '3', '--seed', '7', '--json', '--tol', '1e-8', '--max-iter', '200', '--reg-covar', '1e-6', '--n-init', '2', '--convergence', 'relative', '--precision', 'float64', '--record-params', '2'],
      ['fit', file('good.csv'), '--components', '3', '--covariance', 'tied', '--seed', '1', '--json'],
      ['fit', file('good.csv'), '--components', '3', '--estep', 'hard', '--seed', '2', '--json'],
      [...s, '--draws', '2', '--out', file('stochastic.json')],
      [...s, '--estep-option', 'nDraws=2'],
      [...s.slice(0, -1), 'run-a', '--draws', '2'],
      [...s, '--draws', '3'],
    ]);
    [human, json, tied, hard] = rs as [Run, Run, Run, Run];
    stoch = rs.slice(4) as [Run, Run, Run, Run];
  });

  it('prints a human summary (12 significant digits, the precision used), and --out writes a loadable result', async () => {
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^model {6}gmm: Gaussian mixture/);
    expect(human.stdout).toMatch(/\noptions {4}--components 3 --covariance full --reg-covar 0\.000001 --numerics auto\n/);
    expect(human.stdout).toMatch(/\nmethod {5}exact \(exact\); precision float64 \(requested auto\)/);
    expect(human.stdout).toMatch(/\nconverged {2}yes \(aitken rule/);
    expect(human.stdout).toContain('x, y, z');
    expect(human.stdout).toContain(`result written to ${file('human.json')}`);
    const loaded = await loadResult<GmmParams>(file('human.json'));
    expect(loaded.format).toBe('emlab/fit-result');
    expectMeansNearTruth(loaded.params.means);
    // The summary's log-likelihood is the saved one to 12 significant digits.
    const shown = /\nlog-lik {4}(\S+)\n/.exec(human.stdout)?.[1] as string;
    expect(shown.replace(/^-|\./g, '').replace(/^0+/, '')).toHaveLength(12);
    expect(Number(shown)).toBe(Number((loaded.logLikelihood as number).toPrecision(12)));
  });

  it('--json prints the FitResult (every number exact) with the options of the flags', () => {
    const res = checkResult(json, { estep: 'exact', seed: 7, covariance: 'full' });
    expectMeansNearTruth(res.params.means);
    expect(res.converged).toBe(true);
    expect(res.boundKind).toBe('log-likelihood');
    expect(res.options).toMatchObject({ maxIter: 200, tol: 1e-8, nInit: 2, convergence: 'relative', precision: 'float64' });
    expect(res.convergence.policy).toBe('relative');
    expect(res.precision).toEqual({ requested: 'float64', used: ['float64'] });
    expect(res.restarts).toHaveLength(2);
    expect(res.model.options).toMatchObject({ nComponents: 3, covarianceType: 'full', regCovar: 1e-6 });
    // --record-params 2: parameters on every second iteration and the last
    res.trace.forEach((t, i) => expect('params' in t, `iteration ${t.iteration}`).toBe(t.iteration % 2 === 0 || i === res.trace.length - 1));
    // JSON numbers are the float64 values exactly (shortest round trip, up to 17 significant digits).
    expect(json.stdout).toContain(`"logLikelihood": ${String(res.logLikelihood)}`);
  });

  it('--covariance tied and --estep hard', () => {
    expectMeansNearTruth(checkResult(tied, { estep: 'exact', seed: 1, covariance: 'tied' }).params.means);
    expectMeansNearTruth(checkResult(hard, { estep: 'hard', seed: 2, covariance: 'full' }).params.means);
  });

  it('--estep stochastic: --draws S is --estep-option nDraws=S; reproducible; --out equals --json; a string seed is kept', async () => {
    const [a, b, named, three] = stoch;
    const resA = checkResult(a, { estep: 'stochastic', seed: 11, covariance: 'full' });
    checkResult(b, { estep: 'stochastic', seed: 11, covariance: 'full' });
    checkResult(named, { estep: 'stochastic', seed: 'run-a', covariance: 'full' });
    expect(resA.method.options).toEqual({ nDraws: 2 });
    expect((JSON.parse(three.stdout) as FitResult).method.options).toEqual({ nDraws: 3 });
    const parsedA = fromJson(a.stdout) as FitResult & Record<string, unknown>;
    expect(omitTimings(parsedA)).toEqual(omitTimings(fromJson(b.stdout) as FitResult));
    const loaded = await loadResult<GmmParams>(file('stochastic.json'));
    const { columns: _c, nMissing, nRowsAllMissing: _n, missingPatterns: _m, ...withoutExtras } = parsedA;
    expect(nMissing).toBe(0);
    expect(loaded).toEqual(withoutExtras);
  });
});

describe('missing cells (emlab fit, emlab impute)', () => {
  const apple = fileURLToPath(new URL('../../../data/apple_littlerubin.csv', import.meta.url));

  it('fit reports them (text and JSON); impute writes means and variances; --imputations M stacks M draws reproducibly', async () => {
    const imp = (out: string, seed: string): string[] => ['impute', apple, '--components', '1', '--imputations', '3', '--seed', seed, '--out', file(out)];
    const [text, json, means, d1, d2, d3] = await runAll([
      ['fit', apple, '--components', '1'],
      ['fit', apple, '--components', '1', '--json'],
      ['impute', apple, '--components', '1', '--out', file('imputed.csv'), '--variance', file('var.csv')],
      imp('d1.csv', '4'),
      imp('d2.csv', '4'),
      imp('d3.csv', '5'),
    ]);
    expect(text?.stdout).toMatch(/missing {4}6 cells in 1 patterns, fitted through as latent variables/);
    const out = JSON.parse(json?.stdout as string) as { nMissing: number; missingPatterns: unknown; converged: boolean };
    expect(out.nMissing).toBe(6);
    expect(out.missingPatterns).toEqual([{ missing: [], count: 12 }, { missing: ['worms'], count: 6 }]);
    expect(out.converged).toBe(true);

    expect(means?.code, means?.stderr).toBe(0);
    expect(means?.stdout).toMatch(/imputed 6 missing cells of 18 rows × 2 columns/);
    const input = (await readFile(apple, 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
    const lines = (await readFile(file('imputed.csv'), 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('size,worms');
    lines.slice(1).map((l) => l.split(',').map(Number)).forEach((row, i) => {
      const cells = input[i] as string[];
      expect(row[0]).toBe(Number(cells[0]));
      if (cells[1] !== '') expect(row[1]).toBe(Number(cells[1]));
      else expect(Number.isFinite(row[1])).toBe(true);
    });
    const variance = (await readFile(file('var.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    variance.forEach((row, i) => expect((row[1] as number) > 0).toBe((input[i] as string[])[1] === ''));

    for (const r of [d1, d2, d3]) expect(r?.code, r?.stderr).toBe(0);
    const [t1, t2, t3] = await Promise.all(['d1.csv', 'd2.csv', 'd3.csv'].map((f) => readFile(file(f), 'utf8')));
    expect(t1).toBe(t2);
    expect(t1).not.toBe(t3);
    const drawn = (t1 as string).trim().split('\n');
    expect(drawn[0]).toBe('draw,size,worms');
    expect(drawn).toHaveLength(1 + 3 * 18);
    expect(new Set(drawn.slice(1).map((l) => l.split(',')[0]))).toEqual(new Set(['1', '2', '3']));
  });

  it('a user error through the binary is one line on stderr with exit 2', async () => {
    expectUserError(await run(['fit', apple, '--components', '1', '--components', '2']), /--components = "2": is given twice/);
  });
});
