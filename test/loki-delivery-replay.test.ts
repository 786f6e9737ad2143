/**
 * The marker reader of OBS-04/05 against what real Loki 3.6.7 and 2.9.3 answered
 * (test/captures/loki/, README there). A replay server serves the captured bodies, statuses
 * and content types, choosing among them as Loki's window arithmetic does (`start` inclusive,
 * `end` exclusive), and the reader runs on a clock set back to the moment of capture so that
 * "now" means what it meant to Loki. Boundaries (issue 13 items 3–5):
 * - a node 180 s ahead: lines stamped past "now + 60 s" are found because the window ends at
 *   now + creation_grace_period; the offset measured apart is taken out of the latencies;
 * - a node behind the window: its lines are found by the last search over everything Loki
 *   accepts, reported outside the window, not missing;
 * - `max_entries_limit_per_query` 50 with 120 lines: pages of 50; a refused limit (2.9 words)
 *   is lowered, not taken for "missing";
 * - a 401 stops the reader at once and a 500 is retried: neither makes a line "missing";
 * - a tenant without data: missing, and the summary names the tenant;
 * - `loki_discarded_samples_total` before and after (labels differ by version);
 * - labels: `__tenant_id__`, `service_name` and structured metadata are not Promtail's
 *   labels to miss or to refuse; `|` in LOKI_TENANT is refused at configuration.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../fixtures/core/config.ts';
import { LokiClient } from '../fixtures/loki/client.ts';
import { clockOffset, describeClockOffset, type LogRead } from '../fixtures/loki/clock-skew.ts';
import { describeDiscarded, discardedDelta, discardedSamples } from '../fixtures/loki/discarded.ts';
import { labelProblems } from '../fixtures/loki/log-agents.ts';
import { acceptedWindow, deliveryReport, describeDelivery, parseMarkerLine, watchMarkers, type ExpectedLine, type MarkerLine, type WatchOptions } from '../fixtures/loki/log-delivery.ts';
import { effectiveTenant, lokiLimits } from '../fixtures/loki/loki-config.ts';
import { CAPTURES, captureReply, readCapture } from './support/loki-replay.ts';
import { startReplayServer, type RecordedRequest, type Reply, type ReplayServer } from './support/replay-server.ts';

type Version = '3.6.7' | '2.9.3';
const NS = 1_000_000n;
const config = (file: string) => parse(readCapture(file).responseBody) as Record<string, unknown>;

/** Times of one capture run, read from its requests: T0 (the runner's now) and when the marker pod started. */
function runTimes(v: Version) {
  const t0 = Number(BigInt(readCapture(`${v}-main/20-query-w1-end-now-plus-60s.http`).query.get('end') ?? '0') / NS) - 60_000;
  const sinceMs = Number(BigInt(readCapture(`${v}-main/11-query-w0-page-1.http`).query.get('start') ?? '0') / NS) + 60_000;
  return { t0, sinceMs };
}

/** The marker lines of a captured answer. */
function markersOf(file: string): MarkerLine[] {
  const body = JSON.parse(readCapture(file).responseBody) as { data: { result: Array<{ values: Array<[string, string]> }> } };
  return body.data.result.flatMap((s) => s.values.map(([, line]) => parseMarkerLine(line)).filter((m): m is MarkerLine => !!m));
}

/** The marker lines of a captured answer, as the lines the reader expects. */
function expectedOf(file: string): ExpectedLine[] {
  return markersOf(file).map((m) => ({ id: m.id, seq: m.seq }));
}

const newestNs = (file: string) => {
  const body = JSON.parse(readCapture(file).responseBody) as { data: { result: Array<{ values: Array<[string, string]> }> } };
  return body.data.result.flatMap((s) => s.values.map(([ts]) => BigInt(ts))).reduce((a, b) => (a > b ? a : b), 0n);
};

/**
 * w1's marker query as Loki answered it: the 5 lines (capture 21) when `[start, end)` holds
 * them, else the empty answer Loki gave for a window that did not (capture 20).
 */
function w1Route(v: Version, unexpected: string[]) {
  const found = readCapture(`${v}-main/21-query-w1-end-now-plus-11m.http`);
  const newest = newestNs(`${v}-main/21-query-w1-end-now-plus-11m.http`);
  const oldest = newest - 4_000_000_000n;
  return (req: RecordedRequest): Reply => {
    if (req.query.get('query') !== found.query.get('query')) unexpected.push(`query ${req.query.get('query')}`);
    const start = BigInt(req.query.get('start') ?? '0');
    const end = BigInt(req.query.get('end') ?? '0');
    return captureReply(`${v}-main/${start <= oldest && end > newest ? '21-query-w1-end-now-plus-11m' : '20-query-w1-end-now-plus-60s'}.http`);
  };
}

/** w0's marker query: the captured page for the `start` asked, 400 above limit 50 (capture 10). */
function w0Route(v: Version, unexpected: string[]) {
  const pages = [1, 2, 3].map((n) => readCapture(`${v}-main/1${n}-query-w0-page-${n}.http`));
  return (req: RecordedRequest): Reply => {
    if (Number(req.query.get('limit')) > 50) return captureReply(`${v}-main/10-query-w0-limit-51.http`);
    const i = pages.findIndex((p) => p.query.get('start') === req.query.get('start') && p.query.get('query') === req.query.get('query'));
    if (i < 0) {
      unexpected.push(`start ${req.query.get('start')} limit ${req.query.get('limit')}`);
      return { status: 500, headers: { 'content-type': 'text/plain' }, body: 'no capture for this request\n' };
    }
    return captureReply(`${v}-main/1${i + 1}-query-w0-page-${i + 1}.http`);
  };
}

const servers: ReplayServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));
async function serve(route: (req: RecordedRequest) => Reply): Promise<ReplayServer> {
  const s = await startReplayServer({ 'GET /loki/api/v1/query_range': route, 'GET /metrics': { status: 404, body: 'no\n' } });
  servers.push(s);
  return s;
}

/** A reader's clock standing at `atMs` (a moment of the capture run), so every figure it takes is exact. */
const clockAt = (atMs: number) => () => atMs;

/** Short waits: the outcome (what was read, what was called what) is asserted, never the time taken. */
const quick = { budgetMs: 400, graceMs: 400, intervalMs: 50 } satisfies Partial<WatchOptions>;

for (const v of ['3.6.7', '2.9.3'] as const) {
  void describe(`Loki ${v}: a node 180 s ahead, max_entries_limit_per_query 50, refusals at push`, () => {
    const { t0, sinceMs } = runTimes(v);
    const limits = lokiLimits(config(`${v}-main/02-config.http`));
    const w1 = expectedOf(`${v}-main/21-query-w1-end-now-plus-11m.http`);
    const w1Query = readCapture(`${v}-main/21-query-w1-end-now-plus-11m.http`).query.get('query') ?? '';

    void it('reads the push window and the entry limit from /config', () => {
      assert.equal(limits.creationGracePeriodMs, 10 * 60_000);
      assert.equal(limits.rejectOldSamples, true);
      assert.equal(limits.rejectOldSamplesMaxAgeMs, 7 * 86_400_000);
      assert.equal(limits.maxEntriesLimitPerQuery, 50);
      assert.equal(limits.outOfOrderWindowMs, 3_600_000);
      assert.deepEqual(limits.notes, []);
      assert.deepEqual(acceptedWindow(t0, limits), { startMs: t0 - 7 * 86_400_000 - 60_000, endMs: t0 + 11 * 60_000 });
    });

    void it('finds every line of a node 180 s ahead: the window ends at now + creation_grace_period, and the offset measured apart is taken out of the latency', async () => {
      const unexpected: string[] = [];
      const server = await serve(w1Route(v, unexpected));
      // The kubelet's copy of the log as the node (180 s ahead) wrote it, read every 200 ms on the
      // runner's clock, each read taking 30 ms and reading the file 15 ms in.
      const writes = markersOf(`${v}-main/21-query-w1-end-now-plus-11m.http`).map((m) => ({ seq: m.seq, ms: Number(m.writtenNs / NS) }));
      const reads: LogRead[] = [];
      for (let runner = writes[0]!.ms - 180_000 - 150; runner < writes.at(-1)!.ms - 180_000 + 300; runner += 200) {
        reads.push({ sentMs: runner, receivedMs: runner + 30, written: new Map(writes.filter((w) => w.ms - 180_000 <= runner + 15).map((w) => [w.seq, BigInt(w.ms) * NS] as const)) });
      }
      const skew = clockOffset(reads);
      assert.ok(skew && skew.lowMs <= 180_000 && skew.highMs !== undefined && skew.highMs >= 180_000 && skew.highMs - skew.lowMs <= 250, JSON.stringify(skew));
      // The reader starts a second after the node's last line (runner clock).
      const { seen, errors, searchedAll } = await watchMarkers({ loki: new LokiClient(server.url, { timeoutMs: 30_000 }), query: w1Query, expected: w1, sinceMs, limits, skew: () => skew, now: clockAt(t0 + 1_000), ...quick });
      assert.deepEqual(unexpected, []);
      assert.equal(seen.size, 5);
      assert.deepEqual(errors, []);
      assert.equal(searchedAll, true);
      for (const r of server.requests) assert.ok(BigInt(r.query.get('end') ?? '0') / NS >= BigInt(t0 + 10 * 60_000), `query window ends at ${r.query.get('end')}, before now + creation_grace_period`);
      const report = deliveryReport(w1, seen, 10_000, { skew });
      assert.deepEqual(report.missing, []);
      assert.deepEqual(report.outsideWindow, []);
      // Written 4…0 s before T0 on the runner's clock, seen at T0 + 1 s: 1…5 s, to within the offset's bracket.
      assert.deepEqual(report.onTime.map((l) => Math.round(l.latencyMs / 1_000)), [5, 4, 3, 2, 1]);
      assert.match(describeDelivery(report), /5 of 5 marker lines visible in Loki; .*node clock offset 180\.\d s taken out.*; node clock 180\.\d s ahead of the runner/);
      // Without the offset the same sightings read as negative latencies, which the summary names.
      assert.match(describeDelivery(deliveryReport(w1, seen, 2_000)), /negative latency: the node clock is ahead of the runner clock/);
    });

    void it('finds lines stamped before the window watched by the last search over everything Loki accepts, outside the window, not missing', async () => {
      const unexpected: string[] = [];
      const server = await serve(w1Route(v, unexpected));
      // The pod "started" 2 minutes after the lines' timestamps: a node far behind, not measured.
      const late = newestNs(`${v}-main/21-query-w1-end-now-plus-11m.http`);
      const start = Number(late / NS) + 120_000;
      const { seen, searchedAll, timeout } = await watchMarkers({ loki: new LokiClient(server.url, { timeoutMs: 30_000 }), query: w1Query, expected: w1, sinceMs: start, limits, now: clockAt(start), ...quick });
      assert.deepEqual(unexpected, []);
      assert.match(timeout ?? '', /0 of 5 marker lines seen so far/);
      assert.equal(searchedAll, true);
      const report = deliveryReport(w1, seen, 2_000);
      assert.deepEqual(report.missing, []);
      assert.deepEqual(report.outsideWindow.map((l) => l.seq), [1, 2, 3, 4, 5]);
      assert.match(describeDelivery(report), /^5 of 5 marker lines visible in Loki; found only by a search over everything Loki accepts, stamped outside the window watched \(node clock off\): #1, #2, #3, #4, #5/);
      const last = server.requests.at(-1);
      assert.equal(BigInt(last?.query.get('start') ?? '0') / NS, BigInt(start - 7 * 86_400_000 - 60_000), 'the last search starts reject_old_samples_max_age back');
      assert.equal(BigInt(last?.query.get('end') ?? '0') / NS, BigInt(start + 11 * 60_000), 'and ends creation_grace_period ahead');
    });

    void it(`reads 120 lines in pages of max_entries_limit_per_query (50) read from /config, never asking for more`, async () => {
      const unexpected: string[] = [];
      const server = await serve(w0Route(v, unexpected));
      const w0 = [...expectedOf(`${v}-main/11-query-w0-page-1.http`), ...expectedOf(`${v}-main/12-query-w0-page-2.http`), ...expectedOf(`${v}-main/13-query-w0-page-3.http`)];
      const expected = [...new Map(w0.map((e) => [e.id, e])).values()];
      assert.equal(expected.length, 120);
      const query = readCapture(`${v}-main/11-query-w0-page-1.http`).query.get('query') ?? '';
      const { seen, errors } = await watchMarkers({ loki: new LokiClient(server.url, { timeoutMs: 30_000 }), query, expected, sinceMs, limits, now: clockAt(t0), ...quick });
      assert.deepEqual(unexpected, []);
      assert.deepEqual(errors, []);
      assert.equal(seen.size, 120);
      assert.deepEqual(server.requests.map((r) => r.query.get('limit')), ['50', '50', '50']);
    });

    void it(`lowers a limit Loki refuses (${v === '3.6.7' ? 'max_entries_limit_per_query' : 'max_entries_limit'} in its words) to the one it names, when /config was not read`, async () => {
      const unexpected: string[] = [];
      const server = await serve(w0Route(v, unexpected));
      const expected = expectedOf(`${v}-main/11-query-w0-page-1.http`);
      const query = readCapture(`${v}-main/11-query-w0-page-1.http`).query.get('query') ?? '';
      const { seen, errors } = await watchMarkers({ loki: new LokiClient(server.url, { timeoutMs: 30_000 }), query, expected, sinceMs, now: clockAt(t0), ...quick });
      assert.deepEqual(unexpected, []);
      assert.deepEqual(errors, []);
      assert.equal(seen.size, 50);
      assert.deepEqual(server.requests.map((r) => r.query.get('limit')), ['100', '50', '50', '50']);
    });

    void it('reads loki_discarded_samples_total by reason before and after (labels as this version sets them)', async () => {
      const server = await startReplayServer();
      servers.push(server);
      const loki = new LokiClient(server.url, { timeoutMs: 30_000 });
      server.route('GET /metrics', captureReply(`${v}-main/05-metrics-before.http`));
      const before = discardedSamples(await loki.metrics());
      server.route('GET /metrics', captureReply(`${v}-main/09-metrics-after.http`));
      const after = discardedSamples(await loki.metrics());
      assert.equal(before.size, 0);
      const rose = discardedDelta(before, after);
      assert.deepEqual(Object.fromEntries(rose.get('fake') ?? []), { greater_than_max_sample_age: 1, too_far_in_future: 1 });
      assert.equal(describeDiscarded(rose, 'fake'), 'tenant "fake": greater_than_max_sample_age 1, too_far_in_future 1');
      // The push that caused them: one line 15 min ahead, one 8 days back, both refused in one 400.
      const push = readCapture(`${v}-main/08-push-w2-too-new-and-too-old.http`);
      assert.equal(push.status, 400);
      assert.match(push.responseBody, /has timestamp too new: .*has timestamp too old: /s);
    });
  });
}

void describe('errors are not missing lines (replayed Loki 3.6.7 refusals)', () => {
  const expected = [1, 2, 3].map((seq) => ({ id: `obsmk-r1-w0-${seq}`, seq }));
  const query = '{namespace="obs-acc-r1"} |= "obsmk-r1-w0-"';

  void it('401 "no org id" stops the reader at the first answer: every line unread, none missing, the error in Loki\'s words', async () => {
    const server = await serve(() => captureReply('3.6.7-auth/24-query-range-no-tenant-header.http'));
    const r = await watchMarkers({ loki: new LokiClient(server.url, { timeoutMs: 30_000 }), query, expected, sinceMs: Date.now(), budgetMs: 60_000, graceMs: 60_000, intervalMs: 50 });
    assert.equal(server.requests.length, 1);
    assert.equal(r.searchedAll, false);
    assert.match(r.errors.join('\n'), /HTTP 401: no org id/);
    const report = deliveryReport(expected, r.seen, 1_000, { errors: r.errors, searchedAll: r.searchedAll });
    assert.deepEqual(report.missing, []);
    assert.deepEqual(report.unread.map((l) => l.seq), [1, 2, 3]);
    assert.match(describeDelivery(report), /not read \(Loki answered with errors, so neither found nor known missing\): #1, #2, #3; Loki errors: .*no org id/);
  });

  void it('500 "multiple org IDs present" is retried on every poll and counted; lines stay unread', async () => {
    const server = await serve(() => captureReply('3.6.7-auth/25-query-range-multi-tenant-disabled.http'));
    const r = await watchMarkers({ loki: new LokiClient(server.url, { timeoutMs: 30_000 }), query, expected, sinceMs: Date.now(), ...quick });
    assert.ok(server.requests.length >= 2, `${server.requests.length} requests`);
    assert.equal(r.searchedAll, false);
    assert.match(r.errors.join('\n'), /HTTP 500: multiple org IDs present.*\(\d+×\)/);
    assert.deepEqual(deliveryReport(expected, r.seen, 1_000, { errors: r.errors, searchedAll: r.searchedAll }).missing, []);
  });

  void it('a tenant without data (200, no streams): the lines are missing and the summary names the tenant read', async () => {
    const server = await serve(() => captureReply('3.6.7-auth/23-query-range-tenant-without-data.http'));
    const r = await watchMarkers({ loki: new LokiClient(server.url, { timeoutMs: 30_000, tenant: 'nobody-here' }), query, expected, sinceMs: Date.now(), ...quick });
    assert.equal(r.searchedAll, true);
    assert.equal(server.requests.at(-1)?.headers['x-scope-orgid'], 'nobody-here');
    const tenant = effectiveTenant(config('3.6.7-auth/02-config.http'), 'nobody-here');
    const report = deliveryReport(expected, r.seen, 1_000, { errors: r.errors, searchedAll: r.searchedAll, context: [`read as ${tenant.note}`] });
    assert.deepEqual(report.missing.map((l) => l.seq), [1, 2, 3]);
    assert.match(describeDelivery(report), /missing .*#1, #2, #3; .*read as auth is on: tenant "nobody-here" \(LOKI_TENANT, sent as X-Scope-OrgID\)/);
  });
});

void describe("the node's clock offset from kubelet log reads (arithmetic)", () => {
  const read = (sentMs: number, lines: Record<number, number>): LogRead => ({ sentMs, receivedMs: sentMs + 20, written: new Map(Object.entries(lines).map(([s, w]) => [Number(s), BigInt(w) * NS])) });

  void it('brackets the offset between the last read that missed a line and the first that held it', () => {
    // Node 180 s ahead: line 2 written at node 1_180_000 = runner 1_000_000.
    const o = clockOffset([read(999_900, { 1: 1_179_000 }), read(1_000_100, { 1: 1_179_000, 2: 1_180_000 })]);
    assert.deepEqual(o, { lowMs: 1_180_000 - 1_000_120, highMs: 1_180_000 - 999_900, estimateMs: (179_880 + 180_100) / 2, lines: 2 });
    assert.match(describeClockOffset(o, 'node n1'), /^node n1 clock 180\.0 s ahead of the runner \(179\.9…180\.1 s, from 2 lines/);
  });

  void it('gives only a lower bound when every line was there at the first read, and nothing without lines', () => {
    const bound = clockOffset([read(2_000, { 1: 1_000 })]);
    assert.deepEqual(bound, { lowMs: 1_000 - 2_020, highMs: undefined, estimateMs: -1_020, lines: 1 });
    assert.match(describeClockOffset(bound), /clock offset only bounded: at least -1\.0 s/);
    // A lower bound alone is reported, never taken out of the latencies: it may be far below the offset.
    const sighting = { marker: { runId: 'r', id: 'a', seq: 1, total: 1, writtenNs: 1_000n * NS }, firstSeenMs: 3_000, labels: {}, lokiTsNs: 1_000n * NS };
    const r = deliveryReport([{ id: 'a', seq: 1 }], new Map([['a', sighting]]), 10_000, { skew: bound });
    assert.equal(r.correctedByMs, 0);
    assert.deepEqual(r.onTime.map((l) => l.latencyMs), [2_000]);
    assert.equal(clockOffset([read(1, {})]), undefined);
    assert.match(describeClockOffset(undefined), /clock offset not measured/);
  });

  void it('a node behind the runner reads as behind', () => {
    const o = clockOffset([read(10_000, {}), read(10_200, { 1: 7_100 })]);
    assert.match(describeClockOffset(o), /clock 3\.0 s behind the runner/);
  });
});

void describe('discarded samples on the ingester side (Loki 3.6.7, too_far_behind, filtered /metrics)', () => {
  void it('sums every series of a tenant and reason, whatever its other labels', () => {
    const text = readFileSync(join(CAPTURES, '3.6.7-behind/05-metrics-discarded.txt'), 'utf8').split('### response (filtered lines only)\n')[1] ?? '';
    assert.deepEqual(Object.fromEntries(discardedSamples(text).get('team-a') ?? []), { too_far_behind: 1 });
  });
});

void describe('labels Loki adds are not labels Promtail failed to produce (item 5)', () => {
  const labelsOf = (file: string) => (JSON.parse(readCapture(file).responseBody) as { data: { result: Array<{ stream: Record<string, string> }> } }).data.result.map((r) => r.stream);
  const foreign = (problems: string[]) => problems.filter((p) => p.includes('is not one Promtail produced'));

  for (const v of ['3.6.7', '2.9.3'] as const) {
    void it(`the marker stream as Loki ${v} returns it (with and without categorize-labels) matches Promtail's labels`, () => {
      for (const file of [`${v}-main/21-query-w1-end-now-plus-11m.http`, `${v}-main/22-query-w1-without-categorize-labels.http`]) {
        const [labels] = labelsOf(file);
        assert.ok(labels);
        const uid = /_obs-marker-w1_([0-9a-f-]+)\//.exec(labels.filename ?? '')?.[1];
        const pod: k8s.V1Pod = {
          metadata: { namespace: labels.namespace, name: labels.pod, uid, labels: { 'app.kubernetes.io/name': 'obs-marker' } },
          spec: { nodeName: labels.node_name, containers: [{ name: 'marker' }] },
        };
        assert.deepEqual(labelProblems(labels, pod, 'marker', 'stdout'), [], file);
      }
    });
  }

  void it('__tenant_id__ of a multi-tenant query and Loki 3 metadata are not flagged; structured metadata stays out of the labels with categorize-labels', () => {
    const pod: k8s.V1Pod = { metadata: { namespace: 'default', name: 'capture', uid: 'u' }, spec: { nodeName: 'n', containers: [{ name: 'c' }] } };
    for (const labels of labelsOf('3.6.7-multitenant/05-query-range-a-pipe-b-categorize-labels.http')) {
      assert.ok('__tenant_id__' in labels);
      assert.deepEqual(foreign(labelProblems(labels, pod, 'c', 'stdout')), []);
    }
    for (const labels of labelsOf('3.6.7-auth/21-query-range-categorize-labels.http')) assert.deepEqual(foreign(labelProblems(labels, pod, 'c', 'stdout')), []);
    // Without the header Loki 3 puts an agent's structured metadata into the stream, where it would read as a label.
    const merged = labelsOf('3.6.7-auth/20-query-range-streams.http').flatMap((l) => foreign(labelProblems(l, pod, 'c', 'stdout')));
    assert.deepEqual(merged, ['label agent="alloy" is not one Promtail produced (it adds a stream dimension queries do not expect)', 'label trace_id="0af7651916cd43dd" is not one Promtail produced (it adds a stream dimension queries do not expect)']);
  });

  void it('LOKI_TENANT with "|" is refused at configuration, saying what each Loki would do with it', () => {
    assert.throws(
      () => loadConfig({ LOKI_TENANT: 'team-a|team-b' }),
      (err: unknown) => err instanceof ConfigError && /LOKI_TENANT: names several tenants .*Loki 3 answers such a query with HTTP 500 "multiple org IDs present" .*Loki 2\.9 reads "a\|b" as one tenant/.test(err.message),
    );
    assert.equal(loadConfig({ LOKI_TENANT: 'team-a' }).loki.tenant, 'team-a');
  });
});
