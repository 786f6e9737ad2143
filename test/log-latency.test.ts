/**
 * Log delivery arithmetic (percentiles, on-time / late / missing), the marker line format as
 * the marker pod's own shell script prints it (run here with the local `sh`), and the
 * reader against replayed Loki API responses in the documented query_range shape
 * (grafana/loki docs/sources/reference/loki-http-api.md, "Query logs within a range of time").
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { deliveryReport, describeDelivery, formatMarkerLine, markerId, parseMarkerLine, percentile, watchMarkers, type Sighting } from '../fixtures/loki/log-delivery.ts';
import { LokiClient } from '../fixtures/loki/client.ts';
import { runChildOk } from './support/child.ts';
import { startReplayServer, type ReplayServer } from './support/replay-server.ts';

function sighting(id: string, seq: number, writtenMs: number, seenMs: number): Sighting {
  return {
    marker: { runId: 'r1', id, seq, total: 0, writtenNs: BigInt(writtenMs) * 1_000_000n },
    firstSeenMs: seenMs,
    labels: {},
    lokiTsNs: BigInt(writtenMs) * 1_000_000n,
  };
}

void describe('log delivery arithmetic', () => {
  void it('takes nearest-rank percentiles', () => {
    const v = [15, 20, 35, 40, 50];
    assert.equal(percentile(v, 30), 20);
    assert.equal(percentile(v, 40), 20);
    assert.equal(percentile(v, 50), 35);
    assert.equal(percentile(v, 95), 50);
    assert.equal(percentile(v, 100), 50);
    assert.equal(percentile([7], 95), 7);
    assert.throws(() => percentile([], 50), /no values/);
    assert.throws(() => percentile(v, 0), /outside/);
  });

  void it('measures first-seen minus written per line and tells late lines from missing ones', () => {
    const expected = [1, 2, 3, 4, 5].map((seq) => ({ id: `m-${seq}`, seq }));
    const seen = new Map<string, Sighting>([
      ['m-1', sighting('m-1', 1, 1_000, 2_500)],
      ['m-2', sighting('m-2', 2, 2_000, 3_000)],
      ['m-3', sighting('m-3', 3, 3_000, 5_000)],
      ['m-4', sighting('m-4', 4, 4_000, 16_000)],
    ]);
    const r = deliveryReport(expected, seen, 10_000);
    assert.deepEqual(r.onTime.map((l) => [l.seq, l.latencyMs]), [[1, 1_500], [2, 1_000], [3, 2_000]]);
    assert.deepEqual(r.late, [{ id: 'm-4', seq: 4, latencyMs: 12_000 }]);
    assert.deepEqual(r.missing, [{ id: 'm-5', seq: 5 }]);
    assert.deepEqual(r.latency, { p50Ms: 1_500, p95Ms: 12_000, maxMs: 12_000 });
    const text = describeDelivery(r);
    assert.match(text, /4 of 5 marker lines visible/);
    assert.match(text, /p50 1\.5 s, p95 12\.0 s, max 12\.0 s \(budget 10\.0 s\)/);
    assert.match(text, /late \(after the budget\): #4 12\.0 s/);
    assert.match(text, /missing \(not in Loki: a search over everything it accepts did not return them\): #5/);
  });

  void it('reports no latency figures when nothing arrived, and flags clock skew', () => {
    const none = deliveryReport([{ id: 'a', seq: 1 }], new Map(), 1_000);
    assert.equal(none.latency, undefined);
    assert.deepEqual(none.missing, [{ id: 'a', seq: 1 }]);
    const skewed = deliveryReport([{ id: 'a', seq: 1 }], new Map([['a', sighting('a', 1, 5_000, 4_000)]]), 1_000);
    assert.match(describeDelivery(skewed), /node clock is ahead/);
  });

  void it('round-trips the marker line format', () => {
    const m = { runId: 'abc123', id: markerId('abc123', 'main', 7), seq: 7, total: 9, writtenNs: 1_700_000_000_123_456_789n };
    assert.deepEqual(parseMarkerLine(`2026-01-01T00:00:00Z stdout F ${formatMarkerLine(m)}`), m);
    assert.equal(parseMarkerLine('obs-acceptance marker run=x id=y seq=1 of=2'), undefined);
  });
});

void describe('the marker pod script (manifests/marker/marker-pod.yaml) run with the local sh', () => {
  void it('prints numbered lines the parser reads, with write times taken as it runs', async () => {
    const doc = parse(await readFile('manifests/marker/marker-pod.yaml', 'utf8')) as { spec: { containers: Array<{ command: string[] }> } };
    const script = doc.spec.containers[0]?.command[2] ?? '';
    const before = BigInt(Date.now()) * 1_000_000n;
    const { stdout } = await runChildOk('sh', ['-c', script], {
      env: { PATH: process.env.PATH, RUN_ID: 'run42', MARKER_TAG: 'main', MARKER_LINES: '3', MARKER_INTERVAL_SECONDS: '0', MARKER_HOLD_SECONDS: '0' },
    });
    const afterNs = BigInt(Date.now()) * 1_000_000n;
    const lines = stdout.trim().split('\n').map(parseMarkerLine);
    assert.equal(lines.length, 3, stdout);
    lines.forEach((m, i) => {
      assert.ok(m, `line ${i + 1} did not parse: ${stdout}`);
      assert.equal(m.id, markerId('run42', 'main', i + 1));
      assert.equal(m.seq, i + 1);
      assert.equal(m.total, 3);
      assert.ok(m.writtenNs >= before - 1_000_000_000n && m.writtenNs <= afterNs, `written_ns ${m.writtenNs} outside the run`);
    });
  });
});

void describe('marker reader against replayed Loki API responses', () => {
  let server: ReplayServer;
  let polls = 0;
  const now = Date.now();
  const line = (seq: number) => [String(BigInt(now) * 1_000_000n), formatMarkerLine({ runId: 'r9', id: markerId('r9', 'main', seq), seq, total: 3, writtenNs: BigInt(now - 500) * 1_000_000n })];
  before(async () => {
    server = await startReplayServer({
      'GET /loki/api/v1/query_range': () => {
        polls++;
        // Line 1 shows up on the second poll, line 2 on the third; line 3 never does.
        const values = [...(polls >= 2 ? [line(1)] : []), ...(polls >= 3 ? [line(2)] : [])];
        return { body: { status: 'success', data: { resultType: 'streams', result: [{ stream: { namespace: 'ns', pod: 'obs-marker-main' }, values }] } } };
      },
    });
  });
  after(() => server.close());

  void it('notes the first sighting of each line and says how the wait ended when one never arrives', async () => {
    const expected = [1, 2, 3].map((seq) => ({ id: markerId('r9', 'main', seq), seq }));
    const { seen, timeout } = await watchMarkers({
      loki: new LokiClient(server.url, { timeoutMs: 30_000 }),
      query: '{namespace="ns"} |= "obsmk-r9"',
      expected,
      sinceMs: now,
      // Line 3 never arrives, so the watch always lasts budget + grace; they are long enough for the
      // three polls this needs (every 50 ms) to happen on a loaded machine too.
      budgetMs: 3_000,
      graceMs: 1_000,
      intervalMs: 50,
    });
    assert.deepEqual([...seen.keys()], [expected[0]?.id, expected[1]?.id]);
    assert.ok((seen.get(expected[0]?.id ?? '')?.firstSeenMs ?? 0) <= (seen.get(expected[1]?.id ?? '')?.firstSeenMs ?? 0));
    assert.deepEqual(seen.get(expected[0]?.id ?? '')?.labels, { namespace: 'ns', pod: 'obs-marker-main' });
    assert.match(timeout ?? '', /2 of 3 marker lines seen so far/);
    assert.equal(server.requests.at(-1)?.query.get('query'), '{namespace="ns"} |= "obsmk-r9"');
    const report = deliveryReport(expected, seen, 3_000);
    assert.deepEqual(report.missing.map((l) => l.seq), [3]);
  });
});
