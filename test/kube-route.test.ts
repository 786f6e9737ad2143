/**
 * Reaching an in-cluster Service by port-forward (fixtures/kube/route.ts) against a stand-in
 * API server that speaks the kubelet's port-forward WebSocket protocol
 * (test/support/kube-replay-portforward.ts): Service port → named target port through the
 * EndpointSlice → a ready pod, a real HTTP round trip through the tunnel, and fast failures.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { http } from '../fixtures/core/http.ts';
import { WaitTimeout } from '../fixtures/core/poll.ts';
import { openPortForward } from '../fixtures/kube/route.ts';
import { replayKubeConfig } from './support/kube-replay.ts';
import { startPortForwardReplay, type PortForwardReplay } from './support/kube-replay-portforward.ts';

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'prometheus-operated', namespace: 'monitoring' },
  spec: { clusterIP: 'None', selector: { 'app.kubernetes.io/name': 'prometheus' }, ports: [{ name: 'web', port: 9090, targetPort: 'web', protocol: 'TCP' }] },
};
const slices = (ready: boolean) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSliceList',
  metadata: {},
  items: [
    {
      addressType: 'IPv4',
      metadata: { name: 'prometheus-operated-x1', namespace: 'monitoring', labels: { 'kubernetes.io/service-name': 'prometheus-operated' } },
      ports: [{ name: 'web', port: 9090, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['10.42.0.8'], conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'prometheus-old-0', namespace: 'monitoring' } },
        { addresses: ['10.42.0.9'], conditions: { ready }, targetRef: { kind: 'Pod', name: 'prometheus-kube-prometheus-stack-prometheus-0', namespace: 'monitoring' } },
      ],
    },
  ],
});

let pod: Server;
let podPort: number;
let replay: PortForwardReplay;

before(async () => {
  // Plays the Prometheus pod behind the tunnel.
  pod = createServer((req, res) => {
    res.writeHead(req.url === '/-/ready' ? 200 : 404, { 'content-type': 'text/plain' });
    res.end(req.url === '/-/ready' ? 'Prometheus Server is Ready.\n' : 'not found\n');
  });
  await new Promise<void>((r) => pod.listen(0, '127.0.0.1', () => r()));
  podPort = (pod.address() as AddressInfo).port;
});
after(async () => {
  await replay?.close();
  await new Promise<void>((r) => pod.close(() => r()));
});

describe('port-forward route', () => {
  test('resolves the Service to a ready pod and its named port, and answers only after a real HTTP round trip', async () => {
    replay = await startPortForwardReplay(
      {
        'GET /api/v1/namespaces/monitoring/services/prometheus-operated': service,
        'GET /apis/discovery.k8s.io/v1/namespaces/monitoring/endpointslices': slices(true),
      },
      podPort,
    );
    const route = await openPortForward(replayKubeConfig(replay.url), 'prometheus', { kind: 'cluster', namespace: 'monitoring', service: 'prometheus-operated', port: 9090 }, 10_000);
    try {
      assert.match(route.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(replay.forwards[0], { path: '/api/v1/namespaces/monitoring/pods/prometheus-kube-prometheus-stack-prometheus-0/portforward', ports: '9090' });
      const res = await http({ url: `${route.url}/-/ready`, timeoutMs: 5_000 });
      assert.equal(res.text, 'Prometheus Server is Ready.\n');
      const missing = await http({ url: `${route.url}/nope`, timeoutMs: 5_000, acceptStatus: [404] });
      assert.equal(missing.status, 404);
      assert.ok(replay.forwards.length >= 1, 'one tunnel per TCP connection (kept alive across requests)');
    } finally {
      await route.close();
    }
  });

  test('fails at once, with the reason, when the Service has no ready pod or does not exist', async () => {
    await replay.close();
    replay = await startPortForwardReplay(
      {
        'GET /api/v1/namespaces/monitoring/services/prometheus-operated': service,
        'GET /apis/discovery.k8s.io/v1/namespaces/monitoring/endpointslices': slices(false),
        'GET /api/v1/namespaces/monitoring/services': { kind: 'ServiceList', apiVersion: 'v1', metadata: {}, items: [] },
      },
      podPort,
    );
    const kc = replayKubeConfig(replay.url);
    // At once: the reason itself is the error, not a timeout after the 30 s deadline.
    const failsAtOnce = (opening: Promise<unknown>, reason: RegExp) =>
      assert.rejects(opening, (err: unknown) => {
        assert.ok(err instanceof Error && !(err instanceof WaitTimeout), `waited for the deadline: ${String(err)}`);
        assert.match(err.message, reason);
        return true;
      });
    await failsAtOnce(
      openPortForward(kc, 'prometheus', { kind: 'cluster', namespace: 'monitoring', service: 'prometheus-operated', port: 9090 }, 30_000),
      /Service monitoring\/prometheus-operated port 9090 \(web\) has no ready pod endpoint \(2 endpoint\(s\), none ready\)/,
    );
    await failsAtOnce(
      openPortForward(kc, 'prometheus', { kind: 'cluster', namespace: 'monitoring', service: 'prometheus-operated', port: 80 }, 30_000),
      /Service monitoring\/prometheus-operated has no port 80; it has 9090 \(web\)/,
    );
    await failsAtOnce(
      openPortForward(kc, 'loki', { kind: 'cluster', namespace: 'monitoring', service: 'loki', port: 3100 }, 30_000),
      /No Service for loki found; tried monitoring\/loki \(configured\), monitoring\/loki-gateway, monitoring\/loki-stack, monitoring labelled app\.kubernetes\.io\/name=loki, monitoring labelled app=loki\. Set LOKI_SERVICE/,
    );
    assert.deepEqual(replay.forwards, []);
  });

  test('a configured Service that does not exist is replaced by the usual one (loki-stack for loki), and the route says so', async () => {
    await replay.close();
    const lokiStack = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'loki-stack', namespace: 'monitoring', labels: { app: 'loki', release: 'loki-stack' } },
      spec: { selector: { app: 'loki', release: 'loki-stack' }, ports: [{ name: 'http-metrics', port: 3100, targetPort: 'http-metrics' }] },
    };
    const lokiSlices = {
      kind: 'EndpointSliceList',
      apiVersion: 'discovery.k8s.io/v1',
      metadata: {},
      items: [
        {
          addressType: 'IPv4',
          metadata: { name: 'loki-stack-x', namespace: 'monitoring' },
          ports: [{ name: 'http-metrics', port: 3100 }],
          endpoints: [{ addresses: ['10.42.0.20'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'loki-stack-0' } }],
        },
      ],
    };
    replay = await startPortForwardReplay(
      { 'GET /api/v1/namespaces/monitoring/services/loki-stack': lokiStack, 'GET /apis/discovery.k8s.io/v1/namespaces/monitoring/endpointslices': lokiSlices },
      podPort,
    );
    const route = await openPortForward(replayKubeConfig(replay.url), 'loki', { kind: 'cluster', namespace: 'monitoring', service: 'loki', port: 3100 }, 10_000);
    try {
      assert.deepEqual(route.endpoint, { kind: 'cluster', namespace: 'monitoring', service: 'loki-stack', port: 3100 });
      assert.equal(route.note, 'monitoring/loki does not exist; using monitoring/loki-stack:3100');
      assert.equal(replay.forwards[0]?.path, '/api/v1/namespaces/monitoring/pods/loki-stack-0/portforward');
    } finally {
      await route.close();
    }
  });
});
