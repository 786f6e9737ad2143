/**
 * The TaskPlanner alert rules, tested by promtool: test/rules/taskplanner.rules.yaml holds the
 * groups of manifests/taskplanner/prometheusrule.yaml as a rule file, so a reviewer runs
 * `promtool test rules test/rules/taskplanner.test.yaml` from the repository root as it is.
 * This test keeps that copy identical to the manifest (and prints the copy as it should be when
 * they differ), then runs exactly those promtool commands.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { loadManifestFile, REPO_ROOT, validateObjects } from '../fixtures/kube/manifests.ts';
import { promtoolOk as promtool } from './support/promtool.ts';

const RULE_FILE = 'test/rules/taskplanner.rules.yaml';

test('TaskPlanner PrometheusRule: valid, checked by promtool, and its promtool unit tests pass (TaskPlannerTargetDown, TaskPlannerHighErrorRate)', async () => {
  const [rule, ...rest] = await loadManifestFile('manifests/taskplanner/prometheusrule.yaml');
  assert.equal(rest.length, 0, 'one PrometheusRule in the file');
  assert.ok(rule);
  assert.deepEqual(await validateObjects([rule]), []);
  type Rule = { alert?: string; for?: string; labels?: Record<string, string> };
  const groups = (rule as { spec: { groups: { rules: Rule[] }[] } }).spec.groups;
  const alerts: Record<string, Rule> = {};
  for (const r of groups.flatMap((g) => g.rules)) if (r.alert) alerts[r.alert] = r;
  assert.deepEqual(
    { for: alerts.TaskPlannerTargetDown?.for, severity: alerts.TaskPlannerTargetDown?.labels?.severity },
    { for: '5m', severity: 'critical' },
  );
  assert.deepEqual(
    { for: alerts.TaskPlannerHighErrorRate?.for, severity: alerts.TaskPlannerHighErrorRate?.labels?.severity },
    { for: '10m', severity: 'warning' },
  );

  const copy = parse(await readFile(resolve(REPO_ROOT, RULE_FILE), 'utf8')) as { groups: unknown };
  assert.deepEqual(
    copy.groups,
    groups,
    `${RULE_FILE} is not the manifest's spec.groups: replace everything below its header comment with\n${stringify({ groups }, { lineWidth: 0 })}`,
  );
  // From the repository root, as the README tells a reviewer to run them.
  assert.match(await promtool(['check', 'rules', RULE_FILE], REPO_ROOT), /SUCCESS: 2 rules found/);
  assert.match(await promtool(['test', 'rules', 'test/rules/taskplanner.test.yaml'], REPO_ROOT), /SUCCESS/);
});
