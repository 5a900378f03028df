/**
 * The built binary with models other than the default: `--model bn` (read by its registration,
 * row weights included) and a `--plugin` model with its own flag.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FitResult } from '@emlab/core';
import { ASIA, checkResult, expectMeansNearTruth, makeFixtures } from './fit-fixtures.js';
import { BIN, run, runAll, type Run } from './run-cli.js';

let file: (name: string) => string = () => '';
let cleanup = async (): Promise<void> => undefined;
beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build -w @emlab/cli\` (npm test builds first)`);
  ({ file, cleanup } = await makeFixtures());
});
afterAll(async () => cleanup());

describe('emlab fit: other models', () => {
  it('--model bn (alias) reads its data through its registration; a --plugin model gets its own flag', async () => {
    const sample = await run(['bn', 'sample', ASIA, '--n', '500', '--seed', '4', '--out', file('asia.csv')]);
    expect(sample.code, sample.stderr).toBe(0);
    const [bn, plugin, pluginHelp, models] = await runAll([
      ['fit', file('asia.csv'), '--model', 'bn', '--network', ASIA, '--pseudo-count', '1', '--json', '--max-iter', '20'],
      ['fit', file('good.csv'), '--plugin', file('plugin.mjs'), '--model', 'gmm-k', '--k', '3', '--seed', '3', '--json'],
      ['fit', '--plugin', file('plugin.mjs'), '--model', 'gmm-k', '--help'],
      ['models', '--plugin', file('plugin.mjs')],
    ]);
    expect(bn?.code, bn?.stderr).toBe(0);
    const b = JSON.parse(bn?.stdout as string) as FitResult;
    expect(b.model.name).toBe('bayesian-network');
    expect(b.model.options).toMatchObject({ pseudoCount: 1 });
    expect(b.nRows).toBe(500);
    const p = checkResult(plugin as Run, { estep: 'exact', seed: 3, covariance: 'full' });
    expectMeansNearTruth(p.params.means);
    expect(pluginHelp?.stdout).toMatch(/Model flags of --model gmm-k: a Gaussian mixture registered by a plug-in/);
    expect(pluginHelp?.stdout).toMatch(/\n {2}--k N +components \(an integer >= 1; required\)/);
    expect(pluginHelp?.stdout).not.toMatch(/--components/);
    expect(models?.stdout).toMatch(/^gmm-k: a Gaussian mixture registered by a plug-in/m);
  });

  it('--weights-column with a model that reads its own files (bn): a weight of 2 equals a duplicated row', async () => {
    const sample = await run(['bn', 'sample', ASIA, '--n', '300', '--seed', '9', '--missing-rate', '0.1', '--out', file('asia300.csv')]);
    expect(sample.code, sample.stderr).toBe(0);
    const [header, ...rows] = (await readFile(file('asia300.csv'), 'utf8')).trimEnd().split('\n');
    await writeFile(file('asia-weighted.csv'), `${header},count\n${rows.map((r, i) => `${r},${i % 4 === 0 ? 2 : 1}`).join('\n')}\n`);
    await writeFile(file('asia-duplicated.csv'), `${header}\n${rows.flatMap((r, i) => (i % 4 === 0 ? [r, r] : [r])).join('\n')}\n`);
    const common = ['--model', 'bn', '--network', ASIA, '--init', 'network', '--tol', '1e-12', '--json'];
    const [w, dup, bnFit] = await runAll([
      ['fit', file('asia-weighted.csv'), '--weights-column', 'count', ...common],
      ['fit', file('asia-duplicated.csv'), ...common],
      ['bn', 'fit', ASIA, file('asia-weighted.csv'), '--weights-column', 'count', '--init', 'network', '--tol', '1e-12', '--json'],
    ]);
    for (const r of [w, dup, bnFit]) expect(r?.code, r?.stderr).toBe(0);
    const a = JSON.parse(w?.stdout as string) as FitResult;
    const b = JSON.parse(dup?.stdout as string) as FitResult;
    const c = JSON.parse(bnFit?.stdout as string) as FitResult;
    expect(a.totalWeight).toBe(375);
    expect(b.nRows).toBe(375);
    for (const x of [a, c]) expect(Math.abs((x.logLikelihood as number) - (b.logLikelihood as number))).toBeLessThan(1e-9 * Math.abs(b.logLikelihood as number));
  });

});
