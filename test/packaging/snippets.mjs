// README code blocks as runnable programs: every ```ts and ```js block of README.md is a complete
// program (imports included) that runs from the repository root (it may read data/). Used by
// test/readme-snippets.test.ts (in the monorepo) and test/packaging/run.mjs (from npm pack tarballs).
import { readFileSync } from 'node:fs';
import ts from 'typescript';

/**
 * The fenced ```ts / ```js blocks of a Markdown text, with the 1-based line of their opening fence.
 * @param {string} markdown
 * @returns {{ line: number, lang: 'ts' | 'js', code: string }[]}
 */
export function extractSnippets(markdown) {
  const out = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|js|typescript|javascript)\s*$/.exec(lines[i]);
    if (open === null) continue;
    const start = i;
    const body = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    out.push({ line: start + 1, lang: open[1].startsWith('t') ? 'ts' : 'js', code: body.join('\n') + '\n' });
  }
  return out;
}

/** The README's snippets. @param {string} readmePath */
export function readmeSnippets(readmePath) {
  return extractSnippets(readFileSync(readmePath, 'utf8'));
}

/**
 * A snippet as an ES module Node runs (types stripped, nothing else changed).
 * @param {{ code: string, lang: string }} snippet
 */
export function toModule(snippet) {
  if (snippet.lang === 'js') return snippet.code;
  return ts.transpileModule(snippet.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false } }).outputText;
}
