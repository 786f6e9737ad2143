/**
 * The sign-off verdicts from synthetic test records: a failed, a passed and a not-run
 * requirement each reported as such, the run signed off only when all eight passed, figures
 * and the stack fingerprint collected from annotations.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REQUIREMENT_IDS, type RequirementId } from '../fixtures/core/requirements.ts';
import { renderMarkdown } from '../reporters/signoff-markdown.ts';
import { EXPECTED_COMPONENTS, summarize, testVerdict, type RunInfo, type TestRecord } from '../reporters/signoff-model.ts';

const full: RunInfo = { status: 'passed', startTime: '2026-11-25T02:17:00.000Z', durationMs: 600_000, selected: [...REQUIREMENT_IDS] };

function rec(title: string, tags: string[], status: TestRecord['status'], extra: Partial<TestRecord> = {}): TestRecord {
  const outcome = status === undefined || status === 'skipped' ? 'skipped' : status === 'passed' ? 'expected' : 'unexpected';
  return { title, project: 'api', location: `e2e/x.spec.ts:1`, tags, status, outcome, durationMs: 1000, retries: 0, annotations: [], ...extra };
}
const figure = (name: string, value: number | string, unit?: string) => ({ type: 'obs-figure', description: JSON.stringify({ name, value, unit }) });
const fp = (component: string, version: string) => ({ type: 'obs-fingerprint', description: JSON.stringify({ component, version }) });
const allPassing = (): TestRecord[] => REQUIREMENT_IDS.map((id) => rec(`${id} holds`, [`@${id}`], 'passed'));
const verdictOf = (s: ReturnType<typeof summarize>, id: RequirementId) => s.requirements.find((r) => r.id === id)?.verdict;

void describe('sign-off model (synthetic records)', () => {
  void it('a failed, a passed and a not-run requirement are each reported as such', () => {
    const tests = [
      rec('targets are up', ['@OBS-01'], 'passed'),
      rec('retention is 7 days', ['@OBS-03'], 'passed'),
      rec('loki is ready', ['@OBS-03'], 'failed', { error: 'expected 200, got 503' }),
      rec('alloy on every node', ['@OBS-04'], 'skipped'),
    ];
    const s = summarize(tests, full);
    assert.equal(verdictOf(s, 'OBS-01'), 'passed');
    assert.equal(verdictOf(s, 'OBS-03'), 'failed');
    assert.equal(verdictOf(s, 'OBS-04'), 'not run');
    assert.equal(verdictOf(s, 'OBS-05'), 'not run');
    assert.match(s.requirements.find((r) => r.id === 'OBS-05')?.reason ?? '', /no test carries this tag/);
    assert.match(s.requirements.find((r) => r.id === 'OBS-04')?.reason ?? '', /none of its 1 test ran/);
    assert.equal(s.signedOff, false);
    assert.ok(s.blockers.some((b) => b.startsWith('OBS-03 failed')));
    assert.ok(s.blockers.some((b) => b.startsWith('OBS-04 not run')));

    const md = renderMarkdown(s);
    assert.match(md, /\*\*NOT SIGNED OFF\*\*/);
    assert.match(md, /\| \*\*OBS-01\*\* [^\n]*\| ✅ passed \|/);
    assert.match(md, /\| \*\*OBS-03\*\* [^\n]*\| ❌ failed \|/);
    assert.match(md, /\| \*\*OBS-04\*\* [^\n]*\| ⚪ not run \|/);
    assert.match(md, /loki is ready \(e2e\/x\.spec\.ts:1\): expected 200, got 503/);
  });

  void it('signed off only when all eight passed; one requirement without a test blocks a full run', () => {
    assert.equal(summarize(allPassing(), full).signedOff, true);
    const withoutOne = allPassing().filter((t) => !t.tags.includes('@OBS-07'));
    const s = summarize(withoutOne, full);
    assert.equal(s.signedOff, false);
    assert.deepEqual(s.blockers, ['OBS-07 not run: no test carries this tag']);
    assert.match(renderMarkdown(summarize(allPassing(), full)), /\*\*SIGNED OFF\*\*/);
  });

  void it('errors outside any test (a spec that does not load) block the sign-off and come first', () => {
    const s = summarize(allPassing(), { ...full, status: 'failed', errors: ['Test has unknown parameter "crashLoopAlert". (obs-06.spec.ts:6)'] });
    assert.equal(s.signedOff, false, 'a spec that did not load may have held more tests of a requirement');
    assert.deepEqual(s.blockers, ['error outside the tests: Test has unknown parameter "crashLoopAlert". (obs-06.spec.ts:6)']);
    assert.match(renderMarkdown(s), /error outside the tests: Test has unknown parameter/);
  });

  void it('a partial run (--grep) is never a sign-off, and names what it selected', () => {
    // The tests a filter left out come from the suite's full list, marked inRun: false.
    const tests = allPassing().map((t) => (t.tags.includes('@OBS-05') ? t : { ...t, status: undefined, outcome: 'skipped' as const, inRun: false }));
    const s = summarize(tests, { ...full, selected: ['OBS-05'], excluded: ['7 of the suite\'s 8 tests left out of this run'] });
    assert.equal(s.run.scope, 'partial');
    assert.equal(verdictOf(s, 'OBS-05'), 'passed');
    assert.equal(s.signedOff, false);
    assert.equal(s.requirements.find((r) => r.id === 'OBS-01')?.reason, 'not selected by this run');
    assert.match(s.blockers[0] ?? '', /^partial run: only OBS-05 selected/);
  });

  void it('a filter that matched no test says so, instead of "only no requirement selected"', () => {
    const tests = allPassing().map((t) => ({ ...t, status: undefined, outcome: 'skipped' as const, inRun: false }));
    const s = summarize(tests, { ...full, selected: [], excluded: ["8 of the suite's 8 tests left out of this run"] });
    assert.equal(s.signedOff, false);
    assert.match(s.blockers[0] ?? '', /^partial run: no test of any requirement selected \(did the filter match nothing\?\)$/);
  });

  void it('a requirement with a skipped test is not shown in full: not run, not passed (OBS-06 stopped at pending)', () => {
    const tests = [
      ...allPassing().filter((t) => !t.tags.includes('@OBS-06')),
      rec('rule loaded, Watchdog in Alertmanager', ['@OBS-06'], 'passed'),
      rec('pending for the pod', ['@OBS-06'], 'passed'),
      rec('fires and reaches Alertmanager', ['@OBS-06'], 'skipped'),
      rec('resolves after removal', ['@OBS-06'], 'skipped'),
    ];
    const s = summarize(tests, full);
    assert.equal(verdictOf(s, 'OBS-06'), 'not run');
    assert.match(s.requirements.find((r) => r.id === 'OBS-06')?.reason ?? '', /only 2 of its 4 tests ran and passed; 2 did not run/);
    assert.equal(s.signedOff, false);
    assert.deepEqual(s.blockers.map((b) => b.slice(0, 14)), ['OBS-06 not run']);
  });

  void it('a run filtered without deselecting a requirement (--grep-invert @ui) is partial, never a sign-off; the requirement that lost a test is not run', () => {
    const tests = [...allPassing(), rec('login page renders', ['@OBS-07', '@ui'], undefined, { inRun: false, project: 'ui' })];
    const s = summarize(tests, { ...full, excluded: ["1 of the suite's 9 tests left out of this run (OBS-07: 1)"] });
    assert.equal(s.run.scope, 'partial');
    assert.equal(s.signedOff, false);
    assert.match(s.blockers[0] ?? '', /^filtered run: 1 of the suite's 9 tests left out/);
    assert.equal(verdictOf(s, 'OBS-07'), 'not run');
    assert.match(s.requirements.find((r) => r.id === 'OBS-07')?.reason ?? '', /1 was left out of this run/);
    assert.equal(s.requirements.find((r) => r.id === 'OBS-07')?.tests[1]?.status, 'left out');
  });

  void it('a failed preflight or setup names its causes, verbatim, on every requirement it blocked', () => {
    const problem = 'grafana (http://grafana.example, needed by OBS-02, OBS-07) is not ready: GET http://grafana.example/api/health → ENOTFOUND\n  Fix: set GRAFANA_URL, or GRAFANA_SERVICE.';
    const dependencies = { preflight: [], setup: ['preflight'], api: ['setup', 'preflight'], ui: ['setup', 'preflight'], teardown: [] };
    const tests = [
      rec('preflight: configuration valid', [], 'failed', { project: 'preflight', error: 'Error: Preflight failed for OBS-02, OBS-07:', causes: [problem] }),
      rec('the run namespace exists', [], undefined, { project: 'setup' }),
      rec('certificate trusted', ['@OBS-07'], undefined),
      rec('login page renders', ['@OBS-07', '@ui'], undefined, { project: 'ui' }),
      rec('datasources healthy', ['@OBS-02'], undefined),
      rec('unrelated failure elsewhere', [], 'failed', { project: 'teardown', causes: ['ledger unreadable'] }),
    ];
    const s = summarize(tests, { ...full, dependencies });
    for (const id of ['OBS-02', 'OBS-07'] as const) {
      const r = s.requirements.find((x) => x.id === id);
      assert.equal(r?.verdict, 'not run');
      assert.deepEqual(r?.blockedBy, [{ test: 'preflight: configuration valid', project: 'preflight', causes: [problem] }], id);
      assert.match(r?.reason ?? '', /^blocked: preflight failed \("preflight: configuration valid"\): grafana \(http:\/\/grafana\.example/);
    }
    assert.equal(s.requirements.find((x) => x.id === 'OBS-01')?.blockedBy, undefined, 'a requirement without tests was not blocked by anything');
    assert.ok(s.blockers.some((b) => b.startsWith('OBS-07 not run: blocked: preflight failed')));
    const md = renderMarkdown(s);
    assert.match(md, /\| \*\*OBS-07\*\* [^\n]*\| ⚪ not run \(blocked by preflight\) \|/);
    assert.ok(md.includes(`\`\`\`text\n${problem}\n\`\`\``), 'the problem verbatim, both lines, under OBS-07');

    // A setup test that failed after preflight passed blocks the same way, with its error as the cause.
    const afterSetup = summarize(
      [rec('preflight', [], 'passed', { project: 'preflight' }), rec('the run namespace exists', [], 'failed', { project: 'setup', causes: ['Server-side apply of Namespace obs-acc-1 was refused: 403 Forbidden'] }), rec('alert fires', ['@OBS-06'], 'skipped')],
      { ...full, dependencies },
    );
    assert.deepEqual(afterSetup.requirements.find((x) => x.id === 'OBS-06')?.blockedBy?.[0]?.causes, ['Server-side apply of Namespace obs-acc-1 was refused: 403 Forbidden']);
  });

  void it('timed out and interrupted tests fail their requirement; flaky and test.fail() pass; never started is not run', () => {
    assert.equal(testVerdict({ status: 'timedOut', outcome: 'unexpected' }), 'failed');
    assert.equal(testVerdict({ status: 'interrupted', outcome: 'unexpected' }), 'failed');
    assert.equal(testVerdict({ status: 'passed', outcome: 'flaky' }), 'passed');
    assert.equal(testVerdict({ status: 'failed', outcome: 'expected' }), 'passed');
    assert.equal(testVerdict({ status: undefined, outcome: 'skipped' }), 'not run');
    const s = summarize([rec('alert fires', ['@OBS-06'], 'passed'), rec('alert resolves', ['@OBS-06'], 'interrupted')], full);
    assert.equal(verdictOf(s, 'OBS-06'), 'failed');
  });

  void it('a test tagged for two requirements counts for both; durations add up per requirement', () => {
    const s = summarize([rec('marker in Grafana', ['@OBS-02', '@OBS-05', '@ui'], 'passed', { durationMs: 2500 }), rec('marker via API', ['@OBS-05'], 'passed', { durationMs: 1500 })], full);
    assert.equal(verdictOf(s, 'OBS-02'), 'passed');
    assert.equal(s.requirements.find((r) => r.id === 'OBS-05')?.durationMs, 4000);
    assert.equal(s.requirements.find((r) => r.id === 'OBS-05')?.tests.length, 2);
  });

  void it('key figures are collected per requirement; malformed annotations are ignored', () => {
    const tests = [
      rec('log delivery', ['@OBS-05'], 'passed', { annotations: [figure('log delivery latency p95', 2.4, 's'), { type: 'obs-figure', description: 'not json' }] }),
      rec('alert timeline', ['@OBS-06'], 'passed', { annotations: [figure('pending after', 31, 's'), figure('firing after', 152, 's')] }),
      rec('certificate', ['@OBS-07'], 'passed', { annotations: [figure('certificate days left', 63, 'days')] }),
      rec('preflight', [], 'passed', { annotations: [figure('preflight took', 1.2, 's')] }),
    ];
    const s = summarize(tests, full);
    assert.deepEqual(s.requirements.find((r) => r.id === 'OBS-05')?.figures, [{ name: 'log delivery latency p95', value: 2.4, unit: 's', test: 'log delivery' }]);
    assert.equal(s.requirements.find((r) => r.id === 'OBS-06')?.figures.length, 2);
    assert.deepEqual(s.otherFigures, [{ name: 'preflight took', value: 1.2, unit: 's', test: 'preflight' }]);
    const md = renderMarkdown(s);
    assert.match(md, /certificate days left: 63 days/);
    assert.match(md, /pending after: 31 s; firing after: 152 s/);
  });

  void it('the stack fingerprint comes from any test, names compared ignoring case; missing components and conflicts are named', () => {
    const s = summarize(
      [
        rec('preflight', [], 'passed', { annotations: [fp('Kubernetes', 'v1.36.1+k3s1'), fp('Prometheus', '3.7.0'), fp('chart/loki', '8.2.0')] }),
        rec('loki is ready', ['@OBS-03'], 'passed', { annotations: [fp('loki', '3.6.7'), fp('prometheus', '3.7.1')] }),
        rec('broken', [], 'passed', { annotations: [{ type: 'obs-fingerprint', description: '{"component":""}' }] }),
      ],
      full,
    );
    assert.deepEqual(s.fingerprint.components.map((c) => `${c.component}=${c.version}`), ['Kubernetes=v1.36.1+k3s1', 'Prometheus=3.7.0', 'loki=3.6.7', 'chart/loki=8.2.0']);
    assert.deepEqual(s.fingerprint.missing, EXPECTED_COMPONENTS.filter((c) => !['kubernetes', 'prometheus', 'loki', 'chart/loki'].includes(c)));
    assert.deepEqual(s.fingerprint.conflicts, [{ component: 'Prometheus', versions: ['3.7.0', '3.7.1'] }]);
    assert.match(renderMarkdown(s), /\| Kubernetes \| v1\.36\.1\+k3s1 \| preflight \|/);
  });

  void it('table cells survive pipes and newlines in titles and errors; typo tags are reported', () => {
    const s = summarize([rec('a | b\nc', ['@OBS-01', '@OBS-9'], 'failed', { error: 'x | y' })], full);
    const md = renderMarkdown(s);
    assert.match(md, /\| a \\\| b c \|/);
    assert.deepEqual(s.unknownRequirementTags, [{ tag: '@OBS-9', test: 'a | b\nc' }]);
  });
});
