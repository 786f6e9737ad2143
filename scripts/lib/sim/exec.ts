/**
 * Running the machine's commands (`ip`, kwokctl) for the sim scripts: argv arrays, never a
 * shell, and failures that name the command, its exit code and what it printed.
 */
import { spawnSync } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `argv` to completion; never throws for a non-zero exit (the caller decides). */
export function run(argv: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): RunResult {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('run: empty command');
  const res = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: options.env ?? process.env,
    input: options.input,
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.error) return { code: 127, stdout: '', stderr: res.error.message };
  return { code: res.status ?? 128 + 9, stdout: res.stdout, stderr: res.stderr };
}

/** Runs `argv` and throws, with what it printed, unless it exits 0. Returns stdout. */
export function mustRun(argv: readonly string[], options: Parameters<typeof run>[1] = {}): string {
  const res = run(argv, options);
  if (res.code !== 0) {
    const said = `${res.stderr}${res.stdout}`.trim();
    throw new Error(`\`${argv.join(' ')}\` exited ${res.code}${said ? `:\n${indent(said.split('\n').slice(-25).join('\n'))}` : ''}`);
  }
  return res.stdout;
}

export function indent(text: string, by = '    '): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}

/** Whether `pid` names a live process (signal 0 checks existence and permission only). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
