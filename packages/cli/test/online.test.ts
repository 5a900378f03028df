/**
 * `emlab fit --accelerate`, `--online` and `--se`, run in process through `main` (the function the
 * binary calls): an accelerated fit reaches the plain EM optimum, an online fit streams the CSV and
 * reports the held-out log-likelihood per pass, standard errors by Louis' identity agree with the
 * numerical Hessian and the bootstrap is seeded; and the flags' user errors (exit 2, one line naming
 * the flag, the value and a remedy, before any work).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng } from '@emlab/core';
import { main } from '../src/main.js';
import { expectUserError, type Run } from './run-cli.js';

async function cli(args: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTty: false });
  return { code, signal: null, stdout, stderr };
}

const ok = (r: Run): Run => {
  expect(r.code, `stderr: ${r.stderr}`).toBe(0);
  return r;
};

const rng = createRng(3).child('cli-online');
const row = (): number[] => {
  const c = rng.uniform() < 0.5 ? 0 : 4;
  return [c + rng.normal(), c + rng.normal()];
};
const train = Array.from({ length: 1200 }, row);
const test = Array.from({ length: 300 }, row);
const dir = mkdtempSync(join(tmpdir(), 'emlab-cli-online-'));
const csv = (rows: number[][], header = 'a,b'): string => `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
const TRAIN = join(dir, 'train.csv');
const TEST = join(dir, 'test.csv');
writeFileSync(TRAIN, csv(train));
writeFileSync(TEST, csv(test));
writeFileSync(join(dir, 'wide.csv'), csv(test.map((r) => [...r, 1]), 'a,b,c'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const k2 = (...more: string[]): string[] => ['fit', TRAIN, '--components', '2', ...more];

describe('emlab fit --accelerate', () => {
  it('reaches the log-likelihood of plain EM, and says so in the result', async () => {
    const [plain, squarem] = [ok(await cli(k2('--json', '--tol', '1e-12'))), ok(await cli(k2('--json', '--accelerate', 'squarem')))];
    const p = JSON.parse(plain.stdout) as { logLikelihood: number; nIter: number };
    const s = JSON.parse(squarem.stdout) as { logLikelihood: number; method: { name: string } };
    expect(s.method.name).toMatch(/squarem/);
    expect(Math.abs(s.logLikelihood - p.logLikelihood)).toBeLessThan(1e-6 * Math.abs(p.logLikelihood));
  });
});

describe('emlab fit --online', () => {
  it('streams the CSV in minibatches and reports the held-out log-likelihood per pass', async () => {
    const out = join(dir, 'online.json');
    const r = ok(await cli(k2('--online', '--passes', '2', '--minibatch-size', '200', '--held-out-file', TEST, '--out', out)));
    const passes = r.stderr.split('\n').filter((l) => l.startsWith('pass '));
    expect(passes).toHaveLength(2);
    expect(passes[0]).toMatch(/^pass 1: 1200 rows in 6 minibatches, .*held-out log-likelihood -?\d/);
    expect(r.stdout).toMatch(/method {5}online EM with exact \(exact\); minibatches of 200 rows/);
    expect(r.stdout).toMatch(/log-lik {4}running .* per row .*; held-out -?\d/);
    const saved = JSON.parse(readFileSync(out, 'utf8')) as { format: string; passes: number; heldOutLogLikelihood: number; state?: unknown; params: { weights: number[] } };
    expect(saved.format).toBe('emlab/online-result');
    expect(saved.passes).toBe(2);
    expect(saved.state).toBeUndefined();
    expect(saved.params.weights).toHaveLength(2);
    // The held-out log-likelihood of the streamed fit is close to that of a batch fit (an estimate, same data).
    const batch = JSON.parse(ok(await cli(k2('--json'))).stdout) as { logLikelihood: number };
    expect(saved.heldOutLogLikelihood / test.length).toBeGreaterThan(batch.logLikelihood / train.length - 0.2);
  });
});

describe('emlab fit --se', () => {
  it("Louis' identity by default, the Hessian on request (they agree), the bootstrap seeded; a table, JSON and --out", async () => {
    const louis = ok(await cli(k2('--se')));
    expect(louis.stdout).toMatch(/standard errors \(louis\):/);
    expect(louis.stdout).toMatch(/means\.0\.0/);
    const [l, h] = [JSON.parse(ok(await cli(k2('--se', '--json'))).stdout), JSON.parse(ok(await cli(k2('--se', '--se-method', 'hessian', '--json'))).stdout)] as { standardErrors: { method: string; natural: { names: string[]; standardErrors: number[] } } }[];
    expect(l?.standardErrors.method).toBe('louis');
    expect(h?.standardErrors.method).toBe('hessian');
    const names = l?.standardErrors.natural.names ?? [];
    const at = names.indexOf('means.0.0');
    expect(at).toBeGreaterThanOrEqual(0);
    const [sl, sh] = [l?.standardErrors.natural.standardErrors[at] as number, h?.standardErrors.natural.standardErrors[at] as number];
    expect(Math.abs(sl - sh) / sl).toBeLessThan(0.05);
    const out = join(dir, 'se.json');
    const boot = ok(await cli(k2('--se', '--se-method', 'bootstrap', '--replicates', '5', '--seed', '1', '--max-iter', '50', '--out', out)));
    expect(boot.stdout).toMatch(/standard errors \(bootstrap, 5 replicates\):/);
    const saved = JSON.parse(readFileSync(out, 'utf8')) as { standardErrors: { bootstrap: { replicates: number; seed: number } } };
    expect(saved.standardErrors.bootstrap.replicates).toBe(5);
    expect(saved.standardErrors.bootstrap.seed).toBe(1);
    const again = JSON.parse(ok(await cli(k2('--se', '--se-method', 'bootstrap', '--replicates', '5', '--seed', '1', '--max-iter', '50', '--json'))).stdout) as { standardErrors: unknown };
    expect(again.standardErrors).toEqual(saved.standardErrors);
  });
});

describe('the flags of --accelerate, --online and --se: user errors', () => {
  const CASES: [string, () => string[], RegExp[]][] = [
    ['--accelerate turbo', () => k2('--accelerate', 'turbo'), [/--accelerate = "turbo": is not an accelerator \(known: em, squarem, aitken, parabolic, quasi-newton\)/]],
    ['--accelerate with a sampling E-step', () => k2('--accelerate', 'squarem', '--estep', 'stochastic'), [/--accelerate = "squarem": accelerates the EM map of an exact E-step, and --estep stochastic is a monte-carlo E-step/]],
    ['--accelerate with an accelerated method', () => k2('--accelerate', 'squarem', '--estep', 'squarem'), [/--accelerate = "squarem": .*--estep squarem is a fitting method itself/]],
    ['--accelerate with --online', () => k2('--accelerate', 'squarem', '--online'), [/--accelerate = "squarem": does not apply to --online/]],
    ['--passes without --online', () => k2('--passes', '2'), [/--passes = "2": only applies to --online\. Remedy: add --online, or drop --passes/]],
    ['--held-out-file without --online', () => k2('--held-out-file', TEST), [/--held-out-file = ".*test\.csv": only applies to --online/]],
    ['--step-alpha 0.3', () => k2('--online', '--step-alpha', '0.3'), [/--step-alpha = "0\.3": must be a finite number > 0\.5 and <= 1|--step-alpha = "0\.3": must be/]],
    ['--minibatch-size 0', () => k2('--online', '--minibatch-size', '0'), [/--minibatch-size = "0": must be an integer >= 1/]],
    ['--passes abc', () => k2('--online', '--passes', 'abc'), [/--passes = "abc": must be an integer/]],
    ['--online with --tol', () => k2('--online', '--tol', '1e-3'), [/--tol = "1e-3": does not apply to --online: online EM runs --passes passes/]],
    ['--online with --n-init', () => k2('--online', '--n-init', '3'), [/--n-init = "3": does not apply to --online/]],
    ['--online with --se', () => k2('--online', '--se'), [/--se: does not apply to --online/]],
    ['--online with the gradient method', () => k2('--online', '--estep', 'gradient'), [/--estep = "gradient": is a fitting method, and --online blends/]],
    ['--online with a model that reads its own files', () => ['fit', TRAIN, '--model', 'hmm', '--states', '2', '--online'], [/--online: streams one numeric CSV, and --model hmm reads its own data files/]],
    ['--held-out-file missing', () => k2('--online', '--held-out-file', join(dir, 'nope.csv')), [/IO_ERROR/, /--held-out-file = ".*nope\.csv": .*ENOENT/]],
    ['--held-out-file with other columns', () => k2('--online', '--held-out-file', join(dir, 'wide.csv')), [/--held-out-file = ".*wide\.csv": /]],
    ['--se-method without --se', () => k2('--se-method', 'hessian'), [/--se-method = "hessian": only applies to --se/]],
    ['--se-method jackknife', () => k2('--se', '--se-method', 'jackknife'), [/--se-method = "jackknife": must be one of "louis", "hessian", "bootstrap"/]],
    ['--replicates without bootstrap', () => k2('--se', '--replicates', '10'), [/--replicates = "10": only applies to --se-method bootstrap/]],
    ['--replicates 1', () => k2('--se', '--se-method', 'bootstrap', '--replicates', '1'), [/--replicates = "1": must be an integer >= 2/]],
    ['--se with a model without a parametrization (before the fit)', () => ['fit', TRAIN, '--model', 'hmm', '--states', '2', '--se'], [/--se: is not available for --model hmm: the model has no parametrization.*Remedy: drop --se/]],
    ['--out the data file', () => k2('--online', '--out', TRAIN), [/--out = ".*train\.csv": names the same file as <data\.csv>/]],
  ];
  it.each(CASES.map(([name, args, patterns]) => [name, args, patterns] as const))('%s', async (_name, args, patterns) => {
    const r = await cli(args());
    expectUserError(r, ...patterns);
    expect(r.stderr).not.toMatch(/TypeError|options\.|\bname = /);
  });
});
