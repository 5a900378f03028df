/**
 * Strict flag parsing: unknown flags, repeated flags, switches given a value
 * and values that are missing are errors naming the flag, the value and a
 * remedy. `--name value` and `--name=value` both work; a value may start with
 * a dash (`--tol -1`: the option's own check then rejects it with a proper
 * message); `--` ends the flags.
 * @module
 */
import { NO_VALUE, badFlag } from './cli-error.js';
import type { FlagSpec } from './flag-spec.js';

/** Parsed flags: a string (or several, for repeatable flags) per value flag, `true` per switch. */
export interface ParsedFlags {
  readonly values: Readonly<Record<string, string | readonly string[] | true | undefined>>;
  readonly positionals: readonly string[];
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The closest known flag name within 2 edits (or a prefix match), if any. */
export function nearestFlag(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const dist = k.startsWith(name) || name.startsWith(k) ? Math.min(distance(name, k), 2) : distance(name, k);
    if (dist < bestD) {
      bestD = dist;
      best = k;
    }
  }
  return best;
}

/**
 * Parses `args` against `flags`.
 * @param help - the help command named in remedies (`emlab fit --help`).
 * @param elsewhere - explains a flag that this command does not take but another context does
 *   (e.g. a flag of another model): returns a remedy, or undefined.
 * @throws EmError `INVALID_ARGUMENT` naming the flag.
 */
export function parseFlags(args: readonly string[], flags: readonly FlagSpec[], help: string, elsewhere?: (name: string) => string | undefined): ParsedFlags {
  const byName = new Map(flags.map((f) => [f.name, f]));
  const byShort = new Map(flags.filter((f) => f.short !== undefined).map((f) => [f.short as string, f]));
  const values: Record<string, string | string[] | true> = {};
  const positionals: string[] = [];
  const unknown = (token: string, name: string): never => {
    const other = elsewhere?.(name);
    const near = nearestFlag(name, [...byName.keys()]);
    throw badFlag(token, NO_VALUE, `is not a flag of ${help.replace(/ --help$/, '')}`, other ?? (near !== undefined ? `did you mean --${near}? See ${help}` : `see ${help}`));
  };
  for (let i = 0; i < args.length; i++) {
    const token = args[i] as string;
    if (token === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      const name = eq < 0 ? token.slice(2) : token.slice(2, eq);
      if (eq >= 0) inline = token.slice(eq + 1);
      spec = byName.get(name);
      if (spec === undefined) unknown(`--${name}`, name);
    } else if (/^-[A-Za-z]$/.test(token)) {
      spec = byShort.get(token.slice(1));
      if (spec === undefined) unknown(token, token.slice(1));
    } else if (token.startsWith('-') && token.length > 1 && !/^-(?:\d|\.\d|Infinity$)/.test(token)) {
      unknown(token, token.replace(/^-+/, ''));
    } else {
      positionals.push(token);
      continue;
    }
    const f = spec as FlagSpec;
    const shown = `--${f.name}`;
    let value: string | true;
    if (f.value === undefined) {
      if (inline !== undefined) throw badFlag(shown, inline, 'is a switch and takes no value', `write ${shown} alone`);
      value = true;
    } else if (inline !== undefined) {
      value = inline;
    } else {
      const next = args[i + 1];
      if (f.optionalValue !== undefined) {
        if (next !== undefined && (f.optionalPattern?.test(next) ?? false)) {
          value = next;
          i++;
        } else {
          value = f.optionalValue;
        }
      } else {
        if (next === undefined || (next.startsWith('--') && next.length > 2)) {
          throw badFlag(shown, NO_VALUE, `needs a value (${f.value})`, `write ${shown} ${f.value}`);
        }
        value = next;
        i++;
      }
    }
    const previous = values[f.name];
    if (f.repeatable === true) {
      values[f.name] = [...((previous as string[] | undefined) ?? []), value as string];
    } else if (previous !== undefined) {
      const was = previous === true ? '' : ` (first ${JSON.stringify(previous)})`;
      throw badFlag(shown, value === true ? NO_VALUE : value, `is given twice${was}`, `give ${shown} once`);
    } else {
      values[f.name] = value;
    }
  }
  return { values, positionals };
}

/** A value flag's text (undefined when absent). */
export function text(p: ParsedFlags, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable flag's texts (empty when absent). */
export function texts(p: ParsedFlags, name: string): readonly string[] {
  const v = p.values[name];
  return Array.isArray(v) ? v : [];
}

/** Whether a switch is on. */
export function on(p: ParsedFlags, name: string): boolean {
  return p.values[name] === true;
}

/**
 * The positional arguments a command needs, by name (e.g. `<data.csv>`): each
 * missing one, or any extra one, is an `INVALID_ARGUMENT` naming it, with `example` as the remedy.
 */
export function positionalArgs(positionals: readonly string[], names: readonly string[], example: string): string[] {
  names.forEach((name, i) => {
    if (positionals[i] === undefined) throw badFlag(name, NO_VALUE, 'is missing', `pass it: ${example}`);
  });
  if (positionals.length > names.length) {
    throw badFlag('argv', positionals.slice(names.length).join(' '), 'unexpected extra arguments', `pass exactly ${names.join(' ')}: ${example}`);
  }
  return positionals.slice(0, names.length);
}
