/**
 * Grafana's own Alertmanager datasource check, reproduced by `checkAlertmanager`
 * (fixtures/grafana/datasources.ts), against a real Alertmanager (Debian's
 * prometheus-alertmanager, started by the local stack) behind a replayed Grafana datasource
 * proxy that forwards `/api/datasources/proxy/uid/<uid>/<path>` to it, as Grafana's proxy does.
 *
 * The rule and its messages: public/app/plugins/datasource/alertmanager/DataSource.ts
 * `testDatasource()` in grafana/grafana (read at 6324726506a9101c2fdc50d5c1df1bfecd0c5dba):
 * `implementation: prometheus` expects `/api/v2/status` and fails when
 * `/alertmanager/api/v2/status` answers; any other value, or none ("Defaults to `mimir`",
 * docs/sources/datasources/alertmanager/_index.md), expects `/alertmanager/api/v2/status` and
 * fails when `/api/v2/status` answers; a Mimir Alertmanager without configuration (HTTP 404
 * "the Alertmanager is not configured", Mimir's pkg/alertmanager/multitenant.go) passes when
 * `/api/v1/status/buildinfo` says "Grafana Mimir".
 *
 * Mimir cannot run here: its Alertmanager is imitated by serving the same real Alertmanager
 * under the `/alertmanager` prefix (where Mimir serves the Alertmanager API), and the lazy-config
 * case by Mimir's 404 text and the buildinfo body Grafana's own Go tests replay for Mimir.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALERTMANAGER_MESSAGES, checkAlertmanager, checkDatasource } from '../fixtures/grafana/datasources.ts';
import { GrafanaClient } from '../fixtures/grafana/client.ts';
import { startReplayServer, type RecordedRequest, type ReplayServer, type Reply } from './support/replay-server.ts';
import { startAlertmanager, type LocalService } from './support/local-stack.ts';

const MIMIR_BUILDINFO = {
  status: 'success',
  data: { application: 'Grafana Mimir', version: '2.0.0', revision: '9fd2da5', branch: 'HEAD', goVersion: 'go1.17.8', features: { ruler_config_api: 'true', alertmanager_config_api: 'true' } },
};

void describe("Grafana's Alertmanager datasource rule against a real Alertmanager behind a replayed datasource proxy", () => {
  let am: LocalService;
  let grafana: ReplayServer;
  let client: GrafanaClient;

  /** Forwards to the real Alertmanager, as Grafana's datasource proxy does. */
  const forward = (stripPrefix: string) => async (req: RecordedRequest): Promise<Reply> => {
    const res = await fetch(`${am.url}${req.path.slice(stripPrefix.length)}`);
    return { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'text/plain' }, body: await res.text() };
  };

  before(async () => {
    am = await startAlertmanager();
    grafana = await startReplayServer();
    // A plain (Prometheus) Alertmanager: the real one at the datasource URL's root.
    for (const path of ['/api/v2/status', '/alertmanager/api/v2/status']) grafana.route(`/api/datasources/proxy/uid/plain${path}`, forward('/api/datasources/proxy/uid/plain'));
    // Mimir: the Alertmanager API under /alertmanager, nothing at the root.
    grafana.route('/api/datasources/proxy/uid/mimir/alertmanager/api/v2/status', forward('/api/datasources/proxy/uid/mimir/alertmanager'));
    grafana.route('/api/datasources/proxy/uid/mimir/api/v2/status', { status: 404, headers: { 'content-type': 'text/plain' }, body: '404 page not found\n' });
    // Mimir whose tenant has no Alertmanager configuration yet (lazy init).
    grafana.route('/api/datasources/proxy/uid/mimir-lazy/api/v2/status', { status: 404, headers: { 'content-type': 'text/plain' }, body: '404 page not found\n' });
    grafana.route('/api/datasources/proxy/uid/mimir-lazy/alertmanager/api/v2/status', { status: 404, headers: { 'content-type': 'text/plain' }, body: 'the Alertmanager is not configured\n' });
    grafana.route('/api/datasources/proxy/uid/mimir-lazy/api/v1/status/buildinfo', { body: MIMIR_BUILDINFO });
    client = new GrafanaClient(grafana.url, { kind: 'token', token: `glsa_${randomUUID().replace(/-/g, '')}` }, { timeoutMs: 5_000 });
  });
  after(async () => {
    await grafana?.close();
    await am?.stop();
  });

  const check = (uid: string, jsonData: Record<string, unknown>) => checkAlertmanager(client, { uid, jsonData });

  void it('no implementation set (Grafana reads mimir) on a Prometheus Alertmanager fails with Grafana’s message', async () => {
    const v = await check('plain', {});
    assert.equal(v.ok, false);
    assert.ok(v.message.startsWith(ALERTMANAGER_MESSAGES.mimirChosenButPrometheus), v.message);
    assert.match(v.message, /implementation not set \(Grafana reads it as mimir\); GET \/api\/datasources\/proxy\/uid\/plain\/api\/v2\/status → HTTP 200\) Fix: set jsonData\.implementation: prometheus/);
  });

  void it('"mimir" and "cortex" on a Prometheus Alertmanager fail the same way', async () => {
    for (const implementation of ['mimir', 'cortex']) {
      const v = await check('plain', { implementation });
      assert.equal(v.ok, false, implementation);
      assert.ok(v.message.startsWith(ALERTMANAGER_MESSAGES.mimirChosenButPrometheus), v.message);
    }
  });

  void it('"prometheus" on a Prometheus Alertmanager passes after Grafana’s two probes, in Grafana’s order', async () => {
    const before = grafana.requests.length;
    const v = await check('plain', { implementation: 'prometheus' });
    assert.equal(v.ok, true, v.message);
    assert.ok(v.message.startsWith(ALERTMANAGER_MESSAGES.passed), v.message);
    assert.deepEqual(grafana.requests.slice(before).map((r) => r.path), ['/api/datasources/proxy/uid/plain/alertmanager/api/v2/status', '/api/datasources/proxy/uid/plain/api/v2/status']);
  });

  void it('"prometheus" on a Mimir endpoint fails with Grafana’s message', async () => {
    const v = await check('mimir', { implementation: 'prometheus' });
    assert.equal(v.ok, false);
    assert.ok(v.message.startsWith(ALERTMANAGER_MESSAGES.prometheusChosenButMimir), v.message);
  });

  void it('no implementation, "mimir" or "cortex" on a Mimir endpoint pass', async () => {
    for (const jsonData of [{}, { implementation: 'mimir' }, { implementation: 'cortex' }]) {
      const v = await check('mimir', jsonData);
      assert.equal(v.ok, true, `${JSON.stringify(jsonData)}: ${v.message}`);
    }
  });

  void it('a Mimir Alertmanager without configuration passes only because buildinfo says Grafana Mimir', async () => {
    const v = await check('mimir-lazy', { implementation: 'mimir' });
    assert.equal(v.ok, true, v.message);
    assert.match(v.message, new RegExp(`^${ALERTMANAGER_MESSAGES.passed.replace('.', '\\.')} ${ALERTMANAGER_MESSAGES.lazyConfig.replace('.', '\\.')}`));
    grafana.route('/api/datasources/proxy/uid/mimir-lazy/api/v1/status/buildinfo', { body: { status: 'success', data: { version: '2.42.0' } } });
    const notMimir = await check('mimir-lazy', { implementation: 'mimir' });
    assert.equal(notMimir.ok, false);
    assert.ok(notMimir.message.startsWith(ALERTMANAGER_MESSAGES.failed), notMimir.message);
  });

  void it('nothing answering is "Health check failed." with each probe’s status, a verdict and not an exception', async () => {
    const v = await checkDatasource(client, { id: 9, uid: 'gone', name: 'AM gone', type: 'alertmanager', url: 'http://gone:9093', access: 'proxy', isDefault: false, jsonData: { implementation: 'prometheus' } });
    assert.equal(v.ok, false);
    assert.equal(v.via, 'datasource proxy');
    assert.match(v.message, /^Health check failed\. \(implementation "prometheus"; GET \/api\/datasources\/proxy\/uid\/gone\/alertmanager\/api\/v2\/status → HTTP 404 .*; GET \/api\/datasources\/proxy\/uid\/gone\/api\/v2\/status → HTTP 404/);
  });
});
