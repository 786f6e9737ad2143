/**
 * One pod the runner runs: the part of a kubelet that kwok does not play. It makes the pod's
 * volumes, starts each container's real program (images.ts) bound to the pod's address, keeps
 * its CRI log, restarts it with the kubelet's back-off when it exits, probes its readiness, and
 * reports all of that in the pod's status. It also creates the kwok PortForward and Logs objects
 * (owned by the pod, so they go with it) that make `kubectl port-forward` and `kubectl logs`
 * reach the real program through the API server.
 *
 * A test can stop a container's program on purpose with the pod annotation
 * `sim.obs-acceptance.io/stop: <container>[,<container>…]` (or `*`): the program gets SIGTERM and
 * is not restarted, the container shows terminated and not ready; removing the annotation starts
 * it again (restartCount + 1).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants as osConstants } from 'node:os';
import * as k8s from '@kubernetes/client-node';
import { recipeFor, type Recipe } from '../images.ts';
import { ContainerLog } from './cri-log.ts';
import { expandArgs, resolveEnv } from './env.ts';
import { checkOnce } from './probe.ts';
import { ConfigReloader } from './reloader.ts';
import { PodVolumes, type ObjectLookup } from './volumes.ts';

export const STOP_ANNOTATION = 'sim.obs-acceptance.io/stop';
const FIELD_MANAGER = 'obs-sim-pod-runner';

export interface SandboxDeps {
  core: k8s.CoreV1Api;
  objects: k8s.KubernetesObjectApi;
  lookup: ObjectLookup;
  /** kube config for programs inside the namespace. */
  kubeconfig: string;
  podsDir: string;
  log: (line: string) => void;
}

type State = k8s.V1ContainerState;

interface Container {
  spec: k8s.V1Container;
  recipe: Recipe | undefined;
  log: ContainerLog;
  state: State;
  lastState: State;
  restartCount: number;
  ready: boolean;
  started: boolean;
  child?: ChildProcess;
  reloader?: ConfigReloader;
  startedAt?: number;
  restartTimer?: NodeJS.Timeout;
  probeTimer?: NodeJS.Timeout;
  failures: number;
  /** Exits since the last long run, for the back-off (restartCount only ever grows). */
  crashes: number;
  /** Stopped through the annotation: not restarted until it is removed. */
  held: boolean;
}

const now = (): string => new Date().toISOString();

/** The kubelet's crash-loop back-off: 10 s after the first exit, doubling, at most 5 min. */
export function backOffSeconds(crashes: number): number {
  return Math.min(300, 10 * 2 ** Math.max(0, crashes - 1));
}

export class Sandbox {
  readonly uid: string;
  private pod: k8s.V1Pod;
  private readonly deps: SandboxDeps;
  private readonly dir: string;
  private readonly volumes: PodVolumes;
  private readonly containers: Container[];
  private phase: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private reportTimer: NodeJS.Timeout | undefined;
  private reporting: Promise<void> = Promise.resolve();
  private readonly transitions = new Map<string, { status: string; at: string }>();
  private waitingFor = '';

  constructor(pod: k8s.V1Pod, deps: SandboxDeps) {
    this.pod = pod;
    this.deps = deps;
    this.uid = pod.metadata?.uid ?? '';
    this.dir = join(deps.podsDir, `${pod.metadata?.namespace}_${pod.metadata?.name}_${this.uid}`);
    mkdirSync(this.dir, { recursive: true });
    this.volumes = new PodVolumes(pod, this.dir, deps.lookup);
    this.containers = (pod.spec?.containers ?? []).map((spec) => ({
      spec,
      recipe: recipeFor(spec.image),
      log: new ContainerLog(join(this.dir, 'logs', spec.name)),
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {},
      restartCount: 0,
      ready: false,
      started: false,
      failures: 0,
      crashes: 0,
      held: false,
    }));
  }

  get name(): string {
    return `${this.pod.metadata?.namespace}/${this.pod.metadata?.name}`;
  }

  /** The pod's address (its node's for hostNetwork pods), where its programs listen. */
  get address(): string {
    return this.podIP;
  }

  private get podIP(): string {
    return this.pod.status?.podIP ?? '';
  }

  /** Starts what can be started; called again on every change of the pod or of a ConfigMap or Secret. */
  async reconcile(pod?: k8s.V1Pod): Promise<void> {
    if (pod) this.pod = pod;
    if (this.phase === 'stopped' || this.phase === 'starting') return;
    if (this.phase === 'running') {
      try {
        if (this.volumes.sync().changed) for (const c of this.containers) c.reloader?.refresh();
      } finally {
        await this.applyHolds();
        this.startWaitingProcesses();
      }
      return;
    }
    this.phase = 'starting';
    try {
      const sync = this.volumes.sync();
      if (sync.missing.length) {
        this.setWaitingAll('ContainerCreating', `MountVolume.SetUp failed: ${sync.missing.join(', ')} not found`);
        this.phase = 'new';
        return;
      }
      await this.ensureObjects();
      for (const c of this.containers) {
        if (c.recipe?.kind === 'reloader') await this.startReloader(c);
        else if (!c.recipe) this.markSimulated(c);
      }
      this.phase = 'running';
      await this.applyHolds();
      this.startWaitingProcesses();
    } catch (err) {
      this.phase = 'new';
      this.deps.log(`${this.name}: start failed: ${(err as Error).message}`);
    }
  }

  /** Containers with an image the runner does not know are played like kwok plays them: running and ready. */
  private markSimulated(c: Container): void {
    c.state = { running: { startedAt: new Date() } };
    c.started = true;
    c.ready = true;
    c.log.line('stdout', `obs-sim: image ${c.spec.image} has no local program; the container is simulated`);
    this.report();
  }

  private async startReloader(c: Container): Promise<void> {
    const { env } = resolveEnv(this.pod, c.spec, this.deps.lookup);
    const { args } = expandArgs(c.spec, env);
    c.reloader = new ConfigReloader({ podIP: this.podIP, args, env, volumes: this.volumes, kubeconfig: this.deps.kubeconfig, log: c.log });
    await c.reloader.start();
    c.state = { running: { startedAt: new Date() } };
    c.started = true;
    c.ready = true;
    this.report();
  }

  private get configsReady(): boolean {
    return this.containers.every((c) => !c.reloader || c.reloader.configReady);
  }

  private startWaitingProcesses(): void {
    if (!this.configsReady) {
      this.setWaitingProcesses('ContainerCreating', 'waiting for the config-reloader to write the configuration');
      return;
    }
    for (const c of this.containers) {
      if (c.recipe?.kind !== 'process' || c.child || c.restartTimer || c.held) continue;
      this.startProcess(c);
    }
  }

  private startProcess(c: Container): void {
    if (c.recipe?.kind !== 'process') return;
    const { env, missing } = resolveEnv(this.pod, c.spec, this.deps.lookup);
    if (missing.length) {
      c.state = { waiting: { reason: 'CreateContainerConfigError', message: `${missing.join(', ')} not found` } };
      this.report();
      return;
    }
    const { args } = expandArgs(c.spec, env);
    const launch = c.recipe.launch({ podIP: this.podIP, args: this.volumes.mapArgs(args), env, container: c.spec, kubeconfig: this.deps.kubeconfig });
    if (c.started || c.restartCount) c.log.rotate();
    const child = spawn(launch.command, launch.args, {
      cwd: this.dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.dir, KUBECONFIG: this.deps.kubeconfig, ...launch.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    c.child = child;
    c.startedAt = Date.now();
    c.log.attach('stdout', child.stdout);
    c.log.attach('stderr', child.stderr);
    const pidDir = join(this.dir, 'pids');
    mkdirSync(pidDir, { recursive: true });
    if (child.pid) writeFileSync(join(pidDir, c.spec.name), String(child.pid));
    child.once('error', (err) => c.log.line('stderr', `obs-sim: cannot start ${launch.command}: ${err.message}`));
    child.once('exit', (code, signal) => this.onExit(c, child, code, signal));
    c.state = { running: { startedAt: new Date() } };
    c.started = true;
    c.ready = false;
    this.deps.log(`${this.name}: started ${c.spec.name} (pid ${child.pid}): ${launch.command} ${launch.args.join(' ')}`);
    this.report();
    this.probe(c, true);
    for (const other of this.containers) other.reloader?.targetRunning();
  }

  private onExit(c: Container, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (c.child !== child) return;
    c.child = undefined;
    clearTimeout(c.probeTimer);
    rmSync(join(this.dir, 'pids', c.spec.name), { force: true });
    const exitCode = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 9) : 9);
    const startedAt = new Date(c.startedAt ?? Date.now());
    const terminated: k8s.V1ContainerStateTerminated = {
      exitCode,
      reason: exitCode === 0 ? 'Completed' : 'Error',
      startedAt,
      finishedAt: new Date(),
      ...(c.held ? { message: `obs-sim: stopped on request (pod annotation ${STOP_ANNOTATION})` } : {}),
    };
    c.ready = false;
    c.started = false;
    this.deps.log(`${this.name}: ${c.spec.name} exited (${signal ?? `code ${code}`})`);
    if (this.phase === 'stopped') return;
    if (c.held) {
      c.state = { terminated };
      this.report();
      return;
    }
    // A program that ran for 10 minutes starts its back-off afresh, as the kubelet resets it.
    if (Date.now() - (c.startedAt ?? 0) > 600_000) c.crashes = 0;
    c.crashes++;
    c.restartCount++;
    c.lastState = { terminated };
    const wait = backOffSeconds(c.crashes);
    c.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${wait}s restarting failed container=${c.spec.name} pod=${this.pod.metadata?.name}_${this.pod.metadata?.namespace}(${this.uid})` } };
    this.report();
    c.restartTimer = setTimeout(() => {
      c.restartTimer = undefined;
      if (this.phase === 'running' && !c.held) this.startProcess(c);
    }, wait * 1000);
  }

  /**
   * Readiness as the kubelet probes it, with one difference for speed: until the first success
   * the check runs every second (a startup phase), then at the probe's period.
   */
  private probe(c: Container, starting: boolean): void {
    const p = c.spec.readinessProbe;
    let delay = starting ? 1000 : (p?.periodSeconds ?? 10) * 1000;
    if (starting && c.startedAt) delay = Math.max(delay, c.startedAt + (p?.initialDelaySeconds ?? 0) * 1000 - Date.now());
    c.probeTimer = setTimeout(() => void this.probeTick(c, starting), delay);
  }

  private async probeTick(c: Container, starting: boolean): Promise<void> {
    if (!c.child) return;
    const ok = await checkOnce(c.spec.readinessProbe, this.podIP, c.spec);
    if (!c.child) return;
    if (ok) {
      c.failures = 0;
      if (!c.ready) {
        c.ready = true;
        this.report();
      }
    } else if (!starting) {
      c.failures++;
      if (c.ready && c.failures >= (c.spec.readinessProbe?.failureThreshold ?? 3)) {
        c.ready = false;
        this.report();
      }
    }
    this.probe(c, starting && !ok);
  }

  /** The stop annotation, applied: held containers are stopped, released ones started again. */
  private async applyHolds(): Promise<void> {
    const value = this.pod.metadata?.annotations?.[STOP_ANNOTATION] ?? '';
    const wanted = new Set(value.split(',').map((s) => s.trim()).filter(Boolean));
    for (const c of this.containers) {
      if (c.recipe?.kind !== 'process') continue;
      const hold = wanted.has('*') || wanted.has(c.spec.name);
      if (hold && !c.held) {
        c.held = true;
        clearTimeout(c.restartTimer);
        c.restartTimer = undefined;
        this.deps.log(`${this.name}: stopping ${c.spec.name} on request (${STOP_ANNOTATION})`);
        await this.kill(c);
      } else if (!hold && c.held) {
        c.held = false;
        if (c.state.terminated) {
          c.lastState = { terminated: c.state.terminated };
          c.restartCount++;
        }
      }
    }
  }

  private async kill(c: Container, graceMs = 5_000): Promise<void> {
    const child = c.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Stops every program of the pod (the pod is gone or the runner is shutting down). */
  async stop(): Promise<void> {
    this.phase = 'stopped';
    clearTimeout(this.reportTimer);
    for (const c of this.containers) {
      clearTimeout(c.restartTimer);
      clearTimeout(c.probeTimer);
    }
    await Promise.all(this.containers.map(async (c) => {
      await this.kill(c, (this.pod.spec?.terminationGracePeriodSeconds ?? 5) * 1000);
      await c.reloader?.stop();
    }));
  }

  /** Removes the pod's directory (volumes, logs); after `stop`, once the pod is gone. */
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private setWaitingAll(reason: string, message: string): void {
    if (this.waitingFor === message) return;
    this.waitingFor = message;
    for (const c of this.containers) c.state = { waiting: { reason, message } };
    this.deps.log(`${this.name}: ${message}`);
    this.report();
  }

  private setWaitingProcesses(reason: string, message: string): void {
    for (const c of this.containers) if (c.recipe?.kind === 'process' && !c.child) c.state = { waiting: { reason, message } };
    this.report();
  }

  /** kwok PortForward and Logs for the pod, so port-forward and logs reach the real programs. */
  private async ensureObjects(): Promise<void> {
    const meta = (kind: string) => ({
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind,
      metadata: {
        name: this.pod.metadata?.name,
        namespace: this.pod.metadata?.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'obs-sim-pod-runner' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: this.pod.metadata?.name ?? '', uid: this.uid }],
      },
    });
    const ports = [...new Set(this.containers.flatMap((c) => (c.spec.ports ?? []).map((p) => p.containerPort)))];
    const objects = [
      { ...meta('PortForward'), spec: { forwards: ports.map((port) => ({ ports: [port], target: { port, address: this.podIP } })) } },
      {
        ...meta('Logs'),
        spec: { logs: this.containers.map((c) => ({ containers: [c.spec.name], logsFile: c.log.current, previousLogsFile: c.log.previous, follow: true })) },
      },
    ];
    for (const o of objects) {
      await this.deps.objects.patch(o, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
    }
  }

  private condition(type: string, ok: boolean): k8s.V1PodCondition {
    const status = ok ? 'True' : 'False';
    const prev = this.transitions.get(type);
    const at = prev && prev.status === status ? prev.at : now();
    this.transitions.set(type, { status, at });
    return { type, status, lastTransitionTime: new Date(at), ...(ok ? {} : { reason: 'ContainersNotReady' }) };
  }

  /** Reports container states and readiness in the pod's status (coalesced; one patch at a time). */
  private report(): void {
    if (this.phase === 'stopped' || this.reportTimer) return;
    this.reportTimer = setTimeout(() => {
      this.reportTimer = undefined;
      this.reporting = this.reporting.then(() => this.patchStatus()).catch((err: unknown) => this.deps.log(`${this.name}: status patch failed: ${(err as Error).message}`));
    }, 50);
  }

  private async patchStatus(): Promise<void> {
    if (this.phase === 'stopped') return;
    const statuses = this.containers.map((c) => ({
      name: c.spec.name,
      image: c.spec.image ?? '',
      imageID: '',
      containerID: c.child?.pid ? `obs-sim://${c.child.pid}` : undefined,
      ready: c.ready,
      started: c.started,
      restartCount: c.restartCount,
      state: c.state,
      lastState: c.lastState,
    }));
    const ready = statuses.every((s) => s.ready);
    const body = {
      status: {
        phase: 'Running',
        conditions: [this.condition('Initialized', true), this.condition('ContainersReady', ready), this.condition('Ready', ready)],
        containerStatuses: statuses,
      },
    };
    await this.deps.core.patchNamespacedPodStatus(
      { name: this.pod.metadata?.name ?? '', namespace: this.pod.metadata?.namespace ?? '', body },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
  }
}
