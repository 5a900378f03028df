// The conformance kit on the Bayesian network: hidden nodes and missing cells (maximum likelihood),
// and MAP with Dirichlet pseudo-counts, with every method registered for factor graphs.
import { describe, expect, it } from 'vitest';
import { fit } from '@emlab/core';
import '@emlab/exact';
import { bayesianNetwork, sampleNetwork } from '@emlab/models';
import { asiaNetwork, catchEmErrorAsync, checkModel, randomBayesNet } from '@emlab/testing';
import { bnData } from './conformance-data.js';

checkModel(bayesianNetwork(asiaNetwork(), { hidden: ['either'] }), bnData(asiaNetwork(), ['either'], 0.1), { label: 'conformance: bayesian-network asia, either hidden, 10% missing' });

const net = randomBayesNet(5, { nNodes: 5, maxCard: 3, maxParents: 2 });
checkModel(bayesianNetwork(net, { hidden: ['X2'], pseudoCount: 1 }), bnData(net, ['X2'], 0.2), { label: 'conformance: bayesian-network random (5 nodes), MAP with pseudo-count 1' });

describe('regressions found by the conformance kit', () => {
  it('row weights of the wrong length are a typed error (they were read past the end as NaN, or silently truncated)', async () => {
    const model = bayesianNetwork(asiaNetwork(), { hidden: ['either'] });
    const data = sampleNetwork(asiaNetwork(), 10, 1, { hide: ['either'] });
    for (const weights of [new Array<number>(11).fill(1), new Array<number>(9).fill(1)]) {
      const e = await catchEmErrorAsync(fit(model, data, { weights, onWarning: () => undefined }));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.path).toEqual(['options', 'weights']);
    }
  });
});
