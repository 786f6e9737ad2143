/**
 * The run's own namespace, created first so the ledger deletes it last. Skipped when no
 * selected requirement acts on the cluster (a run of OBS-07 alone needs no Kubernetes).
 */
import { expect, test as setup } from '../../fixtures/index.ts';
import { REQUIREMENTS, requirementsOfThisRun } from '../../fixtures/core/requirements.ts';

setup('the run namespace exists, labelled with the suite and the run id', async ({ kube, runId }) => {
  setup.skip(!requirementsOfThisRun().some((id) => REQUIREMENTS[id].needsKubernetes), 'no selected requirement acts on the cluster');
  const namespace = await kube.ensureRunNamespace();
  const live = await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
  expect(live?.metadata?.labels).toMatchObject({ 'obs-acceptance.io/suite': 'obs-acceptance', 'obs-acceptance.io/run-id': runId });
});
