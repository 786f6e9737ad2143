/**
 * `npm run cluster:up [-- --dry-run] [-- --rehearse-migration]`: builds (or converges) the
 * nightly's k3d cluster with the observability stack and the stand-in TaskPlanner.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLUSTER } from './lib/charts.ts';
import { clusterUpPlan } from './lib/cluster-plan.ts';
import { FRONT_DOOR } from './lib/front-door.ts';
import { parseFlags, runPlan } from './lib/run-plan.ts';

const USAGE = `Usage: npm run cluster:up -- [--dry-run] [--rehearse-migration] [--tls-front-door]
  --dry-run             print every command in order and run none
  --rehearse-migration  build it as production is before the switch: Promtail, no Alloy; then
                        "npm run migration:rehearse" switches to Alloy under the migration watch.
                        A later run without it removes Promtail and installs Alloy
  --tls-front-door      serve Grafana at ${FRONT_DOOR.url} through a local HTTPS proxy, like production
                        (OBS-07); trusts its CA in ~/.pki/nssdb, so meant for CI runners`;

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

try {
  const flags = parseFlags(process.argv.slice(2), ['--dry-run', '--rehearse-migration', '--tls-front-door']);
  if (flags.has('--help')) {
    console.log(USAGE);
  } else {
    const tlsFrontDoor = flags.has('--tls-front-door');
    const plan = clusterUpPlan({ rehearseMigration: flags.has('--rehearse-migration'), tlsFrontDoor, root: repoRoot, home: homedir() });
    await runPlan(plan, { dryRun: flags.has('--dry-run'), cwd: repoRoot });
    if (!flags.has('--dry-run')) {
      const grafana = tlsFrontDoor ? ` GRAFANA_URL=${FRONT_DOOR.url} CA_FILE=${join(repoRoot, FRONT_DOOR.caFile)} NODE_EXTRA_CA_CERTS=${join(repoRoot, FRONT_DOOR.caFile)}` : '';
      console.log(`Cluster ${CLUSTER.name} is ready (context ${CLUSTER.context}). Next:${grafana} npx playwright test`);
    }
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
