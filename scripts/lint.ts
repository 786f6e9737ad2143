/**
 * `npm run lint [-- <ESLint arguments>]`
 *
 * ESLint on the repository (ESLint 9 lints `.` when no files are given), no warnings allowed,
 * with ESLint's own cache (content strategy) in `node_modules/.cache/obs-acceptance/eslint/<key>.json`
 * (the last five trees' caches are kept).
 * The key is a digest of the work tree, the installed packages and Node's version; the content
 * of a leaf (a test, spec or script that no other file imports) is left out of it, since no
 * other file's result depends on it (scripts/lib/lint-cache.ts says why a per-file cache alone
 * is not enough with type-aware rules). Measured on this 2-core machine: the same tree again
 * re-lints nothing (about 1 CPU-second instead of about 19); an edited test re-lints that test
 * (about 5); any other edit is a full lint. Outside a git work tree ESLint runs without a
 * cache. Exit status: ESLint's.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LINT_CACHE_DIR as CACHE_DIR, lintCacheKey } from './lib/lint-cache.ts';

const ESLINT = resolve(import.meta.dirname, '../node_modules/eslint/bin/eslint.js');

/** How many trees' caches are kept (each about 0.1 MB here). */
const KEEP_TREES = 5;

const dir = process.cwd();
const args = process.argv.slice(2);
const key = lintCacheKey(dir, [CACHE_DIR]);
const cache: string[] = [];
if (key) {
  const folder = join(dir, CACHE_DIR);
  mkdirSync(folder, { recursive: true });
  const file = `${key}.json`;
  // The caches of the last few trees are kept: an edit undone, or a branch checked out again,
  // brings an earlier tree back, and its cache with it. ESLint rewrites the file it uses.
  const others = readdirSync(folder)
    .filter((f) => f !== file)
    .map((f) => ({ f, at: statSync(join(folder, f)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const { f } of others.slice(KEEP_TREES - 1)) rmSync(join(folder, f), { force: true });
  cache.push('--cache', '--cache-strategy', 'content', '--cache-location', join(folder, file));
} else {
  console.error('lint: not in a git work tree (or git did not run): ESLint runs without its cache.');
}
const result = spawnSync(process.execPath, [ESLINT, '--max-warnings=0', ...cache, ...args], { stdio: 'inherit', cwd: dir });
if (result.error) {
  console.error(`lint: could not run ESLint (${ESLINT}): ${result.error.message}`);
  process.exit(2);
}
process.exit(result.status ?? 1);
