/**
 * OBS-03's retention judgement against what real Loki 3.6.7 and 2.9.3 answered
 * (test/captures/loki/, README there: versions, commits, configs, requests). A replay server
 * serves the captured bodies, statuses and content types; `readRunningLoki` reads them as the
 * fixture does, `judgeRetention` judges. Boundaries: the version that runs (2.9 without
 * delete_request_store works, 3.x cannot), the retention that applies to each stream
 * (retention_stream rules, priority then shortest; per-tenant limits where Loki ≥ 3.6 serves
 * them), and the evidence excerpt keeping each key under its own section.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { LokiClient } from '../fixtures/loki/client.ts';
import { configExcerpt, lokiVersion, readRunningLoki, type RunningLoki } from '../fixtures/loki/loki-config.ts';
import { judgeRetention, retentionClasses, type RetentionRule } from '../fixtures/loki/retention.ts';
import { parseSelector } from '../fixtures/loki/logql.ts';
import { CAPTURES, captureReply, readCapture } from './support/loki-replay.ts';
import { startReplayServer, type RecordedRequest, type Reply, type ReplayServer } from './support/replay-server.ts';

/** A Loki that answers /config, buildinfo and the tenant limits endpoint from one capture run. */
async function replayLoki(files: { config: string; buildinfo: string; tenantLimits: (req: RecordedRequest) => Reply }): Promise<ReplayServer> {
  return startReplayServer({
    'GET /config': captureReply(files.config),
    'GET /loki/api/v1/status/buildinfo': captureReply(files.buildinfo),
    'GET /config/tenant/v1/limits': files.tenantLimits,
  });
}

/** Tenant limits by X-Scope-OrgID, as Loki 3.6.7 answered them; 401 `no org id` without the header. */
const byTenant = (answers: Record<string, string>, noHeader: string) => (req: RecordedRequest) => {
  const tenant = req.headers['x-scope-orgid'];
  if (typeof tenant !== 'string') return captureReply(noHeader);
  const file = answers[tenant];
  if (!file) throw new Error(`no capture for tenant ${tenant}`);
  return captureReply(file);
};

const servers: ReplayServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));
async function read(files: Parameters<typeof replayLoki>[0], tenant: string | undefined): Promise<{ running: RunningLoki; server: ReplayServer }> {
  const server = await replayLoki(files);
  servers.push(server);
  return { running: await readRunningLoki(new LokiClient(server.url, { timeoutMs: 30_000, ...(tenant ? { tenant } : {}) }), tenant), server };
}
const judge = (r: RunningLoki) => judgeRetention(r.version, r.config, r.tenantLimits, 7);

void describe('Loki 2.9.3 as loki-stack deploys it (retention 1w, shared_store, no delete_request_store)', () => {
  const files = { config: '2.9.3-main/02-config.http', buildinfo: '2.9.3-main/03-buildinfo.http', tenantLimits: () => captureReply('2.9.3-main/04-tenant-limits-fake.http') };

  void it('passes: 2.9 keeps delete requests in compactor.shared_store, and the advice for Loki 3 is a note, not a failure', async () => {
    const { running, server } = await read(files, undefined);
    const j = judge(running);
    assert.deepEqual(j.problems, []);
    assert.equal(running.version.text, '2.9.3');
    const notes = j.notes.join('\n');
    assert.match(notes, /delete_request_store is empty, which Loki 2\.x allows: it keeps delete requests in compactor\.shared_store \(filesystem\)/);
    assert.match(notes, /Before upgrading to Loki 3, set compactor\.delete_request_store: Loki 3 refuses this configuration/);
    // Loki < 3.6 has no tenant limits endpoint: not asked, and the evidence says what could not be seen.
    assert.equal(server.requests.filter((r) => r.path === '/config/tenant/v1/limits').length, 0);
    assert.match(notes, /per-tenant overrides could not be seen \(Loki 2\.9\.3 has no GET \/config\/tenant\/v1\/limits, added in Loki 3\.6\.0\); runtime_config\.file is not set, so there are no per-tenant overrides/);
    assert.deepEqual(j.classes, [{ streams: 'all streams', period: '1w', periodMs: 7 * 86_400_000, by: 'limits_config.retention_period' }]);
  });

  void it('the same /config under a Loki 3 buildinfo fails: Loki 3 would not have started with it (its own startup error quoted)', async () => {
    const { running } = await read({ ...files, buildinfo: '3.6.7-auth/04-buildinfo.http' }, undefined);
    const problems = judge(running).problems.join('\n');
    assert.match(problems, /compactor\.delete_request_store is empty while retention is enabled: Loki 3\.6\.7 would not start with this configuration/);
    // The refusal quoted is the one Loki 3.6.7 logs when started so.
    const startup = readFileSync(join(CAPTURES, '3.6.7-startup-errors/no-delete-request-store.txt'), 'utf8');
    const quoted = /CONFIG ERROR: invalid compactor config: compactor\.delete-request-store should be configured when retention is enabled/;
    assert.match(startup, quoted);
    assert.match(problems, quoted);
  });

  void it('an unknown version is told from /config: compactor.shared_store exists only in Loki 2.x', () => {
    const config = parse(readCapture('2.9.3-main/02-config.http').responseBody) as Record<string, unknown>;
    const v = lokiVersion('main-1a2b3c4', config);
    assert.equal(v.major, 2);
    assert.match(v.source, /buildinfo version "main-1a2b3c4" is not a release number; \/config has compactor\.shared_store, a Loki 2\.x field/);
    assert.deepEqual(judgeRetention(v, config, { tenant: 'fake', unavailable: 'x', failed: false }, 7).problems, []);
  });
});

void describe('Loki 2.9.3 and 3.6.7 with a retention_stream rule {namespace="default"} 24h beside retention_period 1w', () => {
  void it('3.6.7 fails naming the selector and its period, read from the tenant limits (X-Scope-OrgID: team-a)', async () => {
    const { running, server } = await read(
      {
        config: '3.6.7-auth/02-config.http',
        buildinfo: '3.6.7-auth/04-buildinfo.http',
        tenantLimits: byTenant({ 'team-a': '3.6.7-auth/06-tenant-limits-team-a-default.http', 'team-b': '3.6.7-auth/07-tenant-limits-team-b-override.http' }, '3.6.7-auth/08-tenant-limits-no-header.http'),
      },
      'team-a',
    );
    assert.equal(server.requests.find((r) => r.path === '/config/tenant/v1/limits')?.headers['x-scope-orgid'], 'team-a');
    const j = judge(running);
    assert.equal(j.source, 'tenant "team-a" (GET /config/tenant/v1/limits)');
    assert.deepEqual(j.problems, [
      'streams matching {namespace="default"} are kept 1d (24h) by tenant "team-a" (GET /config/tenant/v1/limits).retention_stream {namespace="default"} (priority 1), not 7 days (168h, printed "1w")',
    ]);
  });

  void it("3.6.7 tenant team-b: its own overrides (72h, one kube-system rule) replace the defaults, and both fail", async () => {
    const { running } = await read(
      { config: '3.6.7-auth/02-config.http', buildinfo: '3.6.7-auth/04-buildinfo.http', tenantLimits: byTenant({ 'team-b': '3.6.7-auth/07-tenant-limits-team-b-override.http' }, '3.6.7-auth/08-tenant-limits-no-header.http') },
      'team-b',
    );
    const problems = judge(running).problems;
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0] ?? '', /^streams matching \{namespace="kube-system"\} are kept 2d \(48h\) by .*retention_stream \{namespace="kube-system"\} \(priority 2\)/);
    assert.match(problems[1] ?? '', /^streams no retention_stream rule matches are kept 3d \(72h\) by tenant "team-b" .*retention_period/);
    assert.doesNotMatch(problems.join('\n'), /namespace="default"/);
  });

  void it('2.9.3 fails the same way from /config, and says per-tenant overrides could not be seen (runtime_config.file is set)', async () => {
    const { running } = await read({ config: '2.9.3-auth/02-config.http', buildinfo: '2.9.3-auth/04-buildinfo.http', tenantLimits: () => captureReply('2.9.3-auth/06-tenant-limits-team-a.http') }, 'team-a');
    const j = judge(running);
    assert.deepEqual(j.problems, [
      'streams matching {namespace="default"} are kept 1d (24h) by limits_config.retention_stream {namespace="default"} (priority 1), not 7 days (168h, printed "1w")',
    ]);
    assert.match(j.notes.join('\n'), /per-tenant overrides could not be seen \(Loki 2\.9\.3 has no GET \/config\/tenant\/v1\/limits.*\); runtime_config\.file \/tmp\/loki-run\/cfg\/overrides\.yaml may hold per-tenant overrides, which \/config does not show/);
  });

  void it('a Loki ≥ 3.6 that answers 404 there is judged by /config, and the evidence says why', async () => {
    const { running } = await read({ config: '3.6.7-auth/02-config.http', buildinfo: '3.6.7-auth/04-buildinfo.http', tenantLimits: () => captureReply('2.9.3-auth/06-tenant-limits-team-a.http') }, 'team-a');
    assert.match(judge(running).notes.join('\n'), /GET \/config\/tenant\/v1\/limits answered 404/);
  });
});

void describe('retention set only per tenant or per stream (Loki 3.6.7, retention_period left at 0s)', () => {
  const tenants = { 'team-a': '3.6.7-tenants/03-tenant-limits-team-a.http', 'team-c': '3.6.7-tenants/04-tenant-limits-team-c.http', 'team-d': '3.6.7-tenants/05-tenant-limits-team-d.http' };
  const files = { config: '3.6.7-tenants/01-config.http', buildinfo: '3.6.7-tenants/02-buildinfo.http', tenantLimits: byTenant(tenants, '3.6.7-auth/08-tenant-limits-no-header.http') };

  void it('only per tenant (team-a: 1w, no rules) passes, with no word of "0s"', async () => {
    const j = judge((await read(files, 'team-a')).running);
    assert.deepEqual(j.problems, []);
    assert.equal(j.retentionPeriod, '1w');
  });

  void it('only per stream (team-c: 0s and {namespace=~".+"} 1w, which every agent stream matches) passes', async () => {
    const j = judge((await read(files, 'team-c')).running);
    assert.deepEqual(j.problems, []);
    assert.deepEqual(j.classes.map((c) => `${c.streams}: ${c.period}`), ['streams matching {namespace=~".+"}: 1w']);
  });

  void it('/config alone (0s plus the {namespace=~".+"} rule) passes too: the rule covers every stream an agent ships', () => {
    const config = parse(readCapture('3.6.7-tenants/01-config.http').responseBody) as Record<string, unknown>;
    assert.deepEqual(judgeRetention(lokiVersion('3.6.7', config), config, { tenant: 'team-c', unavailable: 'not asked', failed: false }, 7).problems, []);
  });

  void it('team-d (1w and {namespace="default"} 1d) fails naming the selector', async () => {
    const j = judge((await read(files, 'team-d')).running);
    assert.equal(j.problems.length, 1, j.problems.join('\n'));
    assert.match(j.problems[0] ?? '', /^streams matching \{namespace="default"\} are kept 1d \(24h\)/);
  });

  void it('0s with no rule and no override says the streams are never deleted', () => {
    const classes = retentionClasses('0s', [], 'limits_config');
    const j = judgeRetention(lokiVersion('3.6.7', {}), { compactor: { retention_enabled: true, delete_request_store: 'filesystem' }, limits_config: { retention_period: '0s' } }, { tenant: 'fake', unavailable: 'x', failed: false }, 7);
    assert.deepEqual(classes.map((c) => c.streams), ['all streams']);
    assert.deepEqual(j.problems, ['all streams are never deleted: limits_config.retention_period is 0s (0 means keep forever), not 7 days (168h, printed "1w")']);
  });

  void it('with auth off the limits of tenant "fake" are read, whatever LOKI_TENANT says (3.6.7 like the nightly)', async () => {
    const { running, server } = await read({ config: '3.6.7-main/02-config.http', buildinfo: '3.6.7-main/03-buildinfo.http', tenantLimits: byTenant({ fake: '3.6.7-main/04-tenant-limits-fake.http' }, '3.6.7-auth/08-tenant-limits-no-header.http') }, 'team-x');
    assert.equal(server.requests.find((r) => r.path === '/config/tenant/v1/limits')?.headers['x-scope-orgid'], 'fake');
    assert.match(running.tenant.note, /auth is off .* tenant "fake" and ignores LOKI_TENANT="team-x"/);
    assert.deepEqual(judge(running).problems, []);
  });

  void it('a tenant limits endpoint that fails where it should answer leaves the retention unknown, and says so', async () => {
    const { running } = await read({ ...files, tenantLimits: () => ({ status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: readCapture('3.6.7-auth/25-query-range-multi-tenant-disabled.http').responseBody }) }, 'team-a');
    assert.match(judge(running).problems.join('\n'), /effective limits of tenant "team-a" could not be read, so its retention is unknown: .*HTTP 500/);
  });
});

void describe('which retention_stream rule wins, as the compactor decides (priority, then the shortest period)', () => {
  const rule = (selector: string, priority: number, period: string, periodMs: number): RetentionRule => ({ selector, priority, period, periodMs, matchers: parseSelector(selector) });
  const periods = (rules: RetentionRule[]) => retentionClasses('1w', rules, 'limits_config').map((c) => `${c.streams}: ${c.period}`);

  void it('a higher priority over the same streams wins, even when longer', () => {
    assert.deepEqual(periods([rule('{namespace="default"}', 1, '1d', 86_400_000), rule('{namespace="default"}', 2, '30d', 30 * 86_400_000)]), [
      'streams matching {namespace="default"}: 30d',
      'streams no retention_stream rule matches: 1w',
    ]);
  });

  void it('on equal priority the shortest wins', () => {
    assert.deepEqual(periods([rule('{namespace="default"}', 1, '2d', 2 * 86_400_000), rule('{namespace="default"}', 1, '1d', 86_400_000)]), [
      'streams matching {namespace="default"}: 1d',
      'streams no retention_stream rule matches: 1w',
    ]);
  });

  void it('a rule whose streams a broader, higher-priority rule always takes is left out; a narrower one is not', () => {
    assert.deepEqual(periods([rule('{namespace="default", app="x"}', 1, '1d', 86_400_000), rule('{namespace=~"def.*"}', 2, '1w', 7 * 86_400_000)]), [
      'streams matching {namespace=~"def.*"}: 1w',
      'streams no retention_stream rule matches: 1w',
    ]);
    assert.equal(periods([rule('{namespace="default"}', 1, '1d', 86_400_000), rule('{namespace="default", app="x"}', 2, '1w', 7 * 86_400_000)]).length, 3);
  });

  void it('a lower-priority rule still beats retention_period for the streams it matches', () => {
    assert.deepEqual(periods([rule('{namespace=~".+"}', 0, '1w', 7 * 86_400_000), rule('{app="short"}', 5, '1d', 86_400_000)]), [
      'streams matching {namespace=~".+"}: 1w',
      'streams matching {app="short"}: 1d',
    ]);
  });
});

void describe('the /config evidence excerpt (captured Loki 3.6.7 /config)', () => {
  const config = parse(readCapture('3.6.7-auth/02-config.http').responseBody) as Record<string, unknown>;
  const text = configExcerpt(config, 'GET /config (Loki 3.6.7), retention keys');
  const doc = parse(text) as Record<string, Record<string, unknown>>;

  void it('keeps each key under its section heading, from the parsed document', () => {
    assert.match(text, /^# GET \/config \(Loki 3\.6\.7\), retention keys\n/);
    assert.equal(doc.compactor?.retention_enabled, true);
    assert.equal(doc.compactor?.delete_request_store, 'filesystem');
    assert.equal(doc.limits_config?.retention_period, '1w');
    assert.deepEqual(doc.limits_config?.retention_stream, [{ period: '1d', priority: 1, selector: '{namespace="default"}' }]);
    assert.equal(doc.limits_config?.creation_grace_period, '10m');
    assert.equal(doc.auth_enabled, true);
  });

  void it("leaves out table_manager (its retention_period: 0s is not the compactor's) and every storage section", () => {
    assert.equal(doc.table_manager, undefined);
    assert.equal(doc.storage_config, undefined);
    assert.equal(doc.common, undefined);
    assert.doesNotMatch(text, /secret|access_key|password/i);
  });
});
