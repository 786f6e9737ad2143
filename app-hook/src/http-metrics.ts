/**
 * The two HTTP series and the rules that keep their label values bounded: the route
 * template (never the raw path), a known method, a three-digit status.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export const LABELS = ['method', 'route', 'status_code'] as const;
type Label = (typeof LABELS)[number];

/** RFC 9110 methods plus PATCH; anything else is one value, so a client cannot add series. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

interface Children {
  count: Counter.Internal;
  duration: Histogram.Internal<Label>;
}

export class HttpMetrics {
  private readonly requests: Counter<Label>;
  private readonly duration: Histogram<Label>;
  // prom-client hashes the label object on every call; the key here is one short string.
  private readonly children = new Map<string, Children>();

  constructor(registry: Registry, buckets: readonly number[]) {
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code.',
      labelNames: LABELS,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from receiving an HTTP request to its response headers, by method, route template and status code.',
      labelNames: LABELS,
      buckets: [...buckets],
      registers: [registry],
    });
  }

  record(method: string, route: string, status: number, seconds: number): void {
    const m = METHODS.has(method) ? method : 'OTHER';
    const s = status >= 100 && status <= 599 ? String(Math.trunc(status)) : '500';
    const key = `${m} ${s} ${route}`;
    let child = this.children.get(key);
    if (!child) {
      child = { count: this.requests.labels(m, route, s), duration: this.duration.labels(m, route, s) };
      this.children.set(key, child);
    }
    child.count.inc();
    child.duration.observe(seconds);
  }
}
