/** `npm run cluster:down [-- --dry-run]`: deletes the nightly's k3d cluster; nothing to do when it is gone. */
import { fileURLToPath } from 'node:url';
import { clusterDownPlan } from './lib/cluster-plan.ts';
import { parseFlags, runPlan } from './lib/run-plan.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

try {
  const flags = parseFlags(process.argv.slice(2), ['--dry-run']);
  if (flags.has('--help')) console.log('Usage: npm run cluster:down -- [--dry-run]');
  else await runPlan(clusterDownPlan(), { dryRun: flags.has('--dry-run'), cwd: repoRoot });
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
