/** The shared flag layer of the CLI (args.ts): negative values, numeric ranges, seeds, and the progress line of long fits. */
import { describe, expect, it } from 'vitest';
import type { IterationRecord } from '@emlab/core';
import { catchEmError } from '@emlab/testing';
import { flagNumber, joinNegativeValues, parseFlags, progressLine, seedOf } from '../src/args.js';

describe('flags', () => {
  it('negative numbers are values of string options, not flags', () => {
    const options = { tol: { type: 'string' }, json: { type: 'boolean' } } as const;
    expect(joinNegativeValues(['--tol', '-1', '--json'], options)).toEqual(['--tol=-1', '--json']);
    expect(joinNegativeValues(['--json', '-1'], options)).toEqual(['--json', '-1']);
    expect(parseFlags(['data.csv', '--tol', '-0.5'], options).values.tol).toBe('-0.5');
  });

  it('unknown flags are one INVALID_ARGUMENT line pointing at the help', () => {
    const e = catchEmError(() => parseFlags(['--bogus'], { tol: { type: 'string' } } as const, 'emlab bn --help'));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).not.toContain('\n');
    expect(e.message).toMatch(/bogus.*Remedy: see emlab bn --help/);
  });

  it('numbers: kind and range checked, the flag named', () => {
    expect(flagNumber('k', undefined, 'int')).toBeUndefined();
    expect(flagNumber('k', '3', 'int', 1)).toBe(3);
    expect(catchEmError(() => flagNumber('k', '2.5', 'int')).message).toMatch(/^--k = "2.5": must be an integer\. Remedy/);
    expect(catchEmError(() => flagNumber('k', '0', 'int', 1)).message).toMatch(/must be an integer >= 1/);
    expect(catchEmError(() => flagNumber('p', '1', 'float', 0, 1, true)).message).toMatch(/must be a number in \[0, 1\)/);
    expect(catchEmError(() => flagNumber('p', 'x', 'float')).message).toMatch(/must be a number\b/);
  });

  it('seeds: integers stay numbers, other text is a string seed, empty is an error', () => {
    expect(seedOf(undefined)).toBe(0);
    expect(seedOf('42')).toBe(42);
    expect(seedOf('run-a')).toBe('run-a');
    expect(catchEmError(() => seedOf(' ')).message).toMatch(/--seed/);
  });
});

describe('progress line', () => {
  const record = (iteration: number): IterationRecord => ({ iteration, boundAfterM: -12.5 }) as IterationRecord;
  const info = { restart: 0, nInit: 2, maxIter: 100 };
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  it('silent for the first second, then one line; every 5 s when not a terminal', async () => {
    const lines: string[] = [];
    const on = progressLine({ stdout: () => {}, stderr: (t) => lines.push(t), isTty: false }, 'fit x.csv', 'bound', (v) => v.toFixed(1));
    on(record(1), info);
    expect(lines).toEqual([]);
    await sleep(1050);
    on(record(7), info);
    on(record(8), info);
    expect(lines).toEqual(['fit x.csv: restart 1/2, iteration 7/100, bound -12.5\n']);
  });

  it('redrawn in place on a terminal', async () => {
    const lines: string[] = [];
    const on = progressLine({ stdout: () => {}, stderr: (t) => lines.push(t), isTty: true }, 'bn fit', 'log-likelihood', (v) => v.toFixed(2));
    await sleep(1050);
    on(record(3), info);
    expect(lines).toEqual(['\rbn fit: restart 1/2, iteration 3/100, log-likelihood -12.50\u001b[K']);
  });
});
