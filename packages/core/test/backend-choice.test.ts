// A backend forced through initBackend(prefer) stays selected for later automatic calls (fit's),
// so an application's choice (the playground's wasm or cpu) is not overridden by the first fit.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fit, initBackend } from '../src/index.js';
import '@emlab/exact';
import { gaussianMixture } from '@emlab/models';

describe('initBackend keeps an explicit choice', () => {
  it('returns the forced backend to later calls without a preference, and fit runs on it', async () => {
    // EMLAB_BACKEND, when set, still takes precedence over the remembered choice.
    const env = process.env['EMLAB_BACKEND'];
    expect(await initBackend('cpu')).toBe('cpu');
    expect(await initBackend()).toBe(env ?? 'cpu');
    if (env !== undefined) return;
    const r = await fit(gaussianMixture({ nComponents: 2 }), [[0, 0], [0.1, 0.2], [5, 5], [5.2, 4.9], [0.2, 0.1], [5.1, 5.1]], { seed: 1, maxIter: 5, onWarning: () => undefined });
    expect(r.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await initBackend('wasm')).toBe('wasm');
    expect(await initBackend()).toBe('wasm');
  });
});
