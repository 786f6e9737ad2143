/**
 * OBS-02 Dashboards work: Grafana is healthy, each Prometheus, Alertmanager and Loki
 * datasource passes Grafana's own check (duplicates reported with which one works), and the
 * chart's key dashboards and the TaskPlanner dashboard render every panel with data and
 * without a panel error.
 */
import { expect, test } from '../fixtures/index.ts';

const DASHBOARDS = ['Kubernetes / Compute Resources / Cluster', 'Node Exporter / Nodes', 'TaskPlanner'];

test.describe('OBS-02 Dashboards work', () => {
  test('Grafana is healthy and every Prometheus, Alertmanager and Loki datasource passes its health check', { tag: ['@OBS-02'] }, async ({ grafana, grafanaDatasources, evidence }) => {
    await test.step('Grafana reports a healthy database', async () => {
      const health = await grafana.health();
      await evidence.attach('grafana /api/health', health);
      evidence.figure('Grafana version', health.version);
      expect(health.database, `Grafana at ${grafana.baseUrl}/api/health should report database "ok"; look at the Grafana pod's log`).toBe('ok');
    });

    const report = await test.step('Grafana checks each Prometheus, Alertmanager and Loki datasource', async () => {
      const r = await grafanaDatasources.check();
      await evidence.attach('datasource health', r.verdicts);
      evidence.figure('datasources checked', r.verdicts.length);
      return r;
    });

    await test.step('there is at least one datasource of each type', () => {
      expect(report.missingTypes, `Grafana (${grafana.baseUrl}/connections/datasources) should have a datasource of each type; missing: ${report.missingTypes.join(', ')}`).toEqual([]);
    });

    await test.step('datasources configured more than once are reported with which one works', async () => {
      const lines = report.duplicateLines;
      await evidence.attach('duplicate datasources', lines.length ? lines.join('\n') : 'no type is configured more than once');
      evidence.figure('duplicate datasource groups', lines.length);
      for (const line of lines) test.info().annotations.push({ type: 'duplicate datasource', description: line });
      expect(report.duplicates.filter((d) => d.working.length === 0), `each duplicated type should have a working datasource:\n${lines.join('\n')}`).toEqual([]);
    });

    await test.step('every one of them passes Grafana\'s health check', () => {
      expect(report.failing, `datasources failing Grafana's health check (open ${grafana.baseUrl}/connections/datasources and press "Save & test"):\n${report.failureLines}`).toEqual([]);
    });
  });

  for (const title of DASHBOARDS) {
    test(`dashboard "${title}" renders every panel with data and without a panel error`, { tag: ['@OBS-02', '@ui'] }, async ({ grafanaDashboards, evidence }) => {
      const key = grafanaDashboards.key(title);

      const dashboard = await test.step(`the dashboard exists in Grafana (uid ${key.uid})`, async () => {
        const found = await grafanaDashboards.find(key.uid);
        expect(found, `Grafana has no dashboard with uid ${key.uid}; it comes from ${key.source}`).toBeDefined();
        return found!;
      });

      const view = await test.step('it opens in the browser', async () => {
        const v = await grafanaDashboards.open(dashboard);
        await expect(v.page, 'the dashboard page should carry its title').toHaveTitle(new RegExp(escape(dashboard.title)));
        return v;
      });

      const panels = await test.step('every panel with a query finishes loading', async () => {
        const p = await grafanaDashboards.panelsOnceLoaded(view);
        await evidence.screenshot(`dashboard ${dashboard.title}`, await view.page.screenshot({ fullPage: true }));
        await evidence.attach(`panels of ${dashboard.title}`, p);
        evidence.figure(`${dashboard.title}: panels with data`, `${p.filter((x) => x.state === 'data').length}/${p.length}`);
        // Without this, a dashboard with no query panels (or an empty model) passes every check below.
        expect(p.length, `dashboard "${dashboard.title}" (uid ${dashboard.uid}) should have panels with queries; its JSON from ${key.source} has none`).toBeGreaterThan(0);
        return p;
      });

      await test.step('no panel shows a panel error', async () => {
        const failing = panels.filter((p) => p.state === 'error');
        expect(failing, `panels with an error (hover the red corner for Grafana's message):\n${grafanaDashboards.describe(failing)}`).toEqual([]);
        await expect(view.panelErrors, 'no panel error indicator anywhere on the dashboard').toHaveCount(0);
      });

      await test.step('every panel shows data', () => {
        const empty = panels.filter((p) => p.state !== 'data');
        expect(empty, `panels without data after loading (run each query in Prometheus to see which series are missing):\n${grafanaDashboards.describe(empty)}`).toEqual([]);
      });
    });
  }
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
