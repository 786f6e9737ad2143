/**
 * `npm run lint` keeps ESLint's cache under a key of the whole tree (scripts/lint.ts,
 * scripts/lib/lint-cache.ts). Checked on a small git project made here, with typescript-eslint's
 * type-aware `no-floating-promises`, in the scenario of typescript-eslint issue #4694 (repro:
 * benjaminjkraft/typescript-eslint-caching-issue): a callee turns async, its unchanged caller's
 * unawaited call becomes an error. ESLint's per-file cache misses it; the keyed cache must not.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gitVisibleFiles } from '../fixtures/core/work-tree.ts';
import { LINT_CACHE_DIR, leafFiles, lintCacheKey } from '../scripts/lib/lint-cache.ts';
import { describeOutput, runChild, runChildOk } from './support/child.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LINT = join(ROOT, 'scripts/lint.ts');
const ESLINT = join(ROOT, 'node_modules/eslint/bin/eslint.js');
const dir = mkdtempSync(join(tmpdir(), 'obs-lint-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SYNC_CALLEE = 'export function save(): void {}\n';
const ASYNC_CALLEE = 'export async function save(): Promise<void> {}\n';

function project(at: string): void {
  mkdirSync(at, { recursive: true });
  // Outside the repository bare package names do not resolve: typescript-eslint by path.
  const tseslint = join(ROOT, 'node_modules/typescript-eslint/dist/index.js');
  writeFileSync(
    join(at, 'eslint.config.mjs'),
    `import tseslint from '${tseslint}';
// A save while ESLint runs, for the test of that race.
if (process.env.LINT_TOUCH) (await import('node:fs')).appendFileSync(process.env.LINT_TOUCH, 'saved while linting\\n');
export default tseslint.config({
  files: ['**/*.ts'],
  languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  plugins: { '@typescript-eslint': tseslint.plugin },
  rules: { '@typescript-eslint/no-floating-promises': 'error' },
});\n`,
  );
  writeFileSync(join(at, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', target: 'ES2022', noEmit: true, types: [] }, include: ['*.ts'] }));
  writeFileSync(join(at, '.gitignore'), 'node_modules/\nignored.*\n');
  writeFileSync(join(at, 'callee.ts'), SYNC_CALLEE);
  writeFileSync(join(at, 'caller.ts'), "import { save } from './callee.js';\nexport function run(): void {\n  save();\n}\n");
}

const git = (at: string, ...args: string[]) => runChildOk('git', ['-c', 'user.email=selftest@example.invalid', '-c', 'user.name=selftest', ...args], { cwd: at });
const lint = (at: string, ...args: string[]) => runChild(process.execPath, [LINT, ...args], { cwd: at });

void describe('npm run lint: ESLint cache under a key of the whole tree', () => {
  const repo = join(dir, 'repo');
  before(async () => {
    project(repo);
    await git(repo, 'init', '-q');
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-q', '-m', 'sync callee');
  });

  void it('the same tree again is served from the cache; a callee turned async fails its unchanged caller, which ESLint’s per-file cache passes', async () => {
    const first = await lint(repo);
    assert.equal(first.code, 0, `the sync version lints clean\n${describeOutput(first)}`);
    const again = await lint(repo, '--debug');
    assert.equal(again.code, 0, describeOutput(again));
    // ESLint's own words (lib/eslint/eslint-helpers.js) for a file its cache answers.
    const skipped = [...again.stderr.matchAll(/Skipping file since it hasn't changed: (\S+)/g)].map((m) => m[1]?.split('/').pop()).sort();
    assert.deepEqual(skipped, ['callee.ts', 'caller.ts', 'eslint.config.mjs'], `the unchanged tree was linted again\n${describeOutput(again)}`);
    const [cacheFile] = readdirSync(join(repo, LINT_CACHE_DIR));
    assert.equal(cacheFile, `${lintCacheKey(repo)}.json`, 'the cache is named by the key of the tree');
    const sameTree = join(dir, 'cache-of-the-sync-tree.json');
    copyFileSync(join(repo, LINT_CACHE_DIR, cacheFile), sameTree);

    writeFileSync(join(repo, 'callee.ts'), ASYNC_CALLEE);
    const edited = await lint(repo);
    assert.equal(edited.code, 1, `the keyed cache reused the caller's clean result after its callee turned async\n${describeOutput(edited)}`);
    assert.match(edited.stdout, /caller\.ts[\s\S]*no-floating-promises/);

    // The control: the same edit under ESLint's per-file cache of the old tree goes unnoticed, so this scenario is the one that matters.
    const plain = await runChild(process.execPath, [ESLINT, '--cache', '--cache-strategy', 'content', '--cache-location', sameTree], { cwd: repo });
    assert.equal(plain.code, 0, `ESLint's per-file cache was expected to miss the caller (issue #4694); if it no longer does, this control is moot\n${describeOutput(plain)}`);

    // The edit undone: the earlier tree is back, and so is its cache.
    writeFileSync(join(repo, 'callee.ts'), SYNC_CALLEE);
    const undone = await lint(repo, '--debug');
    assert.equal(undone.code, 0, describeOutput(undone));
    assert.equal([...undone.stderr.matchAll(/Skipping file since it hasn't changed/g)].length, 3, `the cache of the earlier tree was not kept\n${describeOutput(undone)}`);
  });

  void it('an edited leaf (a file nothing imports) keeps the key: ESLint re-lints that file alone, and finds what is wrong in it', async () => {
    const clean = await lint(repo);
    assert.equal(clean.code, 0, describeOutput(clean));
    const key = lintCacheKey(repo);
    assert.ok(leafFiles(repo, ['callee.ts', 'caller.ts']).has('caller.ts'), 'nothing names caller.ts');
    writeFileSync(join(repo, 'caller.ts'), "import { save } from './callee.js';\nexport async function run(): Promise<void> {\n  await Promise.resolve();\n  save();\n  void Promise.reject(new Error('x'));\n  Promise.resolve(1);\n}\n");
    assert.equal(lintCacheKey(repo), key, 'a leaf’s content is no input of the key');
    const edited = await lint(repo, '--debug');
    assert.equal(edited.code, 1, `the edited leaf was not linted again\n${describeOutput(edited)}`);
    assert.match(edited.stdout, /caller\.ts[\s\S]*no-floating-promises/);
    const skipped = [...edited.stderr.matchAll(/Skipping file since it hasn't changed: (\S+)/g)].map((m) => m[1]?.split('/').pop()).sort();
    assert.deepEqual(skipped, ['callee.ts', 'eslint.config.mjs'], 'only the edited leaf is linted again');
    writeFileSync(join(repo, 'caller.ts'), "import { save } from './callee.js';\nexport function run(): void {\n  save();\n}\n");
  });

  void it('a file saved while ESLint runs drops the cache written under the key of the tree before it', async () => {
    const before = lintCacheKey(repo);
    const touched = join(repo, 'saved-during-lint.md');
    const r = await runChild(process.execPath, [LINT], { cwd: repo, env: { ...process.env, LINT_TOUCH: touched } });
    assert.equal(r.code, 0, describeOutput(r));
    assert.notEqual(lintCacheKey(repo), before, 'the save changed the tree');
    assert.equal(existsSync(join(repo, LINT_CACHE_DIR, `${before}.json`)), false, 'a clean result was kept under the key of a tree ESLint did not see');
    rmSync(touched);
  });

  void it('a leaf is a TypeScript module that nothing names and that declares nothing for other files', () => {
    const at = join(dir, 'leaves');
    mkdirSync(at);
    const files: Record<string, string> = {
      'lone.ts': 'export const a = 1;\n',
      'named.ts': 'export const b = 1;\n',
      'namer.ts': '// see named.ts\nexport const c = 1;\n',
      'global.ts': 'export {};\ndeclare global {\n  var leaked: string;\n}\n',
      'commented.ts': 'export {};\ndeclare /* ambient */ global {\n  function qqxSave(): void;\n}\n',
      'referenced.ts': '/// <reference types="node" />\nexport const e = 1;\n',
      'script.ts': 'const notAModule = 1;\n',
      'index.ts': 'export const d = 1;\n',
      'types.d.ts': 'export type T = string;\n',
      'tool.config.ts': 'export default {};\n',
      'plain.mjs': 'export const f = 1;\n',
      'notes.md': 'lone.ts is mentioned here, but a document imports nothing\n',
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(at, name), text);
    assert.deepEqual([...leafFiles(at, Object.keys(files))].sort(), ['lone.ts', 'namer.ts']);

    // What could import a file without spelling its name turns leaves off altogether.
    // Written in two pieces: this file's own text must not hold an escaped specifier, or this repository would have no leaves.
    writeFileSync(join(at, 'escaped.ts'), "import { a } from './" + '\\u006cone.ts' + "';\nexport const g = a;\n");
    assert.deepEqual([...leafFiles(at, [...Object.keys(files), 'escaped.ts'])], [], 'an escape in an import specifier');
    assert.ok([...leafFiles(ROOT, gitVisibleFiles(ROOT) ?? [])].some((f) => f.startsWith('test/')), 'this repository has leaves among its tests');
    for (const [file, json] of [
      ['package.json', { imports: { '#saver': './lone.ts' } }],
      ['package.json', { name: 'x', exports: { './lone': './lone.ts' } }],
      ['tsconfig.json', { compilerOptions: { paths: { '@/*': ['./*'] } } }],
      ['tsconfig.json', { compilerOptions: { baseUrl: '.' } }],
    ] as const) {
      writeFileSync(join(at, file), JSON.stringify(json));
      assert.deepEqual([...leafFiles(at, Object.keys(files))], [], `${file} ${JSON.stringify(json)}`);
      rmSync(join(at, file));
    }
  });

  void it('the key follows every file git sees, code git ignores, the installed packages and which files are leaves', () => {
    const keyOf = () => lintCacheKey(repo);
    const base = keyOf();
    assert.match(base ?? '', /^[0-9a-f]{64}$/);
    writeFileSync(join(repo, 'ignored.log'), 'what a run leaves behind\n');
    assert.equal(keyOf(), base, 'a file git ignores that is not code is no input');
    // ESLint lints it and TypeScript's include takes types from it, whatever git says.
    writeFileSync(join(repo, 'ignored.ts'), 'export const x = 1;\n');
    const withIgnoredCode = keyOf();
    assert.notEqual(withIgnoredCode, base, 'code git ignores is an input');
    writeFileSync(join(repo, 'ignored.ts'), 'export const x = 2;\n');
    assert.notEqual(keyOf(), withIgnoredCode, 'the content of code git ignores is an input');
    rmSync(join(repo, 'ignored.ts'));
    assert.equal(keyOf(), base);
    // caller.ts stops importing callee.ts: callee.ts becomes a leaf, and its content leaves the key.
    writeFileSync(join(repo, 'caller.ts'), 'export function run(): void {}\n');
    assert.ok(leafFiles(repo, ['callee.ts', 'caller.ts']).has('callee.ts'));
    const calleeALeaf = keyOf();
    assert.notEqual(calleeALeaf, base, 'a file that becomes a leaf changes the key');
    writeFileSync(join(repo, 'callee.ts'), ASYNC_CALLEE);
    assert.equal(keyOf(), calleeALeaf, 'a leaf’s content is no input');
    writeFileSync(join(repo, 'callee.ts'), SYNC_CALLEE);
    writeFileSync(join(repo, 'caller.ts'), "import { save } from './callee.js';\nexport function run(): void {\n  save();\n}\n");
    assert.equal(keyOf(), base);
    writeFileSync(join(repo, 'notes.md'), 'new, untracked, not ignored\n');
    const withUntracked = keyOf();
    assert.notEqual(withUntracked, base, 'an untracked file that is not ignored is an input');
    writeFileSync(join(repo, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: false }, include: ['*.ts'] }));
    const withConfig = keyOf();
    assert.notEqual(withConfig, withUntracked, 'a tracked file’s content is an input');
    mkdirSync(join(repo, 'node_modules'), { recursive: true });
    writeFileSync(join(repo, 'node_modules/.package-lock.json'), '{"packages":{}}\n');
    assert.notEqual(keyOf(), withConfig, 'the installed packages are an input');
    rmSync(join(repo, 'notes.md'));
  });

  void it('outside a git work tree there is no key, and lint runs without a cache and says so', async () => {
    // A project without type-aware rules: what is checked here is the script's fallback, not ESLint.
    const plain = join(dir, 'no-git');
    mkdirSync(plain);
    writeFileSync(join(plain, 'eslint.config.mjs'), "export default [{ files: ['**/*.js'], rules: { 'no-unused-vars': 'error' } }];\n");
    writeFileSync(join(plain, 'a.js'), 'const unused = 1;\n');
    assert.equal(lintCacheKey(plain), undefined);
    // GIT_CEILING_DIRECTORIES: git must not find a repository above the temporary folder.
    const r = await runChild(process.execPath, [LINT], { cwd: plain, env: { ...process.env, GIT_CEILING_DIRECTORIES: dir } });
    assert.equal(r.code, 1, `ESLint ran and its verdict is the exit status\n${describeOutput(r)}`);
    assert.match(r.stdout, /a\.js[\s\S]*no-unused-vars/);
    assert.match(r.stderr, /not in a git work tree .*without its cache/);
    assert.equal(existsSync(join(plain, LINT_CACHE_DIR)), false);
  });
});
