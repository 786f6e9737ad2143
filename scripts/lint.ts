/**
 * `npm run lint [-- <ESLint arguments>]`
 *
 * ESLint on the repository (ESLint 9 lints `.` when no files are given), no warnings allowed,
 * with ESLint's own cache (content strategy) in `node_modules/.cache/obs-acceptance/eslint/<key>.json`.
 * The key is a digest of the work tree, the installed packages and Node's version; the content
 * of a leaf (a test, spec or script that no other file imports) is left out of it, since no
 * other file's result depends on it (scripts/lib/lint-cache.ts says why a per-file cache alone
 * is not enough with type-aware rules). Measured on this 2-core machine: the same tree again
 * re-lints nothing (about 1 CPU-second instead of about 19); an edited test re-lints that test
 * (about 5); any other edit is a full lint. Outside a git work tree ESLint runs without a
 * cache. Exit status: ESLint's.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LINT_CACHE_DIR as CACHE_DIR, lintCacheKey } from './lib/lint-cache.ts';

const ESLINT = resolve(import.meta.dirname, '../node_modules/eslint/bin/eslint.js');

const dir = process.cwd();
const args = process.argv.slice(2);
const key = lintCacheKey(dir, [CACHE_DIR]);
const cache: string[] = [];
if (key) {
  const folder = join(dir, CACHE_DIR);
  mkdirSync(folder, { recursive: true });
  const file = `${key}.json`;
  // Only the cache of the tree as it is now can ever be used again.
  for (const old of readdirSync(folder)) if (old !== file) rmSync(join(folder, old), { force: true });
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
