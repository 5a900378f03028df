/**
 * `emlab select` and the mixture models on the command line, in-process through `main` (same exit
 * codes and stderr as the binary): the human table and the JSON report, --columns,
 * --weights-column, --out (atomic, read back by loadResult), help from the command table (its
 * defaults = selectModel's), user errors naming the flag before any fit; and `emlab fit --model
 * mixture|mclust` with model flags from the registry, --init-labels COLUMN taken out of the data.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@emlab/core';
import { loadResult } from '@emlab/core/node';
import { SELECT_MODEL_OPTIONS } from '@emlab/models';
import { commandSpec } from '../src/internal/commands.js';
import { main } from '../src/main.js';
import { expectUserError, type Run } from './run-cli.js';

let dir = '';
const file = (name: string): string => join(dir, name);

async function cli(args: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTty: false });
  return { code, signal: null, stdout, stderr };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emlab-select-'));
  const rng = createRng(3);
  // Two correlated Gaussian clusters with a common covariance (EEE), an id column, a count column
  // whose rate follows the cluster, the true label and a frequency weight.
  const lines = ['id,a,b,count,label,w'];
  for (let i = 0; i < 240; i++) {
    const k = i % 2;
    const e = rng.normal();
    const rate = k === 0 ? 2 : 9;
    let count = 0;
    for (let p = Math.exp(-rate), u = rng.uniform(), c = p; u > c; ) {
      count++;
      p *= rate / count;
      c += p;
    }
    lines.push(`${i},${(e + 5 * k).toFixed(5)},${(0.8 * e + 0.6 * rng.normal() - 2 * k).toFixed(5)},${count},${k},${1 + (i % 3)}`);
  }
  lines[7] = '6,NA,1.5,3,0,1';
  await writeFile(file('two.csv'), `${lines.join('\n')}\n`);
  await writeFile(file('keep.json'), 'previous');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('emlab select', () => {
  it('prints the BIC table (mclust convention), the top three and the best fit; --out saves it', async () => {
    const r = await cli(['select', file('two.csv'), '--columns', 'a,b', '--models', 'EII,EEE,VVV', '--components', '1:3', '--out', file('best.json')]);
    // stderr: at most progress lines (a slow run reports every few seconds)
    for (const line of r.stderr.split('\n').filter((l) => l !== '')) expect(line).toMatch(/^select .*two\.csv: (reading|\d+\/9 fits)/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/240 rows × 2 columns \(a, b\), 1 missing cells \(latent\)/);
    expect(r.stdout).toMatch(/BIC: mclust's convention: BIC = 2 log L − p log n/);
    expect(r.stdout).toMatch(/ {2}K {6}EII {6}EEE {6}VVV\n {2}1 /);
    expect(r.stdout).toMatch(/Best: EEE with 2 component\(s\)/);
    expect(r.stdout).toMatch(/component {2}weight {4}mean \(a, b\)/);
    expect(r.stdout).toMatch(/best fit written to /);
    const saved = await loadResult(file('best.json'));
    expect(saved.model.name).toBe('mclust');
    expect(saved.model.options['covariance']).toBe('EEE');
    expect((saved.params as { weights: number[] }).weights).toHaveLength(2);
  });

  it('--json prints the table, every cell and the best fit', async () => {
    const r = await cli(['select', file('two.csv'), '--columns', 'a,b', '--models', 'VII,VVV', '--components', '2', '--criterion', 'icl', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { criterion: string; models: string[]; components: number[]; columns: string[]; table: (number | null)[][]; rows: { model: string; icl: number; bic: number }[]; best: { model: string; result: { params: unknown } } };
    expect(report.criterion).toBe('icl');
    expect(report.models).toEqual(['VII', 'VVV']);
    expect(report.components).toEqual([2]);
    expect(report.columns).toEqual(['a', 'b']);
    expect(report.table[0]).toEqual(report.rows.map((x) => x.icl));
    // ICL = BIC + 2 Σ log max_k z ≤ BIC
    for (const row of report.rows) expect(row.icl).toBeLessThanOrEqual(row.bic);
    expect(report.best.result.params).toBeDefined();
  });

  it('--weights-column: frequency weights (n in the BIC is their sum), the column left out of the data', async () => {
    const r = await cli(['select', file('two.csv'), '--columns', 'a,b', '--weights-column', 'w', '--models', 'EEE', '--components', '2', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { n: number; weightsColumn: string; rows: { logLikelihood: number; nParameters: number; bic: number }[] };
    expect(report.weightsColumn).toBe('w');
    expect(report.n).toBe(80 * 1 + 80 * 2 + 80 * 3);
    const row = report.rows[0] as { logLikelihood: number; nParameters: number; bic: number };
    expect(row.bic).toBeCloseTo(2 * row.logLikelihood - row.nParameters * Math.log(480), 8);
  });

  it('user errors name the flag, the value and a remedy, before any fit; a failed run leaves --out as it was', async () => {
    const cases: [string[], RegExp][] = [
      [['--components', '0:2'], /--components = "0:2": is not a range a:b or a comma list of integers >= 1\. Remedy: pass e\.g\. 1:9/],
      [['--models', 'EII,ABC'], /--models\[1\] = "ABC": is not a covariance model\. Remedy: use one of: EII, VII/],
      [['--criterion', 'aic'], /--criterion = "aic": must be one of "bic", "icl"/],
      [['--tol', '-1'], /--tol = "-1": must be a finite number >= 0/],
      [['--hc-max-rows', '1'], /--hc-max-rows = "1": must be an integer in \[2, 10000\]/],
      [['--columns', 'a,zz'], /--columns = "zz": is not a column of the data \(columns: id, a, b, count, label, w\)/],
      [['--columns', 'a,b', '--models', 'E'], /--models\[0\] = "E": is univariate but the data has 2 columns/],
      [['--weights-column', 'nope'], /--weights-column = "nope": is not a column of /],
      [['--estep', 'nope', '--columns', 'a,b', '--components', '1'], /--estep = "nope": no method registered for structure kind "finite"/],
      [['--components', '3', '--family', 'poisson'], /--family = "poisson": must be one of "gaussian", "t"/],
      [['--cmponents', '3'], /--cmponents: is not a flag of emlab select\. Remedy: did you mean --components\?/],
      [['--json=1'], /--json = "1": is a switch and takes no value/],
    ];
    for (const [args, pattern] of cases) {
      const r = await cli(['select', file('two.csv'), ...args, '--out', file('keep.json')]);
      expectUserError(r, pattern);
      expect(r.stderr).not.toMatch(/options\.|selectModel/);
    }
    expect(await readFile(file('keep.json'), 'utf8')).toBe('previous');
    expectUserError(await cli(['select']), /<data\.csv>: is missing\. Remedy: pass it: emlab select data\.csv/);
    expectUserError(await cli(['select', file('absent.csv')]), /absent\.csv/);
    expectUserError(await cli(['select', file('two.csv'), '--out', dir]), /--out/);
  });

  it('--help lists every flag with selectModel\'s defaults; the global help lists the command', async () => {
    const r = await cli(['select', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^emlab select — mixture model selection/);
    expect(r.stdout).toMatch(/emlab select <data\.csv>/);
    expect(r.stdout).toMatch(/Sign convention \(mclust's\): BIC = 2 log L − p log n/);
    const spec = commandSpec('select');
    const flags = new Map((spec?.groups ?? []).flatMap((g) => g.flags).map((f) => [f.name, f]));
    for (const [key, option] of Object.entries(SELECT_MODEL_OPTIONS)) {
      if (!('flag' in option) || option.flag === undefined) continue;
      const f = flags.get(option.flag);
      expect(f, `--${option.flag} (${key})`).toBeDefined();
      expect(r.stdout).toContain(`--${option.flag}`);
      if ('default' in option && option.default !== undefined && key !== 'models') expect(f?.default, `default of --${option.flag}`).toBe(String(option.default));
    }
    const global = await cli(['--help']);
    expect(global.stdout).toMatch(/emlab select <data\.csv>/);
    const help = await cli(['help', 'select']);
    expect(help.stdout).toBe(r.stdout);
  });
});

describe('emlab fit --model mixture | mclust', () => {
  it('mclust: the covariance model from --covariance, hc init, the component table', async () => {
    const r = await cli(['fit', file('two.csv'), '--model', 'mclust', '--components', '2', '--covariance', 'EEE', '--weights-column', 'w', '--order', 'mean', '--init-labels', 'label', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { model: { name: string; options: Record<string, unknown> }; params: { weights: number[]; families: { means: number[][] }[] }; columns: string[]; nRows: number; converged: boolean };
    expect(result.model.name).toBe('mclust');
    expect(result.model.options['covariance']).toBe('EEE');
    expect(result.model.options['initLabels']).toBe('given');
    expect(result.columns).toEqual(['id', 'a', 'b', 'count']);
    expect(result.converged).toBe(true);
    const means = (result.params.families[0] as { means: number[][] }).means;
    // --order mean: the first modelled column's means increase (id is the first column here).
    expect((means[0] as number[])[0]).toBeLessThanOrEqual((means[1] as number[])[0] as number);
  });

  it('mixture: a product of families from --family text, --init-labels COLUMN taken out of the data', async () => {
    const r = await cli(['fit', file('two.csv'), '--model', 'mixture', '--components', '2', '--family', 'gaussian(a,b):covariance=EEE+poisson(count)', '--init-labels', 'label', '--order', 'weight']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--family gaussian\(a,b\):covariance=EEE.*\+poisson\(count\)/);
    expect(r.stdout).toMatch(/initLabels from column "label"/);
    expect(r.stdout).toMatch(/240 rows × 5 columns \(id, a, b, count, w\)/);
    expect(r.stdout).toMatch(/converged {2}yes/);
    const saved = await cli(['fit', file('two.csv'), '--model', 'mixture', '--components', '2', '--family', 'gaussian(a,b):covariance=EEE+poisson(count)', '--init-labels', 'label', '--json']);
    const fitted = JSON.parse(saved.stdout) as { params: { families: [{ means: number[][] }, { rates: number[][] }] } };
    const rates = fitted.params.families[1].rates.map((x) => x[0] as number).sort((x, y) => x - y);
    expect(rates[0]).toBeGreaterThan(1.4);
    expect(rates[0]).toBeLessThan(2.6);
    expect(rates[1]).toBeGreaterThan(7.8);
    expect(rates[1]).toBeLessThan(10.2);
  });

  it('errors name the model flag', async () => {
    expectUserError(await cli(['fit', file('two.csv'), '--model', 'mixture', '--components', '2', '--init-labels', 'zz']), /--init-labels = "zz": is not a column of .*two\.csv/);
    expectUserError(await cli(['fit', file('two.csv'), '--model', 'mixture', '--components', '2', '--family', 'gaussian(a,b)', '--init-labels', 'count']), /--init-labels data row \d+ = \d+: must be a component 0 … 1/);
    expectUserError(await cli(['fit', file('two.csv'), '--model', 'mclust', '--components', '2', '--covariance', 'XYZ']), /--covariance = "XYZ": must be one of "EII"/);
    expectUserError(await cli(['fit', file('two.csv'), '--model', 'mixture', '--components', '2', '--family', 'gaussian(a,b)+nope(count)']), /--family.*nope/);
    expectUserError(await cli(['fit', file('two.csv'), '--model', 'mixture', '--family', 'poisson(count)']), /--components: is required by --model mixture/);
  });
});
