/**
 * `npm run sim:down`: removes everything sim:up made, also after a half-failed sim:up: the pod
 * runner and its programs, kwokctl's control plane, any other process left in the network
 * namespace (by pid, from `ip netns pids`), the namespace with its veth and routes, and
 * .cache/sim. Each step runs whether or not the one before found anything.
 */
import { rmSync } from 'node:fs';
import { waitFor } from '../../../fixtures/core/poll.ts';
import { isAlive } from './exec.ts';
import { deleteCluster } from './kwokctl.ts';
import { PATHS, SIM } from './layout.ts';
import { netnsExists, netnsPids, removeNetwork } from './netns.ts';
import { stopRunner } from './runner-process.ts';

export async function simDown(log: (line: string) => void): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('sim:down needs root (it removes a network namespace): run it as root, e.g. `sudo npm run sim:down`.');
  log('→ Stop the pod runner and the programs it started');
  await stopRunner();
  if (netnsExists()) {
    log('→ Stop the control plane (kwokctl delete cluster)');
    deleteCluster();
    const left = netnsPids();
    if (left.length) {
      log(`→ End ${left.length} process(es) left in ${SIM.netns}: ${left.join(', ')}`);
      for (const pid of left) signal(pid, 'SIGTERM');
      try {
        await waitFor(`the processes in ${SIM.netns} to exit`, () => Promise.resolve(left.filter(isAlive)), (alive) => (alive.length ? `still running: ${alive.join(', ')}` : undefined), { timeoutMs: 10_000 });
      } catch {
        for (const pid of left.filter(isAlive)) signal(pid, 'SIGKILL');
      }
    }
  }
  log(`→ Remove the network namespace ${SIM.netns}, veth ${SIM.hostIf} and routes`);
  removeNetwork();
  log(`→ Remove ${PATHS.state}`);
  rmSync(PATHS.state, { recursive: true, force: true });
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone between listing and signalling: nothing to end.
  }
}
