/**
 * Broken on purpose: the TaskPlanner ServiceMonitor without the `release` label that
 * kube-prometheus-stack's Prometheus selects ServiceMonitors by. The real suite (a copy of it
 * whose manifests/taskplanner/servicemonitor.yaml lacks the label, as a mistake in the repository
 * would) runs OBS-01 on the simulated cluster as the CI account, and must fail at the selection,
 * naming the Prometheus resource's serviceMonitorSelector and the missing label. The real operator
 * then drops the scrape pool, as it would on any cluster.
 *
 * Changes the shared cluster for the length of one OBS-01 run (other runs' OBS-01 and OBS-08 fail
 * meanwhile), then restores the ServiceMonitor as sim:up applies it and as OBS-01 applies it, and
 * waits for the TaskPlanner target to be up again. Needs `npm run sim:up`.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Route } from '../../fixtures/kube/route.ts';
import type { PrometheusClient } from '../../fixtures/prometheus/client.ts';
import { applyAll, clients } from '../../scripts/lib/sim/apply.ts';
import { loadObjects } from '../../scripts/lib/sim/manifests.ts';
import { toolPath } from '../../scripts/lib/sim/tools.ts';
import { runChildOk } from '../support/child.ts';
import { admin, CI_CONTEXT, ciKubeconfig, copySuite, failures, requireSim, simPrometheus, ROOT, runIdFor, runSuiteOnSim, SIM_CONTEXT, SIM_KUBECONFIG, suiteKube, waitForHealthyTaskPlanner } from '../support/sim.ts';

const MANIFEST = 'manifests/taskplanner/servicemonitor.yaml';
let prometheusRoute: Route;
let prometheus: PrometheusClient;

async function labels(): Promise<Record<string, string>> {
  const sm = (await admin().custom.getNamespacedCustomObject({ group: 'monitoring.coreos.com', version: 'v1', namespace: 'default', plural: 'servicemonitors', name: 'taskplanner' })) as { metadata?: { labels?: Record<string, string> } };
  return sm.metadata?.labels ?? {};
}

void describe('broken on purpose: a ServiceMonitor without the release label', () => {
  before(async () => {
    await requireSim();
    ({ route: prometheusRoute, prometheus } = await simPrometheus());
    await waitForHealthyTaskPlanner(prometheus);
  });
  after(() => prometheusRoute?.close());

  void it('OBS-01 fails at the selection, naming the serviceMonitorSelector and the missing release label', async (t) => {
    const suite = copySuite({ [MANIFEST]: (text) => text.replace(/^ {4}release: kube-prometheus-stack\n/m, '') });
    try {
      // sim:up applied the ServiceMonitor too (field manager obs-sim), so an apply without the label
      // would leave it in place: the label goes first, as when someone removes it by hand.
      await runChildOk(toolPath('kubectl'), ['--kubeconfig', SIM_KUBECONFIG, '--context', SIM_CONTEXT, '-n', 'default', 'label', 'servicemonitor', 'taskplanner', 'release-']);
      const r = await runSuiteOnSim(['--grep', '@OBS-01\\b'], { kubeconfig: await ciKubeconfig(), context: CI_CONTEXT, runId: runIdFor('simbsm'), suiteDir: suite });
      assert.notEqual(r.run.code, 0, r.output);
      assert.equal((await labels()).release, undefined, 'the run applied the ServiceMonitor without the label');

      const failed = failures(r.specs);
      assert.deepEqual(failed.map((f) => f.title), ['the ServiceMonitor is applied, selected by the live Prometheus resource, and the TaskPlanner target is active and up'], r.output);
      const error = failed[0]?.error ?? '';
      t.diagnostic(error.split('\n').slice(0, 6).join('\n'));
      assert.match(error, /why the Prometheus resource does not select the TaskPlanner ServiceMonitor/);
      assert.match(error, /Prometheus monitoring\/kube-prometheus-stack-prometheus serviceMonitorSelector .*release.* does not select ServiceMonitor default\/taskplanner: .*release/);

      const obs01 = r.signoff.requirements.find((q) => q.id === 'OBS-01');
      assert.equal(obs01?.verdict, 'failed');
      assert.match(obs01?.tests.find((t) => t.verdict === 'failed')?.error ?? '', /why the Prometheus resource does not select the TaskPlanner ServiceMonitor/);
      assert.ok(r.signoff.environment.kubernetes.simulated, 'the sign-off says the cluster is simulated');
    } finally {
      rmSync(suite, { recursive: true, force: true });
      // As sim:up applies it, then as OBS-01 does, so that both field managers own the label again.
      await applyAll(clients(SIM_KUBECONFIG), loadObjects(join(ROOT, MANIFEST)));
      const kube = await suiteKube(runIdFor('simfix'), tmpdir());
      await kube.apply((await kube.loadManifests(MANIFEST)).slice(0, 1), { track: false });
      await waitForHealthyTaskPlanner(prometheus);
    }
    assert.equal((await labels()).release, 'kube-prometheus-stack', 'restored');
  });
});
