/**
 * Forward sampling: reproducible from the seed, independent streams for values and mask, and
 * empirical frequencies that match the CPTs (and brute-force marginals) on a large asia sample.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bnAsFactorGraph, bruteForceFactorGraph, catchEmError } from '@emlab/testing';
import { parseBif, sampleNetwork, validateNetwork, type BayesNet, type BnNode } from '@emlab/models';

const asia = parseBif(readFileSync(new URL('../../../data/bn/asia.bif', import.meta.url), 'utf8'));
const alarm = validateNetwork(parseBif(readFileSync(new URL('../../../data/bn/alarm.bif', import.meta.url), 'utf8')), { onWarning: () => undefined });

/** P(node = state) by enumerating the joint distribution (small networks only). */
function bruteForceMarginal(net: BayesNet, name: string, state: string): number {
  const v = net.nodes.findIndex((n) => n.name === name);
  const { marginals } = bruteForceFactorGraph(bnAsFactorGraph(net), new Int32Array(net.nodes.length).fill(-1));
  return (marginals[v] as Float64Array)[(net.nodes[v] as BnNode).states.indexOf(state)] as number;
}

describe('reproducibility and streams', () => {
  it('same seed, identical data; different seed, different data; a prefix of a larger sample', () => {
    const a = sampleNetwork(asia, 2000, 7);
    expect(sampleNetwork(asia, 2000, 7)).toEqual(a);
    expect(sampleNetwork(asia, 2000, 8).values).not.toEqual(a.values);
    expect(sampleNetwork(asia, 2000, '7').values).toEqual(a.values); // the seed's string form names the stream
    const big = sampleNetwork(asia, 5000, 7);
    expect(big.values.subarray(0, a.values.length)).toEqual(a.values);
  });

  it('masking uses its own stream: the observed cells equal the unmasked sample; rate close to p', () => {
    const full = sampleNetwork(alarm, 4000, 1);
    const masked = sampleNetwork(alarm, 4000, 1, { missingRate: 0.2 });
    expect(sampleNetwork(alarm, 4000, 1, { missingRate: 0.2 })).toEqual(masked);
    let missing = 0;
    let changed = 0;
    for (let j = 0; j < full.values.length; j++) {
      const v = masked.values[j] as number;
      if (v === -1) missing++;
      else if (v !== full.values[j]) changed++;
    }
    expect(changed).toBe(0);
    const n = full.values.length;
    const se = Math.sqrt((0.2 * 0.8) / n);
    expect(Math.abs(missing / n - 0.2)).toBeLessThan(5 * se);
  });

  it('hide drops the nodes (network order kept for the rest) without changing the other values', () => {
    const full = sampleNetwork(asia, 500, 2);
    const hidden = sampleNetwork(asia, 500, 2, { hide: ['either', 'asia'] });
    expect(full.columns).toEqual(asia.nodes.map((n) => n.name));
    expect(hidden.columns).toEqual(['tub', 'smoke', 'lung', 'bronc', 'xray', 'dysp']);
    for (let r = 0; r < 500; r++) {
      hidden.columns.forEach((c, j) => {
        expect(hidden.values[r * 6 + j]).toBe(full.values[r * 8 + full.columns.indexOf(c)]);
      });
    }
  });

  it('nodes listed children first are still sampled parents first', () => {
    const reversed: BayesNet = { name: 'rev', nodes: [...asia.nodes].reverse() };
    const d = sampleNetwork(reversed, 20_000, 5);
    const col = (name: string): number => d.columns.indexOf(name);
    for (let r = 0; r < d.nRows; r++) {
      const v = (name: string): number => d.values[r * 8 + col(name)] as number;
      // either = lung OR tub (deterministic CPT): 0 is "yes"
      expect(v('either') === 0).toBe(v('lung') === 0 || v('tub') === 0);
    }
  });
});

describe('frequencies match the CPTs (200,000 rows of asia)', () => {
  const N = 200_000;
  const data = sampleNetwork(asia, N, 2024);
  const col = (name: string): number => data.columns.indexOf(name);

  it('marginals equal brute-force enumeration within 4.5 standard errors (P(lung=yes) = 0.055, P(tub=yes) = 0.0104)', () => {
    expect(bruteForceMarginal(asia, 'lung', 'yes')).toBeCloseTo(0.055, 12);
    expect(bruteForceMarginal(asia, 'tub', 'yes')).toBeCloseTo(0.0104, 12);
    for (const node of asia.nodes) {
      const p = bruteForceMarginal(asia, node.name, 'yes');
      let count = 0;
      for (let r = 0; r < N; r++) if (data.values[r * 8 + col(node.name)] === 0) count++;
      const se = Math.sqrt((p * (1 - p)) / N);
      expect(Math.abs(count / N - p), node.name).toBeLessThanOrEqual(4.5 * se + 1e-12);
    }
  });

  it('every CPT row with at least 200 parent occurrences matches within 4.5 standard errors', () => {
    for (const node of asia.nodes) {
      const configs = node.cpt.length / 2;
      const seen = new Float64Array(configs);
      const yes = new Float64Array(configs);
      for (let r = 0; r < N; r++) {
        let c = 0;
        for (const p of node.parents) c = c * 2 + (data.values[r * 8 + col(p)] as number);
        seen[c] = (seen[c] as number) + 1;
        if (data.values[r * 8 + col(node.name)] === 0) yes[c] = (yes[c] as number) + 1;
      }
      for (let c = 0; c < configs; c++) {
        const n = seen[c] as number;
        if (n < 200) continue;
        const p = node.cpt[2 * c] as number;
        const se = Math.sqrt((p * (1 - p)) / n);
        expect(Math.abs((yes[c] as number) / n - p), `${node.name} config ${c}`).toBeLessThanOrEqual(4.5 * se + 1e-12);
      }
    }
  });
});

describe('argument errors', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['nRows 0', () => sampleNetwork(asia, 0, 1), /nRows = 0: must be an integer >= 1/],
    ['nRows fractional', () => sampleNetwork(asia, 2.5, 1), /nRows = 2\.5/],
    ['bad seed', () => sampleNetwork(asia, 10, 1.5), /seed = 1\.5: must be a safe integer or a non-empty string/],
    ['missingRate 1', () => sampleNetwork(asia, 10, 1, { missingRate: 1 }), /options\.missingRate = 1: must be a number in \[0, 1\)/],
    ['missingRate negative', () => sampleNetwork(asia, 10, 1, { missingRate: -0.1 }), /options\.missingRate = -0\.1/],
    ['unknown hidden node', () => sampleNetwork(asia, 10, 1, { hide: ['Ghost'] }), /options\.hide = "Ghost": is not a node of the network/],
    ['unknown option', () => sampleNetwork(asia, 10, 1, { missing: 0.1 } as never), /options\.missing = 0\.1: is not an option of sampleNetwork/],
  ];
  for (const [what, f, pattern] of cases) {
    it(what, () => {
      const e = catchEmError(f);
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(pattern);
    });
  }

  it('an invalid network is rejected before sampling (cycle named)', () => {
    const e = catchEmError(() => sampleNetwork({ name: 'c', nodes: [{ name: 'A', states: ['a', 'b'], parents: ['A'], cpt: [1, 0, 1, 0] }] }, 10, 1));
    expect(e.message).toContain('A -> A');
  });
});
