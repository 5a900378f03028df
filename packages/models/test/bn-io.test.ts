/**
 * BIF and JSON network formats: the eight shared networks read, round-trip exactly and have
 * their known sizes; every syntax error names the line and column.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catchEmError, catchEmErrorAsync } from '@emlab/testing';
import {
  BN_JSON_FORMAT,
  bnFreeParameterCount,
  networkFormat,
  parseBif,
  parseBnJson,
  readBif,
  readNetwork,
  validateNetwork,
  writeBif,
  writeBnJson,
  writeNetwork,
  type BayesNet,
} from '@emlab/models';

const BN_DIR = fileURLToPath(new URL('../../../data/bn/', import.meta.url));
/** Known sizes: nodes and free parameters Σ (states − 1) × parent configurations (bnlearn repository). */
const KNOWN: Record<string, { nodes: number; params: number }> = {
  asia: { nodes: 8, params: 18 },
  cancer: { nodes: 5, params: 10 },
  earthquake: { nodes: 5, params: 10 },
  survey: { nodes: 6, params: 21 },
  sachs: { nodes: 11, params: 178 },
  child: { nodes: 20, params: 230 },
  insurance: { nodes: 27, params: 1008 },
  alarm: { nodes: 37, params: 509 },
};
const bifText = (name: string): string => readFileSync(join(BN_DIR, `${name}.bif`), 'utf8');


describe('the shared networks', () => {
  for (const [name, known] of Object.entries(KNOWN)) {
    it(`${name}: ${known.nodes} nodes, ${known.params} free parameters, exact BIF and JSON round trips`, () => {
      const net = parseBif(bifText(name), `${name}.bif`);
      expect(net.nodes).toHaveLength(known.nodes);
      expect(bnFreeParameterCount(net)).toBe(known.params);
      expect(parseBif(writeBif(net))).toEqual(net);
      expect(parseBnJson(writeBnJson(net))).toEqual(net);
      const valid = validateNetwork(net, { onWarning: () => undefined });
      expect(parseBif(writeBif(valid))).toEqual(valid);
      expect(parseBnJson(writeBnJson(valid))).toEqual(valid);
      // Writing is stable: write(parse(write(net))) is the same text.
      expect(writeBif(parseBif(writeBif(net)))).toBe(writeBif(net));
    });
  }

  it('asia reads as published: names, states, parents and CPT layout (first parent slowest)', () => {
    const asia = parseBif(bifText('asia'));
    expect(asia.name).toBe('unknown');
    expect(asia.nodes.map((n) => n.name)).toEqual(['asia', 'tub', 'smoke', 'lung', 'bronc', 'either', 'xray', 'dysp']);
    const either = asia.nodes[5];
    expect(either?.parents).toEqual(['lung', 'tub']);
    expect(either?.states).toEqual(['yes', 'no']);
    // rows (lung, tub): (yes,yes) (yes,no) (no,yes) (no,no) in our layout
    expect(either?.cpt).toEqual([1, 0, 1, 0, 1, 0, 0, 1]);
    const dysp = asia.nodes[7];
    expect(dysp?.parents).toEqual(['bronc', 'either']);
    // file order is (yes,yes) (no,yes) (yes,no) (no,no); layout is bronc slowest
    expect(dysp?.cpt).toEqual([0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.1, 0.9]);
  });

  it('state names with punctuation (child: "<5", "Asy/Patch", ">=7.5") survive', () => {
    const child = parseBif(bifText('child'));
    const states = child.nodes.flatMap((n) => n.states);
    for (const s of ['<5', '5-12', '12+', 'Asy/Patch', '>=7.5']) expect(states).toContain(s);
  });
});

describe('BIF syntax variants', () => {
  it('reads table form with parents in JavaBayes order (own state slowest), default rows, comments, quotes and properties', () => {
    const text = `// a comment
network "two words" {
  property "author = me" ;
}
/* block
   comment */
probability ( C | A, B ) {
  table 0.1, 0.2, 0.3, 0.4,   // P(C=c0 | a0b0, a0b1, a1b0, a1b1)
        0.9, 0.8, 0.7, 0.6;   // P(C=c1 | ...)
}
variable A { type discrete [ 2 ] { a0, a1 }; property position = (1, 2) ; }
variable B { type discrete[2]{b0 b1}; }
variable "C" { type discrete [ 2 ] { "c0", c1 }; }
variable D { type discrete [ 3 ] { d0, d1, d2 }; }
probability ( A ) { table 0.5, 0.5; }
probability ( "B" ) { table 1, 0; }
probability ( D | A ) {
  default 0.2, 0.3, 0.5;
  (a1) 1.0e-1, .4, 5e-1;
}
`;
    const net = parseBif(text);
    expect(net.name).toBe('two words');
    expect(net.nodes.map((n) => n.name)).toEqual(['A', 'B', 'C', 'D']);
    const c = net.nodes[2];
    expect(c?.parents).toEqual(['A', 'B']);
    expect(c?.cpt).toEqual([0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6]);
    expect(net.nodes[1]?.cpt).toEqual([1, 0]);
    expect(net.nodes[3]?.cpt).toEqual([0.2, 0.3, 0.5, 0.1, 0.4, 0.5]);
    expect(parseBif(writeBif(net))).toEqual(net);
  });

  it('quotes names that need it and refuses names BIF cannot hold', () => {
    const net: BayesNet = {
      name: 'odd names',
      nodes: [
        { name: 'x,y', states: ['a b', '(c)', '1'], parents: [], cpt: [0.2, 0.3, 0.5] },
        { name: 'z', states: ['//no', 'ok'], parents: ['x,y'], cpt: [0.5, 0.5, 0.25, 0.75, 1, 0] },
      ],
    };
    const text = writeBif(net);
    expect(text).toContain('"x,y"');
    expect(parseBif(text)).toEqual(net);
    const bad = catchEmError(() => writeBif({ name: 'n', nodes: [{ name: 'say "hi"', states: ['a'], parents: [], cpt: [1] }] }));
    expect(bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).toContain('say \\"hi\\"');
  });
});

describe('BIF parse errors name the line and column', () => {
  const head = 'network n {\n}\nvariable A {\n  type discrete [ 2 ] { yes, no };\n}\n';
  const cases: [string, string, number, number, RegExp][] = [
    ['empty file', '', 1, 1, /no network block/],
    ['garbage block', 'network n { }\nfoo', 2, 1, /expected a "network", "variable" or "probability" block but found "foo"/],
    ['missing semicolon', `${head}probability ( A ) {\n  table 0.5, 0.5\n}\n`, 8, 1, /expected a probability or ";"/],
    ['non-number', `${head}probability ( A ) {\n  table 0.5, x;\n}\n`, 7, 14, /expected a probability or ";" in the table of A but found "x"/],
    ['undeclared variable', `${head}probability ( B ) {\n  table 0.5, 0.5;\n}\nprobability ( A ) { table 1, 0; }\n`, 6, 15, /undeclared variable B/],
    ['undeclared parent', `${head}probability ( A | Q ) {\n  (x) 0.5, 0.5;\n}\n`, 6, 19, /A has an undeclared parent Q/],
    ['unknown parent state', `${head}variable B { type discrete [ 2 ] { u, v }; }\nprobability ( A ) { table 1, 0; }\nprobability ( B | A ) {\n  (yes) 0.5, 0.5;\n  (maybe) 0.5, 0.5;\n}\n`, 10, 4, /"maybe" is not a state of A \(parent of B; states: yes, no\)/],
    ['row length', `${head}variable B { type discrete [ 2 ] { u, v }; }\nprobability ( A ) { table 1, 0; }\nprobability ( B | A ) {\n  (yes) 0.5, 0.25, 0.25;\n  (no) 0.5, 0.5;\n}\n`, 9, 3, /a row of P\(B \| A\) has 3 values but B has 2 states/],
    ['missing configuration', `${head}variable B { type discrete [ 2 ] { u, v }; }\nprobability ( A ) { table 1, 0; }\nprobability ( B | A ) {\n  (yes) 0.5, 0.5;\n}\n`, 10, 1, /no row for the parent configuration \(no\)/],
    ['duplicate configuration', `${head}variable B { type discrete [ 2 ] { u, v }; }\nprobability ( A ) { table 1, 0; }\nprobability ( B | A ) {\n  (yes) 0.5, 0.5;\n  (yes) 0.5, 0.5;\n}\n`, 10, 3, /\(yes\) of B is given twice/],
    ['table length', `${head}probability ( A ) {\n  table 0.2, 0.3, 0.5;\n}\n`, 7, 3, /the table of P\(A\) has 3 values but needs 2/],
    ['duplicate variable', `${head}variable A { type discrete [ 2 ] { yes, no }; }\nprobability ( A ) { table 1, 0; }\n`, 6, 10, /variable A is declared twice \(first at line 3\)/],
    ['duplicate state', 'network n { }\nvariable A { type discrete [ 2 ] { yes, yes }; }\n', 2, 41, /lists state "yes" twice/],
    ['state count', 'network n { }\nvariable A { type discrete [ 3 ] { yes, no }; }\n', 2, 34, /declares 3 states but lists 2/],
    ['zero states (at the variable\'s own line)', 'network n { }\nvariable A { type discrete [ 2 ] { yes, no }; }\nvariable B {\n  type discrete [ 0 ] { };\n}\n', 4, 19, /variable B declares 0 states/],
    ['no probability block', `${head}`, 3, 10, /variable A has no probability block/],
    ['second probability block', `${head}probability ( A ) { table 1, 0; }\nprobability ( A ) { table 1, 0; }\n`, 7, 15, /second probability block for A \(first at line 6\)/],
    ['unterminated comment', 'network n { }\n  /* never closed', 2, 3, /unterminated comment/],
    ['continuous variable', 'network n { }\nvariable A { type continuous; }', 2, 19, /only "discrete" variables are supported/],
  ];
  for (const [what, text, line, column, pattern] of cases) {
    it(what, () => {
      const e = catchEmError(() => parseBif(text, 'net.bif'));
      expect(e.code).toBe('PARSE_ERROR');
      expect(e.message).toMatch(pattern);
      expect(e.message).toContain(`net.bif:${line}:${column}:`);
      expect(e.path).toEqual(['net.bif', 'line', line, 'column', column]);
      expect(e.message).toMatch(/Remedy: /);
    });
  }
});

describe('JSON format', () => {
  const asia = parseBif(bifText('asia'));

  it('writes the documented layout', () => {
    const doc = JSON.parse(writeBnJson(asia)) as { format: string; version: number; nodes: { name: string; cpt: number[] }[] };
    expect(doc.format).toBe(BN_JSON_FORMAT);
    expect(doc.version).toBe(1);
    expect(doc.nodes[5]).toEqual({ name: 'either', states: ['yes', 'no'], parents: ['lung', 'tub'], cpt: [1, 0, 1, 0, 1, 0, 0, 1] });
  });

  it('syntax errors have line and column', () => {
    const e = catchEmError(() => parseBnJson('{\n  "name": "x",\n  "nodes": [,]\n}', 'n.json'));
    expect(e.code).toBe('PARSE_ERROR');
    expect(e.path).toEqual(['n.json', 'line', 3, 'column', 13]);
    expect(e.message).toContain('n.json:3:13: invalid JSON');
    for (const [text, line, column] of [['{"a": tru }', 1, 10], ['{"a":1', 1, 7], ['{\n  "a": [1, 2,]\n}', 2, 14], ['', 1, 1]] as const) {
      expect(catchEmError(() => parseBnJson(text)).path).toEqual(['<json>', 'line', line, 'column', column]);
    }
  });

  it('type errors name the field and the node', () => {
    const node = (extra: object): string => JSON.stringify({ nodes: [{ name: 'A', states: ['a', 'b'], parents: [], cpt: [0.5, 0.5], ...extra }] });
    const cases: [string, RegExp][] = [
      [node({ cpt: [0.5, '0.5'] }), /nodes\.A\.cpt\[1\] = "0\.5": must be a number \(node "A"\)/],
      [node({ states: 'ab' }), /nodes\.A\.states = "ab": must be an array of strings/],
      [node({ parent: [] }), /nodes\.A\.parent = .*is not a field of a node/],
      [JSON.stringify({ format: 'other', nodes: [] }), /format = "other"/],
      [JSON.stringify({ nodes: {} }), /nodes = object: must be an array/],
      ['[1, 2]', /must be a JSON object/],
    ];
    for (const [text, pattern] of cases) {
      const e = catchEmError(() => parseBnJson(text));
      expect(e.code).toBe('PARSE_ERROR');
      expect(e.message).toMatch(pattern);
    }
  });
});

describe('network files', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'emlab-bn-io-'));
  });
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('readNetwork validates (renormalizing rounded CPTs with a warning) and writeNetwork picks the format by extension', async () => {
    const warnings: string[] = [];
    const alarm = await readNetwork(join(BN_DIR, 'alarm.bif'), { onWarning: (m) => warnings.push(m) });
    expect(alarm.nodes).toHaveLength(37);
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]).toMatch(/^node "\w+": renormalized/);
    for (const ext of ['bif', 'json', 'JSON']) {
      const path = join(dir, `alarm.${ext}`);
      await writeNetwork(path, alarm);
      const text = await readFile(path, 'utf8');
      expect(text.startsWith(ext === 'bif' ? 'network' : '{')).toBe(true);
      const quiet: string[] = [];
      expect(await readNetwork(path, { onWarning: (m) => quiet.push(m) })).toEqual(alarm);
      expect(quiet).toEqual([]);
    }
    expect(await readBif(join(BN_DIR, 'asia.bif'))).toEqual(parseBif(bifText('asia')));
  });

  it('readNetwork rejects an invalid network with the validation error', async () => {
    const path = join(dir, 'cycle.json');
    await writeFile(path, JSON.stringify({ nodes: [
      { name: 'A', states: ['a'], parents: ['B'], cpt: [1] },
      { name: 'B', states: ['b'], parents: ['A'], cpt: [1] },
    ] }));
    const e = await catchEmErrorAsync(readNetwork(path));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/cycle A -> B -> A/);
  });

  it('file errors: unknown extension, missing file, unwritable path, parse error names the file', async () => {
    expect(catchEmError(() => networkFormat('net.xml')).message).toMatch(/path = "net\.xml": has an unknown network file extension/);
    expect((await catchEmErrorAsync(readNetwork(join(dir, 'nope.bif')))).code).toBe('IO_ERROR');
    expect((await catchEmErrorAsync(readBif(join(dir, 'nope.bif')))).code).toBe('IO_ERROR');
    expect((await catchEmErrorAsync(writeNetwork(join(dir, 'no-such-dir', 'x.bif'), parseBif(bifText('asia'))))).code).toBe('IO_ERROR');
    const bad = join(dir, 'bad.bif');
    await writeFile(bad, 'network n { }\nvariable A {\n  type discrete [ 2 ] { yes no };\n}\nprobability ( A ) { table 0.5 0.5 }\n');
    const e = await catchEmErrorAsync(readNetwork(bad));
    expect(e.code).toBe('PARSE_ERROR');
    expect(e.message).toContain(`${bad}:5:35:`);
  });
});
