/**
 * The suite's Kubernetes layer (fixtures/kube/) against the real kube-apiserver 1.36 of the
 * simulated cluster, acting as the CI account (manifests/rbac/: RBAC plus the admission policy,
 * token from `npm run sim:ci-kubeconfig`'s script): server-side apply of pods and of a custom
 * resource, conflicts with another field manager, 404, what RBAC and the policy refuse, waits that
 * end at once on a broken pod, logs (current and previous) and events as the kubelet's stand-in
 * (kwok) serves them, port-forward to the real processes behind Services, and the ledger's
 * teardown, newest first, keeping what it could not delete.
 *
 * What the simulated cluster cannot produce stays replayed in test/kube-client.test.ts (a failed
 * mount, an OOM kill). Needs `npm run sim:up`; fails, naming it, without.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PatchStrategy, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { http } from '../../fixtures/core/http.ts';
import { StopWaiting, waitFor, WaitTimeout } from '../../fixtures/core/poll.ts';
import { KubeClient } from '../../fixtures/kube/client.ts';
import { KubeError } from '../../fixtures/kube/errors.ts';
import { openPortForward, resolveBackend } from '../../fixtures/kube/route.ts';
import { admin, ci, CI_USER, requireSim, runIdFor, suiteKube, type Clients } from '../support/sim.ts';

const CRASHLOOP_MANIFEST = 'manifests/crashloop/crashloop-pod.yaml';
const SERVICE_MONITOR_MANIFEST = 'manifests/taskplanner/servicemonitor.yaml';

const dir = mkdtempSync(join(tmpdir(), 'obs-sim-kube-'));
const runId = runIdFor('simk');
let kube: KubeClient;
let adm: Clients;
let ciAccount: Clients;
let ns: string;

/** A pod kwok plays Running and Ready at once (no special label, no image the runner knows). */
function pod(name: string, image = 'docker.io/library/busybox:1.37.0', labels: Record<string, string> = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: name, ...labels } },
    spec: { restartPolicy: 'Always', terminationGracePeriodSeconds: 1, automountServiceAccountToken: false, containers: [{ name: 'main', image, command: ['sleep', '3600'] }] },
  };
}

async function managers(ref: { apiVersion: string; kind: string; namespace?: string; name: string }): Promise<string[]> {
  const o = await adm.objects.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) } });
  return (o.metadata?.managedFields ?? []).map((f) => `${f.manager ?? '?'} ${f.operation ?? '?'}`);
}

/** Waits (as the admin) until a pod's container shows one of `reasons` as its waiting reason. */
function waitForWaiting(name: string, reasons: string[]): Promise<unknown> {
  return waitFor(
    `pod ${ns}/${name} waiting with ${reasons.join(' or ')} (kwok's Stage)`,
    () => adm.core.readNamespacedPod({ namespace: ns, name }),
    (p) => (p.status?.containerStatuses?.some((c) => reasons.includes(c.state?.waiting?.reason ?? '')) ? undefined : `containers: ${JSON.stringify(p.status?.containerStatuses?.map((c) => c.state) ?? [])}`),
    { timeoutMs: 60_000, derivation: 'fixed 60 s: kwok plays the Stage within seconds' },
  );
}

void describe('the Kubernetes layer against the real API server of the simulated cluster, as the CI account', () => {
  before(async () => {
    await requireSim();
    adm = admin();
    ciAccount = await ci();
    kube = await suiteKube(runId, dir);
    ns = kube.runNamespace;
  });
  after(async () => {
    // The cluster is shared: whatever a failed test left of this run goes.
    await adm?.core.deleteNamespace({ name: ns }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  void it('apply: the run namespace and a pod by server-side apply under the field manager obs-acceptance, run-labelled, in the ledger in order', async () => {
    assert.equal(await kube.ensureRunNamespace(), ns);
    const [applied] = await kube.apply([pod('ready')]);
    assert.equal(applied?.metadata?.labels?.['obs-acceptance.io/run-id'], runId);
    await kube.ensureRunNamespace(); // idempotent: recorded once, still first

    const namespace = await adm.core.readNamespace({ name: ns });
    assert.deepEqual(
      { suite: namespace.metadata?.labels?.['obs-acceptance.io/suite'], run: namespace.metadata?.labels?.['obs-acceptance.io/run-id'] },
      { suite: 'obs-acceptance', run: runId },
    );
    assert.deepEqual(await managers({ apiVersion: 'v1', kind: 'Namespace', name: ns }), ['obs-acceptance Apply']);
    assert.ok((await managers({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: 'ready' })).includes('obs-acceptance Apply'));
    assert.deepEqual(
      kube.ledger.entries().map((e) => `${e.kind} ${e.namespace ?? ''}/${e.name}`),
      [`Namespace /${ns}`, `Pod ${ns}/ready`],
    );
  });

  void it('apply of a custom resource (the TaskPlanner ServiceMonitor, as OBS-01 applies it): validated, applied with track: false, so neither run-labelled nor in the ledger', async () => {
    const kept: string[] = [];
    const keeping = new KubeClient({ kc: ciAccount.kc, runId, namespacePrefix: 'obs-acc', ledger: kube.ledger, onKept: (ref) => kept.push(`${ref.kind} ${ref.namespace}/${ref.name}`) });
    const objects = await keeping.loadManifests(SERVICE_MONITOR_MANIFEST);
    const [sm] = await keeping.apply(objects.slice(0, 1), { track: false });
    assert.equal(sm?.metadata?.labels?.release, 'kube-prometheus-stack');
    assert.equal(sm?.metadata?.labels?.['obs-acceptance.io/run-id'], undefined);
    await keeping.apply([pod('tracked')]);
    assert.deepEqual(kept, ['ServiceMonitor default/taskplanner'], 'only what stays on purpose is reported (OBS-01 records it for the sign-off)');
    assert.ok((await managers({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', namespace: 'default', name: 'taskplanner' })).includes('obs-acceptance Apply'));
    assert.ok(!kube.ledger.entries().some((e) => e.kind === 'ServiceMonitor'));
  });

  void it('409: a field another manager owns is a conflict naming that manager and the field; force takes it over', async () => {
    await adm.objects.patch(
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ready', namespace: ns, labels: { owner: 'another-tool' } } },
      undefined,
      undefined,
      'another-tool',
      false,
      PatchStrategy.ServerSideApply,
    );
    const mine = pod('ready', undefined, { owner: 'obs-acceptance' });
    await assert.rejects(kube.apply([mine]), (err: unknown) => {
      assert.ok(err instanceof KubeError, String(err));
      assert.equal(err.status, 409);
      assert.match(err.message, new RegExp(`^Server-side apply of Pod ${ns}/ready failed: HTTP 409 Conflict`));
      assert.match(err.message, /\.metadata\.labels\.owner: conflict with "another-tool"/);
      assert.match(err.message, /apply with force/);
      return true;
    });
    const [forced] = await kube.apply([mine], { force: true });
    assert.equal(forced?.metadata?.labels?.owner, 'obs-acceptance');
  });

  void it('404: get answers undefined and delete counts as done; 403: what RBAC and the admission policy refuse is named', async () => {
    assert.equal(await kube.get({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: 'absent' }), undefined);
    assert.equal(await kube.remove({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: 'absent' }), 'gone');
    await kube.delete({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: 'absent' });

    await assert.rejects(kube.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'default', name: 'anything' }), (err: unknown) => {
      assert.ok(err instanceof KubeError, String(err));
      assert.equal(err.status, 403);
      assert.match(err.message, new RegExp(`User "${CI_USER}" cannot get resource "secrets" in API group "" in the namespace "default"`));
      assert.match(err.message, /manifests\/rbac\/README\.md/);
      return true;
    });
    // RBAC lets the account create pods anywhere (run namespaces do not exist in advance); the policy does not.
    await assert.rejects(kube.apply([{ ...pod('outside'), metadata: { name: 'outside', namespace: 'default' } }], { track: false }), (err: unknown) => {
      assert.ok(err instanceof KubeError, String(err));
      assert.equal(err.status, 403);
      assert.match(err.message, /obs-acceptance-ci-writes/);
      return true;
    });
    assert.equal((await adm.core.listNamespacedPod({ namespace: 'default', fieldSelector: 'metadata.name=outside' })).items.length, 0);
  });

  void it('waitForPodsReady returns Ready pods, and ends at once, with the reason, on a pod in ImagePullBackOff', async () => {
    const ready = await kube.waitForPodsReady(ns, 'app=ready', { timeoutMs: 60_000, count: 1 });
    assert.deepEqual(ready.map((p) => p.metadata?.name), ['ready']);

    await kube.apply([pod('pull', 'docker.io/library/busybox:does-not-exist')]);
    await waitForWaiting('pull', ['ErrImagePull', 'ImagePullBackOff']);
    let lists = 0;
    const listPods = kube.listPods.bind(kube);
    kube.listPods = (namespace, selector) => {
      lists++;
      return listPods(namespace, selector);
    };
    try {
      await assert.rejects(kube.waitForPodsReady(ns, 'app=pull', { timeoutMs: 600_000 }), (err: unknown) => {
        assert.ok(err instanceof StopWaiting, `not stopped at once: ${String(err)}`);
        assert.match(err.message, new RegExp(`pod ${ns}/pull container main is (ErrImagePull|ImagePullBackOff)`));
        assert.match(err.message, /does-not-exist/);
        return true;
      });
    } finally {
      kube.listPods = listPods;
    }
    assert.equal(lists, 1, 'the first look at the pods ended the wait');
  });

  void it('a pod whose image cannot be pulled never starts, also when it carries the crash-loop labels or a runner image (kwok draws among matching weighted Stages at random)', async () => {
    // With overlapping Stages one pod in three crash-looped instead (CI run of bb801a5); eight
    // pods of each kind make a random pick show with a chance above 96 %.
    const crashLoopLabels = { 'app.kubernetes.io/name': 'crashloop', 'app.kubernetes.io/part-of': 'obs-acceptance' };
    const pods = Array.from({ length: 8 }, (_, i) => [
      pod(`pull-crash-${i}`, 'docker.io/library/busybox:does-not-exist', { ...crashLoopLabels, 'sim-test': 'unpullable' }),
      pod(`pull-runner-${i}`, 'quay.io/prometheus/prometheus:does-not-exist', { 'sim-test': 'unpullable' }),
    ]).flat();
    await kube.ensureRunNamespace();
    try {
      // Not in the ledger: the teardown test below counts exactly what the earlier tests recorded.
      await kube.apply(pods, { track: false });
      const pulling = ['ErrImagePull', 'ImagePullBackOff'];
      const stateOf = (p: V1Pod): string => JSON.stringify(p.status?.containerStatuses?.map((c) => ({ ...c.state, ...(c.lastState?.terminated ? { lastTerminated: c.lastState.terminated.reason } : {}) })) ?? 'no container status');
      // Played: a container status other than the runner Stage's bare ContainerCreating, or that
      // Stage itself (Running with an address), so an overlap fails on the assertion below.
      const played = (p: V1Pod): boolean =>
        (p.status?.phase === 'Running' && !!p.status.podIP) ||
        !!p.status?.containerStatuses?.every((c) => c.state?.running || c.lastState?.terminated || (c.state?.waiting?.reason && c.state.waiting.reason !== 'ContainerCreating'));
      const settled = await waitFor(
        'every pull-* pod played by a Stage (waiting with a reason other than ContainerCreating, or started)',
        async () => (await adm.core.listNamespacedPod({ namespace: ns, labelSelector: 'sim-test=unpullable' })).items,
        (list) => {
          const open = list.filter((p) => !played(p));
          return list.length === pods.length && open.length === 0 ? undefined : `${list.length} pods, still unplayed: ${open.map((p) => p.metadata?.name).join(', ')}`;
        },
        { timeoutMs: 120_000, derivation: 'fixed 120 s: kwok plays the image-pull Stage after 0.5 s' },
      );
      const started = settled.value
        .filter((p) => !p.status?.containerStatuses?.every((c) => pulling.includes(c.state?.waiting?.reason ?? '') && !c.lastState?.terminated))
        .map((p) => `${p.metadata?.name}: phase ${p.status?.phase}, ${stateOf(p)}`);
      assert.deepEqual(started, [], 'pods with an unpullable image that kwok played as something else');
    } finally {
      // They carry the crash-loop labels: left behind they would join the crash-loop tests below.
      await adm.core.deleteCollectionNamespacedPod({ namespace: ns, labelSelector: 'sim-test=unpullable', gracePeriodSeconds: 0 });
    }
  });

  void it('the crash-looping pod of manifests/ reaches CrashLoopBackOff with a terminated last state; a wait for Ready stops on it unless it is expected', async () => {
    await kube.apply(await kube.loadManifests(CRASHLOOP_MANIFEST, { NAMESPACE: ns }));
    const crashing = await kube.waitForContainerWaitingReason(ns, 'crashloop', 'CrashLoopBackOff', { timeoutMs: 120_000, derivation: 'fixed 120 s: kwok plays the first exit 1 s after start' });
    const status = crashing.status?.containerStatuses?.[0];
    assert.equal(status?.lastState?.terminated?.exitCode, 1);
    assert.ok((status?.restartCount ?? 0) >= 1, `restartCount ${status?.restartCount}`);

    await assert.rejects(kube.waitForPodsReady(ns, 'app.kubernetes.io/name=crashloop', { timeoutMs: 600_000 }), (err: unknown) => {
      assert.ok(err instanceof StopWaiting, String(err));
      assert.match(err.message, new RegExp(`pod ${ns}/crashloop container crash is CrashLoopBackOff`));
      return true;
    });
    // Expected: the wait goes on (and here ends at its deadline, since the pod never becomes Ready).
    await assert.rejects(
      kube.waitForPodsReady(ns, 'app.kubernetes.io/name=crashloop', { timeoutMs: 5_000, expectedProblems: ['CrashLoopBackOff'] }),
      (err: unknown) => err instanceof WaitTimeout && /0 of 1 pods Ready/.test(err.message),
    );
  });

  void it('logs, current and previous, with tailLines, as kwok serves them through the API server; events in time order', async () => {
    // The crash-looping pod: the one line kwok's ClusterLogs serves for it, current and previous.
    assert.match(await kube.podLogs(ns, 'crashloop', { container: 'crash' }), /obs-acceptance: crashing on purpose/);
    assert.match(await kube.podLogs(ns, 'crashloop', { container: 'crash', previous: true }), /obs-acceptance: crashing on purpose/);

    // A pod whose two runs wrote different lines: kwok's Logs object for it points at CRI-format files.
    const current = join(dir, 'current.log');
    const previous = join(dir, 'previous.log');
    writeFileSync(current, ['2026-11-30T10:00:01.000000000Z stdout F second run, line 1', '2026-11-30T10:00:02.000000000Z stdout F second run, line 2', ''].join('\n'));
    writeFileSync(previous, ['2026-11-30T09:59:00.000000000Z stderr F first run: boom', ''].join('\n'));
    await adm.objects.create({ apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'Logs', metadata: { name: 'ready', namespace: ns }, spec: { logs: [{ containers: ['main'], logsFile: current, previousLogsFile: previous }] } } as KubernetesObject);
    await waitFor(
      'kwok to serve the Logs object of pod ready',
      () => kube.podLogs(ns, 'ready', { container: 'main' }),
      (text) => (text.includes('second run') ? undefined : `logs: ${JSON.stringify(text)}`),
      { timeoutMs: 60_000, derivation: 'fixed 60 s: kwok watches Logs objects' },
    );
    assert.equal(await kube.podLogs(ns, 'ready', { container: 'main' }), 'second run, line 1\nsecond run, line 2\n');
    assert.equal(await kube.podLogs(ns, 'ready', { container: 'main', tailLines: 1 }), 'second run, line 2\n');
    assert.equal(await kube.podLogs(ns, 'ready', { container: 'main', previous: true }), 'first run: boom\n');

    const crashEvents = await kube.events(ns, 'crashloop');
    const reasons = crashEvents.map((e) => e.reason);
    assert.ok(reasons.includes('Scheduled') && reasons.includes('BackOff'), `events of crashloop: ${reasons.join(', ')}`);
    assert.ok(reasons.indexOf('Scheduled') < reasons.indexOf('BackOff'), `not in time order: ${reasons.join(', ')}`);
    assert.ok(crashEvents.every((e) => e.involvedObject.name === 'crashloop'));
    const pullReasons = (await kube.events(ns, 'pull')).map((e) => `${e.type} ${e.reason}`);
    // As a kubelet reports an image pull: the failure a Warning, the back-off Normal.
    assert.ok(pullReasons.includes('Warning Failed') && pullReasons.includes('Normal BackOff'), `events of pull: ${pullReasons.join(', ')}`);
  });

  void it('schedulable nodes: the three simulated nodes', async () => {
    assert.deepEqual((await kube.schedulableNodes()).map((n) => n.metadata?.name).sort(), ['obs-sim-agent-0', 'obs-sim-agent-1', 'obs-sim-server-0']);
  });

  void it('port-forward as the CI account: Service → named port → ready pod → the real process, after a real HTTP round trip', async () => {
    const prometheus = await openPortForward(ciAccount.kc, 'prometheus', { kind: 'cluster', namespace: 'monitoring', service: 'prometheus-operated', port: 9090 }, 60_000);
    try {
      assert.equal(prometheus.note, undefined);
      assert.equal((await http({ url: `${prometheus.url}/-/ready`, timeoutMs: 15_000 })).text, 'Prometheus Server is Ready.\n');
      assert.equal((await http({ url: `${prometheus.url}/nope`, timeoutMs: 15_000, acceptStatus: [404] })).status, 404);
    } finally {
      await prometheus.close();
    }
    const taskplanner = await openPortForward(ciAccount.kc, 'taskplanner', { kind: 'cluster', namespace: 'default', service: 'taskplanner', port: 3000 }, 60_000);
    try {
      assert.match((await http({ url: `${taskplanner.url}/metrics`, timeoutMs: 15_000 })).text, /^# HELP http_requests_total /m);
    } finally {
      await taskplanner.close();
    }
  });

  void it('port-forward: a configured Service that does not exist is replaced by the usual one, and says so', async () => {
    const r = await openPortForward(ciAccount.kc, 'alertmanager', { kind: 'cluster', namespace: 'monitoring', service: 'alertmanager-main', port: 9093 }, 60_000);
    try {
      assert.deepEqual(r.endpoint, { kind: 'cluster', namespace: 'monitoring', service: 'alertmanager-operated', port: 9093 });
      assert.equal(r.note, 'monitoring/alertmanager-main does not exist; using monitoring/alertmanager-operated:9093');
      assert.equal((await http({ url: `${r.url}/-/ready`, timeoutMs: 15_000 })).status, 200);
    } finally {
      await r.close();
    }
  });

  void it('port-forward fails at once, with the reason: no such Service anywhere (Loki), no such port, no ready pod behind it', async () => {
    const failsAtOnce = (opening: Promise<unknown>, reason: RegExp) =>
      assert.rejects(opening, (err: unknown) => {
        assert.ok(err instanceof Error && !(err instanceof WaitTimeout), `waited for the deadline: ${String(err)}`);
        assert.match(err.message, reason);
        return true;
      });
    await failsAtOnce(
      openPortForward(ciAccount.kc, 'loki', { kind: 'cluster', namespace: 'monitoring', service: 'loki', port: 3100 }, 600_000),
      /^No Service for loki found; tried monitoring\/loki \(configured\), monitoring\/loki-gateway, monitoring\/loki-stack, monitoring labelled app\.kubernetes\.io\/name=loki, monitoring labelled app=loki\. Set LOKI_SERVICE/,
    );
    await failsAtOnce(
      openPortForward(ciAccount.kc, 'prometheus', { kind: 'cluster', namespace: 'monitoring', service: 'prometheus-operated', port: 80 }, 600_000),
      /^Service monitoring\/prometheus-operated has no port 80; it has 9090 \(http-web\)/,
    );
    // A Service in front of the crash-looping pod: an endpoint, never ready. The account creates no Services: the admin does.
    await adm.core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'crashing' }, spec: { selector: { 'app.kubernetes.io/name': 'crashloop' }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] } },
    });
    await waitFor(
      'the EndpointSlice controller to list the crash-looping pod as a not-ready endpoint of Service crashing',
      () =>
        resolveBackend(ciAccount.kc, { kind: 'cluster', namespace: ns, service: 'crashing', port: 8080 }).then(
          (b) => `a ready backend ${b.pod}:${b.port}`,
          (err: unknown) => (err instanceof Error ? err.message : String(err)),
        ),
      (message) => (/\(1 endpoint\(s\), none ready\)/.test(message) ? undefined : message),
      { timeoutMs: 60_000, derivation: 'fixed 60 s: the EndpointSlice controller syncs within seconds' },
    );
    await failsAtOnce(
      openPortForward(ciAccount.kc, 'taskplanner', { kind: 'cluster', namespace: ns, service: 'crashing', port: 8080 }, 600_000),
      new RegExp(`^Service ${ns}/crashing port 8080 \\(http\\) has no ready pod endpoint \\(1 endpoint\\(s\\), none ready\\)`),
    );
  });

  void it('teardown: the ledger is emptied newest first, what is gone counts as done, what the account may not delete is kept and named', async () => {
    await adm.core.deleteNamespacedPod({ namespace: ns, name: 'pull', gracePeriodSeconds: 0 });
    // Written down before the namespace, so deleted last; the account may not delete in kube-system (RBAC).
    const forbidden = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kube-system', name: `obs-acc-${runId}-never` };
    const entries = kube.ledger.entries();
    kube.ledger.settle([]);
    kube.ledger.record(forbidden);
    for (const e of entries) kube.ledger.record(e);
    const order = kube.ledger.entries().reverse().map((e) => `${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name}`);

    const report = await kube.cleanupRun();
    assert.deepEqual(report.alreadyGone, [`Pod ${ns}/pull`]);
    assert.deepEqual(report.deleted, order.filter((o) => o !== `Pod ${ns}/pull` && !o.startsWith('ConfigMap')));
    assert.equal(report.failed.length, 1);
    assert.equal(report.failed[0]?.object, `ConfigMap kube-system/${forbidden.name}`);
    assert.match(report.failed[0]?.error ?? '', /HTTP 403 Forbidden: .*cannot delete resource "configmaps" in API group "" in the namespace "kube-system"/);
    assert.deepEqual(kube.ledger.entries().map((e) => e.name), [forbidden.name], 'only what failed is kept');
    kube.ledger.settle([]);

    await waitFor(
      `namespace ${ns} to be gone`,
      async () => {
        try {
          const n = await adm.core.readNamespace({ name: ns });
          return `${n.status?.phase ?? '?'}${n.metadata?.deletionTimestamp ? ' (deleted, finalizing)' : ''}`;
        } catch (err) {
          if ((err as { code?: number }).code === 404) return 'gone';
          throw err;
        }
      },
      (state) => (state === 'gone' ? undefined : state),
      { timeoutMs: 120_000, derivation: 'fixed 120 s for the namespace controller to delete what is left and the namespace' },
    );
  });
});
