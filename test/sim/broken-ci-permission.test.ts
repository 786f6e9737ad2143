/**
 * Broken on purpose: the CI account missing one permission. A copy of the account
 * (obs-acceptance/obs-acceptance-ci-lacking) gets manifests/rbac/clusterrole.yaml with one verb
 * taken away — `list` on `prometheuses` (monitoring.coreos.com), which OBS-01 needs to read the
 * live Prometheus resource's selectors — and a TokenRequest token, as `npm run ci:kubeconfig`
 * mints one. The real suite runs OBS-01 as that account and must fail naming the denied verb and
 * resource, in the API server's words, with where the account's rights are documented.
 *
 * A copy, not obs-acceptance-ci itself, so that runs as the real account at the same time keep
 * their rights (the admission policy matches the real account's name only; the copy writes only in
 * its run namespace anyway). Deleted afterwards. Needs `npm run sim:up`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { V1ClusterRole } from '@kubernetes/client-node';
import { loadManifestFile } from '../../fixtures/kube/manifests.ts';
import { ciKubeConfig, writeKubeConfig } from '../../scripts/lib/ci-account.ts';
import { admin, ciKubeconfig, failures, requireSim, runIdFor, runSuiteOnSim } from '../support/sim.ts';

const NAME = 'obs-acceptance-ci-lacking';
const NAMESPACE = 'obs-acceptance';
const USER = `system:serviceaccount:${NAMESPACE}:${NAME}`;
const CONTEXT = 'obs-acceptance-ci-lacking';
const runId = runIdFor('simbci');
const dir = mkdtempSync(join(tmpdir(), 'obs-sim-ci-lacking-'));

/** The CI account's ClusterRole from manifests/rbac/, renamed, with `list` on prometheuses taken away. */
async function lackingRole(): Promise<V1ClusterRole> {
  const role = (await loadManifestFile('manifests/rbac/clusterrole.yaml')).find((o) => o.kind === 'ClusterRole') as V1ClusterRole;
  const rules = (role.rules ?? []).map((r) => (r.resources?.includes('prometheuses') ? { ...r, verbs: r.verbs.filter((v) => v !== 'list') } : r));
  assert.equal(
    rules.filter((r, i) => r.verbs.length !== role.rules?.[i]?.verbs.length).length,
    1,
    'exactly one rule lost exactly one verb',
  );
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: NAME }, rules };
}

async function removeAccount(): Promise<void> {
  const a = admin();
  const rbac = { apiVersion: 'rbac.authorization.k8s.io/v1' };
  for (const o of [
    { ...rbac, kind: 'ClusterRoleBinding', metadata: { name: NAME } },
    { ...rbac, kind: 'ClusterRole', metadata: { name: NAME } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NAME, namespace: NAMESPACE } },
  ]) {
    await a.objects.delete(o).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 404) throw err;
    });
  }
}

void describe('broken on purpose: the CI account missing one permission', () => {
  before(() => requireSim());
  after(async () => {
    await removeAccount();
    await admin().core.deleteNamespace({ name: `obs-acc-${runId}` }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  void it('OBS-01 fails naming the denied verb and resource (list prometheuses.monitoring.coreos.com) and where the rights are documented', async (t) => {
    // manifests/rbac/ applied (as npm run sim:ci-kubeconfig does): its namespace holds the copy too.
    await ciKubeconfig();
    // A run killed before its after() hook leaves the copy behind.
    await removeAccount();
    const a = admin();
    await a.objects.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NAME, namespace: NAMESPACE } });
    await a.objects.create(await lackingRole());
    await a.objects.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: NAME },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: NAMESPACE }],
    } as never);
    const answer = await a.core.createNamespacedServiceAccountToken({
      namespace: NAMESPACE,
      name: NAME,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const kubeconfig = join(dir, 'kubeconfig');
    writeKubeConfig(ciKubeConfig(a.kc, answer.status?.token ?? '', CONTEXT), kubeconfig);

    const r = await runSuiteOnSim(['--grep', '@OBS-01\\b'], { kubeconfig, context: CONTEXT, runId });
    assert.notEqual(r.run.code, 0, r.output);
    const failed = failures(r.specs);
    assert.deepEqual(failed.map((f) => f.title), ['the ServiceMonitor is applied, selected by the live Prometheus resource, and the TaskPlanner target is active and up'], r.output);
    const error = failed[0]?.error ?? '';
    t.diagnostic(error.split('\n').slice(0, 3).join('\n'));
    assert.match(
      error,
      new RegExp(
        `Listing Prometheus resources \\(monitoring\\.coreos\\.com/v1\\) failed: HTTP 403 Forbidden: prometheuses\\.monitoring\\.coreos\\.com is forbidden: User "${USER}" cannot list resource "prometheuses" in API group "monitoring\\.coreos\\.com" at the cluster scope`,
      ),
    );
    assert.match(error, /Next: the account lacks this permission \(RBAC\).*manifests\/rbac\/README\.md/);
    // Everything else OBS-01 does was allowed: the other test passed, and preflight too.
    assert.equal(r.signoff.requirements.find((q) => q.id === 'OBS-01')?.counts.passed, 1);
    assert.equal(r.specs.find((s) => s.title.startsWith('preflight'))?.ok, true);
  });
});
