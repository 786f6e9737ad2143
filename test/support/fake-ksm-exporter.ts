/**
 * A stand-in for kube-state-metrics in self-tests: serves `kube_pod_container_status_waiting_reason`
 * for fake pods in the Prometheus text format, so the real local Prometheus scrapes it and the
 * real KubePodCrashLooping expression evaluates over it. Labels as kube-state-metrics documents
 * them (docs/metrics/workload/pod-metrics.md: container, pod, namespace, reason, uid); like
 * current kube-state-metrics it exposes a series only for the reason a container waits with now.
 */
import { createServer, type Server } from 'node:http';

export interface FakeContainer {
  namespace: string;
  pod: string;
  container: string;
  uid: string;
}

export interface FakeKsmExporter {
  /** `host:port` for a Prometheus static_config. */
  host: string;
  /** The container now waits with `reason`; `undefined` means it runs (no series). */
  setWaiting(container: FakeContainer, reason: string | undefined): void;
  /** The pod is gone: its series disappear, as kube-state-metrics drops deleted pods. */
  remove(container: FakeContainer): void;
  /** Scrapes answered so far. */
  scrapes(): number;
  stop(): Promise<void>;
}

const METRIC = 'kube_pod_container_status_waiting_reason';

export async function startFakeKsmExporter(): Promise<FakeKsmExporter> {
  const waiting = new Map<string, { container: FakeContainer; reason: string }>();
  const key = (c: FakeContainer) => `${c.namespace}/${c.pod}/${c.container}`;
  let scrapes = 0;
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    scrapes++;
    const lines = [`# HELP ${METRIC} Describes the reason the container is currently in waiting state.`, `# TYPE ${METRIC} gauge`];
    for (const { container: c, reason } of waiting.values()) {
      lines.push(`${METRIC}{namespace="${c.namespace}",pod="${c.pod}",uid="${c.uid}",container="${c.container}",reason="${reason}"} 1`);
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(`${lines.join('\n')}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('fake kube-state-metrics did not get a port');
  return {
    host: `127.0.0.1:${address.port}`,
    setWaiting(container, reason) {
      if (reason === undefined) waiting.delete(key(container));
      else waiting.set(key(container), { container, reason });
    },
    remove(container) {
      waiting.delete(key(container));
    },
    scrapes: () => scrapes,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
