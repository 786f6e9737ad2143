/**
 * Talking to the simulated cluster from the host: server-side apply (field manager `obs-sim`,
 * forced, so re-running sim:up converges what an earlier run or a test changed), create-if-absent
 * for objects whose status is their point (nodes), and the waits of sim:up, each on
 * fixtures/core/poll.ts with a deadline and what was seen last.
 */
import * as k8s from '@kubernetes/client-node';
import { waitFor } from '../../../fixtures/core/poll.ts';

export const FIELD_MANAGER = 'obs-sim';

export interface Clients {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  objects: k8s.KubernetesObjectApi;
  custom: k8s.CustomObjectsApi;
  ext: k8s.ApiextensionsV1Api;
}

export function clients(kubeconfig: string): Clients {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    ext: kc.makeApiClient(k8s.ApiextensionsV1Api),
  };
}

function describe(o: k8s.KubernetesObject): string {
  return `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;
}

function reason(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return err instanceof Error ? err.message : String(err);
}

/** Server-side applies each object in order; throws naming the object and the API server's reason. */
export async function applyAll(c: Clients, objects: k8s.KubernetesObject[]): Promise<void> {
  for (const o of objects) {
    try {
      await c.objects.patch(o, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
    } catch (err) {
      throw new Error(`Applying ${describe(o)} failed: ${reason(err)}`);
    }
  }
}

/** Creates each object that does not exist yet (status included, as for a node a kubelet registers); leaves existing ones. */
export async function createMissing(c: Clients, objects: k8s.KubernetesObject[]): Promise<void> {
  for (const o of objects) {
    try {
      await c.objects.read({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata?.name ?? '', namespace: o.metadata?.namespace } });
      continue;
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw new Error(`Reading ${describe(o)} failed: ${reason(err)}`);
    }
    try {
      await c.objects.create(o);
    } catch (err) {
      throw new Error(`Creating ${describe(o)} failed: ${reason(err)}`);
    }
  }
}

/** Waits until `probe` resolves without throwing and `check` accepts; the error says what was awaited and seen. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T>, check: (v: T) => string | undefined): Promise<T> {
  const { value } = await waitFor(what, probe, check, { timeoutMs, intervalsMs: [250, 500, 1_000] });
  return value;
}

export function isReady(pod: k8s.V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((x) => x.type === 'Ready' && x.status === 'True');
}

/** One line per pod that is not ready: phase and each container's state, for timeout messages. */
export function describeNotReady(pods: k8s.V1Pod[]): string | undefined {
  const bad = pods.filter((p) => !isReady(p));
  if (!bad.length) return undefined;
  return bad
    .map((p) => {
      const cs = (p.status?.containerStatuses ?? [])
        .map((s) => `${s.name}: ${s.state?.waiting ? `waiting ${s.state.waiting.reason ?? ''} ${s.state.waiting.message ?? ''}`.trim() : s.state?.terminated ? `terminated ${s.state.terminated.reason ?? ''}` : s.ready ? 'ready' : 'running, not ready'}`)
        .join('; ');
      return `${p.metadata?.namespace}/${p.metadata?.name} ${p.status?.phase ?? 'no status'}${cs ? ` [${cs}]` : ''}`;
    })
    .join('\n    ');
}
