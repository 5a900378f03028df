/**
 * User errors of `emlab bn fit|sample|query`, in-process through `main` (the function the binary
 * calls): exit 2, one line naming the flag, node, row or column. The binary itself is exercised in
 * `bn-cli.test.ts`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { expectUserError, type Run } from './run-cli.js';

const ASIA = fileURLToPath(new URL('../../../data/bn/asia.bif', import.meta.url));
let dir = '';
const file = (name: string): string => join(dir, name);

/** Runs each command in this process, one after the other. */
async function runAll(cases: readonly (readonly string[])[]): Promise<Run[]> {
  const out: Run[] = [];
  for (const args of cases) {
    let stdout = '';
    let stderr = '';
    const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTty: false });
    out.push({ code, signal: null, stdout, stderr });
  }
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emlab-bn-cli-'));
  await Promise.all([
    writeFile(file('cycle.json'), JSON.stringify({ nodes: [
      { name: 'A', states: ['a0', 'a1'], parents: ['C'], cpt: [0.5, 0.5, 0.5, 0.5] },
      { name: 'B', states: ['b0', 'b1'], parents: ['A'], cpt: [0.5, 0.5, 0.5, 0.5] },
      { name: 'C', states: ['c0', 'c1'], parents: ['B'], cpt: [0.5, 0.5, 0.5, 0.5] },
    ] })),
    writeFile(file('badsum.json'), JSON.stringify({ nodes: [{ name: 'A', states: ['a0', 'a1'], parents: [], cpt: [0.5, 0.6] }] })),
    writeFile(file('broken.bif'), 'network n {\n}\nvariable A {\n  type discrete [ 2 ] { yes, no };\n}\nprobability ( A ) {\n  table 0.5, 0.5\n}\n'),
    writeFile(file('net.xml'), '<net/>'),
    writeFile(file('unknown-state.csv'), 'smoke,xray\nyes,no\nno,perhaps\n'),
    writeFile(file('unknown-column.csv'), 'smoke,weather\nyes,sunny\n'),
    writeFile(file('ragged.csv'), 'smoke,xray\nyes,no\nno\n'),
    writeFile(file('empty.csv'), ''),
    writeFile(file('with-either.csv'), 'smoke,either\nyes,no\n'),
    writeFile(file('small.csv'), 'smoke,lung,xray\nyes,no,no\nno,,yes\n0,1,?\n'),
  ]);
});

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('emlab bn: user errors', () => {
  it('errors name the flag', async () => {
    const rs = await runAll([
      ['bn', 'sample', ASIA, '--seed', '1'],
      ['bn', 'sample', ASIA, '--n', '0'],
      ['bn', 'sample', ASIA, '--n', '2.5'],
      ['bn', 'sample', ASIA, '--n', '10', '--missing-rate', '1'],
      ['bn', 'sample', ASIA, '--n', '10', '--missing-rate', '-0.1'],
      ['bn', 'sample', ASIA, '--n', '10', '--hide', 'either,Ghost'],
      ['bn', 'sample', ASIA, '--n', '10', '--bogus'],
      ['bn', 'sample', '--n', '10'],
      ['bn', 'sample', ASIA, ASIA, '--n', '10'],
      ['bn', 'sample', ASIA, '--n', '10', '--out', join(dir, 'no-such-dir', 'x.csv')],
    ]);
    const want: RegExp[][] = [
      [/\[INVALID_ARGUMENT\]: --n: is required/],
      [/--n = "0": must be an integer >= 1/],
      [/--n = "2\.5": must be an integer >= 1/],
      [/--missing-rate = "1": must be a number in \[0, 1\)/],
      [/--missing-rate = "-0\.1": must be a number in \[0, 1\)/],
      [/--hide = "Ghost": is not a node of the network/],
      [/--bogus: is not a flag of emlab bn sample/],
      [/<network>: is missing/],
      [/unexpected extra arguments/],
      [/\[IO_ERROR\]: --out = .*cannot be written: its directory does not exist/],
    ];
    rs.forEach((r, i) => expectUserError(r, ...(want[i] as RegExp[])));
  });
  it('bad networks: cycle named, CPT sum, BIF syntax with line:column, extension, missing file', async () => {
    const rs = await runAll([
      ['bn', 'query', file('cycle.json'), '--target', 'A'],
      ['bn', 'sample', file('badsum.json'), '--n', '5'],
      ['bn', 'query', file('broken.bif'), '--target', 'A'],
      ['bn', 'sample', file('net.xml'), '--n', '5'],
      ['bn', 'sample', file('nope.bif'), '--n', '5'],
    ]);
    expectUserError(rs[0] as Run, /\[INVALID_ARGUMENT\]: network\.nodes\.A\.parents = "A -> B -> C -> A": the network has a directed cycle A -> B -> C -> A/);
    expectUserError(rs[1] as Run, /\[INVALID_PARAMS\]: network\.nodes\.A\.cpt = 1\.1: node "A": the distribution P\(A\) sums to 1\.1/);
    expectUserError(rs[2] as Run, /\[PARSE_ERROR\]: .*broken\.bif:8:1: expected a probability or ";" in the table of A but found "}"/);
    expectUserError(rs[3] as Run, /\[INVALID_ARGUMENT\]: <network> = ".*net\.xml": has an unknown network file extension \(known: \.bif, \.json\)/);
    expectUserError(rs[4] as Run, /\[IO_ERROR\]: .*nope\.bif/);
  });
  it('errors name the flag, node and state', async () => {
    const rs = await runAll([
      ['bn', 'query', ASIA],
      ['bn', 'query', ASIA, '--target', 'Ghost'],
      ['bn', 'query', ASIA, '--target', 'lung', '--evidence', 'Ghost=yes'],
      ['bn', 'query', ASIA, '--target', 'lung', '--evidence', 'smoke=maybe'],
      ['bn', 'query', ASIA, '--target', 'lung', '--evidence', 'smoke'],
      ['bn', 'query', ASIA, '--target', 'lung', '--evidence', 'smoke=yes,smoke=no'],
      ['bn', 'query', ASIA, '--target', 'lung', '--evidence', 'either=yes,lung=no,tub=no'],
      ['bn', 'frobnicate'],
    ]);
    expectUserError(rs[0] as Run, /--target: is required/);
    expectUserError(rs[1] as Run, /--target = "Ghost": is not a node of the network/);
    expectUserError(rs[2] as Run, /--evidence = "Ghost": is not a node of the network/);
    expectUserError(rs[3] as Run, /--evidence smoke = "maybe": is not a state of smoke \(states: yes, no\)/);
    expectUserError(rs[4] as Run, /--evidence = "smoke": is not of the form NODE=STATE/);
    expectUserError(rs[5] as Run, /--evidence = "smoke": is given twice/);
    expectUserError(rs[6] as Run, /--evidence = "either=yes,lung=no,tub=no": has probability 0/);
    expectUserError(rs[7] as Run, /bn = "frobnicate": is not a bn command \(commands: fit, sample, query\)/);
  });
  it('errors name the flag, node, row and column', async () => {
    const csv = file('small.csv');
    const rs = await runAll([
      ['bn', 'fit', ASIA, csv],
      ['bn', 'fit', ASIA, csv, '--out', file('x.txt')],
      ['bn', 'fit', ASIA, '--out', file('x.bif')],
      ['bn', 'fit', ASIA, csv, '--out', file('x.bif'), '--max-iter', '0'],
      ['bn', 'fit', ASIA, csv, '--out', file('x.bif'), '--tol', '-1'],
      ['bn', 'fit', ASIA, csv, '--out', file('x.bif'), '--n-init', '0'],
      ['bn', 'fit', ASIA, csv, '--out', file('x.bif'), '--pseudo-count', '-1'],
      ['bn', 'fit', ASIA, csv, '--out', file('x.bif'), '--init', 'kmeans'],
      ['bn', 'fit', ASIA, csv, '--out', file('x.bif'), '--hidden', 'Ghost'],
      ['bn', 'fit', ASIA, file('with-either.csv'), '--out', file('x.bif'), '--hidden', 'either'],
      ['bn', 'fit', ASIA, file('unknown-state.csv'), '--out', file('x.bif')],
      ['bn', 'fit', ASIA, file('unknown-column.csv'), '--out', file('x.bif')],
      ['bn', 'fit', ASIA, file('ragged.csv'), '--out', file('x.bif')],
      ['bn', 'fit', ASIA, file('empty.csv'), '--out', file('x.bif')],
      ['bn', 'fit', ASIA, file('missing.csv'), '--out', file('x.bif')],
    ]);
    const want: RegExp[] = [
      /--out: is required \(or --json/,
      /--out = ".*x\.txt": has an unknown network file extension/,
      /<data\.csv>: is missing/,
      /--max-iter = "0": must be an integer >= 1/,
      /--tol = "-1": must be a number >= 0/,
      /--n-init = "0": must be an integer >= 1/,
      /--pseudo-count = "-1": must be a finite number >= 0/,
      /--init = "kmeans": is not an initialization \(random, network\)/,
      /--hidden = "Ghost": is not a node of the network/,
      /\[INVALID_DATA\]: .*with-either\.csv\.header\.column\.either = "either": line 1, column 2: node "either" is declared hidden but the data has a column for it/,
      /\[PARSE_ERROR\]: .*unknown-state\.csv\.row\[1\]\.column\.xray = "perhaps": line 3 \(data row 2\), column "xray": "perhaps" is not a state of xray/,
      /\[PARSE_ERROR\]: .*unknown-column\.csv\.header\.column\.weather = "weather": line 1, column 2: "weather" is not a node of network/,
      /\[PARSE_ERROR\]: .*ragged\.csv\.row\[1\] = "no": line 3 \(data row 2\): expected 2 cells/,
      /\[PARSE_ERROR\]: .*empty\.csv = .*the file is empty/,
      /\[IO_ERROR\]: .*missing\.csv/,
    ];
    rs.forEach((r, i) => expectUserError(r, want[i] as RegExp));
  });
});

describe('help', () => {
  it('emlab --help mentions bn; emlab bn --help prints the bn usage', async () => {
    const [top, bn] = await runAll([['--help'], ['bn', '--help']]);
    expect(top?.stdout).toMatch(/emlab bn fit <network\.bif\|json>/);
    expect(bn?.code).toBe(0);
    expect(bn?.stdout).toMatch(/emlab bn fit <network\.bif\|json> <data\.csv> --out FITTED\.bif\|json/);
    expect(bn?.stdout).toMatch(/emlab bn query <network\.bif\|json> --target A \[--evidence B=s,C=t\]/);
  });
});
