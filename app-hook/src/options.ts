/**
 * What a TaskPlanner operator can set, and where each default comes from. Everything has
 * a default, so `createMetricsHook()` with no argument is the common case.
 */

export interface MetricsHookOptions {
  /** Turns the whole hook into a pass-through. Default: `METRICS_ENABLED` (on unless `false`, `0`, `off` or `no`). */
  enabled?: boolean;
  /** Where the registry is served on the app's own port. Default `/metrics`. */
  path?: string;
  /**
   * When set, `/metrics` answers 401 unless the request carries `Authorization: Bearer <token>`.
   * Default: `METRICS_TOKEN`.
   */
  token?: string;
  /**
   * Serve `/metrics` on this port instead of the app's port (which then no longer answers it),
   * so only the cluster network reaches it. Default: `METRICS_PORT`.
   */
  port?: number;
  /** Paths that are neither traffic nor metrics (health probes). */
  ignorePaths?: readonly string[];
  /** Histogram buckets in seconds. */
  buckets?: readonly number[];
  /** Collect prom-client's process and Node.js metrics. Default true. */
  defaultMetrics?: boolean;
  /** Label value for requests that matched no route. Default `unmatched`. */
  unmatchedRoute?: string;
}

export interface ResolvedOptions {
  enabled: boolean;
  path: string;
  token: string | undefined;
  port: number | undefined;
  ignorePaths: ReadonlySet<string>;
  buckets: readonly number[];
  defaultMetrics: boolean;
  unmatchedRoute: string;
}

/**
 * Server-rendered pages and JSON APIs answer in a few ms to a few hundred; the upper
 * buckets catch a slow database, and 10 s is where a proxy would have given up anyway.
 */
export const WEB_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const HEALTH_PATHS: readonly string[] = ['/healthz', '/livez', '/readyz', '/health'];

const OFF = new Set(['false', '0', 'off', 'no']);

/** Options with every default applied; the environment is read here and nowhere else. */
export function resolveOptions(options: MetricsHookOptions = {}, env: Record<string, string | undefined> = process.env): ResolvedOptions {
  const port = options.port ?? parsePort(env.METRICS_PORT);
  const path = options.path ?? '/metrics';
  if (!path.startsWith('/')) throw new Error(`app-hook: path must start with "/", got ${JSON.stringify(path)}`);
  const token = options.token ?? (env.METRICS_TOKEN || undefined);
  if (token !== undefined && token.length < 16) {
    throw new Error('app-hook: the metrics token must be at least 16 characters (METRICS_TOKEN); generate one with `openssl rand -hex 24`.');
  }
  return {
    enabled: options.enabled ?? !OFF.has((env.METRICS_ENABLED ?? '').trim().toLowerCase()),
    path,
    token,
    port,
    ignorePaths: new Set(options.ignorePaths ?? HEALTH_PATHS),
    buckets: options.buckets ?? WEB_BUCKETS,
    defaultMetrics: options.defaultMetrics ?? true,
    unmatchedRoute: options.unmatchedRoute ?? 'unmatched',
  };
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`app-hook: METRICS_PORT must be a port number, got ${JSON.stringify(value)}`);
  }
  return port;
}
