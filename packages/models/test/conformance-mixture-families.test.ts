// The conformance kit on general mixtures of non-Gaussian families: a product of Gaussian,
// Poisson, Bernoulli and categorical families with missing cells (latent or marginalized), a
// mixture of linear regressions times an exponential family, and Student-t components.
import '@emlab/exact';
import '@emlab/variational';
import '@emlab/montecarlo';
import { mixtureModel } from '@emlab/models';
import { checkModel } from '@emlab/testing';
import { gmmData } from './conformance-data.js';
import { genericStart, mixedData, regressionData } from './conformance-mixture-data.js';

const mixed = mixtureModel({ nComponents: 2, family: 'gaussian(0)+poisson(1)+bernoulli(2)+categorical(3):levels=3' });
checkModel(mixed, mixedData(), {
  params: genericStart(mixed),
  label: 'conformance: mixture gaussian × poisson × bernoulli × categorical, missing cells',
});
checkModel(mixtureModel({ nComponents: 2, family: 'regression(0~1)+exponential(2)' }), regressionData(), {
  label: 'conformance: mixture of regressions × exponential',
});
const studentT = mixtureModel({ nComponents: 2, family: 't', covariance: 'VVV' });
checkModel(studentT, gmmData('full', false), {
  params: genericStart(studentT),
  label: 'conformance: mixture of Student-t (VVV scales)',
});
