/**
 * OBS-06's crash-looping pod, started at the beginning of the run: KubePodCrashLooping waits
 * `for` 15 minutes (as loaded in Prometheus) before it fires, and that wait runs while the other
 * requirements are tested. Skipped when OBS-06 is not selected.
 */
import { expect, test as setup } from '../../fixtures/index.ts';

setup('OBS-06: the crash-looping pod is started in the run namespace, labelled with the run id', async ({ crashLoopWorkload, runId }) => {
  setup.skip(!crashLoopWorkload.selected, 'OBS-06 is not selected in this run');
  const pod = await crashLoopWorkload.start();
  expect(pod.metadata?.labels, `labels of pod ${crashLoopWorkload.ref.namespace}/${crashLoopWorkload.ref.pod}`).toMatchObject({
    'app.kubernetes.io/name': 'crashloop',
    'obs-acceptance.io/run-id': runId,
  });
});
