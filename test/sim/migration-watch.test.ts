/**
 * `npm run migration:watch` stopped with Ctrl-C on the simulated cluster of `npm run sim:up`
 * (issue 11: real kube-apiserver, controller-manager, scheduler and etcd; kwok playing the
 * nodes and their pods): the heartbeat pods it pinned to every node and the run namespace are
 * gone afterwards, as the API server tells, and the run's ledger is empty. Loki is a replayed
 * one (test/support/loki-replay.ts): the simulated cluster runs no Loki, and the clean-up does
 * not depend on what Loki holds.
 *
 * Part of `npm run test:sim`: needs the simulated cluster of `npm run sim:up`, and fails naming
 * it when the cluster is not up (it never skips).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { waitFor } from '../../fixtures/core/poll.ts';
import { Ledger } from '../../fixtures/kube/ledger.ts';
import { startChild, suiteFreeEnv } from '../support/child.ts';
import { ReplayLoki } from '../support/loki-replay.ts';
import { startReplayServer } from '../support/replay-server.ts';
import { requireSim, ROOT, SIM_CONTEXT, SIM_KUBECONFIG } from '../support/sim.ts';

const KUBECONFIG = SIM_KUBECONFIG;
const CONTEXT = SIM_CONTEXT;

void describe('npm run migration:watch on the simulated cluster (npm run sim:up)', () => {
  before(() => requireSim());

  void it('Ctrl-C deletes the heartbeat pods on every node and the run namespace, empties the ledger and exits 130', async (t) => {
    const runId = `mws${process.pid}`;
    const namespace = `obs-acc-${runId}`;
    const ledgerFile = Ledger.forRun(runId).file;
    const loki = await startReplayServer({ '/loki/api/v1/query_range': new ReplayLoki('3.6.7').route(), 'GET /ready': { headers: { 'content-type': 'text/plain' }, body: 'ready\n' } });
    const dir = await mkdtemp(join(tmpdir(), 'migration-watch-sim-'));
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(KUBECONFIG);
    kc.setCurrentContext(CONTEXT);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    t.after(async () => {
      await loki.close();
      await rm(dir, { recursive: true, force: true });
      // Should the test fail half-way, the cluster is shared: nothing of this run stays in it.
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      await rm(ledgerFile, { force: true });
    });

    const env = suiteFreeEnv({ KUBECONFIG, KUBE_CONTEXT: CONTEXT, OBS_RUN_ID: runId, LOKI_URL: loki.url, OBS_ENV_FILE: join(dir, 'none.env'), PREFLIGHT_TIMEOUT_MS: '30000' });
    const child = startChild(process.execPath, [join(ROOT, 'scripts', 'migration-watch.ts'), '--minutes', '30', '--out', join(dir, 'report')], { cwd: ROOT, env });
    await child.printed(/Switch the agents now/);

    const nodes = (await core.listNode()).items.filter((n) => !n.spec?.unschedulable).map((n) => n.metadata?.name).sort();
    const running = (await core.listNamespacedPod({ namespace, labelSelector: 'obs-acceptance.io/heartbeat=true' })).items;
    assert.deepEqual(running.map((p) => p.spec?.nodeName).sort(), nodes, 'one heartbeat pod pinned to each schedulable node');
    assert.ok(running.every((p) => p.metadata?.labels?.['obs-acceptance.io/run-id'] === runId));
    assert.ok(existsSync(ledgerFile), 'the ledger holds the heartbeat while the watch runs');

    child.signal('SIGINT');
    const r = await child.done;
    assert.equal(r.code, 130, `exit ${r.signal ?? r.code}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`Deleted ${nodes.length + 1} object\\(s\\) of run ${runId}`));
    assert.equal(existsSync(ledgerFile), false, 'nothing left in the ledger');
    assert.equal(existsSync(join(dir, 'report')), false, 'no report from an interrupted watch');

    // The namespace controller removes what is left once the namespace is deleted; it does so
    // at once in the simulated cluster, but it is the API server that says when.
    await waitFor(
      `namespace ${namespace} and its heartbeat pods to be gone`,
      async () => {
        try {
          const ns = await core.readNamespace({ name: namespace });
          const pods = (await core.listNamespacedPod({ namespace })).items.length;
          return `namespace ${ns.status?.phase ?? '?'}${ns.metadata?.deletionTimestamp ? ' (deleted, finalizing)' : ''}, ${pods} pod(s) left`;
        } catch (err) {
          if (err instanceof k8s.ApiException && err.code === 404) return 'gone';
          throw err;
        }
      },
      (state) => (state === 'gone' ? undefined : state),
      { timeoutMs: 120_000, derivation: 'fixed 120 s for the namespace controller to delete the pods and the namespace' },
    );
  });
});
