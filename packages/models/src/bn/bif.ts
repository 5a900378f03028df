/**
 * The BIF (Bayesian Interchange Format, JavaBayes 0.15) reader and writer, for the discrete
 * networks of the bnlearn repository (`asia.bif`, `alarm.bif`, ...).
 *
 * Reader: `network`, `variable` (`type discrete [ n ] { s1, s2 };`, `property ...;`) and
 * `probability` blocks in any order; CPTs as per-parent-configuration rows `(a, b) p1, p2;`
 * (in any order, plus an optional `default p1, p2;` for configurations not listed) or as one
 * `table` list. For a node with parents, `table` follows the JavaBayes convention: the node's own
 * state varies slowest, then the parents in order, the last parent fastest (the reader transposes
 * it into the {@link BnNode} CPT layout). Comments `//` and `/* *\/`, quoted names and optional
 * commas are accepted; `property` lines are skipped. Names may contain any characters except
 * white space, `{ } ( ) [ ] ; , | "` (quoted names may also contain those, except `"`).
 *
 * Writer: root nodes as `table`, other nodes as one row per parent configuration, numbers with
 * `String(x)` (the shortest text that reads back to the same float64), so
 * `parseBif(writeBif(net))` equals `net` exactly.
 *
 * @see http://www.cs.cmu.edu/~fgcozman/Research/InterchangeFormat/ (the format)
 * @module
 */
import { emError, type EmError } from '@emlab/core';
import type { BayesNet, BnNode } from './bn-types.js';
import { checkCptShapes, checkNetworkStructure } from './bn-validate.js';

type TokenKind = 'word' | 'string' | 'punct' | 'eof';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

const PUNCT = new Set(['{', '}', '(', ')', '[', ']', ';', ',', '|']);
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INT_RE = /^\d+$/;

class Lexer {
  private pos = 0;
  private line = 1;
  private col = 1;
  private peeked: Token | undefined;

  constructor(
    private readonly text: string,
    private readonly fail: (line: number, column: number, token: string, problem: string, remedy: string) => EmError,
  ) {}

  private advance(n: number): void {
    for (let i = 0; i < n; i++) {
      if (this.text.charCodeAt(this.pos) === 10) {
        this.line++;
        this.col = 1;
      } else {
        this.col++;
      }
      this.pos++;
    }
  }

  private skipSpaceAndComments(): void {
    const t = this.text;
    for (;;) {
      const ch = t[this.pos];
      if (ch === undefined) return;
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v' || ch === '\ufeff') {
        this.advance(1);
      } else if (ch === '/' && t[this.pos + 1] === '/') {
        const end = t.indexOf('\n', this.pos);
        this.advance((end < 0 ? t.length : end) - this.pos);
      } else if (ch === '/' && t[this.pos + 1] === '*') {
        const line = this.line;
        const column = this.col;
        const end = t.indexOf('*/', this.pos + 2);
        if (end < 0) throw this.fail(line, column, '/*', 'unterminated comment', 'close the comment with */');
        this.advance(end + 2 - this.pos);
      } else {
        return;
      }
    }
  }

  peek(): Token {
    if (this.peeked === undefined) this.peeked = this.read();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  private read(): Token {
    this.skipSpaceAndComments();
    const t = this.text;
    const line = this.line;
    const column = this.col;
    const ch = t[this.pos];
    if (ch === undefined) return { kind: 'eof', text: '', line, column };
    if (PUNCT.has(ch)) {
      this.advance(1);
      return { kind: 'punct', text: ch, line, column };
    }
    if (ch === '"') {
      const end = t.indexOf('"', this.pos + 1);
      if (end < 0) throw this.fail(line, column, '"', 'unterminated quoted name', 'close the name with a double quote');
      const text = t.slice(this.pos + 1, end);
      this.advance(end + 1 - this.pos);
      return { kind: 'string', text, line, column };
    }
    let end = this.pos;
    for (; end < t.length; end++) {
      const c = t[end] as string;
      if (PUNCT.has(c) || c === '"' || /\s/.test(c) || c === '\ufeff') break;
      if (c === '/' && (t[end + 1] === '/' || t[end + 1] === '*')) break;
    }
    const text = t.slice(this.pos, end);
    this.advance(end - this.pos);
    return { kind: 'word', text, line, column };
  }
}

interface RawRow {
  /** Parent state names, or undefined for `default` / `table`. */
  readonly config: readonly Token[] | undefined;
  readonly kind: 'row' | 'default' | 'table';
  readonly values: readonly number[];
  readonly at: Token;
}

interface RawVariable {
  readonly name: Token;
  readonly states: readonly string[];
}

interface RawProbability {
  readonly node: Token;
  readonly parents: readonly Token[];
  readonly rows: readonly RawRow[];
  readonly close: Token;
}

function describeToken(t: Token): string {
  if (t.kind === 'eof') return 'the end of the file';
  if (t.kind === 'string') return `"${t.text}"`;
  return `"${t.text}"`;
}

/**
 * Parses BIF text into a network (nodes in the order of their `variable` blocks).
 *
 * Only the syntax and what is needed to lay out the CPTs is checked here (declared variables and
 * parent states, row lengths, complete parent configurations); call {@link validateNetwork} for
 * the rest (acyclicity, non-negative entries, normalization) — {@link readNetwork} does both.
 *
 * @param text - The BIF text.
 * @param source - A name for the text in error messages (e.g. the file path). Default `'<bif>'`.
 * @throws EmError `PARSE_ERROR` with the 1-based line and column of the offending token.
 * @example
 * ```ts
 * const net = parseBif('network n { }\nvariable A { type discrete [ 2 ] { yes, no }; }\nprobability ( A ) { table 0.3, 0.7; }');
 * ```
 * @category Bayesian networks
 */
export function parseBif(text: string, source = '<bif>'): BayesNet {
  if (typeof text !== 'string') {
    throw emError('INVALID_ARGUMENT', ['text'], text, 'must be a string', 'pass the BIF content as a string, or use readBif for a file');
  }
  const fail = (line: number, column: number, token: string, problem: string, remedy: string): EmError =>
    emError('PARSE_ERROR', [source, 'line', line, 'column', column], token, `${source}:${line}:${column}: ${problem}`, remedy);
  const failAt = (t: Token, problem: string, remedy: string): EmError => fail(t.line, t.column, t.text, problem, remedy);
  const lex = new Lexer(text, fail);

  const expect = (want: string, context: string): Token => {
    const t = lex.next();
    if (t.kind !== 'punct' || t.text !== want) throw failAt(t, `expected "${want}" ${context} but found ${describeToken(t)}`, 'fix the BIF syntax (see docs/bayesian-networks.md)');
    return t;
  };
  const name = (what: string): Token => {
    const t = lex.next();
    if (t.kind !== 'word' && t.kind !== 'string') throw failAt(t, `expected ${what} but found ${describeToken(t)}`, 'fix the BIF syntax (see docs/bayesian-networks.md)');
    return t;
  };
  const isPunct = (t: Token, p: string): boolean => t.kind === 'punct' && t.text === p;
  const skipProperty = (): void => {
    // `property <anything> ;`
    for (;;) {
      const t = lex.next();
      if (t.kind === 'eof') throw failAt(t, 'unterminated property (missing ";")', 'end the property line with ";"');
      if (isPunct(t, ';')) return;
    }
  };
  const numbersUntilSemicolon = (context: string): number[] => {
    const values: number[] = [];
    for (;;) {
      const t = lex.next();
      if (isPunct(t, ';')) return values;
      if (isPunct(t, ',')) continue;
      if (t.kind !== 'word' || !NUMBER_RE.test(t.text)) {
        throw failAt(t, `expected a probability or ";" in ${context} but found ${describeToken(t)}`, 'write probabilities as decimal numbers separated by commas, ending with ";"');
      }
      values.push(Number(t.text));
    }
  };

  let netName: string | undefined;
  const variables: RawVariable[] = [];
  const probabilities: RawProbability[] = [];

  for (;;) {
    const t = lex.next();
    if (t.kind === 'eof') break;
    if (t.kind !== 'word' || !['network', 'variable', 'probability'].includes(t.text)) {
      throw failAt(t, `expected a "network", "variable" or "probability" block but found ${describeToken(t)}`, 'fix the BIF syntax: put comments inside // or /* */');
    }
    if (t.text === 'network') {
      if (netName !== undefined) throw failAt(t, 'a second network block', 'a BIF file describes one network: remove the second network block');
      netName = name('the network name').text;
      expect('{', 'after the network name');
      for (;;) {
        const u = lex.next();
        if (isPunct(u, '}')) break;
        if (u.kind === 'word' && u.text === 'property') skipProperty();
        else throw failAt(u, `expected "property" or "}" in the network block but found ${describeToken(u)}`, 'the network block holds only property lines');
      }
    } else if (t.text === 'variable') {
      const v = name('a variable name');
      expect('{', `after variable ${v.text}`);
      let states: string[] | undefined;
      for (;;) {
        const u = lex.next();
        if (isPunct(u, '}')) break;
        if (u.kind === 'word' && u.text === 'property') {
          skipProperty();
          continue;
        }
        if (u.kind !== 'word' || u.text !== 'type') throw failAt(u, `expected "type", "property" or "}" in variable ${v.text} but found ${describeToken(u)}`, 'declare the variable as: type discrete [ n ] { s1, s2 };');
        if (states !== undefined) throw failAt(u, `variable ${v.text} has a second type declaration`, 'declare the type once');
        const d = lex.next();
        if (d.kind !== 'word' || d.text !== 'discrete') throw failAt(d, `variable ${v.text}: only "discrete" variables are supported, found ${describeToken(d)}`, 'declare the variable as: type discrete [ n ] { s1, s2 };');
        expect('[', `after "discrete" in variable ${v.text}`);
        const n = lex.next();
        if (n.kind !== 'word' || !INT_RE.test(n.text)) throw failAt(n, `expected the number of states of variable ${v.text} but found ${describeToken(n)}`, 'write the number of states as an integer, e.g. [ 2 ]');
        expect(']', `after the number of states of variable ${v.text}`);
        const open = expect('{', `before the states of variable ${v.text}`);
        states = [];
        for (;;) {
          const s = lex.next();
          if (isPunct(s, '}')) break;
          if (isPunct(s, ',')) continue;
          if (s.kind !== 'word' && s.kind !== 'string') throw failAt(s, `expected a state name of variable ${v.text} but found ${describeToken(s)}`, 'list the states separated by commas and close the list with }');
          if (states.includes(s.text)) throw failAt(s, `variable ${v.text} lists state ${JSON.stringify(s.text)} twice`, 'give every state a unique name');
          states.push(s.text);
        }
        if (Number(n.text) === 0 && states.length === 0) {
          throw failAt(n, `variable ${v.text} declares 0 states`, 'a discrete variable needs at least one state: list them, e.g. [ 2 ] { yes, no }');
        }
        if (states.length !== Number(n.text)) {
          throw failAt(open, `variable ${v.text} declares ${n.text} states but lists ${states.length}`, 'make the number in [ ] match the list of states');
        }
        expect(';', `after the states of variable ${v.text}`);
      }
      if (states === undefined) throw failAt(v, `variable ${v.text} has no type declaration`, 'add: type discrete [ n ] { s1, s2 };');
      variables.push({ name: v, states });
    } else {
      expect('(', 'after "probability"');
      const node = name('the variable of the probability block');
      const parents: Token[] = [];
      for (;;) {
        const u = lex.next();
        if (isPunct(u, ')')) break;
        if (isPunct(u, '|') || isPunct(u, ',')) continue;
        if (u.kind !== 'word' && u.kind !== 'string') throw failAt(u, `expected a parent name or ")" in the probability block of ${node.text} but found ${describeToken(u)}`, 'write: probability ( X | A, B ) { ... }');
        parents.push(u);
      }
      expect('{', `after probability ( ${node.text} ... )`);
      const rows: RawRow[] = [];
      let close: Token;
      for (;;) {
        const u = lex.next();
        if (isPunct(u, '}')) {
          close = u;
          break;
        }
        if (u.kind === 'word' && u.text === 'property') {
          skipProperty();
        } else if (u.kind === 'word' && (u.text === 'table' || u.text === 'default')) {
          rows.push({ config: undefined, kind: u.text, values: numbersUntilSemicolon(`the ${u.text} of ${node.text}`), at: u });
        } else if (isPunct(u, '(')) {
          const config: Token[] = [];
          for (;;) {
            const s = lex.next();
            if (isPunct(s, ')')) break;
            if (isPunct(s, ',')) continue;
            if (s.kind !== 'word' && s.kind !== 'string') throw failAt(s, `expected a parent state or ")" in a row of ${node.text} but found ${describeToken(s)}`, 'write a row as: (a, b) p1, p2;');
            config.push(s);
          }
          rows.push({ config, kind: 'row', values: numbersUntilSemicolon(`a row of ${node.text}`), at: u });
        } else {
          throw failAt(u, `expected "table", "default", "(" or "}" in the probability block of ${node.text} but found ${describeToken(u)}`, 'write rows as (a, b) p1, p2; or a single table p1, p2, ...;');
        }
      }
      probabilities.push({ node, parents, rows, close });
    }
  }
  if (netName === undefined) {
    throw fail(1, 1, '', 'no network block (the file should start with: network <name> { })', 'add a network block at the top of the file');
  }

  // Resolve: variables by name, then one CPT per variable.
  const varIndex = new Map<string, number>();
  variables.forEach((v, i) => {
    const prev = varIndex.get(v.name.text);
    if (prev !== undefined) {
      const p = (variables[prev] as RawVariable).name;
      throw failAt(v.name, `variable ${v.name.text} is declared twice (first at line ${p.line})`, 'declare every variable once');
    }
    varIndex.set(v.name.text, i);
  });
  const byNode = new Map<number, RawProbability>();
  for (const pr of probabilities) {
    const i = varIndex.get(pr.node.text);
    if (i === undefined) throw failAt(pr.node, `probability block for undeclared variable ${pr.node.text}`, `declare it first: variable ${pr.node.text} { type discrete [ n ] { ... }; }`);
    const prev = byNode.get(i);
    if (prev !== undefined) throw failAt(pr.node, `second probability block for ${pr.node.text} (first at line ${prev.node.line})`, 'give every variable exactly one probability block');
    byNode.set(i, pr);
  }
  const nodes: BnNode[] = variables.map((v, i) => {
    const pr = byNode.get(i);
    if (pr === undefined) throw failAt(v.name, `variable ${v.name.text} has no probability block`, `add: probability ( ${v.name.text} | parents ) { ... }`);
    return { name: v.name.text, states: v.states, parents: pr.parents.map((p) => p.text), cpt: buildCpt(pr, variables, varIndex, failAt) };
  });
  return { name: netName, nodes };
}

function buildCpt(
  pr: RawProbability,
  variables: readonly RawVariable[],
  varIndex: ReadonlyMap<string, number>,
  failAt: (t: Token, problem: string, remedy: string) => EmError,
): number[] {
  const node = pr.node.text;
  const card = (variables[varIndex.get(node) as number] as RawVariable).states.length;
  const parentStates = pr.parents.map((p) => {
    const j = varIndex.get(p.text);
    if (j === undefined) throw failAt(p, `${node} has an undeclared parent ${p.text}`, `declare variable ${p.text}, or remove it from the parents of ${node}`);
    return (variables[j] as RawVariable).states;
  });
  const seenParents = new Set<string>();
  for (const p of pr.parents) {
    if (p.text === node) throw failAt(p, `${node} is listed as its own parent`, `remove ${node} from its parents`);
    if (seenParents.has(p.text)) throw failAt(p, `${node} lists parent ${p.text} twice`, 'list every parent once');
    seenParents.add(p.text);
  }
  const configs = parentStates.reduce((a, s) => a * s.length, 1);
  const total = configs * card;
  const cpt = new Array<number>(total);
  const filled = new Uint8Array(configs);
  let defaultRow: RawRow | undefined;
  let table: RawRow | undefined;
  const family = pr.parents.length === 0 ? `P(${node})` : `P(${node} | ${pr.parents.map((p) => p.text).join(', ')})`;
  for (const row of pr.rows) {
    if (row.kind === 'table') {
      if (table !== undefined || pr.rows.length > 1) throw failAt(row.at, `the probability block of ${node} mixes "table" with other rows`, 'use either one table or one row per parent configuration');
      if (row.values.length !== total) {
        throw failAt(row.at, `the table of ${family} has ${row.values.length} values but needs ${total} (${[...parentStates.map((s) => s.length), card].join(' × ')})`, 'give one probability per combination of states');
      }
      table = row;
      // JavaBayes order: own state slowest, then parents in order (last fastest).
      for (let k = 0; k < card; k++) for (let c = 0; c < configs; c++) cpt[c * card + k] = row.values[k * configs + c] as number;
      filled.fill(1);
      continue;
    }
    if (row.values.length !== card) {
      throw failAt(row.at, `a row of ${family} has ${row.values.length} values but ${node} has ${card} states`, `give ${card} probabilities per row`);
    }
    if (row.kind === 'default') {
      if (defaultRow !== undefined) throw failAt(row.at, `the probability block of ${node} has two default rows`, 'give at most one default row');
      defaultRow = row;
      continue;
    }
    const config = row.config as readonly Token[];
    if (config.length !== parentStates.length) {
      throw failAt(row.at, `a row of ${family} names ${config.length} parent state(s) but ${node} has ${parentStates.length} parent(s)`, 'name one state per parent, in the order of the parents');
    }
    let c = 0;
    config.forEach((s, j) => {
      const states = parentStates[j] as readonly string[];
      const k = states.indexOf(s.text);
      if (k < 0) throw failAt(s, `${JSON.stringify(s.text)} is not a state of ${(pr.parents[j] as Token).text} (parent of ${node}; states: ${states.join(', ')})`, 'use one of the declared states');
      c = c * states.length + k;
    });
    if (filled[c] === 1) throw failAt(row.at, `the parent configuration (${config.map((s) => s.text).join(', ')}) of ${node} is given twice`, 'give every parent configuration once');
    filled[c] = 1;
    for (let k = 0; k < card; k++) cpt[c * card + k] = row.values[k] as number;
  }
  for (let c = 0; c < configs; c++) {
    if (filled[c] === 1) continue;
    if (defaultRow === undefined) {
      const names: string[] = [];
      let rest = c;
      for (let j = parentStates.length - 1; j >= 0; j--) {
        const states = parentStates[j] as readonly string[];
        names.unshift(states[rest % states.length] as string);
        rest = Math.floor(rest / states.length);
      }
      const what = parentStates.length === 0 ? 'has no table' : `has no row for the parent configuration (${names.join(', ')})`;
      throw failAt(pr.close, `the probability block of ${node} ${what}`, 'give every parent configuration a row, or add a default row');
    }
    for (let k = 0; k < card; k++) cpt[c * card + k] = defaultRow.values[k] as number;
  }
  return cpt;
}

const SAFE_NAME = /^[^\s{}()[\];,|"]+$/;

function bifName(text: string, path: (string | number)[]): string {
  if (SAFE_NAME.test(text) && !text.includes('//') && !text.includes('/*') && !NUMBER_RE.test(text)) return text;
  if (text.includes('"') || /[\r\n]/.test(text)) {
    throw emError('INVALID_ARGUMENT', path, text, 'cannot be written in BIF (a name may not contain a double quote or a line break)', 'rename it, or save the network as JSON');
  }
  return `"${text}"`;
}

/**
 * Writes a network as BIF text (see the module notes for the layout).
 *
 * @throws EmError `INVALID_ARGUMENT` for a malformed network or a name BIF cannot hold,
 *   `INVALID_PARAMS` for a CPT of the wrong length or with a non-finite or negative entry.
 * @example
 * ```ts
 * await writeFile('net.bif', writeBif(net));
 * ```
 * @category Bayesian networks
 */
export function writeBif(net: BayesNet): string {
  const index = checkNetworkStructure(net);
  checkCptShapes(net, index);
  const out: string[] = [];
  out.push(`network ${net.name === '' ? '""' : bifName(net.name, ['network', 'name'])} {`, '}');
  for (const node of net.nodes) {
    const states = node.states.map((s) => bifName(s, ['network', 'nodes', node.name, 'states']));
    out.push(`variable ${bifName(node.name, ['network', 'nodes', node.name])} {`, `  type discrete [ ${node.states.length} ] { ${states.join(', ')} };`, '}');
  }
  for (const node of net.nodes) {
    const head = bifName(node.name, ['network', 'nodes', node.name]);
    const card = node.states.length;
    if (node.parents.length === 0) {
      out.push(`probability ( ${head} ) {`, `  table ${node.cpt.map(String).join(', ')};`, '}');
      continue;
    }
    const parents = node.parents.map((p) => net.nodes[index.get(p) as number] as BnNode);
    out.push(`probability ( ${head} | ${parents.map((p) => bifName(p.name, ['network', 'nodes', p.name])).join(', ')} ) {`);
    const configs = node.cpt.length / card;
    for (let c = 0; c < configs; c++) {
      const names: string[] = [];
      let rest = c;
      for (let j = parents.length - 1; j >= 0; j--) {
        const p = parents[j] as BnNode;
        const s = p.states[rest % p.states.length] as string;
        names.unshift(bifName(s, ['network', 'nodes', p.name, 'states']));
        rest = Math.floor(rest / p.states.length);
      }
      out.push(`  (${names.join(', ')}) ${node.cpt.slice(c * card, (c + 1) * card).map(String).join(', ')};`);
    }
    out.push('}');
  }
  return `${out.join('\n')}\n`;
}
