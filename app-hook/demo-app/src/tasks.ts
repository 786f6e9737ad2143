/** TaskPlanner's data, in memory: enough to render a list, a detail page and an API answer. */
export interface Task {
  id: number;
  title: string;
  done: boolean;
}

export const TASKS: readonly Task[] = Array.from({ length: 20 }, (_, i) => ({
  id: i + 1,
  title: `Task ${i + 1}`,
  done: i % 3 === 0,
}));

/** Any positive id has a task, so requests to many ids all reach the `/tasks/[id]` route. */
export function findTask(id: string): Task | undefined {
  const n = Number(id);
  if (!Number.isInteger(n) || n < 1) return undefined;
  return TASKS[n - 1] ?? { id: n, title: `Task ${n}`, done: false };
}
