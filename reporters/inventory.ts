/**
 * The suite's full test list, as Playwright itself lists it, so the sign-off can tell which
 * tests a run left out. Playwright hands a reporter only the tests that survived every filter
 * (`--grep`, file arguments, `--project`, `--last-failed`, `--only-changed`, `--shard`), and
 * only some of those filters are visible in `FullConfig`; comparing the run's test ids with an
 * unfiltered `playwright test --list` of the same config finds whatever any of them removed.
 *
 * Used in two ways: `listFullSuite` starts that listing as a child process (with this module
 * as its only reporter), and the child's `onBegin` prints the tests as one JSON line.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FullConfig, Reporter, Suite, TestCase } from '@playwright/test/reporter';

/** One test of the suite: Playwright's id (stable for a project, file and title path), where it is, its tags. */
export interface InventoryTest {
  id: string;
  project: string;
  title: string;
  location: string;
  tags: string[];
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

/** Reads the child's output: the one line after the marker. */
export function parseInventory(stdout: string): InventoryTest[] | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
  if (!line) return undefined;
  try {
    const parsed: unknown = JSON.parse(line.slice(MARKER.length));
    return Array.isArray(parsed) ? (parsed as InventoryTest[]) : undefined;
  } catch {
    return undefined;
  }
}

export interface FullSuiteListing {
  /** The full list, or why it could not be read. */
  result: Promise<{ tests: InventoryTest[] } | { error: string }>;
  /** Stops the listing (an interrupted run does not wait for it). */
  cancel(): void;
}

/**
 * Starts `playwright test --list` of the same config with no filter and this module as the
 * reporter. Runs beside the tests (it only loads the spec files); `timeoutMs` bounds it.
 */
export function listFullSuite(config: Pick<FullConfig, 'configFile' | 'rootDir'>, timeoutMs = 120_000): FullSuiteListing {
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
  const timer = setTimeout(() => child.kill(), timeoutMs);
  timer.unref();
  const result = new Promise<{ tests: InventoryTest[] } | { error: string }>((resolve) => {
    child.on('error', (err) => resolve({ error: `playwright test --list could not start: ${err.message}` }));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const tests = parseInventory(stdout);
      if (tests) resolve({ tests });
      else {
        const why = signal ? `stopped by ${signal}` : `exit code ${code}`;
        const last = stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500);
        resolve({ error: `playwright test --list of the whole suite gave no test list (${why})${last ? `: ${last}` : ''}` });
      }
    });
  });
  return { result, cancel: () => child.kill() };
}

/** The child's reporter: the listed tests as one JSON line on stdout. */
export default class InventoryReporter implements Reporter {
  printsToStdio(): boolean {
    return true;
  }

  onBegin(config: FullConfig, suite: Suite): void {
    process.stdout.write(`${MARKER}${JSON.stringify(inventoryOf(suite, config.rootDir))}\n`);
  }
}
