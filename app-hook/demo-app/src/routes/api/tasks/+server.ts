import { json, type RequestHandler } from '@sveltejs/kit';
import { TASKS } from '../../../tasks.ts';

export const GET: RequestHandler = () => json(TASKS);
