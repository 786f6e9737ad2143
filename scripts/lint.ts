/**
 * `npm run lint [-- <ESLint arguments>]`
 *
 * ESLint on the repository (ESLint 9 lints `.` when no files are given), no warnings allowed,
 * with ESLint's own cache (content strategy) in `LINT_CACHE_DIR/<key>.json`, where the key is a
 * digest of the work tree, the installed packages and Node's version with the content of leaves
 * (files no other file imports) left out (scripts/lib/lint-cache.ts says why a per-file cache
 * alone is not enough with type-aware rules, and what a leaf is). The same tree again re-lints
 * nothing, an edited leaf re-lints that file, any other edit is a full lint; the README has the
 * figures. The caches of the last five trees are kept. A cache written while files changed
 * under ESLint is dropped. Outside a git work tree ESLint runs without a cache. Exit status:
 * ESLint's.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LINT_CACHE_DIR, lintCacheKey } from './lib/lint-cache.ts';

const ESLINT = resolve(import.meta.dirname, '../node_modules/eslint/bin/eslint.js');
/** How many trees' caches are kept (each about 0.1 MB here). */
const KEEP_TREES = 5;

const dir = process.cwd();
const args = process.argv.slice(2);
const key = lintCacheKey(dir);
const folder = join(dir, LINT_CACHE_DIR);
const cacheFile = key ? join(folder, `${key}.json`) : undefined;
const cache: string[] = [];
if (cacheFile) {
  mkdirSync(folder, { recursive: true });
  // The caches of the last few trees are kept: an edit undone, or a branch checked out again,
  // brings an earlier tree back, and its cache with it. ESLint rewrites the file it uses.
  const others = readdirSync(folder)
    .filter((f) => join(folder, f) !== cacheFile)
    .map((f) => ({ f, at: statSync(join(folder, f)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const { f } of others.slice(KEEP_TREES - 1)) rmSync(join(folder, f), { force: true });
  cache.push('--cache', '--cache-strategy', 'content', '--cache-location', cacheFile);
} else {
  console.error('lint: not in a git work tree (or git did not run): ESLint runs without its cache.');
}
const result = spawnSync(process.execPath, [ESLINT, '--max-warnings=0', ...cache, ...args], { stdio: 'inherit', cwd: dir });
// A file saved while ESLint ran: what ESLint read is not the tree the key names, and a clean
// result kept under that key could pass that tree later without linting it.
if (cacheFile && lintCacheKey(dir) !== key) rmSync(cacheFile, { force: true });
if (result.error) {
  console.error(`lint: could not run ESLint (${ESLINT}): ${result.error.message}`);
  process.exit(2);
}
process.exit(result.status ?? 1);
