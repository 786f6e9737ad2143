/**
 * The TaskPlanner dashboard (manifests/grafana/taskplanner-dashboard.yaml) against the
 * metrics the real app-hook registers: every query parses as PromQL and names only series
 * the hook exposes. Mutated copies prove each check can fail.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createMetricsHook, type MetricsHook } from '../app-hook/src/index.ts';
import {
  SIDECAR_LABEL,
  analysePromql,
  dashboardFromConfigMap,
  dataPanels,
  exposedSeriesNames,
  interpolate,
  validateDashboard,
} from '../fixtures/grafana/dashboard-validation.ts';
import type { GrafanaDashboard } from '../fixtures/grafana/client.ts';

const MANIFEST = new URL('../manifests/grafana/taskplanner-dashboard.yaml', import.meta.url);
const configMap = dashboardFromConfigMap(readFileSync(MANIFEST, 'utf8'));
let hook: MetricsHook;
let exposed: Set<string>;

before(async () => {
  hook = createMetricsHook({ enabled: true, defaultMetrics: true });
  exposed = exposedSeriesNames(await hook.registry.getMetricsAsJSON());
});
after(() => hook.close());

const copy = (): GrafanaDashboard => structuredClone(configMap.dashboard);
const firstTarget = (d: GrafanaDashboard, title: string) => {
  const t = dataPanels(d).find((p) => p.title === title)?.targets?.[0];
  assert.ok(t, `panel ${title} with a query`);
  return t;
};

void describe('TaskPlanner dashboard ConfigMap', () => {
  void test('carries the sidecar label kube-prometheus-stack watches and one dashboard JSON', () => {
    assert.equal(configMap.labels[SIDECAR_LABEL], '1');
    assert.equal(configMap.key, 'taskplanner.json');
    assert.equal(configMap.dashboard.uid, 'taskplanner-overview');
  });

  void test('the hook exposes what the dashboard is about (names fixed by the app-hook)', () => {
    for (const name of ['http_requests_total', 'http_request_duration_seconds_bucket', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'process_cpu_seconds_total']) {
      assert.ok(exposed.has(name), `${name} exposed`);
    }
  });

  void test('every panel query parses and names only metrics the hook exposes, scoped to the job', () => {
    assert.deepEqual(validateDashboard(configMap.dashboard, { exposed, requireJobMatcher: true }), []);
  });

  void test('has request rate, p95 latency and error ratio by route, process memory and event-loop lag', () => {
    const exprs = dataPanels(configMap.dashboard).flatMap((p) => (p.targets ?? []).map((t) => `${p.title}: ${t.expr}`));
    const has = (re: RegExp, what: string) => assert.ok(exprs.some((e) => re.test(e)), `${what} in\n${exprs.join('\n')}`);
    has(/^Request rate by route: sum by \(route\) \(rate\(http_requests_total/, 'request rate by route');
    has(/^p95 latency by route: histogram_quantile\(0\.95, sum by \(route, le\)/, 'p95 latency by route');
    has(/^Error ratio by route: .*status_code=~"5\.\."/, 'error ratio by route');
    has(/process_resident_memory_bytes/, 'process memory');
    has(/nodejs_eventloop_lag_p99_seconds/, 'event-loop lag');
  });

  void test('a panel whose query names a metric the hook does not expose fails the validation', () => {
    const d = copy();
    firstTarget(d, 'Request rate by route').expr = 'sum by (route) (rate(http_request_total{job="$job"}[$__rate_interval]))';
    const problems = validateDashboard(d, { exposed });
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0] ?? '', /panel "Request rate by route" \(id \d+\) query A: metric "http_request_total" is not exposed by the exporter \(closest exposed: http_requests_total, /);
  });

  void test('a query that does not parse fails with where the parser gave up', () => {
    const d = copy();
    firstTarget(d, 'CPU').expr = 'sum by (pod) (rate(process_cpu_seconds_total{job="$job"}[$__rate_interval])';
    const problems = validateDashboard(d, { exposed });
    assert.ok(problems.some((p) => /panel "CPU" .* PromQL syntax error at column \d+/.test(p)), problems.join('\n'));
  });

  void test('a variable the dashboard does not define, a missing job matcher and a duplicate id each fail', () => {
    const d = copy();
    firstTarget(d, 'Process memory').expr = 'process_resident_memory_bytes{job="$job", namespace="$namespace"}';
    firstTarget(d, 'Event-loop lag').expr = 'nodejs_eventloop_lag_p99_seconds';
    const panels = dataPanels(d);
    (panels[1] as { id?: number }).id = panels[0]?.id;
    const problems = validateDashboard(d, { exposed, requireJobMatcher: true }).join('\n');
    assert.match(problems, /query A: uses \$namespace, which the dashboard does not define/);
    assert.match(problems, /panel "Event-loop lag" .* selector nodejs_eventloop_lag_p99_seconds has no job matcher/);
    assert.match(problems, /id \d+ is used twice/);
  });
});

void describe('PromQL helpers', () => {
  void test('Grafana variables become PromQL: durations, numbers, variables outside strings', () => {
    assert.equal(interpolate('rate(x{a=~"$route"}[$__rate_interval])'), 'rate(x{a=~"$route"}[5m])');
    assert.equal(interpolate('x / ${__range_s}'), 'x / 300');
    assert.equal(interpolate('sum by ($group) (x)'), 'sum by (var_group) (x)');
  });

  void test('metric names come from the selector name and from __name__ matchers', () => {
    const a = analysePromql('sum(rate(a_total{job="j"}[5m])) / on() group_left {__name__="b_total", job="j"} + c');
    assert.deepEqual(a.syntaxErrors, []);
    assert.deepEqual(a.metricNames.sort(), ['a_total', 'b_total', 'c']);
    assert.deepEqual(a.unscopedSelectors, ['c']);
  });

  void test('histograms expand to _bucket, _sum and _count; counters keep their name', () => {
    const names = exposedSeriesNames([{ name: 'h', type: 'histogram' }, { name: 'c_total', type: 'counter' }, { name: 's', type: 'summary' }]);
    assert.deepEqual([...names].sort(), ['c_total', 'h_bucket', 'h_count', 'h_sum', 's', 's_count', 's_sum']);
  });
});
