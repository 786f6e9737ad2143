/**
 * A stand-in Loki for the self-tests (no Loki can run in them): it takes pushes and answers
 * `query_range` the way a real Loki 3.6.7 or 2.9.3 did when the exchanges in
 * `test/captures/loki/` were recorded (real Loki built from its tags and run on loopback on
 * 2026-11-30; test/captures/loki/FINDINGS.md). What it reproduces, each checked against those
 * captures by test/heartbeat-replay.test.ts:
 *
 * - a stream is the tenant plus its full label set; Loki 3 adds `service_name` (from `app`,
 *   else `unknown_service`) and returns `detected_level` (`unknown` here) and any structured
 *   metadata inside `stream`, which splits a stream in the answer (3.6.7-auth/20, 21);
 * - an entry with the same timestamp and line as one the stream already holds is kept once,
 *   whatever structured metadata the second copy carries (dup/A, B, D, F); another label set is
 *   another stream and keeps its copy (dup/C); 1 ms apart is two entries (dup/E);
 * - 2.9 refuses structured metadata with 400 (2.9.3-auth/dup/D2);
 * - `start` inclusive, `end` exclusive (ns), `limit` over all streams in time order, `direction`;
 *   a limit over `max_entries_limit_per_query` is 400 with each version's text (…/22); no tenant
 *   header on an auth Loki is 401 `no org id` (3.6.7-auth/24);
 * - the answer's `stats` block is the one Loki 3.6.7 sent (dup/Q-c-labels).
 * Query support is what the suite sends: equality matchers and `|=` line filters.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordedRequest, Reply } from './replay-server.ts';

export const CAPTURES = join(import.meta.dirname, '..', 'captures', 'loki');

export interface Capture {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  /** The request body (`--data-binary`), if any. */
  body: string | undefined;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody: string;
}

/** Reads one `*.http` capture (format: test/captures/loki/README.md, "File format"). */
export function readCapture(file: string): Capture {
  const text = readFileSync(join(CAPTURES, file), 'utf8');
  const [request = '', response = ''] = text.split('### response\n');
  const reqLines = request.replace('### request\n', '').split('\n');
  const [method = '', target = ''] = (reqLines[0] ?? '').split(' ');
  const args = reqLines.slice(1).filter((l) => l.startsWith('curl-arg: ')).map((l) => l.slice('curl-arg: '.length));
  const headers: Record<string, string> = {};
  let body: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-H') {
      const [k = '', ...v] = (args[++i] ?? '').split(': ');
      headers[k.toLowerCase()] = v.join(': ');
    } else if (args[i] === '--data-binary') body = args[++i];
  }
  const url = new URL(target, 'http://capture.invalid');
  // Headers end in CRLF as sent; the body is as sent.
  const [statusLine = '', ...rest] = response.replace(/\n### curl:.*\n?$/s, '').split(/\r?\n/);
  const blank = rest.indexOf('');
  const responseHeaders = Object.fromEntries(rest.slice(0, blank).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return {
    method,
    path: url.pathname,
    query: url.searchParams,
    headers,
    body,
    status: Number(statusLine.split(' ')[1]),
    responseHeaders,
    responseBody: rest.slice(blank + 1).join('\n').trim(),
  };
}

/** A capture as the replay server sends it back: its status, content type and body. */
export function captureReply(file: string): Reply {
  const c = readCapture(file);
  const type = c.responseHeaders['content-type'];
  return { status: c.status, headers: type ? { 'content-type': type } : {}, body: c.responseBody };
}

interface StoredEntry {
  tsNs: bigint;
  line: string;
  metadata: Record<string, string>;
}

interface Stream {
  labels: Record<string, string>;
  entries: Map<string, StoredEntry>;
}

const sortedLabels = (l: Record<string, string>) => Object.fromEntries(Object.entries(l).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
const STATS = (JSON.parse(readCapture('3.6.7-auth/dup/Q-c-labels.http').responseBody) as { data: { stats: unknown } }).data.stats;

export class ReplayLoki {
  readonly version: '3.6.7' | '2.9.3';
  readonly tenant: string | undefined;
  maxEntriesLimitPerQuery = 5_000;
  private readonly streams = new Map<string, Stream>();
  readonly queries: URLSearchParams[] = [];

  constructor(version: '3.6.7' | '2.9.3' = '3.6.7', tenant?: string) {
    this.version = version;
    this.tenant = tenant;
  }

  /** `POST /loki/api/v1/push` with a JSON body; 204, or 400 with Loki's text. */
  push(body: string): Reply {
    const { streams } = JSON.parse(body) as { streams: Array<{ stream: Record<string, string>; values: Array<[string, string, Record<string, string>?]> }> };
    for (const s of streams) {
      if (this.version === '2.9.3' && s.values.some((v) => v[2] && Object.keys(v[2]).length)) {
        const shown = Object.entries(sortedLabels(s.stream)).map(([k, v]) => `${k}="${v}"`).join(', ');
        return { status: 400, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `stream '{${shown}}' includes structured metadata, but this feature is disallowed. Please see \`limits_config.structured_metadata\` or contact your Loki administrator to enable it.\n` };
      }
    }
    for (const s of streams) {
      const labels = this.version === '3.6.7' ? { ...s.stream, service_name: s.stream.service_name ?? s.stream.app ?? 'unknown_service' } : { ...s.stream };
      const key = JSON.stringify(sortedLabels(labels));
      const stream = this.streams.get(key) ?? { labels, entries: new Map() };
      this.streams.set(key, stream);
      for (const [ts, line, metadata] of s.values) {
        const entryKey = `${ts}\u0000${line}`;
        // An identical entry already held is dropped whole, its metadata with it.
        if (!stream.entries.has(entryKey)) stream.entries.set(entryKey, { tsNs: BigInt(ts), line, metadata: metadata ?? {} });
      }
    }
    return { status: 204 };
  }

  /** Pushes entries the way an agent does: one stream, `[ns, line]` pairs. */
  pushEntries(labels: Record<string, string>, values: Array<[bigint, string]>): void {
    const reply = this.push(JSON.stringify({ streams: [{ stream: labels, values: values.map(([ts, line]) => [String(ts), line]) }] }));
    if (reply.status !== 204) throw new Error(`push refused: ${String(reply.body)}`);
  }

  /** `GET /loki/api/v1/query_range`. */
  queryRange(q: URLSearchParams, headers: Record<string, string | string[] | undefined> = {}): Reply {
    this.queries.push(q);
    const text = (body: string, status: number): Reply => ({ status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body });
    if (this.tenant !== undefined && !headers['x-scope-orgid']) return text('no org id\n', 401);
    const limit = Number(q.get('limit') ?? 100);
    if (limit > this.maxEntriesLimitPerQuery) {
      const name = this.version === '3.6.7' ? 'max_entries_limit_per_query' : 'max_entries_limit';
      return text(`max entries limit per query exceeded, limit > ${name} (${limit} > ${this.maxEntriesLimitPerQuery})`, 400);
    }
    const { matchers, filters } = parseQuery(q.get('query') ?? '');
    const start = BigInt(q.get('start') ?? '0');
    const end = BigInt(q.get('end') ?? String(BigInt(Date.now()) * 1_000_000n));
    const forward = q.get('direction') === 'forward';
    const hits: Array<{ stream: Stream; e: StoredEntry }> = [];
    for (const stream of this.streams.values()) {
      if (!matchers.every(([k, v]) => stream.labels[k] === v)) continue;
      for (const e of stream.entries.values()) if (e.tsNs >= start && e.tsNs < end && filters.every((f) => e.line.includes(f))) hits.push({ stream, e });
    }
    hits.sort((a, b) => (a.e.tsNs < b.e.tsNs ? -1 : a.e.tsNs > b.e.tsNs ? 1 : 0) * (forward ? 1 : -1));
    const result = new Map<string, { stream: Record<string, string>; values: Array<[string, string]> }>();
    for (const { stream, e } of hits.slice(0, limit)) {
      // Loki 3 without categorize-labels: detected_level and structured metadata go into `stream`.
      const labels = sortedLabels(this.version === '3.6.7' ? { ...stream.labels, ...e.metadata, detected_level: e.metadata.detected_level ?? 'unknown' } : stream.labels);
      const key = JSON.stringify(labels);
      const r = result.get(key) ?? { stream: labels, values: [] };
      result.set(key, r);
      r.values.push([String(e.tsNs), e.line]);
    }
    const data = this.version === '3.6.7' ? { resultType: 'streams', result: [...result.values()], stats: STATS } : { resultType: 'streams', result: [...result.values()] };
    return { status: 200, headers: { 'content-type': 'application/json; charset=UTF-8' }, body: { status: 'success', data } };
  }

  /** A route function for `startReplayServer`. */
  route(): (req: RecordedRequest) => Reply {
    return (req) => {
      if (req.method === 'POST' && req.path === '/loki/api/v1/push') return this.push(req.body);
      if (req.path === '/loki/api/v1/query_range') return this.queryRange(req.query, req.headers);
      return { status: 404, body: '404 page not found\n' };
    };
  }
}

/** `{a="x", b="y"} |= "t" |= "u"`: equality matchers and contains-filters, values as JSON strings. */
function parseQuery(query: string): { matchers: Array<[string, string]>; filters: string[] } {
  const close = query.indexOf('}');
  const selector = query.slice(query.indexOf('{') + 1, close);
  const matchers = [...selector.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*")/g)].map((m) => [m[1] as string, JSON.parse(m[2] as string) as string] as [string, string]);
  const filters = [...query.slice(close + 1).matchAll(/\|=\s*("(?:[^"\\]|\\.)*")/g)].map((m) => JSON.parse(m[1] as string) as string);
  if (/\|~|!=|!~|=~/.test(query)) throw new Error(`the replay Loki supports only = matchers and |= filters: ${query}`);
  return { matchers, filters };
}
