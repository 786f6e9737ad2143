import type { ServerLoad } from '@sveltejs/kit';

/** Fails on every request, so the suite can see a 500 counted under a route of its own. */
export const load: ServerLoad = () => {
  throw new Error('TaskPlanner stand-in: /boom fails on purpose');
};
