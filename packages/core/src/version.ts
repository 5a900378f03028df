/** emlab's version; a test checks it equals packages/core/package.json. @category Results */
export const VERSION = '0.1.0';
