/**
 * The accelerators as registered methods (structure kind `'*'`, family
 * `exact`): `fit(model, data, { eStep: 'squarem', eStepOptions: { method: 'S1' } })`,
 * `emlab fit --estep squarem --estep-option method=S1`, and a suite's
 * `{ "method": "squarem" }` all run {@link acceleratedMethod} around the exact
 * E-step registered for the model's structure kind.
 *
 * @module
 */
import type { OptionSchema } from '../option-schema.js';
import { parseOptions } from '../option-schema.js';
import { registerEStep } from '../registry.js';
import { acceleratedMethod } from './accelerated-method.js';
import { aitken, type AitkenOptions } from './aitken.js';
import { parabolicEm, type ParabolicEmOptions } from './parabolic-em.js';
import { quasiNewton, type QuasiNewtonOptions } from './quasi-newton.js';
import { squarem, type SquaremOptions } from './squarem.js';

/** Option tables of the registered accelerated methods (validation, `--estep-option`, docs). @category Acceleration */
export const ACCELERATOR_OPTION_SCHEMAS = {
  squarem: {
    method: { type: 'enum', values: ['S1', 'S2', 'S3'], default: 'S3', description: 'step-length scheme: S1 −rᵀv/vᵀv, S2 −rᵀr/rᵀv, S3 ‖r‖/‖v‖ (the SQUAREM R package default)' },
    stepMin0: { type: 'number', default: 1, description: 'initial lower bound on the step length α' },
    stepMax0: { type: 'number', min: 1, default: 1, description: 'initial upper bound on α (adapts by mstep)' },
    mstep: { type: 'number', min: 1, exclusiveMin: true, default: 4, description: 'factor by which the step bounds grow on success and shrink on failure' },
    stabilize: { type: 'boolean', default: true, description: 'one EM step from the extrapolated point before judging it (squarem1)' },
  },
  aitken: {
    window: { type: 'integer', min: 1, description: 'difference pairs the EM Jacobian is estimated from (default min(p, 10))' },
  },
  parabolic: {
    warmup: { type: 'integer', min: 2, default: 10, description: 'plain EM steps before the first parabola search' },
    h: { type: 'number', min: 0, exclusiveMin: true, default: 0.1, description: 'step increment of the search along the parabola' },
    a: { type: 'number', min: 1, exclusiveMin: true, default: 1.5, description: 'geometric ratio of the search' },
    version: { type: 'enum', values: ['geometric', 'arithmetic'], default: 'geometric', description: 'search points 1 + h·aⁱ or 1 + (i + 1)·h' },
    maxTrials: { type: 'integer', min: 1, default: 30, description: 'most trial points per search (one E-step each)' },
  },
  'quasi-newton': {
    q: { type: 'integer', min: 1, default: 2, description: 'secant pairs (capped at the dimension)' },
  },
} as const satisfies Readonly<Record<string, OptionSchema>>;

const DESCRIPTIONS: Readonly<Record<keyof typeof ACCELERATOR_OPTION_SCHEMAS, string>> = {
  squarem: 'SQUAREM-accelerated EM (Varadhan & Roland 2008) around the exact E-step; bound = log-likelihood, passes = E-step calls',
  aitken: 'multivariate Aitken-accelerated EM (Louis 1982) around the exact E-step; bound = log-likelihood, passes = E-step calls',
  parabolic: 'parabolic EM (Berlinet & Roland 2009) around the exact E-step; bound = log-likelihood, passes = E-step calls',
  'quasi-newton': 'quasi-Newton-accelerated EM (Zhou, Alexander & Lange 2011) around the exact E-step; bound = log-likelihood, passes = E-step calls',
};

for (const name of Object.keys(ACCELERATOR_OPTION_SCHEMAS) as (keyof typeof ACCELERATOR_OPTION_SCHEMAS)[]) {
  const schema: OptionSchema = ACCELERATOR_OPTION_SCHEMAS[name];
  registerEStep({
    kind: '*',
    method: name,
    family: 'exact',
    description: DESCRIPTIONS[name],
    options: schema,
    create: (options) => {
      const o = parseOptions(schema, options ?? {}, { owner: name, pathOf: (k) => ['options', 'eStepOptions', k] });
      const accelerator =
        name === 'squarem' ? squarem(o as SquaremOptions) : name === 'aitken' ? aitken(o as AitkenOptions) : name === 'parabolic' ? parabolicEm(o as ParabolicEmOptions) : quasiNewton(o as QuasiNewtonOptions);
      return acceleratedMethod({ accelerator });
    },
  });
}
