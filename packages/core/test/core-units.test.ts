// Small units of @emlab/core: seeded streams, the E-step registry, error formatting, JSON encoding.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createEStep,
  createRng,
  EmError,
  EM_ERROR_CODES,
  emError,
  formatPath,
  fromJson,
  listESteps,
  monotonicityTolerance,
  registerEStep,
  toJson,
  unregisterEStep,
  type EStep,
  type EStepRegistration,
} from '../src/index.js';

describe('seeded streams', () => {
  const draw = (seed: number | string, ...path: (string | number)[]): number[] => {
    const r = path.length > 0 ? createRng(seed).child(...path) : createRng(seed);
    return Array.from({ length: 5 }, () => r.uniform());
  };
  it('the same seed and path give the same numbers; seed 0 is a seed', () => {
    expect(draw(0)).toEqual(draw(0));
    expect(draw(0, 'restart', 1)).toEqual(draw(0, 'restart', 1));
    expect(draw(0)).not.toEqual(draw(1));
    expect(draw(0, 'restart', 0)).not.toEqual(draw(0, 'restart', 1));
  });
  it("a stream's numbers do not depend on what other streams consumed", () => {
    const root = createRng(7);
    const a = root.child('a');
    for (let i = 0; i < 100; i++) a.uniform();
    expect(Array.from({ length: 5 }, () => root.child('b').uniform())).toHaveLength(5);
    const b1 = createRng(7).child('b');
    const b2 = root.child('b');
    expect(b1.uniform()).toBe(b2.uniform());
  });
  it('uniform, normal, int, categorical and seed32 behave', () => {
    const r = createRng('s');
    let sum = 0;
    let sq = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      sum += z;
      sq += z * z;
    }
    expect(Math.abs(sum / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.05);
    for (let i = 0; i < 1000; i++) {
      const k = r.int(3);
      expect(k >= 0 && k < 3 && Number.isInteger(k)).toBe(true);
      expect(r.categorical([0, 1, 0])).toBe(1);
      expect(r.seed32()).not.toBe(0);
    }
  });
  it('rejects bad seeds with a typed error', () => {
    for (const bad of [1.5, Number.NaN, '', -Infinity]) {
      const e = (() => {
        try {
          createRng(bad as number);
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(e).toBeInstanceOf(EmError);
      expect((e as EmError).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('E-step registry', () => {
  const fake = (name: string): EStepRegistration => ({
    kind: 'test-kind',
    method: name,
    family: 'exact',
    description: 'a test entry',
    create: () => ({ name, kind: 'test-kind', family: 'exact', options: {}, run: () => ({ stats: 0, bound: 0, entropy: 0 }) }) as EStep,
  });
  afterEach(() => {
    unregisterEStep('test-kind', 'a');
    unregisterEStep('test-kind', 'b');
  });
  it('registers, lists by kind, and creates', () => {
    registerEStep(fake('b'));
    registerEStep(fake('a'));
    // '*' methods (the gradient baseline) apply to every kind and are listed too.
    expect(listESteps('test-kind').filter((e) => e.kind === 'test-kind').map((e) => e.method)).toEqual(['a', 'b']);
    expect(listESteps('test-kind').some((e) => e.kind === '*' && e.method === 'gradient')).toBe(true);
    expect(createEStep('test-kind', 'a').name).toBe('a');
  });
  it('warns on a duplicate and throws UNKNOWN_ESTEP for an absent method, naming what is registered', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    registerEStep(fake('a'));
    // The same registration again (a package loaded twice) is silent; a different one warns.
    registerEStep(fake('a'));
    expect(warn).toHaveBeenCalledTimes(0);
    registerEStep({ ...fake('a'), description: 'another entry under the same key' });
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
    try {
      createEStep('test-kind', 'zzz');
      expect.unreachable();
    } catch (e) {
      expect((e as EmError).code).toBe('UNKNOWN_ESTEP');
      // '*' methods (the gradient baseline, the accelerated methods) apply to every kind: listed first.
      expect((e as EmError).message).toMatch(/registered: aitken, gradient, parabolic, quasi-newton, squarem, a\)/);
    }
  });
});

describe('errors', () => {
  it('messages name the path, the value and a remedy', () => {
    const e = emError('INVALID_ARGUMENT', ['options', 'tol'], -1, 'must be >= 0', 'pass tol >= 0');
    expect(e.message).toBe('options.tol = -1: must be >= 0. Remedy: pass tol >= 0');
    expect(e.path).toEqual(['options', 'tol']);
    expect(e.toJSON()).toEqual({ code: 'INVALID_ARGUMENT', message: e.message, path: ['options', 'tol'] });
    expect(formatPath(['data', 3, 1])).toBe('data[3][1]');
    expect(new Set(EM_ERROR_CODES).size).toBe(EM_ERROR_CODES.length);
  });
});

describe('JSON and tolerances', () => {
  it('round-trips non-finite numbers exactly', () => {
    const v = { a: Number.NaN, b: Number.POSITIVE_INFINITY, c: Number.NEGATIVE_INFINITY, d: 0.1 + 0.2, e: [-0] };
    const back = fromJson(toJson(v)) as typeof v;
    expect(Number.isNaN(back.a)).toBe(true);
    expect(back.b).toBe(Number.POSITIVE_INFINITY);
    expect(back.c).toBe(Number.NEGATIVE_INFINITY);
    expect(back.d).toBe(0.1 + 0.2);
    expect(() => fromJson('{')).toThrow(EmError);
  });
  it('the monotonicity tolerance is 64·u times the largest magnitude, with the conditioning term capped', () => {
    expect(monotonicityTolerance(-1000, -999, 10)).toBe(64 * 2 ** -24 * 1000);
    expect(monotonicityTolerance(-1, -1, 500)).toBe(64 * 2 ** -24 * 500);
    expect(monotonicityTolerance(-1, -1, 5, 1000)).toBe(64 * 2 ** -24 * 1000);
    // S beyond 2¹⁰ · max(|L|, W) cannot widen the check further (no data set switches it off).
    expect(monotonicityTolerance(-1, -1, 5, 1e6)).toBe(64 * 2 ** -24 * 5 * 2 ** 10);
    expect(monotonicityTolerance(-1000, -999, 10, 0, 'float64')).toBe(64 * 2 ** -53 * 1000);
  });
});

describe('statistics and structure helpers', () => {
  it('sumStats folds an algebra left to right; isFiniteStructure narrows by kind', async () => {
    const { sumStats, isFiniteStructure } = await import('../src/index.js');
    const numbers = { zero: () => 0, add: (a: number, b: number) => a + b, scale: (a: number, c: number) => a * c };
    expect(sumStats(numbers, [1, 2, 3.5])).toBe(6.5);
    expect(() => sumStats(numbers, [])).toThrow();
    expect(isFiniteStructure({ kind: 'finite' })).toBe(true);
    expect(isFiniteStructure({ kind: 'chain' })).toBe(false);
  });
});
