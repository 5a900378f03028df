// Writes dist/registry.json: the catalog of the built-in registrations (models, methods, their
// option schemas as data), which `emlab <command> --help` reads instead of loading the registries
// (and TensorFlow.js). Run by `npm run build` after tsc; a test checks it against the live registries.
import { writeFileSync } from 'node:fs';

const { liveCatalog } = await import('../dist/internal/catalog-live.js');
const { SNAPSHOT_URL } = await import('../dist/internal/catalog.js');
writeFileSync(SNAPSHOT_URL, `${JSON.stringify(await liveCatalog([]), null, 1)}\n`);
