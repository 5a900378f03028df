/**
 * The emlab JSON format for discrete Bayesian networks:
 *
 * ```json
 * {
 *   "format": "emlab-bayesnet",
 *   "version": 1,
 *   "name": "asia",
 *   "nodes": [
 *     { "name": "asia", "states": ["yes", "no"], "parents": [], "cpt": [0.01, 0.99] },
 *     { "name": "tub", "states": ["yes", "no"], "parents": ["asia"], "cpt": [0.05, 0.95, 0.01, 0.99] }
 *   ]
 * }
 * ```
 *
 * `cpt` has the {@link BnNode} layout (parent configurations first parent slowest, the node's own
 * state fastest). Numbers are written by `JSON.stringify`, so a round trip is exact.
 *
 * @module
 */
import { emError } from '@emlab/core';
import type { BayesNet, BnNode } from './bn-types.js';
import { checkCptShapes, checkNetworkStructure } from './bn-validate.js';

/** The `format` tag of emlab network JSON. @category Bayesian networks */
export const BN_JSON_FORMAT = 'emlab-bayesnet';

/**
 * Index of the first JSON syntax error in `text` (V8's messages do not always carry a position):
 * a small recursive-descent scan that only runs after `JSON.parse` has failed.
 */
function jsonErrorPosition(text: string): number {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string): void => {
    for (const ch of word) {
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const string = (): void => {
    if (text[i] !== '"') fail();
    i++;
    for (;;) {
      const ch = text[i];
      if (ch === undefined || ch < ' ') fail();
      i++;
      if (ch === '"') return;
      if (ch === '\\') {
        if (text[i] === 'u') {
          i++;
          for (let k = 0; k < 4; k++, i++) if (!/[0-9a-fA-F]/.test(text[i] ?? '')) fail();
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
        else i++;
      }
    }
  };
  /** An object or array after its opening bracket: `member`s separated by commas up to `close`. */
  const container = (close: string, member: () => void): void => {
    i++;
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      member();
      ws();
      if (text[i] === ',') i++;
      else if (text[i] === close) {
        i++;
        return;
      } else fail();
    }
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      container('}', () => {
        ws();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
      });
    } else if (ch === '[') container(']', value);
    else if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else {
      const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
      if (m === null) fail();
      i += (m as RegExpExecArray)[0].length;
    }
  };
  try {
    value();
    ws();
    return i;
  } catch (at) {
    return typeof at === 'number' ? at : text.length;
  }
}

function lineColumn(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < position && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: position - last };
}

/**
 * Parses emlab network JSON (see the module notes). The `format` and `version` fields are
 * optional on input; unknown top-level or node fields are rejected (typos).
 *
 * Only the JSON syntax and field types are checked; call {@link validateNetwork} for the rest
 * ({@link readNetwork} does).
 *
 * @param text - The JSON text.
 * @param source - A name for the text in error messages. Default `'<json>'`.
 * @throws EmError `PARSE_ERROR` with line and column for a JSON syntax error, naming the field
 *   (and node) for a wrong type.
 * @example
 * ```ts
 * const net = parseBnJson(await readFile('net.json', 'utf8'));
 * ```
 * @category Bayesian networks
 */
export function parseBnJson(text: string, source = '<json>'): BayesNet {
  if (typeof text !== 'string') {
    throw emError('INVALID_ARGUMENT', ['text'], text, 'must be a string', 'pass the JSON content as a string, or use readNetwork for a file');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message.replace(/\s*\n\s*/g, ' ');
    const at = jsonErrorPosition(text);
    const { line, column } = lineColumn(text, at);
    throw emError('PARSE_ERROR', [source, 'line', line, 'column', column], text.slice(at, at + 20), `${source}:${line}:${column}: invalid JSON (${message})`, 'fix the JSON syntax', e);
  }
  const bad = (path: (string | number)[], value: unknown, problem: string, remedy: string): never => {
    throw emError('PARSE_ERROR', [source, ...path], value, problem, remedy);
  };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) bad([], doc, 'must be a JSON object { format, version, name, nodes }', 'see docs/bayesian-networks.md for the format');
  const obj = doc as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!['format', 'version', 'name', 'nodes'].includes(key)) bad([key], obj[key], 'is not a field of an emlab network', 'use only the fields format, version, name, nodes');
  }
  if (obj.format !== undefined && obj.format !== BN_JSON_FORMAT) bad(['format'], obj.format, `is not "${BN_JSON_FORMAT}"`, `set "format": "${BN_JSON_FORMAT}" (or convert the file)`);
  if (obj.version !== undefined && obj.version !== 1) bad(['version'], obj.version, 'is not a supported version (supported: 1)', 'set "version": 1');
  const name = obj.name ?? '';
  if (typeof name !== 'string') bad(['name'], name, 'must be a string', 'give the network name as a string');
  if (!Array.isArray(obj.nodes)) bad(['nodes'], obj.nodes, 'must be an array of nodes', 'list the nodes as [{ "name", "states", "parents", "cpt" }, ...]');
  const nodes = (obj.nodes as unknown[]).map((raw, i): BnNode => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad(['nodes', i], raw, 'must be a node object', 'write { "name", "states", "parents", "cpt" }');
    const n = raw as Record<string, unknown>;
    const label = typeof n.name === 'string' ? n.name : i;
    if (typeof n.name !== 'string') bad(['nodes', i, 'name'], n.name, 'must be a string', 'give every node a name');
    for (const key of Object.keys(n)) {
      if (!['name', 'states', 'parents', 'cpt'].includes(key)) bad(['nodes', label, key], n[key], `is not a field of a node (node ${JSON.stringify(label)})`, 'use only the fields name, states, parents, cpt');
    }
    const strings = (field: 'states' | 'parents'): string[] => {
      const v = n[field] ?? (field === 'parents' ? [] : undefined);
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) bad(['nodes', label, field], v, `must be an array of strings (node ${JSON.stringify(label)})`, `list the ${field} as strings`);
      return v as string[];
    };
    const states = strings('states');
    const parents = strings('parents');
    const cpt = n.cpt;
    if (!Array.isArray(cpt)) bad(['nodes', label, 'cpt'], cpt, `must be an array of numbers (node ${JSON.stringify(label)})`, 'give the CPT as a flat array of probabilities');
    (cpt as unknown[]).forEach((v, k) => {
      if (typeof v !== 'number') bad(['nodes', label, 'cpt', k], v, `must be a number (node ${JSON.stringify(label)})`, 'write probabilities as JSON numbers');
    });
    return { name: n.name as string, states, parents, cpt: cpt as number[] };
  });
  return { name: name as string, nodes };
}

/**
 * Writes a network as emlab JSON: one line per field of each node, numbers by `JSON.stringify`
 * (exact round trip through {@link parseBnJson}).
 *
 * @throws EmError `INVALID_ARGUMENT` for a malformed network, `INVALID_PARAMS` for a CPT of the
 *   wrong length or with a non-finite or negative entry.
 * @example
 * ```ts
 * await writeFile('net.json', writeBnJson(net));
 * ```
 * @category Bayesian networks
 */
export function writeBnJson(net: BayesNet): string {
  const index = checkNetworkStructure(net);
  checkCptShapes(net, index);
  const nodes = net.nodes.map(
    (n) =>
      `    {\n      "name": ${JSON.stringify(n.name)},\n      "states": ${JSON.stringify(n.states)},\n      "parents": ${JSON.stringify(n.parents)},\n      "cpt": ${JSON.stringify(n.cpt)}\n    }`,
  );
  return `{\n  "format": ${JSON.stringify(BN_JSON_FORMAT)},\n  "version": 1,\n  "name": ${JSON.stringify(net.name)},\n  "nodes": [\n${nodes.join(',\n')}\n  ]\n}\n`;
}
