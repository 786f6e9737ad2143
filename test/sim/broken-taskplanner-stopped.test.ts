/**
 * Broken on purpose: the TaskPlanner process stopped. The simulated cluster's pod runner stops it
 * on request (pod annotation `sim.obs-acceptance.io/stop: taskplanner`) and keeps it down; like a
 * kubelet whose readiness probe fails, it reports the container not ready, so the pod is not Ready,
 * its EndpointSlice endpoint turns not ready, and Prometheus' next scrape of the target fails with
 * "connection refused" (the operator keeps not-ready endpoints as targets).
 *
 * Which link the chain must name: "pod ready", the first broken link from the pod up. Every later
 * failure (no ready endpoint, the scrape refused) follows from it, and the pod's state is where a
 * person has to look: the container terminated, not ready. So the headline names the pod, and the
 * chain below it still carries the scrape's own error, "connection refused", as the consequence.
 * On a real cluster a stopped process fails the readiness probe the same way, within the probe's
 * period times its failure threshold; the scrape error alone would be the first broken link only
 * if the pod stayed Ready (test/sim/scrape-check.test.ts shows that case).
 *
 * The real suite runs OBS-01 as the CI account. Changes the shared cluster for about four minutes
 * (OBS-01 waits out its derived deadline), then lets the process start again and waits for the
 * target to be up. Needs `npm run sim:up`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../fixtures/core/poll.ts';
import { isPodReady } from '../../fixtures/kube/pod-health.ts';
import type { Route } from '../../fixtures/kube/route.ts';
import type { PrometheusClient } from '../../fixtures/prometheus/client.ts';
import { toolPath } from '../../scripts/lib/sim/tools.ts';
import { runChildOk } from '../support/child.ts';
import { admin, CI_CONTEXT, ciKubeconfig, failures, requireSim, simPrometheus, runIdFor, runSuiteOnSim, SIM_CONTEXT, SIM_KUBECONFIG, waitForHealthyTaskPlanner } from '../support/sim.ts';

const STOP = 'sim.obs-acceptance.io/stop';
let prometheusRoute: Route;
let prometheus: PrometheusClient;

async function taskplannerPod(): Promise<string> {
  const pods = await admin().core.listNamespacedPod({ namespace: 'default', labelSelector: 'app.kubernetes.io/name=taskplanner' });
  const name = pods.items.find((p) => !p.metadata?.deletionTimestamp)?.metadata?.name;
  if (!name) throw new Error('no TaskPlanner pod in namespace default: is the simulated cluster up (npm run sim:up)?');
  return name;
}

const annotate = (pod: string, value: string) =>
  runChildOk(toolPath('kubectl'), ['--kubeconfig', SIM_KUBECONFIG, '--context', SIM_CONTEXT, '-n', 'default', 'annotate', '--overwrite', 'pod', pod, value]);

void describe('broken on purpose: the TaskPlanner process stopped', () => {
  before(async () => {
    await requireSim();
    ({ route: prometheusRoute, prometheus } = await simPrometheus());
    await waitForHealthyTaskPlanner(prometheus);
  });
  after(() => prometheusRoute?.close());

  void it('OBS-01 fails at its derived deadline and the chain names "pod ready" first, with the refused scrape below it', async (t) => {
    const pod = await taskplannerPod();
    await annotate(pod, `${STOP}=taskplanner`);
    try {
      await waitFor(
        `pod default/${pod} not Ready once its process is stopped`,
        () => admin().core.readNamespacedPod({ namespace: 'default', name: pod }),
        (p) => (isPodReady(p) ? 'still Ready' : undefined),
        { timeoutMs: 60_000, derivation: 'fixed 60 s: the runner stops the process and reports the pod within seconds' },
      );
      // Target health is the last scrape's: until Prometheus scrapes the stopped process, the target
      // still reads up and OBS-01 rightly passes. The broken state starts with that scrape.
      await waitFor(
        'the TaskPlanner target of serviceMonitor/default/taskplanner/0 to be down after the stop',
        () => prometheus.targets('active'),
        (x) => {
          const own = x.activeTargets.filter((a) => a.scrapePool === 'serviceMonitor/default/taskplanner/0');
          return own.length && own.every((a) => a.health === 'down') ? undefined : `targets: ${own.map((a) => `${a.scrapeUrl} ${a.health}`).join('; ') || 'none'}`;
        },
        { timeoutMs: 120_000, derivation: 'fixed 120 s: the next 15 s scrape, the operator and reload with room to spare' },
      );
      const r = await runSuiteOnSim(['--grep', '@OBS-01\\b'], { kubeconfig: await ciKubeconfig(), context: CI_CONTEXT, runId: runIdFor('simbtp') });
      assert.notEqual(r.run.code, 0, r.output);
      const failed = failures(r.specs);
      assert.deepEqual(failed.map((f) => f.title), ['the ServiceMonitor is applied, selected by the live Prometheus resource, and the TaskPlanner target is active and up'], r.output);
      const error = failed[0]?.error ?? '';
      t.diagnostic(error.split('\n').slice(0, 7).join('\n'));
      assert.match(error, new RegExp(`^(Error: )?The TaskPlanner target is not up\\. Broken link: pod ready — no pod is Ready: default/${pod} Running not ready \\[taskplanner: terminated`));
      assert.match(error, /✗ Service endpoints: default\/taskplanner has 1 endpoint\(s\), none ready, on port "http"/);
      assert.match(error, /✓ selector match/);
      assert.match(error, /✗ last scrape: http:\/\/10\.244\.\d+\.\d+:3000\/metrics is down, last scrape error: .*connection refused/);
      // It waited for its derived deadline, and says which.
      assert.match(error, /\(Timed out after [^(]*\(deadline [^)]*\) waiting for an active TaskPlanner target/);
      assert.equal(r.signoff.requirements.find((q) => q.id === 'OBS-01')?.verdict, 'failed');
    } finally {
      await annotate(pod, `${STOP}-`);
      await waitForHealthyTaskPlanner(prometheus);
    }
  });
});
