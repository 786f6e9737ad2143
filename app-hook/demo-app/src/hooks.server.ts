import type { Handle, HandleServerError } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { createMetricsHook } from '../../src/index.ts';

// Exactly what the install guide (app-hook/README.md) tells TaskPlanner to add.
const metrics = createMetricsHook();

// Stands for TaskPlanner's own handle, to show the hook composing with others.
const securityHeaders: Handle = async ({ event, resolve }) => {
  const response = await resolve(event);
  response.headers.set('x-content-type-options', 'nosniff');
  return response;
};

export const handle = sequence(metrics.handle, securityHeaders);

// /boom fails on purpose; unmatched paths are routine. One line instead of a stack trace per request keeps the logs readable.
export const handleError: HandleServerError = ({ error, event, status }) => {
  if (status >= 500) console.error(`${event.request.method} ${event.url.pathname} → ${status}: ${error instanceof Error ? error.message : String(error)}`);
  return { message: 'Internal Error' };
};
