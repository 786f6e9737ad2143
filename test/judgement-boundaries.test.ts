/**
 * Each judgement the suite makes, tried on both sides of its boundary: the value just
 * accepted and the value just refused. These are the cases a small change to the decision
 * (`>=` for `>`, a label dropped from a list, a secret form not redacted, a term left out of
 * a deadline) would slip through without. Pure functions, no services.
 * The TLS verdict's boundary (days left at CERT_MIN_DAYS ± 1) needs a real handshake and sits
 * with the TLS checks in test/tls-check.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { AlertTimeline, alertDeadlines } from '../fixtures/alertmanager/alert-lifecycle.ts';
import { redact, registerSecret } from '../fixtures/core/redact.ts';
import { REQUIREMENT_IDS } from '../fixtures/core/requirements.ts';
import { selectorMatches } from '../fixtures/kube/selectors.ts';
import { lokiVersion } from '../fixtures/loki/loki-config.ts';
import { judgeRetention } from '../fixtures/loki/retention.ts';
import { FILE_LABELS, PROMTAIL_LABELS, expectedPodLabels, labelProblems } from '../fixtures/loki/log-agents.ts';
import { prometheusSelects, serviceMonitorSelectsService, type ServiceMonitor } from '../fixtures/prometheus/service-monitor.ts';
import { summarize, type RunInfo, type TestRecord } from '../reporters/signoff-model.ts';

void describe('Loki retention: exactly 7 days, for every stream', () => {
  const v3 = lokiVersion('3.6.7', {});
  const noTenant = { tenant: 'fake', unavailable: 'not asked', failed: false } as const;
  const problemsFor = (limits: Record<string, unknown>, compactor: Record<string, unknown> = { retention_enabled: true, delete_request_store: 'filesystem' }) =>
    judgeRetention(v3, { compactor, limits_config: limits }, noTenant, 7).problems;

  for (const period of ['1w', '7d', '168h', '10080m', '604800s']) {
    void it(`passes ${period}`, () => assert.deepEqual(problemsFor({ retention_period: period }), []));
  }
  for (const period of ['6d23h', '6d', '167h59m59s', '1w1s', '7d1h', '8d']) {
    void it(`refuses ${period}, naming the period and the 7 days required`, () => {
      const problems = problemsFor({ retention_period: period });
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0] ?? '', new RegExp(`^all streams are kept ${period} \\(.*\\) by limits_config\\.retention_period, not 7 days \\(168h, printed "1w"\\)$`));
    });
  }
  void it('refuses 0s as never deleting', () => assert.match(problemsFor({ retention_period: '0s' }).join('\n'), /never deleted: limits_config\.retention_period is 0s \(0 means keep forever\)/));
  for (const [period, ok] of [['1w', true], ['6d23h', false], ['7d1h', false]] as const) {
    void it(`a retention_stream rule of ${period} beside retention_period 1w ${ok ? 'passes' : 'fails, naming its selector and period'}`, () => {
      const problems = problemsFor({ retention_period: '1w', retention_stream: [{ selector: '{namespace="default"}', priority: 1, period }] });
      if (ok) assert.deepEqual(problems, []);
      else assert.match(problems.join('\n'), new RegExp(`^streams matching \\{namespace="default"\\} are kept ${period} `));
    });
  }
  void it('refuses a 7-day period while retention is disabled, and a Loki 3 without a delete request store', () => {
    assert.match(problemsFor({ retention_period: '1w' }, { retention_enabled: false, delete_request_store: 'filesystem' }).join('\n'), /retention_enabled is not true/);
    assert.match(problemsFor({ retention_period: '1w' }, { retention_enabled: true }).join('\n'), /delete_request_store is empty while retention is enabled: Loki 3\.6\.7 would not start/);
  });
  void it('passes a Loki 2.9 without a delete request store (shared_store), refuses one without retention_enabled', () => {
    const v2 = lokiVersion('2.9.3', {});
    assert.deepEqual(judgeRetention(v2, { compactor: { retention_enabled: true, shared_store: 'filesystem', delete_request_store: '' }, limits_config: { retention_period: '1w' } }, noTenant, 7).problems, []);
    assert.match(judgeRetention(v2, { compactor: { shared_store: 'filesystem', delete_request_store: '' }, limits_config: { retention_period: '1w' } }, noTenant, 7).problems.join('\n'), /retention_enabled is not true/);
  });
});

void describe("Promtail's labels on an Alloy stream", () => {
  const pod: k8s.V1Pod = {
    metadata: { namespace: 'obs-acc-r1', name: 'obs-marker-main', uid: '0f3c2a9e-1b7d-4c55-9a0e-3d2f1e8b7c6a', labels: { 'app.kubernetes.io/name': 'obs-marker' } },
    spec: { nodeName: 'k3d-obs-acceptance-agent-1', containers: [{ name: 'marker' }] },
  };
  const good: Record<string, string> = {
    ...expectedPodLabels(pod, 'marker'),
    stream: 'stdout',
    filename: `/var/log/pods/obs-acc-r1_obs-marker-main_${pod.metadata?.uid}/marker/0.log`,
  };

  void it('a stream with every label as Promtail made it passes (plus the labels Loki adds itself)', () => {
    assert.deepEqual(labelProblems(good, pod, 'marker', 'stdout'), []);
    assert.deepEqual(labelProblems({ ...good, service_name: 'obs-marker', detected_level: 'info' }, pod, 'marker', 'stdout'), []);
  });

  void it("every label of Promtail's list is expected of every pod", () => {
    for (const label of PROMTAIL_LABELS) assert.ok(label in expectedPodLabels(pod, 'marker'), `${label} is not expected`);
  });

  for (const label of [...PROMTAIL_LABELS, ...FILE_LABELS]) {
    void it(`a stream without ${label} fails, naming it`, () => {
      const { [label]: _dropped, ...without } = good;
      assert.deepEqual(
        labelProblems(without, pod, 'marker', 'stdout').filter((p) => p.startsWith(`label ${label} `)),
        [`label ${label} is missing${label === 'filename' ? ` (expected /var/log/pods/obs-acc-r1_obs-marker-main_${pod.metadata?.uid}/marker/<n>.log)` : ` (expected ${label}="${good[label]}")`}`],
      );
    });
  }

  void it('a stream from another node (node_name of a different node) fails, naming both', () => {
    assert.deepEqual(labelProblems({ ...good, node_name: 'k3d-obs-acceptance-agent-0' }, pod, 'marker', 'stdout'), [
      `label node_name="k3d-obs-acceptance-agent-0" but Promtail's rules give node_name="k3d-obs-acceptance-agent-1"`,
    ]);
  });
});

void describe('redaction of a secret in every form it travels in', () => {
  // Characters that URL-encoding changes, and a length whose base64 carries padding.
  const secret = `Pw/${Math.random().toString(36).slice(2, 10)}+&=:x`;
  registerSecret(secret);
  const forms = {
    raw: secret,
    urlEncoded: encodeURIComponent(secret),
    base64: Buffer.from(secret).toString('base64'),
    base64Unpadded: Buffer.from(secret).toString('base64').replace(/=+$/, ''),
  };

  for (const [form, value] of Object.entries(forms)) {
    void it(`a text holding only the ${form} form keeps none of it`, () => {
      const out = redact(`upstream said: ${value} (end)`);
      assert.equal(out.includes(value), false, out);
      assert.match(out, /\[REDACTED\]/);
    });
  }

  void it('a hostile echo returning only the base64 of the secret, in JSON, keeps none of it', () => {
    const body = JSON.stringify({ status: 'ERROR', message: `proxy saw credentials ${forms.base64}` });
    const out = redact(body);
    for (const value of Object.values(forms)) assert.equal(out.includes(value), false, out);
  });

  void it('text without the secret is left as it is', () => {
    const text = `password policy: ${secret.slice(0, 3)}… is not the secret; Basic auth is used`;
    assert.equal(redact(text), text);
  });
});

void describe('ServiceMonitor selection: matchLabels and matchExpressions at their edges', () => {
  const labels = { release: 'kube-prometheus-stack', team: '' };
  const cases: Array<[string, Parameters<typeof selectorMatches>[0], boolean]> = [
    ['matchLabels with the same value', { matchLabels: { release: 'kube-prometheus-stack' } }, true],
    ['matchLabels with a value differing in case', { matchLabels: { release: 'Kube-Prometheus-Stack' } }, false],
    ['matchLabels with a value that only starts the same', { matchLabels: { release: 'kube-prometheus' } }, false],
    ['matchLabels asking for an empty value the label has', { matchLabels: { team: '' } }, true],
    ['matchLabels asking for an empty value of a missing label', { matchLabels: { tier: '' } }, false],
    ['matchLabels: one of two required labels missing', { matchLabels: { release: 'kube-prometheus-stack', app: 'x' } }, false],
    ['In with the value in the list', { matchExpressions: [{ key: 'release', operator: 'In', values: ['a', 'kube-prometheus-stack'] }] }, true],
    ['In with the value not in the list', { matchExpressions: [{ key: 'release', operator: 'In', values: ['a', 'b'] }] }, false],
    ['In on a missing label', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] }, false],
    ['In with an empty list', { matchExpressions: [{ key: 'release', operator: 'In', values: [] }] }, false],
    ['NotIn with the value in the list', { matchExpressions: [{ key: 'release', operator: 'NotIn', values: ['kube-prometheus-stack'] }] }, false],
    ['NotIn with the value not in the list', { matchExpressions: [{ key: 'release', operator: 'NotIn', values: ['other'] }] }, true],
    ['NotIn on a missing label', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }] }, true],
    ['Exists on a label with an empty value', { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, true],
    ['Exists on a missing label', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, false],
    ['DoesNotExist on a label with an empty value', { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, false],
    ['DoesNotExist on a missing label', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, true],
    ['matchLabels holding and one expression failing', { matchLabels: { release: 'kube-prometheus-stack' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, false],
    ['an empty selector', {}, true],
    ['empty matchLabels and matchExpressions', { matchLabels: {}, matchExpressions: [] }, true],
  ];
  for (const [what, selector, expected] of cases) {
    void it(`${what}: ${expected ? 'selected' : 'not selected'}`, () => assert.equal(selectorMatches(selector, labels), expected));
  }

  const sm: ServiceMonitor = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: 'taskplanner', namespace: 'default', labels: { release: 'kube-prometheus-stack' } },
    spec: { selector: { matchLabels: { app: 'taskplanner' } }, endpoints: [{ port: 'http' }] },
  };
  const prom = (spec: Parameters<typeof prometheusSelects>[0]['spec']) => ({ apiVersion: 'monitoring.coreos.com/v1' as const, kind: 'Prometheus' as const, metadata: { name: 'k', namespace: 'monitoring' }, spec });

  void it('a Prometheus with an empty serviceMonitorSelector selects it; a nil (absent) one does not', () => {
    assert.equal(prometheusSelects(prom({ serviceMonitorSelector: {}, serviceMonitorNamespaceSelector: {} }), sm, { 'kubernetes.io/metadata.name': 'default' }).selected, true);
    assert.equal(prometheusSelects(prom({ serviceMonitorNamespaceSelector: {} }), sm, {}).selected, false);
  });

  void it('a nil (absent) namespace selector selects only the Prometheus namespace: the same namespace passes, another fails', () => {
    const inMonitoring = { ...sm, metadata: { ...sm.metadata, namespace: 'monitoring' } };
    assert.equal(prometheusSelects(prom({ serviceMonitorSelector: {} }), inMonitoring, {}).selected, true);
    assert.equal(prometheusSelects(prom({ serviceMonitorSelector: {} }), sm, {}).selected, false);
  });

  void it('a namespace selector on a namespace label: present passes, missing fails', () => {
    const p = prom({ serviceMonitorSelector: {}, serviceMonitorNamespaceSelector: { matchExpressions: [{ key: 'monitoring', operator: 'Exists' }] } });
    assert.equal(prometheusSelects(p, sm, { monitoring: 'true' }).selected, true);
    assert.equal(prometheusSelects(p, sm, {}).selected, false);
  });

  void it('the ServiceMonitor selects a Service only with the label and the named port', () => {
    const svc = (labels: Record<string, string>, port: string) => ({ metadata: { name: 'taskplanner', namespace: 'default', labels }, spec: { ports: [{ name: port, port: 3000 }] } });
    assert.equal(serviceMonitorSelectsService(sm, svc({ app: 'taskplanner' }, 'http')).selected, true);
    assert.equal(serviceMonitorSelectsService(sm, svc({ app: 'taskplanner-v2' }, 'http')).selected, false);
    assert.equal(serviceMonitorSelectsService(sm, svc({ app: 'taskplanner' }, 'web')).selected, false);
  });
});

void describe('OBS-06 deadlines: each term counts, to the second', () => {
  const base = { forSeconds: 120, evaluationSeconds: 30, scrapeSeconds: 15, rangeSeconds: 300 };
  const seconds = (t: typeof base, slack = 30) => {
    const d = alertDeadlines(t, slack);
    return { pending: d.pending.seconds, firing: d.firing.seconds, delivered: d.delivered.seconds, resolved: d.resolved.seconds };
  };
  const at = seconds(base);

  // How many times each input enters each deadline (pending = scrape + evaluation + slack;
  // firing = pending + for + evaluation + slack; delivered = firing + evaluation + slack;
  // resolved = range + scrape + evaluation + slack).
  const weights: Record<keyof typeof base | 'slack', Record<keyof typeof at, number>> = {
    scrapeSeconds: { pending: 1, firing: 1, delivered: 1, resolved: 1 },
    evaluationSeconds: { pending: 1, firing: 2, delivered: 3, resolved: 1 },
    forSeconds: { pending: 0, firing: 1, delivered: 1, resolved: 0 },
    rangeSeconds: { pending: 0, firing: 0, delivered: 0, resolved: 1 },
    slack: { pending: 1, firing: 2, delivered: 3, resolved: 1 },
  };
  for (const [input, weight] of Object.entries(weights)) {
    for (const delta of [1, -1]) {
      void it(`${input} ${delta > 0 ? '+' : '−'}1 s moves each deadline by exactly its share`, () => {
        const moved = input === 'slack' ? seconds(base, 30 + delta) : seconds({ ...base, [input]: base[input as keyof typeof base] + delta });
        for (const step of Object.keys(at) as Array<keyof typeof at>) {
          assert.equal(moved[step], at[step] + delta * weight[step], `${step}: ${at[step]} s → ${moved[step]} s`);
        }
      });
    }
  }

  void it('an observation at the deadline is within it; one second later is LATE, one second earlier is within', () => {
    const t = new AlertTimeline();
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
    t.anchor('crash loop seen', t0);
    const within = (afterSeconds: number) => t.record('firing', 'crash loop seen', at.firing, undefined, t0 + afterSeconds * 1000).withinDeadline;
    assert.equal(within(at.firing - 1), true);
    assert.equal(within(at.firing), true);
    assert.equal(within(at.firing + 1), false);
    assert.equal(t.record('firing', 'crash loop seen', undefined, undefined, t0).withinDeadline, undefined, 'no deadline, no verdict');
  });
});

void describe('sign-off: one test decides its requirement', () => {
  const full: RunInfo = { status: 'passed', startTime: '2026-11-25T02:17:00.000Z', durationMs: 600_000, selected: [...REQUIREMENT_IDS] };
  const rec = (title: string, id: string, status: TestRecord['status'], outcome: TestRecord['outcome']): TestRecord => ({
    title,
    project: 'api',
    location: 'e2e/x.spec.ts:1',
    tags: [`@${id}`],
    status,
    outcome,
    durationMs: 1000,
    retries: 0,
    annotations: [],
  });
  const passing = () => REQUIREMENT_IDS.flatMap((id) => [rec(`${id} a`, id, 'passed', 'expected'), rec(`${id} b`, id, 'passed', 'expected'), rec(`${id} c`, id, 'passed', 'expected')]);
  const withLast = (status: TestRecord['status'], outcome: TestRecord['outcome']) => [...passing().slice(0, -1), rec('OBS-08 c', 'OBS-08', status, outcome)];
  const obs08 = (tests: TestRecord[]) => summarize(tests, full).requirements.find((r) => r.id === 'OBS-08');

  void it('all passed: passed, and the run is signed off', () => {
    assert.equal(obs08(passing())?.verdict, 'passed');
    assert.equal(summarize(passing(), full).signedOff, true);
  });

  const cases: Array<[string, TestRecord['status'], TestRecord['outcome'], string]> = [
    ['one failed among passes', 'failed', 'unexpected', 'failed'],
    ['one timed out among passes', 'timedOut', 'unexpected', 'failed'],
    ['one interrupted among passes', 'interrupted', 'unexpected', 'failed'],
    ['one skipped among passes', 'skipped', 'skipped', 'not run'],
    ['one never started among passes', undefined, 'skipped', 'not run'],
    ['one flaky (passed on retry) among passes', 'passed', 'flaky', 'passed'],
  ];
  for (const [what, status, outcome, verdict] of cases) {
    void it(`${what}: ${verdict}${verdict === 'passed' ? '' : ', and the run is not signed off'}`, () => {
      const tests = withLast(status, outcome);
      assert.equal(obs08(tests)?.verdict, verdict);
      assert.equal(summarize(tests, full).signedOff, verdict === 'passed');
    });
  }

  void it('a failed and a skipped test together: failed (the failure is not hidden by the skip)', () => {
    const tests = [...passing().slice(0, -2), rec('OBS-08 b', 'OBS-08', 'skipped', 'skipped'), rec('OBS-08 c', 'OBS-08', 'failed', 'unexpected')];
    assert.equal(obs08(tests)?.verdict, 'failed');
  });
});
