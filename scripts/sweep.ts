/**
 * npm run sweep [-- --older-than 2h] [--dry-run]
 *
 * Removes what earlier runs of the suite left in the cluster: namespaces and objects labelled
 * obs-acceptance.io/suite=obs-acceptance and older than the given age (default 2h). A run in
 * progress is younger than that, and the run named by OBS_RUN_ID is always spared.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../fixtures/core/config.ts';
import { KubeClient } from '../fixtures/kube/client.ts';
import { checkKubernetes, loadKubeConfig } from '../fixtures/kube/connection.ts';
import { parseDuration } from '../fixtures/core/duration.ts';
import { describeRef } from '../fixtures/kube/ledger.ts';
import { sweep } from '../fixtures/kube/sweep.ts';

const { values } = parseArgs({
  options: {
    'older-than': { type: 'string', default: '2h' },
    'dry-run': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log('Usage: npm run sweep -- [--older-than 2h] [--dry-run]\nDeletes leftovers of earlier runs (suite-labelled namespaces and objects) older than the age.');
  process.exit(0);
}

let olderThanMs: number;
try {
  olderThanMs = parseDuration(values['older-than'], '--older-than');
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(2);
}

try {
  const config = loadConfig();
  // The API server first, within the preflight deadline: a closed port or a broken kube config
  // is then named with the server and the fix, not as client-node's "Failed to fetch resource metadata".
  const target = await checkKubernetes(config.kube, config.preflightTimeoutMs);
  console.log(`Kubernetes API server ${target.server} (context ${target.context}, ${target.version})`);
  const kube = new KubeClient({ kc: loadKubeConfig(config.kube), runId: config.runId ?? 'sweep', namespacePrefix: config.namespacePrefix });
  const report = await sweep(kube, { olderThanMs, dryRun: values['dry-run'], spare: config.runId ? [config.runId] : [] });
  const verb = values['dry-run'] ? 'would delete' : 'deleted';
  console.log(`Leftovers older than ${values['older-than']}: ${report.found.length}`);
  for (const f of report.found) console.log(`  ${describeRef(f)} (run ${f.runId || '?'}, ${Math.round(f.ageMs / 60_000)} min old)`);
  if (!values['dry-run']) console.log(`${verb} ${report.deleted.length}, failed ${report.failed.length}`);
  for (const f of report.failed) console.error(`  failed: ${f.object}: ${f.error}`);
  process.exitCode = report.failed.length ? 1 : 0;
} catch (err) {
  console.error(`sweep: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
