/**
 * Accelerators by name, for options objects and the command line.
 *
 * @module
 */
import { emError } from '../errors.js';
import type { Accelerator } from './accelerator.js';
import { aitken } from './aitken.js';
import type { AitkenOptions } from './aitken.js';
import { parabolicEm } from './parabolic-em.js';
import type { ParabolicEmOptions } from './parabolic-em.js';
import { plainEm } from './plain-em.js';
import { quasiNewton } from './quasi-newton.js';
import type { QuasiNewtonOptions } from './quasi-newton.js';
import { squarem } from './squarem.js';
import type { SquaremOptions } from './squarem.js';

/** Names accepted by {@link createAccelerator}. @category Acceleration */
export type AcceleratorName = 'em' | 'squarem' | 'aitken' | 'parabolic' | 'quasi-newton';

/** All accelerator names, for validation and help text. @category Acceleration */
export const ACCELERATOR_NAMES: readonly AcceleratorName[] = ['em', 'squarem', 'aitken', 'parabolic', 'quasi-newton'];

/** Options by accelerator name. @category Acceleration */
export interface AcceleratorOptionsByName {
  em: Record<string, never>;
  squarem: SquaremOptions;
  aitken: AitkenOptions;
  parabolic: ParabolicEmOptions;
  'quasi-newton': QuasiNewtonOptions;
}

/**
 * Builds an accelerator from its name and options (`'em'` is plain EM).
 * @throws `INVALID_ARGUMENT` for an unknown name or options out of range.
 * @category Acceleration
 */
export function createAccelerator<N extends AcceleratorName>(name: N, options?: AcceleratorOptionsByName[N]): Accelerator {
  switch (name) {
    case 'em':
      return plainEm();
    case 'squarem':
      return squarem(options as SquaremOptions | undefined);
    case 'aitken':
      return aitken(options as AitkenOptions | undefined);
    case 'parabolic':
      return parabolicEm(options as ParabolicEmOptions | undefined);
    case 'quasi-newton':
      return quasiNewton(options as QuasiNewtonOptions | undefined);
    default:
      throw emError('INVALID_ARGUMENT', ['accelerator'], name, `is not one of ${ACCELERATOR_NAMES.join(', ')}`, "pass e.g. 'squarem'");
  }
}
