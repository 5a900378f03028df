/**
 * What the registries hold, as plain data for help texts and listings: models
 * with their option schemas (flags, defaults), methods with theirs, and the
 * convergence rules.
 *
 * `emlab fit --help` must start fast, and the registries live in modules that
 * load TensorFlow.js. So the build writes the catalog of the built-in packages
 * to `dist/registry.json` (`scripts/registry-snapshot.mjs`, from the live
 * registries); help reads that file, and falls back to the live registries
 * when it is missing or when `--plugin` modules may register more.
 * @module
 */
import { readFile } from 'node:fs/promises';

/** One option of a schema, as data. */
export interface CatalogOption {
  readonly key: string;
  /** The CLI flag (model options), without dashes. */
  readonly flag?: string;
  readonly type: string;
  readonly description: string;
  readonly default?: unknown;
  readonly required?: boolean;
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  readonly exclusiveMin?: boolean;
  readonly exclusiveMax?: boolean;
  readonly shape?: string;
  /** Whether command-line text can set it (a `custom` option needs a `parse`). */
  readonly cli: boolean;
}

/** A registered model, as data. */
export interface CatalogModel {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly description: string;
  readonly structureKind: string;
  readonly data: { readonly format: string; readonly describe?: string };
  readonly options: readonly CatalogOption[];
}

/** A registered method, as data. */
export interface CatalogMethod {
  readonly kind: string;
  readonly method: string;
  readonly family: string;
  readonly description: string;
  readonly options: readonly CatalogOption[];
}

/** Everything help texts show. */
export interface Catalog {
  readonly models: readonly CatalogModel[];
  readonly methods: readonly CatalogMethod[];
  readonly convergence: { readonly names: readonly string[]; readonly defaultTol: Readonly<Record<string, number>> };
  readonly defaultMaxIter: number;
}

/** Where the build puts the snapshot (next to the compiled modules). */
export const SNAPSHOT_URL = new URL('../registry.json', import.meta.url);

/** The build's snapshot, or undefined when there is none. */
async function readSnapshot(): Promise<Catalog | undefined> {
  try {
    return JSON.parse(await readFile(SNAPSHOT_URL, 'utf8')) as Catalog;
  } catch {
    return undefined;
  }
}

/**
 * The catalog: the build's snapshot when no plug-in is named, else (or without a snapshot) the live
 * registries after importing the built-in packages and the plug-ins.
 * @throws EmError naming `--plugin` when a plug-in cannot be imported.
 */
export async function loadCatalog(plugins: readonly string[]): Promise<Catalog> {
  if (plugins.length === 0) {
    const snapshot = await readSnapshot();
    if (snapshot !== undefined) return snapshot;
  }
  const { liveCatalog } = await import('./catalog-live.js');
  return liveCatalog(plugins);
}

/** An option's constraint in words: `an integer >= 1`, `one of full, diag`. */
export function describeOption(o: CatalogOption): string {
  switch (o.type) {
    case 'integer':
    case 'number': {
      const what = o.type === 'integer' ? 'an integer' : 'a number';
      const lo = o.min === undefined ? '' : `${o.exclusiveMin === true ? '>' : '>='} ${o.min}`;
      const hi = o.max === undefined ? '' : `${o.exclusiveMax === true ? '<' : '<='} ${o.max}`;
      if (o.min !== undefined && o.max !== undefined && o.exclusiveMin !== true && o.exclusiveMax !== true) return `${what} in [${o.min}, ${o.max}]`;
      const range = [lo, hi].filter((s) => s !== '').join(' and ');
      return range === '' ? what : `${what} ${range}`;
    }
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${(o.values ?? []).join(', ')}`;
    case 'string':
      return 'text';
    case 'number-list':
      return 'comma-separated numbers';
    default:
      return o.shape ?? o.type;
  }
}

/** The placeholder of an option's value in help: `K`, `full|diag`, ... */
export function optionPlaceholder(o: CatalogOption): string {
  if (o.type === 'enum' && o.values !== undefined && o.values.join('|').length <= 30) return o.values.join('|');
  if (o.type === 'integer') return 'N';
  if (o.type === 'number') return 'X';
  if (o.type === 'boolean') return 'true|false';
  if (o.type === 'number-list') return 'X,Y,...';
  return 'VALUE';
}

/** kebab-case of an option key: `initConcentration` → `init-concentration`. */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The CLI flag of a model option: its schema's `flag`, else the key in kebab-case. */
export function optionFlag(o: Pick<CatalogOption, 'key' | 'flag'>): string {
  return o.flag ?? kebab(o.key);
}

/** A default value as shown in help. */
export function showDefault(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

/** Finds a model by name or alias. */
export function catalogModel(catalog: Catalog, name: string): CatalogModel | undefined {
  return catalog.models.find((m) => m.name === name || m.aliases.includes(name));
}
