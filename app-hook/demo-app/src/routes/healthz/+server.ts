import type { RequestHandler } from '@sveltejs/kit';

/** Liveness and readiness probe; the hook does not count it as traffic. */
export const GET: RequestHandler = () => new Response('ok\n', { headers: { 'content-type': 'text/plain' } });
