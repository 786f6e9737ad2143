/**
 * Loki through Grafana's `POST /api/ds/query`, against replayed Grafana API responses
 * (Grafana cannot run here). Sources:
 * - legacy frame: grafana/grafana pkg/tsdb/loki/testdata/streams_simple.golden.jsonc (Grafana's
 *   own golden file for the Loki response streams_simple.json), stats trimmed;
 * - dataplane frame: the same rows as grafana/grafana pkg/tsdb/loki/frame.go
 *   `adjustDataplaneLogsFrame` lays them out (attributes, timestamp, body, id; meta.type log-lines);
 * - per-stream frame: the Grafana ≤ 8 layout (one frame per stream, labels on the line field);
 * - error: the `{results:{A:{error, errorSource, status}}}` body Grafana sends with HTTP 400
 *   (grafana-plugin-sdk-go backend.DataResponse), with Loki's parse error text;
 * - datasource list: the `GET /api/datasources` shape of
 *   grafana/grafana docs/sources/developers/http_api/data_source.md.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { framesToRows, GrafanaQueryError, lokiDatasources, lokiQueryBody, pickLokiDatasource, queryLokiThroughGrafana, type Frame } from '../fixtures/grafana/loki-queries.ts';
import { GrafanaClient } from '../fixtures/grafana/client.ts';
import { startReplayServer, type ReplayServer } from './support/replay-server.ts';

// Made at run time: nothing that looks like a credential is written in the repo.
const TOKEN = `t-${randomUUID()}`;

const LABELS = [
  { code: 'one",', location: 'moon🌙' },
  { code: '",two', location: 'moon🌙' },
];
const TIMES = [1645030244810, 1645030247027];
const LINES = ['log line error 1', 'log line info 1'];
const TS_NS = ['1645030244810757120', '1645030247027735040'];
const IDS = ['1645030244810757120_1d8c2178_', '1645030247027735040_87a7aed2_'];

const LEGACY: Frame = {
  schema: {
    meta: { custom: { frameType: 'LabeledTimeValues' } },
    fields: [
      { name: 'labels', type: 'other' },
      { name: 'Time', type: 'time' },
      { name: 'Line', type: 'string' },
      { name: 'tsNs', type: 'string' },
      { name: 'id', type: 'string' },
    ],
  },
  data: { values: [LABELS, TIMES, LINES, TS_NS, IDS] },
};

const DATAPLANE: Frame = {
  schema: {
    meta: { type: 'log-lines' },
    fields: [
      { name: 'attributes', type: 'other' },
      { name: 'timestamp', type: 'time' },
      { name: 'body', type: 'string' },
      { name: 'id', type: 'string' },
    ],
  },
  data: { values: [LABELS, TIMES, LINES, IDS] },
};

const PER_STREAM: Frame[] = LINES.map((line, i) => ({
  schema: { fields: [{ name: 'ts', type: 'time' }, { name: 'Time', type: 'time' }, { name: 'Line', type: 'string', labels: LABELS[i] as Record<string, string> }] },
  data: { values: [[TIMES[i]], [TIMES[i]], [line]] },
}));

const DATASOURCES = [
  { id: 1, uid: 'prometheus', orgId: 1, name: 'Prometheus', type: 'prometheus', typeLogoUrl: '', access: 'proxy', url: 'http://prometheus:9090', isDefault: true, readOnly: true },
  { id: 2, uid: 'loki', orgId: 1, name: 'Loki', type: 'loki', typeLogoUrl: '', access: 'proxy', url: 'http://loki.monitoring.svc.cluster.local:3100', isDefault: false, readOnly: true },
  { id: 3, uid: 'P8E80F9AEF21F6940', orgId: 1, name: 'Loki-stack', type: 'loki', typeLogoUrl: '', access: 'proxy', url: 'http://loki-stack:3100', isDefault: false, readOnly: false },
];

void describe('Loki through Grafana /api/ds/query against replayed Grafana API responses', () => {
  let server: ReplayServer;
  let grafana: GrafanaClient;

  before(async () => {
    server = await startReplayServer({
      'GET /api/datasources': { body: DATASOURCES },
      'POST /api/ds/query': { body: { results: { A: { status: 200, frames: [LEGACY] } } } },
    });
    grafana = new GrafanaClient(server.url, { kind: 'token', token: TOKEN }, { timeoutMs: 30_000 });
  });
  after(() => server.close());

  void it('reads rows from the legacy layout (labels, Time, Line, tsNs, id)', () => {
    const { rows, layouts } = framesToRows([LEGACY]);
    assert.deepEqual(layouts, ['legacy']);
    assert.deepEqual(rows[0], { labels: { code: 'one",', location: 'moon🌙' }, line: 'log line error 1', timeMs: 1645030244810, tsNs: '1645030244810757120' });
    assert.equal(rows.length, 2);
  });

  void it('reads the same rows from the dataplane layout (attributes, timestamp, body, id)', () => {
    const { rows, layouts } = framesToRows([DATAPLANE]);
    assert.deepEqual(layouts, ['dataplane']);
    assert.deepEqual(rows.map((r) => [r.labels, r.line, r.timeMs]), LINES.map((l, i) => [LABELS[i], l, TIMES[i]]));
    assert.equal(rows[0]?.tsNs, undefined);
  });

  void it('reads one-frame-per-stream answers with the labels on the line field, and skips non-log frames', () => {
    const metric: Frame = { schema: { fields: [{ name: 'Time', type: 'time' }, { name: 'Value', type: 'number' }] }, data: { values: [[1], [2]] } };
    const { rows, layouts } = framesToRows([...PER_STREAM, metric]);
    assert.deepEqual(layouts, ['per-stream']);
    assert.deepEqual(rows.map((r) => r.labels), LABELS);
  });

  void it('sends a range log query for the datasource uid with epoch-ms bounds and the auth header', async () => {
    const { rows } = await queryLokiThroughGrafana(grafana, { datasourceUid: 'loki', expr: '{namespace="x"} |= "m"', fromMs: 1000.4, toMs: 2000.2, maxLines: 50 });
    assert.equal(rows.length, 2);
    const req = server.requests.at(-1);
    assert.equal(req?.headers.authorization, `Bearer ${TOKEN}`);
    assert.deepEqual(JSON.parse(req?.body ?? '{}'), lokiQueryBody({ datasourceUid: 'loki', expr: '{namespace="x"} |= "m"', fromMs: 1000.4, toMs: 2000.2, maxLines: 50 }));
    assert.deepEqual(JSON.parse(req?.body ?? '{}'), {
      queries: [{ refId: 'A', datasource: { type: 'loki', uid: 'loki' }, expr: '{namespace="x"} |= "m"', queryType: 'range', maxLines: 50, direction: 'forward' }],
      from: '1000',
      to: '2001',
    });
  });

  void it('turns a per-query error (HTTP 400, error source downstream) into a message naming Loki', async () => {
    server.route('POST /api/ds/query', {
      status: 400,
      // A proxy that echoes the credential into the error must not get it into the report.
      body: { results: { A: { error: `parse error at line 1, col 12: syntax error: unexpected IDENTIFIER (auth ${TOKEN})`, errorSource: 'downstream', status: 400 } } },
    });
    await assert.rejects(
      queryLokiThroughGrafana(grafana, { datasourceUid: 'loki', expr: '{a="b"} |= x', fromMs: 0, toMs: 1 }),
      (e: unknown) =>
        e instanceof GrafanaQueryError &&
        /HTTP 400, error source downstream\): parse error at line 1, col 12/.test(e.message) &&
        /comes from Loki itself/.test(e.message) &&
        e.message.includes('[REDACTED]') &&
        !e.message.includes(TOKEN),
    );
  });

  void it('lets a 401 from Grafana surface as an HTTP error without the token', async () => {
    server.route('POST /api/ds/query', { status: 401, body: { message: 'Unauthorized', messageId: 'auth.unauthorized', statusCode: 401 } });
    await assert.rejects(queryLokiThroughGrafana(grafana, { datasourceUid: 'loki', expr: '{a="b"}', fromMs: 0, toMs: 1 }), (e: unknown) => e instanceof Error && /HTTP 401/.test(e.message) && !e.message.includes(TOKEN));
  });

  void it('finds Loki datasources and prefers the provisioned uid; refuses an ambiguous choice', async () => {
    const list = await lokiDatasources(grafana);
    assert.deepEqual(list.map((d) => d.uid), ['loki', 'P8E80F9AEF21F6940']);
    assert.equal(pickLokiDatasource(list, 'loki').uid, 'loki');
    assert.equal(pickLokiDatasource(list.slice(1), 'loki').uid, 'P8E80F9AEF21F6940');
    assert.throws(() => pickLokiDatasource(list, 'other'), /2 Loki datasources .* none has uid "other"/);
    assert.throws(() => pickLokiDatasource([], 'loki'), /no Loki datasource/);
  });
});
