/**
 * Rendering the registry for a scrape, and the optional bearer-token check in front of it.
 * Shared by the in-app `/metrics` route and the separate metrics port.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';

export interface Exposition {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The answer to a scrape: the registry in its own content type, or 401/405 without a body worth caching. */
export async function expose(registry: Registry, method: string, authorization: string | null, token: string | undefined): Promise<Exposition> {
  if (method !== 'GET' && method !== 'HEAD') {
    return { status: 405, headers: { allow: 'GET, HEAD', 'content-type': 'text/plain' }, body: 'Method Not Allowed\n' };
  }
  if (token !== undefined && !bearerMatches(authorization, token)) {
    return { status: 401, headers: { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'text/plain' }, body: 'Unauthorized\n' };
  }
  return {
    status: 200,
    headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
    body: method === 'HEAD' ? '' : await registry.metrics(),
  };
}

// Hashing first gives equal lengths, which timingSafeEqual needs, and hides the token's length.
function bearerMatches(authorization: string | null, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match?.[1]) return false;
  return timingSafeEqual(digest(match[1]), digest(token));
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
