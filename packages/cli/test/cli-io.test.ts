/**
 * The binary's help, version and start-up, output safety, progress and Ctrl-C; the flag parser
 * and the staged output commit in-process.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmError, createRng } from '@emlab/core';
import { catchEmError } from '@emlab/testing';
import { liveCatalog } from '../src/internal/catalog-live.js';
import { FLAGS } from '../src/internal/flag-spec.js';
import { commitOutputs } from '../src/internal/outputs.js';
import { parseFlags } from '../src/internal/parse-flags.js';
import { Progress } from '../src/internal/progress.js';
import { BIN, expectUserError, run, runAll } from './run-cli.js';

let dir = '';
const file = (name: string): string => join(dir, name);
const ASIA = fileURLToPath(new URL('../../../data/bn/asia.bif', import.meta.url));

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build -w @emlab/cli\` (npm test builds first)`);
  dir = await mkdtemp(join(tmpdir(), 'emlab-cli-io-'));
  // 60,000 rows × 6 columns from 6 clusters: a fit of K = 6 to tol 0 takes several seconds.
  const rng = createRng(3).child('cli-io');
  const lines = ['a,b,c,d,e,f'];
  for (let i = 0; i < 60_000; i++) lines.push(Array.from({ length: 6 }, (_, j) => (((i % 6) * (j + 1)) % 7 + rng.normal()).toFixed(4)).join(','));
  await Promise.all([
    writeFile(file('long.csv'), `${lines.join('\n')}\n`),
    writeFile(file('small.csv'), 'x,y\n1,2\n2,3.5\n3,1\n4,5\n5,4\n'),
    writeFile(file('bad.csv'), 'x,y\n1,2\n2,abc\n'),
    writeFile(file('previous.json'), 'previous result'),
    writeFile(file('previous.csv'), 'previous sample'),
  ]);
});

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('help and version', () => {
  it('each command has its own help with every flag and its default; model flags and E-step options come from the schemas', async () => {
    const [global, fit, fitBn, helpFit, impute, bnFit, bn, version] = await runAll([['--help'], ['fit', '--help'], ['fit', '--model', 'bn', '--help'], ['help', 'fit'], ['impute', '-h'], ['bn', 'fit', '--help'], ['bn', '--help'], ['--version']]);
    for (const r of [global, fit, fitBn, helpFit, impute, bnFit, bn, version]) {
      expect(r?.code, r?.stderr).toBe(0);
      expect(r?.stderr).toBe('');
    }
    expect(global?.stdout).toMatch(/emlab fit <data\.csv\|\.parquet\|\.arrow> \[--model NAME\]/);
    expect(global?.stdout).toMatch(/emlab worker --queue redis:\/\/HOST:PORT/);
    expect(global?.stdout).toMatch(/emlab bn fit <network\.bif\|json> <data\.csv>/);
    const f = fit?.stdout as string;
    expect(f).toMatch(/^emlab fit — /);
    for (const name of ['model', 'estep', 'estep-option', 'draws', 'weights-column', 'init', 'init-params', 'precision', 'convergence', 'tol', 'max-iter', 'n-init', 'seed', 'record-params', 'workers', 'queue', 'shards', 'stream', 'cache-dir', 'out', 'json', 'plugin', 'help']) {
      expect(f, name).toMatch(new RegExp(`\\n  --${name}\\b`));
    }
    expect(f).toMatch(/--max-iter N +maximum passes over the data per restart \(default: 1000\)/);
    expect(f).toMatch(/--precision auto\|float32\|float64\n +arithmetic [\s\S]*?\(default: auto\)/);
    // generated from the registrations' option schemas
    expect(f).toMatch(/\n {2}--components N +number of components K \(an integer >= 1; required\)/);
    expect(f).toMatch(/\n {2}--covariance full\|diag\|spherical\|tied\n +covariance structure \(one of full, diag, spherical, tied; default: full\)/);
    expect(f).toMatch(/\n {2}--pseudo-count X +Dirichlet pseudo-count/);
    expect(f).toMatch(/\n {4}nDraws=N +draws of z per row [\s\S]*?default: 1\)/);
    expect(f).toMatch(/\n {4}optimizer=lbfgs\|adam/);
    expect(fitBn?.stdout).toMatch(/Model flags of --model bayesian-network/);
    expect(fitBn?.stdout).not.toMatch(/--components/);
    expect(fitBn?.stdout).not.toMatch(/\n  stochastic \(structure kind finite/); // no finite-kind E-steps for a factor graph
    expect(fitBn?.stdout).toMatch(/\n  exact \(structure kind factor-graph/);
    expect(helpFit?.stdout).toBe(f);
    expect(impute?.stdout).toMatch(/--imputations M/);
    expect(bnFit?.stdout).toMatch(/--pseudo-count X/);
    expect(bnFit?.stdout).not.toMatch(/\n  --network /);
    expect(bn?.stdout).toMatch(/emlab bn query <network\.bif\|json> --target A/);
    expect(version?.stdout).toBe('0.1.0\n');
  });

  it('--version and fit --help load no command module, registry or TensorFlow.js (start-up stays light)', async () => {
    const main = pathToFileURL(fileURLToPath(new URL('../dist/main.js', import.meta.url))).href;
    const script = `const { main } = await import(${JSON.stringify(main)});
      let out = '';
      const io = { stdout: (t) => (out += t), stderr: (t) => (out += t), isTty: false };
      await main(['--version'], io);
      await main(['fit', '--help'], io);
      await main(['models', '--help'], io);
      console.log(JSON.stringify({ tf: globalThis._tfengine !== undefined, bytes: out.length }));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    const got = JSON.parse(stdout) as { tf: boolean; bytes: number };
    expect(got.tf).toBe(false);
    expect(got.bytes).toBeGreaterThan(1000);
  });

  it('the build snapshot of the registries (used by --help) equals the live registries', async () => {
    const snapshot = JSON.parse(await readFile(new URL('../dist/registry.json', import.meta.url), 'utf8')) as unknown;
    expect(JSON.parse(JSON.stringify(await liveCatalog([])))).toEqual(snapshot);
  });
});

describe('output safety', () => {
  it('a failed run leaves the previous file as it was and no partial or temporary file', async () => {
    const [fit, sample, impute] = await runAll([
      ['fit', file('bad.csv'), '--components', '1', '--out', file('previous.json')],
      ['bn', 'sample', ASIA, '--n', '1e12', '--out', file('previous.csv')],
      ['impute', file('bad.csv'), '--components', '1', '--out', file('previous.csv'), '--variance', file('variance.csv')],
    ]);
    expectUserError(fit!, /line 3, column 2 \("y"\): cell "abc" is not a number/);
    expectUserError(sample!, /--n = "1e12"/);
    expectUserError(impute!, /cell "abc"/);
    expect(await readFile(file('previous.json'), 'utf8')).toBe('previous result');
    expect(await readFile(file('previous.csv'), 'utf8')).toBe('previous sample');
    expect(existsSync(file('variance.csv'))).toBe(false);
    expect((await readdir(dir)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('outputs are committed together: when the second cannot be written, the first target is unchanged', async () => {
    await writeFile(file('x.csv'), 'old x');
    const e = await commitOutputs([
      { flag: '--out', path: file('x.csv'), content: () => 'new x' },
      { flag: '--variance', path: file('no-such-dir/y.csv'), content: () => 'new y' },
    ]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EmError);
    expect((e as EmError).message).toMatch(/^--variance = ".*y\.csv": could not be written \(ENOENT\); no output file was changed/);
    expect(await readFile(file('x.csv'), 'utf8')).toBe('old x');
    // A producer that fails (e.g. out of memory while formatting) changes nothing either.
    await expect(
      commitOutputs([
        { flag: '--out', path: file('x.csv'), content: () => 'new x' },
        {
          flag: '--variance',
          path: file('y.csv'),
          content: () =>
            (function* () {
              yield 'partial';
              throw new RangeError('Invalid string length');
            })(),
        },
      ]),
    ).rejects.toBeInstanceOf(RangeError);
    expect(await readFile(file('x.csv'), 'utf8')).toBe('old x');
    expect(existsSync(file('y.csv'))).toBe(false);
    expect((await readdir(dir)).filter((n) => n.includes('.stage') || n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('progress and Ctrl-C', () => {
  it('a long fit prints progress lines on stderr, and Ctrl-C stops it within a fraction of a second, writing nothing', async () => {
    let sentAt = 0;
    let seenAt = 0;
    const r = await run(['fit', file('long.csv'), '--components', '6', '--tol', '0', '--max-iter', '1000', '--out', file('never.json')], {
      onStderr: (text, kill) => {
        if (sentAt === 0 && /iteration \d+\/1000/.test(text)) {
          sentAt = performance.now();
          kill('SIGINT');
        }
        if (sentAt > 0 && seenAt === 0 && /interrupted/.test(text)) seenAt = performance.now();
      },
    });
    expect(sentAt, r.stderr).toBeGreaterThan(0);
    expect(r.code).toBe(130);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^fit .*long\.csv: restart 1\/1, iteration \d+\/1000, bound -\d/m);
    expect(r.stderr).toMatch(/emlab: interrupted: the fit stopped at restart 1\/1, iteration \d+; nothing was written/);
    // The handler runs between blocks of rows (~100 ms on an idle machine; this one is shared).
    expect(seenAt - sentAt).toBeLessThan(1000);
    expect(existsSync(file('never.json'))).toBe(false);
  });

  it('phase and iteration lines: none for a quick fit; one per second at most when not a terminal', async () => {
    const lines: string[] = [];
    const p = new Progress({ stdout: () => undefined, stderr: (t) => lines.push(t), isTty: false }, 'fit x.csv');
    p.onProgress({ phase: 'preparing' });
    p.onIteration({ iteration: 1, boundAfterM: -12.5, precision: 'float64' } as never, { restart: 0, nInit: 2, maxIter: 100 });
    expect(lines).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1050));
    p.onIteration({ iteration: 7, boundAfterM: -12.5, precision: 'float32' } as never, { restart: 0, nInit: 2, maxIter: 100 });
    p.onIteration({ iteration: 8, boundAfterM: -12.5, precision: 'float32' } as never, { restart: 0, nInit: 2, maxIter: 100 });
    p.onProgress({ phase: 'finishing' });
    expect(lines).toEqual(['fit x.csv: restart 1/2, iteration 7/100, bound -12.5 (float32)\n', 'fit x.csv: computing the final log-likelihood\n']);
    expect(p.reached).toBe('restart 1/2, iteration 8');
  });
});

describe('flag parsing', () => {
  const flags = [FLAGS.tol, FLAGS.json, FLAGS.plugin, FLAGS['record-params'], FLAGS.help];
  it('values, negative numbers, optional values, repeatable flags, --', () => {
    const p = parseFlags(['data.csv', '--tol', '-0.5', '--plugin', 'a.js', '--plugin=b.js', '--record-params', '--json', '--', '--x'], flags, 'emlab fit --help');
    expect(p.values).toEqual({ tol: '-0.5', plugin: ['a.js', 'b.js'], 'record-params': '1', json: true });
    expect(p.positionals).toEqual(['data.csv', '--x']);
    expect(parseFlags(['--record-params', '5', 'd.csv'], flags, 'h').values['record-params']).toBe('5');
    expect(parseFlags(['--record-params', 'd.csv'], flags, 'h').positionals).toEqual(['d.csv']);
    expect(parseFlags(['-h'], flags, 'h').values['help']).toBe(true);
  });

  it('unknown, repeated, valueless and value-given-to-a-switch flags are one-line errors', () => {
    expect(catchEmError(() => parseFlags(['--tols', '1'], flags, 'emlab fit --help')).message).toBe('--tols: is not a flag of emlab fit. Remedy: did you mean --tol? See emlab fit --help');
    expect(catchEmError(() => parseFlags(['-x'], flags, 'emlab fit --help')).message).toMatch(/^-x: is not a flag of emlab fit/);
    expect(catchEmError(() => parseFlags(['--tol', '1', '--tol=2'], flags, 'h')).message).toMatch(/^--tol = "2": is given twice \(first "1"\)/);
    expect(catchEmError(() => parseFlags(['--json', '--json'], flags, 'h')).message).toMatch(/^--json: is given twice/);
    expect(catchEmError(() => parseFlags(['--tol'], flags, 'h')).message).toMatch(/^--tol: needs a value \(T\)/);
    expect(catchEmError(() => parseFlags(['--json=1'], flags, 'h')).message).toMatch(/^--json = "1": is a switch/);
  });
});
