import { expect, test as setup } from '../../fixtures/index.ts';
import { runPreflight } from '../../fixtures/run/preflight.ts';
import { needsOf, selectionOfThisRun } from '../../fixtures/core/requirements.ts';

setup('preflight: configuration valid, cluster and every needed endpoint answering', async ({ config, endpoints, evidence }) => {
  const selection = selectionOfThisRun();
  const needs = needsOf(selection.requirements, config);
  const result = await runPreflight(config, needs, endpoints, { selectionKnown: selection.known });
  await evidence.attach('preflight', { selected: needs.requirements, needsKubernetes: needs.kubernetesBecause, ...result });
  for (const [component, version] of Object.entries(result.versions)) evidence.fingerprint(component, version);
  for (const problem of result.problems) evidence.problem(problem);
  expect(result.problems, `Preflight failed for ${needs.requirements.join(', ')}:\n- ${result.problems.join('\n- ')}\n`).toEqual([]);
});
