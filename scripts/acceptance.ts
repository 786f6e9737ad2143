/**
 * `npm run acceptance [-- <playwright args>]`: the main job in one command. With a Docker
 * engine it builds the nightly's k3d cluster (`npm run cluster:up`) and runs the whole suite
 * against it; without one it builds and starts the simulated cluster (`npm run sim:build`,
 * `npm run sim:up`: real Kubernetes control plane, operator, Prometheus, Alertmanager,
 * kube-state-metrics and TaskPlanner, kwok nodes) and runs the requirements that cluster can
 * prove live (OBS-01, OBS-06, OBS-08; Loki and Grafana do not run there). Extra arguments go to
 * `playwright test` (e.g. `-- --grep "@OBS-01\b"`). The cluster is left up for the next run;
 * `npm run cluster:down` / `npm run sim:down` remove it. Exits with Playwright's code.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLUSTER } from './lib/charts.ts';
import { shellQuote } from './lib/cluster-plan.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What the simulated cluster can prove live; the rest needs Loki and Grafana, which never run here. */
const SIM_GREP = '@OBS-0[168]\\b';

const USAGE = `Usage: npm run acceptance [-- <playwright test arguments>]
  With Docker: npm run cluster:up, then npx playwright test (every requirement).
  Without Docker: npm run sim:build, npm run sim:up (as root), then
  npx playwright test --grep "${SIM_GREP}" against the simulated cluster.
  Arguments after -- replace the default selection, e.g. -- --grep "@OBS-01\\b".`;

/** Runs a command in the repository with inherited output; returns its exit code. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  // Quoted so that it can be pasted: unquoted, the shell turns --grep's \b into b.
  console.log(`\n$ ${shellQuote([command, ...args])}`);
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', env });
  if (result.error) throw new Error(`${command} could not start: ${result.error.message}`);
  return result.status ?? 1;
}

/** Whether a Docker engine answers (the client alone is not enough for k3d). */
function dockerEngine(): boolean {
  const result = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 20_000 });
  return result.status === 0;
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
} else if (dockerEngine()) {
  console.log('Docker engine found: the k3d cluster, then every requirement.');
  const up = run('npm', ['run', '-s', 'cluster:up']);
  process.exitCode = up || run('npx', ['playwright', 'test', ...args], { ...process.env, KUBE_CONTEXT: process.env.KUBE_CONTEXT ?? CLUSTER.context });
} else {
  console.log('No Docker engine: the simulated cluster (kwok), then the requirements it proves live (OBS-01, OBS-06, OBS-08).');
  const built = run('npm', ['run', '-s', 'sim:build']);
  const up = built || run('npm', ['run', '-s', 'sim:up']);
  const env = { ...process.env, KUBECONFIG: join(ROOT, '.cache', 'sim', 'kubeconfig'), KUBE_CONTEXT: 'obs-sim' };
  process.exitCode = up || run('npx', ['playwright', 'test', ...(args.length ? args : ['--grep', SIM_GREP])], env);
  if (!up) console.log('\nThe simulated cluster stays up for the next run; remove it with: npm run sim:down');
}
