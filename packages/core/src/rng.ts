/**
 * Seeded random-number streams.
 *
 * One root seed; independent named streams derived from it by path, e.g.
 * `createRng(seed).child('restart', 0).child('iter', 3, 'estep')`. Each stream is
 * an `alea` generator from `seedrandom` keyed by the full path string, so the
 * numbers a stream produces never depend on how many numbers another stream
 * consumed. emlab never calls `Math.random` and never calls tfjs random ops
 * with implicit seeds (tfjs treats seed 0 as "unseeded").
 *
 * @module
 */
import seedrandom from 'seedrandom';
import { emError } from './errors.js';

/**
 * A seeded random stream.
 * @category Randomness
 */
export interface Rng {
  /** The stream's path, e.g. `"42/restart/0/iter/3/estep"`. */
  readonly path: string;
  /** Uniform on [0, 1) with 53 bits of randomness. */
  uniform(): number;
  /** Standard normal (Box–Muller, both values used). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Index drawn from unnormalized non-negative weights. */
  categorical(weights: ArrayLike<number>): number;
  /** Fills `out` with uniforms on [0, 1) (float64 precision). */
  fillUniform(out: Float64Array | Float32Array): void;
  /** An independent stream named by `parts` under this one. */
  child(...parts: (string | number)[]): Rng;
  /** A 32-bit seed derived from this stream that is never 0 (for APIs that take integer seeds). */
  seed32(): number;
}

/** A root seed: a safe integer or a non-empty string. @category Randomness */
export type Seed = number | string;

/**
 * Checks a user-supplied seed (`options.seed` by default).
 * @throws EmError `INVALID_ARGUMENT`
 * @category Randomness
 */
export function validateSeed(seed: unknown, path: readonly (string | number)[] = ['options', 'seed']): asserts seed is Seed {
  if (typeof seed === 'number' && Number.isSafeInteger(seed)) return;
  if (typeof seed === 'string' && seed.length > 0) return;
  throw emError('INVALID_ARGUMENT', path, seed, 'must be a safe integer or a non-empty string', 'pass e.g. seed: 0 (seed 0 is a valid seed in emlab)');
}

class AleaRng implements Rng {
  readonly path: string;
  private readonly prng: seedrandom.PRNG;
  private spare: number | undefined = undefined;

  constructor(path: string) {
    this.path = path;
    this.prng = seedrandom.alea(path);
  }

  uniform(): number {
    return this.prng.double();
  }

  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.prng.double();
    const v = this.prng.double();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  int(n: number): number {
    return Math.floor(this.prng.double() * n);
  }

  categorical(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i] as number;
    let u = this.prng.double() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i] as number;
      if (u < 0) return i;
    }
    // Rounding: return the last index with positive weight.
    for (let i = weights.length - 1; i >= 0; i--) if ((weights[i] as number) > 0) return i;
    return weights.length - 1;
  }

  fillUniform(out: Float64Array | Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.prng.double();
  }

  child(...parts: (string | number)[]): Rng {
    return new AleaRng(`${this.path}/${parts.join('/')}`);
  }

  seed32(): number {
    const s = this.prng.int32() >>> 0;
    return s === 0 ? 1 : s;
  }
}

/**
 * Creates the root stream for a seed.
 *
 * @example
 * ```ts
 * const rng = createRng(0).child('restart', 1);
 * rng.uniform();
 * ```
 * @throws EmError `INVALID_ARGUMENT` for a seed that is not a safe integer or non-empty string.
 * @category Randomness
 */
export function createRng(seed: Seed): Rng {
  validateSeed(seed, ['seed']);
  return new AleaRng(String(seed));
}
