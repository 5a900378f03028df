// Every ```ts / ```js block of README.md runs as written: types stripped, run by Node in a fresh
// directory that sees the repository's data/ (symlinked) and node_modules (an ancestor directory).
// The same snippets run from npm pack tarballs in a temp project in test/packaging/run.mjs (.ci/run).
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readmeSnippets, toModule } from './packaging/snippets.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const snippets = readmeSnippets(join(root, 'README.md'));
const work = join(root, 'test-output', 'readme-snippets');

describe('README code blocks run as written', () => {
  it('has code blocks', () => expect(snippets.length).toBeGreaterThan(3));
  for (const s of snippets) {
    it(`README.md line ${s.line} (${s.lang})`, async () => {
      const dir = join(work, `line-${s.line}`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      symlinkSync(join(root, 'data'), join(dir, 'data'));
      writeFileSync(join(dir, 'snippet.mjs'), toModule(s));
      const r = await promisify(execFile)(process.execPath, ['snippet.mjs'], { cwd: dir, timeout: 110_000, maxBuffer: 1 << 24 }).catch((e: { stderr?: string; code?: number }) => e);
      expect((r as { code?: number }).code, `README.md line ${s.line}:\n${(r as { stderr?: string }).stderr ?? ''}`).toBeUndefined();
    });
  }
});
