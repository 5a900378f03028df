// Writes benchmarks/suite.schema.json: the suite file's JSON Schema, generated from @emlab/bench's one
// suite schema (valibot) and its built-in data-set kinds. Run after changing either (build first):
//   npx tsc -b packages/bench && node benchmarks/write-suite-schema.mjs
// packages/bench/test/suite-schema.test.ts fails while the committed file is out of date.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { suiteJsonSchema } from '../packages/bench/dist/index.js';

const out = fileURLToPath(new URL('./suite.schema.json', import.meta.url));
await writeFile(out, `${JSON.stringify(await suiteJsonSchema(), null, 2)}\n`);
console.log(`wrote ${out}`);
