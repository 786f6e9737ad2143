/**
 * Ctrl-C: Playwright skips the teardown project on an interrupted run but awaits every
 * reporter's onEnd. The interrupt reporter then deletes what the run's ledger still holds,
 * newest first — here against replayed Kubernetes API responses, with the kube config read
 * from KUBECONFIG as in a real run.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FullResult } from '@playwright/test/reporter';
import InterruptCleanupReporter from '../fixtures/kube/interrupt-reporter.ts';
import { Ledger } from '../fixtures/kube/ledger.ts';
import { startKubeReplay } from './support/kube-replay.ts';

test('an interrupted run: the reporter deletes what the ledger still holds, newest first; a clean run touches nothing', async (t) => {
  const server = await startKubeReplay({
    'DELETE /api/v1/namespaces/obs-acc-intr1/pods/marker': { body: { kind: 'Status', apiVersion: 'v1', status: 'Success' } },
    'DELETE /api/v1/namespaces/obs-acc-intr1': { body: { kind: 'Status', apiVersion: 'v1', status: 'Success' } },
  });
  const dir = await mkdtemp(join(tmpdir(), 'obs-intr-'));
  const runId = `intr${process.pid}`;
  const ledger = Ledger.forRun(runId);
  t.after(async () => {
    await server.close();
    ledger.settle([]);
    await rm(dir, { recursive: true, force: true });
  });
  const kubeconfig = join(dir, 'config');
  await writeFile(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: replay, cluster: {server: "${server.url}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: replay, user: {token: replay-token-not-a-secret}}]',
      'contexts: [{name: replay, context: {cluster: replay, user: replay}}]',
      'current-context: replay',
    ].join('\n'),
  );
  process.env.KUBECONFIG = kubeconfig;
  process.env.OBS_RUN_ID = runId;
  delete process.env.KUBE_CONTEXT;
  const result = { status: 'interrupted', startTime: new Date(), duration: 1 } as FullResult;
  const reporter = new InterruptCleanupReporter();

  await reporter.onEnd(result);
  assert.equal(server.requests.length, 0, 'an empty ledger needs no API call');

  ledger.record({ apiVersion: 'v1', kind: 'Namespace', name: 'obs-acc-intr1' });
  ledger.record({ apiVersion: 'v1', kind: 'Pod', namespace: 'obs-acc-intr1', name: 'marker' });
  await reporter.onEnd(result);
  assert.deepEqual(
    server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path),
    ['/api/v1/namespaces/obs-acc-intr1/pods/marker', '/api/v1/namespaces/obs-acc-intr1'],
  );
  assert.deepEqual(ledger.entries(), []);
});
