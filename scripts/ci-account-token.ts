/**
 * npm run ci:kubeconfig -- --out <file> [--duration 2h] [--apply] [--kubeconfig <admin file>] [--context <admin context>]
 * npm run sim:ci-kubeconfig   (the simulated cluster of `npm run sim:up`: applies, writes .cache/ci-account/sim-kubeconfig)
 *
 * Writes a kube config that acts as the CI service account obs-acceptance/obs-acceptance-ci,
 * with a token from the TokenRequest API that expires after --duration (default 2h, at least
 * 10m), so that the suite runs with exactly the account's rights: RBAC plus the admission policy
 * of manifests/rbac/. --apply first applies manifests/rbac/ (account, RBAC, policy). The admin
 * kube config is --kubeconfig/--context, else KUBECONFIG/KUBE_CONTEXT as the suite reads them.
 * The file holds a token: it is written with mode 0600 and belongs under .cache/ (git ignores
 * it); never commit it. Prints the KUBECONFIG and KUBE_CONTEXT lines to run the suite with.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../fixtures/core/config.ts';
import { parseSeconds } from '../fixtures/core/duration.ts';
import { loadKubeConfig } from '../fixtures/kube/connection.ts';
import { applyCiAccess, CI_CONTEXT, CI_USERNAME, ciKubeConfig, mintCiToken, writeKubeConfig } from './lib/ci-account.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    duration: { type: 'string', default: '2h' },
    apply: { type: 'boolean', default: false },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

const USAGE = 'Usage: npm run ci:kubeconfig -- --out <file> [--duration 2h] [--apply] [--kubeconfig <admin kube config>] [--context <admin context>]';
if (values.help) {
  console.log(`${USAGE}\nWrites a kube config acting as ${CI_USERNAME} with a short-lived token (TokenRequest); --apply first applies manifests/rbac/.`);
  process.exit(0);
}
if (!values.out) {
  console.error(`--out is required.\n${USAGE}`);
  process.exit(2);
}

let seconds: number;
try {
  seconds = parseSeconds(values.duration, '--duration');
  if (seconds < 600) throw new Error(`--duration: ${values.duration} is shorter than the 10m the TokenRequest API accepts`);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(2);
}

try {
  const kube = values.kubeconfig ? { kubeconfig: values.kubeconfig, context: values.context } : { ...loadConfig().kube, ...(values.context ? { context: values.context } : {}) };
  const admin = loadKubeConfig(kube);
  console.log(`Admin: context ${admin.getCurrentContext()}, API server ${admin.getCurrentCluster()?.server ?? '?'}`);
  if (values.apply) for (const applied of await applyCiAccess(admin)) console.log(`  applied ${applied}`);
  const { token, expiresAt } = await mintCiToken(admin, seconds);
  const out = resolve(values.out);
  writeKubeConfig(ciKubeConfig(admin, token), out);
  console.log(`Wrote ${out} (mode 0600): ${CI_USERNAME}, token valid until ${expiresAt.toISOString()}. Never commit it.`);
  console.log(`Run the suite as the CI account with:\n  KUBECONFIG=${out}\n  KUBE_CONTEXT=${CI_CONTEXT}`);
} catch (err) {
  console.error(`ci:kubeconfig: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
