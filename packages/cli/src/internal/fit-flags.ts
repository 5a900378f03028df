/**
 * The fitting flags shared by every command that fits (`--init`,
 * `--init-params`, `--precision`, `--convergence`, `--tol`, `--max-iter`,
 * `--n-init`, `--seed`, `--record-params`), checked before any work, and the
 * translation of core's option paths back to these flags.
 * @module
 */
import { CONVERGENCE_POLICIES, type ConvergencePolicyName, type PrecisionOption } from '@emlab/core';
import { badFlag } from './cli-error.js';
import { flagNumber, seedOf } from './numbers.js';
import { text, type ParsedFlags } from './parse-flags.js';

/** The fit options the flags set (what `fit` receives besides callbacks, the method and the data). */
export interface FitFlagOptions {
  readonly maxIter?: number;
  readonly tol?: number;
  readonly nInit?: number;
  readonly init?: string;
  readonly seed: number | string;
  readonly precision?: PrecisionOption;
  readonly convergence?: ConvergencePolicyName;
  readonly recordParams?: true | number;
  /** `--init-params FILE` (read once the model exists). */
  readonly initParams?: string;
}

const PRECISION_VALUES = ['auto', 'float32', 'float64'] as const;

/**
 * The fitting flags, checked (ranges, names, conflicts).
 * @throws EmError `INVALID_ARGUMENT` naming the flag.
 */
export function fitFlags(parsed: ParsedFlags): FitFlagOptions {
  const maxIter = flagNumber('max-iter', text(parsed, 'max-iter'), 'int', 1);
  const tol = flagNumber('tol', text(parsed, 'tol'), 'float', 0);
  const nInit = flagNumber('n-init', text(parsed, 'n-init'), 'int', 1);
  const precision = text(parsed, 'precision');
  if (precision !== undefined && !(PRECISION_VALUES as readonly string[]).includes(precision)) {
    throw badFlag('--precision', precision, `is not a precision (${PRECISION_VALUES.join(', ')})`, 'pass --precision auto (default), float32 or float64');
  }
  const convergence = text(parsed, 'convergence');
  if (convergence !== undefined && !(CONVERGENCE_POLICIES as readonly string[]).includes(convergence)) {
    throw badFlag('--convergence', convergence, `is not a stopping rule (${CONVERGENCE_POLICIES.join(', ')})`, 'pass one of those names (docs/cli.md explains each)');
  }
  const record = flagNumber('record-params', text(parsed, 'record-params'), 'int', 1);
  const init = text(parsed, 'init');
  const initParams = text(parsed, 'init-params');
  if (initParams !== undefined && init !== undefined) {
    throw badFlag('--init', init, 'conflicts with --init-params (the start is given)', 'pass either --init NAME or --init-params FILE');
  }
  if (initParams !== undefined && nInit !== undefined && nInit > 1) {
    throw badFlag('--n-init', text(parsed, 'n-init'), 'conflicts with --init-params: every restart would start from the same parameters', 'drop --n-init, or drop --init-params to restart from seeded starts');
  }
  return {
    ...(maxIter === undefined ? {} : { maxIter }),
    ...(tol === undefined ? {} : { tol }),
    ...(nInit === undefined ? {} : { nInit }),
    ...(init === undefined ? {} : { init }),
    seed: seedOf(text(parsed, 'seed')),
    ...(precision === undefined ? {} : { precision: precision as PrecisionOption }),
    ...(convergence === undefined ? {} : { convergence: convergence as ConvergencePolicyName }),
    ...(record === undefined ? {} : { recordParams: record === 1 ? true : record }),
    ...(initParams === undefined ? {} : { initParams }),
  };
}

/** `fit`'s option names → the flags that set them. */
export const FIT_OPTION_FLAGS: Readonly<Record<string, string>> = {
  maxIter: '--max-iter',
  tol: '--tol',
  nInit: '--n-init',
  init: '--init',
  seed: '--seed',
  precision: '--precision',
  convergence: '--convergence',
  recordParams: '--record-params',
  weights: '--weights-column',
  eStep: '--estep',
  eStepOptions: '--estep-option',
  workers: '--workers',
  cacheDir: '--cache-dir',
  queue: '--queue',
};
