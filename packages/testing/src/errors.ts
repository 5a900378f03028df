/**
 * Catching `EmError`s in tests.
 * @module
 */
import { EmError } from '@emlab/core';

/**
 * Runs `f` and returns the `EmError` it throws; throws if it throws nothing or something else.
 * @category Testing
 */
export function catchEmError(f: () => unknown): EmError {
  try {
    f();
  } catch (e) {
    if (e instanceof EmError) return e;
    throw new Error(`expected an EmError, got ${String(e)}`);
  }
  throw new Error('expected an EmError, nothing was thrown');
}

/**
 * Awaits `p` and returns the `EmError` it rejects with; throws if it resolves or rejects with something else.
 * @category Testing
 */
export async function catchEmErrorAsync(p: Promise<unknown>): Promise<EmError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EmError) return e;
    throw new Error(`expected an EmError, got ${String(e)}`);
  }
  throw new Error('expected an EmError, the promise resolved');
}
