/**
 * The selection comes from Playwright itself: whatever filtered the run (a file argument,
 * `--project`, `--last-failed`, a grep in the config), the sign-off names exactly the
 * requirements whose tests ran, calls the run partial when tests of the suite were left out,
 * and the preflight project (a synthetic one here, which records what it sees) is handed the
 * same selection before it starts. Real `playwright test` runs of synthetic specs, no cluster.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SignoffSummary } from '../reporters/signoff-model.ts';
import { describeOutput, runPlaywright, syntheticSuiteDirs } from './support/child.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const { dir, suite } = syntheticSuiteDirs('selection-');
after(() => rmSync(dir, { recursive: true, force: true }));

const playwright = join(root, 'node_modules/@playwright/test/index.mjs');
const reporter = join(root, 'reporters/signoff-reporter.ts');
const selectionEnv = 'OBS_SELECTED_REQUIREMENTS';

// The shape of playwright.config.ts: preflight first, api and ui depending on it, ui for @ui.
writeFileSync(
  join(suite, 'playwright.config.mjs'),
  `export default {
  testDir: '.',
  outputDir: '../test-results',
  workers: 1,
  ...(process.env.CONFIG_GREP ? { grep: new RegExp(process.env.CONFIG_GREP) } : {}),
  reporter: [['${reporter}', { outputFolder: process.env.SIGNOFF_DIR }]],
  projects: [
    // As in playwright.config.ts: a grep in the config must not filter preflight away.
    { name: 'preflight', testMatch: /preflight\\.setup\\.mjs/, grep: /.*/ },
    { name: 'api', testMatch: /.*\\.spec\\.mjs/, grepInvert: /@ui\\b/, dependencies: ['preflight'] },
    { name: 'ui', testMatch: /.*\\.spec\\.mjs/, grep: /@ui\\b/, dependencies: ['preflight'] },
  ],
};\n`,
);
writeFileSync(
  join(suite, 'preflight.setup.mjs'),
  `import { test } from '${playwright}';
test('preflight sees the selection', async ({}, info) => {
  info.annotations.push({ type: 'obs-figure', description: JSON.stringify({ name: 'selection seen by preflight', value: process.env.${selectionEnv} ?? '(unset)' }) });
});\n`,
);
mkdirSync(join(suite, 'e2e'));
writeFileSync(
  join(suite, 'e2e/obs-03.spec.mjs'),
  `import { test, expect } from '${playwright}';
test('loki keeps logs 7 days', { tag: ['@OBS-03'] }, async () => {
  expect(process.env.FAIL_03 ?? '', 'retention').toBe('');
});\n`,
);
writeFileSync(
  join(suite, 'e2e/obs-07.spec.mjs'),
  `import { test } from '${playwright}';
test('the certificate is trusted', { tag: ['@OBS-07'] }, async () => {});
test('the login page renders', { tag: ['@OBS-07', '@ui'] }, async () => {});\n`,
);

async function run(name: string, args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; out: string; summary: SignoffSummary; seen: unknown }> {
  const out = join(dir, name); // outside the suite's folder (see `suite`)
  const res = await runPlaywright(['-c', join(suite, 'playwright.config.mjs'), ...args], {
    cwd: suite,
    env: { ...process.env, SIGNOFF_DIR: out, OBS_RUN_ID: 'selftest2', CI: '', FORCE_COLOR: '0', [selectionEnv]: 'stale value from the shell', ...env },
  });
  if (!existsSync(join(out, 'signoff.json'))) throw new Error(`the run wrote no signoff.json (exit ${res.code})\n${describeOutput(res)}`);
  const summary = JSON.parse(readFileSync(join(out, 'signoff.json'), 'utf8')) as SignoffSummary;
  const seen = summary.otherFigures.find((f) => f.name === 'selection seen by preflight')?.value;
  return { status: res.code, out: res.stdout + res.stderr, summary, seen };
}
const requirement = (s: SignoffSummary, id: string) => s.requirements.find((r) => r.id === id);

void describe('selection from the suite Playwright resolved (real playwright runs, synthetic specs)', () => {
  void it('a file argument selects that file\'s requirement for preflight and the sign-off; the run is partial', async () => {
    const r = await run('file', ['e2e/obs-07.spec.mjs']);
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(r.summary.run.selected, ['OBS-07']);
    assert.equal(r.seen, 'OBS-07', 'preflight must be handed the selection before it starts');
    assert.equal(r.summary.run.scope, 'partial');
    assert.equal(requirement(r.summary, 'OBS-07')?.verdict, 'passed');
    assert.equal(requirement(r.summary, 'OBS-03')?.reason, 'not selected by this run', `blockers:\n${r.summary.blockers.join('\n')}\n${r.out.slice(-3000)}`);
    assert.match(r.summary.blockers.join('\n'), /partial run: only OBS-07 selected/);
    assert.match(r.summary.run.command ?? '', /playwright test -c \S+ e2e\/obs-07\.spec\.mjs/);
  });

  void it('--project api leaves the browser test out: OBS-07 is not run, the run is partial', async () => {
    const r = await run('project', ['--project', 'api']);
    assert.deepEqual(r.summary.run.selected, ['OBS-03', 'OBS-07']);
    assert.equal(r.seen, 'OBS-03,OBS-07');
    assert.equal(r.summary.run.scope, 'partial');
    assert.equal(requirement(r.summary, 'OBS-07')?.verdict, 'not run');
    assert.match(requirement(r.summary, 'OBS-07')?.reason ?? '', /1 was left out of this run/);
    assert.match(r.summary.blockers.join('\n'), /filtered run: 1 of the suite's 4 tests left out of this run \(OBS-07: 1\)/);
  });

  void it('--last-failed selects only what failed last time', async () => {
    const first = await run('last-failed-1', [], { FAIL_03: 'yes' });
    assert.equal(first.status, 1, first.out);
    assert.equal(first.summary.run.excluded, undefined, JSON.stringify(first.summary.run));
    const again = await run('last-failed-2', ['--last-failed']);
    assert.deepEqual(again.summary.run.selected, ['OBS-03']);
    assert.equal(again.seen, 'OBS-03');
    assert.equal(again.summary.run.scope, 'partial');
    assert.equal(requirement(again.summary, 'OBS-03')?.verdict, 'passed');
  });

  void it('a grep in the config narrows the selection and is named as a filter', async () => {
    const r = await run('config-grep', [], { CONFIG_GREP: '@OBS-07\\b' });
    assert.deepEqual(r.summary.run.selected, ['OBS-07']);
    assert.equal(r.seen, 'OBS-07');
    assert.equal(r.summary.run.scope, 'partial');
    assert.match(r.summary.blockers.join('\n'), /grep in the config: \/@OBS-07\\b\//);
  });

  void it('an unfiltered run leaves nothing out and hands every requirement with tests to preflight', async () => {
    const r = await run('full', []);
    assert.deepEqual(r.summary.run.selected, ['OBS-03', 'OBS-07']);
    assert.equal(r.seen, 'OBS-03,OBS-07');
    // Partial only because this synthetic suite has tests for two of the eight requirements.
    assert.equal(r.summary.run.excluded, undefined);
    assert.deepEqual(r.summary.blockers.filter((b) => /filtered run/.test(b)), []);
  });
});
