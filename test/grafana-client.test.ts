/**
 * The Grafana client, the datasource checks and the credential lookup against replayed
 * Grafana API responses (Grafana cannot run here). Bodies follow grafana/grafana
 * docs/sources/developers/http_api/data_source.md (datasources, health, /api/ds/query),
 * docs/sources/developers/http_api/folder_dashboard_search.md and dashboard.md (search,
 * dashboard by uid), pkg/api/login.go (LoginPost: {"message":"Logged in"} + session cookie;
 * 401 "Invalid username or password"; Logout revokes and redirects to /login), and
 * public/app/plugins/datasource/alertmanager/DataSource.ts (health = proxy GET /api/v2/status;
 * its whole rule is tested in grafana-alertmanager-datasource.test.ts). Datasource health
 * messages are the ones Grafana 13.1's backends send: pkg/promlib/healthcheck.go
 * ("Successfully queried the Prometheus API." with `details`, as captured from Grafana 12.3.1)
 * and pkg/tsdb/loki/healthcheck.go ("Data source successfully connected."; on failure
 * "There was an error returned querying the Loki API.: <error>", built by its "%s: %s" format,
 * not captured from a server).
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../fixtures/core/config.ts';
import { checkDatasources, describeDuplicates, describeFailures } from '../fixtures/grafana/datasources.ts';
import { resolveGrafanaCredentials } from '../fixtures/grafana/credentials.ts';
import { GrafanaClient, parseSetCookies } from '../fixtures/grafana/client.ts';
import { redact } from '../fixtures/core/redact.ts';

const USER = 'admin';
const PASSWORD = `pw-${randomUUID()}`;
// Credentials made at run time: nothing that looks like a secret is written in the repo.
const TOKEN = `glsa_${randomUUID().replace(/-/g, '')}`;
const ENV_PASSWORD = `env-${randomUUID()}`;
const SECRET_PASSWORD = `secret-${randomUUID()}`;
const SESSION = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const seen: { method: string; url: string; authorization?: string; cookie?: string; body: string }[] = [];

const datasources = [
  { id: 1, uid: 'prometheus', orgId: 1, name: 'Prometheus', type: 'prometheus', access: 'proxy', url: 'http://kube-prometheus-stack-prometheus.monitoring:9090/', isDefault: true, jsonData: {}, readOnly: true },
  { id: 2, uid: 'alertmanager', orgId: 1, name: 'Alertmanager', type: 'alertmanager', access: 'proxy', url: 'http://kube-prometheus-stack-alertmanager.monitoring:9093/', isDefault: false, jsonData: { implementation: 'prometheus' }, readOnly: true },
  { id: 3, uid: 'loki', orgId: 1, name: 'Loki', type: 'loki', access: 'proxy', url: 'http://loki-stack:3100', isDefault: false, jsonData: {}, readOnly: true },
  { id: 4, uid: 'P8E80F9AEF21F6940', orgId: 1, name: 'loki-stack', type: 'loki', access: 'proxy', url: 'http://loki-stack.monitoring:3100', isDefault: false, jsonData: {}, readOnly: true },
  { id: 5, uid: 'tempo', orgId: 1, name: 'Tempo', type: 'tempo', access: 'proxy', url: 'http://tempo:3100', isDefault: false, jsonData: {}, readOnly: true },
];

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function grafana(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  const authed = req.headers.authorization === basic || req.headers.authorization === `Bearer ${TOKEN}`;
  if (url.pathname === '/login' && req.method === 'POST') {
    const creds = JSON.parse(body) as { user?: string; password?: string };
    if (creds.user !== USER || creds.password !== PASSWORD) return reply(res, 401, { message: 'Invalid username or password' });
    return reply(res, 200, { message: 'Logged in' }, {
      'set-cookie': [`grafana_session=${SESSION}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax`, `grafana_session_expiry=1767225600; Path=/; Max-Age=2592000; SameSite=Lax`, 'redirect_to=; Path=/; Max-Age=0'],
    });
  }
  if (url.pathname === '/logout') return void res.writeHead(302, { location: '/login', 'set-cookie': 'grafana_session=; Path=/; Max-Age=0' }).end();
  if (url.pathname === '/api/health') return reply(res, 200, { commit: '3cbdb4b', database: 'ok', version: '12.1.1' });
  if (!authed) return reply(res, 401, { message: 'Unauthorized' });
  if (url.pathname === '/api/datasources') return reply(res, 200, datasources);
  if (url.pathname === '/api/datasources/uid/prometheus/health') return reply(res, 200, { details: { application: 'Prometheus', features: { rulerApiEnabled: false } }, message: 'Successfully queried the Prometheus API.', status: 'OK' });
  if (url.pathname === '/api/datasources/uid/loki/health') return reply(res, 200, { status: 'OK', message: 'Data source successfully connected.' });
  if (url.pathname === '/api/datasources/uid/P8E80F9AEF21F6940/health') {
    return reply(res, 400, {
      message: 'There was an error returned querying the Loki API.: Get "http://loki-stack.monitoring:3100/loki/api/v1/query?query=vector%281%29%2Bvector%281%29": dial tcp: lookup loki-stack.monitoring on 10.43.0.10:53: no such host',
      status: 'ERROR',
    });
  }
  if (url.pathname === '/api/datasources/proxy/uid/alertmanager/api/v2/status') return reply(res, 200, { cluster: { status: 'ready', peers: [] }, versionInfo: { version: '0.28.1' } });
  if (url.pathname === '/api/search') {
    return reply(res, 200, [
      { id: 12, uid: 'efa86fd1d0c121a26444b636a3f509a8', title: 'Kubernetes / Compute Resources / Cluster', url: '/d/efa86fd1d0c121a26444b636a3f509a8/kubernetes-compute-resources-cluster', type: 'dash-db', tags: ['kubernetes-mixin'], isStarred: false },
    ].filter((h) => !url.searchParams.get('query') || h.title.includes(url.searchParams.get('query') ?? '')));
  }
  if (url.pathname === '/api/dashboards/uid/taskplanner-overview') {
    return reply(res, 200, { dashboard: { uid: 'taskplanner-overview', title: 'TaskPlanner', panels: [] }, meta: { slug: 'taskplanner', provisioned: true, url: '/d/taskplanner-overview/taskplanner' } });
  }
  if (url.pathname.startsWith('/api/dashboards/uid/')) return reply(res, 404, { message: 'Dashboard not found' });
  if (url.pathname === '/api/ds/query') {
    const q = JSON.parse(body) as { queries: { refId: string; expr?: string }[] };
    if (q.queries.some((x) => x.expr?.includes('(('))) return reply(res, 400, { results: { A: { status: 400, error: 'bad_data: invalid parameter "query": 1:2: parse error: unclosed left parenthesis' } } });
    return reply(res, 200, {
      results: {
        A: {
          status: 200,
          frames: [{ schema: { refId: 'A', fields: [{ name: 'Time', type: 'time' }, { name: 'Value', type: 'number', labels: { job: 'taskplanner' } }] }, data: { values: [[1700000000000], [1]] } }],
        },
      },
    });
  }
  return reply(res, 404, { message: 'Not found' });
}

let base = '';
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, cookie: req.headers.cookie, body });
    grafana(req, res, body);
  });
});
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const client = () => new GrafanaClient(base, { kind: 'basic', user: USER, password: PASSWORD }, { timeoutMs: 30_000 });

void describe('GrafanaClient against replayed Grafana API responses', () => {
  void test('API login yields the session cookies, drops cookies being cleared, and registers them for redaction', async () => {
    const cookies = await client().login();
    assert.deepEqual(cookies.map((c) => c.name), ['grafana_session', 'grafana_session_expiry']);
    assert.equal(cookies[0]?.value, SESSION);
    assert.equal(cookies[0]?.httpOnly, true);
    assert.equal(cookies[0]?.sameSite, 'Lax');
    assert.ok((cookies[0]?.expires ?? 0) > Date.now() / 1000 + 29 * 86_400);
    assert.equal(redact(`cookie: grafana_session=${SESSION}`), 'cookie: grafana_session=[REDACTED]');
    const login = seen.findLast((s) => s.url === '/login');
    assert.deepEqual(JSON.parse(login?.body ?? '{}'), { user: USER, password: PASSWORD }, 'the JSON body Grafana’s login form sends');
  });

  void test('a refused login says which user and what to check, and never shows the password', async () => {
    const bad = new GrafanaClient(base, { kind: 'basic', user: USER, password: `wrong-${randomUUID()}` }, { timeoutMs: 30_000 });
    await assert.rejects(bad.login(), (err: Error) => {
      assert.match(err.message, /refused the login of user "admin" \(HTTP 401: Invalid username or password\)\. Check GRAFANA_USER\/GRAFANA_PASSWORD/);
      assert.doesNotMatch(err.message, /wrong-password-42/);
      return true;
    });
    await assert.rejects(new GrafanaClient(base, { kind: 'token', token: TOKEN }).login(), /a token cannot open a session/);
  });

  void test('logout sends the session cookie to /logout so Grafana revokes it', async () => {
    const c = client();
    await c.logout(await c.login());
    assert.equal(seen.findLast((s) => s.url === '/logout')?.cookie, `grafana_session=${SESSION}; grafana_session_expiry=1767225600`);
  });

  void test('search, dashboard by uid (undefined when missing) and /api/ds/query, errors returned not thrown', async () => {
    const c = client();
    const hits = await c.searchDashboards({ query: 'Compute' });
    assert.equal(hits[0]?.uid, 'efa86fd1d0c121a26444b636a3f509a8');
    assert.match(seen.findLast((s) => s.url.startsWith('/api/search'))?.url ?? '', /type=dash-db/);
    assert.equal((await c.dashboardByUid('taskplanner-overview'))?.dashboard.title, 'TaskPlanner');
    assert.equal(await c.dashboardByUid('no-such-dashboard'), undefined);
    const ok = await c.query({ queries: [{ refId: 'A', datasource: { uid: 'prometheus' }, expr: 'up{job="taskplanner"}' }], from: 'now-5m', to: 'now' });
    assert.deepEqual(ok.results.A?.frames?.[0]?.data?.values, [[1700000000000], [1]]);
    const bad = await c.query({ queries: [{ refId: 'A', datasource: { uid: 'prometheus' }, expr: '((up' }], from: 'now-5m', to: 'now' });
    assert.match(bad.results.A?.error ?? '', /unclosed left parenthesis/);
  });

  void test('a token is sent as a bearer token', async () => {
    await new GrafanaClient(base, { kind: 'token', token: TOKEN }).datasources();
    assert.equal(seen.findLast((s) => s.url === '/api/datasources')?.authorization, `Bearer ${TOKEN}`);
  });
});

void describe('datasource checks against replayed Grafana API responses', () => {
  void test('each Prometheus, Alertmanager and Loki datasource gets Grafana’s verdict; other types are left out', async () => {
    const report = await checkDatasources(client());
    assert.deepEqual(report.verdicts.map((v) => `${v.name}:${v.ok}:${v.via}`), [
      'Prometheus:true:health API',
      'Alertmanager:true:datasource proxy',
      'Loki:true:health API',
      'loki-stack:false:health API',
    ]);
    assert.deepEqual(report.missingTypes, []);
    assert.match(describeFailures(report), /"loki-stack" \(loki, uid P8E80F9AEF21F6940, http:\/\/loki-stack\.monitoring:3100\) via health API: There was an error returned querying the Loki API\.: Get .*no such host/);
  });

  void test('Loki configured twice is reported with which one works and whether both point at one URL', async () => {
    const report = await checkDatasources(client());
    assert.equal(report.duplicates.length, 1);
    assert.deepEqual(report.duplicates[0], { type: 'loki', names: ['Loki', 'loki-stack'], working: ['Loki'], failing: ['loki-stack'], sameUrl: false });
    assert.deepEqual(describeDuplicates(report), ['loki is configured 2 times — works: "Loki"; fails: "loki-stack" (different URLs)']);
  });

  void test('a missing type and an unreachable Alertmanager are verdicts, not exceptions', async () => {
    const onlyAm = new GrafanaClient(base, { kind: 'basic', user: USER, password: PASSWORD }, { timeoutMs: 30_000 });
    const am = await import('../fixtures/grafana/datasources.ts').then((m) =>
      m.checkDatasource(onlyAm, { id: 9, uid: 'am-gone', name: 'AM gone', type: 'alertmanager', url: 'http://gone:9093', access: 'proxy', isDefault: false, jsonData: {} }),
    );
    assert.equal(am.ok, false);
    assert.match(am.message, /^Health check failed\. .*GET \/api\/datasources\/proxy\/uid\/am-gone\/api\/v2\/status → HTTP 404.*GET \/api\/datasources\/proxy\/uid\/am-gone\/alertmanager\/api\/v2\/status → HTTP 404/);
    const { summarize } = await import('../fixtures/grafana/datasources.ts');
    assert.deepEqual(summarize([am]).missingTypes, ['prometheus', 'loki']);
  });
});

void describe('Grafana credentials', () => {
  const secret = { 'admin-user': Buffer.from('admin').toString('base64'), 'admin-password': Buffer.from(SECRET_PASSWORD).toString('base64'), 'ldap-toml': '' };
  const never = () => Promise.reject(new Error('the Secret must not be read'));

  void test('the environment wins and the Secret is then not read at all', async () => {
    assert.deepEqual(await resolveGrafanaCredentials(loadConfig({ GRAFANA_TOKEN: TOKEN }), never), { kind: 'token', token: TOKEN });
    assert.deepEqual(await resolveGrafanaCredentials(loadConfig({ GRAFANA_USER: 'u', GRAFANA_PASSWORD: ENV_PASSWORD }), never), { kind: 'basic', user: 'u', password: ENV_PASSWORD });
  });

  void test('without them the chart’s admin Secret is read and decoded, and its password redacted from then on', async () => {
    let asked = '';
    const creds = await resolveGrafanaCredentials(loadConfig({}), (ns, name) => {
      asked = `${ns}/${name}`;
      return Promise.resolve(secret);
    });
    assert.equal(asked, 'monitoring/kube-prometheus-stack-grafana');
    assert.deepEqual(creds, { kind: 'basic', user: 'admin', password: SECRET_PASSWORD });
    assert.equal(redact(`pw=${SECRET_PASSWORD}`), 'pw=[REDACTED]');
  });

  void test('a missing Secret or key says what to set instead', async () => {
    await assert.rejects(resolveGrafanaCredentials(loadConfig({}), () => Promise.resolve(undefined)), /Secret monitoring\/kube-prometheus-stack-grafana does not exist\. Set GRAFANA_ADMIN_SECRET/);
    await assert.rejects(resolveGrafanaCredentials(loadConfig({}), () => Promise.resolve({ 'admin-user': secret['admin-user'] })), /has no admin-password key \(keys present: admin-user\)/);
    await assert.rejects(resolveGrafanaCredentials(loadConfig({}), () => Promise.reject(new Error('forbidden'))), /could not be read: forbidden\n {2}Fix: set GRAFANA_USER and GRAFANA_PASSWORD/);
  });
});

void describe('Set-Cookie parsing', () => {
  void test('attributes are read; expired and emptied cookies are dropped', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const cookies = parseSetCookies(['a=1; Path=/grafana; Secure; SameSite=Strict', 'b=2; Expires=Wed, 01 Jan 2025 00:00:00 GMT', 'c=; Path=/', 'd=4; Expires=Fri, 01 Jan 2027 00:00:00 GMT'], now);
    assert.deepEqual(cookies.map((c) => [c.name, c.path, c.secure, c.sameSite, c.expires]), [
      ['a', '/grafana', true, 'Strict', -1],
      ['d', '/', false, 'Lax', Date.parse('2027-01-01T00:00:00Z') / 1000],
    ]);
  });
});
