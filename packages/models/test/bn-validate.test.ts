/**
 * Network validation through the API: every error names the node and has the right code;
 * rounded CPTs are renormalized with a warning; topological order on random DAGs.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { catchEmError } from '@emlab/testing';
import { bnFreeParameterCount, parseBif, topologicalOrder, validateNetwork, type BayesNet, type BnNode } from '@emlab/models';

const node = (name: string, parents: string[], cpt: number[], states: string[] = ['t', 'f']): BnNode => ({ name, states, parents, cpt });
const net = (...nodes: BnNode[]): BayesNet => ({ name: 'test', nodes });
const quiet = { onWarning: (): void => undefined };

describe('structure errors (INVALID_ARGUMENT, naming the node)', () => {
  it('names a directed cycle A -> B -> C -> A', () => {
    const e = catchEmError(() =>
      validateNetwork(net(node('R', [], [0.5, 0.5]), node('A', ['C', 'R'], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]), node('B', ['A'], [0.5, 0.5, 0.5, 0.5]), node('C', ['B'], [0.5, 0.5, 0.5, 0.5]))),
    );
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('directed cycle A -> B -> C -> A');
    expect(e.path).toEqual(['network', 'nodes', 'A', 'parents']);
  });

  it('a node that is its own parent is a cycle X -> X', () => {
    const e = catchEmError(() => validateNetwork(net(node('X', ['X'], [0.5, 0.5, 0.5, 0.5]))));
    expect(e.message).toContain('directed cycle X -> X');
  });

  it('topologicalOrder reports the same cycle', () => {
    const e = catchEmError(() => topologicalOrder(net(node('A', ['B'], [1, 0, 1, 0]), node('B', ['A'], [1, 0, 1, 0]))));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('A -> B -> A');
  });

  const cases: [string, () => unknown, RegExp, (string | number)[]][] = [
    ['unknown parent', () => validateNetwork(net(node('A', ['Ghost'], [0.5, 0.5]))), /node "A" has an unknown parent "Ghost"/, ['network', 'nodes', 'A', 'parents']],
    ['duplicate parent', () => validateNetwork(net(node('P', [], [0.5, 0.5]), node('A', ['P', 'P'], [0.5, 0.5]))), /node "A" lists parent "P" twice/, ['network', 'nodes', 'A', 'parents']],
    ['duplicate node name', () => validateNetwork(net(node('A', [], [0.5, 0.5]), node('A', [], [0.5, 0.5]))), /node "A" is defined twice \(nodes 0 and 1\)/, ['network', 'nodes', 'A']],
    ['duplicate state', () => validateNetwork(net(node('A', [], [0.5, 0.5], ['x', 'x']))), /node "A" lists state "x" twice/, ['network', 'nodes', 'A', 'states']],
    ['no states', () => validateNetwork(net(node('A', [], [], []))), /node "A" must have a non-empty array of state names/, ['network', 'nodes', 'A', 'states']],
    ['empty state name', () => validateNetwork(net(node('A', [], [0.5, 0.5], ['x', '']))), /node "A" has a state that is not a non-empty string/, ['network', 'nodes', 'A', 'states']],
    ['empty node name', () => validateNetwork(net(node('', [], [0.5, 0.5]))), /must be a non-empty string/, ['network', 'nodes', 0, 'name']],
    ['no nodes', () => validateNetwork(net()), /must be a non-empty array of nodes/, ['network', 'nodes']],
    ['not an object', () => validateNetwork(null as unknown as BayesNet), /must be a Bayesian network object/, ['network']],
    ['parents not an array', () => validateNetwork(net({ name: 'A', states: ['x'], parents: 'B' as unknown as string[], cpt: [1] })), /node "A" must have an array of parent names/, ['network', 'nodes', 'A', 'parents']],
  ];
  for (const [what, f, pattern, path] of cases) {
    it(what, () => {
      const e = catchEmError(f);
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(pattern);
      expect(e.path).toEqual(path);
      expect(e.message).toMatch(/Remedy: /);
    });
  }
});

describe('CPT errors (INVALID_PARAMS, naming the node and parent configuration)', () => {
  const P = node('P', [], [0.5, 0.5], ['lo', 'hi']);
  const cases: [string, BnNode, RegExp, (string | number)[]][] = [
    ['CPT length', node('A', ['P'], [0.5, 0.5, 0.5]), /the CPT of node "A" has 3 entries but P\(A \| P\) needs 2 × 2 = 4/, ['network', 'nodes', 'A', 'cpt']],
    ['CPT not an array', { name: 'A', states: ['t', 'f'], parents: [], cpt: 'x' as unknown as number[] }, /node "A" must have a CPT/, ['network', 'nodes', 'A', 'cpt']],
    ['negative entry', node('A', ['P'], [0.5, 0.5, 1.1, -0.1]), /node "A" has a negative probability in P\(A \| P=hi\), state f/, ['network', 'nodes', 'A', 'cpt', 3]],
    ['NaN entry', node('A', ['P'], [Number.NaN, 0.5, 0.5, 0.5]), /node "A" has a non-finite probability in P\(A \| P=lo\), state t/, ['network', 'nodes', 'A', 'cpt', 0]],
    ['infinite entry', node('A', [], [Number.POSITIVE_INFINITY, 0]), /node "A" has a non-finite probability in P\(A\), state t/, ['network', 'nodes', 'A', 'cpt', 0]],
    ['non-number entry', node('A', [], ['0.5' as unknown as number, 0.5]), /non-finite probability/, ['network', 'nodes', 'A', 'cpt', 0]],
    ['column sum beyond 1e-3', node('A', ['P'], [0.5, 0.5, 0.6, 0.41]), /node "A": the distribution P\(A \| P=hi\) sums to 1\.01, not 1/, ['network', 'nodes', 'A', 'cpt']],
    ['column sum below 1 beyond 1e-3', node('A', ['P'], [0.5, 0.498, 0.5, 0.5]), /P\(A \| P=lo\) sums to 0\.998/, ['network', 'nodes', 'A', 'cpt']],
  ];
  for (const [what, bad, pattern, path] of cases) {
    it(what, () => {
      const e = catchEmError(() => validateNetwork(net(P, bad), quiet));
      expect(e.code).toBe('INVALID_PARAMS');
      expect(e.message).toMatch(pattern);
      expect(e.path).toEqual(path);
    });
  }
});

describe('normalization', () => {
  it('renormalizes columns within 1e-3 with one warning per node, keeps exact columns bit for bit', () => {
    const warnings: string[] = [];
    const input = net(node('P', [], [0.3, 0.7]), node('A', ['P'], [0.2, 0.8005, 0.1, 0.9]), node('B', ['P'], [0.5, 0.4999999, 0.25, 0.7500001]));
    const out = validateNetwork(input, { onWarning: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^node "A": renormalized 1 of 2 CPT distribution\(s\) .*largest deviation 5\.00e-4 in P\(A \| P=t\)/);
    expect(warnings[1]).toMatch(/^node "B": renormalized 2 of 2/);
    const a = out.nodes[1]?.cpt as number[];
    expect((a[0] as number) + (a[1] as number)).toBeCloseTo(1, 15);
    expect(a[0]).toBeCloseTo(0.2 / 1.0005, 15);
    expect(a.slice(2)).toEqual([0.1, 0.9]);
    expect(out.nodes[0]?.cpt).toEqual([0.3, 0.7]);
    // a copy: the input is untouched and arrays are not shared
    expect(input.nodes[1]?.cpt).toEqual([0.2, 0.8005, 0.1, 0.9]);
    expect(out.nodes[0]?.cpt).not.toBe(input.nodes[0]?.cpt);
  });

  it('the default warning channel is process.emitWarning', () => {
    const seen: string[] = [];
    const listener = (w: Error): void => {
      seen.push(w.message);
    };
    process.on('warning', listener);
    return new Promise<void>((resolve) => {
      validateNetwork(net(node('A', [], [0.5, 0.5001])));
      setImmediate(() => {
        process.off('warning', listener);
        expect(seen.some((m) => m.startsWith('node "A": renormalized'))).toBe(true);
        resolve();
      });
    });
  });

  it('validating a validated network changes nothing and warns nothing', () => {
    const alarm = validateNetwork(parseBif(readFileSync(new URL('../../../data/bn/alarm.bif', import.meta.url), 'utf8')), quiet);
    const warnings: string[] = [];
    expect(validateNetwork(alarm, { onWarning: (m) => warnings.push(m) })).toEqual(alarm);
    expect(warnings).toEqual([]);
  });

  it('option errors', () => {
    expect(catchEmError(() => validateNetwork(net(node('A', [], [0.5, 0.5])), { onWarning: 3 as unknown as () => void })).path).toEqual(['options', 'onWarning']);
  });
});

describe('topological order and parameter count', () => {
  it('asia: parents first, 18 free parameters', () => {
    const asia = parseBif(readFileSync(new URL('../../../data/bn/asia.bif', import.meta.url), 'utf8'));
    const order = topologicalOrder(asia).map((i) => asia.nodes[i]?.name);
    expect(order).toEqual(['asia', 'tub', 'smoke', 'lung', 'bronc', 'either', 'xray', 'dysp']);
    expect(bnFreeParameterCount(asia)).toBe(18);
  });

  it('random DAGs in shuffled node order: every parent precedes its child; a permutation of all nodes', () => {
    const dag = fc
      .integer({ min: 1, max: 12 })
      .chain((n) =>
        fc.record({
          edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 3 * n }),
          perm: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
          n: fc.constant(n),
        }),
      );
    fc.assert(
      fc.property(dag, ({ edges, perm, n }) => {
        // edge (i, j) with i < j in the hidden order is acyclic by construction
        const parents: string[][] = Array.from({ length: n }, () => []);
        for (const [a, b] of edges) {
          if (a === b) continue;
          const [i, j] = a < b ? [a, b] : [b, a];
          if (!(parents[j] as string[]).includes(`v${i}`)) (parents[j] as string[]).push(`v${i}`);
        }
        const nodes = perm.map((k) => {
          const ps = parents[k] as string[];
          return node(`v${k}`, ps, Array.from({ length: 2 ** ps.length }, () => [0.5, 0.5]).flat());
        });
        const g = net(...nodes);
        const order = topologicalOrder(g);
        expect([...order].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
        const position = new Map(order.map((i, p) => [nodes[i]?.name as string, p]));
        for (const nd of nodes) for (const p of nd.parents) expect(position.get(p) as number).toBeLessThan(position.get(nd.name) as number);
        expect(bnFreeParameterCount(g)).toBe(nodes.reduce((s, nd) => s + 2 ** nd.parents.length, 0));
      }),
      { numRuns: 200, seed: 4 },
    );
  });
});
