/**
 * The simulated cluster of `npm run sim:up` for the self-tests under test/sim/ (`npm run test:sim`):
 * a real kube-apiserver 1.36, controller-manager, scheduler and etcd, kwok playing the nodes and
 * their pods, and real prometheus-operator, Prometheus, Alertmanager, kube-state-metrics,
 * node_exporter and stand-in TaskPlanner processes behind the pods (sim/README.md,
 * scripts/lib/sim/). These tests share the one cluster, so they run one file at a time.
 *
 * They never skip: without the cluster `requireSim` throws, naming `npm run sim:up`, and every
 * test of the file fails with that message (in CI the cluster is up; a missing one is a failure,
 * not a reason to pass).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { ComponentName } from '../../fixtures/core/config.ts';
import { waitFor } from '../../fixtures/core/poll.ts';
import { KubeClient } from '../../fixtures/kube/client.ts';
import { checkKubernetes, loadKubeConfig } from '../../fixtures/kube/connection.ts';
import { Ledger } from '../../fixtures/kube/ledger.ts';
import { openPortForward, type Route } from '../../fixtures/kube/route.ts';
import { PrometheusClient } from '../../fixtures/prometheus/client.ts';
import { simulationOf, type ClusterSimulation } from '../../fixtures/run/simulation.ts';
import type { SignoffSummary } from '../../reporters/signoff-model.ts';
import { describeOutput, runChildOk, runPlaywright, specsOf, suiteFreeEnv, type PlaywrightJsonSpec, type PlaywrightRun } from './child.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** The admin kube config sim:up writes (kwokctl's admin certificate, system:masters). */
export const SIM_KUBECONFIG = join(ROOT, '.cache', 'sim', 'kubeconfig');
export const SIM_CONTEXT = 'obs-sim';
/**
 * The CI account's kube config for these tests, minted by scripts/ci-account-token.ts as
 * `npm run sim:ci-kubeconfig` does, into a file of its own so that a run using
 * `.cache/ci-account/sim-kubeconfig` at the same time keeps its token.
 */
export const CI_KUBECONFIG = join(ROOT, '.cache', 'ci-account', 'test-sim-kubeconfig');
export const CI_CONTEXT = 'obs-acceptance-ci';
export const CI_USER = 'system:serviceaccount:obs-acceptance:obs-acceptance-ci';

/** The simulated cluster is not there (or is not simulated): every test of the file fails with this. */
export class SimNotUp extends Error {
  override name = 'SimNotUp';
  constructor(reason: string) {
    super(
      `npm run test:sim needs the simulated cluster, and it is not up: ${reason}.\n` +
        '  Start it with "npm run sim:up" (as root; on a fresh machine "npm run sim:build" first), then run "npm run test:sim" again.\n' +
        '  These tests do not skip: in CI the simulated cluster is up, and a missing one is a failure.',
    );
  }
}

let checked: Promise<ClusterSimulation> | undefined;

/**
 * Resolves once the simulated cluster answers and its nodes are kwok's (told by the nodes, as the
 * sign-off tells it); throws `SimNotUp` naming `npm run sim:up` otherwise. Checked once per process.
 */
export function requireSim(): Promise<ClusterSimulation> {
  checked ??= (async () => {
    if (!existsSync(SIM_KUBECONFIG)) throw new SimNotUp(`there is no ${SIM_KUBECONFIG}`);
    try {
      await checkKubernetes({ kubeconfig: SIM_KUBECONFIG, context: SIM_CONTEXT }, 20_000);
    } catch (err) {
      throw new SimNotUp(`its API server does not answer: ${(err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''}`);
    }
    const nodes = await admin().core.listNode();
    const simulation = simulationOf(nodes.items);
    if (!simulation) throw new SimNotUp(`context ${SIM_CONTEXT} of ${SIM_KUBECONFIG} reaches a cluster whose nodes are not kwok's (${nodes.items.map((n) => n.metadata?.name).join(', ') || 'no nodes'})`);
    return simulation;
  })();
  return checked;
}

export interface Clients {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  objects: k8s.KubernetesObjectApi;
  custom: k8s.CustomObjectsApi;
}

function clientsOf(kc: k8s.KubeConfig): Clients {
  return { kc, core: kc.makeApiClient(k8s.CoreV1Api), objects: k8s.KubernetesObjectApi.makeApiClient(kc), custom: kc.makeApiClient(k8s.CustomObjectsApi) };
}

/** The cluster admin (for what a test prepares, breaks or inspects; never for what the suite does). */
export function admin(): Clients {
  return clientsOf(loadKubeConfig({ kubeconfig: SIM_KUBECONFIG, context: SIM_CONTEXT }));
}

let minted: Promise<string> | undefined;

/**
 * The CI account's kube config (manifests/rbac/ applied first, a one-hour TokenRequest token):
 * what the suite acts as in CI. Minted once per process.
 */
export function ciKubeconfig(): Promise<string> {
  minted ??= runChildOk(
    process.execPath,
    [join(ROOT, 'scripts', 'ci-account-token.ts'), '--kubeconfig', SIM_KUBECONFIG, '--context', SIM_CONTEXT, '--apply', '--duration', '1h', '--out', CI_KUBECONFIG],
    { cwd: ROOT, env: suiteFreeEnv({ OBS_ENV_FILE: join(ROOT, '.cache', 'no-such.env') }) },
  ).then(() => CI_KUBECONFIG);
  return minted;
}

/** The CI account's clients. */
export async function ci(): Promise<Clients> {
  return clientsOf(loadKubeConfig({ kubeconfig: await ciKubeconfig(), context: CI_CONTEXT }));
}

/** A run id for one test (4–16 lowercase letters and digits, as the suite requires). */
export function runIdFor(prefix: string): string {
  return `${prefix}${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`.slice(0, 16);
}

/** The suite's Kubernetes layer as the CI account, with a ledger in `dir`. */
export async function suiteKube(runId: string, dir: string): Promise<KubeClient> {
  return new KubeClient({ kc: (await ci()).kc, runId, namespacePrefix: 'obs-acc', ledger: new Ledger(join(dir, `${runId}.jsonl`)) });
}

/** A port-forward through the API server as the suite opens it (the admin's rights). */
export function route(component: ComponentName, namespace: string, service: string, port: number, kc: k8s.KubeConfig = admin().kc): Promise<Route> {
  return openPortForward(kc, component, { kind: 'cluster', namespace, service, port }, 60_000);
}

/**
 * Prometheus of the simulated cluster, through a port-forward of the operator's
 * `monitoring/prometheus-operated` Service (as the suite reaches it). Close `route` afterwards.
 */
export async function simPrometheus(): Promise<{ route: Route; prometheus: PrometheusClient }> {
  const r = await route('prometheus', 'monitoring', 'prometheus-operated', 9090);
  return { route: r, prometheus: new PrometheusClient(r.url) };
}

/**
 * Waits until the shared cluster is as sim:up leaves it for a run: the TaskPlanner pod Ready and
 * its target up in Prometheus from the ServiceMonitor's pool. Called before and after a test
 * breaks something on purpose, so that the next one starts from a healthy cluster.
 */
export async function waitForHealthyTaskPlanner(prometheus: PrometheusClient): Promise<void> {
  await waitFor(
    'the TaskPlanner target of serviceMonitor/default/taskplanner/0 to be up in the simulated cluster',
    () => prometheus.targets('active'),
    (t) => {
      const own = t.activeTargets.filter((x) => x.scrapePool === 'serviceMonitor/default/taskplanner/0');
      if (own.some((x) => x.health === 'up')) return undefined;
      return own.length ? own.map((x) => `${x.scrapeUrl} ${x.health}${x.lastError ? `: ${x.lastError}` : ''}`).join('; ') : 'no target from the pool yet';
    },
    // The operator reconciles at once, the runner's reloader POSTs /-/reload within a second or
    // two, and scrapes come every 15 s; a restarted TaskPlanner waits out the runner's back-off (≤ 5 min).
    { timeoutMs: 420_000, derivation: '7 min = the longest restart back-off 5 min + operator, reload and two 15 s scrapes with 1 min to spare' },
  );
}

export interface SuiteRun {
  run: PlaywrightRun;
  signoff: SignoffSummary;
  specs: PlaywrightJsonSpec[];
  /** Everything the run printed, for assertion messages. */
  output: string;
}

/**
 * `playwright test args` against the simulated cluster, as a person runs the suite with only
 * KUBECONFIG and KUBE_CONTEXT in .env (the sign-off and Playwright's JSON report are read back).
 * `suiteDir` runs a copy of the suite (`copySuite`) instead of this one.
 */
export async function runSuiteOnSim(args: string[], options: { kubeconfig: string; context: string; runId: string; suiteDir?: string; env?: Record<string, string> }): Promise<SuiteRun> {
  const out = mkdtempSync(join(tmpdir(), 'obs-sim-run-'));
  try {
    const dir = options.suiteDir ?? ROOT;
    const run = await runPlaywright(['-c', join(dir, 'playwright.config.ts'), '--output', join(out, 'test-results'), ...args], {
      json: true,
      cwd: dir,
      env: suiteFreeEnv({
        KUBECONFIG: options.kubeconfig,
        KUBE_CONTEXT: options.context,
        OBS_RUN_ID: options.runId,
        OBS_REPORT_DIR: join(out, 'report'),
        OBS_ENV_FILE: join(out, 'none.env'),
        FORCE_COLOR: '0',
        ...options.env,
      }),
    });
    const output = `${run.stdout}\n${run.stderr}`;
    const file = join(out, 'report', 'signoff.json');
    if (!existsSync(file) || !run.report) throw new Error(`the run wrote no sign-off or JSON report (exit ${run.signal ?? run.code})\n${describeOutput(run)}`);
    return { run, signoff: JSON.parse(readFileSync(file, 'utf8')) as SignoffSummary, specs: specsOf(run.report.suites), output };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * A copy of the suite (specs, fixtures, reporters, manifests, config) in a temporary directory,
 * with `edits` applied to files (path relative to the repository → new text from old), sharing
 * this repository's node_modules: the suite exactly as it is, but with one manifest changed the
 * way a mistake in the repository would change it. Returns the directory; `rmSync` it after.
 */
export function copySuite(edits: Record<string, (text: string) => string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'obs-suite-copy-'));
  for (const entry of ['e2e', 'fixtures', 'reporters', 'manifests', 'playwright.config.ts', 'package.json', 'tsconfig.json', '.env.example']) {
    cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  for (const [path, edit] of Object.entries(edits)) {
    const file = join(dir, path);
    const before = readFileSync(file, 'utf8');
    const after = edit(before);
    if (after === before) throw new Error(`copySuite: the edit of ${path} changed nothing`);
    writeFileSync(file, after);
  }
  return dir;
}

/** The failed tests of a run with their first error line, for assertions and messages. */
export function failures(specs: PlaywrightJsonSpec[]): { title: string; error: string }[] {
  return specs.flatMap((s) =>
    s.tests.flatMap((t) => {
      const last = t.results.at(-1);
      return last && (last.status === 'failed' || last.status === 'timedOut') ? [{ title: s.title, error: last.error?.message ?? '' }] : [];
    }),
  );
}
