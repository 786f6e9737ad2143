/**
 * The pieces of the OBS-08 fixtures that judge what TaskPlanner and Prometheus answered:
 * the text-format parser, the leak detector and the shortfall check. Pure functions over
 * text written here in the exposition format (prometheus.io/docs/instrumenting/exposition_formats).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsPage, TrafficPlan } from '../fixtures/app/taskplanner.ts';

const PAGE = `# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/tasks/[id]",status_code="200"} 3
http_requests_total{method="GET",route="say \\"hi\\"\\\\n",status_code="404"} 1
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.1",method="GET",route="/",status_code="200"} 2
http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/",status_code="200"} 2
http_request_duration_seconds_sum{method="GET",route="/",status_code="200"} 0.04
http_request_duration_seconds_count{method="GET",route="/",status_code="200"} 2
process_start_time_seconds 1700000000 1700000000000
`;

describe('OBS-08 fixtures: reading /metrics and judging route labels', () => {
  it('parses types, samples, escaped label values, histograms and timestamps', () => {
    const page = new MetricsPage(PAGE, 'text/plain; version=0.0.4');
    assert.deepEqual(page.formatErrors, []);
    assert.equal(page.types.get('http_request_duration_seconds'), 'histogram');
    assert.equal(page.sum('http_requests_total'), 4);
    assert.equal(page.sum('http_request_duration_seconds_count', { route: '/' }), 2);
    assert.deepEqual(page.labelValues('http_requests_total', 'route'), ['/tasks/[id]', 'say "hi"\\n']);
    assert.deepEqual(page.labelNames('http_request_duration_seconds'), ['le', 'method', 'route', 'status_code']);
    assert.equal(page.sum('process_start_time_seconds'), 1_700_000_000);
  });

  it('reports a line that is not in the text format instead of skipping it', () => {
    assert.deepEqual(new MetricsPage('good 1\nnot a sample line\n', '').formatErrors, ['line 2: expected a float as value, got "a": not a sample line']);
  });

  it('flags route values that carry the run marker, a 9-digit id or a query string, and nothing else', () => {
    const plan = new TrafficPlan('obsabc123');
    assert.deepEqual(plan.leaksIn(['/', '/tasks/[id]', 'unmatched', '/obsabc123-no-such-page/1', '/tasks/123456789', '/x?q=1']), [
      '/obsabc123-no-such-page/1',
      '/tasks/123456789',
      '/x?q=1',
    ]);
    assert.ok(plan.ids.every((p) => plan.leaksIn([p]).length === 1) && plan.unknown.every((p) => plan.leaksIn([p]).length === 1));
  });

  it('lists the routes whose increase falls short of what was sent', () => {
    const plan = new TrafficPlan('obsabc123', { repeat: 5 });
    assert.deepEqual(plan.shortfalls({ '/': 5, '/api/tasks': 4 }), [{ route: '/api/tasks', expectedAtLeast: 5, seen: 4 }]);
    assert.deepEqual(plan.shortfalls({ '/': 7, '/api/tasks': 5 }), []);
  });
});
