/**
 * Where the simulated cluster lives: names, addresses, ports and paths, in one place. The
 * cluster runs inside the network namespace `obs-sim`, joined to the host by one veth pair
 * with private /30 addresses; node and pod addresses are routed to the namespace and local
 * inside it, so real processes bind the addresses kwok hands out and the host reaches them.
 * No address here leaves the machine.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file is scripts/lib/sim/layout.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');

export const SIM = {
  /** kwokctl cluster name, kube config context and network namespace name. */
  name: 'obs-sim',
  netns: 'obs-sim',
  /** Host end and namespace end of the veth pair (interface names are at most 15 characters). */
  hostIf: 'obs-sim0',
  nsIf: 'obs-sim1',
  hostAddress: '10.213.0.1',
  nsAddress: '10.213.0.2',
  linkPrefix: 30,
  /** The API server, as the host reaches it. */
  apiPort: 6443,
  /** Node InternalIPs: local to the namespace (a `local` route), routed there from the host. */
  nodeCidr: '10.213.1.0/24',
  /** Pod addresses: each node hands out from its own /24 (spec.podCIDR), kwok picks the address. */
  podCidr: '10.244.0.0/16',
  /** Service ClusterIPs (k3s' default range): allocated, never routed, since nothing proxies them. */
  serviceCidr: '10.43.0.0/16',
  kubernetesVersion: 'v1.36.3',
} as const;

export interface SimNode {
  name: string;
  role: 'server' | 'agent';
  ip: string;
  podCidr: string;
}

/** One server and two agents, like the nightly's k3d cluster (scripts/k3d/cluster.yaml). */
export const NODES: readonly SimNode[] = [
  { name: 'obs-sim-server-0', role: 'server', ip: '10.213.1.1', podCidr: '10.244.0.0/24' },
  { name: 'obs-sim-agent-0', role: 'agent', ip: '10.213.1.2', podCidr: '10.244.1.0/24' },
  { name: 'obs-sim-agent-1', role: 'agent', ip: '10.213.1.3', podCidr: '10.244.2.0/24' },
];

/** Everything the sim writes at run time, removed by sim:down (gitignored: .cache/). */
export const STATE_DIR = join(REPO_ROOT, '.cache', 'sim');

export const PATHS = {
  state: STATE_DIR,
  /** kwokctl's own tree (KWOK_WORKDIR): clusters/obs-sim holds pki, etcd data, component logs. */
  kwokWorkdir: join(STATE_DIR, 'kwok'),
  kwokCluster: join(STATE_DIR, 'kwok', 'clusters', 'obs-sim'),
  /** The kube config for in-namespace processes, written by kwokctl (server 127.0.0.1). */
  inClusterKubeconfig: join(STATE_DIR, 'kwok', 'clusters', 'obs-sim', 'kubeconfig.yaml'),
  /** The kube config for the host and the suite (server https://10.213.0.2:6443, context obs-sim). */
  hostKubeconfig: join(STATE_DIR, 'kubeconfig'),
  kwokctlConfig: join(STATE_DIR, 'kwokctl.yaml'),
  /** Per-pod root directories and CRI logs of the processes the runner starts. */
  pods: join(STATE_DIR, 'pods'),
  runnerPid: join(STATE_DIR, 'pod-runner.pid'),
  runnerLog: join(STATE_DIR, 'pod-runner.log'),
  /** Committed configuration: kwokctl.yaml, kwok Stages, monitoring manifests. */
  simDir: join(REPO_ROOT, 'sim'),
} as const;

/** The API server URL the host and the suite use. */
export const HOST_API_SERVER = `https://${SIM.nsAddress}:${SIM.apiPort}`;
