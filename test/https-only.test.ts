/**
 * OBS-07 is about HTTPS: no check that says HTTPS passes over plain HTTP. A replayed Grafana
 * served over plain HTTP (response shape of `/api/health` from grafana/grafana
 * docs/sources/developers/http_api/other.md) answers healthy; the HTTPS checks refuse its
 * URL before sending anything, and preflight refuses it for OBS-07 with the fix.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../fixtures/core/config.ts';
import { GrafanaClient } from '../fixtures/grafana/client.ts';
import { checkPlainHttp, checkTls, NotHttpsError, overHttps } from '../fixtures/grafana/tls-check.ts';
import { plainHttpProblems } from '../fixtures/run/preflight.ts';
import { startReplayServer, type ReplayServer } from './support/replay-server.ts';

void describe('HTTPS checks against a healthy Grafana served over plain HTTP (replayed)', () => {
  let grafana: ReplayServer;
  before(async () => {
    grafana = await startReplayServer({ 'GET /api/health': { body: { commit: 'selftest', database: 'ok', version: '12.3.0' } }, 'GET /': { body: 'Grafana' } });
  });
  after(() => grafana.close());

  void it('/api/health "over HTTPS" refuses an http:// URL although the server answers healthy', async () => {
    const client = new GrafanaClient(grafana.url, undefined, { timeoutMs: 5_000 });
    assert.equal((await client.health()).database, 'ok', 'the plain-HTTP Grafana is healthy, so only the scheme can fail the check');
    const before = grafana.requests.length;
    await assert.rejects(
      overHttps(grafana.url, '/api/health over HTTPS', () => client.health()),
      (err: unknown) => err instanceof NotHttpsError && /\/api\/health over HTTPS needs an https:\/\/ URL, but got http:\/\/127\.0\.0\.1:\d+ \(plain HTTP\)/.test(err.message) && /Fix: set GRAFANA_URL to the https:\/\//.test(err.message),
    );
    assert.equal(grafana.requests.length, before, 'nothing is sent over plain HTTP');
  });

  void it('the TLS handshake and the plain-HTTP redirect check refuse an http:// URL', async () => {
    await assert.rejects(checkTls(grafana.url, { minDays: 14 }), NotHttpsError);
    // Handed the plain address, "redirects to HTTPS" would be judged against the server itself.
    await assert.rejects(checkPlainHttp(grafana.url, { timeoutMs: 5_000 }), NotHttpsError);
  });
});

void describe('preflight refuses a plain-HTTP Grafana for OBS-07 only', () => {
  void it('names GRAFANA_URL, what it is, and the fix', () => {
    const config = loadConfig({ GRAFANA_URL: 'http://grafana.example:3000' });
    const [problem, ...more] = plainHttpProblems(config, { requirements: ['OBS-07'] });
    assert.deepEqual(more, []);
    assert.match(problem ?? '', /^OBS-07 checks grafana over HTTPS, but GRAFANA_URL is http:\/\/grafana\.example:3000 \(plain HTTP\): no HTTPS check can pass over it\.\n {2}Fix: set GRAFANA_URL to the https:\/\/ address/);
  });

  void it('refuses a Grafana Service (a plain-HTTP port-forward) for OBS-07; accepts https://; other requirements do not care', () => {
    assert.match(plainHttpProblems(loadConfig({}), { requirements: ['OBS-07'] })[0] ?? '', /grafana is the Service monitoring\/kube-prometheus-stack-grafana:80, reached by a plain-HTTP port-forward/);
    assert.deepEqual(plainHttpProblems(loadConfig({ GRAFANA_URL: 'https://grafana.example' }), { requirements: ['OBS-07'] }), []);
    assert.deepEqual(plainHttpProblems(loadConfig({ GRAFANA_URL: 'http://grafana.example' }), { requirements: ['OBS-02', 'OBS-05'] }), []);
  });
});
