import { expect, test } from '../fixtures/index.ts';

test.describe('OBS-01 Prometheus scrapes TaskPlanner through a ServiceMonitor', { tag: ['@OBS-01'] }, () => {
  test('the ServiceMonitor is applied, selected by the live Prometheus resource, and the TaskPlanner target is active and up', async ({ scrapeCheck, evidence }) => {
    const serviceMonitor = await test.step('the TaskPlanner ServiceMonitor from manifests/ is validated and applied', () => scrapeCheck.applyServiceMonitor());

    await test.step("the live Prometheus resource's serviceMonitorSelector and serviceMonitorNamespaceSelector select it", async () => {
      const selection = await scrapeCheck.selection(serviceMonitor);
      await evidence.attach('prometheus-selectors', {
        prometheus: `${selection.prometheus.metadata.namespace}/${selection.prometheus.metadata.name}`,
        serviceMonitorSelector: selection.prometheus.spec?.serviceMonitorSelector ?? null,
        serviceMonitorNamespaceSelector: selection.prometheus.spec?.serviceMonitorNamespaceSelector ?? null,
        serviceMonitorLabels: serviceMonitor.metadata.labels,
        reasons: selection.reasons,
      });
      expect(selection.reasons, 'why the Prometheus resource does not select the TaskPlanner ServiceMonitor').toEqual([]);
    });

    await test.step('Prometheus has an active TaskPlanner target and up == 1 (otherwise the broken link of the chain is named)', async () => {
      const { target, verdict } = await scrapeCheck.waitForTaskPlannerUp(serviceMonitor);
      await evidence.attach('taskplanner-target', { target, chain: verdict.links });
      evidence.figure('TaskPlanner last scrape duration', Math.round(target.lastScrapeDuration * 1000), 'ms');
      expect(await scrapeCheck.taskplannerUp(), 'max(up{job="taskplanner"})').toBe(1);
    });
  });

  test('cluster targets: one healthy node-exporter per node, kube-state-metrics up', async ({ scrapeCheck, evidence }) => {
    await test.step('every node has exactly one node-exporter target, and it is up', async () => {
      const coverage = await scrapeCheck.nodeExporterCoverage();
      await evidence.attach('node-exporter-coverage', coverage);
      evidence.figure('nodes with a healthy node-exporter', `${coverage.healthy.length}/${coverage.nodes.length}`);
      expect(coverage.nodes, 'nodes listed by the Kubernetes API').not.toHaveLength(0);
      expect({ missing: coverage.missing, unhealthy: coverage.unhealthy, duplicated: coverage.duplicated }).toEqual({ missing: [], unhealthy: [], duplicated: [] });
      expect(coverage.healthy, 'nodes with a healthy node-exporter').toHaveLength(coverage.nodes.length);
    });

    await test.step('kube-state-metrics has an active target that is up', async () => {
      const targets = await scrapeCheck.kubeStateMetricsTargets();
      await evidence.attach('kube-state-metrics-targets', targets);
      expect(targets.map((t) => ({ url: t.scrapeUrl, health: t.health, lastError: t.lastError })), 'kube-state-metrics targets').toContainEqual(
        expect.objectContaining({ health: 'up' }),
      );
    });
  });
});
