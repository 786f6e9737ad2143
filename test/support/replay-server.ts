/**
 * A small HTTP server that replays recorded response bodies, for clients of services that
 * cannot run here (Loki, Grafana, the Kubernetes API). Routes map `METHOD /path` to a
 * reply, a list of replies served in turn (the last one repeats), or a function of the
 * request. Every request is recorded so a test can assert what the client sent.
 *
 * Generic on purpose: no knowledge of any one API lives here.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status?: number;
  headers?: Record<string, string | string[]>;
  /** Objects are sent as JSON (content-type application/json unless given); strings as they are. */
  body?: unknown;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Route = Reply | Reply[] | ((req: RecordedRequest) => Reply | Promise<Reply>);

/** Keys are `METHOD /path` (exact) or `/path` (any method). */
export type Routes = Record<string, Route>;

export interface ReplayServer {
  url: string;
  requests: RecordedRequest[];
  /** Adds or replaces routes while the server runs. */
  route(key: string, route: Route): void;
  close(): Promise<void>;
}

export async function startReplayServer(routes: Routes = {}): Promise<ReplayServer> {
  const table = new Map<string, Route>(Object.entries(routes));
  const served = new Map<string, number>();
  const requests: RecordedRequest[] = [];

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://replay.invalid');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const key = table.has(`${recorded.method} ${recorded.path}`) ? `${recorded.method} ${recorded.path}` : recorded.path;
      const route = table.get(key);
      void pick(key, route, recorded).then(
        (reply) => send(reply),
        (err: unknown) => send({ status: 500, body: `replay route ${key} threw: ${String(err)}` }),
      );
    });

    function send(reply: Reply): void {
      const headers: Record<string, string | string[]> = { ...reply.headers };
      let body = '';
      if (typeof reply.body === 'string') body = reply.body;
      else if (reply.body !== undefined) {
        body = JSON.stringify(reply.body);
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      }
      res.writeHead(reply.status ?? 200, headers);
      res.end(body);
    }
  });

  async function pick(key: string, route: Route | undefined, req: RecordedRequest): Promise<Reply> {
    if (route === undefined) return { status: 404, body: `no replay route for ${req.method} ${req.path}\n` };
    if (typeof route === 'function') return route(req);
    if (Array.isArray(route)) {
      const n = served.get(key) ?? 0;
      served.set(key, n + 1);
      return route[Math.min(n, route.length - 1)] ?? { status: 500, body: 'empty reply list' };
    }
    return route;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    route: (key, route) => {
      table.set(key, route);
      served.delete(key);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
