/**
 * OBS-01 logic without a cluster: label selectors (matchLabels and matchExpressions), the
 * Prometheus Operator's ServiceMonitor selection rules, the scrape failure chain naming the
 * broken link, and node-exporter coverage.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { describeSelector, selectorMatches, selectorMismatches, selectorToString } from '../fixtures/kube/selectors.ts';
import { nodeExporterCoverage, targetDeadlineMs, walkScrapeChain, type ChainFacts } from '../fixtures/prometheus/scrape-chain.ts';
import type { ActiveTarget, Targets } from '../fixtures/prometheus/client.ts';
import { prometheusSelects, scrapePool, serviceMonitorSelectsService, type PrometheusResource, type ServiceMonitor } from '../fixtures/prometheus/service-monitor.ts';
import { pod } from './support/kube-replay.ts';

describe('label selectors', () => {
  test('matchLabels and every matchExpressions operator', () => {
    const labels = { release: 'kube-prometheus-stack', team: 'web', tier: 'api' };
    assert.ok(selectorMatches({}, labels), 'empty selector matches everything');
    assert.ok(selectorMatches({ matchLabels: { release: 'kube-prometheus-stack' } }, labels));
    assert.ok(selectorMatches({ matchExpressions: [{ key: 'team', operator: 'In', values: ['web', 'ops'] }] }, labels));
    assert.ok(selectorMatches({ matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['ops'] }] }, labels));
    assert.ok(selectorMatches({ matchExpressions: [{ key: 'absent', operator: 'NotIn', values: ['x'] }] }, labels), 'NotIn matches a missing label');
    assert.ok(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, labels));
    assert.ok(selectorMatches({ matchExpressions: [{ key: 'legacy', operator: 'DoesNotExist' }] }, labels));
    assert.deepEqual(selectorMismatches({ matchLabels: { release: 'prom' }, matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels), [
      'label release=prom is required but it is release=kube-prometheus-stack',
      'label tier must not exist but it is tier=api',
    ]);
    assert.deepEqual(selectorMismatches({ matchExpressions: [{ key: 'team', operator: 'In', values: ['ops'] }] }, {}), [
      'label team in (ops) is required but the label is missing',
    ]);
    assert.deepEqual(selectorMismatches({ matchExpressions: [{ key: 'team', operator: 'Matches' }] }, labels), [
      'operator "Matches" of the requirement on team is not a valid selector operator',
    ]);
  });

  test('printed as the API query string', () => {
    assert.equal(
      selectorToString({
        matchLabels: { app: 'taskplanner' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod', 'staging'] },
          { key: 'tier', operator: 'NotIn', values: ['db'] },
          { key: 'team', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
      'app=taskplanner,env in (prod,staging),tier notin (db),team,!legacy',
    );
    assert.equal(describeSelector({}), '{} (everything)');
    assert.equal(describeSelector(null), 'null');
  });
});

const sm: ServiceMonitor = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'ServiceMonitor',
  metadata: { name: 'taskplanner', namespace: 'default', labels: { release: 'kube-prometheus-stack', 'app.kubernetes.io/name': 'taskplanner' } },
  spec: {
    selector: { matchLabels: { 'app.kubernetes.io/name': 'taskplanner' } },
    namespaceSelector: { matchNames: ['default'] },
    endpoints: [{ port: 'http', path: '/metrics', interval: '15s' }],
  },
};

const prom = (spec: PrometheusResource['spec']): PrometheusResource => ({ apiVersion: 'monitoring.coreos.com/v1', kind: 'Prometheus', metadata: { name: 'kube-prometheus-stack-prometheus', namespace: 'monitoring' }, spec });

describe('Prometheus selects the ServiceMonitor (serviceMonitorSelector, serviceMonitorNamespaceSelector)', () => {
  const nsLabels = { 'kubernetes.io/metadata.name': 'default' };

  test("the chart's default: release label, all namespaces", () => {
    const p = prom({ serviceMonitorSelector: { matchLabels: { release: 'kube-prometheus-stack' } }, serviceMonitorNamespaceSelector: {} });
    assert.deepEqual(prometheusSelects(p, sm, nsLabels), { selected: true, reasons: [] });
  });

  test('a missing release label is named', () => {
    const p = prom({ serviceMonitorSelector: { matchLabels: { release: 'monitoring' } }, serviceMonitorNamespaceSelector: {} });
    const s = prometheusSelects(p, sm, nsLabels);
    assert.equal(s.selected, false);
    assert.deepEqual(s.reasons, [
      'Prometheus monitoring/kube-prometheus-stack-prometheus serviceMonitorSelector release=monitoring does not select ServiceMonitor default/taskplanner: label release=monitoring is required but it is release=kube-prometheus-stack',
    ]);
  });

  test('matchExpressions in both selectors are honoured', () => {
    const p = prom({
      serviceMonitorSelector: { matchExpressions: [{ key: 'release', operator: 'In', values: ['kube-prometheus-stack', 'other'] }] },
      serviceMonitorNamespaceSelector: { matchExpressions: [{ key: 'monitoring', operator: 'Exists' }] },
    });
    const s = prometheusSelects(p, sm, nsLabels);
    assert.deepEqual(s.reasons, [
      'Prometheus monitoring/kube-prometheus-stack-prometheus serviceMonitorNamespaceSelector monitoring does not select namespace default: label monitoring must exist but it is missing',
    ]);
    assert.ok(prometheusSelects(p, sm, { ...nsLabels, monitoring: 'true' }).selected);
  });

  test('null selectors: no ServiceMonitor at all; only the Prometheus namespace', () => {
    const s = prometheusSelects(prom({}), sm, nsLabels);
    assert.deepEqual(s.reasons, [
      'Prometheus monitoring/kube-prometheus-stack-prometheus has no serviceMonitorSelector (null selects no ServiceMonitor at all)',
      'Prometheus monitoring/kube-prometheus-stack-prometheus has no serviceMonitorNamespaceSelector, so it looks only in its own namespace monitoring, not in default',
    ]);
    assert.ok(prometheusSelects(prom({ serviceMonitorSelector: {} }), { ...sm, metadata: { ...sm.metadata, namespace: 'monitoring' } }, {}).selected);
  });

  test('the ServiceMonitor selects the Service: namespace, labels and port name', () => {
    const svc = { metadata: { name: 'taskplanner', namespace: 'default', labels: { 'app.kubernetes.io/name': 'taskplanner' } }, spec: { ports: [{ name: 'http', port: 3000 }] } };
    assert.ok(serviceMonitorSelectsService(sm, svc).selected);
    assert.deepEqual(serviceMonitorSelectsService(sm, { ...svc, metadata: { ...svc.metadata, namespace: 'apps', labels: { app: 'taskplanner' } }, spec: { ports: [{ name: 'web', port: 3000 }] } }).reasons, [
      'ServiceMonitor default/taskplanner looks in namespace(s) default, not in apps',
      'ServiceMonitor default/taskplanner selector app.kubernetes.io/name=taskplanner does not match Service apps/taskplanner: label app.kubernetes.io/name=taskplanner is required but the label is missing',
      'ServiceMonitor default/taskplanner scrapes port "http" but Service apps/taskplanner has only "web"',
    ]);
    assert.equal(scrapePool(sm), 'serviceMonitor/default/taskplanner/0');
  });
});

function target(overrides: Partial<ActiveTarget> = {}): ActiveTarget {
  return {
    discoveredLabels: { __meta_kubernetes_pod_node_name: 'k3d-agent-0', job: 'serviceMonitor/default/taskplanner/0' },
    labels: { job: 'taskplanner', instance: '10.42.1.7:3000', namespace: 'default' },
    scrapePool: 'serviceMonitor/default/taskplanner/0',
    scrapeUrl: 'http://10.42.1.7:3000/metrics',
    lastError: '',
    lastScrape: '2026-01-10T10:00:00Z',
    lastScrapeDuration: 0.004,
    health: 'up',
    ...overrides,
  };
}

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'taskplanner', namespace: 'default', labels: { 'app.kubernetes.io/name': 'taskplanner' } },
  spec: { selector: { 'app.kubernetes.io/name': 'taskplanner' }, ports: [{ name: 'http', port: 3000 }] },
} as k8s.V1Service;

const slice = (ready: boolean, port = 'http'): k8s.V1EndpointSlice => ({
  addressType: 'IPv4',
  metadata: { name: 'taskplanner-abcde', namespace: 'default' },
  ports: [{ name: port, port: 3000 }],
  endpoints: [{ addresses: ['10.42.1.7'], conditions: { ready }, targetRef: { kind: 'Pod', name: 'taskplanner-7d9c', namespace: 'default' } }],
});

function facts(overrides: Partial<ChainFacts> = {}): ChainFacts {
  return {
    serviceMonitor: sm,
    prometheusSelection: { selected: true, reasons: [] },
    services: [service],
    servicesSelected: true,
    pods: [pod({ name: 'taskplanner-7d9c', namespace: 'default', ready: true })],
    podProblems: [],
    slices: [slice(true)],
    targets: { activeTargets: [target()], droppedTargets: [] },
    ...overrides,
  };
}

describe('the scrape failure chain names the broken link', () => {
  test('all links hold: the target is up', () => {
    const v = walkScrapeChain(facts());
    assert.equal(v.up, true);
    assert.equal(v.broken, undefined);
    assert.deepEqual(
      v.links.map((l) => l.ok),
      [true, true, true, true, true],
    );
  });

  test('pod ready: the pod cannot pull its image', () => {
    const broken = pod({ name: 'taskplanner-7d9c', namespace: 'default', waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } });
    const v = walkScrapeChain(
      facts({
        pods: [broken],
        podProblems: [{ pod: 'default/taskplanner-7d9c', container: 'main', reason: 'ImagePullBackOff', message: 'Back-off pulling image' }],
        slices: [slice(false)],
        targets: { activeTargets: [target({ health: 'down', lastError: 'context deadline exceeded' })], droppedTargets: [] },
      }),
    );
    assert.equal(v.broken?.name, 'pod ready');
    assert.match(v.broken?.detail ?? '', /ImagePullBackOff: Back-off pulling image/);
  });

  test('Service endpoints: pod Ready but no endpoint on the scraped port', () => {
    const v = walkScrapeChain(facts({ slices: [slice(true, 'web')], targets: { activeTargets: [], droppedTargets: [] } }));
    assert.equal(v.broken?.name, 'Service endpoints');
    assert.match(v.broken?.detail ?? '', /default\/taskplanner has no endpoint on port "http"/);
  });

  test('selector match: Prometheus does not select the ServiceMonitor', () => {
    const v = walkScrapeChain(
      facts({ prometheusSelection: { selected: false, reasons: ['serviceMonitorSelector release=prom does not select it'] }, targets: { activeTargets: [], droppedTargets: [] } }),
    );
    assert.equal(v.broken?.name, 'selector match');
    assert.match(v.broken?.detail ?? '', /release=prom/);
  });

  test('selector match: no Service carries the labels the ServiceMonitor selects', () => {
    const unlabelled = { ...service, metadata: { ...service.metadata, labels: { app: 'taskplanner' } } } as k8s.V1Service;
    const v = walkScrapeChain(facts({ services: [unlabelled], servicesSelected: false, targets: { activeTargets: [], droppedTargets: [] } }));
    assert.equal(v.broken?.name, 'selector match');
    assert.match(v.broken?.detail ?? '', /label app\.kubernetes\.io\/name=taskplanner is required but the label is missing/);
  });

  test('target active or dropped: discovered but dropped in relabelling', () => {
    const v = walkScrapeChain(
      facts({
        targets: {
          activeTargets: [],
          droppedTargets: [
            {
              discoveredLabels: {
                job: 'serviceMonitor/default/taskplanner/0',
                __address__: '10.42.1.7:9229',
                __meta_kubernetes_endpointslice_port_name: 'debug',
                __meta_kubernetes_service_name: 'taskplanner',
              },
            },
          ],
        },
      }),
    );
    assert.equal(v.broken?.name, 'target active or dropped');
    assert.match(v.broken?.detail ?? '', /dropped them all in relabelling: 10\.42\.1\.7:9229 \(port debug, service taskplanner\)/);
  });

  test('target active or dropped: not in the configuration at all', () => {
    const other: Targets = { activeTargets: [target({ scrapePool: 'serviceMonitor/monitoring/node-exporter/0', labels: { job: 'node-exporter' } })], droppedTargets: [] };
    const v = walkScrapeChain(facts({ targets: other }));
    assert.equal(v.broken?.name, 'target active or dropped');
    assert.match(v.broken?.detail ?? '', /no target, active or dropped, for serviceMonitor\/default\/taskplanner\/0/);
  });

  test("last scrape: the target is active but down, with the scrape's error", () => {
    const v = walkScrapeChain(facts({ targets: { activeTargets: [target({ health: 'down', lastError: 'server returned HTTP status 401 Unauthorized' })], droppedTargets: [] } }));
    assert.equal(v.broken?.name, 'last scrape');
    assert.match(v.broken?.detail ?? '', /http:\/\/10\.42\.1\.7:3000\/metrics is down, last scrape error: server returned HTTP status 401 Unauthorized/);
  });
});

describe('cluster targets', () => {
  test('one healthy node-exporter per node: missing, unhealthy and duplicated nodes are named', () => {
    const ne = (node: string, health: 'up' | 'down' = 'up', lastError = '') =>
      target({
        labels: { job: 'node-exporter', instance: `${node}:9100` },
        discoveredLabels: { __meta_kubernetes_pod_node_name: node },
        scrapePool: 'serviceMonitor/monitoring/kube-prometheus-stack-prometheus-node-exporter/0',
        scrapeUrl: `http://${node}:9100/metrics`,
        health,
        lastError,
      });
    const cov = nodeExporterCoverage(['server-0', 'agent-0', 'agent-1', 'agent-2'], [ne('server-0'), ne('agent-0'), ne('agent-0'), ne('agent-1', 'down', 'connection refused')]);
    assert.deepEqual(cov.healthy, ['server-0', 'agent-0']);
    assert.deepEqual(cov.missing, ['agent-2']);
    assert.deepEqual(cov.unhealthy, [{ node: 'agent-1', error: 'http://agent-1:9100/metrics: down (connection refused)' }]);
    assert.deepEqual(cov.duplicated, ['agent-0']);
  });

  test('the target deadline follows the scrape interval', () => {
    assert.equal(targetDeadlineMs(sm), 150_000 + 30_000);
    assert.equal(targetDeadlineMs({ ...sm, spec: { ...sm.spec, endpoints: [{ port: 'http', interval: '1m' }] } }), 150_000 + 120_000);
  });
});
