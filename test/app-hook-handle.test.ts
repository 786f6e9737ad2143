/**
 * The hook's `handle` called directly, with SvelteKit's own `error()`/`redirect()` and
 * prom-client's real registry: what it counts, what it answers, what it re-throws, and
 * that switched off it does nothing at all. The request event is a minimal literal; the
 * stand-in tests (app-hook-standin.test.ts) cover the same through a real SvelteKit server.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { error, redirect, type RequestEvent, type ResolveOptions } from '@sveltejs/kit';
import { register as globalRegistry } from 'prom-client';
import { createMetricsHook, resolveOptions, type MetricsHook, type MetricsHookOptions } from '../app-hook/src/index.ts';
import { http } from '../fixtures/core/http.ts';
import { freePort } from '../app-hook/standin.ts';

type Resolve = (event: RequestEvent, opts?: ResolveOptions) => Response | Promise<Response>;

function event(path: string, routeId: string | null, init: { method?: string; headers?: Record<string, string>; subRequest?: boolean } = {}): RequestEvent {
  const url = new URL(path, 'http://taskplanner.test');
  return {
    url,
    route: { id: routeId },
    request: new Request(url, { method: init.method ?? 'GET', headers: init.headers }),
    isSubRequest: init.subRequest ?? false,
  } as unknown as RequestEvent;
}

const answer =
  (status: number): Resolve =>
  () =>
    new Response('body', { status });

async function call(hook: MetricsHook, ev: RequestEvent, resolve: Resolve): Promise<Response> {
  return hook.handle({ event: ev, resolve });
}

/** `http_requests_total` as { "GET /tasks/[id] 200": 2 }. */
async function counts(hook: MetricsHook): Promise<Record<string, number>> {
  const metric = await hook.registry.getSingleMetric('http_requests_total')?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [`${String(v.labels.method)} ${String(v.labels.route)} ${String(v.labels.status_code)}`, v.value]));
}

const quiet: MetricsHookOptions = { enabled: true, defaultMetrics: false };

describe('app-hook handle', () => {
  it('labels by route template and a fixed value for unmatched paths, never the raw path or query', async () => {
    const hook = createMetricsHook(quiet);
    await call(hook, event('/tasks/123?ref=x', '/tasks/[id]'), answer(200));
    await call(hook, event('/tasks/456', '/tasks/[id]'), answer(200));
    await call(hook, event('/no/such/page?q=1', null), answer(404));
    await call(hook, event('/', '/', { method: 'PROPFIND' }), answer(405));
    assert.deepEqual(await counts(hook), { 'GET /tasks/[id] 200': 2, 'GET unmatched 404': 1, 'OTHER / 405': 1 });
  });

  it('times every counted request in a histogram with web-app buckets', async () => {
    const hook = createMetricsHook(quiet);
    await call(hook, event('/api/tasks', '/api/tasks'), answer(200));
    const text = await hook.registry.metrics();
    assert.match(text, /# TYPE http_request_duration_seconds histogram/);
    assert.match(text, /http_request_duration_seconds_count\{method="GET",route="\/api\/tasks",status_code="200"\} 1/);
    const les = [...text.matchAll(/http_request_duration_seconds_bucket\{le="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(les, ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']);
  });

  it('counts an error thrown by the app as 500 and re-throws the very same error', async () => {
    const hook = createMetricsHook(quiet);
    const thrown = new Error('database down');
    await assert.rejects(
      call(hook, event('/tasks/1', '/tasks/[id]'), () => Promise.reject(thrown)),
      (err) => err === thrown,
    );
    assert.deepEqual(await counts(hook), { 'GET /tasks/[id] 500': 1 });
  });

  it("counts SvelteKit's error() and redirect() thrown by a later handle with the status SvelteKit will answer", async () => {
    const hook = createMetricsHook(quiet);
    await assert.rejects(call(hook, event('/admin', '/admin'), () => error(403, 'no')), (err: unknown) => (err as { status?: number }).status === 403);
    await assert.rejects(call(hook, event('/old', '/old'), () => redirect(303, '/new')), (err: unknown) => (err as { location?: string }).location === '/new');
    assert.deepEqual(await counts(hook), { 'GET /admin 403': 1, 'GET /old 303': 1 });
  });

  it('answers /metrics itself in the content type of its registry, without counting the scrape or health probes', async () => {
    const hook = createMetricsHook({ enabled: true });
    let resolved = 0;
    const res = await call(hook, event('/metrics', null), () => {
      resolved++;
      return new Response('app');
    });
    await call(hook, event('/healthz', '/healthz'), answer(200));
    await call(hook, event('/api/tasks', '/api/tasks', { subRequest: true }), answer(200));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), hook.registry.contentType);
    assert.match(await res.text(), /^process_cpu_user_seconds_total /m, 'default process metrics on the page');
    assert.equal(resolved, 0, 'the app never saw the scrape');
    assert.deepEqual(await counts(hook), {});
  });

  it('keeps its metrics out of prom-client’s global registry', async () => {
    createMetricsHook({ enabled: true });
    assert.deepEqual(await globalRegistry.getMetricsAsJSON(), []);
  });

  it('protects /metrics with a bearer token when one is configured', async () => {
    const token = `t-${randomUUID()}`;
    const hook = createMetricsHook({ ...quiet, token });
    const none = await call(hook, event('/metrics', null), answer(404));
    const wrong = await call(hook, event('/metrics', null, { headers: { authorization: 'Bearer not-the-token-at-all' } }), answer(404));
    const right = await call(hook, event('/metrics', null, { headers: { authorization: `Bearer ${token}` } }), answer(404));
    assert.deepEqual([none.status, wrong.status, right.status], [401, 401, 200]);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="metrics"');
    assert.throws(() => createMetricsHook({ token: 'short' }), /at least 16 characters/);
  });

  it('serves /metrics on a separate port when asked, and then no longer on the app port', async () => {
    const port = await freePort();
    const hook = createMetricsHook({ ...quiet, port });
    try {
      await call(hook, event('/', '/'), answer(200));
      const onApp = await call(hook, event('/metrics', null), answer(404));
      const onPort = await http({ url: `http://127.0.0.1:${port}/metrics`, timeoutMs: 2_000, retries: 3 });
      assert.equal(onApp.status, 404, 'the app answered /metrics itself');
      assert.match(onPort.text, /http_requests_total\{method="GET",route="\/",status_code="200"\} 1/);
      assert.equal(onPort.headers.get('content-type'), hook.registry.contentType);
    } finally {
      await hook.close();
    }
  });

  it('switched off by METRICS_ENABLED=false, it is a bare pass-through: same promise, empty registry, no /metrics', async () => {
    assert.equal(resolveOptions({}, { METRICS_ENABLED: 'false' }).enabled, false);
    assert.equal(resolveOptions({}, { METRICS_ENABLED: 'off' }).enabled, false);
    assert.equal(resolveOptions({}, {}).enabled, true);
    const hook = createMetricsHook({ enabled: false });
    const ev = event('/metrics', null);
    const promise = Promise.resolve(new Response('app', { status: 404 }));
    let seen: RequestEvent | undefined;
    const returned = hook.handle({
      event: ev,
      resolve: (e) => {
        seen = e;
        return promise;
      },
    });
    assert.equal(returned, promise, 'the handle returns what resolve returned, untouched');
    assert.equal(seen, ev, 'resolve got the very same event');
    assert.equal((await returned).status, 404, '/metrics falls through to the app');
    assert.deepEqual(hook.registry.getMetricsAsArray(), [], 'no collectors, no default metrics, no timers');
    assert.equal(hook.enabled, false);
  });
});
