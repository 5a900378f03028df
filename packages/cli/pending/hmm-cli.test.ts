/**
 * `emlab hmm fit|decode|sample` (runHmm, in process: the lead wires the
 * command into main): fit a categorical HMM from a CSV with a sequence column,
 * decode new data in file order, sample from the saved model; user errors are
 * EmErrors naming the flag.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmError, createRng } from '@emlab/core';
import { runHmm } from '../src/hmm.js';
import type { CliIo } from '../src/main.js';

function capture(): { io: CliIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { stdout: (t) => (out += t), stderr: (t) => (err += t), isTty: false }, out: () => out, err: () => err };
}

async function userError(args: string[]): Promise<EmError> {
  try {
    await runHmm(args, capture().io);
  } catch (e) {
    if (e instanceof EmError) return e;
    throw e;
  }
  throw new Error(`expected an EmError from ${args.join(' ')}`);
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

describe('emlab hmm', () => {
  it('fit → decode → sample on a categorical CSV with a sequence column', async () => {
    const result = join(dir, 'casino.json');
    const c = capture();
    expect(await runHmm(['fit', rolls, '--states', '2', '--emission', 'categorical', '--sequence-column', 'session', '--init-window', '9', '--seed', '1', '--n-init', '2', '--out', result], c.io)).toBe(0);
    expect(c.out()).toMatch(/model {6}hmm: 2 states, categorical emissions/);
    expect(c.out()).toMatch(/data {7}.*2 sequence\(s\), 4000 time steps × 1 columns \(face\)/);
    expect(c.out()).toMatch(/6=0\.4\d\d|6=0\.5\d\d/);
    const saved = JSON.parse(readFileSync(result, 'utf8')) as { hmm: { columns: string[] }; params: { emission: { categories: string[][] } } };
    expect(saved.hmm.columns).toEqual(['face']);
    expect(saved.params.emission.categories).toEqual([['1', '2', '3', '4', '5', '6']]);

    const d = capture();
    expect(await runHmm(['decode', rolls, '--model', result, '--sequence-column', 'session', '--proba'], d.io)).toBe(0);
    const lines = d.out().trim().split('\n');
    expect(lines[0]).toBe('sequence,row,state,p0,p1');
    expect(lines).toHaveLength(4001);
    expect(lines[1]).toMatch(/^a,0,[01],/);
    expect(lines[2]).toMatch(/^b,1,[01],/);

    const s = capture();
    const out = join(dir, 'sampled.csv');
    expect(await runHmm(['sample', '--model', result, '--lengths', '5,3', '--seed', '2', '--out', out], s.io)).toBe(0);
    const sampled = readFileSync(out, 'utf8').trim().split('\n');
    expect(sampled[0]).toBe('sequence,state,face');
    expect(sampled).toHaveLength(9);
    expect(sampled[1]).toMatch(/^1,[01],[1-6]$/);
  });

  it('fit --json with the hard and stochastic E-steps on Gaussian data with a missing cell', async () => {
    for (const extra of [['--estep', 'hard'], ['--estep', 'stochastic', '--draws', '3'], ['--estep-option', 'variant=log']]) {
      const c = capture();
      expect(await runHmm(['fit', gauss, '--states', '2', '--sequence-column', 'id', '--covariance', 'diag', '--max-iter', '20', '--json', ...extra], c.io)).toBe(0);
      const r = JSON.parse(c.out()) as { method: { name: string; options: Record<string, unknown> }; data: { nMissing: number }; bic: number };
      expect(r.data.nMissing).toBe(1);
      expect(Number.isFinite(r.bic)).toBe(true);
      if (extra[1] === 'stochastic') expect(r.method.options).toEqual({ nDraws: 3 });
      if (extra[0] === '--estep-option') expect(r.method.options).toEqual({ variant: 'log' });
    }
  });

  it.each([
    [['fit', 'x.csv'], '--states'],
    [['fit', 'GAUSS', '--states', '0'], '--states'],
    [['fit', 'GAUSS', '--states', '2', '--emission', 'beta'], '--emission'],
    [['fit', 'GAUSS', '--states', '2', '--covariance', 'round'], '--covariance'],
    [['fit', 'GAUSS', '--states', '2', '--columns', 'nope'], '--columns'],
    [['fit', 'GAUSS', '--states', '2', '--sequence-column', 'nope'], '--sequence-column'],
    [['fit', 'GAUSS', '--states', '2', '--estep', 'gibbs'], '--estep'],
    [['fit', 'GAUSS', '--states', '2', '--estep-option', 'variant=unscaled'], '--estep-option'],
    [['fit', 'GAUSS', '--states', '2', '--draws', '3'], '--draws'],
    [['fit', 'GAUSS', '--states', '2', '--params', 'sq'], '--params'],
    [['fit', 'GAUSS', '--states', '2', '--transition-matrix', '0.5,0.6;0.5,0.5'], '--transition-matrix'],
    [['fit', 'GAUSS', '--states', '2', '--init', 'kmeans++'], '--init'],
    [['fit', 'GAUSS', '--states', '2', '--max-iter', '0'], '--max-iter'],
    [['fit', 'GAUSS', '--states', '400'], 'data'],
    [['decode', 'GAUSS'], '--model'],
    [['sample', '--model', 'GAUSS', '--n', '0'], '--n'],
    [['sample', '--model', 'GAUSS', '--n', '3', '--lengths', '3'], '--lengths'],
    [['sample', '--model', 'GAUSS', '--n', '3'], '--model'],
    [['bake'], 'hmm'],
  ])('%j is a user error naming %s', async (args, flag) => {
    const e = await userError(args.map((a) => (a === 'GAUSS' ? gauss : a)));
    expect(e.path[0]).toBe(flag);
    expect(e.message.startsWith(flag)).toBe(true);
  });
});
