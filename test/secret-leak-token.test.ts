/**
 * A Grafana service-account token (GRAFANA_TOKEN) never reaches a report, trace or log. Same
 * hostile replayed Grafana and scan as test/secret-leak.test.ts, but with a sentinel token: the
 * browser tests send it as an Authorization header, which Playwright traces record verbatim, so
 * playwright.config.ts turns the ui project's trace off when a token is configured.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BASE64_ECHO, LEAK_DASHBOARD, leaksOf, runAgainstHostileGrafana, runTexts, type LeakRun } from './support/leak-check.ts';

const SENTINEL = `glsa_Sentinel${randomUUID().replace(/-/g, '')}`;
const FORMS = {
  raw: SENTINEL,
  urlEncoded: encodeURIComponent(SENTINEL),
  base64: Buffer.from(SENTINEL).toString('base64'),
};

void describe('a Playwright run with a sentinel Grafana token against a hostile replayed Grafana', () => {
  let run: LeakRun;
  before(async () => {
    run = await runAgainstHostileGrafana(SENTINEL, { GRAFANA_TOKEN: SENTINEL });
  });
  after(async () => {
    await run?.close();
  });

  void it('the run really used the sentinel: API calls and the browser carried it as a Bearer header', () => {
    const bearer = run.grafana.requests.filter((r) => r.headers.authorization === `Bearer ${SENTINEL}`);
    assert.ok(bearer.some((r) => r.path.startsWith('/api/')), `no API call carried the sentinel token; the run printed:\n${run.result.stdout.slice(-3000)}\n${run.result.stderr.slice(-2000)}`);
    assert.ok(bearer.some((r) => !r.path.startsWith('/api/')), 'no browser request carried the token, so the trace path was not exercised');
    assert.ok(bearer.some((r) => r.path === `/api/dashboards/uid/${LEAK_DASHBOARD.uid}`), 'the hostile dashboard echo was never requested with the token, so the check proves less than it says');
  });

  void it('left a report and test results to look at, with the hostile echo in them only redacted', async () => {
    const all = await runTexts(run);
    assert.ok(all.some((t) => t.where.endsWith('index.html')), 'no HTML report was written');
    assert.ok(all.some((t) => t.text.includes('proxy trace: authorization')), 'the echoed header never reached the report, so redaction was not exercised');
    assert.ok(all.some((t) => t.text.includes(`${BASE64_ECHO} [REDACTED]`)), 'the base64-only echo never reached the report redacted, so the base64 form was not exercised');
  });

  void it('holds the sentinel nowhere: not raw, URL-encoded or base64, not in stdout/stderr', async () => {
    const leaks = await leaksOf(run, FORMS);
    assert.deepEqual(
      leaks,
      [],
      'the sentinel Grafana token leaked into the report (a trace of a browser test holds its Authorization header unless trace is off): some text from a remote answer (or a credential) reached expect() or an attachment without redact() (fixtures/core/redact.ts); the first file named shows which message',
    );
  });
});
