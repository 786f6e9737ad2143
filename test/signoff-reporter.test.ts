/**
 * The sign-off reporter inside a real Playwright run: synthetic specs (written to a temp dir,
 * no browser, no cluster) pass, fail, skip and record figures and versions; the reporter
 * must write signoff.json/.md saying so and decide the run's exit status.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SignoffSummary } from '../reporters/signoff-model.ts';
import { describeOutput, runPlaywright, syntheticSuiteDirs } from './support/child.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const { dir, suite } = syntheticSuiteDirs('signoff-reporter-');
after(() => rmSync(dir, { recursive: true, force: true }));

// Outside the repository a bare '@playwright/test' does not resolve: import it by path (same module instance).
const playwright = join(root, 'node_modules/@playwright/test/index.mjs');
const reporter = join(root, 'reporters/signoff-reporter.ts');

writeFileSync(
  join(suite, 'playwright.config.mjs'),
  `export default {
  testDir: '.',
  outputDir: '../test-results',
  workers: 1,
  reporter: [['${reporter}', { outputFolder: process.env.SIGNOFF_DIR }]],
};\n`,
);
writeFileSync(
  join(suite, 'synthetic.spec.mjs'),
  `import { test, expect } from '${playwright}';
const figure = (name, value, unit) => ({ type: 'obs-figure', description: JSON.stringify({ name, value, unit }) });
const version = (component, v) => ({ type: 'obs-fingerprint', description: JSON.stringify({ component, version: v }) });

test('preflight records the stack', async ({}, info) => {
  info.annotations.push(version('Kubernetes', 'v1.36.1+k3s1'), version('chart/kube-prometheus-stack', '87.12.5'));
});
test('taskplanner target is up', { tag: '@OBS-01' }, async ({}, info) => {
  info.annotations.push(figure('scrape targets up', 4));
});
test('log line arrives', { tag: '@OBS-05' }, async ({}, info) => {
  info.annotations.push(figure('log delivery latency p95', 2.5, 's'));
});
test('loki keeps logs 7 days', { tag: '@OBS-03' }, async () => {
  if (process.env.ALL_PASS !== '1') expect(process.env.RETENTION ?? '24h', 'retention_period').toBe('168h');
});
test('alloy runs on every node', { tag: '@OBS-04' }, async () => {
  test.skip(process.env.ALL_PASS !== '1', 'no cluster in this self-test');
});
`,
);

async function run(name: string, args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; out: string; summary: SignoffSummary; md: string }> {
  const out = join(dir, name); // outside the suite's folder (see `suite`)
  // Each run its own output directory: Playwright empties it at start, and runs may overlap.
  const res = await runPlaywright(['-c', join(suite, 'playwright.config.mjs'), '--output', join(out, 'results'), ...args], {
    cwd: suite,
    env: { ...process.env, SIGNOFF_DIR: out, OBS_RUN_ID: 'selftest1', CI: '', FORCE_COLOR: '0', ...env },
  });
  if (!existsSync(join(out, 'signoff.json'))) throw new Error(`the run wrote no signoff.json (exit ${res.code})\n${describeOutput(res)}`);
  const summary = JSON.parse(readFileSync(join(out, 'signoff.json'), 'utf8')) as SignoffSummary;
  return { status: res.code, out: res.stdout + res.stderr, summary, md: readFileSync(join(out, 'signoff.md'), 'utf8') };
}
const verdict = (s: SignoffSummary, id: string) => s.requirements.find((r) => r.id === id)?.verdict;

void describe('sign-off reporter (real playwright runs, synthetic specs)', () => {
  void it('a failed, a passed and a not-run requirement in a real run, with figures and versions', async () => {
    const { status, summary, md, out } = await run('mixed', []);
    assert.equal(status, 1, out);
    assert.equal(verdict(summary, 'OBS-01'), 'passed');
    assert.equal(verdict(summary, 'OBS-03'), 'failed');
    assert.equal(verdict(summary, 'OBS-04'), 'not run');
    assert.equal(verdict(summary, 'OBS-02'), 'not run');
    assert.equal(summary.signedOff, false);
    assert.equal(summary.run.runId, 'selftest1');
    assert.equal(summary.run.scope, 'full');
    const obs03 = summary.requirements.find((r) => r.id === 'OBS-03');
    assert.match(obs03?.tests[0]?.error ?? '', /retention_period/);
    assert.equal(obs03?.tests[0]?.location, 'synthetic.spec.mjs:14');
    assert.deepEqual(summary.requirements.find((r) => r.id === 'OBS-05')?.figures, [{ name: 'log delivery latency p95', value: 2.5, unit: 's', test: 'log line arrives' }]);
    assert.deepEqual(summary.fingerprint.components.map((c) => [c.component, c.version]), [['Kubernetes', 'v1.36.1+k3s1'], ['chart/kube-prometheus-stack', '87.12.5']]);
    assert.match(md, /\| \*\*OBS-03\*\* [^\n]*\| ❌ failed \|/);
    assert.match(md, /\| \*\*OBS-04\*\* [^\n]*\| ⚪ not run \|/);
    assert.match(out, /Sign-off: NOT SIGNED OFF/);
  });

  void it('a green full run in which requirements ran no test fails; a --grep run keeps its status', async () => {
    // Independent runs, started together: each is mostly Playwright starting up.
    const [fullRun, partial, filtered, nothingDropped] = await Promise.all([
      run('green-full', [], { ALL_PASS: '1' }),
      run('grep', ['--grep', '@OBS-01\\b'], { ALL_PASS: '1' }),
      run('grep-invert', ['--grep-invert', 'taskplanner target|preflight records'], { ALL_PASS: '1' }),
      run('grep-invert-nothing', ['--grep-invert', '@not-a-tag'], { ALL_PASS: '1' }),
    ]);
    assert.equal(fullRun.summary.requirements.filter((r) => r.verdict === 'passed').length, 4);
    assert.equal(fullRun.status, 1, fullRun.out);
    assert.match(fullRun.out, /not every requirement ran: marking it failed/);

    assert.equal(partial.status, 0, partial.out);
    assert.equal(partial.summary.run.scope, 'partial');
    assert.deepEqual(partial.summary.run.selected, ['OBS-01']);
    assert.equal(verdict(partial.summary, 'OBS-01'), 'passed');
    assert.equal(partial.summary.signedOff, false);

    // A filter that drops a test without deselecting its requirement (as --grep-invert @ui drops
    // the browser tests) is found by comparing with the suite's full list; one that drops nothing is no filter.
    assert.equal(filtered.summary.run.scope, 'partial');
    assert.deepEqual(filtered.summary.run.excluded, ["2 of the suite's 5 tests left out of this run (untagged (preflight, setup, teardown): 1, OBS-01: 1)"]);
    assert.match(filtered.summary.blockers.join('\n'), /filtered run: 2 of the suite's 5 tests left out/);
    assert.equal(filtered.status, 0, filtered.out);
    assert.equal(nothingDropped.summary.run.excluded, undefined);
  });
});
