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
import { digestOfFiles, filesOnDisk, gitVisibleFiles } from '../../fixtures/core/work-tree.ts';

/** Where `npm run lint` keeps ESLint's caches, relative to the repository: one file per tree, `<key>.json`. */
export const LINT_CACHE_DIR = 'node_modules/.cache/obs-acceptance/eslint';

/** Files ESLint or TypeScript could load as code. */
const CODE = /\.(?:[cm]?[jt]sx?|svelte)$/;
/** Only TypeScript sources can be leaves: a JavaScript file may be a tool's config (ESLint's, Vite's) that shapes every result. */
const LEAF_KIND = /\.[cm]?tsx?$/;
/** Never leaves: a tool's config (`*.config.ts`), a declaration file, an `index` (imported by its folder's name). */
const CONFIG_NAME = /(?:^|\.)config\.[cm]?[jt]sx?$|\.d\.[cm]?ts$|^index\./;
/** Content that may declare types for other files than its own (`declare global`, even with a comment inside; a triple-slash reference): never a leaf. */
const DECLARES_FOR_OTHERS = /\bdeclare\b|\/\/\/\s*<reference\b/;
/** An ES module: it has an import or export statement, so its declarations are its own. */
const MODULE = /^\s*(?:import|export)\b/m;
/** An import or export specifier written with an escape: the file it names cannot be found by its name. */
const ESCAPED_SPECIFIER = /(?:\bfrom|\bimport)\s*\(?\s*['"][^'"\n]*\\/;

/**
 * Whether the project resolves imports by other names than file paths: package.json `imports`
 * or `exports` (subpath imports, self-reference), tsconfig.json `paths`, `baseUrl` or `rootDirs`.
 * Then a file may be imported without being named, and `leafFiles` finds none.
 */
function resolvesByAlias(dir: string): boolean {
  const read = (file: string): Record<string, unknown> => {
    try {
      return JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  const pkg = read('package.json');
  const options = (read('tsconfig.json').compilerOptions ?? {}) as Record<string, unknown>;
  return 'imports' in pkg || 'exports' in pkg || 'paths' in options || 'baseUrl' in options || 'rootDirs' in options;
}

/**
 * The TypeScript files of `files` (paths relative to `dir`) that no other file can take types
 * from, by a conservative reading of the text: an ES module that is not a tool's config, a
 * declaration file or an `index`; with no `declare` and no triple-slash reference; and whose
 * name without its extension (`caller` for `caller.ts`) appears in no other code file. A
 * relative import spells the file's name (`./caller.js`, `./caller.ts`); what could import it
 * without spelling it turns leaves off altogether: an import alias (`resolvesByAlias`) or an
 * escape in an import specifier anywhere. A mere mention (a comment) keeps a file out of this
 * set, which only costs a longer lint. Most test files and specs are leaves.
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
  if (resolvesByAlias(dir) || [...code.values()].some((text) => ESCAPED_SPECIFIER.test(text))) return leaves;
  for (const [f, text] of code) {
    const name = basename(f);
    if (!LEAF_KIND.test(name) || CONFIG_NAME.test(name) || !MODULE.test(text) || DECLARES_FOR_OTHERS.test(text)) continue;
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
 * not ignored) except the leaves (`leafFiles`), of every code file git ignores (outside
 * `node_modules`), npm's record of the installed packages (`node_modules/.package-lock.json`,
 * written by `npm ci`/`npm install`: type declarations and ESLint's plugins live there) and
 * Node's version. Not an input: hand edits inside `node_modules` that npm did not record.
 *
 * A leaf's content is no input because no other file's result depends on it, and its own
 * result is ESLint's cache's business: the content strategy re-lints a file whose content
 * changed. So editing a leaf re-lints that file alone; any other edit (a fixture, the README, a
 * manifest) lints everything. A file that stops being a leaf brings its content into the key;
 * a leaf added or removed is ESLint's cache's business too (it lints what it has no entry for).
 *
 * Returns undefined when `dir` is not in a git work tree or git cannot be run: the caller then
 * lints without a cache. Throws nothing else.
 */
export function lintCacheKey(dir: string): string | undefined {
  const files = gitVisibleFiles(dir);
  if (!files) return undefined;
  const leaves = leafFiles(dir, files);
  // Code git ignores still counts: ESLint may lint it and tsconfig's `include` may take types from it.
  const visible = new Set(files);
  const ignoredCode = filesOnDisk(dir, (name) => CODE.test(name), (name) => name === 'node_modules' || name === '.git').filter((f) => !visible.has(f));
  const inputs = [...files.filter((f) => !leaves.has(f)), ...ignoredCode];
  return digestOfFiles(dir, [...inputs, 'node_modules/.package-lock.json'], `obs-acceptance lint cache 3\0node ${process.version}`);
}
