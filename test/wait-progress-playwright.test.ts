/**
 * A person watching a run sees what it waits for (issue 16), checked on a real wait that
 * times out: the OBS-08 spec, run as `npx playwright test` with the suite's own reporters,
 * against the real stand-in TaskPlanner and a real Prometheus whose TaskPlanner target points
 * at a closed port, so Prometheus never counts a request. The wait for the series must print
 * progress lines while it waits (cadence set small through WAIT_PROGRESS_*_SECONDS), naming
 * what it waits for, the deadline and its derivation, and the target's state; the steps show
 * as they begin; on GitHub Actions the lines sit in OBS-08's group. Order in the child's
 * stdout is what is checked, never how long anything took.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, startStandin, type Standin } from '../app-hook/standin.ts';
import { waitFor } from '../fixtures/core/poll.ts';
import { PrometheusClient } from '../fixtures/prometheus/client.ts';
import { startPrometheus, type LocalPrometheus } from './support/local-stack.ts';
import { describeOutput, runPlaywright, suiteFreeEnv, type PlaywrightRun } from './support/child.ts';

const JOB = 'taskplanner-progress';

void describe('progress of a real wait that times out (OBS-08 against a Prometheus that never scrapes the app)', () => {
  let app: Standin;
  let prom: LocalPrometheus;
  let dir: string;
  let closedPort: number;
  let run: PlaywrightRun;

  before(async () => {
    closedPort = await freePort();
    [app, prom] = await Promise.all([
      startStandin(),
      // The job exists and its target is active, so the spec derives its deadline from the
      // 1 s scrape interval (13 s); the target is a port nobody listens on.
      startPrometheus({ scrapeInterval: '1s', scrapeConfigs: [{ job_name: JOB, static_configs: [{ targets: [`127.0.0.1:${closedPort}`] }] }] }),
    ]);
    // Ready is not yet listing: Prometheus shows a static target once its scrape manager has synced
    // (a few seconds after /-/ready), and OBS-08 fails at once on a job with no active target.
    // On the cluster OBS-01 has proved the target before; here the run waits until it is listed.
    const client = new PrometheusClient(prom.url);
    await waitFor(
      `Prometheus to list the target of job ${JOB}`,
      async () => (await client.targets('active')).activeTargets.filter((t) => t.labels.job === JOB).length,
      (n) => (n > 0 ? undefined : 'not listed yet'),
      { timeoutMs: 60_000, intervalsMs: [250, 500] },
    );
    dir = await mkdtemp(join(tmpdir(), 'obs-progress-'));
    // A developer's settings and .env (kubeconfig, cluster services) must not leak into this run.
    const env = suiteFreeEnv({
      OBS_ENV_FILE: '/dev/null',
      TASKPLANNER_URL: app.url,
      PROMETHEUS_URL: prom.url,
      TASKPLANNER_JOB: JOB,
      OBS_REPORT_DIR: join(dir, 'report'),
      WAIT_PROGRESS_AFTER_SECONDS: '1',
      WAIT_PROGRESS_EVERY_SECONDS: '1',
      // As on the nightly runner: a log, not a terminal, on GitHub Actions.
      GITHUB_ACTIONS: 'true',
      PLAYWRIGHT_FORCE_TTY: '0',
    });
    delete env.FORCE_COLOR;
    // The suite's own reporters (no --reporter): what a person sees is what is checked.
    run = await runPlaywright(['--grep', 'traffic to TaskPlanner moves its HTTP series', '--output', join(dir, 'results')], { env });
  });

  after(async () => {
    await Promise.all([app?.stop(), prom?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** What the child printed, attached to any failure. */
  const shown = () => `\n${describeOutput(run, 8_000)}`;

  void it('the run ended by the wait timing out', () => {
    assert.notEqual(run.code, 0, `the OBS-08 traffic test should have failed${shown()}`);
    assert.match(run.stdout, /WaitTimeout: Timed out after .* waiting for Prometheus to count the new requests under job="taskplanner-progress"/, shown());
  });

  void it('progress lines appeared while it waited, naming what it waited for, the deadline with its derivation and the last state seen', () => {
    const lines = run.stdout.split('\n');
    const first = lines.findIndex((l) => l.startsWith('⏳ OBS-08 waiting '));
    const gaveUp = lines.findIndex((l) => l.startsWith('✗ OBS-08 gave up waiting for Prometheus to count the new requests'));
    const result = lines.findIndex((l) => /✘ .*traffic to TaskPlanner moves its HTTP series/.test(l));
    assert.ok(first >= 0, `no progress line${shown()}`);
    assert.ok(gaveUp > first && result > gaveUp, `expected progress lines, then the gave-up line, then the test's result (lines ${first}, ${gaveUp}, ${result})${shown()}`);

    const block = lines.slice(first, first + 3).join('\n');
    assert.match(block, /^⏳ OBS-08 waiting [\d.]+ s for Prometheus to count the new requests under job="taskplanner-progress" \(sum\(http_requests_total\{job="taskplanner-progress"/);
    assert.match(block, /\n {3}deadline \d\d:\d\d:\d\d UTC \([\d.]+ s left; 13 s = 3 × scrape interval 1 s \+ 10 s for the query path; interval from target job="taskplanner-progress"/);
    const target = `target http://127.0.0.1:${closedPort}/metrics down: `;
    const lastSeen = lines.slice(first, gaveUp).filter((l) => l.startsWith('   last seen '));
    assert.ok(
      lastSeen.some((l) => l.includes('still short: ') && l.includes(target) && l.includes('connection refused')),
      `no progress line names the short routes and the target down with connection refused${shown()}`,
    );
  });

  void it('the step shows as it begins, and the lines sit in OBS-08’s GitHub Actions group', () => {
    const lines = run.stdout.split('\n');
    const group = lines.indexOf('::group::OBS-08 TaskPlanner exposes /metrics');
    const test = lines.indexOf('▶ OBS-08 › traffic to TaskPlanner moves its HTTP series, in the app and in Prometheus [api]');
    const step = lines.indexOf('  ▶ OBS-08 › Prometheus has scraped the app’s counters as they stand before the traffic');
    const first = lines.findIndex((l) => l.startsWith('⏳ OBS-08 waiting '));
    const result = lines.findIndex((l) => /✘ .*traffic to TaskPlanner moves its HTTP series/.test(l));
    assert.ok(group >= 0 && group < test && test < step && step < first, `expected group, test, step, then progress (lines ${group}, ${test}, ${step}, ${first})${shown()}`);
    const end = lines.indexOf('::endgroup::', group);
    assert.ok(end > result, `OBS-08's group should close after its result line (line ${end})${shown()}`);
    assert.ok(!lines.slice(group + 1, end).some((l) => l.startsWith('::group::')), `another group opened inside OBS-08's${shown()}`);
  });
});
