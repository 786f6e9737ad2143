/**
 * Where a run ran, from the places that learn it to the sign-off: endpoint resolution reports
 * each endpoint as reached (a substitute Service included), and the sign-off merges what the
 * tests recorded with what the runner knew at start. Synthetic test records. That the Kubernetes
 * client reports what it leaves in the cluster on purpose (apply with `track: false`, as OBS-01
 * does with the TaskPlanner ServiceMonitor) is shown against the real API server of the simulated
 * cluster (test/sim/kube-layer.test.ts, `npm run test:sim`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../fixtures/core/config.ts';
import { Endpoints, type EndpointUse } from '../fixtures/core/endpoints.ts';
import { RUN_RECORD_ANNOTATION, type RunRecordEntry } from '../fixtures/core/evidence.ts';
import { renderMarkdown } from '../reporters/signoff-markdown.ts';
import { summarize, type RunInfo, type TestRecord } from '../reporters/signoff-model.ts';

describe('what the run learns, where it learns it', () => {
  test('endpoint resolution reports each endpoint as reached: a URL as given, a substitute Service as such', async () => {
    const uses: EndpointUse[] = [];
    const config = loadConfig({ GRAFANA_URL: 'https://grafana.example' });
    const endpoints = new Endpoints(
      config,
      (_component, ep) => Promise.resolve({ url: 'http://127.0.0.1:40000', used: { ...ep, service: 'loki-stack' }, note: 'monitoring/loki does not exist; using monitoring/loki-stack:3100' }),
      (use) => uses.push(use),
    );
    assert.equal(await endpoints.url('grafana'), 'https://grafana.example');
    assert.equal(await endpoints.url('loki'), 'http://127.0.0.1:40000');
    await endpoints.url('loki');
    assert.deepEqual(uses, [
      { component: 'grafana', configured: 'https://grafana.example', used: 'https://grafana.example', how: 'URL from GRAFANA_URL', substitute: false },
      {
        component: 'loki',
        configured: 'monitoring/loki:3100',
        used: 'monitoring/loki-stack:3100',
        how: 'monitoring/loki does not exist; using monitoring/loki-stack:3100, one of the usual Services for loki (set LOKI_SERVICE to it to choose it knowingly), port-forward through the Kubernetes API server',
        substitute: true,
      },
    ]);
  });
});

describe('the sign-off says where the run ran (synthetic records)', () => {
  const record = (entry: RunRecordEntry) => ({ type: RUN_RECORD_ANNOTATION, description: JSON.stringify(entry) });
  const rec = (title: string, tags: string[], annotations: TestRecord['annotations']): TestRecord => ({ title, project: 'api', location: 'e2e/x.spec.ts:1', tags, status: 'passed', outcome: 'expected', durationMs: 1, retries: 0, annotations });
  const run: RunInfo = {
    status: 'passed',
    startTime: '2026-11-30T02:17:00.000Z',
    durationMs: 60_000,
    runId: 'abcd1234',
    selected: ['OBS-01', 'OBS-03'],
    context: {
      suiteCommit: '0123456789abcdef0123456789abcdef01234567',
      endTime: '2026-11-30T02:18:00.000Z',
      kubernetes: { needed: true, context: 'prod', server: 'https://10.0.0.1:6443', kubeconfig: '/root/.kube/config', contextFrom: 'current-context' },
      endpoints: [
        { component: 'prometheus', configured: 'monitoring/prometheus-operated:9090' },
        { component: 'loki', configured: 'monitoring/loki:3100' },
      ],
      warnings: ['LOKI_URI is set but is not a variable of this suite, so it is ignored. Did you mean LOKI_URL?'],
    },
  };
  const tests = [
    rec('preflight', [], [
      record({ kind: 'kubernetes', context: 'prod', server: 'https://10.0.0.1:6443', version: 'v1.33.4+k3s1', kubeconfig: '/root/.kube/config' }),
      record({ kind: 'endpoint', component: 'loki', configured: 'monitoring/loki:3100', used: 'monitoring/loki-stack:3100', how: 'monitoring/loki does not exist; using monitoring/loki-stack:3100', substitute: true }),
    ]),
    rec('the ServiceMonitor is applied', ['@OBS-01'], [
      record({ kind: 'change', object: 'ServiceMonitor monitoring/taskplanner', why: 'applied from manifests/ and left in the cluster on purpose' }),
      record({ kind: 'endpoint', component: 'prometheus', configured: 'monitoring/prometheus-operated:9090', used: 'monitoring/prometheus-operated:9090', how: 'Service from PROMETHEUS_SERVICE', substitute: false }),
    ]),
  ];

  test('kube context and API server, each endpoint as used, commit, run id, start and end, changes made, warnings', () => {
    const s = summarize(tests, run);
    const env = s.environment;
    assert.equal(env.suiteCommit, run.context?.suiteCommit);
    assert.deepEqual([env.runId, env.startTime, env.endTime], ['abcd1234', '2026-11-30T02:17:00.000Z', '2026-11-30T02:18:00.000Z']);
    assert.deepEqual([env.kubernetes.context, env.kubernetes.contextFrom, env.kubernetes.server, env.kubernetes.version], ['prod', 'current-context', 'https://10.0.0.1:6443', 'v1.33.4+k3s1']);
    assert.deepEqual(env.endpoints.map((e) => [e.component, e.used, e.substitute]), [
      ['prometheus', 'monitoring/prometheus-operated:9090', false],
      ['loki', 'monitoring/loki-stack:3100', true],
    ]);
    assert.deepEqual(env.changes, [{ object: 'ServiceMonitor monitoring/taskplanner', why: 'applied from manifests/ and left in the cluster on purpose', by: 'the ServiceMonitor is applied' }]);

    const md = renderMarkdown(s);
    assert.match(md, /⚠ loki was reached through a substitute: monitoring\/loki-stack:3100 in place of the configured monitoring\/loki:3100/);
    assert.match(md, /\| Kubernetes \| context prod \(the kube config's current context: KUBE_CONTEXT is not set\), API server https:\/\/10\.0\.0\.1:6443 \(v1\.33\.4\+k3s1, reached by preflight\)/);
    assert.match(md, /\| Run \| abcd1234, 2026-11-30T02:17:00\.000Z to 2026-11-30T02:18:00\.000Z \|/);
    assert.match(md, /### Changes made to the cluster[\s\S]*- ServiceMonitor monitoring\/taskplanner: applied from manifests\/ and left in the cluster on purpose \(applied by "the ServiceMonitor is applied"\)/);
    assert.match(md, /### Configuration warnings\n\n- LOKI_URI is set/);
  });

  test('an endpoint no test reached is listed as configured, not reached', () => {
    const s = summarize([rec('preflight', [], [])], { ...run });
    assert.deepEqual(s.environment.endpoints.map((e) => [e.component, e.used]), [
      ['prometheus', undefined],
      ['loki', undefined],
    ]);
    assert.match(s.environment.kubernetes.summary, /\(not reached in this run\)/);
    assert.match(renderMarkdown(s), /\| loki \| monitoring\/loki:3100 \(configured; not reached in this run\) \|/);
  });
});
