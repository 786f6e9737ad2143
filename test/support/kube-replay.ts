/**
 * Kubernetes API responses in their documented shapes, served by the generic replay server, for
 * the self-tests that cannot use the real API server of the simulated cluster (`npm run test:sim`,
 * test/sim/): states kwok does not produce (a failed mount, an OOM kill), requests that must not
 * happen at all, and tests that belong to `npm test`, which needs no cluster. Errors (404, 403,
 * 409) are no longer replayed: test/sim/kube-layer.test.ts gets them from the real API server.
 *
 * Sources of the shapes:
 * - Discovery (APIResourceList at /api/v1, /apis/GROUP/VERSION):
 *   https://kubernetes.io/docs/reference/using-api/api-concepts/#discovery-api (legacy, unaggregated form)
 * - Watch streams (newline-delimited {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":…}):
 *   https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes
 * - Pod status (conditions, containerStatuses with waiting/terminated reasons):
 *   https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/
 */
import { randomUUID } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { startReplayServer, type Routes, type ReplayServer } from './replay-server.ts';

export function replayKubeConfig(url: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'replay', server: url, skipTLSVerify: true }],
    users: [{ name: 'replay-user', token: `replay-${randomUUID()}` }],
    contexts: [{ name: 'replay', cluster: 'replay', user: 'replay-user', namespace: 'default' }],
    currentContext: 'replay',
  });
  return kc;
}

const resource = (name: string, kind: string, namespaced: boolean, verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']) => ({
  name,
  singularName: kind.toLowerCase(),
  namespaced,
  kind,
  verbs,
});

/** APIResourceList documents for the groups the suite uses. */
export const DISCOVERY: Record<string, unknown> = {
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      resource('namespaces', 'Namespace', false),
      resource('nodes', 'Node', false),
      resource('pods', 'Pod', true),
      { ...resource('pods/log', 'Pod', true, ['get']), singularName: '' },
      resource('services', 'Service', true),
      resource('configmaps', 'ConfigMap', true),
      resource('events', 'Event', true),
      resource('serviceaccounts', 'ServiceAccount', true),
    ],
  },
  '/apis/apps/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'apps/v1',
    resources: [resource('deployments', 'Deployment', true), resource('daemonsets', 'DaemonSet', true), resource('statefulsets', 'StatefulSet', true)],
  },
  '/apis/batch/v1': { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'batch/v1', resources: [resource('jobs', 'Job', true)] },
  '/apis/monitoring.coreos.com/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'monitoring.coreos.com/v1',
    resources: [
      resource('servicemonitors', 'ServiceMonitor', true),
      resource('prometheusrules', 'PrometheusRule', true),
      resource('prometheuses', 'Prometheus', true),
    ],
  },
  '/apis/discovery.k8s.io/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'discovery.k8s.io/v1',
    resources: [resource('endpointslices', 'EndpointSlice', true)],
  },
  '/apis/rbac.authorization.k8s.io/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'rbac.authorization.k8s.io/v1',
    resources: [
      resource('roles', 'Role', true),
      resource('rolebindings', 'RoleBinding', true),
      resource('clusterroles', 'ClusterRole', false),
      resource('clusterrolebindings', 'ClusterRoleBinding', false),
    ],
  },
};

export interface PodShape {
  name: string;
  namespace?: string;
  ready?: boolean;
  phase?: string;
  waiting?: { reason: string; message?: string };
  lastTerminated?: { reason: string; exitCode: number };
  unschedulable?: string;
  labels?: Record<string, string>;
}

/** A Pod as the API returns it, with the status fields the waits read. */
export function pod(shape: PodShape): k8s.V1Pod {
  const namespace = shape.namespace ?? 'obs-acc-run1';
  const ready = shape.ready ?? false;
  const conditions: Record<string, unknown>[] = [
    shape.unschedulable
      ? { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: shape.unschedulable, lastTransitionTime: '2026-01-10T10:00:00Z' }
      : { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-10T10:00:00Z' },
    { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2026-01-10T10:00:05Z', ...(ready ? {} : { reason: 'ContainersNotReady' }) },
  ];
  const state = ready
    ? { running: { startedAt: '2026-01-10T10:00:03Z' } }
    : shape.waiting
      ? { waiting: { reason: shape.waiting.reason, message: shape.waiting.message ?? '' } }
      : { waiting: { reason: 'ContainerCreating' } };
  const body: Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: shape.name, namespace, uid: `uid-${shape.name}`, resourceVersion: '1001', labels: shape.labels ?? { app: 'marker' }, creationTimestamp: '2026-01-10T10:00:00Z' },
    spec: { containers: [{ name: 'main', image: 'busybox:1.36' }], nodeName: shape.unschedulable ? undefined : 'k3d-agent-0' },
    status: {
      phase: shape.phase ?? (ready ? 'Running' : 'Pending'),
      conditions,
      containerStatuses: shape.unschedulable
        ? undefined
        : [
            {
              name: 'main',
              image: 'busybox:1.36',
              imageID: '',
              ready,
              restartCount: shape.lastTerminated ? 3 : 0,
              started: ready,
              state,
              lastState: shape.lastTerminated ? { terminated: { ...shape.lastTerminated, startedAt: '2026-01-10T10:00:03Z', finishedAt: '2026-01-10T10:00:04Z' } } : {},
            },
          ],
    },
  };
  return body;
}

export const podList = (...pods: unknown[]): Record<string, unknown> => ({
  kind: 'PodList',
  apiVersion: 'v1',
  metadata: { resourceVersion: '1002' },
  items: pods,
});

export function event(involved: { kind: string; name: string; uid?: string }, reason: string, message: string, type = 'Warning'): k8s.CoreV1Event {
  const body: Record<string, unknown> = {
    metadata: { name: `${involved.name}.17a0b1c2d3e4f5a6`, namespace: 'obs-acc-run1', creationTimestamp: '2026-01-10T10:00:10Z' },
    involvedObject: { kind: involved.kind, namespace: 'obs-acc-run1', name: involved.name, uid: involved.uid, apiVersion: 'v1' },
    reason,
    message,
    source: { component: 'kubelet', host: 'k3d-agent-0' },
    firstTimestamp: '2026-01-10T10:00:10Z',
    lastTimestamp: '2026-01-10T10:00:10Z',
    count: 1,
    type,
  };
  return body as unknown as k8s.CoreV1Event;
}

export const eventList = (...items: unknown[]): Record<string, unknown> => ({ kind: 'EventList', apiVersion: 'v1', metadata: { resourceVersion: '1003' }, items });

/** A replay server with the discovery documents in place. */
export async function startKubeReplay(routes: Routes = {}): Promise<ReplayServer> {
  const all: Routes = {};
  for (const [path, body] of Object.entries(DISCOVERY)) all[`GET ${path}`] = { body };
  return startReplayServer({ ...all, ...routes });
}
