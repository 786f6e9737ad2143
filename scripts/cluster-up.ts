/**
 * `npm run cluster:up [-- --dry-run] [-- --rehearse-migration]`: builds (or converges) the
 * nightly's k3d cluster with the observability stack and the stand-in TaskPlanner.
 */
import { fileURLToPath } from 'node:url';
import { CLUSTER } from './lib/charts.ts';
import { clusterUpPlan } from './lib/cluster-plan.ts';
import { parseFlags, runPlan } from './lib/run-plan.ts';

const USAGE = `Usage: npm run cluster:up -- [--dry-run] [--rehearse-migration]
  --dry-run             print every command in order and run none
  --rehearse-migration  install Promtail before Alloy and keep both (OBS-04 reports the overlap);
                        a later run without it removes Promtail, completing the migration`;

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

try {
  const flags = parseFlags(process.argv.slice(2), ['--dry-run', '--rehearse-migration']);
  if (flags.has('--help')) {
    console.log(USAGE);
  } else {
    await runPlan(clusterUpPlan({ rehearseMigration: flags.has('--rehearse-migration') }), { dryRun: flags.has('--dry-run'), cwd: repoRoot });
    if (!flags.has('--dry-run')) console.log(`Cluster ${CLUSTER.name} is ready (context ${CLUSTER.context}). Next: npx playwright test`);
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
