/**
 * `@emlab/bench`: benchmark suites, metrics, results and the HTML report.
 * @module
 */
export {};
