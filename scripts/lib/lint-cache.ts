/**
 * The key under which `npm run lint` keeps ESLint's cache: a digest of everything a lint result
 * can depend on, so that a cached result is reused only for the very tree it was made for.
 *
 * Why a key over the whole tree: ESLint's cache re-lints a file only when that file changed,
 * but typescript-eslint's type-aware rules judge a file by the types of what it imports too. A
 * function that starts returning a promise makes its callers' unawaited calls
 * `no-floating-promises` errors, and a per-file cache keeps passing them (typescript-eslint
 * issue #4694; repro: benjaminjkraft/typescript-eslint-caching-issue). With the cache file named
 * by this key, any change to any input starts an empty cache, which is a full lint; with no
 * change ESLint finds every file as it left it and re-lints nothing.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Where `npm run lint` keeps ESLint's cache, relative to the repository: one file, `<key>.json`. */
export const LINT_CACHE_DIR = 'node_modules/.cache/obs-acceptance/eslint';

/** What the key was made of: `files` paths relative to `dir`, in the order they were hashed. */
export interface LintCacheKey {
  /** Hex SHA-256, 64 characters. */
  key: string;
  files: string[];
}

/**
 * The key for linting the git work tree at `dir`. Inputs: the path and content of every file
 * git sees there (tracked, or untracked and not ignored: `git ls-files --cached --others
 * --exclude-standard`; a tracked file deleted from the work tree counts as absent), npm's record
 * of the installed packages (`node_modules/.package-lock.json`, written by `npm ci`/`npm
 * install`: type declarations and ESLint's plugins live there) and Node's version. Files under
 * `exclude` (paths relative to `dir`, e.g. the cache folder itself) are left out.
 *
 * Returns undefined when `dir` is not in a git work tree or git cannot be run: the caller then
 * lints without a cache. Throws nothing else.
 */
export function lintCacheKey(dir: string, exclude: string[] = []): LintCacheKey | undefined {
  let listed: string;
  try {
    listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
  } catch {
    return undefined;
  }
  const hash = createHash('sha256');
  hash.update(`node ${process.version}\0`);
  const files = [...new Set(listed.split('\0').filter(Boolean))].filter((f) => !exclude.some((e) => f === e || f.startsWith(`${e}/`))).sort();
  const hashed: string[] = [];
  for (const file of [...files, 'node_modules/.package-lock.json']) {
    const path = join(dir, file);
    let content: Buffer;
    try {
      if (!statSync(path).isFile()) continue;
      content = readFileSync(path);
    } catch {
      // Deleted from the work tree but still in the index: absent, and so part of the key as absent.
      hash.update(`absent ${file}\0`);
      continue;
    }
    hash.update(`file ${file} ${content.length}\0`);
    hash.update(content);
    hashed.push(file);
  }
  return { key: hash.digest('hex'), files: hashed };
}
