/**
 * The container images the pod runner can run, and how: like a container runtime that has
 * exactly these images, each backed by a real local program. A pod with one of these images gets
 * the kwok Stage `pod-runner-created` (sim/kwok/pod-stages.yaml: Running, not ready) and the
 * runner starts the program bound to the pod's address with the container's own arguments and
 * environment; every other pod is played by kwok alone, and so is a pod whose image tag is
 * `does-not-exist` (the image-pull Stages: ErrImagePull, then ImagePullBackOff; it never starts).
 *
 * What the runner adds to a container's arguments is only what the simulated environment lacks:
 * the pod's address to listen on (a real pod has its own network namespace, here they share one),
 * a kube config (no service-account mount and no in-cluster API address), and paths under the
 * pod's root directory for its volumes (scripts/lib/sim/runner/volumes.ts).
 */
import { join } from 'node:path';
import { REPO_ROOT } from './layout.ts';
import { toolPath, type ToolName } from './tools.ts';

export interface ContainerSpecLite {
  name: string;
  image?: string;
  args?: string[];
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
}

/** What a process container needs to be started. */
export interface LaunchContext {
  podIP: string;
  /** Container arguments with `$(VAR)` expanded and volume paths mapped under the pod root. */
  args: string[];
  /** Container environment, resolved (values, fieldRefs, Secret and ConfigMap keys). */
  env: Record<string, string>;
  container: ContainerSpecLite;
  /** kube config for programs that talk to the API server from inside the namespace. */
  kubeconfig: string;
}

export interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
}

export type Recipe =
  | { name: string; image: string; kind: 'process'; launch: (ctx: LaunchContext) => Launch }
  /** The prometheus-config-reloader sidecar: the runner itself does its job (runner/reloader.ts). */
  | { name: string; image: string; kind: 'reloader' };

/**
 * `--…listen-address=:9090`, `0.0.0.0:9090`, `[::]:9090`, `[]:9090`: the host part replaced by
 * the pod's address, since every pod here shares the namespace and must not take 0.0.0.0.
 */
export function bindListenAddresses(args: readonly string[], podIP: string): string[] {
  return args.map((a) => {
    const m = /^(--[\w.-]*listen-address=)(\[?(?:0\.0\.0\.0|::|)\]?):(\d+)$/.exec(a);
    return m ? `${m[1]}${podIP}:${m[3]}` : a;
  });
}

function withFlag(args: string[], flag: string, value: string): string[] {
  return [...args.filter((a) => !a.startsWith(`--${flag}=`) && a !== `--${flag}`), `--${flag}=${value}`];
}

function firstPort(c: ContainerSpecLite, fallback: number): number {
  return c.ports?.[0]?.containerPort ?? fallback;
}

function tool(name: ToolName, ctx: LaunchContext, args: string[], env: Record<string, string> = {}): Launch {
  return { command: toolPath(name), args, env: { ...ctx.env, ...env } };
}

/** Matched against the image reference without registry host requirements, tag or digest. */
const repo = (path: string): string => `(^|/)${path}(:|@|$)`;

export const RECIPES: readonly Recipe[] = [
  {
    name: 'prometheus',
    image: repo('prometheus/prometheus'),
    kind: 'process',
    // The operator passes no listen address (Prometheus' default :9090 would take every address).
    launch: (ctx) => tool('prometheus', ctx, withFlag(bindListenAddresses(ctx.args, ctx.podIP), 'web.listen-address', `${ctx.podIP}:${firstPort(ctx.container, 9090)}`)),
  },
  {
    name: 'alertmanager',
    image: repo('prometheus/alertmanager'),
    kind: 'process',
    launch: (ctx) => tool('alertmanager', ctx, withFlag(bindListenAddresses(ctx.args, ctx.podIP), 'web.listen-address', `${ctx.podIP}:${firstPort(ctx.container, 9093)}`)),
  },
  {
    name: 'prometheus-operator',
    image: repo('prometheus-operator/prometheus-operator'),
    kind: 'process',
    // The operator reads KUBECONFIG (pkg/k8s NewClusterConfig) when it has no in-cluster config; it has no flag for it.
    launch: (ctx) => tool('prometheus-operator', ctx, bindListenAddresses(ctx.args, ctx.podIP), { KUBECONFIG: ctx.kubeconfig }),
  },
  { name: 'prometheus-config-reloader', image: repo('prometheus-operator/prometheus-config-reloader'), kind: 'reloader' },
  {
    name: 'kube-state-metrics',
    image: repo('kube-state-metrics/kube-state-metrics'),
    kind: 'process',
    launch: (ctx) => {
      let args = withFlag(ctx.args, 'kubeconfig', ctx.kubeconfig);
      args = withFlag(args, 'host', ctx.podIP);
      args = withFlag(args, 'telemetry-host', ctx.podIP);
      return tool('kube-state-metrics', ctx, args);
    },
  },
  {
    name: 'node-exporter',
    image: repo('prometheus/node-exporter'),
    kind: 'process',
    launch: (ctx) => tool('node_exporter', ctx, bindListenAddresses(ctx.args, ctx.podIP)),
  },
  {
    // The stand-in TaskPlanner (app-hook/demo-app, adapter-node build), as manifests/taskplanner/ deploys it.
    name: 'taskplanner-standin',
    image: repo('obs-acceptance/taskplanner-standin'),
    kind: 'process',
    launch: (ctx) => ({
      command: process.execPath,
      args: [join(REPO_ROOT, 'scripts', 'demo-app.ts')],
      env: { ...ctx.env, HOST: ctx.podIP, PORT: ctx.env.PORT ?? String(firstPort(ctx.container, 3000)) },
    }),
  },
];

/** The recipe for an image, if the runner knows it. */
export function recipeFor(image: string | undefined): Recipe | undefined {
  return image ? RECIPES.find((r) => new RegExp(r.image).test(image)) : undefined;
}

/**
 * One regular expression matching every image the runner knows, for the kwok Stage's jq
 * `test(...)` (RE2 syntax; no backslashes, so it survives YAML and jq string quoting unchanged).
 */
export function runnerImagesRegex(): string {
  const re = RECIPES.map((r) => r.image).join('|');
  if (re.includes('\\') || re.includes('"')) throw new Error('runner image patterns must not contain backslashes or quotes');
  return re;
}
