/**
 * The CI service account (manifests/rbac/): putting its RBAC and admission policy into a cluster,
 * and a kube config that acts as it, with a short-lived token from the TokenRequest API
 * (https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-request-v1/,
 * what `kubectl create token` calls). The token lives only in the written file (mode 0600, under
 * .cache/, which git ignores); it expires by itself.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { assertValid, loadManifestFile, REPO_ROOT } from '../../fixtures/kube/manifests.ts';
import { kubeCall } from '../../fixtures/kube/errors.ts';
import { describeRef } from '../../fixtures/kube/ledger.ts';

/** The account, as manifests/rbac/serviceaccount.yaml creates it. */
export const CI_ACCOUNT = { namespace: 'obs-acceptance', name: 'obs-acceptance-ci' } as const;
/** The user name the API server gives the account's tokens (what the policy's matchConditions compare). */
export const CI_USERNAME = `system:serviceaccount:${CI_ACCOUNT.namespace}:${CI_ACCOUNT.name}`;
/** The admission policy that fences the account's writes (manifests/rbac/admission-policy.yaml). */
export const CI_POLICY = 'obs-acceptance-ci-writes';
/** The files applied, in order: the account, what it may do, then the policy around it. */
export const CI_ACCESS_FILES = ['serviceaccount.yaml', 'clusterrole.yaml', 'role-monitoring.yaml', 'admission-policy.yaml'].map((f) =>
  join(REPO_ROOT, 'manifests', 'rbac', f),
);
/** The context name in the written kube config. */
export const CI_CONTEXT = 'obs-acceptance-ci';
/** The field manager of the cluster-admin apply (the suite's own manager is `obs-acceptance`). */
const FIELD_MANAGER = 'obs-acceptance-admin';

/**
 * Applies manifests/rbac/ (every object validated first) with server-side apply, as the user of
 * `admin` (a cluster admin: it grants RBAC and creates an admission policy). The `monitoring`
 * namespace must exist (the Role for the Grafana admin Secret lives there).
 * @returns the objects applied, described (`ClusterRole obs-acceptance-ci`).
 * @throws KubeError naming the object the API server refused.
 */
export async function applyCiAccess(admin: k8s.KubeConfig): Promise<string[]> {
  const objects: k8s.KubernetesObject[] = [];
  for (const file of CI_ACCESS_FILES) objects.push(...(await loadManifestFile(file)));
  await assertValid(objects);
  const api = k8s.KubernetesObjectApi.makeApiClient(admin);
  const done: string[] = [];
  for (const object of objects) {
    const ref = { apiVersion: object.apiVersion ?? '', kind: object.kind ?? '', name: object.metadata?.name ?? '', ...(object.metadata?.namespace ? { namespace: object.metadata.namespace } : {}) };
    await kubeCall(`Server-side apply of ${describeRef(ref)}`, () => api.patch(object, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply));
    done.push(describeRef(ref));
  }
  return done;
}

export interface CiToken {
  token: string;
  /** When the API server says the token expires (it may shorten the duration asked for). */
  expiresAt: Date;
}

/**
 * A token for the CI account from the TokenRequest API, as `kubectl create token
 * obs-acceptance-ci --duration=…` gets one.
 * @param seconds the lifetime asked for; the API server accepts 600 s (10 min) and more and may cap it.
 * @throws KubeError (404 when the account does not exist: apply manifests/rbac/ first).
 */
export async function mintCiToken(admin: k8s.KubeConfig, seconds: number): Promise<CiToken> {
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const answer = await kubeCall(`Requesting a token for ServiceAccount ${CI_ACCOUNT.namespace}/${CI_ACCOUNT.name} (TokenRequest)`, () =>
    core.createNamespacedServiceAccountToken({
      namespace: CI_ACCOUNT.namespace,
      name: CI_ACCOUNT.name,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: Math.round(seconds) } },
    }),
  );
  const token = answer.status?.token;
  if (!token) throw new Error(`The API server answered the TokenRequest for ${CI_USERNAME} without a token.`);
  return { token, expiresAt: new Date(answer.status?.expirationTimestamp ?? Date.now()) };
}

/**
 * A kube config that reaches the cluster of `admin`'s current context as the CI account:
 * the same server and certificate authority, the token as the user, one context `contextName`,
 * which is current.
 */
export function ciKubeConfig(admin: k8s.KubeConfig, token: string, contextName: string = CI_CONTEXT): k8s.KubeConfig {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error(`The kube config's context ${JSON.stringify(admin.getCurrentContext())} names no cluster.`);
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster, name: contextName }],
    users: [{ name: CI_ACCOUNT.name, token }],
    contexts: [{ name: contextName, cluster: contextName, user: CI_ACCOUNT.name }],
    currentContext: contextName,
  });
  return kc;
}

/** Writes `kc` to `file` (directories made), readable by its owner only: it holds a token. */
export function writeKubeConfig(kc: k8s.KubeConfig, file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${kc.exportConfig()}\n`, { mode: 0o600 });
}
