/**
 * `/metrics` on a port of its own, for clusters where only Prometheus should reach it:
 * the Service exposes the app port, the ServiceMonitor scrapes this one.
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { expose } from './exposition.ts';

export function serveMetrics(registry: Registry, port: number, path: string, token: string | undefined): Server {
  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://metrics.invalid').pathname;
    if (pathname !== path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
      return;
    }
    expose(registry, req.method ?? 'GET', req.headers.authorization ?? null, token).then(
      (answer) => res.writeHead(answer.status, answer.headers).end(answer.body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`Collecting metrics failed: ${String(err)}\n`),
    );
  });
  // A taken port must not take the app down with it, but it must be seen in the logs.
  server.on('error', (err) => console.error(`app-hook: cannot serve metrics on port ${port}: ${err.message}`));
  server.listen(port);
  // The app decides when the process ends, not its metrics listener.
  server.unref();
  return server;
}
