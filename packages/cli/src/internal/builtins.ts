/**
 * The packages whose registrations the command line knows without `--plugin`:
 * models (`@emlab/models`) and E-steps (`@emlab/exact`, `@emlab/variational`,
 * `@emlab/montecarlo`; core registers the gradient baseline). Loaded on
 * demand: they bring TensorFlow.js.
 * @module
 */

/** Imports every built-in package (they register on import). */
export async function loadBuiltins(): Promise<void> {
  await Promise.all([import('@emlab/core'), import('@emlab/models'), import('@emlab/exact'), import('@emlab/variational'), import('@emlab/montecarlo')]);
}
