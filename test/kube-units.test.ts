/**
 * Pure parts of the Kubernetes layer: reading pod health, rollout progress, run labels,
 * schedulable nodes, the ledger, choosing a port-forward backend, and the sweep's choice of
 * leftovers.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { isSchedulable, runNamespaceName, withRunLabels } from '../fixtures/kube/client.ts';
import { cleanupLedger, Ledger } from '../fixtures/kube/ledger.ts';
import { podProblems, unexpected } from '../fixtures/kube/pod-health.ts';
import { pickBackend } from '../fixtures/kube/route.ts';
import { chooseLeftovers } from '../fixtures/kube/sweep.ts';
import { event, pod } from './support/kube-replay.ts';

describe('pod health', () => {
  test('each broken state is named with its reason; expected ones are filtered out', () => {
    const cases: [Parameters<typeof pod>[0], string][] = [
      [{ name: 'a', waiting: { reason: 'ErrImagePull', message: 'not found' } }, 'ErrImagePull'],
      [{ name: 'b', waiting: { reason: 'CreateContainerConfigError', message: 'secret "x" not found' } }, 'CreateContainerConfigError'],
      [{ name: 'c', phase: 'Running', waiting: { reason: 'CrashLoopBackOff' }, lastTerminated: { reason: 'Error', exitCode: 1 } }, 'CrashLoopBackOff'],
      [{ name: 'd', unschedulable: '0/5 nodes are available: 5 Insufficient memory.' }, 'Unschedulable'],
    ];
    for (const [shape, reason] of cases) {
      assert.deepEqual(
        podProblems(pod(shape)).map((p) => p.reason),
        [reason],
        shape.name,
      );
    }
    const oom = podProblems(pod({ name: 'e', phase: 'Running', waiting: { reason: 'CrashLoopBackOff' }, lastTerminated: { reason: 'OOMKilled', exitCode: 137 } }));
    assert.deepEqual(
      oom.map((p) => p.reason),
      ['CrashLoopBackOff', 'OOMKilled'],
    );
    assert.deepEqual(
      unexpected(oom, ['CrashLoopBackOff']).map((p) => p.reason),
      ['OOMKilled'],
    );
    assert.deepEqual(podProblems(pod({ name: 'f' })), [], 'ContainerCreating is not broken');
  });

  test('a failed mount shows only in events, and only events about this pod count', () => {
    const p = pod({ name: 'g' });
    const other = event({ kind: 'Pod', name: 'h' }, 'FailedMount', 'not this one');
    const mine = event({ kind: 'Pod', name: 'g', uid: 'uid-g' }, 'FailedMount', 'MountVolume.SetUp failed for volume "data"');
    assert.deepEqual(podProblems(p, [other]), []);
    assert.deepEqual(
      podProblems(p, [other, mine]).map((x) => `${x.reason}: ${x.message}`),
      ['FailedMount: MountVolume.SetUp failed for volume "data"'],
    );
  });
});

describe('run identity', () => {
  test('run labels go on the object and its pod template; the namespace name is prefix-runId', () => {
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'writer', labels: { app: 'writer' } },
      spec: { template: { metadata: { labels: { app: 'writer' } } } },
    } as k8s.KubernetesObject;
    const labelled = withRunLabels(d, 'ab12cd34') as k8s.V1Deployment;
    const run = { 'obs-acceptance.io/suite': 'obs-acceptance', 'obs-acceptance.io/run-id': 'ab12cd34' };
    assert.deepEqual(labelled.metadata?.labels, { app: 'writer', ...run });
    assert.deepEqual(labelled.spec?.template.metadata?.labels, { app: 'writer', ...run });
    assert.deepEqual((d as k8s.V1Deployment).metadata?.labels, { app: 'writer' }, 'the original is untouched');
    assert.equal(runNamespaceName('obs-acc', 'ab12cd34'), 'obs-acc-ab12cd34');
  });

  test('schedulable nodes: cordoned and NoSchedule-tainted nodes are not, DaemonSet-tolerated taints are', () => {
    const node = (spec: k8s.V1NodeSpec): k8s.V1Node => ({ metadata: { name: 'n' }, spec });
    assert.ok(isSchedulable(node({})));
    assert.ok(!isSchedulable(node({ unschedulable: true })));
    assert.ok(!isSchedulable(node({ taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] })));
    assert.ok(isSchedulable(node({ taints: [{ key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' }] })));
    assert.ok(isSchedulable(node({ taints: [{ key: 'dedicated', effect: 'PreferNoSchedule' }] })));
  });
});

describe('ledger', () => {
  test('records each object once, in order; cleanup walks it newest first; parallel runs have their own files', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'obs-ledger-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const a = Ledger.forRun('runa', dir);
    const b = Ledger.forRun('runb', dir);
    a.record({ apiVersion: 'v1', kind: 'Namespace', name: 'obs-acc-runa' });
    a.record({ apiVersion: 'v1', kind: 'Pod', namespace: 'obs-acc-runa', name: 'p1' });
    b.record({ apiVersion: 'v1', kind: 'Namespace', name: 'obs-acc-runb' });
    a.record({ apiVersion: 'v1', kind: 'Namespace', name: 'obs-acc-runa' });
    a.record({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'obs-acc-runa', name: 'd1' });
    const order: string[] = [];
    const report = await cleanupLedger(a, (ref) => {
      order.push(`${ref.kind}/${ref.name}`);
      return Promise.resolve('deleted');
    });
    assert.deepEqual(order, ['Deployment/d1', 'Pod/p1', 'Namespace/obs-acc-runa']);
    assert.equal(report.deleted.length, 3);
    assert.deepEqual(a.entries(), []);
    assert.deepEqual(
      b.entries().map((e) => e.name),
      ['obs-acc-runb'],
      'the other run is untouched',
    );
    assert.throws(() => Ledger.forRun('../etc', dir), /Invalid run id/);
  });
});

describe('port-forward backend', () => {
  const port: k8s.V1ServicePort = { name: 'web', port: 9090, targetPort: 'web' };
  const slice = (ready: boolean, name: string): k8s.V1EndpointSlice => ({
    addressType: 'IPv4',
    metadata: { name: 'prometheus-operated-x' },
    ports: [{ name: 'web', port: 9090 }],
    endpoints: [{ addresses: ['10.42.0.9'], conditions: { ready }, targetRef: { kind: 'Pod', name } }],
  });

  test('the first ready pod endpoint on the named port, with the pod port from the slice', () => {
    assert.deepEqual(pickBackend('monitoring/prometheus-operated', port, [slice(false, 'p-0'), slice(true, 'p-1')]), { pod: 'p-1', port: 9090 });
    assert.throws(() => pickBackend('monitoring/prometheus-operated', port, [slice(false, 'p-0')]), /has no ready pod endpoint \(1 endpoint\(s\), none ready\)/);
  });
});

describe('sweep', () => {
  const now = Date.parse('2026-01-10T12:00:00Z');
  const obj = (kind: string, name: string, runId: string, created: string, namespace?: string): k8s.KubernetesObject => ({
    apiVersion: kind === 'ServiceMonitor' ? 'monitoring.coreos.com/v1' : 'v1',
    kind,
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      creationTimestamp: new Date(created),
      labels: { 'obs-acceptance.io/suite': 'obs-acceptance', 'obs-acceptance.io/run-id': runId },
    },
  });

  test('older than the age only, never the current run, namespaces last, nothing inside a swept namespace twice', () => {
    const leftovers = chooseLeftovers(
      [
        obj('Namespace', 'obs-acc-old1', 'old1', '2026-01-10T08:00:00Z'),
        obj('Pod', 'marker', 'old1', '2026-01-10T08:00:00Z', 'obs-acc-old1'),
        obj('ServiceMonitor', 'probe', 'old1', '2026-01-10T08:00:00Z', 'default'),
        obj('Namespace', 'obs-acc-live', 'live', '2026-01-10T11:30:00Z'),
        obj('Namespace', 'obs-acc-mine', 'mine', '2026-01-10T06:00:00Z'),
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'unlabelled', creationTimestamp: new Date('2026-01-01T00:00:00Z') } },
      ],
      { olderThanMs: 2 * 3_600_000, spare: ['mine'], now },
    );
    assert.deepEqual(
      leftovers.map((l) => `${l.kind} ${l.namespace ?? ''}/${l.name}`),
      ['ServiceMonitor default/probe', 'Namespace /obs-acc-old1'],
    );
  });
});
