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
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { digestOfFiles, gitVisibleFiles } from '../../fixtures/core/work-tree.ts';

/** Where `npm run lint` keeps ESLint's cache, relative to the repository: one file, `<key>.json`. */
export const LINT_CACHE_DIR = 'node_modules/.cache/obs-acceptance/eslint';

/** Files ESLint or TypeScript could load as code. */
const CODE = /\.(?:[cm]?[jt]sx?|svelte)$/;
/** Content that declares types for other files than its own: such a file is never a leaf. */
const DECLARES_FOR_OTHERS = /\bdeclare\s+(?:global|module|namespace)\b|\/\/\/\s*<reference\b/;
/** An ES module: it has an import or export statement, so its declarations are its own. */
const MODULE = /^\s*(?:import|export)\b/m;

/**
 * The code files of `files` (paths relative to `dir`) that no other file can take types from:
 * an ES module, not a declaration file or an `index`, declaring nothing global, and whose name
 * without its extension (`caller` for `caller.ts`) appears in no other code file. An import
 * names the file it imports (`./caller.js`, `./caller.ts`), so a file named nowhere is imported
 * by nothing; a mere mention (a comment) keeps a file out of this set, which only costs a
 * longer lint. Test files, specs and command-line scripts are such leaves, most of the time.
 */
export function leafFiles(dir: string, files: string[]): Set<string> {
  const code = new Map<string, string>();
  for (const f of files) {
    if (!CODE.test(f)) continue;
    try {
      code.set(f, readFileSync(join(dir, f), 'utf8'));
    } catch {
      // Deleted, or not a file: not code to read, and not a leaf.
    }
  }
  const leaves = new Set<string>();
  for (const [f, text] of code) {
    const name = basename(f);
    if (/\.d\.[cm]?ts$/.test(name) || /^index\./.test(name) || !MODULE.test(text) || DECLARES_FOR_OTHERS.test(text)) continue;
    const stem = name.replace(/\.[^.]+$/, '');
    let named = false;
    for (const [other, otherText] of code) {
      if (other !== f && otherText.includes(stem)) {
        named = true;
        break;
      }
    }
    if (!named) leaves.add(f);
  }
  return leaves;
}

/**
 * The key for linting the git work tree at `dir`, as hex SHA-256 (64 characters). Inputs: the
 * path and content of every file git sees there (`gitVisibleFiles`: tracked, or untracked and
 * not ignored) except the leaves (`leafFiles`), npm's record of the installed packages
 * (`node_modules/.package-lock.json`, written by `npm ci`/`npm install`: type declarations and
 * ESLint's plugins live there) and Node's version. Files under `exclude` (paths relative to
 * `dir`, e.g. the cache folder itself) are left out.
 *
 * A leaf's content is no input because no other file's result can depend on it, and its own
 * result is ESLint's cache's business: the content strategy re-lints a file whose content
 * changed. So editing a test re-lints that test alone; editing anything else lints everything.
 * The leaves' paths are inputs: a file that stops or starts being a leaf changes the key.
 *
 * Returns undefined when `dir` is not in a git work tree or git cannot be run: the caller then
 * lints without a cache. Throws nothing else.
 */
export function lintCacheKey(dir: string, exclude: string[] = []): string | undefined {
  const visible = gitVisibleFiles(dir);
  if (!visible) return undefined;
  const files = visible.filter((f) => !exclude.some((e) => f === e || f.startsWith(`${e}/`)));
  const leaves = leafFiles(dir, files);
  const inputs = files.filter((f) => !leaves.has(f));
  return digestOfFiles(dir, [...inputs, 'node_modules/.package-lock.json'], `obs-acceptance lint cache 2\0node ${process.version}\0leaves ${[...leaves].sort().join('\0')}`);
}
