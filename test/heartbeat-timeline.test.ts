/**
 * The migration watch's picture, report and settings: the timeline renders to well-formed SVG
 * with one bar per agent segment, gap and duplicate run, in their colours, without a browser
 * and without a Vega warning; the markdown report names every gap and duplicate; a report.json
 * is read back and judged again; HEARTBEAT_MAX_GAP_SECONDS and MIGRATION_REPORT are validated
 * like every other variable; and the heartbeat pod's own script, run with the local `sh`,
 * prints lines the parser reads.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../fixtures/core/config.ts';
import { analyzeHeartbeat, judgeMigration, parseHeartbeatLine, switchProblems, type AgentSample, type HeartbeatAnalysis, type HeartbeatCopy } from '../fixtures/loki/heartbeat.ts';
import { KINDS, renderTimelineSvg, timelineRows } from '../fixtures/loki/heartbeat-timeline.ts';
import { loadMigrationReport, rejudge, renderMarkdown, REPORT_KIND, REPORT_VERSION, writeMigrationReport, type MigrationReport } from '../fixtures/loki/migration-report.ts';
import { runChildOk } from './support/child.ts';

const BASE = Date.UTC(2026, 10, 30, 9, 0, 0);
const w = (seq: number) => BigInt(BASE + seq * 1000) * 1_000_000n;

/** n1: Promtail 1–120, a gap 121–130, Alloy from 131; n2: overlap 100–150, Alloy doubling 200–209 after Promtail left. */
function sampleAnalysis(): HeartbeatAnalysis {
  const copies: HeartbeatCopy[] = [];
  const add = (node: string, agent: string, from: number, to: number, shift = 0n) => {
    for (let s = from; s <= to; s++) copies.push({ node, seq: s, writtenNs: w(s), agent, lokiTsNs: w(s) + shift, firstSeenMs: BASE + s * 1000 + 2000, late: false, labels: {} });
  };
  add('n1', 'promtail', 1, 120);
  add('n1', 'alloy', 131, 300);
  add('n2', 'promtail', 1, 150);
  add('n2', 'alloy', 100, 300);
  add('n2', 'alloy', 200, 209, 5_000_000_000n);
  const agents: AgentSample[] = [
    { atMs: BASE, nodes: { promtail: ['n1', 'n2'], alloy: [] } },
    { atMs: BASE + 99_000, nodes: { promtail: ['n1', 'n2'], alloy: ['n2'] } },
    { atMs: BASE + 151_000, nodes: { promtail: [], alloy: ['n1', 'n2'] } },
  ];
  const last = { seq: 300, writtenMs: BASE + 300_000 };
  return analyzeHeartbeat({ runId: 'r1', nodes: ['n1', 'n2'], startedMs: BASE, endedMs: BASE + 301_000, copies, agents, lastWritten: { n1: last, n2: last } });
}

/** Tags open and close in order, one root, attributes quoted: what an XML parser requires of this SVG. */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  let roots = 0;
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, close, name, , selfClose] = m;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name as string);
    } else if (stack.length === 0) roots++;
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(roots, 1, 'one root element');
  const stripped = svg.replace(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g, '');
  assert.doesNotMatch(stripped, /[<>]/, 'a tag the checker could not read');
  assert.doesNotMatch(stripped, /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/, 'an unescaped &');
}

void describe('the timeline picture (Vega-Lite → SVG in Node)', () => {
  void it('renders one bar per agent segment, duplicate run and gap, in their colours, with a marker at each gap and no warning', async () => {
    const a = sampleAnalysis();
    const warnings: string[] = [];
    const svg = await renderTimelineSvg(a, 'test', warnings);
    assert.deepEqual(warnings, []);
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assertWellFormed(svg);
    const bars = [...svg.matchAll(/<path [^>]*aria-roledescription="bar"[^>]*fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
    const rows = timelineRows(a).bars;
    assert.equal(bars.length, rows.length);
    const count = (kind: string) => bars.filter((c) => c === KINDS[kind]).length;
    assert.deepEqual(
      Object.keys(KINDS).map((k) => [k, count(k)]),
      [['promtail', 2], ['alloy', 2], ['twice while both ran', 1], ['twice after Promtail left', 1], ['missing', 1]],
    );
    // Gaps and late duplicates are marked by a point too, so a one-second gap is visible at any width.
    assert.equal([...svg.matchAll(/aria-roledescription="point"/g)].length, 2);
    // Promtail's departure from each node, as a dashed rule.
    assert.equal([...svg.matchAll(/aria-roledescription="rule mark"/g)].length, 2);
    assert.match(svg, /detail: seq 121–130 missing, 11 s silent/);
    for (const node of ['n1', 'n2']) assert.match(svg, new RegExp(`>${node}<`));
  });
});

void describe('the migration report', () => {
  void it('writes report.md, timeline.svg and report.json; the JSON reads back and is judged again with another limit', async () => {
    const a = sampleAnalysis();
    const report: MigrationReport = {
      kind: REPORT_KIND,
      version: REPORT_VERSION,
      runId: 'r1',
      namespace: 'obs-acc-r1',
      cluster: { context: 'k3d-obs-acceptance', server: 'https://0.0.0.0:6443' },
      loki: 'service monitoring/loki:3100 (in cluster)',
      query: '{namespace="obs-acc-r1"} |= "obs-heartbeat run=r1 "',
      startedAt: new Date(BASE).toISOString(),
      endedAt: new Date(BASE + 301_000).toISOString(),
      maxGapSeconds: 0,
      logMaxDelaySeconds: 120,
      analysis: a,
      verdict: judgeMigration(a, 0),
      switchProblems: switchProblems(a),
      reading: { polls: 60, pages: 61, copies: 1000, notes: [] },
    };
    const dir = await mkdtemp(join(tmpdir(), 'migration-report-'));
    try {
      const paths = await writeMigrationReport(dir, report);
      const md = await readFile(paths.markdown, 'utf8');
      assert.match(md, /^# Promtail → Alloy switch: heartbeat report \(run r1\)\n\n\*\*FAILED\*\*: 2 problems\./);
      assert.match(md, /- node n1: 10 lines missing \(seq 121–130\), 11 s silent from 09:02:00 UTC to 09:02:11 UTC/);
      assert.match(md, /- node n2: 10 lines shipped more than once \(seq 200–209, 20 copies, by alloy\), .*after Promtail was gone/);
      assert.match(md, /\| n1 \| 300 \| 290 \| alloy 170, promtail 120 \| 10 \| 11 s \| 0 \| 0 \|/);
      assert.match(md, /!\[heartbeat timeline per node\]\(timeline\.svg\)/);
      assertWellFormed(await readFile(paths.picture, 'utf8'));
      const back = await loadMigrationReport(paths.json);
      assert.deepEqual(back.analysis.nodes.map((n) => n.gaps.length), [1, 0]);
      assert.equal(rejudge(back, 11).verdict.gaps.length, 0, 'an 11 s gap is within HEARTBEAT_MAX_GAP_SECONDS 11');
      assert.equal(rejudge(back, 11).verdict.duplicates.length, 1, 'duplicates after Promtail left fail whatever the limit');
      assert.match(renderMarkdown({ ...back, ...rejudge(back, 11) }), /\*\*FAILED\*\*: 1 problem\./);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void it('a missing, a non-JSON and a foreign file are refused with what to do', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migration-report-'));
    try {
      await assert.rejects(loadMigrationReport(join(dir, 'none.json')), /MIGRATION_REPORT .*none\.json cannot be read .*npm run migration:watch/);
      await writeFile(join(dir, 'bad.json'), '{');
      await assert.rejects(loadMigrationReport(join(dir, 'bad.json')), /is not JSON/);
      await writeFile(join(dir, 'other.json'), JSON.stringify({ kind: 'something else', version: 1 }));
      await assert.rejects(loadMigrationReport(join(dir, 'other.json')), /is not a report of "npm run migration:watch" \(version 1\): kind "something else"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

void describe('HEARTBEAT_MAX_GAP_SECONDS and MIGRATION_REPORT', () => {
  void it('default to no gap allowed and no report; take a whole number of seconds and a .json path', () => {
    assert.deepEqual(loadConfig({}).migration, { maxGapSeconds: 0, report: undefined });
    assert.deepEqual(loadConfig({ HEARTBEAT_MAX_GAP_SECONDS: '5', MIGRATION_REPORT: 'migration-report/abc/report.json' }).migration, { maxGapSeconds: 5, report: 'migration-report/abc/report.json' });
    assert.equal(loadConfig({ MIGRATION_REPORT: '' }).migration.report, undefined);
  });

  void it('name a bad value and what was expected', () => {
    assert.throws(
      () => loadConfig({ HEARTBEAT_MAX_GAP_SECONDS: '-1', MIGRATION_REPORT: 'migration-report/abc/report.md' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /HEARTBEAT_MAX_GAP_SECONDS: expected 0 or a greater whole number \(got "-1"\)/);
        assert.match(err.message, /MIGRATION_REPORT: expected the report\.json a migration watch wrote/);
        return true;
      },
    );
    assert.throws(() => loadConfig({ HEARTBEAT_MAX_GAP_SECONDS: 'soon' }), /HEARTBEAT_MAX_GAP_SECONDS: expected a whole number/);
    assert.throws(() => loadConfig({ HEARTBEAT_MAX_GAP_SECONDS: '2.5' }), /HEARTBEAT_MAX_GAP_SECONDS: expected a whole number/);
  });

  void it('a misspelt name is warned about with the right one', () => {
    assert.match(loadConfig({ HEARTBEAT_MAX_GAP_SECOND: '3' }).warnings.join('\n'), /HEARTBEAT_MAX_GAP_SECOND is set but is not a variable of this suite.*Did you mean HEARTBEAT_MAX_GAP_SECONDS\?/);
  });
});

void describe('the heartbeat pod script (manifests/heartbeat/heartbeat-pod.yaml) run with the local sh', () => {
  void it('prints numbered lines with its node and write times the parser reads', async () => {
    const doc = parse(await readFile('manifests/heartbeat/heartbeat-pod.yaml', 'utf8')) as { spec: { containers: Array<{ command: string[] }> } };
    const script = doc.spec.containers[0]?.command[2] ?? '';
    const before = BigInt(Date.now() - 1_000) * 1_000_000n;
    const { stdout } = await runChildOk('sh', ['-c', script], { env: { PATH: process.env.PATH, RUN_ID: 'run42', NODE_NAME: 'k3d-obs-agent-1', HEARTBEAT_INTERVAL_SECONDS: '0', HEARTBEAT_LINES: '3' } });
    const afterNs = BigInt(Date.now() + 1_000) * 1_000_000n;
    const lines = stdout.trim().split('\n').map(parseHeartbeatLine);
    assert.equal(lines.length, 3, stdout);
    lines.forEach((h, i) => {
      assert.ok(h, `line ${i + 1} did not parse: ${stdout}`);
      assert.deepEqual([h.runId, h.node, h.seq], ['run42', 'k3d-obs-agent-1', i + 1]);
      assert.ok(h.writtenNs >= before && h.writtenNs <= afterNs, `ts ${h.writtenNs} outside the run`);
    });
  });
});
