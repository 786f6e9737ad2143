/**
 * The suite's own playwright.config.ts, run for real the way a new user would run it: what
 * preflight checks and what the sign-off says follow the tests Playwright selected, however
 * they were selected. No cluster: every endpoint is a URL on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { SignoffSummary } from '../reporters/signoff-model.ts';
import { freePort } from './support/local-stack.ts';
import { startReplayServer } from './support/replay-server.ts';
import { startPortForwardReplay } from './support/kube-replay-portforward.ts';
import { texts } from './support/leak-check.ts';
import { describeOutput, runChildOk, runPlaywright, suiteFreeEnv } from './support/child.ts';

const work = mkdtempSync(join(tmpdir(), 'obs-run-scope-'));
after(() => rmSync(work, { recursive: true, force: true }));

export interface SuiteRun {
  code: number | null;
  out: string;
  summary: SignoffSummary;
  md: string;
  reportDir: string;
}

/** `playwright test <args>` of the suite itself, in a clean environment plus `env`. */
export async function runSuite(name: string, args: string[], env: Record<string, string>): Promise<SuiteRun> {
  const reportDir = join(work, name, 'report');
  // None of the suite's variables (or an earlier run's) leak in from the shell.
  const full = suiteFreeEnv({
    OBS_ENV_FILE: join(work, 'none.env'),
    OBS_REPORT_DIR: reportDir,
    KUBECONFIG: join(work, 'no-kubeconfig'),
    // Generous: every endpoint here is local and answers or refuses at once; a short limit would only fail on a loaded machine.
    PREFLIGHT_TIMEOUT_MS: '60000',
    CI: '',
    FORCE_COLOR: '0',
    ...env,
  });
  const run = await runPlaywright(['--output', join(work, name, 'results'), ...args], { env: full });
  const out = `${run.stdout}${run.stderr}`;
  if (!existsSync(join(reportDir, 'signoff.json'))) throw new Error(`no sign-off written (exit ${run.code})\n${describeOutput(run)}`);
  const summary = JSON.parse(readFileSync(join(reportDir, 'signoff.json'), 'utf8')) as SignoffSummary;
  return { code: run.code, out, summary, md: readFileSync(join(reportDir, 'signoff.md'), 'utf8'), reportDir };
}

void describe('the suite selects from what Playwright resolved (real runs of playwright.config.ts)', () => {
  void it('a spec file argument preflights OBS-07 alone (no cluster asked for) and signs off a partial run', async () => {
    const port = await freePort();
    const r = await runSuite('file-arg', ['e2e/obs-07-grafana-tls.spec.ts'], { GRAFANA_URL: `https://127.0.0.1:${port}` });
    assert.notEqual(r.code, 0, r.out);
    // Preflight's one problem is OBS-07's Grafana; before, argv held no --grep and all eight were checked.
    assert.match(r.out, new RegExp(`Preflight failed for OBS-07:\\n\\s*- grafana \\(https://127\\.0\\.0\\.1:${port}, needed by OBS-07\\) is not ready[^\\n]*\\n[^\\n]*Fix:[^\\n]*\\n\\n`));
    assert.deepEqual(r.summary.run.selected, ['OBS-07']);
    assert.equal(r.summary.run.scope, 'partial');
    assert.match(r.summary.blockers.join('\n'), /partial run: only OBS-07 selected/);

    // The cause is on the requirement it blocked, verbatim: not just "none of its tests ran".
    const obs07 = r.summary.requirements.find((x) => x.id === 'OBS-07');
    assert.equal(obs07?.verdict, 'not run');
    assert.equal(obs07?.blockedBy?.[0]?.project, 'preflight');
    assert.match(obs07?.blockedBy?.[0]?.causes[0] ?? '', new RegExp(`^grafana \\(https://127\\.0\\.0\\.1:${port}, needed by OBS-07\\) is not ready: [^\\n]+\\n  Fix: `));
    assert.match(r.md, /\| \*\*OBS-07\*\* [^\n]*\| ⚪ not run \(blocked by preflight\) \|/);
    assert.match(r.md, new RegExp(`\`\`\`text\\ngrafana \\(https://127\\.0\\.0\\.1:${port}, needed by OBS-07\\) is not ready`));

    // Where it ran, even though preflight failed: commit, run id, start and end, no cluster, the endpoint as configured.
    const env = r.summary.environment;
    const head = (await runChildOk('git', ['rev-parse', 'HEAD'])).stdout.trim();
    assert.ok(env.suiteCommit.startsWith(head), env.suiteCommit);
    assert.match(env.runId ?? '', /^[a-z0-9]{8}$/);
    assert.ok(env.endTime && Date.parse(env.endTime) >= Date.parse(env.startTime), JSON.stringify(env));
    assert.equal(env.kubernetes.used, false);
    assert.match(env.kubernetes.summary, /^not used/);
    assert.deepEqual(env.endpoints.map((e) => [e.component, e.configured, e.used]), [['grafana', `https://127.0.0.1:${port}`, `https://127.0.0.1:${port}`]]);
    assert.match(r.md, /## Where it ran[\s\S]*\| Suite commit \| [0-9a-f]{40}/);
  });

  void it('OBS-07 against a healthy Grafana over plain HTTP: preflight refuses it with the fix, no HTTPS test passes', async () => {
    // Replayed Grafana: /api/health as in grafana/grafana docs/sources/developers/http_api/other.md.
    const grafana = await startReplayServer({ 'GET /api/health': { body: { commit: 'selftest', database: 'ok', version: '12.3.0' } } });
    try {
      const r = await runSuite('plain-http', ['--grep', '@OBS-07\\b', '--project', 'api'], { GRAFANA_URL: grafana.url });
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, /OBS-07 checks grafana over HTTPS, but GRAFANA_URL is http:\/\/127\.0\.0\.1:\d+ \(plain HTTP\)[^\n]*\n\s*Fix: set GRAFANA_URL to the https:\/\//);
      const obs07 = r.summary.requirements.find((x) => x.id === 'OBS-07');
      assert.equal(obs07?.counts.passed, 0, `before, "/api/health answers over HTTPS" passed over plain HTTP:\n${r.out.slice(-3000)}`);
      assert.match(obs07?.blockedBy?.[0]?.causes.join('\n') ?? '', /GRAFANA_URL is http:/);
    } finally {
      await grafana.close();
    }
  });

  void it('a URL-only run attaches no cluster diagnostics to a failure; the sign-off says once what was not gathered', async () => {
    // Replayed Loki: /ready and buildinfo answer (preflight passes); the queries of OBS-03 do not exist, so its test fails.
    const loki = await startReplayServer({ 'GET /ready': { headers: { 'content-type': 'text/plain' }, body: 'ready' }, 'GET /loki/api/v1/status/buildinfo': { body: { version: '3.6.7' } } });
    try {
      const r = await runSuite('url-only-diagnostics', ['--grep', '@OBS-03\\b'], { LOKI_URL: loki.url });
      const obs03 = r.summary.requirements.find((x) => x.id === 'OBS-03');
      assert.equal(obs03?.verdict, 'failed', r.out.slice(-3000));
      // Attachments and error-context.md; a trace also carries the suite's source files, which name these words.
      const results = (await texts(join(work, 'url-only-diagnostics', 'results'))).filter((t) => !/trace\.zip!src\//.test(t.where));
      assert.deepEqual(results.filter((t) => /could not be gathered|No kube config|KUBECONFIG names/.test(t.text)).map((t) => t.where), [], 'before, every failure carried "could not be gathered: No kube config" twice');
      assert.doesNotMatch(r.out, /could not be gathered/);
      assert.deepEqual(
        r.summary.environment.diagnosticsNotGathered.map((d) => [d.source, d.state, d.tests]),
        [
          ['run namespace pods, events and logs', 'does not apply', 1],
          ['Prometheus targets not up', 'does not apply', 1],
        ],
      );
      assert.match(r.md, /### Diagnostics not gathered[\s\S]*- run namespace pods, events and logs: does not apply: OBS-03 does not act on the cluster/);
    } finally {
      await loki.close();
    }
  });

  void it('through the cluster: the context used without KUBE_CONTEXT is printed at start and recorded; a substitute Service is in the sign-off and the report', async () => {
    // The pod behind the Service: a replayed Loki (/ready and buildinfo, as Loki 3.x answers them).
    const loki = await startReplayServer({ 'GET /ready': { headers: { 'content-type': 'text/plain' }, body: 'ready' }, 'GET /loki/api/v1/status/buildinfo': { body: { version: '2.9.10' } } });
    // The API server: the configured monitoring/loki is missing, the chart's monitoring/loki-stack is there
    // (Service and EndpointSlice shapes from the Kubernetes API reference, as in test/kube-route.test.ts).
    const api = await startPortForwardReplay(
      {
        'GET /version': { major: '1', minor: '36', gitVersion: 'v1.36.1+replay', platform: 'linux/amd64' },
        'GET /api/v1/namespaces/monitoring/services/loki-stack': {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'loki-stack', namespace: 'monitoring', labels: { app: 'loki', release: 'loki-stack' } },
          spec: { selector: { app: 'loki', release: 'loki-stack' }, ports: [{ name: 'http-metrics', port: 3100, targetPort: 'http-metrics' }] },
        },
        'GET /apis/discovery.k8s.io/v1/namespaces/monitoring/endpointslices': {
          kind: 'EndpointSliceList',
          apiVersion: 'discovery.k8s.io/v1',
          metadata: {},
          items: [
            {
              addressType: 'IPv4',
              metadata: { name: 'loki-stack-x', namespace: 'monitoring' },
              ports: [{ name: 'http-metrics', port: 3100 }],
              endpoints: [{ addresses: ['10.42.0.20'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'loki-stack-0' } }],
            },
          ],
        },
      },
      Number(new URL(loki.url).port),
    );
    const kubeconfig = join(work, 'replay.kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: replay\n  cluster: {server: "${api.url}", insecure-skip-tls-verify: true}\ncontexts:\n- name: replay-ctx\n  context: {cluster: replay, user: replay-user}\ncurrent-context: replay-ctx\nusers:\n- name: replay-user\n  user: {token: replay-token}\n`,
    );
    try {
      const r = await runSuite('substitute', ['--grep', '@OBS-03\\b'], { KUBECONFIG: kubeconfig });
      assert.match(r.out, new RegExp(`obs-acceptance: Kubernetes context replay-ctx \\(the kube config's current context; KUBE_CONTEXT is not set\\), API server ${api.url.replace(/\./g, '\\.')}`));
      const env = r.summary.environment;
      assert.equal(env.kubernetes.context, 'replay-ctx');
      assert.equal(env.kubernetes.contextFrom, 'current-context');
      assert.equal(env.kubernetes.server, api.url);
      assert.equal(env.kubernetes.version, 'v1.36.1+replay', r.out.slice(-3000));
      const lokiUse = env.endpoints.find((e) => e.component === 'loki');
      assert.deepEqual([lokiUse?.configured, lokiUse?.used, lokiUse?.substitute], ['monitoring/loki:3100', 'monitoring/loki-stack:3100', true]);
      assert.match(lokiUse?.how ?? '', /monitoring\/loki does not exist; using monitoring\/loki-stack:3100/);
      assert.match(r.md, /⚠ loki was reached through a substitute: monitoring\/loki-stack:3100 in place of the configured monitoring\/loki:3100/);
      const report = await texts(r.reportDir);
      assert.ok(report.some((t) => t.where.includes('index.html') && t.text.includes('monitoring/loki-stack:3100')), 'the substitute is in the HTML report too');
    } finally {
      await api.close();
      await loki.close();
    }
  });
});
