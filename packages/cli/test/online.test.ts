/**
 * The CLI pieces for `--accelerate`, `--online` and `--se` (called directly: the lead wires them
 * into `emlab fit`): flags parsed by the library's option tables, errors naming the flag, a streamed
 * online fit with a held-out file, and a standard-error table.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng, fit } from '@emlab/core';
import '@emlab/exact';
import { gaussianMixture } from '@emlab/models';
import { catchEmError, catchEmErrorAsync } from '@emlab/testing';
import { accelerateFromFlags, describeStandardErrors, onlineOptionsFromFlags, runOnlineFit, standardErrorsFromFlags, standardErrorsJson } from '../src/online.js';

const io = { stdout: (): void => {}, stderr: (t: string): void => void lines.push(t), isTty: false };
const lines: string[] = [];

describe('flags', () => {
  it('--accelerate and the online flags parse, and errors name the flag', () => {
    expect(accelerateFromFlags({ accelerate: 'squarem' })).toEqual({ accelerate: 'squarem' });
    expect(accelerateFromFlags({})).toEqual({});
    expect(catchEmError(() => accelerateFromFlags({ accelerate: 'turbo' })).path).toEqual(['--accelerate']);
    expect(catchEmError(() => accelerateFromFlags({ accelerate: 'squarem', online: true })).path).toEqual(['--accelerate']);
    expect(onlineOptionsFromFlags({ online: true, 'batch-size': '128', 'step-alpha': '0.7', passes: '3' })).toEqual({ batchSize: 128, stepAlpha: 0.7, passes: 3 });
    expect(catchEmError(() => onlineOptionsFromFlags({ online: true, 'step-alpha': '0.3' })).path).toEqual(['--step-alpha']);
    expect(catchEmError(() => onlineOptionsFromFlags({ passes: '2' })).path).toEqual(['--passes']);
  });
});

describe('online fit and standard errors', () => {
  const rng = createRng(3).child('cli-online');
  const row = (): number[] => {
    const c = rng.uniform() < 0.5 ? 0 : 4;
    return [c + rng.normal(), c + rng.normal()];
  };
  const train = Array.from({ length: 1200 }, row);
  const test = Array.from({ length: 300 }, row);
  const dir = mkdtempSync(join(tmpdir(), 'emlab-cli-online-'));
  const csv = (rows: number[][]): string => `a,b\n${rows.map((r) => r.join(',')).join('\n')}\n`;
  writeFileSync(join(dir, 'train.csv'), csv(train));
  writeFileSync(join(dir, 'test.csv'), csv(test));

  it('streams the CSV and reports the held-out log-likelihood per pass', async () => {
    lines.length = 0;
    const warnings: string[] = [];
    const r = await runOnlineFit(gaussianMixture({ nComponents: 2 }), join(dir, 'train.csv'), { online: true, passes: '2', 'batch-size': '200', 'held-out': join(dir, 'test.csv') }, 0, io, warnings);
    expect(r.passes).toBe(2);
    expect(lines.filter((l) => l.startsWith('pass ')).length).toBe(2);
    expect(lines[1]).toMatch(/held-out log-likelihood -?\d/);
    expect(r.heldOutLogLikelihood).not.toBeNull();
  });

  it('--se: Louis by default, bootstrap on request; a table and JSON', async () => {
    const gmm = gaussianMixture({ nComponents: 2 });
    const r = await fit(gmm, train, { accelerate: 'squarem', onWarning: () => {} });
    const se = await standardErrorsFromFlags(gmm, r, train, { se: true }, 0);
    expect(se.method).toBe('louis');
    const table = describeStandardErrors(se);
    expect(table).toContain('means.0.0');
    const json = standardErrorsJson(se);
    expect((json['natural'] as { names: string[] }).names.length).toBe(se.natural.names.length);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect((await catchEmErrorAsync(standardErrorsFromFlags(gmm, r, train, { se: true, 'se-method': 'jackknife' }, 0))).path).toEqual(['--se-method']);
    expect((await catchEmErrorAsync(standardErrorsFromFlags(gmm, r, train, { se: true, replicates: '10' }, 0))).path).toEqual(['--replicates']);
    const boot = await standardErrorsFromFlags(gmm, r, train, { se: true, 'se-method': 'bootstrap', replicates: '5' }, 1);
    expect(boot.bootstrap?.replicates).toBe(5);
  });
});
