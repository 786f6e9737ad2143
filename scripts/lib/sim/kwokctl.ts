/**
 * The control plane, made by `kwokctl --runtime binary` inside the network namespace: etcd,
 * kube-apiserver, kube-controller-manager, kube-scheduler and kwok as local processes from the
 * sim tools (sim/kwokctl.yaml), then a kube config for the host that reaches the API server
 * across the veth. kwokctl keeps its state under .cache/sim/kwok (KWOK_WORKDIR), so sim:down
 * removes every trace with the directory.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { mustRun, run } from './exec.ts';
import { HOST_API_SERVER, PATHS, SIM } from './layout.ts';
import { fillPlaceholders } from './manifests.ts';
import { inNetns } from './netns.ts';
import { toolPath } from './tools.ts';

function kwokctl(...args: string[]): string[] {
  return inNetns([toolPath('kwokctl'), '--name', SIM.name, ...args]);
}

const env = (): NodeJS.ProcessEnv => ({ ...process.env, KWOK_WORKDIR: PATHS.kwokWorkdir });

/** sim/kwokctl.yaml with the local binaries and the host-facing API address filled in. */
export function writeKwokctlConfig(): string {
  const template = readFileSync(join(PATHS.simDir, 'kwokctl.yaml'), 'utf8');
  const text = fillPlaceholders(
    template,
    {
      API_ADDRESS: SIM.nsAddress,
      SERVICE_CIDR: SIM.serviceCidr,
      CACHE_DIR: join(PATHS.kwokWorkdir, 'cache'),
      BIN_ETCD: toolPath('etcd'),
      BIN_KUBE_APISERVER: toolPath('kube-apiserver'),
      BIN_KUBE_CONTROLLER_MANAGER: toolPath('kube-controller-manager'),
      BIN_KUBE_SCHEDULER: toolPath('kube-scheduler'),
      BIN_KWOK: toolPath('kwok'),
      BIN_KUBECTL: toolPath('kubectl'),
    },
    'sim/kwokctl.yaml',
  );
  mkdirSync(PATHS.state, { recursive: true });
  writeFileSync(PATHS.kwokctlConfig, text);
  return PATHS.kwokctlConfig;
}

/**
 * Creates the cluster, or starts it again when it exists but is stopped (kwokctl's own
 * idempotence: "Cluster already exists … continue it"). Returns kwokctl's output.
 */
export function createCluster(timeoutSeconds: number): string {
  const config = writeKwokctlConfig();
  return mustRun(kwokctl('--config', config, 'create', 'cluster', '--runtime', 'binary', '--kubeconfig', '', '--wait', '0s', '--timeout', `${timeoutSeconds}s`, '--quiet-pull'), {
    env: env(),
    timeoutMs: (timeoutSeconds + 30) * 1000,
  });
}

/** Stops the control plane and removes kwokctl's cluster directory; quiet when there is none. */
export function deleteCluster(): void {
  if (!existsSync(PATHS.kwokCluster) || !existsSync(toolPath('kwokctl'))) return;
  run(kwokctl('delete', 'cluster'), { env: env(), timeoutMs: 120_000 });
}

/**
 * The host's kube config: context `obs-sim`, the API server at the namespace's veth address,
 * kwokctl's CA and admin client certificate embedded (the file is gitignored and mode 0600).
 */
export function writeHostKubeconfig(): string {
  const pki = join(PATHS.kwokCluster, 'pki');
  const b64 = (f: string) => readFileSync(join(pki, f)).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: SIM.name, cluster: { server: HOST_API_SERVER, 'certificate-authority-data': b64('ca.crt') } }],
    users: [{ name: `${SIM.name}-admin`, user: { 'client-certificate-data': b64('admin.crt'), 'client-key-data': b64('admin.key') } }],
    contexts: [{ name: SIM.name, context: { cluster: SIM.name, user: `${SIM.name}-admin` } }],
    'current-context': SIM.name,
  };
  writeFileSync(PATHS.hostKubeconfig, stringify(config));
  chmodSync(PATHS.hostKubeconfig, 0o600);
  return PATHS.hostKubeconfig;
}
