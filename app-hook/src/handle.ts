/**
 * The SvelteKit `handle` that counts and times every request by route template. It sits
 * first in `sequence(...)`, answers `/metrics` itself, lets health probes and SvelteKit's
 * internal sub-requests through uncounted, and re-throws whatever the app throws.
 */
import { isHttpError, isRedirect, type Handle } from '@sveltejs/kit';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { expose } from './exposition.ts';
import { HttpMetrics } from './http-metrics.ts';
import { serveMetrics } from './metrics-server.ts';
import { resolveOptions, type MetricsHookOptions } from './options.ts';

export interface MetricsHook {
  /** Put it first: `export const handle = sequence(metrics.handle, yourHandle)`. */
  handle: Handle;
  /** The hook's own registry; add application metrics with `registers: [metrics.registry]`. */
  registry: Registry;
  /** False when switched off by `METRICS_ENABLED=false` or `enabled: false`. */
  enabled: boolean;
  /** Stops the separate metrics port, if one was opened. */
  close(): Promise<void>;
}

const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

const passThrough: Handle = ({ event, resolve }) => resolve(event);

export function createMetricsHook(options?: MetricsHookOptions): MetricsHook {
  const o = resolveOptions(options);
  const registry = new Registry();
  if (!o.enabled) return { handle: passThrough, registry, enabled: false, close: () => Promise.resolve() };

  if (o.defaultMetrics) {
    collectDefaultMetrics({ register: registry });
    // Gauges named like counters: promtool flags them, and rate() over them would mislead.
    // Each is the sum of its unsuffixed, per-type twin (nodejs_active_handles etc.), which stays.
    for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  }
  const http = new HttpMetrics(registry, o.buckets);
  const server = o.port === undefined ? undefined : serveMetrics(registry, o.port, o.path, o.token);
  const metricsPathHere = server === undefined ? o.path : undefined;

  const handle: Handle = async ({ event, resolve }) => {
    const path = event.url.pathname;
    if (path === metricsPathHere) {
      const answer = await expose(registry, event.request.method, event.request.headers.get('authorization'), o.token);
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    }
    if (event.isSubRequest || o.ignorePaths.has(path)) return resolve(event);

    const started = performance.now();
    // SvelteKit fills in the matched route before any handle runs: a template, never the raw path.
    const route = event.route.id ?? o.unmatchedRoute;
    let status = 500;
    try {
      const response = await resolve(event);
      status = response.status;
      return response;
    } catch (err) {
      status = statusOfThrown(err);
      throw err;
    } finally {
      http.record(event.request.method, route, status, (performance.now() - started) / 1000);
    }
  };

  return {
    handle,
    registry,
    enabled: true,
    close: () => new Promise<void>((done) => (server ? server.close(() => done()) : done())),
  };
}

/** The status SvelteKit will answer with for what a later handle threw. */
function statusOfThrown(err: unknown): number {
  if (isHttpError(err) || isRedirect(err)) return err.status;
  return 500;
}
