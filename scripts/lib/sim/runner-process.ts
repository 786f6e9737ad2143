/**
 * Starting and stopping the pod runner (runner/main.ts) as a background process inside the
 * network namespace, with its pid in .cache/sim/pod-runner.pid and its output in
 * .cache/sim/pod-runner.log.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../../fixtures/core/poll.ts';
import { isAlive } from './exec.ts';
import { PATHS, SIM } from './layout.ts';

const MAIN = fileURLToPath(new URL('runner/main.ts', import.meta.url));

/** The running runner's pid, if the pid file names a live runner process. */
export function runnerPid(): number | undefined {
  if (!existsSync(PATHS.runnerPid)) return undefined;
  const pid = Number(readFileSync(PATHS.runnerPid, 'utf8'));
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  // A recycled pid belongs to some other program: only ours counts.
  const cmdline = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
  return cmdline.includes(MAIN) ? pid : undefined;
}

/** Starts the runner unless it runs; returns its pid. `ip netns exec` execs node in place, so the pid is node's. */
export function startRunner(): number {
  const running = runnerPid();
  if (running) return running;
  mkdirSync(PATHS.pods, { recursive: true });
  const out = openSync(PATHS.runnerLog, 'a');
  const child = spawn('ip', ['netns', 'exec', SIM.netns, process.execPath, MAIN, PATHS.inClusterKubeconfig, PATHS.pods], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  child.unref();
  if (!child.pid) throw new Error('The pod runner did not start (no pid).');
  writeFileSync(PATHS.runnerPid, String(child.pid));
  return child.pid;
}

/** Stops the runner (SIGTERM: it stops its programs first), then SIGKILL after `graceMs`. */
export async function stopRunner(graceMs = 20_000): Promise<void> {
  const pid = runnerPid();
  if (pid) {
    process.kill(pid, 'SIGTERM');
    try {
      await waitFor(`the pod runner (pid ${pid}) to stop its programs and exit`, () => Promise.resolve(isAlive(pid)), (alive) => (alive ? 'still running' : undefined), { timeoutMs: graceMs });
    } catch {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  }
  rmSync(PATHS.runnerPid, { force: true });
}
