/**
 * The CI account's rights, proven on a real kube-apiserver 1.36 (issue 19): manifests/rbac/ —
 * the ServiceAccount, its RBAC and the ValidatingAdmissionPolicy obs-acceptance-ci-writes —
 * applied by `npm run ci:kubeconfig -- --apply`, whose kube config (a TokenRequest token, no
 * impersonation) the suite's own Kubernetes layer then uses:
 * - what the suite does is admitted: a run namespace, its pods (server-side apply), the
 *   TaskPlanner ServiceMonitor by name, deleting a pod, port-forward to a pod in `monitoring`,
 *   the ledger teardown deleting the run namespace, and `npm run sweep`;
 * - what it must never do is refused: deleting a pod in kube-system, creating a pod in default,
 *   deleting or adopting an unlabelled namespace — with the policy's message, because RBAC
 *   allows these verbs cluster-wide — and patching a Deployment in monitoring, which RBAC
 *   already refuses;
 * - with cluster-admin bound to the account as well (the worst RBAC mistake), the policy alone
 *   still refuses all of the above, exec into a run's own pod, and any object outside a run
 *   namespace other than the two named ones.
 *
 * Control plane: test/support/control-plane.ts (etcd, kube-apiserver, kube-controller-manager
 * from `npm run sim:build`), its own, on loopback: it needs the tools, not `npm run sim:up`. A
 * self-test of `npm run test:sim` (a real control plane is too heavy for `npm test`); without
 * the tools it fails naming `npm run sim:build`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { waitFor } from '../../fixtures/core/poll.ts';
import { KubeClient } from '../../fixtures/kube/client.ts';
import { statusBody, statusCode } from '../../fixtures/kube/errors.ts';
import { Ledger } from '../../fixtures/kube/ledger.ts';
import { SERVICE_MONITOR_MANIFEST } from '../../fixtures/prometheus/scrape-chain.ts';
import { CI_CONTEXT, CI_POLICY, CI_USERNAME } from '../../scripts/lib/ci-account.ts';
import { runChild, runChildOk, suiteFreeEnv } from '../support/child.ts';
import { controlPlaneUnavailable, startControlPlane, type ControlPlane } from '../support/control-plane.ts';

const CRASHLOOP_MANIFEST = 'manifests/crashloop/crashloop-pod.yaml';
const POLICY_REFUSED = `ValidatingAdmissionPolicy ${CI_POLICY} refused`;

interface Refusal {
  status: number | undefined;
  message: string;
}

/** What the API server answered to a call that must fail; fails the test if it succeeded. */
async function refusal(call: () => Promise<unknown>): Promise<Refusal> {
  try {
    await call();
  } catch (err) {
    return { status: statusCode(err), message: statusBody(err)?.message ?? (err instanceof Error ? err.message : String(err)) };
  }
  assert.fail('the API server admitted a request that must be refused');
}

/** A pod as small as the API server accepts. */
function pod(name: string, namespace: string): k8s.V1Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { automountServiceAccountToken: false, containers: [{ name: 'c', image: 'busybox' }] } };
}


void describe('the CI account on a real kube-apiserver 1.36: RBAC and ValidatingAdmissionPolicy obs-acceptance-ci-writes', () => {
  let cp: ControlPlane;
  let ciFile: string;
  let ci: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let objects: k8s.KubernetesObjectApi;
  let adminCore: k8s.CoreV1Api;
  const runId = `rbac${process.pid}`;

  /** The suite's Kubernetes layer acting as the CI account, with its ledger in the test's directory. */
  const suiteClient = (id: string) => new KubeClient({ kc: ci, runId: id, namespacePrefix: 'obs-acc', ledger: Ledger.forRun(id, join(cp.dir, 'ledger')) });

  before(async () => {
    const why = controlPlaneUnavailable();
    if (why) throw new Error(`test/sim/rbac-policy.test.ts cannot start its control plane: ${why}`);
    cp = await startControlPlane();
    adminCore = cp.admin.makeApiClient(k8s.CoreV1Api);
    await cp.installCrds(['monitoring.coreos.com_servicemonitors.yaml', 'monitoring.coreos.com_prometheusrules.yaml']);
    // What a cluster holds that the account must not touch (kube-prometheus-stack in monitoring,
    // a system pod, a team's namespace); monitoring also holds the Role for the Grafana Secret.
    await cp.kubectl(['create', 'namespace', 'monitoring']);
    await cp.kubectl(['create', 'namespace', 'team-a']);
    await cp.kubectl(['--namespace', 'monitoring', 'create', 'deployment', 'grafana', '--image=grafana/grafana']);
    await cp.kubectl(['--namespace', 'monitoring', 'run', 'prometheus-0', '--image=prom/prometheus', '--restart=Never']);
    await cp.kubectl(['--namespace', 'kube-system', 'run', 'coredns', '--image=coredns/coredns', '--restart=Never']);

    // The production steps: apply manifests/rbac/ as an admin, then a kube config for the account.
    ciFile = join(cp.dir, 'ci.kubeconfig');
    const minted = await runChildOk(process.execPath, ['scripts/ci-account-token.ts', '--kubeconfig', cp.adminFile, '--out', ciFile, '--duration', '10m', '--apply'], {
      env: suiteFreeEnv({ OBS_ENV_FILE: join(cp.dir, 'none.env') }),
    });
    assert.match(minted.stdout, /applied ValidatingAdmissionPolicyBinding obs-acceptance-ci-writes/);
    assert.match(minted.stdout, new RegExp(`KUBE_CONTEXT=${CI_CONTEXT}`));
    ci = new k8s.KubeConfig();
    ci.loadFromFile(ciFile);
    core = ci.makeApiClient(k8s.CoreV1Api);
    objects = k8s.KubernetesObjectApi.makeApiClient(ci);

    // The API server enforces a new policy once its informer has compiled it: a dry run the
    // policy refuses (RBAC allows it) says when.
    await waitFor(
      `policy ${CI_POLICY} to be enforced`,
      () => refusal(() => core.createNamespacedPod({ namespace: 'default', body: pod('probe', 'default'), dryRun: 'All' })),
      (r) => (r.message.includes(POLICY_REFUSED) ? undefined : `answer: ${r.status} ${r.message}`),
      { timeoutMs: 120_000, derivation: 'fixed: the policy informer of a loaded API server', progress: { afterMs: 30_000 } },
    );
  });

  after(async () => {
    await cp?.stop();
  });

  it('the kube config is the CI account with a token, not an admin', async () => {
    const review = await ci.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    assert.equal(review.status?.userInfo?.username, CI_USERNAME);
    assert.ok(ci.getCurrentUser()?.token, 'a bearer token');
    assert.equal(ci.getCurrentUser()?.certData, undefined);
  });

  it("admits the suite's writes: run namespace, its pods, the ServiceMonitor by name, port-forward, the teardown", async () => {
    const kube = suiteClient(runId);
    const namespace = await kube.ensureRunNamespace();
    const live = await adminCore.readNamespace({ name: namespace });
    assert.equal(live.metadata?.labels?.['obs-acceptance.io/run-id'], runId);

    const [crash] = (await kube.apply(await kube.loadManifests(CRASHLOOP_MANIFEST, { NAMESPACE: namespace }))) as k8s.V1Pod[];
    assert.equal(crash?.metadata?.namespace, namespace);
    // Applied again: server-side apply of an existing object is an UPDATE.
    await kube.apply(await kube.loadManifests(CRASHLOOP_MANIFEST, { NAMESPACE: namespace }));

    // The ServiceMonitor is applied for good (not in the ledger), twice: create, then update.
    for (let i = 0; i < 2; i++) {
      const [sm] = await kube.apply((await kube.loadManifests(SERVICE_MONITOR_MANIFEST)).slice(0, 1), { track: false });
      assert.equal(`${sm?.metadata?.namespace}/${sm?.metadata?.name}`, 'default/taskplanner');
    }

    // Port-forward is a CONNECT on pods/portforward: admitted, so the API server gets as far as
    // looking for the pod's node, which this control plane has none of.
    const forward = await refusal(() => core.connectPostNamespacedPodPortforward({ namespace: 'monitoring', name: 'prometheus-0', ports: 9090 }));
    assert.doesNotMatch(forward.message, new RegExp(POLICY_REFUSED), 'port-forward passes the policy');
    assert.equal(forward.status, 400, forward.message);
    assert.match(forward.message, /host/);

    await kube.delete({ apiVersion: 'v1', kind: 'Pod', name: 'crashloop', namespace });
    const report = await kube.cleanupRun();
    assert.deepEqual(report.failed, []);
    assert.ok(report.deleted.some((d) => d.includes(`Namespace ${namespace}`)), JSON.stringify(report));
    await waitFor(
      `namespace ${namespace} to be gone`,
      () => adminCore.listNamespace({ fieldSelector: `metadata.name=${namespace}` }),
      (list) => (list.items.length ? `still there, phase ${list.items[0]?.status?.phase}` : undefined),
      { timeoutMs: 120_000, derivation: 'fixed: the namespace controller of a loaded machine', progress: { afterMs: 30_000 } },
    );
  });

  it('npm run sweep as the CI account deletes a leftover run namespace', async () => {
    const leftover = await suiteClient(`${runId}old`).ensureRunNamespace();
    const r = await runChild(process.execPath, ['scripts/sweep.ts', '--older-than', '0'], {
      env: suiteFreeEnv({ KUBECONFIG: ciFile, KUBE_CONTEXT: CI_CONTEXT, OBS_ENV_FILE: join(cp.dir, 'none.env') }),
    });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`Namespace ${leftover}`));
    assert.match(r.stdout, /deleted 1, failed 0/);
    const ns = await adminCore.listNamespace({ fieldSelector: `metadata.name=${leftover}` });
    assert.ok(!ns.items.length || ns.items[0]?.metadata?.deletionTimestamp, 'the leftover is gone or going');
  });

  it("refuses, with the policy's message, a pod deleted in kube-system, a pod created in default, an unlabelled namespace deleted or adopted", async () => {
    const cases: [string, () => Promise<unknown>, string][] = [
      ['delete a pod in kube-system', () => core.deleteNamespacedPod({ namespace: 'kube-system', name: 'coredns' }), 'DELETE pods kube-system/coredns'],
      ['create a pod in default', () => core.createNamespacedPod({ namespace: 'default', body: pod('intruder', 'default') }), 'CREATE pods default/intruder'],
      ['delete an unlabelled namespace', () => core.deleteNamespace({ name: 'team-a' }), 'DELETE namespaces team-a'],
      [
        'label an existing namespace as a run namespace',
        () =>
          objects.patch(
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { 'obs-acceptance.io/suite': 'obs-acceptance', 'obs-acceptance.io/run-id': 'x' } } },
            undefined, undefined, 'obs-acceptance', true, k8s.PatchStrategy.ServerSideApply,
          ),
        'UPDATE namespaces team-a',
      ],
      [
        'create a suite namespace without a run id',
        () => core.createNamespace({ body: { metadata: { name: 'obs-acc-norun', labels: { 'obs-acceptance.io/suite': 'obs-acceptance' } } } }),
        'CREATE namespaces obs-acc-norun',
      ],
      [
        'apply another ServiceMonitor in default',
        () =>
          objects.patch(
            { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'not-taskplanner', namespace: 'default' }, spec: { selector: {}, endpoints: [] } },
            undefined, undefined, 'obs-acceptance', true, k8s.PatchStrategy.ServerSideApply,
          ),
        'CREATE monitoring.coreos.com/servicemonitors default/not-taskplanner',
      ],
    ];
    for (const [what, call, request] of cases) {
      const r = await refusal(call);
      assert.equal(r.status, 403, `${what}: ${r.message}`);
      assert.ok(r.message.includes(`${POLICY_REFUSED} ${request} by the CI account`), `${what}: ${r.message}`);
      assert.match(r.message, /It may write only inside a run namespace/, what);
    }

    // RBAC grants no write on Deployments at all: refused before admission, naming the verb.
    const deployment = await refusal(() =>
      objects.patch({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'grafana', namespace: 'monitoring', labels: { touched: 'yes' } } }, undefined, undefined, 'obs-acceptance', true, k8s.PatchStrategy.ServerSideApply),
    );
    assert.equal(deployment.status, 403, deployment.message);
    assert.match(deployment.message, /cannot patch resource "deployments" in API group "apps" in the namespace "monitoring"/);

    // Nothing was touched.
    assert.ok(await adminCore.readNamespacedPod({ namespace: 'kube-system', name: 'coredns' }));
    const teamA = await adminCore.readNamespace({ name: 'team-a' });
    assert.equal(teamA.metadata?.deletionTimestamp, undefined);
    assert.equal(teamA.metadata?.labels?.['obs-acceptance.io/suite'], undefined);
    const grafana = await cp.admin.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ namespace: 'monitoring', name: 'grafana' });
    assert.equal(grafana.metadata?.labels?.touched, undefined);
  });

  it('with cluster-admin bound to the account too, the policy alone still refuses everything outside run namespaces and the named objects', async (t) => {
    await cp.kubectl(['create', 'clusterrolebinding', 'obs-test-too-wide', '--clusterrole=cluster-admin', `--serviceaccount=obs-acceptance:obs-acceptance-ci`]);
    t.after(() => cp.kubectl(['delete', 'clusterrolebinding', 'obs-test-too-wide']));
    // The authorizer sees a new binding once its informer has it: the account's own question says when.
    const access = ci.makeApiClient(k8s.AuthorizationV1Api);
    await waitFor(
      'RBAC to grant the account cluster-admin',
      () =>
        access.createSelfSubjectAccessReview({
          body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { group: 'apps', resource: 'deployments', verb: 'patch', namespace: 'monitoring' } } },
        }),
      (review) => (review.status?.allowed ? undefined : `not yet: ${review.status?.reason ?? 'denied'}`),
      { timeoutMs: 60_000, derivation: 'fixed: the RBAC informer of a loaded API server', progress: { afterMs: 30_000 } },
    );
    const kube = suiteClient(`${runId}wide`);
    const namespace = await kube.ensureRunNamespace();
    await kube.apply(await kube.loadManifests(CRASHLOOP_MANIFEST, { NAMESPACE: namespace }));
    const rbac = ci.makeApiClient(k8s.RbacAuthorizationV1Api);

    const rule = (name: string) => ({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name, namespace: 'default' },
      spec: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'vector(1)' }] }] },
    });
    const ssa = (o: k8s.KubernetesObject) => () => objects.patch(o, undefined, undefined, 'obs-acceptance', true, k8s.PatchStrategy.ServerSideApply);
    // The second named object of the policy: admitted by name (RBAC grants it no write; cluster-admin does here).
    await ssa(rule('taskplanner'))();

    const cases: [string, () => Promise<unknown>, string][] = [
      ['patch a Deployment in monitoring', ssa({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'grafana', namespace: 'monitoring', labels: { touched: 'yes' } } }), 'UPDATE apps/deployments monitoring/grafana'],
      ['delete a pod in kube-system', () => core.deleteNamespacedPod({ namespace: 'kube-system', name: 'coredns' }), 'DELETE pods kube-system/coredns'],
      ['create a pod in default', () => core.createNamespacedPod({ namespace: 'default', body: pod('intruder', 'default') }), 'CREATE pods default/intruder'],
      ['delete an unlabelled namespace', () => core.deleteNamespace({ name: 'team-a' }), 'DELETE namespaces team-a'],
      ['delete the TaskPlanner ServiceMonitor', () => objects.delete({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'taskplanner', namespace: 'default' } }), 'DELETE monitoring.coreos.com/servicemonitors default/taskplanner'],
      ['apply another PrometheusRule in default', ssa(rule('other')), 'CREATE monitoring.coreos.com/prometheusrules default/other'],
      ['create a Secret in monitoring', () => core.createNamespacedSecret({ namespace: 'monitoring', body: { metadata: { name: 'mine' }, stringData: { a: 'b' } } }), 'CREATE secrets monitoring/mine'],
      ['create a ClusterRole', () => rbac.createClusterRole({ body: { metadata: { name: 'mine' }, rules: [] } }), 'CREATE rbac.authorization.k8s.io/clusterroles mine'],
      ['delete its own ClusterRoleBinding', () => rbac.deleteClusterRoleBinding({ name: 'obs-acceptance-ci' }), 'DELETE rbac.authorization.k8s.io/clusterrolebindings obs-acceptance-ci'],
      ['exec into a pod of its own run namespace', () => core.connectPostNamespacedPodExec({ namespace, name: 'crashloop', command: 'true' }), `CONNECT pods/exec ${namespace}/crashloop`],
    ];
    for (const [what, call, request] of cases) {
      const r = await refusal(call);
      assert.equal(r.status, 403, `${what}: ${r.message}`);
      assert.ok(r.message.includes(`${POLICY_REFUSED} ${request} by the CI account`), `${what}: ${r.message}`);
    }

    const report = await kube.cleanupRun();
    assert.deepEqual(report.failed, []);
  });
});
