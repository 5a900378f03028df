#!/usr/bin/env node
// The packaging test (.ci/run): the packages as a user gets them. `npm pack` every public workspace
// package, install the tarballs into an empty temp project (dependencies from the npm cache that
// `npm ci` filled), then run there every README code block in JavaScript (types stripped) and
// type-check it as strict TypeScript without skipLibCheck, and run the installed `emlab` binary.
// Needs the packages built (`npm run build`). Exit code 1 on any failure, with what failed.
//
//   node test/packaging/run.mjs [--keep]     # --keep: leave the temp project for inspection
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readmeSnippets, toModule } from './snippets.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const keep = process.argv.includes('--keep');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'emlab-pack-'));
const failures = [];
const step = (what) => console.log(`packaging: ${what}`);
const run = (cmd, args, cwd, timeout = 600_000) => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, maxBuffer: 1 << 26 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
};

try {
  // 1. Tarballs of the public packages.
  const tarballs = join(tmp, 'tarballs');
  mkdirSync(tarballs);
  const packages = [];
  for (const ws of rootPkg.workspaces) {
    const pkg = JSON.parse(readFileSync(join(root, ws, 'package.json'), 'utf8'));
    if (pkg.private) continue;
    const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', tarballs], { cwd: join(root, ws), encoding: 'utf8' }).trim().split('\n').pop();
    packages.push({ name: pkg.name, file: join(tarballs, out) });
  }
  step(`packed ${packages.map((p) => p.name).join(', ')}`);

  // 2. An empty project that depends on them (and on what a user adds: fast-check for the
  //    conformance kit, TypeScript and Node's types for the strict check).
  const project = join(tmp, 'project');
  mkdirSync(project);
  const devVersion = (name) => rootPkg.devDependencies?.[name] ?? rootPkg.dependencies?.[name];
  const dependencies = Object.fromEntries(packages.map((p) => [p.name, `file:${p.file}`]));
  for (const extra of ['fast-check', 'typescript', '@types/node']) dependencies[extra] = devVersion(extra);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'emlab-user', private: true, type: 'module', dependencies }, null, 2));
  const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], project);
  if (!install.ok) throw new Error(`npm install of the tarballs failed:\n${install.out}`);
  step('installed the tarballs into an empty project');
  cpSync(join(root, 'data'), join(project, 'data'), { recursive: true });

  // 3. README code blocks: strict TypeScript (no skipLibCheck), then run as JavaScript.
  const snippets = readmeSnippets(join(root, 'README.md'));
  const tsFiles = [];
  for (const s of snippets) {
    const base = `readme-line-${s.line}`;
    writeFileSync(join(project, `${base}.${s.lang === 'ts' ? 'ts' : 'mjs'}`), s.code);
    if (s.lang === 'ts') tsFiles.push(`${base}.ts`);
    writeFileSync(join(project, `${base}.run.mjs`), toModule(s));
  }
  // One program (every block is a module of its own); "types" listed as many projects do.
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] }, files: tsFiles }, null, 2));
  const tsc = run(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], project);
  if (!tsc.ok) failures.push(`strict TypeScript (${tsFiles.join(', ')}):\n${tsc.out}`);
  step(`type-checked ${tsFiles.length} TypeScript blocks (strict, no skipLibCheck)`);
  for (const s of snippets) {
    const r = run(process.execPath, [`readme-line-${s.line}.run.mjs`], project, 300_000);
    if (!r.ok) failures.push(`README.md line ${s.line} from the tarballs:\n${r.out}`);
  }
  step(`ran ${snippets.length} README blocks from the tarballs`);

  // 4. The installed binary.
  const version = run(join(project, 'node_modules', '.bin', 'emlab'), ['--version'], project);
  if (!version.ok || !/\d+\.\d+\.\d+/.test(version.out)) failures.push(`emlab --version from the tarball:\n${version.out}`);
  const fitCli = run(join(project, 'node_modules', '.bin', 'emlab'), ['fit', 'data/faithful.csv', '--components', '2', '--json'], project);
  if (!fitCli.ok || !/"logLikelihood"/.test(fitCli.out)) failures.push(`emlab fit from the tarball:\n${fitCli.out.slice(0, 2000)}`);
  step('ran the installed emlab binary');
} catch (e) {
  failures.push(String(e instanceof Error ? e.message : e));
} finally {
  if (!keep) rmSync(tmp, { recursive: true, force: true });
  else console.log(`packaging: kept ${tmp}`);
}

if (failures.length > 0) {
  console.error(`packaging: ${failures.length} failure(s)\n\n${failures.join('\n\n')}`);
  process.exit(1);
}
console.log('packaging: ok');
