import { error, type ServerLoad } from '@sveltejs/kit';
import { findTask } from '../../../tasks.ts';

export const load: ServerLoad = ({ params }) => {
  const task = findTask(params.id ?? '');
  if (!task) error(404, `No task ${params.id ?? ''}`);
  return { task };
};
