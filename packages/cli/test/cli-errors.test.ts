/**
 * User errors of every command, run in-process through `main` (the function the binary calls,
 * with the same exit codes and stderr), so the whole matrix stays fast; `cli.test.ts` and the
 * other files run the built binary itself. Each case: exit 2, nothing on stdout, one
 * `emlab: error [CODE]:` line naming the flag (or file, row and column), the value and a remedy,
 * no stack trace, no `TypeError`, no library path (`options.`, `impute.draws`, `name =`).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { expectUserError, type Run } from './run-cli.js';

let dir = '';
const file = (name: string): string => join(dir, name);
const APPLE = fileURLToPath(new URL('../../../data/apple_littlerubin.csv', import.meta.url));
const ASIA = fileURLToPath(new URL('../../../data/bn/asia.bif', import.meta.url));
const CORE = pathToFileURL(fileURLToPath(new URL('../../core/src/index.ts', import.meta.url))).href;

/** Runs the CLI in this process. */
async function cli(args: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTty: false });
  return { code, signal: null, stdout, stderr };
}

/** A user error in flag terms: no library paths. */
function expectFlagError(r: Run, ...patterns: RegExp[]): void {
  expectUserError(r, ...patterns);
  expect(r.stderr).not.toMatch(/TypeError|options\.|impute\.draws|\bname = |stochasticEStep|gaussianMixture\./);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emlab-cli-errors-'));
  await mkdir(file('a-directory'));
  await Promise.all([
    writeFile(file('small.csv'), 'x,y,z\n1,2,3\n4,5,6.5\n7,8,9\n0.5,1,2\n'),
    writeFile(file('weighted.csv'), 'x,y,w\n1,2,1\n4,5,2\n7,8,-1\n0.5,1,1\n'),
    writeFile(file('weight-missing.csv'), 'x,y,w\n1,2,1\n4,5,\n7,8,1\n'),
    writeFile(file('weight-zero.csv'), 'x,y,w\n1,2,0\n4,5,0\n'),
    writeFile(file('one-column.csv'), 'w\n1\n2\n'),
    writeFile(file('nonnumeric.csv'), 'x,y,z\n1,2,3\n4,5,6\n7,abc,9\n'),
    writeFile(file('ragged.csv'), 'x,y,z\n1,2,3\n4,5\n7,8,9\n'),
    writeFile(file('empty.csv'), ''),
    writeFile(file('nocolumn.csv'), 'x,y,z\n1,,3\n4,NA,6\n7,?,9\n'),
    writeFile(file('minus-inf.csv'), 'x,y\n1,2\n3,-Infinity\n'),
    writeFile(file('overflow.csv'), 'x,y\n1,2\n1e400,3\n'),
    writeFile(file('latin1.csv'), Buffer.from('x,y\n1,2\n\xe9,3\n', 'latin1')),
    writeFile(file('unterminated.csv'), 'x,y\n1,"2\n3,4\n'),
    writeFile(file('params-bn.json'), JSON.stringify({ format: 'emlab/params', formatVersion: 1, model: 'bayesian-network', params: {} })),
    writeFile(file('params-k3.json'), JSON.stringify({ format: 'emlab/params', formatVersion: 1, model: 'gmm', params: { covarianceType: 'full', weights: [0.3, 0.3, 0.4], means: [[0, 0, 0], [1, 1, 1], [2, 2, 2]], covariances: [[[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]] } })),
    writeFile(file('not-json.json'), 'x,y\n'),
    writeFile(file('throws.mjs'), "throw new Error('plug-in failed on purpose');\n"),
    writeFile(file('bad-model.mjs'), `import { registerModel } from '${CORE}';\nregisterModel({ name: 'clash', description: 'a model whose option takes the flag --seed', structureKind: 'finite', options: { s: { type: 'integer', flag: 'seed', description: 'x' } }, create: () => { throw new Error('never'); } });\n`),
    writeFile(file('suite.json'), JSON.stringify({ name: 's', datasets: [{ id: 'd', generator: 'gaussianMixture', options: { nSamples: 50, nComponents: 2, nFeatures: 2, seed: 1 } }], models: [{ id: 'gmm', type: 'gmm', options: {} }], esteps: ['exact'], seeds: [0] })),
    writeFile(file('existing-file'), 'keep'),
    writeFile(file('bn-weights.csv'), 'smoke,count\nyes,1\nno,-1\n'),
    writeFile(file('bn-all-missing.csv'), 'smoke,xray\n,\nNA,?\n'),
  ]);
});

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

const small = (): string => file('small.csv');
const fitK2 = (...more: string[]): string[] => ['fit', small(), '--components', '2', ...more];

const CASES: [string, () => string[], RegExp[]][] = [
  // flags
  ['unknown flag, with a suggestion', () => fitK2('--max-iters', '3'), [/--max-iters: is not a flag of emlab fit\. Remedy: did you mean --max-iter\?/]],
  ['a flag of another model', () => fitK2('--network', 'x.bif'), [/--network: is not a flag of emlab fit\. Remedy: --network is a flag of --model bayesian-network/]],
  ['repeated flag', () => ['fit', small(), '--components', '3', '--components', '4'], [/--components = "4": is given twice \(first "3"\)\. Remedy: give --components once/]],
  ['repeated --model', () => fitK2('--model', 'gmm', '--model', 'bn'), [/--model = "bn": is given twice/]],
  ['a switch with a value', () => fitK2('--json=yes'), [/--json = "yes": is a switch and takes no value/]],
  ['a value flag without a value', () => fitK2('--tol'), [/--tol: needs a value \(T\)/]],
  ['a value flag followed by a flag', () => fitK2('--out', '--json'), [/--out: needs a value/]],
  ['no data file', () => ['fit', '--components', '2'], [/<data\.csv>: is missing/]],
  ['two data files', () => ['fit', small(), small(), '--components', '2'], [/unexpected extra arguments/]],
  ['unknown command', () => ['bogus'], [/command = "bogus": is not an emlab command/]],
  ['unknown bn command', () => ['bn', 'frobnicate'], [/bn = "frobnicate": is not a bn command/]],
  // model flags (from the registration's schema)
  ['--model unknown', () => ['fit', small(), '--model', 'foo'], [/--model = "foo": is not a registered model \(registered: bayesian-network, gmm, hmm\)/]],
  ['--components missing', () => ['fit', small()], [/--components: is required by --model gmm\. Remedy: pass --components N/]],
  ['--components 0', () => ['fit', small(), '--components', '0'], [/--components = "0": must be an integer >= 1/]],
  ['--components 2.5', () => ['fit', small(), '--components', '2.5'], [/--components = "2\.5": must be an integer >= 1/]],
  ['--components abc', () => ['fit', small(), '--components', 'abc'], [/--components = "abc": must be an integer/]],
  ['--components > rows', () => ['fit', small(), '--components', '5'], [/INVALID_DATA/, /small\.csv = 4: has 4 rows, fewer than --components = 5\. Remedy: reduce --components/]],
  ['--covariance bogus', () => fitK2('--covariance', 'bogus'), [/--covariance = "bogus": must be one of "full", "diag", "spherical", "tied"/]],
  ['--reg-covar -1', () => fitK2('--reg-covar', '-1'), [/--reg-covar = "-1": must be a finite number >= 0/]],
  // method flags
  ['--estep bogus', () => fitK2('--estep', 'bogus'), [/UNKNOWN_ESTEP/, /--estep = "bogus": no method registered for structure kind "finite" \(registered: .*exact.*\)/]],
  ['--draws with exact', () => fitK2('--draws', '3'), [/--draws = "3": applies to sampling E-steps only, and --estep exact is exact\. Remedy: .*--estep with a sampling E-step \(stochastic\)/]],
  ['--draws with hard', () => fitK2('--estep', 'hard', '--draws', '3'), [/--draws = "3": applies to sampling E-steps only, and --estep hard is restricted/]],
  ['--draws 0', () => fitK2('--estep', 'stochastic', '--draws', '0'), [/--draws = "0": must be an integer in \[1, 10000\]/]],
  ['--draws and --estep-option nDraws', () => fitK2('--estep', 'stochastic', '--draws', '2', '--estep-option', 'nDraws=3'), [/--draws = "2": conflicts with --estep-option nDraws/]],
  ['--estep-option without =', () => fitK2('--estep', 'stochastic', '--estep-option', 'nDraws'), [/--estep-option = "nDraws": is not of the form KEY=VALUE/]],
  ['--estep-option unknown key', () => fitK2('--estep', 'stochastic', '--estep-option', 'draws=3'), [/--estep-option draws = "3": draws is not an option of --estep stochastic\. Remedy: use one of: nDraws/]],
  ['--estep-option bad value', () => fitK2('--estep', 'stochastic', '--estep-option', 'nDraws=many'), [/--estep-option nDraws = "many": must be an integer in \[1, 10000\]/]],
  ['--estep-option key twice', () => fitK2('--estep', 'stochastic', '--estep-option', 'nDraws=2', '--estep-option', 'nDraws=3'), [/--estep-option = "nDraws=3": sets nDraws twice/]],
  ['--estep-option for exact', () => fitK2('--estep-option', 'nDraws=2'), [/nDraws is not an option of --estep exact\. Remedy: --estep exact takes no options/]],
  ['--estep-option of gradient', () => fitK2('--estep', 'gradient', '--estep-option', 'optimizer=newton'), [/--estep-option optimizer = "newton": must be one of "lbfgs", "adam"/]],
  ['--estep gradient on missing cells', () => ['fit', APPLE, '--components', '1', '--estep', 'gradient'], [/INVALID_DATA/, /--estep gradient: cannot run on this data: .*apple_littlerubin\.csv, data row \d+, column 2 \("worms"\) = NaN/]],
  // fitting flags
  ['--tol -1', () => fitK2('--tol', '-1'), [/--tol = "-1": must be a number >= 0/]],
  ['--tol=-1', () => fitK2('--tol=-1'), [/--tol = "-1": must be a number >= 0/]],
  ['--tol abc', () => fitK2('--tol', 'abc'), [/--tol = "abc": must be a number/]],
  ['--max-iter 0', () => fitK2('--max-iter', '0'), [/--max-iter = "0": must be an integer >= 1/]],
  ['--n-init 0', () => fitK2('--n-init', '0'), [/--n-init = "0": must be an integer >= 1/]],
  ['--seed empty', () => fitK2('--seed', ' '), [/--seed = " ": must be an integer or a non-empty string/]],
  ['--init bogus', () => fitK2('--init', 'bogus'), [/--init = "bogus": is not an initialization method of gmm \(known: kmeans\+\+, random\)/]],
  ['--precision float16', () => fitK2('--precision', 'float16'), [/--precision = "float16": is not a precision \(auto, float32, float64\)/]],
  ['--convergence bogus', () => fitK2('--convergence', 'bogus'), [/--convergence = "bogus": is not a stopping rule \(aitken, absolute, relative, params, gradient, monte-carlo, accelerated\)/]],
  ['--record-params 0', () => fitK2('--record-params=0'), [/--record-params = "0": must be an integer >= 1/]],
  ['--init and --init-params', () => fitK2('--init', 'random', '--init-params', file('params-k3.json')), [/--init = "random": conflicts with --init-params/]],
  ['--n-init and --init-params', () => fitK2('--n-init', '3', '--init-params', file('params-k3.json')), [/--n-init = "3": conflicts with --init-params/]],
  ['--init-params missing file', () => fitK2('--init-params', file('nope.json')), [/IO_ERROR/, /--init-params = ".*nope\.json": cannot be read \(ENOENT\)/]],
  ['--init-params not JSON', () => fitK2('--init-params', file('not-json.json')), [/PARSE_ERROR/, /--init-params = ".*not-json\.json": is not valid JSON/]],
  ['--init-params of another model', () => fitK2('--init-params', file('params-bn.json')), [/INVALID_PARAMS/, /--init-params = ".*params-bn\.json": was saved by model "bayesian-network", not "gmm"/]],
  ['--init-params with another K', () => fitK2('--init-params', file('params-k3.json')), [/INVALID_PARAMS/, /--init-params = ".*params-k3\.json": params\.weights: must be an array of --components = 2 numbers/]],
  // --weights-column
  ['--weights-column unknown', () => fitK2('--weights-column', 'q'), [/--weights-column = "q": is not a column of .*small\.csv \(columns: x, y, z\)/]],
  ['--weights-column negative', () => ['fit', file('weighted.csv'), '--components', '1', '--weights-column', 'w'], [/--weights-column = "w": data row 3 has weight -1, which is negative/]],
  ['--weights-column missing cell', () => ['fit', file('weight-missing.csv'), '--components', '1', '--weights-column', 'w'], [/--weights-column = "w": data row 2 has no weight/]],
  ['--weights-column all zero', () => ['fit', file('weight-zero.csv'), '--components', '1', '--weights-column', 'w'], [/--weights-column = "w": has only zero weights/]],
  ['--weights-column the only column', () => ['fit', file('one-column.csv'), '--components', '1', '--weights-column', 'w'], [/--weights-column = "w": is the only column/]],
  ['--weights-column with a custom reader: a bad weight', () => ['fit', file('bn-weights.csv'), '--model', 'bn', '--network', ASIA, '--weights-column', 'count'], [/PARSE_ERROR/, /--weights-column = "count": .*line 3 \(data row 2\), column 2 \("count"\): weight "-1" is not a finite number >= 0/]],
  ['--weights-column with a custom reader: no such column', () => ['fit', file('bn-weights.csv'), '--model', 'bn', '--network', ASIA, '--weights-column', 'n'], [/--weights-column = "n": .*the weights column "n" is not in the header \(smoke, count\)/]],
  // data (CSV)
  ['missing data file', () => ['fit', file('nope.csv'), '--components', '2'], [/IO_ERROR/, /nope\.csv/, /ENOENT/]],
  ['non-numeric cell', () => ['fit', file('nonnumeric.csv'), '--components', '1'], [/PARSE_ERROR/, /line 4, column 2 \("y"\): cell "abc" is not a number/]],
  ['ragged row', () => ['fit', file('ragged.csv'), '--components', '1'], [/PARSE_ERROR/, /line 3: expected 3 cells/]],
  ['empty file', () => ['fit', file('empty.csv'), '--components', '1'], [/PARSE_ERROR/, /empty/]],
  ['-Infinity cell', () => ['fit', file('minus-inf.csv'), '--components', '1'], [/PARSE_ERROR/, /line 3, column 2 \("y"\): cell "-Infinity" is infinite/]],
  ['overflowing cell', () => ['fit', file('overflow.csv'), '--components', '1'], [/PARSE_ERROR/, /line 3, column 1 \("x"\): cell "1e400" overflows float64/]],
  ['not UTF-8', () => ['fit', file('latin1.csv'), '--components', '1'], [/PARSE_ERROR/, /is not valid UTF-8 \(and has no UTF-16 byte-order mark\)/, /save the file as UTF-8/]],
  ['unterminated quote', () => ['fit', file('unterminated.csv'), '--components', '1'], [/PARSE_ERROR/, /line 2: unterminated quoted cell/]],
  ['a column with no observed value', () => ['fit', file('nocolumn.csv'), '--components', '1'], [/INVALID_DATA/, /nocolumn\.csv, column 2 \("y"\) = 0: the column has no observed value/]],
  // outputs
  ['--out in a missing directory', () => fitK2('--out', file('no/such/dir/r.json')), [/IO_ERROR/, /--out = ".*r\.json": cannot be written: its directory does not exist/]],
  ['--out a directory', () => fitK2('--out', file('a-directory')), [/IO_ERROR/, /--out = ".*a-directory": is a directory, not a file/]],
  // plug-ins
  ['--plugin missing', () => fitK2('--plugin', file('nope.mjs')), [/IO_ERROR/, /--plugin = ".*nope\.mjs": does not exist/]],
  ['--plugin that throws', () => fitK2('--plugin', file('throws.mjs')), [/--plugin = ".*throws\.mjs": could not be loaded \(Error: plug-in failed on purpose\)/]],
  ['a plug-in model whose flag clashes', () => ['fit', small(), '--plugin', file('bad-model.mjs'), '--model', 'clash'], [/--model = "clash": registers option s with the flag --seed, which the command line already uses/]],
  // impute
  ['impute --out missing', () => ['impute', APPLE, '--components', '1'], [/--out: is required/]],
  ['impute --imputations 0', () => ['impute', APPLE, '--components', '1', '--imputations', '0', '--out', file('i.csv')], [/--imputations = "0": must be an integer in \[1, 10000\]/]],
  ['impute --imputations too many', () => ['impute', APPLE, '--components', '1', '--imputations', '20000', '--out', file('i.csv')], [/--imputations = "20000": must be an integer in \[1, 10000\]/]],
  ['impute --draws (was imputations)', () => ['impute', APPLE, '--components', '1', '--draws', '5', '--out', file('i.csv')], [/--draws = "5": applies to sampling E-steps only.*Remedy: for M multiple imputations pass --imputations M/]],
  ['impute --out equal to --variance', () => ['impute', APPLE, '--components', '1', '--out', file('same.csv'), '--variance', file('same.csv')], [/--variance = ".*same\.csv": names the same file as --out/]],
  ['impute --out equal to the data', () => ['impute', APPLE, '--components', '1', '--out', APPLE], [/--out = ".*apple_littlerubin\.csv": names the same file as <data\.csv>/]],
  ['impute --variance in a missing directory', () => ['impute', APPLE, '--components', '1', '--out', file('i.csv'), '--variance', file('no/v.csv')], [/IO_ERROR/, /--variance = /]],
  ['impute with a model that cannot impute', () => ['impute', APPLE, '--model', 'bn', '--network', ASIA, '--out', file('i.csv')], [/--model = "bayesian-network": cannot impute missing cells\. Remedy: use a model that imputes: gmm/]],
  // compare and bench
  ['compare --draws without a sampling E-step', () => ['compare', small(), '--components', '2', '--esteps', 'exact,hard', '--draws', '3', '--out', file('c1')], [/--draws = "3": applies to sampling E-steps only, and none of exact, hard samples/]],
  ['compare --estep-option no method has', () => ['compare', small(), '--components', '2', '--esteps', 'exact,hard', '--estep-option', 'nDraws=3', '--out', file('c1')], [/--estep-option nDraws = "3": nDraws is not an option of any listed method \(exact, hard\)/]],
  ['compare gradient on missing cells', () => ['compare', APPLE, '--components', '1', '--esteps', 'exact,gradient', '--out', file('c1')], [/--esteps gradient: cannot run on this data/]],
  ['compare --esteps twice', () => ['compare', small(), '--components', '2', '--esteps', 'exact,exact', '--out', file('c1')], [/--esteps = "exact,exact": lists "exact" twice/]],
  ['compare --esteps unknown', () => ['compare', small(), '--components', '2', '--esteps', 'exact,gibbs', '--out', file('c1')], [/--esteps = "gibbs": no method registered/]],
  ['compare --out an existing file', () => ['compare', small(), '--components', '2', '--out', file('existing-file')], [/--out = ".*existing-file": names an existing file, not a directory/]],
  ['compare a model with its own data reader', () => ['compare', small(), '--model', 'bn', '--network', ASIA, '--out', file('c1')], [/--model = "bayesian-network": reads its own data files, and compare reads one numeric CSV/]],
  ['compare --held-out 1', () => ['compare', small(), '--components', '2', '--held-out', '1', '--out', file('c1')], [/--held-out = "1": must be a number in \[0, 0\.9\]/]],
  ['bench --out an existing file', () => ['bench', file('suite.json'), '--out', file('existing-file')], [/--out = ".*existing-file": names an existing file, not a directory/]],
  ['bench --out missing', () => ['bench', file('suite.json')], [/--out: is required/]],
  ['bench --workers 0', () => ['bench', file('suite.json'), '--out', file('b'), '--workers', '0'], [/--workers = "0": must be an integer >= 1/]],
  ['bench without a suite', () => ['bench', '--out', file('b')], [/<suite\.json>: is missing/]],
  ['bench with a missing suite file', () => ['bench', file('nope.json'), '--out', file('b')], [/IO_ERROR/, /nope\.json/]],
  ['compare --model hmm (reads sequences)', () => ['compare', small(), '--model', 'hmm', '--out', file('c1')], [/--model = "hmm": reads its own data files, and compare reads one numeric CSV/]],
  // bn
  ['bn sample --n 1e12', () => ['bn', 'sample', ASIA, '--n', '1e12'], [/--n = "1e12": would need 1000000000000 rows × 8 nodes = 8\.00e\+12 cells, beyond the limit/]],
  ['bn sample hiding every node', () => ['bn', 'sample', ASIA, '--n', '10', '--hide', 'asia,tub,smoke,lung,bronc,either,xray,dysp'], [/--hide = .*: hides every node/]],
  ['bn sample --n missing', () => ['bn', 'sample', ASIA], [/--n: is required/]],
  ['bn fit --pseudo-count -1', () => ['bn', 'fit', ASIA, small(), '--out', file('x.bif'), '--pseudo-count', '-1'], [/--pseudo-count = "-1": must be a finite number >= 0/]],
  ['bn fit --out with another extension', () => ['bn', 'fit', ASIA, small(), '--out', file('x.txt')], [/--out = ".*x\.txt": has an unknown network file extension/]],
  ['bn fit --weights-column: a bad weight', () => ['bn', 'fit', ASIA, file('bn-weights.csv'), '--out', file('x.bif'), '--weights-column', 'count'], [/--weights-column = "count": .*weight "-1"/]],
  ['bn fit --record-params (not a bn fit flag)', () => ['bn', 'fit', ASIA, small(), '--out', file('x.bif'), '--record-params'], [/--record-params: is not a flag of emlab bn fit/]],
  ['bn fit on a table with every cell missing', () => ['bn', 'fit', ASIA, file('bn-all-missing.csv'), '--out', file('x.bif')], [/INVALID_DATA/, /bn-all-missing\.csv = "2 rows": has no observed cell: every value is missing/]],
  ['bn query --target missing', () => ['bn', 'query', ASIA], [/--target: is required/]],
  // listings and demo
  ['models --bogus', () => ['models', '--bogus'], [/--bogus: is not a flag of emlab models/]],
  ['esteps with an argument', () => ['esteps', 'x'], [/unexpected extra arguments/]],
  ['demo --dataset nope', () => ['demo', '--dataset', 'nope'], [/--dataset = "nope": is not a built-in data set/]],
];

describe('user errors: exit 2, one line naming the flag, the value and a remedy', () => {
  it.each(CASES.map(([name, args, patterns]) => [name, args, patterns] as const))('%s', async (_name, args, patterns) => {
    expectFlagError(await cli(args()), ...patterns);
  });
});

describe('the same flag means the same thing everywhere', () => {
  it('--components, --tol, --max-iter, --seed and --draws give the same messages in fit, impute and compare', async () => {
    const bad = ['--components', '0'];
    const [f, i, c] = await Promise.all([
      cli(['fit', APPLE, ...bad]),
      cli(['impute', APPLE, ...bad, '--out', file('i.csv')]),
      cli(['compare', APPLE, ...bad, '--out', file('c')]),
    ]);
    for (const r of [f, i, c]) expectFlagError(r, /--components = "0": must be an integer >= 1/);
    const tol = await Promise.all(['fit', 'impute', 'compare'].map((cmd) => cli([cmd, APPLE, '--components', '1', '--tol', '-2', '--out', file('o')])));
    for (const r of tol) expectFlagError(r, /--tol = "-2": must be a number >= 0/);
  });

  it('--model defaults to gmm in fit, impute and compare', async () => {
    const rs = await Promise.all(['fit', 'impute', 'compare'].map((cmd) => cli([cmd, APPLE, '--out', file('o')])));
    for (const r of rs) expectFlagError(r, /--components: is required by --model gmm/);
  });
});
