/**
 * OBS-03 Loki runs and keeps logs 7 days: Loki is ready, lines from the cluster are
 * queryable, and the running configuration (read back from /config and, on Loki ≥ 3.6, the
 * tenant's effective limits; not from the Helm values) keeps every stream 7 days, judged for
 * the Loki version that runs (2.9 or 3.x). With LOKI_URL set, no Kubernetes is needed.
 */
import { expect, test } from '../fixtures/index.ts';

const RETENTION_DAYS = 7;
const RECENT_MINUTES = 5;

test.describe('OBS-03 Loki runs and keeps logs 7 days', () => {
  test('Loki is ready, holds recent lines from the cluster and keeps logs for 7 days', { tag: ['@OBS-03'] }, async ({ lokiChecks, evidence }) => {
    await test.step('Loki answers /ready with "ready"', async () => {
      const r = await lokiChecks.ready();
      await evidence.attach('Loki /ready', r);
      expect(r, `Loki at ${lokiChecks.endpoint} should answer /ready with 200 "ready"; it said HTTP ${r.status} "${r.body}". Look at the Loki pod's log (kubectl -n monitoring logs loki-0)`).toEqual({ ready: true, status: 200, body: 'ready' });
    });

    await test.step(`log lines from the cluster arrived in the last ${RECENT_MINUTES} minutes`, async () => {
      const { query, entries, tenant } = await lokiChecks.recentClusterLines(RECENT_MINUTES);
      await evidence.attach('recent cluster lines', { query, tenant, sample: entries.slice(0, 5).map((e) => ({ labels: e.labels, line: e.line.slice(0, 200) })) });
      evidence.figure('OBS-03 lines in the last 5 min (sample limit 20)', entries.length);
      expect(entries.length, `Loki should hold lines from the last ${RECENT_MINUTES} minutes for ${query}, read as ${tenant}; it answered with no streams. Is the agent (Alloy) running and pushing to ${lokiChecks.endpoint}, into that tenant? See OBS-04`).toBeGreaterThan(0);
    });

    await test.step('the running configuration keeps every stream 7 days', async () => {
      const { judgement, problems, notes, configExcerpt } = await lokiChecks.retention(RETENTION_DAYS);
      await evidence.attach('Loki /config (retention keys)', configExcerpt);
      await evidence.attach('Loki retention per stream', { source: judgement.source, classes: judgement.classes, notes });
      evidence.figure('Loki retention_period', judgement.retentionPeriod ?? 'unset');
      expect(problems, `Loki's running config (${lokiChecks.endpoint}/config) should keep every stream ${RETENTION_DAYS} days:\n${problems.join('\n')}\n(${notes.join('; ')})`).toEqual([]);
    });
  });
});
