/**
 * The OBS-08 spec as a user runs it (`npx playwright test --grep "@OBS-08\b"`), against the
 * real stand-in TaskPlanner scraped by a real Prometheus under the TaskPlanner job: given
 * as URLs, no Kubernetes is involved, so it must pass here.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../fixtures/core/poll.ts';
import { PrometheusClient } from '../fixtures/prometheus/client.ts';
import { freePort, startStandin, type Standin } from '../app-hook/standin.ts';
import { describeOutput, runPlaywright, specsOf, suiteFreeEnv } from './support/child.ts';
import { startPrometheus, type LocalPrometheus } from './support/local-stack.ts';

const JOB = 'taskplanner-selftest';

describe('OBS-08 spec against the real stand-in and a real Prometheus', () => {
  let app: Standin;
  let prom: LocalPrometheus;
  let dir: string;

  before(async () => {
    const port = await freePort();
    [app, prom] = await Promise.all([
      startStandin({ port }),
      startPrometheus({
        scrapeInterval: '1s',
        // A job name other than the default proves the spec follows TASKPLANNER_JOB.
        scrapeConfigs: [{ job_name: JOB, static_configs: [{ targets: [`127.0.0.1:${port}`] }] }],
      }),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'obs08-'));
    // On the cluster OBS-01 has proved the target up before OBS-08 runs; here it is still being discovered.
    const client = new PrometheusClient(prom.url);
    await waitFor(
      `the stand-in to be an active, healthy target of job ${JOB}`,
      async () => (await client.targets('active')).activeTargets.filter((t) => t.labels.job === JOB).map((t) => t.health),
      (health) => (health.includes('up') ? undefined : `target health: ${JSON.stringify(health)}`),
      { timeoutMs: 60_000, intervalsMs: [250, 500] },
    );
  });

  after(async () => {
    await Promise.all([app?.stop(), prom?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('npx playwright test --grep "@OBS-08\\b" passes every OBS-08 test with only the two URLs set', async () => {
    // A developer's settings and .env (kubeconfig, cluster services) must not leak into this run.
    const env = suiteFreeEnv({ OBS_ENV_FILE: '/dev/null', TASKPLANNER_URL: app.url, PROMETHEUS_URL: prom.url, TASKPLANNER_JOB: JOB, OBS_REPORT_DIR: join(dir, 'report') });

    const run = await runPlaywright(['--grep', '@OBS-08\\b', '--output', join(dir, 'results')], { env, json: true });
    // The JSON reporter lists tags without their "@".
    const obs08 = specsOf(run.report?.suites ?? []).filter((s) => s.tags.some((t) => t.replace(/^@/, '') === 'OBS-08'));
    // A skipped test is "ok" too: only a pass counts.
    const failures = obs08
      .filter((s) => !s.tests.every((t) => t.results.length > 0 && t.results.every((r) => r.status === 'passed')))
      .map((s) => `${s.title}: ${s.tests.flatMap((t) => t.results.map((r) => r.error?.message ?? r.status)).join('\n') || 'did not run'}`);

    assert.deepEqual(failures, [], `OBS-08 tests failed:\n${failures.join('\n\n')}\nstand-in output:\n${app.output().slice(-1500)}`);
    assert.equal(obs08.length, 3, `expected the 3 OBS-08 tests to run, found ${obs08.length}; playwright said:\n${describeOutput(run)}`);
    assert.equal(run.code, 0, `playwright exited with ${run.code}:\n${describeOutput(run)}`);
  });
});
