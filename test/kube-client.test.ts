/**
 * The Kubernetes fixture (`KubeClient`) against replayed Kubernetes API responses
 * (test/support/kube-replay.ts names the documented shapes), only for what the simulated cluster
 * of `npm run sim:up` cannot produce:
 * - a failed mount: kwok mounts no volumes, so the kubelet's FailedMount event never comes;
 * - an OOM kill: neither kwok's Stages nor the pod runner's processes have a memory limit that kills;
 * - validation before apply: the point is that no request at all reaches the API server, which only
 *   a server that records every request can show.
 * Everything else of the Kubernetes layer (apply, conflicts, 404, 403, waits on ImagePullBackOff
 * and CrashLoopBackOff, logs, events, port-forward, the ledger's teardown) runs against the real
 * API server in test/sim/kube-layer.test.ts (`npm run test:sim`).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KubeClient } from '../fixtures/kube/client.ts';
import { Ledger } from '../fixtures/kube/ledger.ts';
import { ManifestValidationError, parseManifests } from '../fixtures/kube/manifests.ts';
import { WaitTimeout } from '../fixtures/core/poll.ts';
import type { ReplayServer } from './support/replay-server.ts';
import { event, eventList, pod, podList, replayKubeConfig, startKubeReplay } from './support/kube-replay.ts';

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

describe('Kubernetes fixture against replayed API responses (what the simulated cluster cannot produce)', () => {
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
});
