/**
 * The Grafana password never reaches a report, trace, screenshot or log. A real
 * `npx playwright test --grep "@OBS-02\b"` runs with a sentinel password against a replayed
 * Grafana (Grafana cannot run here; response shapes from grafana/grafana
 * docs/sources/developers/http_api/ — health, data_source.md, the login form's `POST /login`).
 * The replayed Grafana is hostile on purpose: its answers echo the Authorization header and
 * the decoded credentials back, as a misbehaving proxy or datasource error might. The run's
 * own outcome does not matter (its dashboards do not exist, so its UI tests fail and keep
 * their traces); what is asserted is that the sentinel — raw, URL-encoded, base64, and as
 * the Basic header — appears nowhere in `playwright-report/` or `test-results/`, including
 * inside zip files (traces) and the zip the HTML report embeds as base64.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BASE64_ECHO, LEAK_DASHBOARD, leaksOf, runAgainstHostileGrafana, runTexts, type LeakRun } from './support/leak-check.ts';

const USER = 'admin';
const SENTINEL = `Sentinel-${randomUUID().replace(/-/g, '')}`;
const BASIC = Buffer.from(`${USER}:${SENTINEL}`).toString('base64');
const FORMS = {
  raw: SENTINEL,
  urlEncoded: encodeURIComponent(SENTINEL),
  base64: Buffer.from(SENTINEL).toString('base64'),
  basicHeader: BASIC,
};

void describe('a Playwright run with a sentinel Grafana password against a hostile replayed Grafana', () => {
  let run: LeakRun;
  before(async () => {
    run = await runAgainstHostileGrafana(SENTINEL, { GRAFANA_USER: USER, GRAFANA_PASSWORD: SENTINEL }, ['--trace', 'on']);
  });
  after(async () => {
    await run?.close();
  });

  void it('the run really used the sentinel: Grafana received it in the login and the Basic header', () => {
    assert.ok(run.grafana.requests.some((r) => r.path === '/login' && r.body.includes(SENTINEL)), `no login with the sentinel reached the replayed Grafana; the run printed:\n${run.result.stdout.slice(-3000)}\n${run.result.stderr.slice(-2000)}`);
    assert.ok(run.grafana.requests.some((r) => r.headers.authorization === `Basic ${BASIC}`), 'no API call carried the sentinel in its Basic header');
    assert.ok(run.grafana.requests.some((r) => r.path === `/api/dashboards/uid/${LEAK_DASHBOARD.uid}`), `the hostile dashboard echo was never requested, so the check proves less than it says; the run printed:\n${run.result.stdout.slice(-3000)}`);
  });

  void it('left a report and test results to look at, with the hostile echo in them only redacted', async () => {
    const all = await runTexts(run);
    assert.ok(all.some((t) => t.where.endsWith('index.html')), 'no HTML report was written');
    assert.ok(all.some((t) => /trace\.zip!/.test(t.where)), 'no trace was written (traces are where a leak would hide)');
    assert.ok(all.some((t) => t.text.includes('proxy trace: authorization')), 'the echoed header never reached the report, so redaction was not exercised');
    assert.ok(all.some((t) => t.text.includes(`${BASE64_ECHO} [REDACTED]`)), 'the base64-only echo never reached the report redacted, so the base64 form was not exercised');
  });

  void it('holds the sentinel nowhere: not raw, URL-encoded, base64 or as the Basic header, not in stdout/stderr', async () => {
    const leaks = await leaksOf(run, FORMS);
    assert.deepEqual(
      leaks,
      [],
      'the sentinel Grafana password leaked into the report: some text from a remote answer (or a credential) reached expect() or an attachment without redact() (fixtures/core/redact.ts); the first file named shows which message',
    );
  });
});
