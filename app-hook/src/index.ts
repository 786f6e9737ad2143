/**
 * Prometheus metrics for a SvelteKit app, on prom-client:
 *
 *   // src/hooks.server.ts
 *   import { sequence } from '@sveltejs/kit/hooks';
 *   import { createMetricsHook } from 'app-hook';
 *   export const handle = sequence(createMetricsHook().handle, yourHandle);
 */
export { createMetricsHook, type MetricsHook } from './handle.ts';
export { HEALTH_PATHS, WEB_BUCKETS, resolveOptions, type MetricsHookOptions } from './options.ts';
