/**
 * `npm run sim:up`: the simulated cluster, step by step, each step idempotent so a second run
 * (or a run after a half-failed one) converges instead of failing:
 *   1. preconditions (root, `ip`, the sim tools built) — seconds, with the fix named;
 *   2. the network namespace and veth (netns.ts);
 *   3. the control plane via kwokctl inside the namespace, and the host's kube config;
 *   4. kwok's Stages and ClusterLogs, the three nodes;
 *   5. the pod runner;
 *   6. the operator's CRDs, the monitoring stack shaped like kube-prometheus-stack (sim/manifests),
 *      TaskPlanner from manifests/taskplanner/ as cluster:up applies it;
 *   7. waits until every pod is ready, every Prometheus target is up and KubePodCrashLooping is
 *      loaded, then prints the .env lines for the suite.
 */
import { existsSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { ensureStandinBuilt } from '../../../app-hook/standin.ts';
import { http } from '../../../fixtures/core/http.ts';
import { applyAll, clients, createMissing, describeNotReady, FIELD_MANAGER, until, type Clients } from './apply.ts';
import { mustRun } from './exec.ts';
import { runnerImagesRegex } from './images.ts';
import { createCluster, writeHostKubeconfig } from './kwokctl.ts';
import { HOST_API_SERVER, NODES, PATHS, REPO_ROOT, SIM } from './layout.ts';
import { loadObjects } from './manifests.ts';
import { ensureNetwork, netnsExists } from './netns.ts';
import { runnerPid as liveRunnerPid, startRunner } from './runner-process.ts';
import { preconditionProblems } from './preconditions.ts';
import { CRDS_DIR, toolPath, toolVersion } from './tools.ts';

export interface UpResult {
  elapsedMs: number;
  steps: { step: string; ms: number }[];
  prometheusUrl: string;
  alertmanagerUrl: string;
}

const MONITORING = 'monitoring';
const PROMETHEUS_POD = 'prometheus-kube-prometheus-stack-prometheus-0';
const ALERTMANAGER_POD = 'alertmanager-kube-prometheus-stack-alertmanager-0';

export async function simUp(log: (line: string) => void): Promise<UpResult> {
  const started = Date.now();
  const steps: UpResult['steps'] = [];
  /** Runs one step; `title` is printed, its first word group before ':' names it in the summary. */
  const step = async <T>(title: string, work: () => T | Promise<T>): Promise<T> => {
    const t = Date.now();
    log(`→ ${title}`);
    const value = await work();
    steps.push({ step: title.split(':')[0] ?? title, ms: Date.now() - t });
    return value;
  };

  const problems = preconditionProblems();
  if (problems.length) throw new Error(`sim:up cannot start:\n- ${problems.join('\n- ')}`);

  const versions = await step('tool versions:', () => ({
    PROMETHEUS_VERSION: toolVersion('prometheus'),
    ALERTMANAGER_VERSION: toolVersion('alertmanager'),
    OPERATOR_VERSION: toolVersion('prometheus-operator'),
    KSM_VERSION: toolVersion('kube-state-metrics'),
    NODE_EXPORTER_VERSION: toolVersion('node_exporter'),
  }));
  log(`  ${Object.entries(versions).map(([k, v]) => `${k.replace(/_VERSION$/, '').toLowerCase()} ${v}`).join(', ')}`);

  await step('stand-in TaskPlanner: built if its sources changed', () => ensureStandinBuilt());
  // The control plane and the pods' programs live inside the namespace: without it (the machine
  // restarted) none of them runs, and kwokctl's "continue it" on the old etcd data fails on its
  // own CRDs (resourceVersion 0 "must be specified for an update", kwok v0.8.0). Start afresh.
  if (!netnsExists() && existsSync(PATHS.state)) {
    // A runner still alive means the namespace was deleted under a running cluster (ip netns del
    // by hand): its processes run on, unnamed, and removing their state would orphan them.
    const alive = liveRunnerPid();
    if (alive) throw new Error(`sim:up: the network namespace ${SIM.netns} is gone but the pod runner of the last cluster still runs (pid ${alive}): end it and the programs it started (kill ${alive}; ps -ef | grep ${PATHS.state}) and remove ${PATHS.state}, then run sim:up again.`);
    await step(`stale state: ${PATHS.state} is left from a cluster whose network namespace is gone (machine restarted?); removed`, () => {
      rmSync(PATHS.state, { recursive: true, force: true });
    });
  }
  await step(`network: namespace ${SIM.netns}, veth ${SIM.hostIf} ${SIM.hostAddress} <-> ${SIM.nsIf} ${SIM.nsAddress}, routes ${SIM.nodeCidr} and ${SIM.podCidr}`, () => ensureNetwork());
  await step(`control plane: kwokctl --runtime binary, Kubernetes ${SIM.kubernetesVersion}, inside ${SIM.netns}`, () => createCluster(180));
  const kubeconfig = await step(`kube config: ${PATHS.hostKubeconfig} for the host (context ${SIM.name}, ${HOST_API_SERVER})`, () => writeHostKubeconfig());
  const c = clients(kubeconfig);
  await step('API server: ready', () =>
    until(`the API server at ${HOST_API_SERVER} to answer /readyz`, 120_000, () => c.core.getAPIResources().then(() => 'ok'), () => undefined),
  );

  const simVars = { SIM_DIR: PATHS.simDir, RUNNER_IMAGES: runnerImagesRegex() };
  await step('kwok Stages and ClusterLogs: node, pod, crash-loop, image-pull', async () => {
    await waitForCrd(c, 'stages.kwok.x-k8s.io');
    await applyAll(c, [
      ...loadObjects(join(PATHS.simDir, 'kwok', 'node-stages.yaml')),
      ...loadObjects(join(PATHS.simDir, 'kwok', 'pod-stages.yaml'), simVars),
      ...loadObjects(join(PATHS.simDir, 'kwok', 'logs.yaml'), simVars),
    ]);
  });

  const nodeVars = Object.fromEntries(NODES.flatMap((n, i) => [[`NODE_IP_${i}`, n.ip], [`POD_CIDR_${i}`, n.podCidr]]));
  await step(`nodes: ${NODES.map((n) => n.name).join(', ')}`, async () => {
    await createMissing(c, loadObjects(join(PATHS.simDir, 'manifests', '00-nodes.yaml'), nodeVars));
    await until('every node Ready', 120_000, () => c.core.listNode(), (list) => {
      const notReady = list.items.filter((n) => !(n.status?.conditions ?? []).some((x) => x.type === 'Ready' && x.status === 'True'));
      return list.items.length < NODES.length ? `${list.items.length} node(s)` : notReady.length ? `not ready: ${notReady.map((n) => n.metadata?.name).join(', ')}` : undefined;
    });
  });

  const runnerPid = await step('pod runner: started unless it runs', () => startRunner());
  log(`  pid ${runnerPid}, log ${PATHS.runnerLog}`);

  await step(`operator CRDs: ${CRDS_DIR}`, async () => {
    // kubectl, not client-node: client-node serialises a CustomResourceDefinition through its typed
    // model, which drops `x-kubernetes-int-or-string` and the API server then rejects the schema.
    // The directory itself: kubectl reads a symlink to a directory (sim:build's crds link) as a file.
    mustRun([toolPath('kubectl'), '--kubeconfig', kubeconfig, 'apply', '--server-side', '--force-conflicts', `--field-manager=${FIELD_MANAGER}`, '--filename', realpathSync(CRDS_DIR)]);
    const names = readdirSync(CRDS_DIR)
      .filter((f) => /\.ya?ml$/.test(f))
      .flatMap((f) => loadObjects(join(CRDS_DIR, f)))
      .map((crd) => crd.metadata?.name ?? '');
    for (const name of names) await waitForCrd(c, name);
  });

  await step('manifests: the monitoring stack (sim/manifests) and TaskPlanner (manifests/taskplanner)', async () => {
    const dir = join(PATHS.simDir, 'manifests');
    const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('00-')).sort();
    await applyAll(c, files.flatMap((f) => loadObjects(join(dir, f), versions)));
    const tp = join(REPO_ROOT, 'manifests', 'taskplanner');
    await applyAll(c, readdirSync(tp).filter((f) => /\.ya?ml$/.test(f)).sort().flatMap((f) => loadObjects(join(tp, f))));
  });

  await step('pods ready: every pod in monitoring and TaskPlanner', () =>
    until('every pod in monitoring and default Ready (Prometheus and Alertmanager are created by the operator)', 240_000, async () => {
      const [mon, def] = await Promise.all([c.core.listNamespacedPod({ namespace: MONITORING }), c.core.listNamespacedPod({ namespace: 'default' })]);
      const pods = [...mon.items, ...def.items];
      // Names and what is wrong only: the timeout message shows the last value, and whole pods drown it.
      return { names: pods.map((p) => p.metadata?.name ?? ''), notReady: describeNotReady(pods) };
    }, ({ names, notReady }) => {
      if (!names.includes(PROMETHEUS_POD) || !names.includes(ALERTMANAGER_POD)) return `the operator has not created ${PROMETHEUS_POD} and ${ALERTMANAGER_POD} yet (pods: ${names.join(', ')})`;
      return notReady;
    }),
  );

  const promIP = await podIP(c, PROMETHEUS_POD);
  const amIP = await podIP(c, ALERTMANAGER_POD);
  const prometheusUrl = `http://${promIP}:9090`;
  const alertmanagerUrl = `http://${amIP}:9093`;
  await step(`targets and rules: Prometheus ${prometheusUrl} has every target up, KubePodCrashLooping and Watchdog loaded`, () =>
    until('every active target up and the rules loaded', 180_000, async () => {
      const [targets, rules] = await Promise.all([
        http<{ data: { activeTargets: { scrapePool: string; scrapeUrl: string; health: string; lastError: string }[] } }>({ url: `${prometheusUrl}/api/v1/targets?state=active`, timeoutMs: 5_000 }),
        http<{ data: { groups: { rules: { name: string; health: string }[] }[] } }>({ url: `${prometheusUrl}/api/v1/rules`, timeoutMs: 5_000 }),
      ]);
      return { targets: targets.json.data.activeTargets, rules: rules.json.data.groups.flatMap((g) => g.rules) };
    }, ({ targets, rules }) => {
      const pools = new Set(targets.map((t) => t.scrapePool.replace(/\/\d+$/, '')));
      const expected = ['kube-state-metrics', 'prometheus-node-exporter', 'kube-prometheus-stack-prometheus', 'kube-prometheus-stack-alertmanager', 'kube-prometheus-stack-operator', 'taskplanner'];
      const absent = expected.filter((e) => ![...pools].some((p) => p.includes(e)));
      if (absent.length) return `no targets yet for ${absent.join(', ')}`;
      const down = targets.filter((t) => t.health !== 'up');
      if (down.length) return `targets not up: ${down.map((t) => `${t.scrapeUrl} ${t.health}${t.lastError ? ` (${t.lastError})` : ''}`).join('; ')}`;
      const names = rules.map((r) => r.name);
      const missingRules = ['KubePodCrashLooping', 'Watchdog'].filter((n) => !names.includes(n));
      return missingRules.length ? `rules not loaded yet: ${missingRules.join(', ')}` : undefined;
    }),
  );

  return { elapsedMs: Date.now() - started, steps, prometheusUrl, alertmanagerUrl };
}

async function podIP(c: Clients, name: string): Promise<string> {
  const pod: k8s.V1Pod = await c.core.readNamespacedPod({ namespace: MONITORING, name });
  const ip = pod.status?.podIP;
  if (!ip) throw new Error(`${MONITORING}/${name} has no address`);
  return ip;
}

async function waitForCrd(c: Clients, name: string): Promise<void> {
  await until(`CustomResourceDefinition ${name} Established`, 60_000, () => c.ext.readCustomResourceDefinition({ name }), (crd) =>
    (crd.status?.conditions ?? []).some((x) => x.type === 'Established' && x.status === 'True') ? undefined : 'not established yet',
  );
}

/** The lines the suite's .env needs to run against the simulated cluster. */
export function envLines(): string[] {
  return [`KUBECONFIG=${PATHS.hostKubeconfig}`, `KUBE_CONTEXT=${SIM.name}`];
}
