/**
 * The Loki client against replayed Loki API responses (Loki cannot run here). Sources of
 * the replayed bodies:
 * - query_range streams: grafana/grafana pkg/tsdb/loki/testdata/streams_simple.json (a
 *   recorded Loki response Grafana's own tests use);
 * - labels, label values, instant vector: the examples in grafana/loki
 *   docs/sources/reference/loki-http-api.md;
 * - `/ready` 503 text: the message Loki prints while its ingester settles
 *   ("Ingester not ready: waiting for 15s after being ready", grafana/loki docs getting-started);
 * - 400 parse error, 429 and "no org id": grafana/loki docs/sources/shared/troubleshoot-query.md,
 *   grafana/dskit middleware/http_auth.go (401 "no org id", text/plain), Loki's query frontend
 *   (429 "too many outstanding requests");
 * - `/config`: the key layout of grafana/loki docs/sources/shared/configuration.md, with
 *   durations printed by prometheus/common model.Duration (168h prints as `1w`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LokiClient, LokiError, retentionOf, retentionProblems } from '../fixtures/loki/client.ts';
import { startReplayServer, type ReplayServer } from './support/replay-server.ts';

const STREAMS_SIMPLE = {
  status: 'success',
  data: {
    resultType: 'streams',
    result: [
      { stream: { code: 'one",', location: 'moon🌙' }, values: [['1645030244810757120', 'log line error 1']] },
      {
        stream: { code: '",two', location: 'moon🌙' },
        values: [
          ['1645030247027735040', 'log line info 1'],
          ['1645030246277587968', 'log line info 2'],
          ['1645030246277587968', 'log line info 2'],
          ['1645030245539423744', 'log line info 3'],
          ['1645030244091700992', 'log line info 4'],
        ],
      },
    ],
    stats: { summary: { bytesProcessedPerSecond: 3507022, linesProcessedPerSecond: 24818, totalBytesProcessed: 7772, totalLinesProcessed: 55, execTime: 0.002216125 } },
  },
};

const VECTOR = {
  status: 'success',
  data: {
    resultType: 'vector',
    result: [
      { metric: {}, value: [1588889221, '1267.1266666666666'] },
      { metric: { level: 'warn' }, value: [1588889221, '37.77166666666667'] },
      { metric: { level: 'info' }, value: [1588889221, '37.69'] },
    ],
  },
};

const CONFIG_YAML = `target: all
auth_enabled: false
server:
  http_listen_port: 3100
common:
  path_prefix: /var/loki
  replication_factor: 1
compactor:
  working_directory: /var/loki/compactor
  compaction_interval: 10m
  retention_enabled: true
  retention_delete_delay: 2h
  retention_delete_worker_count: 150
  delete_request_store: filesystem
limits_config:
  ingestion_rate_mb: 4
  reject_old_samples: true
  reject_old_samples_max_age: 1w
  max_query_lookback: 0s
  retention_period: 1w
`;
const TEXT = { 'content-type': 'text/plain; charset=utf-8' };

void describe('Loki client against replayed Loki API responses', () => {
  let server: ReplayServer;
  let loki: LokiClient;

  before(async () => {
    server = await startReplayServer({
      'GET /ready': { status: 200, headers: TEXT, body: 'ready\n' },
      'GET /config': { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: CONFIG_YAML },
      'GET /loki/api/v1/query_range': { body: STREAMS_SIMPLE },
      'GET /loki/api/v1/query': { body: VECTOR },
      'GET /loki/api/v1/labels': { body: { status: 'success', data: ['foo', 'bar', 'baz'] } },
      'GET /loki/api/v1/label/foo/values': { body: { status: 'success', data: ['cat', 'dog', 'axolotl'] } },
    });
    loki = new LokiClient(server.url, { tenant: 'tenant-1', timeoutMs: 30_000 });
  });
  after(() => server.close());

  void it('sends range queries with nanosecond bounds, limit, direction and the tenant header, and flattens the streams', async () => {
    const res = await loki.queryRange({ query: '{job="x"} |= "a"', startMs: 1_645_030_000_000, endMs: 1_645_031_000_000, limit: 50 });
    const req = server.requests.at(-1);
    assert.equal(req?.query.get('query'), '{job="x"} |= "a"');
    assert.equal(req?.query.get('start'), '1645030000000000000');
    assert.equal(req?.query.get('end'), '1645031000000000000');
    assert.equal(req?.query.get('limit'), '50');
    assert.equal(req?.query.get('direction'), 'forward');
    assert.equal(req?.headers['x-scope-orgid'], 'tenant-1');
    assert.equal(res.streams.length, 2);
    assert.equal(res.entries.length, 6);
    assert.deepEqual(res.entries[0], { labels: { code: 'one",', location: 'moon🌙' }, tsNs: 1645030244810757120n, line: 'log line error 1' });
  });

  void it('reads an instant metric query, labels and label values', async () => {
    const v = await loki.queryInstant('sum(rate({job="varlogs"}[10m])) by (level)', 1_588_889_221_000);
    assert.equal(v.length, 3);
    assert.equal(server.requests.at(-1)?.query.get('time'), '1588889221000000000');
    assert.deepEqual(await loki.labels(), ['foo', 'bar', 'baz']);
    assert.deepEqual(await loki.labelValues('foo', { query: '{app="x"}' }), ['cat', 'dog', 'axolotl']);
    assert.equal(server.requests.at(-1)?.query.get('query'), '{app="x"}');
  });

  void it('says Loki is ready only on 200 "ready", and reports the 503 text otherwise', async () => {
    assert.deepEqual(await loki.ready(), { ready: true, status: 200, body: 'ready' });
    server.route('GET /ready', { status: 503, headers: TEXT, body: 'Ingester not ready: waiting for 15s after being ready\n' });
    assert.deepEqual(await loki.ready(), { ready: false, status: 503, body: 'Ingester not ready: waiting for 15s after being ready' });
  });

  void it('reads the running config and finds retention enabled with a 7-day period printed as 1w', async () => {
    const { config } = await loki.config();
    const r = retentionOf(config);
    assert.deepEqual(r, { retentionEnabled: true, retentionPeriod: '1w', retentionPeriodMs: 7 * 86_400_000, deleteRequestStore: 'filesystem' });
    assert.deepEqual(retentionProblems(r, 7), []);
  });

  void it('explains a config without retention: disabled, wrong period, no delete store', () => {
    const r = retentionOf({ compactor: { retention_enabled: false }, limits_config: { retention_period: '0s' } });
    const problems = retentionProblems(r, 7);
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? '', /retention_enabled is not true/);
    assert.match(problems[1] ?? '', /"0s" \(0h\) but 7 days \(168h, printed "1w"\)/);
    assert.match(retentionProblems(retentionOf({ compactor: { retention_enabled: true }, limits_config: { retention_period: '744h' } }), 7).join('\n'), /744h.*delete_request_store/s);
  });

  const failures: Array<[number, string, RegExp]> = [
    [400, 'parse error at line 1, col 9: syntax error: unexpected IDENTIFIER', /bad \(HTTP 400\): parse error at line 1, col 9/],
    [401, 'no org id', /refused tenant "tenant-1" \(HTTP 401\): no org id/],
    [429, 'too many outstanding requests', /overloaded \(HTTP 429: too many outstanding requests\)/],
    [503, 'Ingester not ready: waiting for 15s after being ready', /not ready \(HTTP 503: Ingester not ready/],
  ];
  for (const [status, body, expected] of failures) {
    void it(`turns HTTP ${status} "${body}" into an error that says what to do`, async () => {
      server.route('GET /loki/api/v1/query_range', { status, headers: TEXT, body });
      const err = await loki.queryRange({ query: '{job="x"}', startMs: 0, endMs: 1 }).catch((e: unknown) => e);
      assert.ok(err instanceof LokiError, `expected a LokiError, got ${String(err)}`);
      assert.equal(err.status, status);
      assert.match(err.message, expected);
    });
  }

  void it('without a tenant, a 401 says to set LOKI_TENANT', async () => {
    server.route('GET /loki/api/v1/labels', { status: 401, headers: TEXT, body: 'no org id\n' });
    const bare = new LokiClient(server.url, { timeoutMs: 30_000 });
    await assert.rejects(bare.labels(), /set LOKI_TENANT/);
    assert.equal(server.requests.at(-1)?.headers['x-scope-orgid'], undefined);
  });

  void it('refuses a metric result where a log query was expected', async () => {
    server.route('GET /loki/api/v1/query_range', { body: { status: 'success', data: { resultType: 'matrix', result: [] } } });
    await assert.rejects(loki.queryRange({ query: 'rate({a="b"}[1m])', startMs: 0, endMs: 1 }), /resultType "streams"/);
  });
});
