/** Runs Debian's `promtool` for rule checks and rule unit tests. */
import { runChild } from './child.ts';

/** promtool's exit status and everything it printed. Throws when promtool is not installed. */
export async function promtool(args: string[], cwd: string, input?: string): Promise<{ ok: boolean; output: string }> {
  const result = await runChild('promtool', args, { cwd, input }).catch((err: Error) => {
    if ((err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error('promtool is not installed (Debian package "prometheus"; .ci/run installs it)');
    throw err;
  });
  return { ok: result.code === 0, output: `${result.stdout}${result.stderr}` };
}

/** Like `promtool`, but a failure throws with promtool's output. */
export async function promtoolOk(args: string[], cwd: string): Promise<string> {
  const result = await promtool(args, cwd);
  if (!result.ok) throw new Error(`promtool ${args.join(' ')} failed:\n${result.output}`);
  return result.output;
}
