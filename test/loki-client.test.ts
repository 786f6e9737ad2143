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
 * The last group replays what real Loki 3.6.7 and 2.9.3 answered (test/captures/loki/, README
 * there): buildinfo, the tenant limits endpoint (200 on 3.6, 404 on 2.9), /metrics, the
 * `categorize-labels` encoding, and the refusals whose text differs by version.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LokiClient, LokiError, refusedLimit } from '../fixtures/loki/client.ts';
import { captureReply } from './support/loki-replay.ts';
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
    assert.deepEqual(res.entries[0], { labels: { code: 'one",', location: 'moon🌙' }, tsNs: 1645030244810757120n, line: 'log line error 1', metadata: {} });
    assert.equal(req?.headers['x-loki-response-encoding-flags'], 'categorize-labels');
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

  void it('reads the running config as YAML', async () => {
    const { config } = await loki.config();
    assert.deepEqual(config.compactor, { working_directory: '/var/loki/compactor', compaction_interval: '10m', retention_enabled: true, retention_delete_delay: '2h', retention_delete_worker_count: 150, delete_request_store: 'filesystem' });
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

void describe('Loki client against real Loki 3.6.7 and 2.9.3 answers (captured)', () => {
  let server: ReplayServer;
  before(async () => {
    server = await startReplayServer();
  });
  after(() => server.close());
  const client = (tenant?: string) => new LokiClient(server.url, { timeoutMs: 30_000, ...(tenant ? { tenant } : {}) });

  void it('reads the version from buildinfo, which needs no tenant', async () => {
    server.route('GET /loki/api/v1/status/buildinfo', captureReply('3.6.7-main/03-buildinfo.http'));
    assert.deepEqual(await client().buildinfo(), { version: '3.6.7', revision: '7e1daf3a' });
    server.route('GET /loki/api/v1/status/buildinfo', captureReply('2.9.3-main/03-buildinfo.http'));
    assert.equal((await client().buildinfo()).version, '2.9.3');
  });

  void it("reads a tenant's effective limits with that tenant's header (3.6.7), and 404 as not served (2.9.3)", async () => {
    server.route('GET /config/tenant/v1/limits', captureReply('3.6.7-main/04-tenant-limits-fake.http'));
    const limits = await client('team-x').tenantLimits('fake');
    assert.equal(server.requests.at(-1)?.headers['x-scope-orgid'], 'fake');
    assert.equal(limits?.retention_period, '1w');
    assert.equal(limits?.max_entries_limit_per_query, 50);
    server.route('GET /config/tenant/v1/limits', captureReply('2.9.3-main/04-tenant-limits-fake.http'));
    assert.equal(await client().tenantLimits('fake'), undefined);
  });

  void it('reads /metrics as Loki serves it (Prometheus text format)', async () => {
    server.route('GET /metrics', captureReply('3.6.7-main/09-metrics-after.http'));
    assert.match(await client().metrics(), /^loki_discarded_samples_total\{format="loki",policy="",reason="too_far_in_future",retention_hours="168",tenant="fake"\} 1$/m);
  });

  void it('asks Loki 3 to categorize labels: indexed labels in `labels`, structured metadata and detected_level apart', async () => {
    // Loki 3.6.7 answers 21 to a request with the header and 20 to one without (both captured).
    server.route('GET /loki/api/v1/query_range', (req) =>
      captureReply(req.headers['x-loki-response-encoding-flags'] === 'categorize-labels' ? '3.6.7-auth/21-query-range-categorize-labels.http' : '3.6.7-auth/20-query-range-streams.http'),
    );
    const { entries, categorized } = await client('team-a').queryRange({ query: '{app="capture"}', startMs: 0, endMs: 1 });
    assert.equal(categorized, true);
    assert.deepEqual(new Set(entries.map((e) => JSON.stringify(e.labels))), new Set([JSON.stringify({ app: 'capture', job: 'default/capture', namespace: 'default', service_name: 'capture' })]));
    assert.deepEqual(entries.at(-1)?.metadata, { agent: 'alloy', detected_level: 'info', trace_id: '0af7651916cd43dd' });
    assert.equal(entries.length, 4);
  });

  void it('reads Loki 2.9, which ignores the header and sends labels only', async () => {
    server.route('GET /loki/api/v1/query_range', captureReply('2.9.3-main/21-query-w1-end-now-plus-11m.http'));
    const { entries, categorized } = await client().queryRange({ query: '{namespace="obs-acc-cap13"}', startMs: 0, endMs: 1 });
    assert.equal(categorized, false);
    assert.equal(entries.length, 5);
    assert.deepEqual(entries[0]?.metadata, {});
    assert.equal(entries[0]?.labels.detected_level, undefined);
  });

  for (const version of ['3.6.7', '2.9.3']) {
    void it(`names the max_entries_limit_per_query a ${version} refusal gives, whichever words that version uses`, async () => {
      server.route('GET /loki/api/v1/query_range', captureReply(`${version}-auth/22-query-range-limit-5100.http`));
      const err = await client('team-a').queryRange({ query: '{app="capture"}', startMs: 0, endMs: 1, limit: 5100 }).catch((e: unknown) => e);
      assert.ok(err instanceof LokiError);
      assert.equal(refusedLimit(err), 5000);
      assert.match(err.message, /HTTP 400\): max entries limit per query exceeded.*\(5100 > 5000\)\. The query asked for more entries than limits_config\.max_entries_limit_per_query allows/);
      assert.match(err.lokiText, /^max entries limit per query exceeded/);
    });
  }

  void it('explains Loki 3\'s 500 for a tenant id with "|" (multi-tenant queries off)', async () => {
    server.route('GET /loki/api/v1/query_range', captureReply('3.6.7-auth/25-query-range-multi-tenant-disabled.http'));
    const err = await client('team-a|team-b').queryRange({ query: '{app="capture"}', startMs: 0, endMs: 1 }).catch((e: unknown) => e);
    assert.ok(err instanceof LokiError);
    assert.equal(err.status, 500);
    assert.match(err.message, /refused tenant "team-a\|team-b" \(HTTP 500: multiple org IDs present\): "\|" joins several tenants/);
  });
});
