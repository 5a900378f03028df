// The conformance kit itself: the kit's own model passes every model property, and deliberately
// broken models and E-steps fail the property that is about their defect.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { reduceFiniteChunksAsync, type EStep, type FiniteStructure } from '@emlab/core';
import '@emlab/exact';
import { exactEStep } from '@emlab/exact';
import { stochasticEStep } from '@emlab/montecarlo';
import { eStepProperties, modelProperties, runConformance, type ConformanceProperty } from '../src/index.js';
import { kitMixtureDataArb } from '../src/conformance/internal/finite-cases.js';
import { kitMixture, type KitStats } from '../src/conformance/internal/kit-mixture.js';

type Kit = ReturnType<typeof kitMixture>;
const data = kitMixtureDataArb();
const fast = { numRuns: 8 };

/** Runs properties and returns the names of those that failed. */
async function failures(props: readonly ConformanceProperty[]): Promise<string[]> {
  return (await runConformance(props)).filter((o) => !o.ok).map((o) => o.name);
}

/** The kit model with some hooks replaced. */
const broken = (patch: (m: Kit) => Partial<Kit>): Kit => {
  const m = kitMixture(2);
  return { ...m, ...patch(m) } as Kit;
};

describe('the kit model passes the model suite', () => {
  it('every property, every registered finite method', async () => {
    expect(await failures(modelProperties(kitMixture(2), data, { ...fast, methods: ['exact', stochasticEStep()] }))).toEqual([]);
  });
});

describe('the kit catches broken models', () => {
  it('a constant missing from expectedLogJoint: the exact bound is not log p(x | θ)', async () => {
    const m = broken((k) => ({ expectedLogJoint: (s, p) => k.expectedLogJoint(s, p) + 0.5 * s.n.reduce((a, b) => a + b, 0) }));
    expect(await failures(modelProperties(m, data, { ...fast, methods: ['exact'], properties: ['monotone', 'bound-vs-log-likelihood'] }))).toEqual(['bound-vs-log-likelihood: exact, float64']);
  });
  it('an M-step that does not maximize: the bound decreases', async () => {
    const m = broken((k) => ({ mStep: (s, prev, ctx) => {
      const r = k.mStep(s, prev, ctx);
      return { params: { ...r.params, means: r.params.means.map((mu) => mu.map((v) => v + 3)) } };
    } }));
    expect(await failures(modelProperties(m, data, { ...fast, methods: ['exact'], properties: ['monotone'] }))).toEqual(['monotone: exact, float64']);
  });
  it('row weights accepted but ignored: weight 2 is not a duplicated row', async () => {
    const m = broken((k) => ({ prepare: (d, ctx) => k.prepare(d, { precisions: ctx.precisions }) }));
    expect(await failures(modelProperties(m, data, { ...fast, methods: ['exact'], properties: ['weights'] }))).toEqual(['weights: exact, float64']);
  });
  it('statistics that count each block once more: not additive over rows', async () => {
    const m = broken((k) => ({ structure: (pd, p, ctx) => {
      const s = k.structure(pd, p, ctx) as FiniteStructure<KitStats>;
      return { ...s, chunks: () => [...s.chunks()].map((c) => ({ ...c, stats: (w: Float32Array | Float64Array) => { const st = c.stats(w); return { ...st, n: st.n.map((v) => v + 1) }; } })) };
    } }));
    expect(await failures(modelProperties(m, data, { ...fast, methods: ['exact'], properties: ['additive-statistics'] }))).toEqual(['additive-statistics: float64']);
  });
  it('weights of the wrong length accepted: bad input without a typed error', async () => {
    const m = broken((k) => ({ prepare: (d, ctx) => k.prepare(d, ctx.weights === undefined ? ctx : { ...ctx, weights: Float64Array.from(d, (_, i) => ctx.weights?.[i] ?? 1) }) }));
    expect(await failures(modelProperties(m, data, { ...fast, methods: ['exact'], properties: ['bad-input'] }))).toEqual(['bad-input: data, parameters and options']);
  });
  it('parameters that do not survive JSON: the round trip fails', async () => {
    const m = broken((k) => ({ mStep: (s, prev, ctx) => {
      const r = k.mStep(s, prev, ctx);
      return { params: { ...r.params, weights: Float64Array.from(r.params.weights) as unknown as number[] } };
    } }));
    expect(await failures(modelProperties(m, data, { ...fast, methods: ['exact'], properties: ['round-trip'] }))).toEqual(['round-trip: float64']);
  });
});

describe('the kit catches broken E-steps', () => {
  /** A finite E-step written by hand around core's block loop, with a defect. */
  const finite = (name: string, family: EStep['family'], patch: (r: { stats: unknown; bound: number; entropy: number; logLikelihood: number }) => Record<string, unknown>): EStep<FiniteStructure> => ({
    name,
    kind: 'finite',
    family,
    options: {},
    async run(structure, ctx) {
      const r = await reduceFiniteChunksAsync(structure, ctx.rng, (b) => ({ q: b.posterior() }));
      return { stats: r.stats, bound: r.logLikelihood, entropy: r.entropy, logLikelihood: r.logLikelihood, ...patch(r) } as never;
    },
  });
  it('the exact E-step itself passes the E-step suite', async () => {
    expect(await failures(eStepProperties(exactEStep(), undefined, { ...fast, properties: ['brute-force', 'latent-hooks', 'lifecycle', 'reproducible', 'abort', 'bad-options'] }))).toEqual([]);
  });
  it('an entropy without the continuous part of the latent', async () => {
    const e = finite('no-latent-entropy', 'exact', (r) => ({ entropy: r.logLikelihood - 0 * r.entropy, bound: r.logLikelihood }));
    expect(await failures(eStepProperties(e, undefined, { ...fast, properties: ['brute-force'] }))).toEqual(['brute-force: finite tables']);
  });
  it('a restricted bound above the log-likelihood', async () => {
    const e = finite('too-high', 'restricted', (r) => ({ bound: r.logLikelihood + 1 }));
    expect(await failures(eStepProperties(e, undefined, { ...fast, properties: ['brute-force'] }))).toEqual(['brute-force: finite tables']);
  });
  it('a Monte Carlo estimate with a standard error ten times too small', async () => {
    const s = stochasticEStep();
    const e: EStep<FiniteStructure> = { ...s, name: 'overconfident', async run(st, ctx) {
      const r = await s.run(st, ctx);
      return { ...r, boundStdErr: (r.boundStdErr ?? 0) / 10 };
    } } as EStep<FiniteStructure>;
    expect(await failures(eStepProperties(e, undefined, { numRuns: 20, properties: ['brute-force'] }))).toEqual(['brute-force: finite tables']);
  });
  it('a tensor leaked per run', async () => {
    const e = finite('leaky', 'exact', () => {
      tf.scalar(1);
      return {};
    });
    expect(await failures(eStepProperties(e, undefined, { ...fast, properties: ['lifecycle'] }))).toEqual(['lifecycle: kit structures']);
  });
  it('state freed twice by its own dispose is caught through fit', async () => {
    let freed = new Set<object>();
    const e: EStep<FiniteStructure, { id: number }> = {
      ...finite('double-free', 'exact', () => ({})),
      start: () => ({ id: 1 }),
      dispose(state) {
        if (freed.has(state)) throw new Error('state disposed twice');
        freed.add(state);
      },
    };
    freed = new Set();
    expect(await failures(eStepProperties(e as EStep, undefined, { ...fast, properties: ['lifecycle', 'fit'], fitProperties: ['tensor-hygiene'] }))).toEqual([]);
  });
});
