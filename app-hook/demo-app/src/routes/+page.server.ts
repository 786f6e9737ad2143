import type { ServerLoad } from '@sveltejs/kit';
import { TASKS } from '../tasks.ts';

export const load: ServerLoad = () => ({ tasks: TASKS });
