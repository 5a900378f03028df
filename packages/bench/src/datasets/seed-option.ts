/**
 * The `seed` entry every built-in data-set kind's option table has.
 * @module
 */
import { validateSeed, type ErrorPath, type Seed } from '@emlab/core';

/** A `seed` option (a safe integer or a non-empty string), required or with a default. @internal */
export function seedOption(description: string, presence: { readonly required: true } | { readonly default: Seed }) {
  return {
    type: 'custom',
    ...presence,
    shape: 'a safe integer or a non-empty string',
    description,
    check: (v: unknown, path: ErrorPath): unknown => {
      validateSeed(v, path);
      return v;
    },
  } as const;
}
