/**
 * A real Kubernetes control plane on loopback for self-tests that need the API server's own
 * behaviour (RBAC, admission policies, server-side apply): etcd 3.6 and kube-apiserver 1.36
 * from `npm run sim:build` (scripts/lib/sim/tools.ts), plus kube-controller-manager with only
 * the namespace controller (a deleted namespace really goes) and the service account
 * controller (every namespace gets its `default` account, without which pods are refused).
 * No nodes, no scheduler: pods stay Pending, which admission tests do not mind.
 *
 * The admin is a static token in group system:masters (`--token-auth-file`); service account
 * tokens are signed with a key made here, so the TokenRequest API works. The serving
 * certificate is the API server's self-signed one (`--cert-dir`), trusted by the kube config.
 * Everything lives in one temporary directory, removed by `stop()`.
 */
import { randomBytes, generateKeyPairSync } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { waitFor } from '../../fixtures/core/poll.ts';
import { CRDS_DIR, toolPath, TOOLS_BIN } from '../../scripts/lib/sim/tools.ts';
import { describeOutput, runChildOk, startChild, type ChildResult, type RunningChild } from './child.ts';

/** The programs this needs, as `npm run sim:build` names them. */
const TOOLS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl'] as const;
/** Long enough for the slowest start on a loaded 2-core machine; a start ends as soon as the API server is ready. */
const START_BUDGET_MS = 180_000;

/**
 * Why the control plane cannot be started here (the tools are not built), or undefined. A test
 * that needs it skips with this reason; `.ci/run` builds the tools before the self-tests.
 */
export function controlPlaneUnavailable(): string | undefined {
  const missing = TOOLS.filter((name) => {
    try {
      accessSync(toolPath(name), constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) return `the simulated cluster tools are not built (${missing.join(', ')} missing in ${TOOLS_BIN}); build them with "npm run sim:build"`;
  if (!existsSync(CRDS_DIR) || !readdirSync(CRDS_DIR).some((f) => f.endsWith('.yaml'))) return `the Prometheus Operator CRDs are missing in ${CRDS_DIR}; build the tools with "npm run sim:build"`;
  return undefined;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** A cluster admin (group system:masters). */
  admin: k8s.KubeConfig;
  /** The admin kube config as a file, for kubectl and scripts. */
  adminFile: string;
  /** A directory removed with the control plane, for the test's own files. */
  dir: string;
  /** `kubectl --kubeconfig <admin> args`; a non-zero exit throws with the output. */
  kubectl(args: string[], input?: string): Promise<ChildResult>;
  /** Applies the named CRD files of the operator (e.g. `monitoring.coreos.com_servicemonitors.yaml`) and waits until they are served. */
  installCrds(files: string[]): Promise<void>;
  /** Stops the three processes and removes the directory. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function stopChild(child: RunningChild): Promise<void> {
  child.signal('SIGTERM');
  await child.done.catch(() => undefined);
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager on free loopback ports and returns
 * once the API server answers /readyz and the `default` service account exists.
 * @throws with the output of the process that did not come up.
 */
export async function startControlPlane(): Promise<ControlPlane> {
  const dir = await mkdtemp(join(tmpdir(), 'obs-control-plane-'));
  const children: RunningChild[] = [];
  const stop = async () => {
    for (const child of children.reverse()) await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    await writeFile(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const adminToken = randomBytes(24).toString('hex');
    await writeFile(join(dir, 'tokens.csv'), `${adminToken},obs-test-admin,obs-test-admin,"system:masters"\n`, { mode: 0o600 });

    // Output is kept by startChild in memory: warnings only, to keep it small.
    const etcd = startChild(toolPath('etcd'), [
      '--name=obs-test',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=obs-test=http://127.0.0.1:${peerPort}`,
      // A throw-away store: no fsync, far less disk wait on a busy machine.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ], { limitMs: 3_600_000 });
    children.push(etcd);

    const apiserver = startChild(toolPath('kube-apiserver'), [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'certs')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.43.0.0/16',
      // The kubernetes Service's endpoints would need a non-loopback address; nothing here uses them.
      '--endpoint-reconciler-type=none',
      '--v=0',
    ], { limitMs: 3_600_000 });
    children.push(apiserver);

    const server = `https://127.0.0.1:${apiPort}`;
    const admin = new k8s.KubeConfig();
    const caFile = join(dir, 'certs', 'apiserver.crt');
    admin.loadFromOptions({
      clusters: [{ name: 'local', server, caFile }],
      users: [{ name: 'admin', token: adminToken }],
      contexts: [{ name: 'local', cluster: 'local', user: 'admin' }],
      currentContext: 'local',
    });
    const adminFile = join(dir, 'admin.kubeconfig');
    await writeFile(adminFile, admin.exportConfig(), { mode: 0o600 });

    const ended = (name: string, child: RunningChild) =>
      child.done.then((r) => {
        throw new Error(`${name} ended (exit ${r.signal ?? r.code}) before the API server was ready\n${describeOutput(r)}`);
      });
    const core = () => admin.makeApiClient(k8s.CoreV1Api);
    await Promise.race([
      ended('etcd', etcd),
      ended('kube-apiserver', apiserver),
      waitFor(
        `kube-apiserver ${server} to be ready`,
        async () => {
          if (!existsSync(caFile)) return 'no serving certificate yet';
          try {
            return (await core().listNamespacedServiceAccount({ namespace: 'default' })) && undefined;
          } catch (err) {
            return `not yet: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
          }
        },
        (why) => why,
        { timeoutMs: START_BUDGET_MS, derivation: 'fixed: a cold start on a loaded 2-core machine', progress: { afterMs: 30_000 } },
      ),
    ]);

    const controllers = startChild(toolPath('kube-controller-manager'), [
      `--kubeconfig=${adminFile}`,
      '--controllers=namespace-controller,serviceaccount-controller',
      '--leader-elect=false',
      '--secure-port=0',
      '--v=0',
    ], { limitMs: 3_600_000 });
    children.push(controllers);
    await Promise.race([
      ended('kube-controller-manager', controllers),
      waitFor(
        'the default service account in namespace default',
        async () => (await core().listNamespacedServiceAccount({ namespace: 'default' })).items.map((a) => a.metadata?.name),
        (names) => (names.includes('default') ? undefined : `accounts: ${names.join(', ') || 'none'}`),
        { timeoutMs: START_BUDGET_MS, derivation: 'fixed: the service account controller starts after its informers sync', progress: { afterMs: 30_000 } },
      ),
    ]);

    const kubectl = (args: string[], input?: string) => runChildOk(toolPath('kubectl'), [`--kubeconfig=${adminFile}`, ...args], input === undefined ? {} : { input });
    return {
      server,
      admin,
      adminFile,
      dir,
      kubectl,
      async installCrds(files) {
        await kubectl(['apply', '--server-side', ...files.flatMap((f) => ['--filename', join(CRDS_DIR, f)])]);
        await kubectl(['wait', '--for=condition=Established', '--timeout=120s', ...files.map((f) => `crd/${f.replace(/^([^_]+)_(.+)\.yaml$/, '$2.$1')}`)]);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
