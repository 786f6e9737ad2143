/**
 * Ctrl-C during a real run of the suite on the simulated cluster, as the CI account: Playwright
 * skips the teardown project on an interrupted run, but awaits every reporter's onEnd, and the
 * interrupt reporter (fixtures/kube/interrupt-reporter.ts, in playwright.config.ts) deletes what
 * the run's ledger still holds — here the run namespace and OBS-06's crash-looping pod that
 * setup created. The API server, not the ledger, says they are gone. Needs `npm run sim:up`.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../fixtures/core/poll.ts';
import { Ledger } from '../../fixtures/kube/ledger.ts';
import { describeOutput, startChild, suiteFreeEnv } from '../support/child.ts';
import { admin, CI_CONTEXT, ciKubeconfig, requireSim, ROOT, runIdFor } from '../support/sim.ts';

const runId = runIdFor('simint');
const namespace = `obs-acc-${runId}`;
const out = mkdtempSync(join(tmpdir(), 'obs-sim-interrupt-'));

/** What the API server answers for the run namespace: 'gone', or its phase. */
async function namespaceState(): Promise<string> {
  try {
    const ns = await admin().core.readNamespace({ name: namespace });
    return `${ns.status?.phase ?? '?'}${ns.metadata?.deletionTimestamp ? ' (deleted, finalizing)' : ''}`;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return 'gone';
    throw err;
  }
}

void describe('Ctrl-C during a run on the simulated cluster', () => {
  before(() => requireSim());
  after(async () => {
    await admin().core.deleteNamespace({ name: namespace }).catch(() => undefined);
    rmSync(Ledger.forRun(runId).file, { force: true });
    rmSync(out, { recursive: true, force: true });
  });

  void it('the interrupt reporter deletes the run namespace and the crash-looping pod the run created; the ledger ends empty; exit 130', async () => {
    const env = suiteFreeEnv({
      KUBECONFIG: await ciKubeconfig(),
      KUBE_CONTEXT: CI_CONTEXT,
      OBS_RUN_ID: runId,
      OBS_REPORT_DIR: join(out, 'report'),
      OBS_ENV_FILE: join(out, 'none.env'),
      FORCE_COLOR: '0',
    });
    const child = startChild(process.execPath, [join(ROOT, 'node_modules/@playwright/test/cli.js'), 'test', '--grep', '@OBS-06\\b', '--output', join(out, 'test-results')], { cwd: ROOT, env });
    const ledger = Ledger.forRun(runId);
    // Interrupted once setup has created the pod, while OBS-06 waits for it.
    await waitFor(
      `setup to create pod ${namespace}/crashloop`,
      async () => (await admin().core.listNamespacedPod({ namespace })).items.map((p) => p.metadata?.name ?? '?'),
      (names) => (names.includes('crashloop') ? undefined : `pods: ${names.join(', ') || 'none'}; the run printed last: ${child.stdout().slice(-1500)}`),
      { timeoutMs: 300_000, derivation: 'fixed 5 min: Playwright loads the suite, preflight and setup run (seconds on an idle machine)' },
    ).catch((err: unknown) => {
      child.signal('SIGKILL');
      throw err;
    });
    assert.deepEqual(
      ledger.entries().map((e) => `${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name}`),
      [`Namespace ${namespace}`, `Pod ${namespace}/crashloop`],
      'the ledger holds what setup created',
    );

    child.signal('SIGINT');
    const r = await child.done;
    const all = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.code, 130, `exit ${r.signal ?? r.code}\n${describeOutput(r)}`);
    assert.match(all, new RegExp(`obs-acceptance: run ${runId} ended interrupted with 2 object\\(s\\) not yet deleted; deleting them now`));
    assert.match(all, /obs-acceptance: deleted 2, already gone 0, failed 0/);
    assert.equal(existsSync(ledger.file), false, 'the ledger is empty');

    await waitFor(`namespace ${namespace} to be gone`, namespaceState, (s) => (s === 'gone' ? undefined : s), {
      timeoutMs: 120_000,
      derivation: 'fixed 120 s for the namespace controller to delete the pod and the namespace',
    });
  });
});
