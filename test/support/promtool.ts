/** Runs Debian's `promtool` for rule checks and rule unit tests. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** promtool's exit status and everything it printed. */
export async function promtool(args: string[], cwd: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd, timeout: 60_000 });
    return { ok: true, output: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: unknown; message: string };
    if (e.code === 'ENOENT') throw new Error('promtool is not installed (Debian package "prometheus"; .ci/run installs it)');
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? e.message}` };
  }
}

/** Like `promtool`, but a failure throws with promtool's output. */
export async function promtoolOk(args: string[], cwd: string): Promise<string> {
  const result = await promtool(args, cwd);
  if (!result.ok) throw new Error(`promtool ${args.join(' ')} failed:\n${result.output}`);
  return result.output;
}
