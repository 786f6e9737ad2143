/**
 * One readiness check, as the kubelet runs a probe against a container
 * (https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/):
 * httpGet succeeds on a status from 200 to 399, tcpSocket on a connection; the pod's address
 * is the host unless the probe names one. exec probes cannot run here (there is no container
 * to exec in) and count as passing while the process runs.
 */
import { connect } from 'node:net';
import type * as k8s from '@kubernetes/client-node';
import { http } from '../../../../fixtures/core/http.ts';

function portOf(port: number | string | undefined, c: k8s.V1Container): number | undefined {
  if (typeof port === 'number') return port;
  if (port === undefined) return c.ports?.[0]?.containerPort;
  if (/^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

export function tcpCheck(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Whether the container passes `probe` now. Without a probe the kubelet counts a running
 * container as ready; the runner additionally waits for its first port to accept a connection,
 * so an endpoint never turns ready before the program listens.
 */
export async function checkOnce(probe: k8s.V1Probe | undefined, podIP: string, c: k8s.V1Container): Promise<boolean> {
  const timeoutMs = (probe?.timeoutSeconds ?? 1) * 1000;
  if (probe?.httpGet) {
    const port = portOf(probe.httpGet.port, c);
    if (port === undefined) return false;
    const scheme = (probe.httpGet.scheme ?? 'HTTP').toLowerCase();
    const path = probe.httpGet.path ?? '/';
    const headers = Object.fromEntries((probe.httpGet.httpHeaders ?? []).filter((h) => h?.name).map((h) => [h.name, h.value]));
    try {
      const res = await http({ url: `${scheme}://${probe.httpGet.host ?? podIP}:${port}${path.startsWith('/') ? path : `/${path}`}`, headers, timeoutMs, acceptStatus: () => true, redirect: 'manual' });
      return res.status >= 200 && res.status < 400;
    } catch {
      return false;
    }
  }
  if (probe?.tcpSocket || probe?.grpc) {
    const port = probe.tcpSocket ? portOf(probe.tcpSocket.port, c) : probe.grpc?.port;
    return port === undefined ? false : tcpCheck(probe.tcpSocket?.host ?? podIP, port, timeoutMs);
  }
  if (probe?.exec) return true;
  const first = c.ports?.[0]?.containerPort;
  return first === undefined ? true : tcpCheck(podIP, first, timeoutMs);
}
