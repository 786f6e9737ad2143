/**
 * A stand-in API server for port-forward self-tests: REST routes (JSON replies) plus the
 * pod `portforward` subresource over WebSocket, speaking the `v4.channel.k8s.io` protocol as
 * the kubelet does — each stream's first frame carries the port as a little-endian uint16,
 * channel 0 carries data, channel 1 errors (kubernetes/kubernetes
 * `pkg/kubelet/cri/streaming/portforward/websocket.go`; the client side is client-node's
 * `PortForward`). Data is relayed to a local TCP target that plays the pod.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { DISCOVERY } from './kube-replay.ts';

interface WsSocket {
  protocol: string;
  send(data: Buffer): void;
  close(): void;
  on(event: 'message', fn: (data: Buffer) => void): void;
  on(event: 'close', fn: () => void): void;
}
interface WsServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: WsSocket) => void): void;
  close(): void;
}
type WsServerCtor = new (options: { noServer: true; handleProtocols: (protocols: Set<string>) => string | false }) => WsServer;

// `ws` is what client-node itself uses (through isomorphic-ws); it ships no types of its own.
const { WebSocketServer } = createRequire(import.meta.url)('ws') as { WebSocketServer: WsServerCtor };

export interface PortForwardReplay {
  url: string;
  /** Port-forward requests: pod path and the `ports` query. */
  forwards: { path: string; ports: string | null }[];
  close(): Promise<void>;
}

/** `routes`: `GET /path` → JSON body (status 200) or `{ status, body }`. `target`: the local port that plays the pod. */
export async function startPortForwardReplay(routes: Record<string, unknown>, target: number): Promise<PortForwardReplay> {
  const forwards: PortForwardReplay['forwards'] = [];
  const table: Record<string, unknown> = { ...Object.fromEntries(Object.entries(DISCOVERY).map(([p, b]) => [`GET ${p}`, b])), ...routes };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://replay.invalid');
    const reply = table[`${req.method} ${url.pathname}`] as { status?: number; body?: unknown } | undefined;
    const wrapped = reply && typeof reply === 'object' && 'status' in reply ? reply : reply === undefined ? { status: 404, body: { kind: 'Status', code: 404, reason: 'NotFound', message: `${url.pathname} not found` } } : { status: 200, body: reply };
    res.writeHead(wrapped.status ?? 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(wrapped.body));
  });
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false) });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://replay.invalid');
    if (!/^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/portforward$/.test(url.pathname)) {
      socket.destroy();
      return;
    }
    forwards.push({ path: url.pathname, ports: url.searchParams.get('ports') });
    wss.handleUpgrade(req, socket, head, (ws) => {
      const port = Number(url.searchParams.get('ports'));
      const prefix = (channel: number) => Buffer.from([channel, port & 0xff, (port >> 8) & 0xff]);
      ws.send(prefix(0));
      ws.send(prefix(1));
      const tcp = connect(target, '127.0.0.1');
      tcp.on('data', (data: Buffer) => ws.send(Buffer.concat([Buffer.from([0]), data])));
      tcp.on('end', () => ws.close());
      tcp.on('error', (err) => {
        ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(err.message)]));
        ws.close();
      });
      ws.on('message', (data: Buffer) => {
        if (data[0] === 0) tcp.write(data.subarray(1));
      });
      ws.on('close', () => tcp.end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwards,
    close: () =>
      new Promise<void>((resolve) => {
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
