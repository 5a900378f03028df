/**
 * TensorFlow.js backend selection.
 *
 * Order: `@tensorflow/tfjs-node` when it is installed (optional peer
 * dependency, never required), else `@tensorflow/tfjs-backend-wasm` (SIMD,
 * the default: 12–31 GFLOP/s for matMul on the reference machine), else
 * `@tensorflow/tfjs-backend-cpu` (about 1 GFLOP/s). The environment variable
 * `EMLAB_BACKEND=tensorflow|wasm|cpu` or the `prefer` argument forces one.
 * The backend used is recorded in every {@link FitResult}.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { EmError, emError } from './errors.js';
import { envVar } from './platform.js';

/** A backend name emlab knows how to load. @category Backend */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

const BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

let pending: Promise<BackendName> | undefined;
let pendingFor: string | undefined;
/** A backend the caller chose explicitly (`prefer`) and that initialised: later automatic calls keep it. */
let chosen: BackendName | undefined;

async function load(name: BackendName): Promise<boolean> {
  try {
    if (name === 'tensorflow') {
      // A variable specifier keeps bundlers and tsc from requiring the optional package.
      const spec = '@tensorflow/tfjs-node';
      await import(spec);
    } else if (name === 'wasm') {
      await import('@tensorflow/tfjs-backend-wasm');
    } else {
      await import('@tensorflow/tfjs-backend-cpu');
    }
    if (tf.findBackendFactory(name) === null) return false;
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

/**
 * Initialises and selects the TensorFlow.js backend (idempotent; concurrent
 * calls share one initialisation).
 *
 * A backend forced through `prefer` stays selected: a later call without a preference (as `fit`
 * makes) returns it instead of running the automatic selection again, so an application that
 * chose a backend (a browser page choosing `wasm` or `cpu`) keeps it for its fits.
 *
 * @param prefer - a backend to force; defaults to `process.env.EMLAB_BACKEND`, else the backend last forced through `prefer`, else automatic.
 * @returns the name of the active backend.
 * @throws EmError `BACKEND_UNAVAILABLE` when a forced backend cannot load; `INVALID_ARGUMENT` for an unknown name.
 * @category Backend
 */
export async function initBackend(prefer?: BackendName): Promise<BackendName> {
  const forced = prefer ?? (envVar('EMLAB_BACKEND') as BackendName | undefined) ?? chosen;
  const key = forced ?? 'auto';
  if (pending !== undefined && pendingFor === key) return pending;
  if (forced !== undefined && !BACKENDS.includes(forced)) {
    throw emError('INVALID_ARGUMENT', prefer === undefined ? ['env', 'EMLAB_BACKEND'] : ['prefer'], forced,
      `unknown backend (known: ${BACKENDS.join(', ')})`, 'use one of tensorflow, wasm, cpu, or leave it unset for automatic selection');
  }
  pendingFor = key;
  pending = (async () => {
    if (forced !== undefined) {
      if (await load(forced)) return forced;
      throw new EmError('BACKEND_UNAVAILABLE', `backend ${JSON.stringify(forced)} could not be initialised. Remedy: install its package (e.g. @tensorflow/tfjs-node) or unset EMLAB_BACKEND`, { path: ['backend'], value: forced });
    }
    for (const name of BACKENDS) if (await load(name)) return name;
    throw new EmError('BACKEND_UNAVAILABLE', 'no TensorFlow.js backend could be initialised. Remedy: reinstall dependencies (npm ci)', { path: ['backend'] });
  })();
  try {
    const name = await pending;
    if (prefer !== undefined) chosen = name;
    return name;
  } catch (e) {
    pending = undefined;
    pendingFor = undefined;
    throw e;
  }
}

/** The active backend's name (after {@link initBackend}). @category Backend */
export function currentBackend(): string {
  return tf.getBackend();
}
