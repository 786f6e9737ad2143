/**
 * OBS-06's client code against the real pipeline: Debian's Prometheus and Alertmanager (the
 * local stack), a stand-in kube-state-metrics serving `kube_pod_container_status_waiting_reason`
 * for fake pods, and KubePodCrashLooping exactly as kube-prometheus-stack renders it
 * (test/rules/kube-pod-crashlooping.yaml) with only `for`, the range and the group interval
 * shortened. The same `AlertLifecycle` the spec uses must see pending, firing, delivery to
 * Alertmanager and resolution, each within the deadline it derives from what Prometheus reports.
 * Boundary: Kubernetes itself is not here; the exporter plays the pod's crash loop.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { AlertLifecycle, CRASHLOOP_ALERT, WATCHDOG_ALERT, isForPod } from '../fixtures/alertmanager/alert-lifecycle.ts';
import { scrapeIntervalOf } from '../fixtures/prometheus/scrape-interval.ts';
import { AlertmanagerClient } from '../fixtures/alertmanager/client.ts';
import { http } from '../fixtures/core/http.ts';
import { WaitTimeout, waitFor } from '../fixtures/core/poll.ts';
import { PrometheusClient } from '../fixtures/prometheus/client.ts';
import { startFakeKsmExporter, type FakeContainer, type FakeKsmExporter } from './support/fake-ksm-exporter.ts';
import { startAlertmanager, startPrometheus, type LocalPrometheus, type LocalService } from './support/local-stack.ts';

const ours: FakeContainer = { namespace: 'obs-acc-selftest', pod: 'crashloop', container: 'crash', uid: '6f1e' };
// Same pod name in another run's namespace, and another pod of ours waiting for another reason:
// neither may be mistaken for our alert.
const otherRun: FakeContainer = { namespace: 'obs-acc-otherrun', pod: 'crashloop', container: 'crash', uid: '7a2b' };
const puller: FakeContainer = { namespace: 'obs-acc-selftest', pod: 'puller', container: 'app', uid: '8c3d' };

interface RuleFile {
  groups: { name: string; interval?: string; rules: Record<string, unknown>[] }[];
}

/**
 * The chart-rendered rule with a short `for`, range and evaluation interval, plus the chart's
 * Watchdog, plus alerts nobody expected: KubeSchedulerDown and KubeControllerManagerDown as the
 * chart renders them (critical, `absent(up{job=...} == 1)`, firing on k3s where those targets
 * cannot be scraped; `for` dropped), a warning, and a critical alert about the run's own namespace.
 */
async function shortenedRules(): Promise<string> {
  const file = parse(await readFile(new URL('rules/kube-pod-crashlooping.yaml', import.meta.url), 'utf8')) as RuleFile;
  const group = file.groups[0];
  const rule = group?.rules[0];
  assert.ok(group && rule && rule.alert === CRASHLOOP_ALERT, 'rule file holds KubePodCrashLooping');
  assert.match(String(rule.expr), /\[5m\]/, 'the upstream expression uses a 5m range');
  group.interval = '1s';
  rule.for = '3s';
  rule.expr = String(rule.expr).replace('[5m]', '[2s]');
  // Watchdog as kube-prometheus-stack's general.rules renders it: always firing, no `for`.
  file.groups.push({ name: 'general.rules', interval: '1s', rules: [{ alert: WATCHDOG_ALERT, expr: 'vector(1)', labels: { severity: 'none' } }] });
  file.groups.push({
    name: 'unexpected',
    interval: '1s',
    rules: [
      { alert: 'KubeSchedulerDown', expr: 'absent(up{job="kube-scheduler"} == 1)', labels: { severity: 'critical' } },
      { alert: 'KubeControllerManagerDown', expr: 'absent(up{job="kube-controller-manager"} == 1)', labels: { severity: 'critical' } },
      { alert: 'KubeMemoryOvercommit', expr: 'vector(1)', labels: { severity: 'warning' } },
      { alert: 'KubePodNotReady', expr: 'vector(1)', labels: { severity: 'critical', namespace: ours.namespace, pod: ours.pod } },
    ],
  });
  return stringify(file);
}

/**
 * Slack per step of the derived deadlines (the suite's default is 30 s). Generous on purpose: the
 * deadlines are judged against a real Prometheus, which a loaded 2-core machine may slow by
 * seconds; the arithmetic itself is checked exactly in test/alerts-deadlines.test.ts.
 */
const SLACK = 15;

void describe('OBS-06 alert lifecycle against real Prometheus and Alertmanager (kube-state-metrics stand-in)', () => {
  let prom: LocalPrometheus;
  let am: LocalService;
  let ksm: FakeKsmExporter;
  let prometheus: PrometheusClient;
  let alertmanager: AlertmanagerClient;

  before(async () => {
    ksm = await startFakeKsmExporter();
    am = await startAlertmanager();
    prom = await startPrometheus({
      alertmanagerUrl: am.url,
      ruleFiles: { 'crashloop.yml': await shortenedRules() },
      // kube-prometheus-stack's ServiceMonitor keeps kube-state-metrics' own namespace/pod labels.
      scrapeConfigs: [{ job_name: 'kube-state-metrics', honor_labels: true, scrape_interval: '1s', static_configs: [{ targets: [ksm.host] }] }],
    });
    prometheus = new PrometheusClient(prom.url);
    alertmanager = new AlertmanagerClient(am.url);
    // A Prometheus that has just started finds its Alertmanager only with the next discovery
    // round (about 5 s); on the cluster it has long done so. Wait for that, not for the alert.
    await waitFor(
      'Prometheus to discover the local Alertmanager',
      async () => (await http<{ data: { activeAlertmanagers: unknown[] } }>({ url: `${prom.url}/api/v1/alertmanagers` })).json.data.activeAlertmanagers.length,
      (n) => (n > 0 ? undefined : 'no active Alertmanager yet'),
      { timeoutMs: 60_000, intervalsMs: [200] },
    );
    // Likewise the scrape target: the rule's timing is read from it, as on a running cluster.
    await waitFor(
      'Prometheus to discover the kube-state-metrics stand-in',
      () => prometheus.targets('active'),
      (t) => (t.activeTargets.some((x) => x.labels.job === 'kube-state-metrics') ? undefined : 'no kube-state-metrics target yet'),
      { timeoutMs: 60_000, intervalsMs: [200] },
    );
  });
  after(async () => {
    await prom?.stop();
    await am?.stop();
    await ksm?.stop();
  });

  void it('reads for, evaluation interval, range and scrape interval from Prometheus, and sees Watchdog in Alertmanager', async () => {
    const lifecycle = new AlertLifecycle(prometheus, alertmanager, ours, { slackSeconds: SLACK, intervalsMs: [200] });
    const loaded = await lifecycle.loadRule();
    assert.equal(loaded.rule.health, 'ok');
    assert.deepEqual(loaded.timing, { forSeconds: 3, evaluationSeconds: 1, scrapeSeconds: 1, rangeSeconds: 2 });
    assert.equal(loaded.job, 'kube-state-metrics');
    assert.equal(loaded.scrapeIntervalFrom, 'target job="kube-state-metrics" (targets API)');
    // A job with no target falls back to the running config's global interval, and says so.
    assert.deepEqual(await scrapeIntervalOf(prometheus, 'no-such-job'), { seconds: 1, from: 'global scrape_interval (no active target with job="no-such-job")', targets: 0 });
    assert.equal(loaded.rule.labels?.severity, 'warning');
    const watchdog = await lifecycle.watchdog();
    assert.equal(watchdog.length, 1);
    assert.equal(watchdog[0]?.labels.severity, 'none');
  });

  void it('follows KubePodCrashLooping for exactly our pod: pending, firing, in Alertmanager, resolved, each within its deadline', async () => {
    const lifecycle = new AlertLifecycle(prometheus, alertmanager, ours, { slackSeconds: SLACK, intervalsMs: [200] });
    const d = await lifecycle.deadlines();
    assert.deepEqual(
      [d.pending.seconds, d.firing.seconds, d.delivered.seconds, d.resolved.seconds],
      [1 + 1 + SLACK, 2 + SLACK + 3 + 1 + SLACK, 6 + 2 * SLACK + 1 + SLACK, 2 + 1 + 1 + SLACK],
      'deadlines derived from the loaded rule',
    );

    ksm.setWaiting(otherRun, 'CrashLoopBackOff');
    ksm.setWaiting(puller, 'ImagePullBackOff');
    ksm.setWaiting(ours, 'CrashLoopBackOff');
    lifecycle.crashLoopSeen();

    const pending = await lifecycle.pending();
    assert.ok(isForPod(pending.labels, ours));
    assert.equal(pending.labels.container, 'crash');
    assert.equal(pending.labels.reason, 'CrashLoopBackOff');

    const firing = await lifecycle.firing();
    assert.equal(firing.state, 'firing');
    assert.deepEqual([firing.labels.namespace, firing.labels.pod, firing.labels.severity], [ours.namespace, ours.pod, 'warning']);

    const delivered = await lifecycle.delivered();
    assert.deepEqual([delivered.labels.alertname, delivered.labels.namespace, delivered.labels.pod], [CRASHLOOP_ALERT, ours.namespace, ours.pod]);
    assert.equal(delivered.annotations.summary, 'Pod is crash looping.');
    assert.equal(delivered.status.state, 'active');
    // The other run's alert exists too; ours was picked by labels, not by being the only one.
    assert.equal((await alertmanager.alerts({ alertname: CRASHLOOP_ALERT })).length, 2, 'two crash-looping pods, two alerts');

    ksm.remove(ours);
    lifecycle.podRemoved();
    await lifecycle.resolved();
    const stillThere = await alertmanager.alerts({ alertname: CRASHLOOP_ALERT });
    assert.deepEqual(
      stillThere.map((a) => a.labels.namespace),
      [otherRun.namespace],
      'only our alert resolved',
    );

    const steps = lifecycle.timeline.entries.map((e) => e.step);
    assert.deepEqual(steps, [
      'pod in CrashLoopBackOff (Kubernetes API)',
      `${CRASHLOOP_ALERT} pending in Prometheus`,
      `${CRASHLOOP_ALERT} firing in Prometheus`,
      `${CRASHLOOP_ALERT} in Alertmanager`,
      'pod removed',
      `${CRASHLOOP_ALERT} resolved in Prometheus`,
      `${CRASHLOOP_ALERT} resolved in Alertmanager`,
    ]);
    for (const e of lifecycle.timeline.entries) assert.notEqual(e.withinDeadline, false, `${e.step} within its deadline:\n${lifecycle.timeline.table()}`);
    const firingEntry = lifecycle.timeline.entries[2];
    // Firing cannot come sooner than `for` after the series appeared (the real `for` is honoured).
    assert.ok((firingEntry?.actualSeconds ?? 0) >= 3, `fired after ${firingEntry?.actualSeconds} s, for is 3 s`);
    assert.match(lifecycle.timeline.table(), new RegExp(`KubePodCrashLooping firing in Prometheus\\s+crash loop seen\\s+≤ ${6 + 2 * SLACK} s`));
    ksm.remove(otherRun);
    ksm.remove(puller);
  });

  void it('times out at the derived deadline, saying how it was derived and which hop is missing, when the pod never crash-loops', async () => {
    const never = { namespace: 'obs-acc-selftest', pod: 'never-crashes' };
    const lifecycle = new AlertLifecycle(prometheus, alertmanager, never, { slackSeconds: 0, intervalsMs: [200] });
    lifecycle.crashLoopSeen();
    await assert.rejects(lifecycle.pending(), (err: unknown) => {
      assert.ok(err instanceof WaitTimeout);
      // The wait was given what was left of the derived 2 s, never a longer default (a setting, not a measured time).
      const given = Number(/\(deadline ([\d.]+) s\)/.exec(err.message)?.[1]);
      assert.ok(given > 0 && given <= 2, `the wait's own deadline was ${given} s: ${err.message}`);
      assert.match(err.message, /KubePodCrashLooping for pod obs-acc-selftest\/never-crashes to be pending/);
      assert.match(err.message, /deadline: 2 s = scrape 1 s \+ evaluation 1 s \+ slack 0 s, counted from "crash loop seen"/);
      assert.match(err.message, /CrashLoopBackOff series for the pod is not in Prometheus/);
      return true;
    });
  });

  void it("lists every firing alert besides Watchdog and the run's own; each critical one that would page is named with its labels", async () => {
    const lifecycle = new AlertLifecycle(prometheus, alertmanager, ours, { slackSeconds: SLACK, intervalsMs: [200] });
    // A silenced critical alert pages nobody: it is listed, and does not count against the pipeline.
    await http({
      method: 'POST',
      url: `${am.url}/api/v2/silences`,
      body: {
        matchers: [{ name: 'alertname', value: 'KubeControllerManagerDown', isRegex: false, isEqual: true }],
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        createdBy: 'obs06 self-test',
        comment: 'silenced on purpose',
      },
    });
    const expected = ['KubeSchedulerDown', 'KubeControllerManagerDown', 'KubeMemoryOvercommit'];
    const { value: others } = await waitFor(
      'the unexpected alerts in Alertmanager, the silence applied',
      () => lifecycle.otherFiring(),
      (o) => {
        const names = o.alerts.map((a) => a.labels.alertname);
        const silenced = o.alerts.find((a) => a.labels.alertname === 'KubeControllerManagerDown')?.state === 'suppressed';
        return expected.every((n) => names.includes(n)) && silenced ? undefined : `seen so far: ${names.join(', ') || 'none'}`;
      },
      { timeoutMs: 60_000, intervalsMs: [200] },
    );
    const names = others.alerts.map((a) => a.labels.alertname);
    assert.ok(!names.includes(WATCHDOG_ALERT), 'Watchdog is the pipeline working, not an unexpected alert');
    assert.ok(!others.alerts.some((a) => a.labels.namespace === ours.namespace), "the run's own alerts (its namespace) are not listed");
    assert.deepEqual(names.slice(0, 2), ['KubeSchedulerDown', 'KubeControllerManagerDown'], 'critical first');
    // absent(… == 1) carries no labels of the selector: the chart's alert has only its severity (and external labels).
    assert.deepEqual(others.critical, ['KubeSchedulerDown{severity="critical"}']);
    assert.match(others.message, /1 critical alert\(s\) fire besides Watchdog and this run's own, each paging someone:\n {2}- KubeSchedulerDown\{severity="critical"\} active since \S+/);
    assert.match(others.message, /kubeScheduler\.enabled.*manifests\/kube-prometheus-stack\/values\.yaml/);
    assert.match(others.summary, /^\d+: KubeSchedulerDown\{severity="critical"\}; KubeControllerManagerDown\{severity="critical"\} \(silenced\); /);
    assert.match(others.summary, /KubeMemoryOvercommit\{severity="warning"\}/);
  });
});
