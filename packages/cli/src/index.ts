/**
 * `@emlab/cli`: the `emlab` command line. `main(argv, io)` runs it (the `emlab` binary calls it
 * with `process.argv` and the process's streams).
 * @module
 */
export { main } from './main.js';
export type { CliIo } from './main.js';
export { ONLINE_SE_FLAGS, ONLINE_SE_USAGE, accelerateFromFlags, describePass, describeStandardErrors, onlineOptionsFromFlags, runOnlineFit, standardErrorsFromFlags, standardErrorsJson } from './online.js';
