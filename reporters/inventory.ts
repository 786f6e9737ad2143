/**
 * The suite's full test list, as Playwright itself lists it, so the sign-off can tell which
 * tests a run left out. Playwright hands a reporter only the tests that survived every filter
 * (`--grep`, file arguments, `--project`, `--last-failed`, `--only-changed`, `--shard`), and
 * only some of those filters are visible in `FullConfig`; comparing the run's test ids with an
 * unfiltered `playwright test --list` of the same config finds whatever any of them removed.
 *
 * Used in two ways: `listFullSuite` starts that listing as a child process (with this module
 * as its only reporter), and the child prints the tests as one JSON line at its end — or the
 * errors that kept it from listing every file (Playwright then lists no test at all, which must
 * not read as "nothing was left out").
 *
 * The listing is a second Playwright start-up (about 1.2 CPU-seconds for this suite). A config
 * whose test list depends only on its files can keep it in a cache (`cacheDir`), keyed by the
 * content of every file of its git work tree, so that any edit, tracked or not, lists anew.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FullConfig, Reporter, Suite, TestCase, TestError } from '@playwright/test/reporter';
import { digestOfFiles, filesOnDisk, gitVisibleFiles } from '../fixtures/core/work-tree.ts';

/** One test of the suite: Playwright's id (stable for a project, file and title path), where it is, its tags. */
export interface InventoryTest {
  id: string;
  project: string;
  title: string;
  location: string;
  tags: string[];
}

/** The full list, and whether it was listed by this run or read from the cache. */
export interface FullSuiteList {
  tests: InventoryTest[];
  from: 'listing' | 'cache';
}

const MARKER = 'obs-acceptance-inventory:';

/** What a reader calls the test: the title path below the project and file. */
export function titleOf(test: TestCase): string {
  return test.titlePath().slice(3).filter(Boolean).join(' › ') || test.title;
}

/** The tests of a suite as inventory entries; `rootDir` makes locations relative. */
export function inventoryOf(suite: Suite, rootDir?: string): InventoryTest[] {
  return suite.allTests().map((t) => ({
    id: t.id,
    project: t.parent.project()?.name ?? '',
    title: titleOf(t),
    location: `${rootDir ? relative(rootDir, t.location.file) : t.location.file}:${t.location.line}`,
    tags: [...t.tags],
  }));
}

/** Reads the child's output: the one line after the marker, the tests or the errors that stopped the listing. */
export function parseInventory(stdout: string): { tests: InventoryTest[] } | { error: string } | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
  if (!line) return undefined;
  try {
    const parsed = JSON.parse(line.slice(MARKER.length)) as { tests?: unknown; errors?: unknown };
    if (Array.isArray(parsed.errors) && parsed.errors.length) return { error: `playwright test --list of the whole suite could not load it: ${parsed.errors.join('; ').slice(0, 1000)}` };
    return Array.isArray(parsed.tests) ? { tests: parsed.tests as InventoryTest[] } : undefined;
  } catch {
    return undefined;
  }
}

export interface FullSuiteListing {
  /** The full list, or why it could not be read. */
  result: Promise<FullSuiteList | { error: string }>;
  /** Stops the listing (an interrupted run does not wait for it). */
  cancel(): void;
}

export interface ListOptions {
  /** Bounds the listing child, in milliseconds (default 120 000). */
  timeoutMs?: number;
  /**
   * Folder of the cache (created when missing); no cache without it. Only for a config whose test
   * list depends on nothing but its files: the key holds no environment variable.
   */
  cacheDir?: string;
}

/** Version of what the cache holds and how its key is made; a change here lists anew. */
const CACHE_FORMAT = 'obs-acceptance full suite list 1';

/**
 * The cache key of the full list of `config`: the SHA-256 of the config file's path, the
 * Playwright version and the path and content of every file `git ls-files --cached --others
 * --exclude-standard` names under the config's folder (what is tracked, and what is new but not
 * ignored; reports, results and `.cache/` are ignored by .gitignore), plus every test file
 * (`*.spec|test|setup|teardown.[cm][jt]s`) under the test root (`rootDir`), ignored or not, since
 * Playwright loads a spec whatever git thinks. Undefined outside a git
 * work tree or when git fails: then there is no cache, and the suite is listed each time.
 */
export function fullSuiteKey(config: Pick<FullConfig, 'configFile' | 'rootDir'>): string | undefined {
  const dir = config.configFile ? dirname(config.configFile) : config.rootDir;
  const visible = gitVisibleFiles(dir);
  if (!visible) return undefined;
  // Playwright loads what git ignores too: every file under the test root counts, found on disk.
  let underTests: string[];
  try {
    underTests = filesOnDisk(config.rootDir, (name) => TEST_FILE.test(name), (name) => name === 'node_modules' || name.startsWith('.')).map((f) => relative(dir, join(config.rootDir, f)));
  } catch {
    return undefined;
  }
  const require = createRequire(import.meta.url);
  const playwright = (require('@playwright/test/package.json') as { version: string }).version;
  return digestOfFiles(dir, [...visible, ...underTests], `${CACHE_FORMAT}\0${config.configFile ?? dir}\0${playwright}`);
}

/** Names a test file may have: Playwright's default testMatch (spec, test) and this suite's setup/teardown files. */
const TEST_FILE = /\.(spec|test|setup|teardown)\.[cm]?[jt]sx?$/;

const cacheFile = (cacheDir: string) => join(cacheDir, 'full-suite-list.json');

function readCache(cacheDir: string, key: string): InventoryTest[] | undefined {
  try {
    const cached = JSON.parse(readFileSync(cacheFile(cacheDir), 'utf8')) as { key?: unknown; tests?: unknown };
    return cached.key === key && Array.isArray(cached.tests) ? (cached.tests as InventoryTest[]) : undefined;
  } catch {
    return undefined;
  }
}

function writeCache(cacheDir: string, key: string, tests: InventoryTest[]): void {
  try {
    mkdirSync(cacheDir, { recursive: true });
    // Runs may list at the same time: each writes its own file and renames it into place whole.
    const tmp = `${cacheFile(cacheDir)}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ key, tests }));
    renameSync(tmp, cacheFile(cacheDir));
  } catch {
    // A cache that cannot be written only costs the next run a listing.
  }
}

/**
 * The full test list of `config`: from the cache when `options.cacheDir` holds it for the
 * current files, otherwise by starting `playwright test --list` of the same config with no
 * filter and this module as the reporter, beside the tests (it only loads the spec files).
 */
export function listFullSuite(config: Pick<FullConfig, 'configFile' | 'rootDir'>, options: ListOptions = {}): FullSuiteListing {
  const key = options.cacheDir ? fullSuiteKey(config) : undefined;
  const cached = options.cacheDir && key ? readCache(options.cacheDir, key) : undefined;
  if (cached) return { result: Promise.resolve({ tests: cached, from: 'cache' }), cancel: () => undefined };

  const require = createRequire(import.meta.url);
  const cli = require.resolve('@playwright/test/cli');
  const args = [cli, 'test', '--list', `--reporter=${fileURLToPath(import.meta.url)}`];
  if (config.configFile) args.push('--config', config.configFile);
  const env = { ...process.env };
  // The child is a listing, not a run: nothing of the parent's output settings applies.
  for (const name of ['PLAYWRIGHT_JSON_OUTPUT_NAME', 'PLAYWRIGHT_JSON_OUTPUT_FILE', 'PW_TEST_REPORTER']) delete env[name];
  const child = spawn(process.execPath, args, { cwd: config.configFile ? undefined : config.rootDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill(), options.timeoutMs ?? 120_000);
  timer.unref();
  const result = new Promise<FullSuiteList | { error: string }>((resolve) => {
    child.on('error', (err) => resolve({ error: `playwright test --list could not start: ${err.message}` }));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const listed = parseInventory(stdout);
      if (listed && 'tests' in listed) {
        // Stored only under the key of what the child saw: files that changed while it listed
        // make the key of the end differ from the start's, and then nothing is stored.
        if (options.cacheDir && key && fullSuiteKey(config) === key) writeCache(options.cacheDir, key, listed.tests);
        resolve({ tests: listed.tests, from: 'listing' });
      } else if (listed) resolve(listed);
      else {
        const why = signal ? `stopped by ${signal}` : `exit code ${code}`;
        const last = stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500);
        resolve({ error: `playwright test --list of the whole suite gave no test list (${why})${last ? `: ${last}` : ''}` });
      }
    });
  });
  return { result, cancel: () => child.kill() };
}

/** The child's reporter: at the end, the listed tests as one JSON line on stdout, or the errors that kept files from loading. */
export default class InventoryReporter implements Reporter {
  private tests: InventoryTest[] = [];
  private readonly errors: string[] = [];

  printsToStdio(): boolean {
    return true;
  }

  onBegin(config: FullConfig, suite: Suite): void {
    this.tests = inventoryOf(suite, config.rootDir);
  }

  onError(error: TestError): void {
    const where = error.location ? ` (${error.location.file}:${error.location.line})` : '';
    this.errors.push(`${(error.message ?? error.value ?? 'unknown error').split('\n')[0] ?? ''}${where}`);
  }

  onEnd(): void {
    process.stdout.write(`${MARKER}${JSON.stringify(this.errors.length ? { errors: this.errors } : { tests: this.tests })}\n`);
  }
}
