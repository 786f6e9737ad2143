/**
 * `npm run sweep` on the simulated cluster, as the CI account: it finds what earlier runs left
 * (suite-labelled namespaces, and labelled pods outside them), spares the run in progress
 * (OBS_RUN_ID) and whatever is younger than --older-than, and deletes leftovers through the real
 * API server, pods in a namespace that goes anyway not one by one. The cluster is shared, so the
 * deleting sweep spares every run this test did not make (the same function the command calls,
 * with that list of spared runs); the command itself runs as a dry run. Needs `npm run sim:up`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../../fixtures/core/poll.ts';
import type { KubeClient } from '../../fixtures/kube/client.ts';
import { listLabelled, sweep } from '../../fixtures/kube/sweep.ts';
import { runChild, suiteFreeEnv } from '../support/child.ts';
import { admin, CI_CONTEXT, ciKubeconfig, requireSim, ROOT, runIdFor, suiteKube } from '../support/sim.ts';

const dir = mkdtempSync(join(tmpdir(), 'obs-sim-sweep-'));
/** An earlier run that left its namespace and a pod in another run's namespace behind, and a run in progress. */
const left = runIdFor('simleft');
const live = runIdFor('simlive');
let leftKube: KubeClient;
let liveKube: KubeClient;

const pod = (name: string, namespace: string): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace },
  spec: { terminationGracePeriodSeconds: 1, automountServiceAccountToken: false, containers: [{ name: 'main', image: 'docker.io/library/busybox:1.37.0', command: ['sleep', '3600'] }] },
});

async function sweepCommand(...args: string[]): Promise<{ code: number | null; out: string }> {
  const env = suiteFreeEnv({ KUBECONFIG: await ciKubeconfig(), KUBE_CONTEXT: CI_CONTEXT, OBS_RUN_ID: live, OBS_ENV_FILE: join(dir, 'none.env') });
  const r = await runChild(process.execPath, [join(ROOT, 'scripts', 'sweep.ts'), ...args], { cwd: ROOT, env });
  return { code: r.code, out: `${r.stdout}${r.stderr}` };
}

async function gone(name: string): Promise<void> {
  await waitFor(
    `namespace ${name} to be gone`,
    async () => {
      try {
        const ns = await admin().core.readNamespace({ name });
        return ns.metadata?.deletionTimestamp ? 'deleted, finalizing' : (ns.status?.phase ?? '?');
      } catch (err) {
        if ((err as { code?: number }).code === 404) return 'gone';
        throw err;
      }
    },
    (s) => (s === 'gone' ? undefined : s),
    { timeoutMs: 120_000, derivation: 'fixed 120 s for the namespace controller' },
  );
}

void describe('npm run sweep on the simulated cluster, as the CI account', () => {
  before(async () => {
    await requireSim();
    leftKube = await suiteKube(left, dir);
    liveKube = await suiteKube(live, dir);
    await leftKube.ensureRunNamespace();
    await liveKube.ensureRunNamespace();
    // A pod of the earlier run inside the run in progress' namespace: it has to go on its own.
    await leftKube.apply([pod('stray', liveKube.runNamespace), pod('own', leftKube.runNamespace)]);
  });
  after(async () => {
    for (const name of [leftKube?.runNamespace, liveKube?.runNamespace]) if (name) await admin().core.deleteNamespace({ name }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  void it('--dry-run --older-than 0s lists the earlier run (its namespace, and its pod in another namespace), spares the run in progress, deletes nothing', async () => {
    const r = await sweepCommand('--dry-run', '--older-than', '0s');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^Kubernetes API server https:\/\/10\.213\.0\.2:6443 \(context obs-acceptance-ci, v1\.36\.3\)$/m);
    assert.match(r.out, new RegExp(`^  Namespace ${leftKube.runNamespace} \\(run ${left}, \\d+ min old\\)$`, 'm'));
    assert.match(r.out, new RegExp(`^  Pod ${liveKube.runNamespace}/stray \\(run ${left}, \\d+ min old\\)$`, 'm'));
    assert.doesNotMatch(r.out, new RegExp(`${leftKube.runNamespace}/own`), 'a pod in a namespace that goes anyway is not listed on its own');
    assert.doesNotMatch(r.out, new RegExp(`run ${live}`), 'the run in progress (OBS_RUN_ID) is spared');
    assert.doesNotMatch(r.out, /^deleted/m);
    assert.equal((await admin().core.readNamespace({ name: leftKube.runNamespace })).status?.phase, 'Active');
  });

  void it('the default age (2h) finds nothing of runs minutes old', async () => {
    const r = await sweepCommand('--dry-run');
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, new RegExp(`${left}|${live}`));
  });

  void it('deletes the leftovers through the API server: the stray pod alone, the namespace with its pod; the run in progress stays', async () => {
    // Every run found that this test did not make is spared: other runs may share the cluster.
    const others = [...new Set((await listLabelled(leftKube)).map((o) => o.metadata?.labels?.['obs-acceptance.io/run-id'] ?? ''))].filter((id) => id !== left);
    const report = await sweep(leftKube, { olderThanMs: 0, spare: others });
    assert.deepEqual(report.failed, []);
    assert.deepEqual(report.deleted, [`Pod ${liveKube.runNamespace}/stray`, `Namespace ${leftKube.runNamespace}`]);
    await gone(leftKube.runNamespace);
    await waitFor(
      `pod ${liveKube.runNamespace}/stray to be gone`,
      async () => (await admin().core.listNamespacedPod({ namespace: liveKube.runNamespace })).items.map((p) => p.metadata?.name ?? '?'),
      (names) => (names.includes('stray') ? `pods: ${names.join(', ')}` : undefined),
      { timeoutMs: 60_000, derivation: 'fixed 60 s: the pod terminationGracePeriodSeconds is 1 s' },
    );
    assert.equal((await admin().core.readNamespace({ name: liveKube.runNamespace })).status?.phase, 'Active', 'the run in progress stays');
  });
});
