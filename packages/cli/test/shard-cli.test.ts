/**
 * `--workers 2` for Bayesian networks and HMMs, run in process through `main`: `emlab bn fit`,
 * `emlab hmm fit` and `emlab fit --model bn|hmm` give the same FitResult as the plain fit, bit for
 * bit apart from timings (evidence patterns, resp. blocks of whole sequences, spread over two worker
 * threads; the threads load the built packages: `npm run build` first). A non-shardable E-step is a
 * flag error naming --workers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, omitTimings, toJson, type FitResult } from '@emlab/core';
import { main } from '../src/main.js';
import { expectUserError, type Run } from './run-cli.js';

const ASIA = fileURLToPath(new URL('../../../data/bn/asia.bif', import.meta.url));

async function cli(args: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTty: false });
  return { code, signal: null, stdout, stderr };
}

/** The JSON of a fit without its timings (what must not depend on the number of workers). */
function untimed(r: Run): string {
  expect(r.code, r.stderr).toBe(0);
  return toJson(omitTimings(JSON.parse(r.stdout) as FitResult));
}

let dir = '';
const file = (name: string): string => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emlab-shard-cli-'));
  // Five sequences of unequal lengths (ids in blocks), two regimes, one missing cell in three.
  const rng = createRng(8).child('shard-cli');
  const lines = ['id,x,y'];
  [70, 20, 55, 90, 35].forEach((len, s) => {
    let state = 0;
    for (let t = 0; t < len; t++) {
      if (rng.uniform() < 0.1) state = 1 - state;
      const x = state * 4 + rng.normal();
      const y = rng.uniform() < 0.3 ? '' : String(-state * 2 + rng.normal());
      lines.push(`s${s},${x},${y}`);
    }
  });
  writeFileSync(file('seq.csv'), `${lines.join('\n')}\n`);
  const sampled = await cli(['bn', 'sample', ASIA, '--n', '800', '--seed', '4', '--missing-rate', '0.2', '--hide', 'either', '--out', file('asia.csv')]);
  expect(sampled.code, sampled.stderr).toBe(0);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--workers 2 gives the plain fit, bit for bit', () => {
  it('emlab hmm fit and emlab fit --model hmm (blocks of whole sequences)', async () => {
    const base = ['--states', '2', '--sequence-column', 'id', '--block-rows', '60', '--max-iter', '3', '--tol', '0', '--seed', '1', '--json'];
    const plain = untimed(await cli(['hmm', 'fit', file('seq.csv'), ...base]));
    expect(untimed(await cli(['hmm', 'fit', file('seq.csv'), ...base, '--workers', '2']))).toBe(plain);
    const viaFit = untimed(await cli(['fit', file('seq.csv'), '--model', 'hmm', ...base, '--estep', 'hard']));
    expect(untimed(await cli(['fit', file('seq.csv'), '--model', 'hmm', ...base, '--estep', 'hard', '--workers', '2']))).toBe(viaFit);
  });

  it('emlab bn fit and emlab fit --model bn (blocks of distinct evidence patterns)', async () => {
    const base = ['--batch-size', '16', '--max-iter', '3', '--tol', '0', '--seed', '1', '--json'];
    const plain = untimed(await cli(['bn', 'fit', ASIA, file('asia.csv'), ...base]));
    expect(untimed(await cli(['bn', 'fit', ASIA, file('asia.csv'), ...base, '--workers', '2']))).toBe(plain);
    const viaFit = untimed(await cli(['fit', file('asia.csv'), '--model', 'bn', '--network', ASIA, ...base, '--precision', 'float64']));
    expect(untimed(await cli(['fit', file('asia.csv'), '--model', 'bn', '--network', ASIA, ...base, '--precision', 'float64', '--workers', '2']))).toBe(viaFit);
  });

  it('an E-step that cannot shard is a flag error naming --workers', async () => {
    const r = await cli(['hmm', 'fit', file('seq.csv'), '--states', '2', '--sequence-column', 'id', '--estep', 'tempered', '--workers', '2']);
    expectUserError(r, /--workers = "2": tempered: /);
    expect(r.stderr).not.toMatch(/options\./);
  });
});
