/**
 * What `cluster:up` and `cluster:down` do, as data: an ordered list of commands. Building the
 * plan runs nothing, so `--dry-run` prints exactly what a real run would execute and the
 * self-tests check the same list (versions pinned, values files present, order right).
 *
 * Every step is idempotent on its own (`helm upgrade --install`, `kubectl apply`, image
 * import) or guarded by a probe (cluster creation), so `cluster:up` converges a half-built
 * or already-built cluster instead of failing on it.
 */
import { CHARTS, CLUSTER, type ChartPin } from './charts.ts';
import { FRONT_DOOR, frontDoorDownSteps, frontDoorSteps } from './front-door.ts';

export interface Step {
  title: string;
  argv: string[];
  /** Run the step only when this probe exits 0 (`when: 'succeeds'`) or non-zero (`'fails'`). */
  only?: { argv: string[]; when: 'succeeds' | 'fails' };
}

export interface UpOptions {
  /**
   * Build the cluster as production is before the migration: Promtail, no Alloy. The switch
   * itself (install Alloy, then remove Promtail) is `npm run migration:rehearse`, under the
   * migration watch (`rehearsalSteps`).
   */
  rehearseMigration: boolean;
  /** Put an HTTPS proxy in front of Grafana, as production has (front-door.ts). */
  tlsFrontDoor: boolean;
  /** Absolute repository root and home directory, for the paths Docker and NSS need absolute. */
  root: string;
  home: string;
}

/** The stand-in TaskPlanner image the manifests in manifests/taskplanner/ run. */
export const TASKPLANNER_IMAGE = 'obs-acceptance/taskplanner-standin:dev';

/** Checks every chart pin against its repository's index (scripts/lib/chart-pins.ts). */
export const PIN_CHECK_SCRIPT = 'scripts/check-chart-pins.ts';

/** Files this plan reads. The first group is ours; the others are delivered by the other helpers. */
export const PLAN_FILES = {
  own: [PIN_CHECK_SCRIPT, CLUSTER.config, 'manifests/kube-prometheus-stack/values.yaml', 'manifests/promtail/values.yaml', FRONT_DOOR.service, FRONT_DOOR.caddyfile],
  others: [
    'manifests/loki/values.yaml',
    'manifests/alloy/values.yaml',
    'manifests/grafana/',
    'manifests/taskplanner/',
    'manifests/rbac/',
    'app-hook/demo-app/Dockerfile',
  ],
} as const;

const HELM_TIMEOUT = '10m';
const WAIT_TIMEOUT = '300s';

const kubectl = (...args: string[]): string[] => ['kubectl', '--context', CLUSTER.context, ...args];

function helmInstall(pin: ChartPin, values: string[]): string[] {
  return [
    'helm', 'upgrade', '--install', pin.release, pin.chart,
    '--repo', pin.repo,
    '--version', pin.version,
    '--kube-context', CLUSTER.context,
    '--namespace', pin.namespace,
    '--create-namespace',
    ...values.flatMap((v) => ['--values', v]),
    '--wait',
    '--timeout', HELM_TIMEOUT,
  ];
}

const releaseExists = (pin: ChartPin): string[] =>
  ['helm', 'status', pin.release, '--kube-context', CLUSTER.context, '--namespace', pin.namespace];

/** Runbook step 1 (manifests/alloy/README.md): Alloy with the suite's values, beside whatever ships logs now. */
export function installAlloyStep(): Step {
  const { alloy } = CHARTS;
  // values.yaml carries config.alloy verbatim in alloy.configMap.content (test/alloy-config.test.ts).
  return { title: `Install Alloy ${alloy.version}`, argv: helmInstall(alloy, ['manifests/alloy/values.yaml']) };
}

/** Runbook step 3: Promtail removed; `guarded`: only when its release exists (converging a cluster). */
export function removePromtailStep(guarded: boolean): Step {
  const { promtail } = CHARTS;
  const step: Step = {
    title: guarded ? 'Remove Promtail left by an earlier rehearsal' : `Remove Promtail (runbook step 3)`,
    argv: ['helm', 'uninstall', promtail.release, '--kube-context', CLUSTER.context, '--namespace', promtail.namespace, '--wait'],
  };
  return guarded ? { ...step, only: { argv: releaseExists(promtail), when: 'succeeds' } } : step;
}

/**
 * The switch as the rehearsal performs it on the k3d cluster that `cluster:up --rehearse-migration`
 * left with Promtail only: runbook step 1, then step 3 (`npm run migration:rehearse` runs them
 * under the migration watch, waiting between them for what the runbook says to check).
 */
export function rehearsalSteps(): { installAlloy: Step; removePromtail: Step } {
  return { installAlloy: { ...installAlloyStep(), title: `Install Alloy ${CHARTS.alloy.version} beside Promtail (runbook step 1)` }, removePromtail: removePromtailStep(false) };
}

export function clusterUpPlan(options: UpOptions): Step[] {
  const { kubePrometheusStack: kps, loki, promtail } = CHARTS;
  const steps: Step[] = [
    // First, before anything exists: a pin that is not released would otherwise fail only at its
    // `helm upgrade --install`, after the cluster and every chart before it were built. `node`
    // is the project's Node 24, which npm scripts put first on the PATH.
    { title: 'Every pinned chart version is released in its repository', argv: ['node', PIN_CHECK_SCRIPT] },
    { title: 'Docker is running', argv: ['docker', 'info', '--format', '{{.ServerVersion}}'] },
    { title: 'k3d is installed', argv: ['k3d', 'version'] },
    { title: 'Helm is installed', argv: ['helm', 'version', '--short'] },
    { title: 'kubectl is installed', argv: ['kubectl', 'version', '--client'] },
    {
      title: `Create the k3d cluster ${CLUSTER.name} (1 server, 2 agents, no Traefik)`,
      argv: ['k3d', 'cluster', 'create', '--config', CLUSTER.config],
      only: { argv: ['k3d', 'cluster', 'get', CLUSTER.name], when: 'fails' },
    },
    { title: 'Every node is Ready', argv: kubectl('wait', '--for=condition=Ready', 'nodes', '--all', `--timeout=${WAIT_TIMEOUT}`) },
    {
      title: `Install kube-prometheus-stack ${kps.version}`,
      argv: helmInstall(kps, ['manifests/kube-prometheus-stack/values.yaml']),
    },
    // The operator creates the Prometheus and Alertmanager pods after Helm returns, so Helm's --wait cannot see them.
    { title: 'Prometheus is available', argv: kubectl('wait', '--namespace', kps.namespace, '--for=condition=Available', 'prometheus', '--all', `--timeout=${WAIT_TIMEOUT}`) },
    { title: 'Alertmanager is available', argv: kubectl('wait', '--namespace', kps.namespace, '--for=condition=Available', 'alertmanager', '--all', `--timeout=${WAIT_TIMEOUT}`) },
    { title: 'Grafana dashboards for the sidecar', argv: kubectl('apply', '--filename', 'manifests/grafana/') },
    { title: `Install Loki ${loki.version}`, argv: helmInstall(loki, ['manifests/loki/values.yaml']) },
  ];
  if (options.rehearseMigration) {
    steps.push(
      {
        title: 'Remove Alloy left by an earlier run (the rehearsal installs it under the migration watch)',
        argv: ['helm', 'uninstall', CHARTS.alloy.release, '--kube-context', CLUSTER.context, '--namespace', CHARTS.alloy.namespace, '--wait'],
        only: { argv: releaseExists(CHARTS.alloy), when: 'succeeds' },
      },
      { title: `Install Promtail ${promtail.version} (migration rehearsal: production before the switch, Promtail only)`, argv: helmInstall(promtail, ['manifests/promtail/values.yaml']) },
    );
  } else {
    // Converges a cluster left in the middle of a rehearsal to the migrated state.
    steps.push(removePromtailStep(true), installAlloyStep());
  }
  steps.push(
    {
      title: `Build the stand-in TaskPlanner image ${TASKPLANNER_IMAGE}`,
      argv: ['docker', 'build', '--file', 'app-hook/demo-app/Dockerfile', '--tag', TASKPLANNER_IMAGE, '.'],
    },
    { title: 'Import the image into the cluster', argv: ['k3d', 'image', 'import', TASKPLANNER_IMAGE, '--cluster', CLUSTER.name] },
    { title: 'Apply TaskPlanner (Deployment, Service, ServiceMonitor, PrometheusRule)', argv: kubectl('apply', '--filename', 'manifests/taskplanner/') },
    // An unchanged :dev tag does not roll the Deployment; a restart picks up the image just imported.
    { title: 'Restart TaskPlanner on the new image', argv: kubectl('rollout', 'restart', 'deployment', '--namespace', 'default', '--selector', 'app.kubernetes.io/name=taskplanner') },
    { title: 'TaskPlanner is rolled out', argv: kubectl('rollout', 'status', 'deployment', '--namespace', 'default', '--selector', 'app.kubernetes.io/name=taskplanner', `--timeout=${WAIT_TIMEOUT}`) },
    // As on production: the CI account the suite runs as, its RBAC and the admission policy that
    // fences its writes (manifests/rbac/README.md); the Role for the Grafana Secret needs monitoring.
    { title: 'Apply the CI account, its RBAC and admission policy', argv: kubectl('apply', '--server-side', '--filename', 'manifests/rbac/') },
    {
      title: 'Every pod in monitoring is Ready',
      // Completed pods (the admission webhook's patch jobs) never become Ready.
      argv: kubectl('wait', '--namespace', kps.namespace, '--for=condition=Ready', 'pods', '--all', '--field-selector=status.phase!=Succeeded', `--timeout=${WAIT_TIMEOUT}`),
    },
  );
  if (options.tlsFrontDoor) steps.push(...frontDoorSteps(options.root, options.home));
  return steps;
}

export function clusterDownPlan(): Step[] {
  return [
    ...frontDoorDownSteps(),
    {
      title: `Delete the k3d cluster ${CLUSTER.name}`,
      argv: ['k3d', 'cluster', 'delete', CLUSTER.name],
      only: { argv: ['k3d', 'cluster', 'get', CLUSTER.name], when: 'succeeds' },
    },
  ];
}

/** A POSIX-shell rendering of a command, safe to copy into a terminal. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The plan as `--dry-run` prints it: one numbered line per command, guards noted. */
export function formatPlan(steps: readonly Step[]): string {
  return steps
    .map((s, i) => {
      const guard = s.only ? `\n     only if \`${shellQuote(s.only.argv)}\` ${s.only.when}` : '';
      return `${String(i + 1).padStart(2)}. ${s.title}\n     ${shellQuote(s.argv)}${guard}`;
    })
    .join('\n');
}
