/**
 * `emlab hmm fit|decode|sample`, run in process through `main` (the function
 * the binary calls, with its exit codes and stderr): fit a categorical HMM
 * from a CSV with a sequence column, decode the data in file order, sample
 * from the saved model; Gaussian data with a missing cell under every chain
 * E-step; and user errors (exit 2, one line naming the flag, the value and a
 * remedy, before any work, with outputs left as they were).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@emlab/core';
import { main } from '../src/main.js';
import { expectUserError, type Run } from './run-cli.js';

/** Runs the CLI in this process. */
async function cli(args: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTty: false });
  return { code, signal: null, stdout, stderr };
}

let dir = '';
let rolls = '';
let gauss = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'emlab-hmm-cli-'));
  // Two sessions of a casino-like die (interleaved rows), labels 1..6.
  const rng = createRng(5);
  const lines = ['session,face'];
  const state = [0, 0];
  for (let t = 0; t < 4000; t++) {
    const s = t % 2;
    if (rng.uniform() < (state[s] === 0 ? 0.05 : 0.1)) state[s] = 1 - (state[s] as number);
    const face = state[s] === 0 ? 1 + rng.int(6) : rng.uniform() < 0.5 ? 6 : 1 + rng.int(5);
    lines.push(`${s === 0 ? 'a' : 'b'},${face}`);
  }
  rolls = join(dir, 'rolls.csv');
  writeFileSync(rolls, `${lines.join('\n')}\n`);
  const g = ['id,x,y'];
  for (let t = 0; t < 300; t++) g.push(`${t < 150 ? 1 : 2},${(t % 40 < 20 ? 0 : 5) + rng.normal()},${t === 7 ? '' : rng.normal()}`);
  gauss = join(dir, 'gauss.csv');
  writeFileSync(gauss, `${g.join('\n')}\n`);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ok = (r: Run): Run => {
  expect(r.code, `stderr: ${r.stderr}`).toBe(0);
  return r;
};

describe('emlab hmm', () => {
  it('fit → decode → sample on a categorical CSV with a sequence column', async () => {
    const result = join(dir, 'casino.json');
    const f = ok(await cli(['hmm', 'fit', rolls, '--states', '2', '--emission', 'categorical', '--sequence-column', 'session', '--init-window', '9', '--seed', '1', '--n-init', '2', '--out', result]));
    expect(f.stdout).toMatch(/model {6}hmm: 2 states, categorical emissions/);
    expect(f.stdout).toMatch(/data {7}.*2 sequence\(s\), 4000 time steps × 1 columns \(face\)/);
    expect(f.stdout).toMatch(/6=0\.4\d\d|6=0\.5\d\d/);
    expect(f.stdout).toMatch(/written {4}.*casino\.json/);
    const saved = JSON.parse(readFileSync(result, 'utf8')) as { model: { name: string }; hmm: { columns: string[]; sequenceColumn: string; sequences: number }; params: { emission: { categories: string[][] } } };
    expect(saved.model.name).toBe('hmm');
    expect(saved.hmm).toEqual({ columns: ['face'], sequenceColumn: 'session', sequences: 2 });
    expect(saved.params.emission.categories).toEqual([['1', '2', '3', '4', '5', '6']]);

    const d = ok(await cli(['hmm', 'decode', rolls, '--result', result, '--sequence-column', 'session', '--proba']));
    const lines = d.stdout.trim().split('\n');
    expect(lines[0]).toBe('sequence,row,state,p0,p1');
    expect(lines).toHaveLength(4001);
    expect(lines[1]).toMatch(/^a,0,[01],/);
    expect(lines[2]).toMatch(/^b,1,[01],/);
    // The decoded state has the larger posterior probability on most rows (Viterbi and marginals agree mostly).
    const agree = lines.slice(1).filter((l) => {
      const [, , st, p0, p1] = l.split(',');
      return (st === '0') === Number(p0) >= Number(p1);
    }).length;
    expect(agree / 4000).toBeGreaterThan(0.9);

    const json = ok(await cli(['hmm', 'decode', rolls, '--result', result, '--sequence-column', 'session', '--json']));
    const decoded = JSON.parse(json.stdout) as { sequences: { id: string; rows: number[]; states: number[] }[] };
    expect(decoded.sequences.map((x) => x.id)).toEqual(['a', 'b']);
    expect(decoded.sequences[0]?.rows.slice(0, 3)).toEqual([0, 2, 4]);
    expect(decoded.sequences[0]?.states[0]).toBe(Number(lines[1]?.split(',')[2]));

    const out = join(dir, 'sampled.csv');
    const s = ok(await cli(['hmm', 'sample', '--result', result, '--lengths', '5,3', '--seed', '2', '--out', out]));
    expect(s.stdout).toMatch(/sampled 2 sequence\(s\), 8 rows \(seed 2\); written to/);
    const sampled = readFileSync(out, 'utf8').trim().split('\n');
    expect(sampled[0]).toBe('sequence,state,face');
    expect(sampled).toHaveLength(9);
    expect(sampled[1]).toMatch(/^1,[01],[1-6]$/);
    // Seeded: the same seed draws the same sequences, on stdout without --out.
    const again = ok(await cli(['hmm', 'sample', '--result', result, '--lengths', '5,3', '--seed', '2']));
    expect(again.stdout.trim().split('\n')).toEqual(sampled);

    // --init-params: a saved result is a start (one restart, from it).
    const warm = ok(await cli(['hmm', 'fit', rolls, '--states', '2', '--emission', 'categorical', '--sequence-column', 'session', '--init-params', result, '--max-iter', '3', '--json']));
    const w = JSON.parse(warm.stdout) as { restarts: unknown[]; logLikelihood: number };
    expect(w.restarts).toHaveLength(1);
    expect(Number.isFinite(w.logLikelihood)).toBe(true);
  });

  it('fit --json with the hard and stochastic E-steps on Gaussian data with a missing cell', async () => {
    for (const extra of [['--estep', 'hard'], ['--estep', 'stochastic', '--draws', '3'], ['--estep-option', 'variant=log']]) {
      const c = ok(await cli(['hmm', 'fit', gauss, '--states', '2', '--sequence-column', 'id', '--covariance', 'diag', '--max-iter', '20', '--json', ...extra]));
      const r = JSON.parse(c.stdout) as { method: { name: string; options: Record<string, unknown> }; data: { nMissing: number }; bic: number; hmm: { sequences: number } };
      expect(r.data.nMissing).toBe(1);
      expect(r.hmm.sequences).toBe(2);
      expect(Number.isFinite(r.bic)).toBe(true);
      if (extra[1] === 'stochastic') expect(r.method.options).toEqual({ nDraws: 3 });
      if (extra[0] === '--estep-option') expect(r.method.options).toEqual({ variant: 'log' });
    }
  });

  it('help: emlab hmm lists the three commands; hmm fit --help lists the hmm model flags', async () => {
    const g = ok(await cli(['hmm']));
    for (const c of ['hmm fit', 'hmm decode', 'hmm sample']) expect(g.stdout).toContain(`emlab ${c}`);
    const h = ok(await cli(['hmm', 'fit', '--help']));
    for (const f of ['--states', '--emission', '--sequence-column', '--init-sets', '--transition-matrix', '--estep', '--init-params FILE.json']) expect(h.stdout).toContain(f);
    expect(h.stdout).not.toContain('--weights-column');
    expect(ok(await cli(['help', 'hmm'])).stdout).toBe(g.stdout);
  });
});

describe('emlab hmm: user errors (exit 2, one line naming the flag, the value and a remedy)', () => {
  const GAUSS = (): string => gauss;
  const RESULT = (): string => join(dir, 'gauss-result.json');
  beforeAll(async () => {
    ok(await cli(['hmm', 'fit', gauss, '--states', '2', '--sequence-column', 'id', '--max-iter', '5', '--out', RESULT()]));
    writeFileSync(join(dir, 'gmm-result.json'), JSON.stringify({ ...JSON.parse(readFileSync(RESULT(), 'utf8')), model: { name: 'gmm', options: { nComponents: 2 } } }));
    mkdirSync(join(dir, 'a-directory'), { recursive: true });
  });
  const fitG = (...more: string[]): string[] => ['hmm', 'fit', GAUSS(), '--states', '2', ...more];
  const CASES: [string, () => string[], RegExp[]][] = [
    ['--states missing', () => ['hmm', 'fit', GAUSS()], [/--states: is required by --model hmm\. Remedy: pass --states N/]],
    ['--states 0', () => fitG().map((a, i) => (i === 4 ? '0' : a)), [/--states = "0": must be an integer >= 1/]],
    ['--states beyond the rows', () => ['hmm', 'fit', GAUSS(), '--states', '400'], [/INVALID_DATA/, /gauss\.csv/, /400/]],
    ['--emission beta', () => fitG('--emission', 'beta'), [/--emission = "beta": is not an emission family \(gaussian, gmm, poisson, categorical\)/]],
    ['--covariance round', () => fitG('--covariance', 'round'), [/--covariance = "round": must be one of "full", "diag", "spherical", "tied"/]],
    ['--columns not in the file', () => fitG('--columns', 'nope'), [/--columns = "nope": is not a column of .*gauss\.csv \(columns: id, x, y\)/]],
    ['--sequence-column not in the file', () => fitG('--sequence-column', 'nope'), [/--sequence-column = "nope": is not a column of .*gauss\.csv/]],
    ['--estep gibbs', () => fitG('--estep', 'gibbs'), [/UNKNOWN_ESTEP/, /--estep = "gibbs": no method registered for structure kind "chain"/]],
    ['--estep-option variant=unscaled', () => fitG('--estep-option', 'variant=unscaled'), [/--estep-option variant = "unscaled": must be one of/]],
    ['--draws with exact', () => fitG('--draws', '3'), [/--draws = "3": applies to sampling E-steps only, and --estep exact is exact/]],
    ['--params sq', () => fitG('--params', 'sq'), [/--params = "sq": /]],
    ['--transition-matrix not stochastic', () => fitG('--transition-matrix', '0.5,0.6;0.5,0.5'), [/--transition-matrix/]],
    ['--init kmeans++', () => fitG('--init', 'kmeans++'), [/--init = "kmeans\+\+": is not an initialization method of hmm/]],
    ['--max-iter 0', () => fitG('--max-iter', '0'), [/--max-iter = "0": must be an integer >= 1/]],
    ['--weights-column (not an hmm fit flag)', () => fitG('--weights-column', 'x'), [/--weights-column: is not a flag of emlab hmm fit/]],
    ['--model (hmm fit takes no --model)', () => fitG('--model', 'gmm'), [/--model: is not a flag of emlab hmm fit/]],
    ['--init-params of another model', () => fitG('--init-params', join(dir, 'gmm-result.json')), [/--init-params = ".*gmm-result\.json": was saved by model "gmm", not "hmm"/]],
    ['fit --out a directory', () => fitG('--out', join(dir, 'a-directory')), [/IO_ERROR/, /--out = ".*a-directory": is a directory, not a file/]],
    ['fit --out the data file', () => fitG('--out', GAUSS()), [/--out = ".*gauss\.csv": names the same file as <data\.csv>/]],
    ['fit without data', () => ['hmm', 'fit', '--states', '2'], [/<data\.csv>: is missing/]],
    ['decode --result missing', () => ['hmm', 'decode', GAUSS()], [/--result: is required\. Remedy: pass a result written by emlab hmm fit --out/]],
    ['decode --result a model name', () => ['hmm', 'decode', GAUSS(), '--result', 'hmm'], [/IO_ERROR/, /--result = "hmm": .*Remedy: hmm decode and hmm sample take the result file of a fit/]],
    ['decode --result of another model', () => ['hmm', 'decode', GAUSS(), '--result', join(dir, 'gmm-result.json')], [/--result = ".*gmm-result\.json": holds a result of model "gmm", not hmm/]],
    ['decode --result not JSON', () => ['hmm', 'decode', GAUSS(), '--result', GAUSS()], [/--result = ".*gauss\.csv": /]],
    ['decode --columns not in the file', () => ['hmm', 'decode', GAUSS(), '--result', RESULT(), '--columns', 'nope'], [/--columns = "nope": is not a column of/]],
    ['decode --columns empty item', () => ['hmm', 'decode', GAUSS(), '--result', RESULT(), '--columns', 'x,'], [/--columns = "x,": has an empty column name/]],
    ['decode --out the result file', () => ['hmm', 'decode', GAUSS(), '--result', RESULT(), '--out', RESULT()], [/--out = ".*gauss-result\.json": names the same file as --result/]],
    ['sample --n 0', () => ['hmm', 'sample', '--result', RESULT(), '--n', '0'], [/--n = "0": must be an integer >= 1/]],
    ['sample --n and --lengths', () => ['hmm', 'sample', '--result', RESULT(), '--n', '3', '--lengths', '3'], [/--lengths = "3": conflicts with --n/]],
    ['sample --lengths bad', () => ['hmm', 'sample', '--result', RESULT(), '--lengths', '3,0'], [/--lengths = "3,0": must be a comma-separated list of integers >= 1/]],
    ['sample without --n', () => ['hmm', 'sample', '--result', RESULT()], [/--n: is required \(or --lengths\)/]],
    ['sample --n too large', () => ['hmm', 'sample', '--result', RESULT(), '--n', '1000000000'], [/--n = "1000000000": would need .* beyond the limit/]],
    ['sample --result a data file', () => ['hmm', 'sample', '--result', GAUSS(), '--n', '3'], [/--result = ".*gauss\.csv": /]],
    ['sample with an argument', () => ['hmm', 'sample', 'x.csv', '--result', RESULT(), '--n', '3'], [/unexpected extra arguments/]],
    ['unknown hmm command', () => ['hmm', 'bake'], [/hmm = "bake": is not an hmm command \(commands: fit, decode, sample\)/]],
  ];
  it.each(CASES.map(([name, args, patterns]) => [name, args, patterns] as const))('%s', async (_name, args, patterns) => {
    const r = await cli(args());
    expectUserError(r, ...patterns);
    expect(r.stderr).not.toMatch(/TypeError|options\.|chainStochasticEStep|\bname = /);
  });

  it('a failed run leaves a previous output as it was', async () => {
    const out = join(dir, 'keep.csv');
    writeFileSync(out, 'previous\n');
    expectUserError(await cli(['hmm', 'decode', gauss, '--result', RESULT(), '--columns', 'nope', '--out', out]), /--columns/);
    expect(readFileSync(out, 'utf8')).toBe('previous\n');
    expectUserError(await cli(['hmm', 'fit', gauss, '--states', '400', '--out', out]), /INVALID_DATA/);
    expect(readFileSync(out, 'utf8')).toBe('previous\n');
    expect(existsSync(join(dir, 'a-directory', 'x'))).toBe(false);
  });
});
