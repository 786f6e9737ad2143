/**
 * The Explore page object (fixtures/grafana/explore-page.ts) in a real Chromium, against a
 * replayed Grafana that serves an imitation of Explore and answers its `POST /api/ds/query`.
 * The imitation is built from Grafana 13.1's own markup, as read from its sources:
 * - query rows: @grafana/e2e-selectors 13.1.0 `QueryEditorRows.rows` = `data-testid Query editor
 *   row` and `QueryEditorRow.title(refId)` = `data-testid Query editor row title <refId>` (before
 *   13.1.0 both were aria-labels: public/app/features/query/components/QueryEditorRow.tsx at
 *   grafana/grafana 5a8a20a3a91d56980b2ce4af798e83e033fd68ac), the literal `query-editor-row` class;
 * - the row error: public/app/features/query/components/QueryErrorAlert.tsx (grafana/grafana
 *   06157d457c156001cbcc0b620d7da977e264a7e5): a wrapper, an icon div holding @grafana/ui 13.1.0
 *   Icon's `<svg data-testid="icon-exclamation-triangle">` (the test id only once the SVG has
 *   loaded), the backend's text; no test id, role or aria-label of its own;
 * - the pane error, only for errors without a refId: ErrorContainer → @grafana/ui 13.1.0 Alert
 *   (`role="alert"`, `data-testid Alert error`); ResponseErrorContainer.tsx returns nothing for an
 *   error with a refId ("Errors with ref ids are shown below the corresponding query");
 * - the log list: public/app/features/logs/components/panel/LogList.tsx (react-window
 *   VariableSizeList; only the rows in view are in the DOM; newest first).
 * The `/api/ds/query` bodies: a Loki error passes through Grafana's Loki backend as the result's
 * `error` with `errorSource: "downstream"` and HTTP 400 (pkg/tsdb/loki/api.go; derived from the
 * code, not captured from a server); Loki's own texts ("parse error at line 1, col 1: syntax
 * error: unexpected IDENTIFIER", "max entries limit per query exceeded, limit >
 * max_entries_limit_per_query (5100 > 5000)") are never translated. Log frames use the legacy
 * layout of pkg/tsdb/loki/frame.go.
 * This checks the page object, not Grafana: OBS-05's UI test runs it on the real Explore.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from '@playwright/test';
import { ExplorePage, narrowTo, sampleForScreen } from '../fixtures/grafana/explore-page.ts';
import { escapeRegex, logQuery } from '../fixtures/loki/logql.ts';
import { startReplayServer, type RecordedRequest, type ReplayServer, type Reply } from './support/replay-server.ts';

const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
const LINES = 12;
const id = (n: number) => `obsmk-r1-w0-${n}`;
const markerLine = (n: number) => `obs-acceptance marker run=r1 id=${id(n)} seq=${n} of=${LINES} written_ns=${1_700_000_000_000_000_000 + n}`;
const onScreen = (n: number) => new RegExp(`id=${escapeRegex(id(n))} seq=`);
const BASE_QUERY = logQuery({ namespace: 'obs-acc-r1', pod: 'obs-marker-w0' }).contains('obsmk-r1-w0-').toString();
const PARSE_ERROR = 'parse error at line 1, col 1: syntax error: unexpected IDENTIFIER';
const MAX_ENTRIES = 'max entries limit per query exceeded, limit > max_entries_limit_per_query (5100 > 5000)';

/** What the replayed Grafana does for the next page. */
const state = { markup: '13.1' as '13.1' | '13.0', iconLoaded: true, wholeCallFails: false, volumeFails: false, toast: false };

/** Explore as Grafana 13.1 (or ≤ 13.0) draws it; the script plays Explore's part: query, then draw the answer. */
function explorePage(): string {
  const row =
    state.markup === '13.1'
      ? { wrapper: 'data-testid="data-testid Query editor row"', title: 'data-testid="data-testid Query editor row title A"' }
      : { wrapper: 'data-testid="query-editor-row" aria-label="Query editor row"', title: 'aria-label="Query editor row title A" data-testid="query-name-div"' };
  const icon = state.iconLoaded ? '<svg data-testid="icon-exclamation-triangle" aria-hidden="true" width="16" height="16"></svg>' : '<svg width="16" height="16"></svg>';
  return `<!doctype html><html><body>
${state.toast ? '<div class="page-toasts"><div role="alert" aria-label="Failed to load plugin"><div data-testid="data-testid Alert error">Failed to load plugin</div></div></div>' : ''}
<div data-testid="data-testid Explore">
  <div ${row.wrapper}>
    <div class="css-wrapper">
      <div><button ${row.title} title="Edit query name" type="button"><span>A</span></button></div>
      <div class="css-content"><div class="query-editor-row" id="A_1"><div class="loki-editor"></div></div></div>
    </div>
  </div>
  <div id="pane-error"></div>
  <div class="css-logList" id="logs" style="position: relative; height: 88px; width: 100%; overflow-y: scroll;"></div>
</div>
<script>
const panes = JSON.parse(new URL(location.href).searchParams.get('panes'));
const paneId = Object.keys(panes)[0];
const pane = panes[paneId];
const q = pane.queries[0];
document.querySelector('.loki-editor').textContent = q.expr;
const ask = (queries) => fetch('/api/ds/query?ds_type=loki&requestId=explore_' + paneId, {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ queries, from: pane.range.from, to: pane.range.to }),
});
ask([{ refId: 'log-volume-A', expr: 'sum by (level) (count_over_time(' + q.expr + ' [1m]))', queryType: 'range', supportingQueryType: 'logsVolume', datasource: q.datasource }]);
ask([{ refId: q.refId, expr: q.expr, queryType: 'range', maxLines: 1000, datasource: q.datasource }]).then(async (res) => {
  const body = await res.json().catch(() => ({}));
  const result = body.results && body.results[q.refId];
  if (result && result.error) {
    document.querySelector('.query-editor-row').insertAdjacentHTML('beforeend',
      '<div class="css-qea-wrapper"><div class="css-qea-icon">${icon.replace(/"/g, '\\"')}</div><div class="css-qea-message"></div></div>');
    document.querySelector('.css-qea-message').textContent = result.error;
    return;
  }
  if (!res.ok) {
    document.getElementById('pane-error').innerHTML = '<div role="alert" aria-label="Query error"><div data-testid="data-testid Alert error"><span>Query error</span><div class="msg"></div></div></div>';
    document.querySelector('#pane-error .msg').textContent = body.message || res.statusText;
    return;
  }
  const frame = result.frames[0];
  const lines = frame ? frame.data.values[2].map((line, i) => ({ line, t: frame.data.values[1][i] })) : [];
  lines.sort((a, b) => b.t - a.t);   // newest first, Explore's default order
  const ROW = 22, IN_VIEW = 4, OVERSCAN = 2;
  const list = document.getElementById('logs');
  list.innerHTML = '<div style="height: ' + lines.length * ROW + 'px; width: 100%;"></div>';
  lines.slice(0, IN_VIEW + OVERSCAN).forEach((l, i) => {
    list.firstChild.insertAdjacentHTML('beforeend', '<div style="position: absolute; left: 0px; top: ' + i * ROW + 'px; height: ' + ROW + 'px; width: 100%;"><div class="css-logLine"><div class="css-wrappedLogLine"><span class="field">' + new Date(l.t).toISOString() + '</span><span class="field no-highlighting"></span></div></div></div>');
    list.firstChild.lastChild.querySelector('.no-highlighting').textContent = l.line;
  });
});
</script></body></html>`;
}

/** Loki behind Grafana's `/api/ds/query`: `|= "…"` filters applied to the marker lines. */
function dsQuery(req: RecordedRequest): Reply {
  const { queries } = JSON.parse(req.body) as { queries: Array<{ refId: string; expr: string }> };
  if (state.wholeCallFails) return { status: 500, body: { message: 'Query data error', traceID: '' } };
  const results: Record<string, unknown> = {};
  let failed = false;
  for (const q of queries) {
    if (q.refId.startsWith('log-volume-')) {
      results[q.refId] = state.volumeFails ? { error: MAX_ENTRIES, errorSource: 'downstream', status: 400 } : { frames: [] };
      failed ||= state.volumeFails;
      continue;
    }
    if (q.expr.includes('((')) {
      results[q.refId] = { error: PARSE_ERROR, errorSource: 'downstream', status: 400 };
      failed = true;
      continue;
    }
    const filters = [...q.expr.matchAll(/\|= ("(?:[^"\\]|\\.)*")/g)].map((m) => JSON.parse(m[1] ?? '""') as string);
    const rows = Array.from({ length: LINES }, (_, i) => i + 1).filter((n) => filters.every((f) => markerLine(n).includes(f)));
    const labels = JSON.stringify({ namespace: 'obs-acc-r1', pod: 'obs-marker-w0' });
    results[q.refId] = {
      status: 200,
      frames: [
        {
          schema: { refId: q.refId, meta: { custom: { frameType: 'LabeledTimeValues' } }, fields: [{ name: 'labels', type: 'other' }, { name: 'Time', type: 'time' }, { name: 'Line', type: 'string' }, { name: 'tsNs', type: 'string' }, { name: 'id', type: 'string' }] },
          data: { values: [rows.map(() => labels), rows.map((n) => 1_700_000_000_000 + n * 1000), rows.map(markerLine), rows.map((n) => `${1_700_000_000_000 + n * 1000}000000`), rows.map((n) => `id-${n}`)] },
        },
      ],
    };
  }
  return { status: failed ? 400 : 200, body: { results } };
}

void describe('Explore page object in Chromium (Grafana 13.1 Explore markup, replayed /api/ds/query)', { skip: executablePath ? false : 'no Chromium here (set CHROMIUM_PATH)' }, () => {
  let browser: Browser;
  let page: Page;
  let grafana: ReplayServer;
  before(async () => {
    grafana = await startReplayServer({
      'GET /explore': () => ({ headers: { 'content-type': 'text/html' }, body: explorePage() }),
      'POST /api/ds/query': dsQuery,
    });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await grafana?.close();
  });
  const fresh = async (version: string, options: Partial<typeof state> = {}) => {
    Object.assign(state, { markup: '13.1', iconLoaded: true, wholeCallFails: false, volumeFails: false, toast: false }, options);
    await page?.close();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    return new ExplorePage(page, grafana.url, version);
  };
  const open = (explore: ExplorePage, expr: string) => explore.open({ datasourceUid: 'loki', expr, from: 1_700_000_000_000, to: 1_700_000_600_000, paneId: 'p1x' });

  void it('a Loki error under the query row is found, naming the query and why (13.1 row markup)', async () => {
    const explore = await fresh('13.1.0');
    const bad = `${BASE_QUERY} ((`;
    await open(explore, bad);
    const outcome = await explore.outcome(10_000);
    assert.deepEqual(outcome.errors, [`query A (${bad}) failed: ${PARSE_ERROR} (HTTP 400, error source downstream: it comes from the datasource (Loki) itself; shown under the query row)`]);
    assert.equal(await explore.rowError('A').count(), 1);
    // What the suite looked at before: the pane Alert, which Grafana does not draw for a refId error.
    assert.equal(await explore.container().getByTestId('data-testid Alert error').count(), 0);
  });

  void it('the same on Grafana ≤ 13.0, whose rows carry aria-labels', async () => {
    const explore = await fresh('12.3.0', { markup: '13.0' });
    await open(explore, `${BASE_QUERY} ((`);
    const outcome = await explore.outcome(10_000);
    assert.equal(outcome.errors.length, 1);
    assert.match(outcome.errors[0] ?? '', /^query A .* failed: parse error at line 1.*; shown under the query row\)$/);
    assert.equal(await explore.queryRow('A').count(), 1);
  });

  void it('the row error is seen on screen before its icon has loaded, by the backend’s text', async () => {
    const explore = await fresh('13.1.0', { iconLoaded: false });
    await open(explore, `${BASE_QUERY} ((`);
    const outcome = await explore.outcome(10_000);
    assert.match(outcome.errors[0] ?? '', /shown under the query row\)$/);
  });

  void it('a whole failed call (no refId) is the pane’s error container', async () => {
    const explore = await fresh('13.1.0', { wholeCallFails: true });
    await open(explore, BASE_QUERY);
    const outcome = await explore.outcome(10_000);
    assert.ok(outcome.errors.some((e) => e.startsWith(`query A (${BASE_QUERY}) failed: Query data error (HTTP 500`)), outcome.errors.join('\n'));
    assert.ok(outcome.errors.includes('Explore shows a query error for the whole pane: Query error Query data error'), outcome.errors.join('\n'));
  });

  void it('a good query has no error; an error toast outside Explore and a failed logs volume are not query errors', async () => {
    const explore = await fresh('13.1.0', { toast: true, volumeFails: true });
    await open(explore, BASE_QUERY);
    const outcome = await explore.outcome(10_000);
    assert.deepEqual(outcome.errors, []);
    assert.deepEqual(outcome.supplementaryErrors, [`log-volume-A (sum by (level) (count_over_time(${BASE_QUERY} [1m]))): ${MAX_ENTRIES}`]);
    assert.equal(await explore.logLine(onScreen(12)).isVisible(), true);
  });

  void it('no answer at all is the verdict, not an exception', async () => {
    const explore = await fresh('13.1.0');
    await page.route('**/api/ds/query**', (route) => route.abort());
    await open(explore, BASE_QUERY);
    const silent = await explore.outcome(1_500);
    assert.match(silent.errors[0] ?? '', /^query A .*: Explore got no \/api\/ds\/query answer within 1\.5 s/);
  });

  void it('the virtualised list hides most of one big answer; one query per sampled marker shows each on screen', async () => {
    const explore = await fresh('13.1.0');
    await open(explore, BASE_QUERY);
    assert.deepEqual((await explore.outcome(10_000)).errors, []);
    const inDom = [];
    for (let n = 1; n <= LINES; n++) if ((await explore.logLine(onScreen(n)).count()) > 0) inDom.push(n);
    assert.deepEqual(inDom, [7, 8, 9, 10, 11, 12], 'only the newest rows in view (and overscan) are in the DOM: line 1 is not');

    const sample = sampleForScreen(Array.from({ length: LINES }, (_, i) => i + 1));
    assert.deepEqual(sample, [1, 4, 7, 9, 12]);
    for (const n of sample) {
      await open(explore, narrowTo(BASE_QUERY, `id=${id(n)} seq=`));
      assert.deepEqual((await explore.outcome(10_000)).errors, [], `marker ${n}`);
      assert.equal(await explore.logLine(onScreen(n)).isVisible(), true, `marker ${n} on screen through its own query`);
    }
    const sent = grafana.requests.filter((r) => r.path === '/api/ds/query').map((r) => (JSON.parse(r.body) as { queries: Array<{ expr: string }> }).queries[0]?.expr);
    assert.ok(sent.includes(`${BASE_QUERY} |= "id=obsmk-r1-w0-1 seq="`), 'marker 1 was asked for by its own line filter');
  });

  void it('a sample is every line up to five, else the first, the last and evenly spaced lines', () => {
    assert.deepEqual(sampleForScreen([1, 2, 3]), [1, 2, 3]);
    assert.deepEqual(sampleForScreen(Array.from({ length: 1700 }, (_, i) => i + 1)), [1, 426, 851, 1275, 1700]);
    assert.equal(narrowTo('{a="b"} |= "x"', 'id=obsmk-1 seq='), '{a="b"} |= "x" |= "id=obsmk-1 seq="');
  });
});
