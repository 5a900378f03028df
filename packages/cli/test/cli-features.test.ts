/**
 * The built binary's fitting features: `--weights-column`, `--init-params`, `--estep gradient`,
 * and RFC 4180 / UTF-16 input (other models: `cli-models.test.ts`).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paramsDocument, toJson, type FitResult } from '@emlab/core';
import { loadResult } from '@emlab/core/node';
import type { GmmParams } from '@emlab/models';
import { N, expectMeansNearTruth, makeFixtures } from './fit-fixtures.js';
import { BIN, run, runAll } from './run-cli.js';

let file: (name: string) => string = () => '';
let cleanup = async (): Promise<void> => undefined;
beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build -w @emlab/cli\` (npm test builds first)`);
  ({ file, cleanup } = await makeFixtures());
});
afterAll(async () => cleanup());

describe('emlab fit: weights, given starts, other models, plug-ins, other encodings', () => {
  it('--weights-column: a weight of 2 equals a duplicated row (same start), and the column is left out', async () => {
    const start = paramsDocument('gmm', (await loadResultOrFit()).params);
    await writeFile(file('start.json'), toJson(start));
    const common = ['--components', '3', '--init-params', file('start.json'), '--json', '--tol', '1e-12', '--max-iter', '500'];
    const [w, dup] = await runAll([
      ['fit', file('weighted.csv'), '--weights-column', 'w', ...common],
      ['fit', file('duplicated.csv'), ...common],
    ]);
    expect(w?.code, w?.stderr).toBe(0);
    expect(dup?.code, dup?.stderr).toBe(0);
    const a = JSON.parse(w?.stdout as string) as FitResult<GmmParams> & { columns: string[]; weightsColumn: string };
    const b = JSON.parse(dup?.stdout as string) as FitResult<GmmParams>;
    expect(a.columns).toEqual(['x', 'y', 'z']);
    expect(a.weightsColumn).toBe('w');
    expect(a.options.weighted).toBe(true);
    expect(a.options.init).toBe('given');
    expect(a.totalWeight).toBe(N + N / 3);
    expect(b.nRows).toBe(N + N / 3);
    // Same optimum: the weighted and the duplicated data have the same likelihood function.
    expect(Math.abs((a.logLikelihood as number) - (b.logLikelihood as number))).toBeLessThan(1e-8 * Math.abs(b.logLikelihood as number));
    a.params.means.forEach((m, k) => m.forEach((v, j) => expect(Math.abs(v - ((b.params.means[k] as number[])[j] as number))).toBeLessThan(1e-6)));
  });

  it('--init-params: a saved result restarts at its optimum (the bound does not move)', async () => {
    const saved = await loadResultOrFit();
    const r = await run(['fit', file('good.csv'), '--components', '3', '--init-params', file('base.json'), '--json', '--max-iter', '3']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as FitResult<GmmParams>;
    expect(res.options.init).toBe('given');
    expect(Math.abs(res.bound - saved.bound)).toBeLessThan(1e-7 * Math.abs(saved.bound));
  });

  it('--estep gradient fits through the same loop', async () => {
    const r = await run(['fit', file('good.csv'), '--components', '3', '--estep', 'gradient', '--estep-option', 'optimizer=lbfgs', '--seed', '3', '--json', '--max-iter', '300']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as FitResult<GmmParams>;
    expect(res.method).toMatchObject({ name: 'gradient', family: 'gradient' });
    expectMeansNearTruth(res.params.means);
  });

  it('reads RFC 4180 quoted line breaks and UTF-16 files to the same fit as plain UTF-8', async () => {
    const args = ['--components', '3', '--seed', '5', '--json'];
    const [plain, quoted, utf16] = await runAll([['fit', file('good.csv'), ...args], ['fit', file('quoted.csv'), ...args], ['fit', file('utf16.csv'), ...args]]);
    const a = JSON.parse(plain?.stdout as string) as FitResult & { columns: string[] };
    const q = JSON.parse(quoted?.stdout as string) as FitResult & { columns: string[] };
    const u = JSON.parse(utf16?.stdout as string) as FitResult & { columns: string[] };
    expect(q.columns).toEqual(['x', 'y\nsecond line', 'z']);
    expect(u.columns).toEqual(['x', 'y', 'z']);
    expect(q.params).toEqual(a.params);
    expect(u.params).toEqual(a.params);
  });
});

let base: FitResult<GmmParams> | undefined;
/** A converged fit of good.csv saved as base.json (once). */
async function loadResultOrFit(): Promise<FitResult<GmmParams>> {
  if (base === undefined) {
    const r = await run(['fit', file('good.csv'), '--components', '3', '--seed', '3', '--tol', '1e-12', '--out', file('base.json')]);
    expect(r.code, r.stderr).toBe(0);
    base = await loadResult<GmmParams>(file('base.json'));
  }
  return base;
}

