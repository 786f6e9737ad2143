/**
 * The teardown project (playwright.config.ts: setup's `teardown`): deletes everything the
 * run recorded in its ledger, newest first, whether the tests passed or failed. Playwright
 * does not run teardown projects on Ctrl-C; `fixtures/kube/interrupt-reporter.ts` cleans up then.
 */
import { expect, test as teardown } from '../../fixtures/index.ts';

teardown('everything this run created is deleted, newest first', async ({ kube, evidence }) => {
  const report = await kube.cleanupRun();
  await evidence.attach('cleanup', report);
  evidence.figure('objects deleted at the end of the run', report.deleted.length);
  expect(report.failed, 'objects that could not be deleted (npm run sweep removes leftovers later)').toEqual([]);
});
