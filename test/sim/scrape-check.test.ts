/**
 * OBS-01's scrape chain (fixtures/prometheus/scrape-chain.ts `ScrapeCheck`) on the simulated
 * cluster, reading as the CI account: the live Prometheus resource the operator reconciles, the
 * TaskPlanner Service, its pod and EndpointSlices from the real API server, the targets of the real
 * Prometheus running the operator's configuration. Green for the ServiceMonitor of manifests/; and
 * each link named where it breaks: a ServiceMonitor the Prometheus resource does not select (no
 * release label), one that names a port the Service does not have (both read, not applied), and
 * one whose scrape fails while the pod is Ready (applied, with its own job, and removed after).
 * Needs `npm run sim:up`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../fixtures/core/config.ts';
import { waitFor } from '../../fixtures/core/poll.ts';
import type { Route } from '../../fixtures/kube/route.ts';
import { loadManifestFile } from '../../fixtures/kube/manifests.ts';
import type { PrometheusClient } from '../../fixtures/prometheus/client.ts';
import { ScrapeCheck, walkScrapeChain } from '../../fixtures/prometheus/scrape-chain.ts';
import { asServiceMonitor, type ServiceMonitor } from '../../fixtures/prometheus/service-monitor.ts';
import { admin, requireSim, simPrometheus, runIdFor, suiteKube, waitForHealthyTaskPlanner } from '../support/sim.ts';

const dir = mkdtempSync(join(tmpdir(), 'obs-sim-scrape-'));
const badName = `taskplanner-selftest-${runIdFor('')}`;
let prometheusRoute: Route;
let prometheus: PrometheusClient;
let sm: ServiceMonitor;

async function check(job = 'taskplanner'): Promise<ScrapeCheck> {
  return new ScrapeCheck(await suiteKube(runIdFor('simscr'), dir), prometheus, loadConfig({ TASKPLANNER_JOB: job }));
}

void describe('OBS-01 scrape chain on the simulated cluster (real operator, Prometheus, API server)', () => {
  before(async () => {
    await requireSim();
    ({ route: prometheusRoute, prometheus } = await simPrometheus());
    const manifest = 'manifests/taskplanner/servicemonitor.yaml';
    sm = asServiceMonitor((await loadManifestFile(manifest))[0], manifest);
    await waitForHealthyTaskPlanner(prometheus);
  });
  after(async () => {
    await admin()
      .custom.deleteNamespacedCustomObject({ group: 'monitoring.coreos.com', version: 'v1', namespace: 'default', plural: 'servicemonitors', name: badName })
      .catch(() => undefined);
    await prometheusRoute?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('the ServiceMonitor of manifests/: selected by the live Prometheus resource, target up, every link green', async () => {
    const scrape = await check();
    const selection = await scrape.selection(sm);
    assert.deepEqual(selection.reasons, []);
    assert.equal(`${selection.prometheus.metadata.namespace}/${selection.prometheus.metadata.name}`, 'monitoring/kube-prometheus-stack-prometheus');
    const { target, verdict } = await scrape.waitForTaskPlannerUp(sm);
    assert.equal(target.scrapePool, 'serviceMonitor/default/taskplanner/0');
    assert.match(target.scrapeUrl, /^http:\/\/10\.244\.\d+\.\d+:3000\/metrics$/);
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

  void it('a ServiceMonitor without the release label: the selection and the chain name the missing label (read, not applied)', async () => {
    const scrape = await check();
    const { release: _release, ...labels } = sm.metadata.labels ?? {};
    const unlabelled: ServiceMonitor = { ...sm, metadata: { ...sm.metadata, labels } };
    const selection = await scrape.selection(unlabelled);
    assert.equal(selection.selected, false);
    assert.match(selection.reasons.join('\n'), /Prometheus monitoring\/kube-prometheus-stack-prometheus serviceMonitorSelector .*release.* does not select ServiceMonitor default\/taskplanner: .*release/);
    // The pool of that name is up (the ServiceMonitor in the cluster has the label): only the link is judged.
    const link = walkScrapeChain(await scrape.facts(unlabelled)).links.find((l) => l.name === 'selector match');
    assert.equal(link?.ok, false);
    assert.match(link?.detail ?? '', /does not select ServiceMonitor default\/taskplanner: .*release/);
  });

  void it('a ServiceMonitor port name the Service does not have: the chain names the port-name mismatch, not missing endpoints (read, not applied)', async () => {
    const scrape = await check();
    const renamed: ServiceMonitor = { ...sm, spec: { ...sm.spec, endpoints: sm.spec.endpoints.map((e) => ({ ...e, port: 'http-metrics' })) } };
    const link = walkScrapeChain(await scrape.facts(renamed)).links.find((l) => l.name === 'Service endpoints');
    assert.equal(link?.ok, false);
    assert.match(link?.detail ?? '', /^port-name mismatch: ServiceMonitor default\/taskplanner scrapes port "http-metrics" but Service default\/taskplanner names its ports "http" \(1 ready endpoint\(s\) on "http"\)/);
  });

  void it('a target whose scrape fails while the pod is Ready: the chain names the last scrape and its error', async () => {
    // A second ServiceMonitor on the same Service, scraping a path TaskPlanner answers 404, under a job of its own.
    const bad = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: badName, namespace: 'default', labels: { release: 'kube-prometheus-stack' } },
      spec: {
        selector: sm.spec.selector,
        namespaceSelector: { matchNames: ['default'] },
        endpoints: [{ port: 'http', path: '/does-not-exist', interval: '5s', relabelings: [{ targetLabel: 'job', replacement: badName }] }],
      },
    };
    await admin().custom.createNamespacedCustomObject({ group: 'monitoring.coreos.com', version: 'v1', namespace: 'default', plural: 'servicemonitors', body: bad });
    await waitFor(
      `the target of serviceMonitor/default/${badName}/0 to be scraped and down`,
      () => prometheus.targets('active'),
      (t) => {
        const own = t.activeTargets.filter((x) => x.scrapePool === `serviceMonitor/default/${badName}/0`);
        return own.some((x) => x.health === 'down' && x.lastError) ? undefined : own.length ? own.map((x) => `${x.health} ${x.lastError}`).join('; ') : 'no target yet';
      },
      { timeoutMs: 180_000, derivation: 'fixed 180 s: the operator reconciles, the reloader reloads Prometheus, then a 5 s scrape' },
    );
    const scrape = await check(badName);
    await assert.rejects(scrape.waitForTaskPlannerUp(bad as unknown as ServiceMonitor, 3_000), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /^The TaskPlanner target is not up\. Broken link: last scrape — http:\/\/10\.244\.\d+\.\d+:3000\/does-not-exist is down, last scrape error: server returned HTTP status 404 Not Found/);
      assert.match(err.message, /✓ pod ready: 1 of 1 pod\(s\) Ready/);
      assert.match(err.message, /✓ selector match/);
      return true;
    });
  });
});
