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
import { digestOfFiles, gitVisibleFiles } from '../../fixtures/core/work-tree.ts';

/** Where `npm run lint` keeps ESLint's cache, relative to the repository: one file, `<key>.json`. */
export const LINT_CACHE_DIR = 'node_modules/.cache/obs-acceptance/eslint';

/**
 * The key for linting the git work tree at `dir`, as hex SHA-256 (64 characters). Inputs: the
 * path and content of every file git sees there (`gitVisibleFiles`: tracked, or untracked and
 * not ignored), npm's record of the installed packages (`node_modules/.package-lock.json`,
 * written by `npm ci`/`npm install`: type declarations and ESLint's plugins live there) and
 * Node's version. Files under `exclude` (paths relative to `dir`, e.g. the cache folder itself)
 * are left out.
 *
 * Returns undefined when `dir` is not in a git work tree or git cannot be run: the caller then
 * lints without a cache. Throws nothing else.
 */
export function lintCacheKey(dir: string, exclude: string[] = []): string | undefined {
  const visible = gitVisibleFiles(dir);
  if (!visible) return undefined;
  const files = visible.filter((f) => !exclude.some((e) => f === e || f.startsWith(`${e}/`)));
  return digestOfFiles(dir, [...files, 'node_modules/.package-lock.json'], `obs-acceptance lint cache 1\0node ${process.version}`);
}
