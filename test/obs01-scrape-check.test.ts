/**
 * OBS-01's `ScrapeCheck` end to end without a cluster: a real Prometheus (the local stack)
 * scrapes a local /metrics server under the scrape pool the operator would generate for the
 * ServiceMonitor (`serviceMonitor/default/taskplanner/0`, job relabelled to `taskplanner`),
 * while the Kubernetes side (Prometheus resource, namespace, Service, pods, EndpointSlices) is
 * replayed. Boundary: the operator and Kubernetes are not here; the scrape and the targets API are real.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../fixtures/core/config.ts';
import { KubeClient } from '../fixtures/kube/client.ts';
import { loadManifestFile } from '../fixtures/kube/manifests.ts';
import { ScrapeCheck } from '../fixtures/prometheus/scrape-chain.ts';
import { waitFor } from '../fixtures/core/poll.ts';
import { PrometheusClient } from '../fixtures/prometheus/client.ts';
import type { ServiceMonitor } from '../fixtures/prometheus/service-monitor.ts';
import { eventList, pod, podList, replayKubeConfig, startKubeReplay } from './support/kube-replay.ts';
import { freePort, startPrometheus, type LocalPrometheus } from './support/local-stack.ts';
import type { ReplayServer } from './support/replay-server.ts';

const prometheusResource = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'Prometheus',
  metadata: { name: 'kube-prometheus-stack-prometheus', namespace: 'monitoring' },
  spec: { serviceMonitorSelector: { matchLabels: { release: 'kube-prometheus-stack' } }, serviceMonitorNamespaceSelector: {} },
};
const taskplannerService = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'taskplanner', namespace: 'default', labels: { 'app.kubernetes.io/name': 'taskplanner' } },
  spec: { selector: { 'app.kubernetes.io/name': 'taskplanner' }, ports: [{ name: 'http', port: 3000, targetPort: 'http' }] },
};
const slices = {
  kind: 'EndpointSliceList',
  apiVersion: 'discovery.k8s.io/v1',
  metadata: {},
  items: [
    {
      addressType: 'IPv4',
      metadata: { name: 'taskplanner-x', namespace: 'default' },
      ports: [{ name: 'http', port: 3000 }],
      endpoints: [{ addresses: ['10.42.1.7'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'taskplanner-7d9c' } }],
    },
  ],
};

function kubeRoutes(prometheusSelector: object): Parameters<typeof startKubeReplay>[0] {
  return {
    'GET /apis/monitoring.coreos.com/v1/prometheuses': { body: { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusList', metadata: {}, items: [{ ...prometheusResource, spec: { ...prometheusResource.spec, serviceMonitorSelector: prometheusSelector } }] } },
    'GET /api/v1/namespaces/default': { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { 'kubernetes.io/metadata.name': 'default' } } } },
    'GET /api/v1/namespaces/default/services': { body: { kind: 'ServiceList', apiVersion: 'v1', metadata: {}, items: [taskplannerService] } },
    'GET /api/v1/namespaces/default/pods': { body: podList(pod({ name: 'taskplanner-7d9c', namespace: 'default', ready: true, labels: { 'app.kubernetes.io/name': 'taskplanner' } })) },
    'GET /api/v1/namespaces/default/events': { body: eventList() },
    'GET /apis/discovery.k8s.io/v1/namespaces/default/endpointslices': { body: slices },
  };
}

/** The scrape pool the operator generates for the ServiceMonitor's first endpoint. */
const pool = (target: string) => ({
  job_name: 'serviceMonitor/default/taskplanner/0',
  scrape_interval: '1s',
  static_configs: [{ targets: [target] }],
  // What the operator's generated relabelling does: job from the Service name.
  relabel_configs: [{ target_label: 'job', replacement: 'taskplanner' }],
});

describe('OBS-01 ScrapeCheck against a real Prometheus and replayed Kubernetes', () => {
  let app: Server;
  let prom: LocalPrometheus;
  let closedPort: number;
  let sm: ServiceMonitor;

  before(async () => {
    app = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end('# TYPE http_requests_total counter\nhttp_requests_total{method="GET",route="/",status_code="200"} 1\n');
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
    closedPort = await freePort();
    const appTarget = `127.0.0.1:${(app.address() as AddressInfo).port}`;
    prom = await startPrometheus({ scrapeConfigs: [pool(appTarget)] });
    [sm] = (await loadManifestFile('manifests/taskplanner/servicemonitor.yaml')) as unknown as [ServiceMonitor];
  });
  after(async () => {
    await prom?.stop();
    await new Promise<void>((r) => app.close(() => r()));
  });

  async function check(routes: Parameters<typeof startKubeReplay>[0]): Promise<{ scrape: ScrapeCheck; kube: ReplayServer }> {
    const kube = await startKubeReplay(routes);
    const client = new KubeClient({ kc: replayKubeConfig(kube.url), runId: 'obs01', namespacePrefix: 'obs-acc' });
    return { scrape: new ScrapeCheck(client, new PrometheusClient(prom.url), loadConfig({})), kube };
  }

  it('selected by the live Prometheus resource, target active and up, chain all green', async (t) => {
    const { scrape, kube } = await check(kubeRoutes({ matchLabels: { release: 'kube-prometheus-stack' } }));
    t.after(() => kube.close());
    const selection = await scrape.selection(sm);
    assert.deepEqual(selection.reasons, []);
    const { target, verdict } = await scrape.waitForTaskPlannerUp(sm, 60_000);
    assert.equal(target.labels.job, 'taskplanner');
    assert.equal(target.scrapePool, 'serviceMonitor/default/taskplanner/0');
    assert.deepEqual(
      verdict.links.map((l) => [l.name, l.ok]),
      [
        ['pod ready', true],
        ['Service endpoints', true],
        ['selector match', true],
        ['target active or dropped', true],
        ['last scrape', true],
      ],
    );
    assert.equal(await scrape.taskplannerUp(), 1);
  });

  it('a target that cannot be scraped: the failure names the last scrape and its error', async (t) => {
    const { scrape, kube } = await check(kubeRoutes({ matchLabels: { release: 'kube-prometheus-stack' } }));
    t.after(() => kube.close());
    await prom.reload({ scrapeConfigs: [pool(`127.0.0.1:${closedPort}`)] });
    const client = new PrometheusClient(prom.url);
    await waitFor(
      'the reloaded Prometheus to scrape only the closed port',
      () => client.targets('active'),
      (t) => (t.activeTargets.length === 1 && t.activeTargets[0]?.scrapeUrl.includes(`:${closedPort}/`) ? undefined : 'old target still active'),
      { timeoutMs: 60_000 },
    );
    await assert.rejects(scrape.waitForTaskPlannerUp(sm, 4_000), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /The TaskPlanner target is not up\. Broken link: last scrape — http:\/\/127\.0\.0\.1:\d+\/metrics is (down|unknown)/);
      assert.match(err.message, /✓ pod ready: 1 of 1 pod\(s\) Ready/);
      assert.match(err.message, /✗ last scrape/);
      return true;
    });
  });

  it('a Prometheus resource that selects other labels: selection says which label, and the chain names the selector', async (t) => {
    const { scrape, kube } = await check(kubeRoutes({ matchLabels: { release: 'prometheus-community' } }));
    t.after(() => kube.close());
    const selection = await scrape.selection(sm);
    assert.equal(selection.selected, false);
    assert.match(selection.reasons[0] ?? '', /label release=prometheus-community is required but it is release=kube-prometheus-stack/);
    await prom.reload({ scrapeConfigs: [] });
    await assert.rejects(scrape.waitForTaskPlannerUp(sm, 3_000), /Broken link: selector match — .*release=prometheus-community/);
  });

  it('a ServiceMonitor port name the Service does not have: the headline names the port-name mismatch, not missing endpoints', async (t) => {
    // Replayed: the Service names its port "http" and has a ready endpoint on it; the ServiceMonitor asks for "http-metrics".
    const { scrape, kube } = await check(kubeRoutes({ matchLabels: { release: 'kube-prometheus-stack' } }));
    t.after(() => kube.close());
    const renamed: ServiceMonitor = { ...sm, spec: { ...sm.spec, endpoints: sm.spec.endpoints.map((e) => ({ ...e, port: 'http-metrics' })) } };
    await prom.reload({ scrapeConfigs: [] });
    await assert.rejects(scrape.waitForTaskPlannerUp(renamed, 3_000), (err: unknown) => {
      assert.ok(err instanceof Error);
      const headline = err.message.split('\n')[0] ?? '';
      assert.match(headline, /Broken link: Service endpoints — port-name mismatch: ServiceMonitor default\/taskplanner scrapes port "http-metrics" but Service default\/taskplanner names its ports "http"/);
      assert.match(headline, /1 ready endpoint\(s\) on "http"/);
      assert.doesNotMatch(headline, /no endpoint on port/);
      return true;
    });
  });
});
