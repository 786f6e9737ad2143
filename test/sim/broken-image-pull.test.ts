/**
 * Broken on purpose: OBS-06's crash-looping pod cannot pull its image (a copy of the suite whose
 * manifests/crashloop/crashloop-pod.yaml names the tag `does-not-exist`, which the simulated
 * cluster's kwok Stage answers as a kubelet does: ErrImagePull, then ImagePullBackOff, with the
 * kubelet's events). The wait for CrashLoopBackOff must end at once with that reason, not at its
 * deadline. The real suite runs OBS-06 as the CI account; only the run's own namespace is touched.
 * Needs `npm run sim:up`.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { admin, CI_CONTEXT, ciKubeconfig, copySuite, failures, requireSim, runIdFor, runSuiteOnSim } from '../support/sim.ts';

const MANIFEST = 'manifests/crashloop/crashloop-pod.yaml';
const runId = runIdFor('simbip');

void describe('broken on purpose: a pod in ImagePullBackOff', () => {
  before(() => requireSim());
  after(() => admin().core.deleteNamespace({ name: `obs-acc-${runId}` }).catch(() => undefined));

  void it('OBS-06 stops waiting for CrashLoopBackOff at once, naming the pod, the container and the image pull failure', async (t) => {
    const suite = copySuite({ [MANIFEST]: (text) => text.replace('image: docker.io/library/busybox:1.37.0', 'image: docker.io/library/busybox:does-not-exist') });
    try {
      const r = await runSuiteOnSim(['--grep', '@OBS-06\\b'], { kubeconfig: await ciKubeconfig(), context: CI_CONTEXT, runId, suiteDir: suite });
      assert.notEqual(r.run.code, 0, r.output);
      const failed = failures(r.specs);
      assert.deepEqual(failed.map((f) => f.title), ['a crash-looping pod makes KubePodCrashLooping go pending for exactly that pod'], r.output);
      const error = failed[0]?.error ?? '';
      t.diagnostic(error.split('\n').slice(0, 3).join('\n'));
      assert.match(error, new RegExp(`Stopped waiting for a container of pod obs-acc-${runId}/crashloop to be waiting with reason CrashLoopBackOff after [^:]*: pod obs-acc-${runId}/crashloop container crash is (ErrImagePull|ImagePullBackOff)`));
      assert.match(error, /does-not-exist/);
      // At once: it stopped on the reason, it did not give up at the deadline.
      assert.doesNotMatch(error, /Timed out|gave up/);
      assert.doesNotMatch(r.output, /✗ OBS-06 gave up waiting for a container of pod/);

      const obs06 = r.signoff.requirements.find((q) => q.id === 'OBS-06');
      assert.equal(obs06?.verdict, 'failed');
      assert.deepEqual(
        obs06?.tests.map((x) => [x.title.split(' › ').at(-1), x.verdict]),
        [
          ['the rule is loaded and healthy, and the alert pipeline is alive', 'passed'],
          ['a crash-looping pod makes KubePodCrashLooping go pending for exactly that pod', 'failed'],
          ['KubePodCrashLooping fires and reaches Alertmanager with its labels', 'not run'],
          ['KubePodCrashLooping resolves after the pod is removed', 'not run'],
        ],
      );
    } finally {
      rmSync(suite, { recursive: true, force: true });
    }
  });
});
