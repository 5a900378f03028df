/**
 * The built-in data-set kinds (registered on import).
 * @module
 */
import './gaussian-mixture.js';
import './builtin.js';
import './csv.js';
import './bayesian-network.js';
import './glmm.js';
import './hidden-markov.js';
