/**
 * The pod runner: a small controller, started by sim:up inside the network namespace, that
 * runs the real programs behind the pods whose images it knows (images.ts) — Prometheus,
 * Alertmanager, the operator, kube-state-metrics, node-exporter, the stand-in TaskPlanner — one
 * Sandbox per pod. It watches pods, ConfigMaps and Secrets through the API server; a pod that
 * appears with its address gets its programs, a pod that goes loses them.
 *
 * Usage (sim:up does this): node scripts/lib/sim/runner/main.ts <kubeconfig> <pods dir>
 * Stops every program on SIGTERM/SIGINT. Programs left by a runner that was killed are ended
 * at start-up from their pid files, so their addresses are free again.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { isAlive } from '../exec.ts';
import { recipeFor } from '../images.ts';
import { Sandbox } from './sandbox.ts';
import type { ObjectLookup } from './volumes.ts';

const [kubeconfig, podsDir] = process.argv.slice(2);
if (!kubeconfig || !podsDir) {
  console.error('usage: main.ts <kubeconfig> <pods dir>');
  process.exit(2);
}

const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);

/** Ends programs a previous runner left behind (it was killed before it could stop them). */
function endLeftovers(dir: string): void {
  if (!existsSync(dir)) return;
  for (const pod of readdirSync(dir)) {
    const pids = join(dir, pod, 'pids');
    if (!existsSync(pids)) continue;
    for (const f of readdirSync(pids)) {
      const pid = Number(readFileSync(join(pids, f), 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        log(`ending ${f} (pid ${pid}) left by an earlier runner`);
        process.kill(pid, 'SIGKILL');
      }
    }
  }
}

endLeftovers(podsDir);

const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(k8s.CoreV1Api);
const objects = k8s.KubernetesObjectApi.makeApiClient(kc);

const pods = k8s.makeInformer<k8s.V1Pod>(kc, '/api/v1/pods', () => core.listPodForAllNamespaces());
const secrets = k8s.makeInformer<k8s.V1Secret>(kc, '/api/v1/secrets', () => core.listSecretForAllNamespaces());
const configMaps = k8s.makeInformer<k8s.V1ConfigMap>(kc, '/api/v1/configmaps', () => core.listConfigMapForAllNamespaces());

const lookup: ObjectLookup = {
  secret: (namespace, name) => secrets.get(name, namespace),
  configMap: (namespace, name) => configMaps.get(name, namespace),
};

const sandboxes = new Map<string, Sandbox>();
/** Pods being stopped, by address: a new pod on a recycled address waits until the old programs are gone. */
const stopping = new Map<string, Promise<void>>();

function wanted(pod: k8s.V1Pod): boolean {
  return (
    !pod.metadata?.deletionTimestamp &&
    !!pod.status?.podIP &&
    pod.status.phase === 'Running' &&
    (pod.spec?.containers ?? []).some((c) => recipeFor(c.image))
  );
}

async function onPod(pod: k8s.V1Pod): Promise<void> {
  const uid = pod.metadata?.uid ?? '';
  const existing = sandboxes.get(uid);
  if (!wanted(pod)) {
    if (existing) await remove(uid);
    return;
  }
  if (existing) {
    await existing.reconcile(pod);
    return;
  }
  const ip = pod.status?.podIP ?? '';
  const sandbox = new Sandbox(pod, { core, objects, lookup, kubeconfig: kubeconfig as string, podsDir: podsDir as string, log });
  sandboxes.set(uid, sandbox);
  await stopping.get(ip);
  log(`${sandbox.name}: pod at ${ip}`);
  await sandbox.reconcile(pod);
}

async function remove(uid: string): Promise<void> {
  const sandbox = sandboxes.get(uid);
  if (!sandbox) return;
  sandboxes.delete(uid);
  const key = sandbox.address;
  log(`${sandbox.name}: pod gone, stopping its programs`);
  const done = sandbox.stop().then(() => sandbox.cleanup());
  stopping.set(key, done);
  await done;
  stopping.delete(key);
}

function onObjectChanged(): void {
  // A failed refresh (a configuration the runner cannot read) is logged; the next change retries.
  for (const s of sandboxes.values()) s.reconcile().catch((err: unknown) => log(`${s.name}: ${(err as Error).message}`));
}

/** Event handlers are serialised per pod so a start and a stop never overlap. */
const queues = new Map<string, Promise<void>>();
function enqueue(pod: k8s.V1Pod, work: () => Promise<void>): void {
  const uid = pod.metadata?.uid ?? '';
  const next = (queues.get(uid) ?? Promise.resolve()).then(work).catch((err: unknown) => log(`pod ${pod.metadata?.namespace}/${pod.metadata?.name}: ${(err as Error).message}`));
  queues.set(uid, next);
  void next.then(() => {
    if (queues.get(uid) === next) queues.delete(uid);
  });
}

pods.on('add', (p) => enqueue(p, () => onPod(p)));
pods.on('update', (p) => enqueue(p, () => onPod(p)));
pods.on('delete', (p) => enqueue(p, () => remove(p.metadata?.uid ?? '')));
for (const verb of ['add', 'update', 'delete'] as const) {
  secrets.on(verb, onObjectChanged);
  configMaps.on(verb, onObjectChanged);
}

// An informer stops on a watch error (API server restarting, a dropped connection); start it again.
for (const [name, inf] of [['pods', pods], ['secrets', secrets], ['configmaps', configMaps]] as const) {
  (inf as k8s.Informer<k8s.KubernetesObject>).on('error', (err: unknown) => {
    log(`${name} watch ended (${err instanceof Error ? err.message : String(err)}); restarting it in 2 s`);
    setTimeout(() => void (inf as k8s.Informer<k8s.KubernetesObject>).start(), 2_000);
  });
}

let shuttingDown = false;
async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`${signal}: stopping ${sandboxes.size} pod(s)`);
  await Promise.all([...sandboxes.values()].map((s) => s.stop()));
  process.exit(0);
}
// A controller that dies leaves its programs unmanaged: an unexpected rejection is logged, not fatal.
process.on('unhandledRejection', (err) => log(`unexpected: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

// ConfigMaps and Secrets first: a pod's volumes are made from their caches.
await secrets.start();
await configMaps.start();
await pods.start();
log(`pod runner watching pods (kube config ${kubeconfig})`);
