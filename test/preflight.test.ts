/**
 * The suite's fail-fast promises, checked by running `playwright test` itself: a dead cluster,
 * a bad variable and a dead endpoint each stop the run at preflight (or before it), name what
 * is missing and how to fix it, and no requirement test runs. What is asserted is where the
 * run stopped and what it said, never how long it took: a loaded machine makes any run slow,
 * and the speed is measured by `npm run bench:fail-fast` (figures in the README).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeOutput, runPlaywright, specsOf, type PlaywrightRun } from './support/child.ts';
import { failFastEnv, failFastScenarios, type FailFastName } from './support/fail-fast.ts';

const work = mkdtempSync(join(tmpdir(), 'obs-preflight-'));
after(() => rmSync(work, { recursive: true, force: true }));


/** Where a run stopped: the preflight test's outcome, and every setup or requirement test that got as far as running (teardown always runs). */
function stoppedAt(r: PlaywrightRun): { preflight: string[]; error: string; ran: string[] } {
  assert.ok(r.report, `Playwright wrote no JSON report\n${describeOutput(r)}`);
  const tests = specsOf(r.report.suites).flatMap((s) => s.tests.map((t) => ({ spec: s, test: t })));
  const preflight = tests.filter((t) => t.test.projectName === 'preflight');
  return {
    preflight: preflight.flatMap((t) => t.test.results.map((res) => res.status)),
    error: preflight.flatMap((t) => t.test.results.map((res) => res.error?.message ?? '')).join('\n'),
    ran: tests.filter((t) => !['preflight', 'teardown'].includes(t.test.projectName) && t.test.results.some((res) => res.status !== 'skipped')).map((t) => `[${t.test.projectName}] ${t.spec.title}`),
  };
}

void describe('preflight (real playwright runs)', () => {
  const runs = new Map<FailFastName, { port: number; run: PlaywrightRun }>();
  const get = (name: FailFastName) => runs.get(name) ?? assert.fail(`the ${name} run did not happen`);

  // The three runs are independent: started together, they share the waiting for Playwright to start.
  before(async () => {
    const scenarios = await failFastScenarios(work);
    await Promise.all(
      scenarios.map(async (s) => {
        const run = await runPlaywright(['--output', join(work, `out-${s.name}`), ...s.args], { json: true, env: failFastEnv(join(work, `report-${s.name}`), s.env) });
        runs.set(s.name, { port: s.port, run });
      }),
    );
  });

  void it('stops at preflight naming the API server and the fix when the cluster is not reachable; no requirement test runs', () => {
    const { run: r, port } = get('dead-cluster');
    assert.notEqual(r.code, 0, describeOutput(r));
    const at = stoppedAt(r);
    // "failed", not "timedOut": preflight gave up on its own, it did not wait for Playwright's test timeout.
    assert.deepEqual(at.preflight, ['failed'], describeOutput(r));
    assert.match(at.error, new RegExp(`Kubernetes API server https://127\\.0\\.0\\.1:${port}`));
    assert.match(at.error, /npm run cluster:up|point KUBECONFIG/);
    assert.deepEqual(at.ran, [], 'tests ran after a failed preflight');
    assert.match(r.stdout, new RegExp(`Kubernetes API server https://127\\.0\\.0\\.1:${port}`), 'the reason is printed, not only written to the report');
  });

  void it('stops before any test, with exit status 2, naming the bad variable and what it expects', () => {
    const { run: r } = get('bad-config');
    assert.equal(r.code, 2, describeOutput(r));
    assert.match(`${r.stdout}\n${r.stderr}`, /PROMETHEUS_URL: expected an http\(s\) URL/);
    // Configuration is validated while Playwright loads its config: no reporter started, so no report exists.
    assert.equal(r.report, undefined, 'a JSON report was written, so tests were collected before the configuration was checked');
    assert.equal(existsSync(join(work, 'report-bad-config')), false, 'an HTML report directory was written, so the run went past configuration');
  });

  void it('needs no cluster for a URL-only requirement and names the component that does not answer; no requirement test runs', () => {
    const { run: r, port } = get('dead-endpoint');
    assert.notEqual(r.code, 0, describeOutput(r));
    const at = stoppedAt(r);
    assert.deepEqual(at.preflight, ['failed'], describeOutput(r));
    // Only what the selected requirement needs is checked: the selection reached preflight.
    assert.match(at.error, /^Error: Preflight failed for OBS-03:/);
    assert.match(at.error, new RegExp(`loki \\(http://127\\.0\\.0\\.1:${port}, needed by OBS-03\\) is not ready: GET http://127\\.0\\.0\\.1:${port}/ready → ECONNREFUSED`));
    // The URL is set, so it is the address to check: not the generic "set LOKI_URL, or LOKI_SERVICE".
    assert.match(at.error, new RegExp(`Fix: LOKI_URL is set to http://127\\.0\\.0\\.1:${port}, and it wins over LOKI_SERVICE: check that address`));
    assert.doesNotMatch(`${at.error}\n${r.stdout}\n${r.stderr}`, /Kubernetes API server/);
    assert.deepEqual(at.ran, [], 'tests ran after a failed preflight');
  });
});
