/**
 * The E-step registry, keyed by (structure kind, method name).
 *
 * E-step packages register their factories on import (`import '@emlab/exact'`);
 * a model declares its structure kind; `fit(model, data, { eStep: 'hard' })`
 * resolves the method here. A duplicate registration warns and replaces; an
 * absent one throws `UNKNOWN_ESTEP` listing what is registered.
 *
 * @module
 */
import { emError } from './errors.js';
import type { EStep, EStepFamily } from './estep.js';

/** A registry entry. @category Registry */
export interface EStepRegistration {
  readonly kind: string;
  readonly method: string;
  readonly family: EStepFamily;
  /** One line for `emlab` help and reports. */
  readonly description: string;
  /** Builds the E-step; validates `options` and throws `INVALID_ARGUMENT` naming the option. */
  readonly create: (options?: Readonly<Record<string, unknown>>) => EStep;
}

const registry = new Map<string, EStepRegistration>();
const keyOf = (kind: string, method: string): string => `${kind}_${method}`;

/**
 * Registers an E-step factory under (kind, method).
 * @category Registry
 */
export function registerEStep(entry: EStepRegistration): void {
  const key = keyOf(entry.kind, entry.method);
  if (registry.has(key) && registry.get(key) !== entry) {
    process.emitWarning(`E-step (${entry.kind}, ${entry.method}) registered twice; the later registration wins`, { code: 'EMLAB_DUPLICATE_ESTEP' });
  }
  registry.set(key, entry);
}

/** Removes an entry (tests and plug-in reloads). @category Registry */
export function unregisterEStep(kind: string, method: string): boolean {
  return registry.delete(keyOf(kind, method));
}

/** Every registration, optionally for one kind, sorted by kind then method. @category Registry */
export function listESteps(kind?: string): EStepRegistration[] {
  return [...registry.values()]
    .filter((e) => kind === undefined || e.kind === kind)
    .sort((a, b) => (a.kind === b.kind ? a.method.localeCompare(b.method) : a.kind.localeCompare(b.kind)));
}

/**
 * Builds the E-step registered under (kind, method).
 * @throws EmError `UNKNOWN_ESTEP` when nothing is registered there.
 * @category Registry
 */
export function createEStep(kind: string, method: string, options?: Readonly<Record<string, unknown>>): EStep {
  const entry = registry.get(keyOf(kind, method));
  if (entry === undefined) {
    const known = listESteps(kind).map((e) => e.method);
    throw emError('UNKNOWN_ESTEP', ['options', 'eStep'], method,
      `no E-step registered for structure kind "${kind}" (registered: ${known.length > 0 ? known.join(', ') : 'none'})`,
      `use one of the registered methods, or import the package that registers it (@emlab/exact, @emlab/variational, @emlab/montecarlo)`);
  }
  return entry.create(options);
}
