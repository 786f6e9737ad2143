import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, devices } from '@playwright/test';
import { chromium } from 'playwright-core';
import { extraCaCertsFile } from './fixtures/core/ca-bundle.ts';
import { ConfigError, loadConfig, newRunId, type SuiteConfig } from './fixtures/core/config.ts';
import { listReporterOptions } from './reporters/progress-reporter.ts';

// Validate configuration before anything starts: a bad variable stops the run in seconds.
function loadOrExit(): SuiteConfig {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // A stack trace through Playwright's config loader would bury the one line that matters.
    console.error(err.message);
    process.exit(2);
  }
}
const suite = loadOrExit();
// Once, in the runner (workers load this file too): a misspelt variable would otherwise be
// ignored in silence and its default used.
if (!process.env.TEST_WORKER_INDEX) for (const w of suite.warnings) console.error(`obs-acceptance: warning: ${w}`);

// One id for the whole run; workers inherit the environment of the runner.
process.env.OBS_RUN_ID ||= suite.runId ?? newRunId();
// Workers read this at start: HTTPS calls then trust a private CA as well as whatever the
// environment already trusted (a machine-wide NODE_EXTRA_CA_CERTS is joined, not replaced).
if (suite.caFile && !process.env.TEST_WORKER_INDEX) {
  try {
    process.env.NODE_EXTRA_CA_CERTS = extraCaCertsFile(suite.caFile, process.env.NODE_EXTRA_CA_CERTS, join(import.meta.dirname, '.cache', 'obs-acceptance', 'ca'));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\nFix: point CA_FILE at the PEM file of the CA that signs Grafana's certificate.`);
    process.exit(2);
  }
}

/** Playwright's own Chromium when installed, Debian's otherwise; never a download. */
function chromiumExecutable(): string | undefined {
  const own = chromium.executablePath();
  if (own && existsSync(own)) return undefined;
  for (const candidate of [suite.chromiumPath, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  return undefined;
}

const reportDir = suite.reportDir;

export default defineConfig({
  testDir: './e2e',
  outputDir: 'test-results',
  // The cluster is shared state: requirements run side by side only where they do not touch the same objects.
  fullyParallel: false,
  workers: process.env.CI ? 2 : 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 10 * 60_000,
  expect: { timeout: 15_000 },
  reporter: [
    // Before list: a test's ::group:: (GitHub Actions) must precede list's lines for that test.
    ['./reporters/progress-reporter.ts'],
    // In a terminal list shows each step as it begins; in a log the progress reporter does.
    ['list', listReporterOptions()],
    ['html', { open: 'never', outputFolder: reportDir }],
    ['junit', { outputFile: `${reportDir}/junit.xml` }],
    // After html, which empties its folder when it writes. Its onBegin also hands the selection
    // (the tests Playwright resolved) to preflight and setup, so it must stay in the list.
    // The full test list it compares the run with is cached: the environment chooses endpoints,
    // credentials and worker counts here, never which tests exist (specs declare their tests
    // without conditionals), so the list depends on the files alone, which key the cache.
    ['./reporters/signoff-reporter.ts', { outputFolder: reportDir, fullSuiteListCache: '.cache/obs-acceptance/full-suite-list' }],
    // The teardown project does not run on Ctrl-C; reporters' onEnd does: it empties the run's ledger.
    ['./fixtures/kube/interrupt-reporter.ts'],
  ],
  use: {
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    ignoreHTTPSErrors: false,
  },
  projects: [
    // Preflight first and alone: a missing cluster or component stops the run in seconds.
    // `grep: /.*/` on preflight, setup and teardown: a project's own grep replaces a grep set at
    // the top of this file, which would otherwise drop these untagged tests along with the
    // requirements it does not select.
    { name: 'preflight', testMatch: /preflight\.setup\.ts/, grep: /.*/ },
    { name: 'setup', testMatch: /.*\.setup\.ts/, testIgnore: /preflight\.setup\.ts/, dependencies: ['preflight'], teardown: 'teardown', grep: /.*/ },
    { name: 'teardown', testMatch: /.*\.teardown\.ts/, grep: /.*/ },
    {
      name: 'api',
      testMatch: /.*\.spec\.ts/,
      grepInvert: /@ui\b/,
      dependencies: ['setup'],
    },
    {
      name: 'ui',
      testMatch: /.*\.spec\.ts/,
      grep: /@ui\b/,
      dependencies: ['setup'],
      use: {
        ...devices['Desktop Chrome'],
        // With GRAFANA_TOKEN the browser is authenticated by an Authorization header on its
        // requests (fixtures/grafana.fixture.ts authenticate), which a trace keeps verbatim
        // (trace.network, and route.continue's arguments in trace.trace; checked with a sentinel
        // token, test/secret-leak-token.test.ts). A token cannot be revoked at the end of the run
        // as the session cookie is, so browser tests keep no trace then; screenshots stay.
        ...(suite.grafana.token ? { trace: 'off' as const } : {}),
        launchOptions: {
          executablePath: chromiumExecutable(),
          args: ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
        },
      },
    },
  ],
});
