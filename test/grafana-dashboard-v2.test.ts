/**
 * Dashboards stored in the v2 schema, against a replayed Grafana 13.1 (Grafana cannot run here).
 *
 * - The 406 body is Grafana's own: pkg/api/dashboard.go GetDashboard answers
 *   `dashboard api version not supported, use /apis/dashboard.grafana.app/<version>/namespaces/<ns>/dashboards/<uid> instead`
 *   (wording pinned by pkg/api/dashboard_test.go). The namespace here is `org-2`, to show the
 *   client follows the path in the message instead of building one.
 * - The v2 resource is CONSTRUCTED from the exact 13.1.0 types in @grafana/schema 13.1.0
 *   (dist/types/schema/dashboard/v2, and v2alpha1 for an older save: Dashboard, PanelKind, QueryGroupKind, PanelQueryKind,
 *   DataQueryKind, LibraryPanelKind, GridLayoutKind, RowsLayoutKind, TabsLayoutKind,
 *   AutoGridLayoutKind), not captured from a server.
 * - A v1 answer of the same API carries the classic JSON in `spec` with `status.conversion`
 *   (apps/dashboard/pkg/migration/conversion): also read.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GrafanaClient } from '../fixtures/grafana/client.ts';
import { dashboardFromV2, pathFromNotAcceptable } from '../fixtures/grafana/dashboard-v2.ts';
import { panelsWithQueries, viewportFor } from '../fixtures/grafana/dashboards.ts';
import { startReplayServer, type ReplayServer } from './support/replay-server.ts';

/** Made at run time: no token literal in the repository. */
const SELFTEST_TOKEN = `glsa_${randomUUID().replace(/-/g, '')}`;

const V2_PATH = '/apis/dashboard.grafana.app/v2/namespaces/org-2/dashboards/taskplanner-overview';
const NOT_ACCEPTABLE = { status: 406, body: { message: `dashboard api version not supported, use ${V2_PATH} instead` } };

const query = (refId: string, expr: string, hidden = false) => ({
  kind: 'PanelQuery',
  spec: { refId, hidden, query: { kind: 'DataQuery', group: 'prometheus', version: 'v0', datasource: { name: 'prometheus' }, spec: { expr } } },
});
const panel = (id: number, title: string, queries: unknown[], viz = 'timeseries') => ({
  kind: 'Panel',
  spec: {
    id,
    title,
    description: '',
    links: [],
    data: { kind: 'QueryGroup', spec: { queries, transformations: [], queryOptions: {} } },
    vizConfig: { kind: 'VizConfig', group: viz, version: '13.1.0', spec: { options: {}, fieldConfig: { defaults: {}, overrides: [] } } },
  },
});
const gridItem = (name: string, x: number, y: number, width: number, height: number) => ({ kind: 'GridLayoutItem', spec: { x, y, width, height, element: { kind: 'ElementReference', name } } });

const V2_RESOURCE = {
  kind: 'Dashboard',
  apiVersion: 'dashboard.grafana.app/v2',
  metadata: { name: 'taskplanner-overview', namespace: 'org-2', uid: '0b1f5a6e-6a3c-4b7e-9d0a-2f7c1b6c9e11', resourceVersion: '1765432100000000', generation: 3 },
  spec: {
    title: 'TaskPlanner',
    tags: ['taskplanner'],
    annotations: [],
    links: [],
    preload: false,
    cursorSync: 'Off',
    variables: [{ kind: 'QueryVariable', spec: { name: 'route' } }],
    timeSettings: { from: 'now-1h', to: 'now', autoRefresh: '30s', autoRefreshIntervals: [], timezone: 'browser', fiscalYearStartMonth: 0, hideTimepicker: false },
    elements: {
      'panel-1': panel(1, 'Requests per second', [query('A', 'sum(rate(http_requests_total{job="taskplanner"}[5m]))')]),
      'panel-2': panel(2, 'Errors', [query('A', 'sum(rate(http_requests_total{job="taskplanner",status=~"5.."}[5m]))'), query('B', 'vector(0)', true)], 'stat'),
      'panel-3': panel(3, 'Latency p95 (collapsed row)', [query('A', 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="taskplanner"}[5m])))')]),
      'panel-4': panel(4, 'Heap (second tab)', [query('A', 'nodejs_heap_size_used_bytes{job="taskplanner"}')]),
      'panel-5': panel(5, 'CPU (first tab)', [query('A', 'rate(process_cpu_seconds_total{job="taskplanner"}[5m])')]),
      'panel-6': { kind: 'LibraryPanel', spec: { id: 6, title: 'Shared SLO', libraryPanel: { name: 'SLO', uid: 'lib-slo' } } },
    },
    layout: {
      kind: 'RowsLayout',
      spec: {
        rows: [
          {
            kind: 'RowsLayoutRow',
            spec: { title: 'Traffic', collapse: false, layout: { kind: 'GridLayout', spec: { items: [gridItem('panel-1', 0, 0, 12, 8), gridItem('panel-2', 12, 0, 12, 8), gridItem('panel-6', 0, 8, 24, 6)] } } },
          },
          { kind: 'RowsLayoutRow', spec: { title: 'Latency', collapse: true, layout: { kind: 'GridLayout', spec: { items: [gridItem('panel-3', 0, 0, 24, 8)] } } } },
          {
            kind: 'RowsLayoutRow',
            spec: {
              title: 'Runtime',
              collapse: false,
              layout: {
                kind: 'TabsLayout',
                spec: {
                  tabs: [
                    { kind: 'TabsLayoutTab', spec: { title: 'CPU', layout: { kind: 'AutoGridLayout', spec: { maxColumnCount: 2, items: [{ kind: 'AutoGridLayoutItem', spec: { element: { kind: 'ElementReference', name: 'panel-5' } } }] } } } },
                    { kind: 'TabsLayoutTab', spec: { title: 'Memory', layout: { kind: 'GridLayout', spec: { items: [gridItem('panel-4', 0, 0, 24, 8)] } } } },
                  ],
                },
              },
            },
          },
        ],
      },
    },
  },
  status: {},
};

void describe('v2 dashboards through the API Grafana names in its 406 (replayed Grafana 13.1)', () => {
  let grafana: ReplayServer;
  let client: GrafanaClient;
  before(async () => {
    grafana = await startReplayServer({
      'GET /api/dashboards/uid/taskplanner-overview': NOT_ACCEPTABLE,
      [`GET ${V2_PATH}`]: { body: V2_RESOURCE },
      'GET /api/dashboards/uid/forbidden-v2': { status: 406, body: { message: 'dashboard api version not supported, use /apis/dashboard.grafana.app/v2beta1/namespaces/default/dashboards/forbidden-v2 instead' } },
      'GET /apis/dashboard.grafana.app/v2beta1/namespaces/default/dashboards/forbidden-v2': { status: 403, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'dashboards.dashboard.grafana.app "forbidden-v2" is forbidden', reason: 'Forbidden', code: 403 } },
      'GET /api/dashboards/uid/pathless': { status: 406, body: { message: 'dashboard api version not supported' } },
      'GET /api/dashboards/uid/converted': { status: 406, body: { message: 'dashboard api version not supported, use /apis/dashboard.grafana.app/v1/namespaces/default/dashboards/converted instead' } },
      'GET /apis/dashboard.grafana.app/v1/namespaces/default/dashboards/converted': {
        body: { kind: 'Dashboard', apiVersion: 'dashboard.grafana.app/v1', metadata: { name: 'converted' }, spec: { title: 'Converted', panels: [{ id: 1, type: 'timeseries', title: 'Up', gridPos: { x: 0, y: 0, w: 24, h: 8 }, targets: [{ refId: 'A', expr: 'up' }] }] }, status: { conversion: { failed: false, storedVersion: 'v2' } } },
      },
    });
    client = new GrafanaClient(grafana.url, { kind: 'token', token: SELFTEST_TOKEN }, { timeoutMs: 5_000 });
  });
  after(() => grafana?.close());

  void it('takes the path from the 406 message, reads the v2 resource there with the same credentials, and says so', async () => {
    const found = await client.dashboardByUid('taskplanner-overview');
    assert.ok(found, 'a v2 dashboard is found, not an HTTP 406 error');
    const followed = grafana.requests.find((r) => r.path === V2_PATH);
    assert.ok(followed, 'the org-2 path from the message was requested');
    assert.equal(followed.headers.authorization, `Bearer ${SELFTEST_TOKEN}`);
    assert.deepEqual(found.dashboard.storage?.apiVersion, 'dashboard.grafana.app/v2');
    assert.equal(found.dashboard.storage?.readThrough, V2_PATH);
    assert.match(found.dashboard.storage?.notes.join('\n') ?? '', /library panel "Shared SLO" \(library uid lib-slo\): its queries live in the panel library and were not read/);
    assert.equal(found.dashboard.uid, 'taskplanner-overview');
    assert.equal(found.dashboard.title, 'TaskPlanner');
  });

  void it('panel queries come from the v2 shape: refId, expr, hidden, datasource {type, uid}', async () => {
    const dashboard = (await client.dashboardByUid('taskplanner-overview'))?.dashboard;
    assert.ok(dashboard);
    const errors = panelsWithQueries(dashboard).find((p) => p.id === 2);
    assert.deepEqual(errors?.targets, [
      { expr: 'sum(rate(http_requests_total{job="taskplanner",status=~"5.."}[5m]))', refId: 'A', hide: false, datasource: { type: 'prometheus', uid: 'prometheus' } },
      { expr: 'vector(0)', refId: 'B', hide: true, datasource: { type: 'prometheus', uid: 'prometheus' } },
    ]);
    assert.equal(errors?.type, 'stat');
  });

  void it('panels of collapsed rows and unselected tabs are not expected to render; positions stack rows on one grid', async () => {
    const dashboard = (await client.dashboardByUid('taskplanner-overview'))?.dashboard;
    assert.ok(dashboard);
    assert.deepEqual(panelsWithQueries(dashboard).map((p) => p.id), [1, 2, 5]);
    const byId = new Map((dashboard.panels ?? []).flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p])).map((p) => [p.id, p.gridPos]));
    assert.deepEqual(byId.get(1), { x: 0, y: 1, w: 12, h: 8 });
    assert.deepEqual(byId.get(6), { x: 0, y: 9, w: 24, h: 6 });
    assert.deepEqual(byId.get(3), { x: 0, y: 16, w: 24, h: 8 });
    assert.deepEqual(byId.get(5), { x: 0, y: 26, w: 12, h: 9 });
    assert.ok(viewportFor(dashboard).height >= 35 * 38, 'the viewport covers the whole stacked grid');
  });

  void it('a v2 dashboard the named API refuses is an error naming the 406 and the refusal', async () => {
    await assert.rejects(client.dashboardByUid('forbidden-v2'), (err: Error) => {
      assert.match(err.message, /Dashboard forbidden-v2 is stored as a v2 dashboard \(GET \/api\/dashboards\/uid\/forbidden-v2 → HTTP 406 "dashboard api version not supported, use \/apis\/dashboard\.grafana\.app\/v2beta1\//);
      assert.match(err.message, /reading it through the API Grafana named failed: GET .*\/apis\/dashboard\.grafana\.app\/v2beta1\/namespaces\/default\/dashboards\/forbidden-v2 → HTTP 403/);
      return true;
    });
    await assert.rejects(client.dashboardByUid('pathless'), /stored in a schema the classic API does not serve .*and Grafana named no API to read it through/);
  });

  void it('a v1 answer of the dashboard API (Grafana’s own conversion) is read as classic JSON', async () => {
    const found = await client.dashboardByUid('converted');
    assert.equal(found?.dashboard.title, 'Converted');
    assert.equal(found?.dashboard.storage?.readThrough, '/apis/dashboard.grafana.app/v1/namespaces/default/dashboards/converted');
    assert.deepEqual(found?.dashboard.panels?.[0]?.targets, [{ refId: 'A', expr: 'up' }]);
  });

  void it('an older v2alpha1 save (plugin in vizConfig.kind, datasource on the query) maps the same way', () => {
    const { dashboard } = dashboardFromV2({
      apiVersion: 'dashboard.grafana.app/v2alpha1',
      metadata: { name: 'old' },
      spec: {
        title: 'Old',
        elements: {
          'panel-1': {
            kind: 'Panel',
            spec: {
              id: 1,
              title: 'Up',
              data: { spec: { queries: [{ kind: 'PanelQuery', spec: { refId: 'A', hidden: false, datasource: { type: 'prometheus', uid: 'prom' }, query: { kind: 'prometheus', spec: { expr: 'up' } } } }] } },
              vizConfig: { kind: 'stat' },
            },
          },
        },
        layout: { kind: 'GridLayout', spec: { items: [gridItem('panel-1', 0, 0, 6, 4)] } },
      },
    });
    assert.deepEqual(dashboard.panels, [{ id: 1, type: 'stat', title: 'Up', gridPos: { x: 0, y: 0, w: 6, h: 4 }, targets: [{ expr: 'up', refId: 'A', hide: false, datasource: { type: 'prometheus', uid: 'prom' } }] }]);
  });

  void it('the path is parsed from the message as Grafana words it, whatever the namespace', () => {
    assert.equal(pathFromNotAcceptable(NOT_ACCEPTABLE.body.message), V2_PATH);
    assert.equal(pathFromNotAcceptable('dashboard api version not supported, use /apis/dashboard.grafana.app/v2alpha1/namespaces/stacks-123/dashboards/abc instead'), '/apis/dashboard.grafana.app/v2alpha1/namespaces/stacks-123/dashboards/abc');
    assert.equal(pathFromNotAcceptable('Dashboard not found'), undefined);
    assert.deepEqual(dashboardFromV2({ spec: { elements: { x: { kind: 'Panel', spec: { id: 1, title: 'orphan' } } }, layout: { kind: 'GridLayout', spec: { items: [] } } } }).notes, ['element "x" is in no layout, so Grafana does not show it']);
  });
});
