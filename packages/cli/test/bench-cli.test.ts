/**
 * End-to-end tests of `emlab bench` and `emlab compare` on the built binary
 * (`packages/cli/dist/bin.js`; build with `npm run build -w @emlab/cli`): output
 * files, a plug-in E-step named in the suite, identical results with
 * `--workers 1` and `--workers 2` (worker threads run dist/worker.js),
 * Ctrl-C (SIGINT) keeping finished runs and `--resume` completing them to the
 * uninterrupted results, and user errors.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, fromJson } from '@emlab/core';
import type { BenchResults } from '@emlab/bench';
import { BIN, expectUserError, run as runCli, type Run } from './run-cli.js';

const run = (args: readonly string[], onStderr?: (text: string, kill: (s: NodeJS.Signals) => void) => void): Promise<Run> => runCli(args, { cwd: dir, ...(onStderr === undefined ? {} : { onStderr }) });

const CORE_DIST = pathToFileURL(fileURLToPath(new URL('../../core/dist/index.js', import.meta.url))).href;

let dir = '';
const file = (name: string): string => join(dir, name);
const results = async (out: string): Promise<BenchResults> => fromJson(await readFile(join(dir, out, 'results.json'), 'utf8'), out) as BenchResults;
const withoutTimings = (r: BenchResults): unknown => ({ ...r, timings: undefined });

const SUITE = {
  name: 'cli-test',
  plugins: ['./copy-estep.mjs'],
  datasets: [
    { id: 'two', generator: 'gaussianMixture', options: { nSamples: 200, nComponents: 2, nFeatures: 2, seed: 3 } },
    { id: 'three', generator: 'gaussianMixture', options: { nSamples: 150, nComponents: 3, nFeatures: 2, seed: 4 } },
  ],
  models: [{ id: 'gmm', type: 'gmm', options: {} }],
  esteps: ['exact', 'hard', { method: 'stochastic', options: { nDraws: 2 } }, { id: 'plugin', method: 'exact-copy' }],
  seeds: [0, 1],
  stopping: { maxIter: 12, tol: 1e-5 },
  heldOut: { fraction: 0.2, seed: 0 },
};

// A plug-in module: registers an E-step named "exact-copy" (the exact E-step under another name).
const PLUGIN = `import { registerEStep, createEStep } from '${CORE_DIST}';
registerEStep({ kind: 'finite', method: 'exact-copy', family: 'exact', description: 'exact, registered by a plug-in',
  create: (options) => ({ ...createEStep('finite', 'exact'), name: 'exact-copy', options: options ?? {} }) });
`;

function csv(): string {
  const rng = createRng(99);
  const lines = ['a,b'];
  for (let i = 0; i < 150; i++) lines.push(`${(i % 2) * 8 + rng.normal()},${(i % 2) * 8 + rng.normal()}`);
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npx tsc -b packages/cli\` (npm test builds first)`);
  dir = await mkdtemp(join(tmpdir(), 'emlab-bench-cli-'));
  await Promise.all([
    writeFile(file('suite.json'), JSON.stringify(SUITE, null, 2)),
    writeFile(file('copy-estep.mjs'), PLUGIN),
    writeFile(file('data.csv'), csv()),
    writeFile(file('bad-suite.json'), JSON.stringify({ ...SUITE, esteps: ['exact', 'hard', { method: 'stochastic', options: { nDraws: -1 } }] })),
    writeFile(file('long-suite.json'), JSON.stringify({ ...SUITE, plugins: [], esteps: ['exact', 'hard'], seeds: [0, 1, 2, 3, 4, 5], stopping: { maxIter: 25, tol: 0 } })),
  ]);
});

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('emlab bench', () => {
  it('runs a suite with a plug-in E-step and writes results.json, runs.csv and report.html; --workers 2 gives the same results as --workers 1', async () => {
    const [one, two] = await Promise.all([run(['bench', 'suite.json', '--out', 'w1', '--workers', '1']), run(['bench', 'suite.json', '--out', 'w2', '--workers', '2'])]);
    for (const r of [one, two]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/report: {2}.*report\.html/);
      expect(r.stdout).toMatch(/^two\s+gmm\s+plugin\s+2\/2/m);
      expect(r.stderr).toMatch(/\[16\/16\]/); // plain progress lines (not a TTY)
    }
    for (const f of ['results.json', 'runs.csv', 'report.html', 'runs.jsonl']) expect(existsSync(join(dir, 'w1', f))).toBe(true);
    const [a, b] = [await results('w1'), await results('w2')];
    expect(a.runs).toHaveLength(16);
    expect(a.runs.every((r) => r.status === 'ok')).toBe(true);
    expect(a.timings.workers).toBe(1);
    expect(b.timings.workers).toBe(2);
    expect(withoutTimings(b)).toEqual(withoutTimings(a));
    // The plug-in's exact copy from the shared start follows the exact E-step step for step.
    for (const g of a.groups) {
      const exact = a.runs.find((r) => r.group === g.id && r.method === 'exact');
      const copy = a.runs.find((r) => r.group === g.id && r.method === 'plugin');
      expect(copy?.initHash).toBe(exact?.initHash);
      expect(copy?.trace).toEqual(exact?.trace);
    }
    const csvRows = (await readFile(join(dir, 'w1', 'runs.csv'), 'utf8')).trimEnd().split('\n');
    expect(csvRows).toHaveLength(17);
  });

  it('stops cleanly on Ctrl-C keeping finished runs, and --resume completes them to the uninterrupted results', async () => {
    let sent = false;
    const interrupted = await run(['bench', 'long-suite.json', '--out', 'int', '--workers', '1'], (text, kill) => {
      if (!sent && /\[3\/24\]/.test(text)) {
        sent = true;
        kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(interrupted.code, interrupted.stderr).toBe(130);
    expect(interrupted.stderr).toMatch(/interrupted/);
    expect(interrupted.stderr).toMatch(/continue with --resume/);
    const partial = await results('int');
    expect(partial.complete).toBe(false);
    expect(partial.runs.length).toBeGreaterThanOrEqual(3);
    expect(partial.runs.length).toBeLessThan(24);
    const resumed = await run(['bench', 'long-suite.json', '--out', 'int', '--workers', '2', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resumed \d+\/24 finished runs/);
    const full = await run(['bench', 'long-suite.json', '--out', 'full', '--workers', '2']);
    expect(full.code, full.stderr).toBe(0);
    expect(withoutTimings(await results('int'))).toEqual(withoutTimings(await results('full')));
  });

  it('reports suite errors with the JSON path, before any run', async () => {
    const r = await run(['bench', 'bad-suite.json', '--out', 'bad']);
    expectUserError(r, /suite\.esteps\[2\]\.options\.nDraws = -1: must be an integer in \[1, 10000\]\. Remedy: /);
    expect(existsSync(join(dir, 'bad', 'runs.jsonl'))).toBe(false);
    // The flag errors of bench and compare are checked in-process in cli-errors.test.ts.
  });
});

describe('emlab compare', () => {
  it('compares E-steps on a CSV from shared starts and prints a summary table', async () => {
    const r = await run(['compare', 'data.csv', '--model', 'gmm', '--components', '2', '--esteps', 'exact,hard,stochastic', '--seeds', '2', '--max-iter', '10', '--workers', '1', '--out', 'cmp']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^data\s+gmm\s+exact\s+2\/2/m);
    expect(r.stdout).toMatch(/^data\s+gmm\s+stochastic\s+2\/2/m);
    expect(r.stdout).toMatch(/report: {2}.*cmp.report\.html/);
    const res = await results('cmp');
    expect(res.runs.map((x) => x.method)).toEqual(['exact', 'hard', 'stochastic', 'exact', 'hard', 'stochastic']);
    expect(res.manifest.suite.seeds).toEqual([0, 1]);
    expect(res.manifest.suitePath).toBeNull();
    expect(new Set(res.runs.filter((x) => x.seed === 0).map((x) => x.initHash)).size).toBe(1);
  });
});
