// Every test file starts on the default backend (wasm unless EMLAB_BACKEND says otherwise).
import { beforeAll } from 'vitest';
import { initBackend } from '@emlab/core';

beforeAll(async () => {
  await initBackend();
});
