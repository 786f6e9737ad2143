/**
 * Broken on purpose: no crash loop. The simulated cluster's crash-loop kwok Stages (label
 * `sim.obs-acceptance.io/behaviour=crash-loop`, sim/kwok/pod-stages.yaml) are deleted, so the
 * suite's crash-looping pod runs and is Ready like any other pod. OBS-06 then waits for
 * CrashLoopBackOff until its deadline and must say that it gave up there and how the deadline was
 * derived; the alert tests after it do not run. The simulated cluster loads KubePodCrashLooping
 * with the nightly's short `for` (2m), so the rule's own deadlines are minutes, not 17.
 *
 * The real suite runs OBS-06 as the CI account. Changes the shared cluster for one OBS-06 run
 * (about four minutes: another run's crash-looping pod would not crash meanwhile), then applies the
 * Stages again as sim:up does. Needs `npm run sim:up`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyAll, clients } from '../../scripts/lib/sim/apply.ts';
import { runnerImagesRegex } from '../../scripts/lib/sim/images.ts';
import { PATHS } from '../../scripts/lib/sim/layout.ts';
import { loadObjects } from '../../scripts/lib/sim/manifests.ts';
import { admin, CI_CONTEXT, ciKubeconfig, failures, requireSim, runIdFor, runSuiteOnSim, SIM_KUBECONFIG } from '../support/sim.ts';

const BEHAVIOUR = 'sim.obs-acceptance.io/behaviour';
const runId = runIdFor('simbnc');

/** The crash-loop Stages as sim:up applies them (its placeholders filled the same way). */
function crashLoopStages() {
  return loadObjects(join(PATHS.simDir, 'kwok', 'pod-stages.yaml'), { SIM_DIR: PATHS.simDir, RUNNER_IMAGES: runnerImagesRegex() }).filter((o) => o.metadata?.labels?.[BEHAVIOUR] === 'crash-loop');
}

async function stagesInCluster(): Promise<string[]> {
  const list = (await admin().custom.listClusterCustomObject({ group: 'kwok.x-k8s.io', version: 'v1alpha1', plural: 'stages', labelSelector: `${BEHAVIOUR}=crash-loop` })) as { items: { metadata: { name: string } }[] };
  return list.items.map((s) => s.metadata.name).sort();
}

void describe('broken on purpose: no crash loop', () => {
  before(() => requireSim());
  after(() => admin().core.deleteNamespace({ name: `obs-acc-${runId}` }).catch(() => undefined));

  void it('OBS-06 gives up waiting for CrashLoopBackOff at its deadline, saying so and how it was derived; the alert tests do not run', async (t) => {
    const expected = crashLoopStages().map((s) => s.metadata?.name ?? '').sort();
    assert.ok(expected.length >= 2, `crash-loop Stages in sim/kwok/pod-stages.yaml: ${expected.join(', ')}`);
    assert.deepEqual(await stagesInCluster(), expected, 'the simulated cluster plays the crash loop before the test');
    for (const name of expected) await admin().custom.deleteClusterCustomObject({ group: 'kwok.x-k8s.io', version: 'v1alpha1', plural: 'stages', name });
    try {
      const r = await runSuiteOnSim(['--grep', '@OBS-06\\b'], { kubeconfig: await ciKubeconfig(), context: CI_CONTEXT, runId });
      assert.notEqual(r.run.code, 0, r.output);
      const failed = failures(r.specs);
      assert.deepEqual(failed.map((f) => f.title), ['a crash-looping pod makes KubePodCrashLooping go pending for exactly that pod'], r.output);
      const error = failed[0]?.error ?? '';
      t.diagnostic(error.split('\n').slice(0, 4).join('\n'));
      assert.match(error, new RegExp(`Timed out after [^(]*\\(deadline 3 min\\) waiting for a container of pod obs-acc-${runId}/crashloop to be waiting with reason CrashLoopBackOff`));
      assert.match(error, /last seen: not yet: obs-acc-\w+\/crashloop Running Ready \[crash: running, ready, 0 restarts\]/);
      assert.match(error, /deadline: fixed 180 s: image pull \(busybox\), the first crash and the first 10 s back-off/);
      // The person watching was told too, with the deadline as a clock time.
      assert.match(r.output, new RegExp(`✗ OBS-06 gave up waiting for a container of pod obs-acc-${runId}/crashloop to be waiting with reason CrashLoopBackOff after [^,]+, at its deadline`));

      const obs06 = r.signoff.requirements.find((q) => q.id === 'OBS-06');
      assert.equal(obs06?.verdict, 'failed');
      assert.deepEqual(
        obs06?.tests.map((x) => x.verdict),
        ['passed', 'failed', 'not run', 'not run'],
      );
    } finally {
      await applyAll(clients(SIM_KUBECONFIG), crashLoopStages());
    }
    assert.deepEqual(await stagesInCluster(), expected, 'the Stages are back');
  });
});
