// The playground's URL state, in Node (no browser needed): every setting survives a write and a
// read, a query the page wrote reads back to itself, and values that are not valid are reported
// by parameter (and replaced by the default) instead of being reinterpreted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gaussianMixture, hiddenMarkovModel } from '@emlab/models';
import { BACKEND_OPTIONS, COVARIANCES, DEFAULT_SETTINGS, MODEL_INITS, PRECISION_OPTIONS, readSettings, writeSettings, type Settings } from '../src/settings.ts';

const settingsArb: fc.Arbitrary<Settings> = fc.constantFrom('gmm' as const, 'hmm' as const).chain((model) =>
  fc.record({
    model: fc.constant(model),
    data: model === 'hmm' ? fc.constantFrom('generated' as const, 'csv' as const) : fc.constantFrom('blobs3' as const, 'overlap2' as const, 'blobs5d' as const, 'mix5' as const, 'generated' as const, 'csv' as const),
    gen: fc.record({
      n: fc.integer({ min: 10, max: 20000 }),
      clusters: fc.integer({ min: 1, max: 12 }),
      separation: fc.integer({ min: 0, max: 80 }).map((x) => x / 4),
      shape: model === 'gmm' ? fc.constantFrom(...COVARIANCES) : fc.constant(DEFAULT_SETTINGS.gen.shape),
      missing: fc.integer({ min: 0, max: 10 }).map((x) => x / 20),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      stay: model === 'hmm' ? fc.integer({ min: 0, max: 99 }).map((x) => x / 100) : fc.constant(DEFAULT_SETTINGS.gen.stay),
    }),
    points: model === 'gmm' ? fc.array(fc.tuple(fc.integer({ min: -1e7, max: 1e7 }), fc.integer({ min: -1e7, max: 1e7 })).map(([x, y]) => [x / 1e6, y / 1e6] as const), { maxLength: 5 }) : fc.constant([]),
    k: fc.integer({ min: 1, max: 12 }),
    cov: model === 'gmm' ? fc.constantFrom(...COVARIANCES) : fc.constant(DEFAULT_SETTINGS.cov),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    init: fc.constantFrom(...MODEL_INITS[model]),
    methods: fc.uniqueArray(fc.constantFrom('exact', 'hard', 'stochastic', 'tempered', 'sparse', 'incremental', 'vb', 'squarem'), { minLength: 1, maxLength: 8 }),
    maxIter: fc.integer({ min: 1, max: 10000 }),
    tol: fc.option(fc.constantFrom(0, 1e-12, 1e-8, 0.001), { nil: null }),
    precision: fc.constantFrom(...PRECISION_OPTIONS),
    backend: fc.constantFrom(...BACKEND_OPTIONS),
    speed: fc.integer({ min: 0, max: 1000 }),
  }),
);

/** The generator settings a URL carries only for generated data (else they are the defaults). */
const visible = (s: Settings): Settings => (s.data === 'generated' ? s : { ...s, gen: DEFAULT_SETTINGS.gen });

describe('playground settings in the URL', () => {
  it('round-trip: read(write(s)) = s, and write(read(q)) = q for a query the page wrote', () => {
    fc.assert(
      fc.property(settingsArb, (s) => {
        const q = writeSettings(s);
        const back = readSettings(q);
        expect(back.problems).toEqual([]);
        expect(back.settings).toEqual(visible(s));
        expect(writeSettings(back.settings)).toBe(q);
      }),
      { numRuns: 300 },
    );
  });

  it('the defaults are what an empty query gives, and the initializations are the models\' own', () => {
    expect(readSettings('')).toEqual({ settings: DEFAULT_SETTINGS, problems: [] });
    expect(MODEL_INITS.gmm).toEqual(gaussianMixture({ nComponents: 2 }).initMethods);
    expect(MODEL_INITS.hmm).toEqual(hiddenMarkovModel({ nStates: 2 }).initMethods);
  });

  it('reports every value it cannot read, by parameter, and uses the default', () => {
    const { settings, problems } = readSettings('?model=hmm&k=0&cov=round&seed=-1&n=5&sep=x&missing=0.9&stay=1&init=kmeans%2B%2B&tol=-3&speed=2000&pts=1,2;oops&precision=half&backend=gpu');
    expect(problems.map((p) => p.param)).toEqual(['n', 'sep', 'missing', 'stay', 'pts', 'tol', 'init', 'k', 'cov', 'seed', 'precision', 'backend', 'speed']);
    expect(settings).toMatchObject({ model: 'hmm', k: DEFAULT_SETTINGS.k, cov: DEFAULT_SETTINGS.cov, seed: DEFAULT_SETTINGS.seed, init: 'random', tol: null, speed: DEFAULT_SETTINGS.speed, points: [[1, 2]], precision: 'auto', backend: 'wasm' });
    expect(settings.gen).toEqual(DEFAULT_SETTINGS.gen);
    expect(problems.find((p) => p.param === 'init')?.message).toMatch(/not an initialization of the hmm model \(kmeans, random\)/);
    // The HMM's default methods when the URL names none.
    expect(settings.methods).toEqual(['exact', 'hard', 'stochastic']);
  });
});
