/**
 * The hook inside the real stand-in TaskPlanner (SvelteKit 2 + adapter-node build), over
 * HTTP: promtool accepts its output, route values stay bounded, the failing route is
 * counted, and each switch (off, token, separate port) does what the README says.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { http } from '../fixtures/core/http.ts';
import { MetricsPage, TaskPlannerClient } from '../fixtures/app/taskplanner.ts';
import { freePort, startStandin, type Standin } from '../app-hook/standin.ts';
import { promtool } from './support/promtool.ts';

const started: Standin[] = [];
async function standin(env: Record<string, string> = {}): Promise<Standin> {
  const s = await startStandin({ env });
  started.push(s);
  return s;
}

describe('app-hook in the stand-in TaskPlanner', () => {
  let app: Standin;
  let client: TaskPlannerClient;

  before(async () => {
    app = await standin();
    client = new TaskPlannerClient(app.url);
  });
  after(() => Promise.all(started.map((s) => s.stop())));

  it('promtool check metrics finds no problem in /metrics after traffic to every kind of route', async () => {
    await client.send(['/', '/tasks/1', '/tasks/2?x=1', '/api/tasks', '/boom', '/no-such-page', '/tasks/not-a-number']);
    const page = await client.scrape();
    const check = await promtool(['check', 'metrics'], tmpdir(), page.text);
    assert.equal(check.output.trim(), '', 'promtool reported problems');
    assert.equal(check.ok, true);
    assert.deepEqual(page.formatErrors, []);
  });

  it('1,000 distinct ids and 100 unknown paths leave the number of route values unchanged', async () => {
    await client.send(['/tasks/1', '/warm-up-unknown-path']);
    const before = (await client.scrape()).labelValues('http_requests_total', 'route');
    const ids = Array.from({ length: 1_000 }, (_, i) => `/tasks/${500_000 + i}?ref=${i}`);
    const unknown = Array.from({ length: 100 }, (_, i) => `/unknown-${i}/deeper?q=${i}`);
    const statuses = await client.send([...ids, ...unknown], 16);
    const after = (await client.scrape()).labelValues('http_requests_total', 'route');
    assert.deepEqual(statuses, { 200: 1_000, 404: 100 });
    assert.deepEqual(after, before);
    assert.ok(after.includes('/tasks/[id]') && after.includes('unmatched'), `route values: ${after.join(', ')}`);
  });

  it('counts the route that fails with 500 under its template and status 500', async () => {
    const count = async () => (await client.scrape()).sum('http_requests_total', { method: 'GET', route: '/boom', status_code: '500' });
    const before = await count();
    assert.deepEqual(await client.send(['/boom', '/boom', '/boom']), { 500: 3 });
    assert.equal((await count()) - before, 3);
  });

  it('does not count scrapes of /metrics or health probes as traffic', async () => {
    const total = async () => (await client.scrape()).sum('http_requests_total');
    const before = await total();
    await client.send(['/healthz', '/healthz', '/metrics']);
    assert.equal((await total()) - before, 0);
  });

  it('METRICS_ENABLED=false leaves the app serving and takes /metrics away', async () => {
    const off = await standin({ METRICS_ENABLED: 'false' });
    const offClient = new TaskPlannerClient(off.url);
    assert.deepEqual(await offClient.send(['/', '/api/tasks', '/metrics']), { 200: 2, 404: 1 });
  });

  it('METRICS_TOKEN protects /metrics; METRICS_PORT moves it off the app port', async () => {
    const token = `t-${randomUUID()}`;
    const port = await freePort();
    const guarded = await standin({ METRICS_TOKEN: token });
    const separate = await standin({ METRICS_PORT: String(port) });
    const unauthenticated = await http({ url: `${guarded.url}/metrics`, acceptStatus: [401] });
    const authenticated = await new TaskPlannerClient(guarded.url, { token }).scrape();
    assert.equal(unauthenticated.status, 401);
    assert.ok(authenticated.types.get('http_requests_total') === 'counter');
    assert.deepEqual(await new TaskPlannerClient(separate.url).send(['/metrics']), { 404: 1 });
    const onPort = await http({ url: `http://127.0.0.1:${port}/metrics`, retries: 3 });
    assert.equal(new MetricsPage(onPort.text, '').types.get('process_cpu_seconds_total'), 'counter');
  });
});
