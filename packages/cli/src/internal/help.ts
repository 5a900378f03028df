/**
 * Help texts: the global help and each command's own, with every flag and its
 * default; model flags and E-step options are generated from the catalog's
 * option schemas.
 * @module
 */
import { catalogModel, describeOption, optionFlag, optionPlaceholder, showDefault, type Catalog, type CatalogModel, type CatalogOption } from './catalog.js';
import { COMMANDS, type CommandSpec } from './commands.js';
import type { FlagSpec } from './flag-spec.js';

const WIDTH = 100;

/** Wraps `text` to the help width after `indent` columns. */
function wrap(text: string, indent: number, first = indent): string {
  const words = text.split(/\s+/).filter((w) => w !== '');
  const lines: string[] = [];
  let line = '';
  let room = WIDTH - first;
  for (const w of words) {
    if (line !== '' && line.length + 1 + w.length > room) {
      lines.push(line);
      line = w;
      room = WIDTH - indent;
    } else {
      line = line === '' ? w : `${line} ${w}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

const COL = 28;

/** One flag line: `  --name VALUE   description (default d)`. */
function flagLine(head: string, description: string): string {
  const padded = head.length + 2 >= COL ? `  ${head}\n${' '.repeat(COL)}` : `  ${head}`.padEnd(COL);
  return `${padded}${wrap(description, COL, head.length + 2 >= COL ? COL : COL)}`;
}

function describeFlag(f: FlagSpec): string {
  const head = `--${f.name}${f.short === undefined ? '' : `, -${f.short}`}${f.value === undefined ? '' : f.optionalValue !== undefined ? ` [${f.value}]` : ` ${f.value}`}`;
  return flagLine(head, `${f.description}${f.default === undefined ? '' : ` (default: ${f.default})`}`);
}

function describeModelOption(o: CatalogOption): string {
  const head = `--${optionFlag(o)} ${optionPlaceholder(o)}`;
  const extra = [describeOption(o), ...(o.default === undefined ? [] : [`default: ${showDefault(o.default)}`]), ...(o.required === true ? ['required'] : [])];
  return flagLine(head, `${o.description} (${extra.join('; ')})`);
}

/** The model-flag section of one model. */
function modelSection(m: CatalogModel, skip: readonly string[] = []): string {
  const names = [m.name, ...m.aliases].join(', alias ');
  const data = m.data.format === 'numeric-table' ? 'a numeric CSV' : (m.data.describe ?? m.data.format);
  const lines = [`Model flags of --model ${names}: ${wrap(`${m.description}. Data: ${data}.`, 4, 18 + names.length)}`];
  const options = m.options.filter((o) => o.cli && !skip.includes(o.key));
  if (options.length === 0) lines.push('  (none)');
  for (const o of options) lines.push(describeModelOption(o));
  return lines.join('\n');
}

/** E-step options by method, for the kinds given (all when undefined). */
function methodSection(catalog: Catalog, kinds?: readonly string[]): string {
  const lines = ['E-steps and their options (--estep NAME, --estep-option KEY=VALUE; emlab esteps for more):'];
  for (const e of catalog.methods) {
    if (kinds !== undefined && e.kind !== '*' && !kinds.includes(e.kind)) continue;
    const opts = e.options.filter((o) => o.cli);
    lines.push(`  ${e.method} (${e.kind === '*' ? 'any model with a gradient adapter' : `structure kind ${e.kind}`}, ${e.family})${opts.length === 0 ? ': no options' : ':'}`);
    for (const o of opts) {
      const extra = [describeOption(o), ...(o.default === undefined ? [] : [`default: ${showDefault(o.default)}`])];
      lines.push(`    ${`${o.key}=${optionPlaceholder(o)}`.padEnd(COL - 4)}${wrap(`${o.description} (${extra.join('; ')})`, COL)}`);
    }
  }
  return lines.join('\n');
}

/**
 * One command's help: synopsis, every flag with its default, model flags of every registered model
 * (or of `model` only), E-step options.
 */
export function commandHelp(spec: CommandSpec, catalog: Catalog, model?: string): string {
  const out: string[] = [`emlab ${spec.name} — ${spec.summary}`, '', 'Usage:', ...spec.synopsis.map((s) => `  emlab ${s}`), ''];
  for (const g of spec.groups) {
    out.push(`${g.title}:`, ...g.flags.map(describeFlag), '');
  }
  let kinds: string[] | undefined;
  if (spec.modelFlags !== undefined) {
    const chosen = spec.modelFlags === 'any' ? (model === undefined ? undefined : catalogModel(catalog, model)) : catalogModel(catalog, spec.modelFlags);
    const models = chosen === undefined ? catalog.models : [chosen];
    if (chosen === undefined && model !== undefined) out.push(`(--model ${model} is not registered; the registered models follow)`, '');
    for (const m of models) out.push(modelSection(m, spec.modelFlags === 'bayesian-network' ? ['network'] : []), '');
    kinds = chosen === undefined ? undefined : [chosen.structureKind];
  }
  if (spec.methodOptions === true) out.push(methodSection(catalog, kinds), '');
  for (const n of spec.notes ?? []) out.push(wrap(n, 0), '');
  out.push('Exit codes: 0 ok, 2 user error (one line on stderr naming the flag, the value and a remedy), 1 internal error, 130 interrupted.');
  return `${out.join('\n')}\n`;
}

/** The global help: every command, one line each. */
export function globalHelp(): string {
  const lines = ['emlab — Expectation-Maximization with swappable, approximable E-steps', '', 'Usage:'];
  for (const c of COMMANDS) {
    lines.push(`  emlab ${c.synopsis[0] as string}`);
    lines.push(`      ${wrap(c.summary, 6)}`);
  }
  lines.push('  emlab --version', '', 'Every command has its own help with every flag and its default: emlab fit --help, emlab bn fit --help, ...', 'Exit codes: 0 ok, 2 user error, 1 internal error, 130 interrupted.');
  return `${lines.join('\n')}\n`;
}

/** `emlab bn --help`: the three bn commands. */
export function bnHelp(): string {
  const lines = ['emlab bn — discrete Bayesian networks (BIF or emlab JSON files)', '', 'Usage:'];
  for (const c of COMMANDS.filter((x) => x.name.startsWith('bn '))) {
    lines.push(`  emlab ${c.synopsis[0] as string}`, `      ${wrap(c.summary, 6)}`);
  }
  lines.push('', 'Each has its own help: emlab bn fit --help, emlab bn sample --help, emlab bn query --help.');
  return `${lines.join('\n')}\n`;
}
