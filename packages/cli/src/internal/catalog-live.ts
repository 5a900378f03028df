/**
 * The catalog from the live registries (after importing the built-in packages
 * and any plug-ins); the build writes the same thing to `dist/registry.json`.
 * @module
 */
import { CONVERGENCE_POLICIES, DEFAULT_MAX_ITER, DEFAULT_TOL, listESteps, listModels, type OptionSchema } from '@emlab/core';
import { loadBuiltins } from './builtins.js';
import type { Catalog, CatalogOption } from './catalog.js';
import { importPlugins } from './plugins.js';

/** An option schema as data (functions left out). */
export function schemaAsData(schema: OptionSchema | undefined): CatalogOption[] {
  return Object.entries(schema ?? {}).map(([key, spec]) => {
    const s = spec as unknown as Record<string, unknown>;
    const pick = <T>(name: string): Record<string, T> => (s[name] === undefined ? {} : { [name]: s[name] as T });
    return {
      key,
      type: spec.type,
      description: spec.description,
      ...pick<string>('flag'),
      ...pick<unknown>('default'),
      ...pick<boolean>('required'),
      ...pick<readonly string[]>('values'),
      ...pick<number>('min'),
      ...pick<number>('max'),
      ...pick<boolean>('exclusiveMin'),
      ...pick<boolean>('exclusiveMax'),
      ...pick<string>('shape'),
      cli: spec.type !== 'custom' || typeof s['parse'] === 'function',
    } as CatalogOption;
  });
}

/** The catalog of everything registered after loading the built-ins and `plugins`. */
export async function liveCatalog(plugins: readonly string[] = []): Promise<Catalog> {
  await loadBuiltins();
  await importPlugins(plugins);
  return {
    models: listModels().map((m) => ({
      name: m.name,
      aliases: [...(m.aliases ?? [])],
      description: m.description,
      structureKind: m.structureKind,
      data: m.data === undefined || m.data.format === 'numeric-table' ? { format: 'numeric-table' } : { format: m.data.format, describe: m.data.describe },
      options: schemaAsData(m.options),
    })),
    methods: listESteps().map((e) => ({ kind: e.kind, method: e.method, family: e.family, description: e.description, options: schemaAsData(e.options) })),
    convergence: { names: [...CONVERGENCE_POLICIES], defaultTol: { ...DEFAULT_TOL } },
    defaultMaxIter: DEFAULT_MAX_ITER,
  };
}
