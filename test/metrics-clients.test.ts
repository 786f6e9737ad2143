/**
 * The Prometheus and Alertmanager clients against the real binaries (Debian packages),
 * started by the local stack: nothing here is a stub.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlertmanagerClient } from '../fixtures/alertmanager/client.ts';
import { HttpError } from '../fixtures/core/http.ts';
import { waitFor } from '../fixtures/core/poll.ts';
import { unhealthyTargets } from '../fixtures/run/diagnostics.fixture.ts';
import { PrometheusClient } from '../fixtures/prometheus/client.ts';
import { freePort, startAlertmanager, startPrometheus, type LocalPrometheus, type LocalService } from './support/local-stack.ts';

const RECORDING = `
groups:
  - name: selftest
    interval: 1s
    rules:
      - record: selftest:up:sum
        expr: sum(up)
`;
const RULES = `
groups:
  - name: selftest
    interval: 1s
    rules:
      - alert: SelfTestAlwaysFiring
        expr: vector(1)
        for: 3s
        labels: { severity: warning, selftest: "yes" }
        annotations: { summary: always firing }
      - record: selftest:up:sum
        expr: sum(up)
`;

describe('Prometheus and Alertmanager clients against the real local stack', () => {
  let prom: LocalPrometheus;
  let am: LocalService;
  let client: PrometheusClient;
  let amClient: AlertmanagerClient;
  let closedPort: number;

  before(async () => {
    am = await startAlertmanager();
    closedPort = await freePort();
    prom = await startPrometheus({
      alertmanagerUrl: am.url,
      ruleFiles: { 'selftest.yml': RECORDING },
      scrapeConfigs: [
        // Alertmanager serves /metrics: a real target that is up.
        { job_name: 'self', static_configs: [{ targets: [new URL(am.url).host] }] },
        { job_name: 'nothing-listens', static_configs: [{ targets: [`127.0.0.1:${closedPort}`] }] },
      ],
    });
    client = new PrometheusClient(prom.url);
    amClient = new AlertmanagerClient(am.url);
  });
  after(async () => {
    await prom?.stop();
    await am?.stop();
  });

  it('reports build info and readiness', async () => {
    assert.match((await client.buildInfo()).version, /^\d+\.\d+\.\d+/);
    assert.equal(await client.ready(), true);
  });

  it('sees a target up and a target down, with the last scrape error', async () => {
    const { value: targets } = await waitFor(
      'both targets to be scraped once',
      () => client.targets('active'),
      (t) => (t.activeTargets.length === 2 && t.activeTargets.every((x) => x.health !== 'unknown') ? undefined : `health: ${t.activeTargets.map((x) => x.health).join(',')}`),
      { timeoutMs: 60_000, intervalsMs: [200] },
    );
    const self = targets.activeTargets.find((t) => t.labels.job === 'self');
    const down = targets.activeTargets.find((t) => t.labels.job === 'nothing-listens');
    assert.equal(self?.health, 'up');
    assert.equal(down?.health, 'down');
    assert.match(down?.lastError ?? '', /connection refused/);
  });

  it('summarises the targets that are not up for failure diagnostics', async () => {
    const summary = (await unhealthyTargets(client)) as { active: number; notUp: { job: string; lastError: string }[] };
    assert.equal(summary.active, 2);
    assert.deepEqual(summary.notUp.map((t) => t.job), ['nothing-listens']);
    assert.match(summary.notUp[0]?.lastError ?? '', /connection refused/);
  });

  it('answers instant queries for present and absent series', async () => {
    const { value } = await waitFor('up{job="self"} == 1', () => client.queryValue('up{job="self"}'), (v) => (v === 1 ? undefined : `got ${v}`), { timeoutMs: 60_000 });
    assert.equal(value, 1);
    assert.equal(await client.queryValue('up{job="does-not-exist"}'), undefined);
    assert.equal((await client.series('up{job="nothing-listens"}')).length, 1);
    assert.deepEqual(await client.series('no_such_metric_anywhere'), []);
    const range = await client.queryRange('up{job="self"}', Date.now() / 1000 - 30, Date.now() / 1000, 1);
    assert.equal(range.length, 1);
  });

  it('raises an HttpError that names the query error for bad PromQL', async () => {
    await assert.rejects(client.query('sum(('), (err: unknown) => {
      assert.ok(err instanceof HttpError);
      assert.equal(err.status, 400);
      assert.match(err.message, /bad_data/);
      assert.match(err.message, /\/api\/v1\/query/);
      return true;
    });
  });

  it('lists the loaded rules with their health and group interval', async () => {
    // Loading the alert here, not at start, so the next test sees it begin pending.
    await prom.reload({ ruleFiles: { 'selftest.yml': RULES } });
    const found = await client.alertingRule('SelfTestAlwaysFiring');
    assert.ok(found, 'rule loaded');
    assert.equal(found.group.interval, 1);
    assert.equal(found.rule.duration, 3);
    const { value: groups } = await waitFor('rules evaluated', () => client.ruleGroups(), (g) => (g[0]?.rules.every((r) => r.health === 'ok') ? undefined : 'not evaluated yet'), { timeoutMs: 60_000 });
    assert.equal(groups[0]?.rules.length, 2);
  });

  it('follows an alert from pending to firing and into Alertmanager', async () => {
    const states: string[] = [];
    await waitFor(
      'SelfTestAlwaysFiring to fire',
      async () => (await client.alerts()).find((a) => a.labels.alertname === 'SelfTestAlwaysFiring')?.state ?? 'inactive',
      (state) => {
        if (states.at(-1) !== state) states.push(state);
        return state === 'firing' ? undefined : `state ${state}`;
      },
      { timeoutMs: 60_000, intervalsMs: [200] },
    );
    assert.ok(states.includes('pending'), `pending seen before firing (saw ${states.join(' → ')})`);
    const { value: delivered } = await waitFor(
      'the alert to reach Alertmanager',
      () => amClient.alerts({ alertname: 'SelfTestAlwaysFiring' }),
      (alerts) => (alerts.length === 1 ? undefined : `${alerts.length} alerts`),
      { timeoutMs: 60_000 },
    );
    assert.equal(delivered[0]?.labels.selftest, 'yes');
    assert.equal(delivered[0]?.status.state, 'active');
    assert.deepEqual(await amClient.alerts({ alertname: 'NoSuchAlert' }), []);
    assert.match((await amClient.status()).versionInfo.version, /^\d+\.\d+/);
  });

  it('says which URL did not answer when nothing listens', async () => {
    const dead = new PrometheusClient(`http://127.0.0.1:${closedPort}`, { timeoutMs: 1_000 });
    await assert.rejects(dead.buildInfo(), /GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/status\/buildinfo → ECONNREFUSED/);
  });

  it('says that a port fetch blocks by standard was never tried, instead of a bare "bad port"', async () => {
    const blocked = new PrometheusClient('http://127.0.0.1:1', { timeoutMs: 1_000 });
    await assert.rejects(blocked.buildInfo(), /GET http:\/\/127\.0\.0\.1:1\/api\/v1\/status\/buildinfo → bad port: fetch refuses this port by standard .*nothing was sent, use another port/);
  });
});
