/**
 * The Kubernetes fixture (`KubeClient`, on @kubernetes/client-node) against replayed
 * Kubernetes API responses (test/support/kube-replay.ts names the documented shapes):
 * server-side apply, validation before apply, 404, 409 conflict, 403 forbidden, waits that
 * stop on broken pods, logs, events, a watch stream, and the ledger's cleanup.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeClient } from '../fixtures/kube/client.ts';
import { KubeError } from '../fixtures/kube/errors.ts';
import { Ledger } from '../fixtures/kube/ledger.ts';
import { ManifestValidationError, parseManifests } from '../fixtures/kube/manifests.ts';
import { StopWaiting, WaitTimeout } from '../fixtures/core/poll.ts';
import type { ReplayServer } from './support/replay-server.ts';
import {
  applyConflict,
  event,
  eventList,
  forbidden,
  notFound,
  pod,
  podList,
  replayKubeConfig,
  startKubeReplay,
  status,
} from './support/kube-replay.ts';

const NS = 'obs-acc-run1';
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'obs-kube-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function setup(routes: Parameters<typeof startKubeReplay>[0] = {}): Promise<{ server: ReplayServer; kube: KubeClient; ledger: Ledger }> {
  const server = await startKubeReplay(routes);
  const ledger = new Ledger(join(dir, `${Math.random().toString(36).slice(2)}.jsonl`));
  const kube = new KubeClient({ kc: replayKubeConfig(server.url), runId: 'run1', namespacePrefix: 'obs-acc', ledger });
  return { server, kube, ledger };
}

/** Echoes the applied object back, as the API server does for a successful apply. */
const echo = (req: { body: string }) => ({ status: 200, body: { ...(JSON.parse(req.body) as object), metadata: { ...(JSON.parse(req.body) as { metadata: object }).metadata, resourceVersion: '7' } } });

const configMap = (name: string): KubernetesObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS } });

describe('Kubernetes fixture against replayed API responses', () => {
  test('apply: server-side apply under the suite field manager, run labels added, recorded in the ledger', async (t) => {
    const { server, kube, ledger } = await setup({ [`PATCH /api/v1/namespaces/${NS}/configmaps/markers`]: echo });
    t.after(() => server.close());
    const [applied] = await kube.apply([{ ...configMap('markers'), data: { a: 'b' } } as KubernetesObject]);
    const patch = server.requests.find((r) => r.method === 'PATCH');
    assert.ok(patch, 'a PATCH was sent');
    assert.equal(patch.headers['content-type'], 'application/apply-patch+yaml');
    assert.equal(patch.query.get('fieldManager'), 'obs-acceptance');
    assert.equal(patch.query.get('force'), 'false');
    const sent = JSON.parse(patch.body) as KubernetesObject;
    assert.deepEqual(sent.metadata?.labels, { 'obs-acceptance.io/suite': 'obs-acceptance', 'obs-acceptance.io/run-id': 'run1' });
    assert.equal(applied?.metadata?.resourceVersion, '7');
    assert.deepEqual(
      ledger.entries().map((e) => `${e.kind} ${e.namespace}/${e.name}`),
      [`ConfigMap ${NS}/markers`],
    );
  });

  test('apply with track: false leaves the object unlabelled and out of the ledger', async (t) => {
    const { server, kube, ledger } = await setup({ 'PATCH /api/v1/namespaces/default/configmaps/keep': echo });
    t.after(() => server.close());
    await kube.apply([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep', namespace: 'default' } }], { track: false });
    const sent = JSON.parse(server.requests.find((r) => r.method === 'PATCH')?.body ?? '{}') as KubernetesObject;
    assert.equal(sent.metadata?.labels, undefined);
    assert.deepEqual(ledger.entries(), []);
  });

  test('an invalid manifest (ServiceMonitor interval "fifteen") is refused with file and field named, and nothing reaches the API server', async (t) => {
    const { server, kube } = await setup();
    t.after(() => server.close());
    const objects = parseManifests(
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: {name: fine, namespace: default}',
        '---',
        'apiVersion: monitoring.coreos.com/v1',
        'kind: ServiceMonitor',
        'metadata: {name: taskplanner, namespace: default}',
        'spec:',
        '  selector: {matchLabels: {app: taskplanner}}',
        '  endpoints: [{port: http, interval: fifteen}]',
      ].join('\n'),
      'manifests/taskplanner/broken.yaml',
    );
    await assert.rejects(kube.apply(objects), (err: unknown) => {
      assert.ok(err instanceof ManifestValidationError);
      assert.match(err.message, /manifests\/taskplanner\/broken\.yaml \(document 2\) ServiceMonitor default\/taskplanner: spec\.endpoints\[0\]\.interval must match pattern/);
      assert.match(err.message, /nothing was applied/);
      return true;
    });
    assert.deepEqual(server.requests, [], 'no request at all, not even discovery');
  });

  test('404: get answers undefined, delete counts as done', async (t) => {
    const { server, kube } = await setup({
      [`GET /api/v1/namespaces/${NS}/configmaps/absent`]: notFound('configmaps', 'absent'),
      [`DELETE /api/v1/namespaces/${NS}/configmaps/absent`]: notFound('configmaps', 'absent'),
    });
    t.after(() => server.close());
    assert.equal(await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name: 'absent' }), undefined);
    assert.equal(await kube.remove({ apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name: 'absent' }), 'gone');
    await kube.delete(configMap('absent'));
  });

  test('409 conflict on apply names the other field manager and the field, and what to do', async (t) => {
    const { server, kube } = await setup({ [`PATCH /apis/apps/v1/namespaces/${NS}/deployments/writer`]: applyConflict('kubectl-client-side-apply', '.spec.replicas') });
    t.after(() => server.close());
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'writer', namespace: NS },
      spec: { replicas: 2, selector: { matchLabels: { app: 'writer' } }, template: { metadata: { labels: { app: 'writer' } }, spec: { containers: [{ name: 'w', image: 'busybox:1.36' }] } } },
    } as KubernetesObject;
    await assert.rejects(kube.apply([deployment]), (err: unknown) => {
      assert.ok(err instanceof KubeError);
      assert.equal(err.status, 409);
      assert.match(err.message, /Server-side apply of Deployment obs-acc-run1\/writer failed: HTTP 409 Conflict/);
      assert.match(err.message, /\.spec\.replicas: conflict with "kubectl-client-side-apply"/);
      assert.match(err.message, /apply with force/);
      return true;
    });
  });

  test('403 forbidden names the missing permission and where the RBAC is documented', async (t) => {
    const { server, kube } = await setup({ [`GET /api/v1/namespaces/${NS}/pods`]: forbidden('list', 'pods', NS) });
    t.after(() => server.close());
    await assert.rejects(kube.listPods(NS, 'app=marker'), (err: unknown) => {
      assert.ok(err instanceof KubeError);
      assert.equal(err.status, 403);
      assert.match(err.message, /cannot list resource "pods" in API group "" in the namespace "obs-acc-run1"/);
      assert.match(err.message, /manifests\/rbac\/README\.md/);
      return true;
    });
  });

  test('waitForPodsReady stops at once on ImagePullBackOff, saying which pod and why', async (t) => {
    const { server, kube } = await setup({
      [`GET /api/v1/namespaces/${NS}/pods`]: { body: podList(pod({ name: 'marker-1', waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "busybox:nope"' } })) },
      [`GET /api/v1/namespaces/${NS}/events`]: { body: eventList() },
    });
    t.after(() => server.close());
    await assert.rejects(kube.waitForPodsReady(NS, 'app=marker', { timeoutMs: 30_000 }), (err: unknown) => {
      assert.ok(err instanceof StopWaiting);
      assert.match(err.message, /pod obs-acc-run1\/marker-1 container main is ImagePullBackOff: Back-off pulling image "busybox:nope"/);
      return true;
    });
    // At once: the first look at the pods ended the wait, no second poll.
    assert.equal(server.requests.filter((r) => r.path.endsWith('/pods')).length, 1, 'the pods were listed more than once');
    assert.equal(server.requests.find((r) => r.path.endsWith('/pods'))?.query.get('labelSelector'), 'app=marker');
  });

  test('waitForPodsReady stops on a failed mount (seen only in events) and on OOMKilled, unless expected', async (t) => {
    const { server, kube } = await setup({
      [`GET /api/v1/namespaces/${NS}/pods`]: { body: podList(pod({ name: 'marker-2' })) },
      [`GET /api/v1/namespaces/${NS}/events`]: {
        body: eventList(event({ kind: 'Pod', name: 'marker-2', uid: 'uid-marker-2' }, 'FailedMount', 'MountVolume.SetUp failed for volume "cfg" : configmap "absent" not found')),
      },
    });
    t.after(() => server.close());
    await assert.rejects(kube.waitForPodsReady(NS, 'app=marker', { timeoutMs: 30_000 }), /marker-2 is FailedMount: MountVolume\.SetUp failed for volume "cfg"/);
    server.route(`GET /api/v1/namespaces/${NS}/pods`, {
      body: podList(pod({ name: 'hog', phase: 'Running', waiting: { reason: 'CrashLoopBackOff' }, lastTerminated: { reason: 'OOMKilled', exitCode: 137 } })),
    });
    await assert.rejects(kube.waitForPodsReady(NS, 'app=hog', { timeoutMs: 30_000, expectedProblems: ['CrashLoopBackOff'] }), /hog container main is OOMKilled/);
    await assert.rejects(
      kube.waitForPodsReady(NS, 'app=hog', { timeoutMs: 1_500, expectedProblems: ['CrashLoopBackOff', 'OOMKilled'] }),
      (err: unknown) => err instanceof WaitTimeout && /0 of 1 pods Ready/.test(err.message),
    );
  });

  test('waitForPodsReady returns the pods once they are Ready', async (t) => {
    const { server, kube } = await setup({
      [`GET /api/v1/namespaces/${NS}/pods`]: [
        { body: podList(pod({ name: 'marker-3' })) },
        { body: podList(pod({ name: 'marker-3', ready: true })) },
      ],
      [`GET /api/v1/namespaces/${NS}/events`]: { body: eventList() },
    });
    t.after(() => server.close());
    const pods = await kube.waitForPodsReady(NS, 'app=marker', { timeoutMs: 10_000, count: 1 });
    assert.deepEqual(
      pods.map((p) => p.metadata?.name),
      ['marker-3'],
    );
  });

  test('pod logs, current and previous, and events in time order', async (t) => {
    const { server, kube } = await setup({
      [`GET /api/v1/namespaces/${NS}/pods/crasher/log`]: (req) => ({
        status: 200,
        headers: { 'content-type': 'text/plain' },
        body: req.query.get('previous') === 'true' ? 'previous run: boom\n' : 'current run\n',
      }),
      [`GET /api/v1/namespaces/${NS}/events`]: {
        body: eventList(
          { ...event({ kind: 'Pod', name: 'crasher' }, 'BackOff', 'Back-off restarting failed container'), lastTimestamp: '2026-01-10T10:05:00Z' },
          { ...event({ kind: 'Pod', name: 'crasher' }, 'Pulled', 'Container image already present', 'Normal'), lastTimestamp: '2026-01-10T10:01:00Z' },
        ),
      },
    });
    t.after(() => server.close());
    assert.equal(await kube.podLogs(NS, 'crasher', { container: 'main', previous: true, tailLines: 50 }), 'previous run: boom\n');
    assert.equal(await kube.podLogs(NS, 'crasher'), 'current run\n');
    const logReq = server.requests.find((r) => r.path.endsWith('/log'));
    assert.equal(logReq?.query.get('container'), 'main');
    assert.equal(logReq?.query.get('tailLines'), '50');
    const events = await kube.events(NS, 'crasher');
    assert.deepEqual(
      events.map((e) => e.reason),
      ['Pulled', 'BackOff'],
    );
    assert.equal(server.requests.at(-1)?.query.get('fieldSelector'), 'involvedObject.name=crasher');
  });

  test('cleanup deletes what the ledger holds newest first, counts 404 as gone, and keeps what failed', async (t) => {
    const { server, kube, ledger } = await setup({
      [`PATCH /api/v1/namespaces/${NS}`]: echo,
      [`PATCH /api/v1/namespaces/${NS}/configmaps/one`]: echo,
      [`PATCH /api/v1/namespaces/${NS}/configmaps/two`]: echo,
      [`DELETE /api/v1/namespaces/${NS}/configmaps/two`]: status(200, '', ''),
      [`DELETE /api/v1/namespaces/${NS}/configmaps/one`]: notFound('configmaps', 'one'),
      [`DELETE /api/v1/namespaces/${NS}`]: [forbidden('delete', 'namespaces', NS), { status: 200, body: { kind: 'Status', apiVersion: 'v1', status: 'Success' } }],
    });
    t.after(() => server.close());
    assert.equal(await kube.ensureRunNamespace(), NS);
    await kube.apply([configMap('one')]);
    await kube.apply([configMap('two')]);
    await kube.ensureRunNamespace(); // idempotent: recorded once, still first

    const first = await kube.cleanupRun();
    assert.deepEqual(
      server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path),
      [`/api/v1/namespaces/${NS}/configmaps/two`, `/api/v1/namespaces/${NS}/configmaps/one`, `/api/v1/namespaces/${NS}`],
    );
    assert.deepEqual(first.deleted, [`ConfigMap ${NS}/two`]);
    assert.deepEqual(first.alreadyGone, [`ConfigMap ${NS}/one`]);
    assert.equal(first.failed.length, 1);
    assert.match(first.failed[0]?.error ?? '', /403 Forbidden/);
    assert.deepEqual(
      ledger.entries().map((e) => e.kind),
      ['Namespace'],
      'only what failed is kept',
    );

    const second = await kube.cleanupRun();
    assert.deepEqual(second.deleted, [`Namespace ${NS}`]);
    assert.deepEqual(ledger.entries(), []);
  });
});
