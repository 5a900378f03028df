/**
 * End-to-end tests of `emlab bn fit|sample|query` on the built binary (`packages/cli/dist/bin.js`):
 * every user error is exit 2 with one line naming the flag, node, row or column; sample → fit
 * recovers asia's CPTs; query matches brute-force enumeration of asia's joint distribution.
 * `npm test` builds first; by hand run `npx tsc -b packages/cli` before vitest.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBif, parseBnCsv, readNetwork, type BayesNet } from '@emlab/models';
import { bnAsFactorGraph, bruteForceFactorGraph } from '@emlab/testing';
import { BIN, run, runAll as runAllCli, type Run } from './run-cli.js';

const ASIA = fileURLToPath(new URL('../../../data/bn/asia.bif', import.meta.url));
const asia = parseBif(readFileSync(ASIA, 'utf8'));

const runAll = (cases: readonly (readonly string[])[]): Promise<Run[]> => runAllCli(cases);

/** P(target | evidence) for every state of target, by enumerating the joint (asia: 256 terms). */
function bruteForce(net: BayesNet, target: string, evidence: Record<string, string>): number[] {
  const row = Int32Array.from(net.nodes, (n) => (evidence[n.name] === undefined ? -1 : n.states.indexOf(evidence[n.name] as string)));
  const { marginals } = bruteForceFactorGraph(bnAsFactorGraph(net), row);
  return Array.from(marginals[net.nodes.findIndex((n) => n.name === target)] as Float64Array);
}

let dir = '';
const file = (name: string): string => join(dir, name);

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npx tsc -b packages/cli\` (npm test builds first)`);
  dir = await mkdtemp(join(tmpdir(), 'emlab-bn-cli-'));
  await Promise.all([
    writeFile(file('cycle.json'), JSON.stringify({ nodes: [
      { name: 'A', states: ['a0', 'a1'], parents: ['C'], cpt: [0.5, 0.5, 0.5, 0.5] },
      { name: 'B', states: ['b0', 'b1'], parents: ['A'], cpt: [0.5, 0.5, 0.5, 0.5] },
      { name: 'C', states: ['c0', 'c1'], parents: ['B'], cpt: [0.5, 0.5, 0.5, 0.5] },
    ] })),
    writeFile(file('badsum.json'), JSON.stringify({ nodes: [{ name: 'A', states: ['a0', 'a1'], parents: [], cpt: [0.5, 0.6] }] })),
    writeFile(file('broken.bif'), 'network n {\n}\nvariable A {\n  type discrete [ 2 ] { yes, no };\n}\nprobability ( A ) {\n  table 0.5, 0.5\n}\n'),
    writeFile(file('net.xml'), '<net/>'),
    writeFile(file('unknown-state.csv'), 'smoke,xray\nyes,no\nno,perhaps\n'),
    writeFile(file('unknown-column.csv'), 'smoke,weather\nyes,sunny\n'),
    writeFile(file('ragged.csv'), 'smoke,xray\nyes,no\nno\n'),
    writeFile(file('empty.csv'), ''),
    writeFile(file('with-either.csv'), 'smoke,either\nyes,no\n'),
    writeFile(file('small.csv'), 'smoke,lung,xray\nyes,no,no\nno,,yes\n0,1,?\n'),
  ]);
});

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('emlab bn sample', () => {
  it('writes a reproducible CSV of state names; the same to stdout without --out; --missing-rate and --hide', async () => {
    const [a, b, c, d] = await runAll([
      ['bn', 'sample', ASIA, '--n', '300', '--seed', '5', '--out', file('s1.csv')],
      ['bn', 'sample', ASIA, '--n', '300', '--seed', '5', '--out', file('s2.csv')],
      ['bn', 'sample', ASIA, '--n', '300', '--seed', '5'],
      ['bn', 'sample', ASIA, '--n', '300', '--seed', '5', '--missing-rate', '0.25', '--hide', 'either,asia', '--out', file('s3.csv')],
    ]);
    for (const r of [a, b, c, d] as Run[]) expect(r.code, r.stderr).toBe(0);
    expect(a?.stdout).toBe(`sampled 300 rows × 8 columns from ${ASIA} (seed 5; 0 missing cells)\nwritten to ${file('s1.csv')}\n`);
    const s1 = await readFile(file('s1.csv'), 'utf8');
    expect(await readFile(file('s2.csv'), 'utf8')).toBe(s1);
    expect(c?.stdout).toBe(s1);
    expect(s1.split('\n')[0]).toBe('asia,tub,smoke,lung,bronc,either,xray,dysp');
    expect(parseBnCsv(s1, asia).nRows).toBe(300);
    const masked = parseBnCsv(await readFile(file('s3.csv'), 'utf8'), asia);
    expect(masked.columns).toEqual(['tub', 'smoke', 'lung', 'bronc', 'xray', 'dysp']);
    const missing = [...masked.values].filter((v) => v < 0).length;
    expect(d?.stdout).toContain(`(seed 5; ${missing} missing cells; hidden: either, asia)`);
    expect(Math.abs(missing / masked.values.length - 0.25)).toBeLessThan(0.04);
  });

});

describe('emlab bn query', () => {
  it('asia marginals without evidence, printed with every float64 digit: P(lung=yes) = 0.055, P(tub=yes) = 0.0104 to 1e-15', async () => {
    const r = await run(['bn', 'query', ASIA, '--target', 'lung,tub']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(' = ')[0])).toEqual(['P(lung=yes)', 'P(lung=no)', 'P(tub=yes)', 'P(tub=no)']);
    const p = lines.map((l) => Number(l.split(' = ')[1]));
    // Printed as the shortest decimal that reads back to the same float64: equal to brute force to roundoff.
    const want = [...bruteForce(asia, 'lung', {}), ...bruteForce(asia, 'tub', {})];
    p.forEach((v, i) => expect(Math.abs(v - (want[i] as number))).toBeLessThan(1e-15));
    lines.forEach((l, i) => expect(l.split(' = ')[1]).toBe(String(p[i])));
  });

  it('posteriors with evidence equal brute-force enumeration (--json, float64: 1e-12)', async () => {
    const queries: [string, Record<string, string>][] = [
      ['either', { xray: 'yes' }],
      ['lung', { smoke: 'yes', dysp: 'yes' }],
      ['bronc', { dysp: 'yes', xray: 'no' }],
      ['tub', { asia: 'yes', xray: 'yes', dysp: 'no' }],
      ['smoke', { either: 'no', dysp: 'yes' }],
    ];
    const rs = await runAll(queries.map(([t, ev]) => ['bn', 'query', ASIA, '--target', t, '--evidence', Object.entries(ev).map(([k, v]) => `${k}=${v}`).join(','), '--json']));
    rs.forEach((r, i) => {
      const [target, evidence] = queries[i] as [string, Record<string, string>];
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { evidence: Record<string, string>; logEvidence: number; posterior: Record<string, Record<string, number>> };
      expect(out.evidence).toEqual(evidence);
      const want = bruteForce(asia, target, evidence);
      const got = out.posterior[target] as Record<string, number>;
      expect(Object.keys(got)).toEqual(['yes', 'no']);
      expect(Math.abs((got.yes as number) - (want[0] as number)), `${target} | ${JSON.stringify(evidence)}`).toBeLessThan(1e-12);
      expect(Math.abs((got.no as number) - (want[1] as number))).toBeLessThan(1e-12);
    });
  });

  it('text output names the evidence; state indices work as evidence', async () => {
    const r = await run(['bn', 'query', ASIA, '--target', 'either', '--evidence', 'xray=0']);
    expect(r.code, r.stderr).toBe(0);
    const [yes] = bruteForce(asia, 'either', { xray: 'yes' });
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^P\(either=yes \| xray=yes\) = /);
    expect(Math.abs(Number(lines[0]?.split(' = ')[1]) - (yes as number))).toBeLessThan(1e-12);
  });

});

describe('emlab bn fit', () => {
  it('sample -> fit round trip on asia (20% of cells missing): CPTs recovered, monotone trace, --json schema, --out file', async () => {
    const sample = await run(['bn', 'sample', ASIA, '--n', '20000', '--seed', '11', '--missing-rate', '0.2', '--out', file('asia20k.csv')]);
    expect(sample.code, sample.stderr).toBe(0);
    const [text, json] = await runAll([
      ['bn', 'fit', ASIA, file('asia20k.csv'), '--seed', '3', '--out', file('fitted.bif')],
      ['bn', 'fit', ASIA, file('asia20k.csv'), '--seed', '3', '--out', file('fitted.json'), '--json'],
    ]);
    expect(text?.code, text?.stderr).toBe(0);
    expect(text?.stdout).toMatch(/^network {4}.*asia\.bif: 8 nodes, 18 free parameters; hidden: none\n/);
    expect(text?.stdout).toMatch(/\ndata {7}.*asia20k\.csv: 20000 rows × 8 columns, \d+ missing cells \(20\.\d%\)\n/);
    expect(text?.stdout).toMatch(/\nconverged {2}yes \(/);
    expect(text?.stdout).toMatch(/\nlog-lik {4}-\d+\.\d+\n/);
    expect(text?.stdout).toMatch(/\ntrace {6}1: -\d+\.\d+, 2: -\d+\.\d+/);
    expect(text?.stdout).toContain(`\nwritten    ${file('fitted.bif')}\n`);

    expect(json?.code, json?.stderr).toBe(0);
    const res = JSON.parse(json?.stdout as string) as {
      logLikelihood: number;
      converged: boolean;
      nIter: number;
      trace: { logLikelihood: number | null }[];
      cpts: Record<string, { states: string[]; parents: string[]; cpt: number[] }>;
    };
    expect(typeof res.logLikelihood).toBe('number');
    expect(res.converged).toBe(true);
    expect(res.nIter).toBeGreaterThan(1);
    expect(Object.keys(res.cpts)).toEqual(asia.nodes.map((n) => n.name));
    const ll = res.trace.map((r) => r.logLikelihood as number);
    for (let i = 1; i < ll.length; i++) expect(ll[i] as number).toBeGreaterThanOrEqual((ll[i - 1] as number) - 1e-6 * Math.abs(ll[i - 1] as number));
    // the written networks hold the same CPTs as the JSON
    const fromJson = await readNetwork(file('fitted.json'));
    const fromBif = await readNetwork(file('fitted.bif'));
    for (const node of fromJson.nodes) expect(node.cpt).toEqual(res.cpts[node.name]?.cpt);
    for (const node of fromBif.nodes) for (const [k, p] of node.cpt.entries()) expect(p).toBeCloseTo(res.cpts[node.name]?.cpt[k] as number, 12);
    // Recovery: every CPT row whose parent configuration has expected support >= 500 rows is
    // within 0.03 of the truth (binomial s.e. <= 0.022 at 500 rows, less with 20% missing cells).
    for (const node of asia.nodes) {
      const fitted = res.cpts[node.name]?.cpt as number[];
      for (let c = 0; c < node.cpt.length / 2; c++) {
        const ev: Record<string, string> = {};
        let rest = c;
        for (let j = node.parents.length - 1; j >= 0; j--) {
          ev[node.parents[j] as string] = rest % 2 === 0 ? 'yes' : 'no';
          rest = Math.floor(rest / 2);
        }
        // P(parents = c) by the chain rule, each parent given the ones already fixed (brute force)
        let pc = 1;
        const fixed: Record<string, string> = {};
        for (const p of node.parents) {
          pc *= bruteForce(asia, p, fixed)[ev[p] === 'yes' ? 0 : 1] as number;
          fixed[p] = ev[p] as string;
        }
        if (20000 * 0.8 * pc < 500) continue;
        expect(Math.abs((fitted[2 * c] as number) - (node.cpt[2 * c] as number)), `${node.name} ${JSON.stringify(ev)}`).toBeLessThan(0.03);
      }
    }
  }, 120_000);

  it('hidden node (absent column), --n-init, --pseudo-count, --init network, --max-iter', async () => {
    await run(['bn', 'sample', ASIA, '--n', '2000', '--seed', '2', '--hide', 'either', '--out', file('noeither.csv')]);
    const [a, b, c] = await runAll([
      ['bn', 'fit', ASIA, file('noeither.csv'), '--n-init', '3', '--seed', '1', '--max-iter', '40', '--json'],
      ['bn', 'fit', ASIA, file('noeither.csv'), '--pseudo-count', '1', '--init', 'network', '--tol', '1e-9', '--max-iter', '5', '--out', file('map.json')],
      ['bn', 'fit', ASIA, file('small.csv'), '--hidden', 'either', '--max-iter', '3', '--json'],
    ]);
    expect(a?.code, a?.stderr).toBe(0);
    const res = JSON.parse(a?.stdout as string) as { restarts: unknown[]; hidden: string[]; nIter: number; options: { nInit: number; maxIter: number } };
    expect(res.restarts).toHaveLength(3);
    expect(res.hidden).toEqual(['either']);
    expect(res.options.maxIter).toBe(40);
    expect(b?.code, b?.stderr).toBe(0);
    expect(b?.stdout).toMatch(/hidden: either\n/);
    expect(b?.stdout).toMatch(/pseudo-count 1/);
    expect(b?.stdout).toMatch(/log-lik {4}-\d+\.\d+ \(objective with log-prior -\d+\.\d+: a MAP fit maximizes log-likelihood \+ log-prior/);
    expect(b?.stdout).toMatch(/converged {2}no \(max-iter\) after 5 iterations/);
    expect(b?.stderr).toMatch(/^emlab: warning: .*did not converge/m);
    expect(c?.code, c?.stderr).toBe(0);
    expect((JSON.parse(c?.stdout as string) as { nRows: number }).nRows).toBe(3);
  }, 120_000);

});
