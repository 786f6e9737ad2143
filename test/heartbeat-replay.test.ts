/**
 * The heartbeat analysis of the Promtail → Alloy switch (issue 14) against a replayed Loki:
 * `test/support/loki-replay.ts` answers as Loki 3.6.7 and 2.9.3 did in the captured exchanges
 * (test/captures/loki/, recorded from real Loki built from its tags; first checked here), and
 * each scenario pushes the heartbeat the way each agent labels its streams — Promtail's labels,
 * Alloy's the same plus `shipper="alloy"` (manifests/alloy/config.alloy) — with CRI timestamps.
 * The reader (paged `query_range` through `LokiClient`), the collector, the analysis and the
 * verdict are the suite's own. Boundary: Loki is replayed, not run.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { LokiClient } from '../fixtures/loki/client.ts';
import {
  analyzeHeartbeat,
  formatHeartbeatLine,
  HeartbeatCollector,
  judgeMigration,
  parseHeartbeatLine,
  switchProblems,
  type AgentSample,
  type HeartbeatAnalysis,
  type LastWritten,
} from '../fixtures/loki/heartbeat.ts';
import { readAllEntries } from '../fixtures/loki/paged-read.ts';
import { ReplayLoki, readCapture } from './support/loki-replay.ts';
import { startReplayServer, type ReplayServer } from './support/replay-server.ts';

const sortResult = (r: unknown) => (r as unknown[]).map((s) => JSON.stringify(s)).sort();

void describe('the replay Loki answers as the captured Loki 3.6.7 and 2.9.3 did (test/captures/loki/)', () => {
  const scenarios: Array<{ version: '3.6.7' | '2.9.3'; pushes: string[]; query: string; what: string }> = [
    { version: '3.6.7', pushes: ['A1-push', 'A2-push-again'], query: 'Q-a-same', what: 'the same line twice in one stream: one entry' },
    { version: '3.6.7', pushes: ['B1-push-agent1', 'B2-push-agent2-same'], query: 'Q-b-replay', what: 'a second agent replaying five lines with the same labels: five entries' },
    { version: '3.6.7', pushes: ['C1-push-promtail-labels', 'C2-push-alloy-labels'], query: 'Q-c-labels', what: 'the same line under one more label: two streams, both copies' },
    { version: '3.6.7', pushes: ['D1-push-no-metadata', 'D2-push-with-metadata'], query: 'Q-d-meta', what: 'a second copy carrying structured metadata: dropped, metadata and all' },
    { version: '3.6.7', pushes: ['E1-push', 'E2-push-1ms-later'], query: 'Q-e-ts', what: 'the same line 1 ms apart: two entries' },
    { version: '3.6.7', pushes: ['F1-push-original', 'F2-push-duplicate-after-cut'], query: 'Q-f-cut', what: 'a copy after a head-block cut: one entry' },
    { version: '2.9.3', pushes: ['C1-push-promtail-labels', 'C2-push-alloy-labels'], query: 'Q-c-labels', what: 'Loki 2.9: two streams, no labels added' },
    { version: '2.9.3', pushes: ['D1-push-no-metadata'], query: 'Q-d-meta', what: 'Loki 2.9: one entry' },
  ];
  for (const s of scenarios) {
    void it(`${s.version} ${s.query}: ${s.what}`, () => {
      const loki = new ReplayLoki(s.version, 'dup');
      for (const p of s.pushes) {
        const c = readCapture(`${s.version}-auth/dup/${p}.http`);
        assert.equal(loki.push(c.body ?? '').status, c.status, p);
      }
      const q = readCapture(`${s.version}-auth/dup/${s.query}.http`);
      const reply = loki.queryRange(q.query, q.headers);
      assert.equal(reply.status, q.status);
      const want = (JSON.parse(q.responseBody) as { data: { result: unknown } }).data.result;
      assert.deepEqual(sortResult((reply.body as { data: { result: unknown } }).data.result), sortResult(want));
    });
  }

  void it('2.9.3 refuses a push with structured metadata with its own 400 text', () => {
    const loki = new ReplayLoki('2.9.3', 'dup');
    const c = readCapture('2.9.3-auth/dup/D2-push-with-metadata.http');
    const reply = loki.push(c.body ?? '');
    assert.equal(reply.status, 400);
    assert.equal(String(reply.body).trim(), c.responseBody);
  });

  void it('a limit above max_entries_limit_per_query is a 400 in each version\'s words, no tenant header a 401', () => {
    for (const version of ['3.6.7', '2.9.3'] as const) {
      const c = readCapture(`${version}-auth/22-query-range-limit-5100.http`);
      const reply = new ReplayLoki(version, 'team-a').queryRange(c.query, c.headers);
      assert.deepEqual([reply.status, String(reply.body).trim()], [c.status, c.responseBody]);
    }
    const c = readCapture('3.6.7-auth/24-query-range-no-tenant-header.http');
    const reply = new ReplayLoki('3.6.7', 'team-a').queryRange(c.query, c.headers);
    assert.deepEqual([reply.status, String(reply.body).trim()], [c.status, c.responseBody]);
  });
});

// --- Scenarios: the heartbeat as each agent ships it -------------------------------------

const RUN = 'r14test';
const NS = `obs-acc-${RUN}`;
const BASE_MS = Date.UTC(2026, 10, 30, 9, 0, 0);
/** Written at BASE + seq s (+7 ms, + a few µs); the runtime stamps it 0.5 ms later (the CRI time both agents take). */
const writtenNs = (seq: number) => (BigInt(BASE_MS + seq * 1000 + 7) * 1_000_000n) + 123_456n;
const criNs = (seq: number) => writtenNs(seq) + 500_000n;
const at = (seq: number) => BASE_MS + seq * 1000;

function streamLabels(node: string, agent: 'promtail' | 'alloy'): Record<string, string> {
  const promtail = {
    namespace: NS,
    pod: `obs-heartbeat-${node}`,
    container: 'heartbeat',
    app: 'obs-heartbeat',
    job: `${NS}/obs-heartbeat`,
    node_name: node,
    filename: `/var/log/pods/${NS}_obs-heartbeat-${node}_0a1b2c3d/heartbeat/0.log`,
    stream: 'stdout',
  };
  return agent === 'alloy' ? { ...promtail, shipper: 'alloy' } : promtail;
}

const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** `agent` ships lines `from`…`to` of `node`'s heartbeat to Loki (timestamps from `ts`, the CRI time by default). */
function ship(loki: ReplayLoki, node: string, agent: 'promtail' | 'alloy', from: number, to: number, ts: (seq: number) => bigint = criNs): void {
  loki.pushEntries(streamLabels(node, agent), seqs(from, to).map((seq) => [ts(seq), formatHeartbeatLine({ runId: RUN, node, seq, writtenNs: writtenNs(seq) })]));
}

/** Agent pods per node, sampled at the write time of `seq`. */
const sample = (seq: number, promtail: string[], alloy: string[]): AgentSample => ({ atMs: at(seq) + 500, nodes: { promtail, alloy } });

interface Scenario {
  loki: ReplayLoki;
  server: ReplayServer;
  client: LokiClient;
  collector: HeartbeatCollector;
  pages: number;
  notes: string[];
}

const QUERY = `{namespace=${JSON.stringify(NS)}} |= ${JSON.stringify(`obs-heartbeat run=${RUN} `)}`;

async function scenario(): Promise<Scenario> {
  const loki = new ReplayLoki('3.6.7', 'team-a');
  const server = await startReplayServer({ '/loki/api/v1/query_range': loki.route() });
  return { loki, server, client: new LokiClient(server.url, { tenant: 'team-a', timeoutMs: 30_000 }), collector: new HeartbeatCollector(RUN), pages: 0, notes: [] };
}

/** One poll of the watch at the write time of `seq`: every heartbeat entry in Loki, paged. */
async function poll(s: Scenario, seq: number, late = false): Promise<void> {
  const read = await readAllEntries(s.client, { query: QUERY, startMs: BASE_MS - 60_000, endMs: BASE_MS + 3_600_000, limit: 700 });
  s.collector.add(read.entries, at(seq), late);
  s.pages += read.pages;
  s.notes.push(...read.notes);
}

function analysis(s: Scenario, agents: AgentSample[], lastWritten: Record<string, LastWritten | undefined>, endSeq = 301): HeartbeatAnalysis {
  return analyzeHeartbeat({ runId: RUN, nodes: ['n1', 'n2'], startedMs: at(1), endedMs: at(endSeq), copies: s.collector.copies(), agents, lastWritten });
}

const wrote = (seq: number): LastWritten => ({ seq, writtenMs: Number(writtenNs(seq) / 1_000_000n) });

void describe('heartbeat of the switch, read back from a replayed Loki 3.6.7', () => {
  const open: Scenario[] = [];
  const start = async () => {
    const s = await scenario();
    open.push(s);
    return s;
  };
  after(async () => Promise.all(open.map((s) => s.server.close())));

  void it('a gap at the switch: Promtail removed before Alloy shipped, ten lines lost on n1', async () => {
    const s = await start();
    for (const node of ['n1', 'n2']) ship(s.loki, node, 'promtail', 1, 120);
    await poll(s, 122);
    // Alloy came after Promtail was gone; on n1 it began at the end of the file (lines 121–130 never shipped),
    // on n2 it read the file from the start.
    ship(s.loki, 'n1', 'alloy', 131, 300);
    ship(s.loki, 'n2', 'alloy', 1, 300);
    await poll(s, 302);
    const agents = [sample(0, ['n1', 'n2'], []), sample(120, ['n1', 'n2'], []), sample(121, [], []), sample(125, [], ['n1', 'n2']), sample(300, [], ['n1', 'n2'])];
    const a = analysis(s, agents, { n1: wrote(300), n2: wrote(300) });
    const [n1, n2] = a.nodes;
    assert.deepEqual(n1?.gaps.map((g) => [g.fromSeq, g.toSeq, g.lines, g.seconds, g.open]), [[121, 130, 10, 11, false]]);
    assert.equal(Math.floor(n1?.gaps[0]?.startMs ?? 0), Number(writtenNs(120) / 1_000_000n));
    assert.deepEqual(n2?.gaps, []);
    // n2's Alloy re-shipped what Promtail had shipped, but those lines were written before Promtail left.
    assert.deepEqual(n2?.duplicates.map((d) => [d.fromSeq, d.toSeq, d.agents, d.afterPromtailGone, d.sameTimestamp]), [[1, 120, ['alloy', 'promtail'], false, 120]]);
    assert.deepEqual(n1?.promtail, { seen: true, goneAtMs: at(121) + 500 });
    const verdict = judgeMigration(a, 0);
    assert.equal(verdict.ok, false);
    assert.deepEqual(verdict.problems, ['node n1: 10 lines missing (seq 121–130), 11 s silent from 09:02:00 UTC to 09:02:11 UTC (HEARTBEAT_MAX_GAP_SECONDS 0)']);
    assert.equal(judgeMigration(a, 10).ok, false);
    assert.equal(judgeMigration(a, 11).ok, true, 'a gap of 11 s is within HEARTBEAT_MAX_GAP_SECONDS 11');
    assert.deepEqual(switchProblems(a), []);
  });

  void it('an overlap with duplicates: both agents ship every line while both run, which is no failure', async () => {
    const s = await start();
    for (const node of ['n1', 'n2']) ship(s.loki, node, 'promtail', 1, 200);
    await poll(s, 201);
    for (const node of ['n1', 'n2']) ship(s.loki, node, 'alloy', 1, 300);
    await poll(s, 305);
    const agents = [sample(0, ['n1', 'n2'], []), sample(60, ['n1', 'n2'], ['n1', 'n2']), sample(200, ['n1', 'n2'], ['n1', 'n2']), sample(201, [], ['n1', 'n2']), sample(300, [], ['n1', 'n2'])];
    const a = analysis(s, agents, { n1: wrote(300), n2: wrote(300) });
    for (const n of a.nodes) {
      assert.deepEqual(n.gaps, []);
      assert.equal(n.received, 300);
      assert.equal(n.copies, 500);
      assert.deepEqual(n.duplicates.map((d) => [d.fromSeq, d.toSeq, d.lines, d.copies, d.agents, d.afterPromtailGone, d.sameTimestamp]), [[1, 200, 200, 400, ['alloy', 'promtail'], false, 200]]);
      assert.deepEqual(n.agents.map((x) => [x.agent, x.lines, x.segments.map((g) => [g.fromSeq, g.toSeq])]), [['alloy', 300, [[1, 300]]], ['promtail', 200, [[1, 200]]]]);
      // Alloy's copies of 1–200 showed only at the second poll, 305 s after line 1 was written.
      const alloy = n.agents.find((x) => x.agent === 'alloy');
      assert.deepEqual([alloy?.seenDelay.maxSeq, alloy?.seenDelay.maxMs, alloy?.lokiTsDelay.maxMs], [1, 303_993, 0.5]);
    }
    assert.deepEqual(judgeMigration(a, 0), { ok: true, problems: [], gaps: [], duplicates: [], warnings: [] });
    assert.deepEqual(switchProblems(a), []);
    assert.ok(s.pages >= 2, `500 copies per node in pages of 700 took ${s.pages} pages`);
  });

  void it('a clean switch: Alloy tails from its start, ten seconds of overlap, no line lost', async () => {
    const s = await start();
    for (const node of ['n1', 'n2']) ship(s.loki, node, 'promtail', 1, 150);
    await poll(s, 151);
    for (const node of ['n1', 'n2']) ship(s.loki, node, 'alloy', 141, 300);
    await poll(s, 301);
    const agents = [sample(0, ['n1', 'n2'], []), sample(140, ['n1', 'n2'], ['n1', 'n2']), sample(151, [], ['n1', 'n2']), sample(300, [], ['n1', 'n2'])];
    const a = analysis(s, agents, { n1: wrote(300), n2: wrote(300) });
    for (const n of a.nodes) {
      assert.deepEqual(n.gaps, []);
      assert.deepEqual(n.duplicates.map((d) => [d.fromSeq, d.toSeq, d.afterPromtailGone]), [[141, 150, false]]);
      assert.equal(n.alloyFromMs, at(140) + 500);
    }
    assert.equal(judgeMigration(a, 0).ok, true);
    assert.deepEqual(switchProblems(a), []);
  });

  void it('a node that never came back: Alloy ships nothing on n2 after Promtail left', async () => {
    const s = await start();
    for (const node of ['n1', 'n2']) ship(s.loki, node, 'promtail', 1, 150);
    ship(s.loki, 'n1', 'alloy', 141, 300);
    await poll(s, 301);
    const agents = [sample(0, ['n1', 'n2'], []), sample(140, ['n1', 'n2'], ['n1', 'n2']), sample(151, [], ['n1', 'n2']), sample(300, [], ['n1', 'n2'])];
    const a = analysis(s, agents, { n1: wrote(300), n2: wrote(300) });
    const n2 = a.nodes[1];
    assert.deepEqual(n2?.gaps.map((g) => [g.fromSeq, g.toSeq, g.lines, g.open, g.estimated]), [[151, 300, 150, true, false]]);
    const verdict = judgeMigration(a, 3600);
    assert.equal(verdict.ok, false, 'a node that never came back fails whatever the limit');
    assert.match(verdict.problems.join('\n'), /^node n2: the heartbeat stopped reaching Loki after the line written at 09:02:30 UTC and never came back — 150 lines missing \(seq 151–300\)/);
    assert.deepEqual(switchProblems(a), ['Alloy shipped no heartbeat line of n2 with the shipper="alloy" label (is manifests/alloy/config.alloy deployed as it is?)']);

    // The same, with n2's pod log unreadable (its node gone): the end is counted from the watch's end.
    const blind = analysis(s, agents, { n1: wrote(300), n2: undefined });
    assert.deepEqual(blind.nodes[1]?.gaps.map((g) => [g.fromSeq, g.open, g.estimated]), [[151, true, true]]);
    assert.equal(blind.nodes[1]?.expected.source, 'estimated from the watch end');
    const v2 = judgeMigration(blind, 0);
    assert.match(v2.problems.join('\n'), /node n2: .*never came back.*counted from the watch end/);
    assert.match(v2.warnings.join('\n'), /node n2: its heartbeat pod's log could not be read/);
  });

  void it('duplicates after Promtail is gone fail the watch; a re-read Loki merges does not count', async () => {
    const s = await start();
    for (const node of ['n1', 'n2']) ship(s.loki, node, 'promtail', 1, 100);
    for (const node of ['n1', 'n2']) ship(s.loki, node, 'alloy', 1, 300);
    // A replaced Alloy pod on n1 read 200–210 again with the CRI timestamps: the same entries, kept once by Loki.
    ship(s.loki, 'n1', 'alloy', 200, 210);
    // …and 240–249 stamped with its read time (no cri stage): other entries, kept twice.
    ship(s.loki, 'n1', 'alloy', 240, 249, (seq) => criNs(seq) + 10_000_000_000n);
    await poll(s, 301);
    const agents = [sample(0, ['n1', 'n2'], ['n1', 'n2']), sample(100, [], ['n1', 'n2']), sample(300, [], ['n1', 'n2'])];
    const a = analysis(s, agents, { n1: wrote(300), n2: wrote(300) });
    const n1 = a.nodes[0];
    assert.deepEqual(n1?.duplicates.map((d) => [d.fromSeq, d.toSeq, d.agents, d.afterPromtailGone, d.sameTimestamp]), [
      [1, 100, ['alloy', 'promtail'], false, 100],
      [240, 249, ['alloy'], true, 0],
    ]);
    const verdict = judgeMigration(a, 0);
    assert.deepEqual(verdict.gaps, []);
    assert.deepEqual(verdict.problems, verdict.duplicates);
    assert.deepEqual(verdict.duplicates, ['node n1: 10 lines shipped more than once (seq 240–249, 20 copies, by alloy), written 09:04:00 UTC–09:04:09 UTC, after Promtail was gone; 0 of 10 with one timestamp per line']);
  });

  void it('pages of at most max_entries_limit_per_query, lowered to what Loki names, lose no copy', async () => {
    const s = await start();
    s.loki.maxEntriesLimitPerQuery = 500;
    for (const node of ['n1', 'n2']) {
      ship(s.loki, node, 'promtail', 1, 300);
      ship(s.loki, node, 'alloy', 1, 300);
    }
    await poll(s, 301);
    assert.equal(s.collector.size, 1200);
    assert.deepEqual(s.notes, ['Loki allows at most 500 entries per query (max_entries_limit_per_query); pages hold 500']);
    const limits = s.loki.queries.map((q) => Number(q.get('limit')));
    assert.deepEqual([...new Set(limits)], [700, 500]);
    assert.ok(limits.filter((l) => l === 500).length >= 3, `pages: ${limits.join(', ')}`);
    // Every page after the first starts at the millisecond of the previous page's last entry.
    const starts = s.loki.queries.filter((q) => q.get('limit') === '500').map((q) => BigInt(q.get('start') ?? '0'));
    assert.ok(starts.every((v, i) => i === 0 || v > (starts[i - 1] as bigint)));
  });

  void it('counts one copy per stream entry however often the polls see it, and ignores other runs\' lines', () => {
    const c = new HeartbeatCollector(RUN);
    const e = { labels: streamLabels('n1', 'alloy'), tsNs: criNs(5), line: formatHeartbeatLine({ runId: RUN, node: 'n1', seq: 5, writtenNs: writtenNs(5) }) };
    assert.equal(c.add([e], at(6)), 1);
    // Loki 3 may return the stream split by detected_level: still the same entry.
    assert.equal(c.add([e, { ...e, labels: { ...e.labels, detected_level: 'unknown' } }], at(9)), 0);
    assert.equal(c.add([{ ...e, line: e.line.replace(RUN, 'otherrun') }], at(9)), 0);
    assert.deepEqual(c.copies().map((x) => [x.agent, x.seq, x.firstSeenMs]), [['alloy', 5, at(6)]]);
    assert.deepEqual(parseHeartbeatLine(`2026-11-30T09:00:05.000Z stdout F ${e.line}`), { runId: RUN, node: 'n1', seq: 5, writtenNs: writtenNs(5) });
  });
});

