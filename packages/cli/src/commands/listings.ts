/**
 * `emlab models` and `emlab esteps`: what is registered (built-ins and
 * `--plugin` modules), with every option, its flag and its default.
 * @module
 */
import { describeOption, loadCatalog, optionFlag, optionPlaceholder, showDefault, type Catalog, type CatalogOption } from '../internal/catalog.js';
import { commandFlags, commandSpec, type CommandSpec } from '../internal/commands.js';
import type { CliIo } from '../internal/io.js';
import { parseFlags, positionalArgs, texts } from '../internal/parse-flags.js';

async function catalogFor(command: string, args: readonly string[]): Promise<Catalog> {
  const spec = commandSpec(command) as CommandSpec;
  const parsed = parseFlags(args, commandFlags(spec), `emlab ${command} --help`);
  positionalArgs(parsed.positionals, [], `emlab ${command}`);
  return loadCatalog(texts(parsed, 'plugin'));
}

function optionLine(head: string, o: CatalogOption): string {
  const extra = [describeOption(o), ...(o.default === undefined ? [] : [`default ${showDefault(o.default)}`]), ...(o.required === true ? ['required'] : []), ...(o.cli ? [] : ['API and suite files only'])];
  return `    ${head.padEnd(36)} ${o.description} (${extra.join('; ')})`;
}

/** `emlab models`. */
export async function runModels(args: readonly string[], io: CliIo): Promise<number> {
  const catalog = await catalogFor('models', args);
  const lines: string[] = [];
  for (const m of catalog.models) {
    const data = m.data.format === 'numeric-table' ? 'a numeric CSV (emlab fit data.csv ...)' : (m.data.describe ?? m.data.format);
    lines.push(`${m.name}${m.aliases.length === 0 ? '' : ` (alias ${m.aliases.join(', ')})`}: ${m.description}`);
    lines.push(`  structure kind ${m.structureKind}; data: ${data}`);
    if (m.options.length === 0) lines.push('    (no options)');
    for (const o of m.options) lines.push(optionLine(o.cli ? `--${optionFlag(o)} ${optionPlaceholder(o)}` : o.key, o));
    lines.push('');
  }
  io.stdout(lines.join('\n'));
  return 0;
}

/** `emlab esteps`. */
export async function runESteps(args: readonly string[], io: CliIo): Promise<number> {
  const catalog = await catalogFor('esteps', args);
  const lines: string[] = [];
  for (const e of catalog.methods) {
    lines.push(`${e.kind.padEnd(13)} ${e.method.padEnd(11)} ${e.family.padEnd(12)} ${e.description}`);
    for (const o of e.options) lines.push(optionLine(`--estep-option ${o.key}=${optionPlaceholder(o)}`, o));
  }
  lines.push('', "Structure kind '*': methods for every model that supports them (gradient: models with a gradient adapter).", '--draws S is --estep-option nDraws=S for the monte-carlo family.', '');
  io.stdout(lines.join('\n'));
  return 0;
}
