/**
 * The full test list the sign-off compares a run with (reporters/inventory.ts): listed by a
 * real `playwright test --list` child, kept in a cache keyed by the files of the config's git
 * work tree, and listed anew after any edit; a spec that does not load is an error, never an
 * empty list (which would call a filtered run full). Synthetic specs in a temporary git
 * repository, no browser, no cluster.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fullSuiteKey, listFullSuite, type FullSuiteList } from '../reporters/inventory.ts';
import { runChildOk } from './support/child.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'obs-inventory-'));
after(() => rmSync(work, { recursive: true, force: true }));

// Outside the repository a bare '@playwright/test' does not resolve: import it by path.
const playwright = join(root, 'node_modules/@playwright/test/index.mjs');
const spec = (titles: string[], extra = '') => `import { test } from '${playwright}';\n${titles.map((t) => `test('${t}', { tag: '@OBS-03' }, async () => {});`).join('\n')}\n${extra}`;

/** A git work tree with a config (one project) and one spec file; `git` is true unless asked otherwise. */
async function suite(name: string, git = true): Promise<{ dir: string; config: { configFile: string; rootDir: string }; cacheDir: string }> {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'playwright.config.mjs'), `export default { testDir: '.', outputDir: './test-results', projects: [{ name: 'api', testMatch: /.*\\.spec\\.mjs/ }] };\n`);
  writeFileSync(join(dir, 'a.spec.mjs'), spec(['one', 'two']));
  writeFileSync(join(dir, '.gitignore'), 'test-results/\n.cache/\n');
  if (git) await runChildOk('git', ['init', '-q'], { cwd: dir });
  return { dir, config: { configFile: join(dir, 'playwright.config.mjs'), rootDir: dir }, cacheDir: join(dir, '.cache', 'list') };
}

const list = async (s: Awaited<ReturnType<typeof suite>>): Promise<FullSuiteList> => {
  const r = await listFullSuite(s.config, { cacheDir: s.cacheDir }).result;
  if ('error' in r) assert.fail(r.error);
  return r;
};
const titles = (r: FullSuiteList) => r.tests.map((t) => t.title).sort();

void describe('the full suite list and its cache (real playwright test --list)', () => {
  let s: Awaited<ReturnType<typeof suite>>;
  before(async () => {
    s = await suite('cached');
  });

  void it('is listed the first time, then read from the cache while no file changes', async () => {
    const first = await list(s);
    assert.deepEqual([first.from, titles(first)], ['listing', ['one', 'two']]);
    assert.match(first.tests[0]?.location ?? '', /^a\.spec\.mjs:2$/);
    const again = await list(s);
    assert.deepEqual([again.from, again.tests], ['cache', first.tests]);
  });

  void it('an edited spec is listed anew, with its new test', async () => {
    writeFileSync(join(s.dir, 'a.spec.mjs'), spec(['one', 'two', 'three']));
    const edited = await list(s);
    assert.deepEqual([edited.from, titles(edited)], ['listing', ['one', 'three', 'two']]);
    assert.equal((await list(s)).from, 'cache');
  });

  void it('a new untracked spec or an edited config changes the key; what a run writes into ignored folders does not', async () => {
    const k = await suite('key');
    const key0 = fullSuiteKey(k.config);
    assert.match(key0 ?? '', /^[0-9a-f]{64}$/);
    // Results, reports and the cache itself are ignored by git.
    mkdirSync(join(k.dir, 'test-results'), { recursive: true });
    writeFileSync(join(k.dir, 'test-results', '.last-run.json'), '{"status":"failed"}');
    mkdirSync(k.cacheDir, { recursive: true });
    writeFileSync(join(k.cacheDir, 'full-suite-list.json'), '{}');
    assert.equal(fullSuiteKey(k.config), key0);
    writeFileSync(join(k.dir, 'b.spec.mjs'), spec(['four']));
    const key1 = fullSuiteKey(k.config);
    assert.notEqual(key1, key0);
    // The same tests, another project name: only the config changed.
    writeFileSync(join(k.dir, 'playwright.config.mjs'), `export default { testDir: '.', projects: [{ name: 'renamed', testMatch: /.*\\.spec\\.mjs/ }] };\n`);
    assert.notEqual(fullSuiteKey(k.config), key1);
  });

  void it('a spec git ignores is still a spec: it changes the key, and the list has its test', async () => {
    const ig = await suite('ignored');
    writeFileSync(join(ig.dir, '.gitignore'), 'test-results/\n.cache/\nlocal.spec.mjs\n');
    assert.equal((await list(ig)).from, 'listing');
    assert.equal((await list(ig)).from, 'cache');
    // Only the ignored spec is new: git does not see it.
    writeFileSync(join(ig.dir, 'local.spec.mjs'), spec(['five']));
    const again = await list(ig);
    assert.deepEqual([again.from, titles(again)], ['listing', ['five', 'one', 'two']]);
  });

  void it('a spec that does not load is an error naming it, not an empty list, and is not cached', async () => {
    const broken = await suite('broken');
    writeFileSync(join(broken.dir, 'b.spec.mjs'), spec(['four'], "throw new Error('b.spec.mjs cannot load');\n"));
    const r = await listFullSuite(broken.config, { cacheDir: broken.cacheDir }).result;
    assert.ok('error' in r, JSON.stringify(r));
    assert.match(r.error, /could not load it: Error: b\.spec\.mjs cannot load/);
    assert.equal(existsSync(join(broken.cacheDir, 'full-suite-list.json')), false);
  });

  void it('outside a git work tree there is no key: the suite is listed and nothing is cached', async () => {
    const plain = await suite('no-git', false);
    assert.equal(fullSuiteKey(plain.config), undefined);
    assert.equal((await list(plain)).from, 'listing');
    assert.equal(existsSync(join(plain.cacheDir, 'full-suite-list.json')), false);
  });
});
