// The conformance kit on the exact E-steps: finite (posterior responsibilities) and factor-graph
// (junction tree, float32 tensors and float64 host).
import '@emlab/variational';
import '@emlab/montecarlo';
import { exactEStep, factorGraphExactEStep } from '@emlab/exact';
import { checkEStep } from '@emlab/testing';

checkEStep(exactEStep());
checkEStep(factorGraphExactEStep());
