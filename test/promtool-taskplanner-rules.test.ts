/**
 * The TaskPlanner alert rules, tested by promtool: the groups of
 * manifests/taskplanner/prometheusrule.yaml are written to a rule file and
 * test/rules/taskplanner.test.yaml runs against them (`promtool test rules`), so the tests
 * always exercise the rules exactly as the manifest ships them.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { loadManifestFile, REPO_ROOT, validateObjects } from '../fixtures/kube/manifests.ts';
import { promtoolOk as promtool } from './support/promtool.ts';

test('TaskPlanner PrometheusRule: valid, checked by promtool, and its promtool unit tests pass (TaskPlannerTargetDown, TaskPlannerHighErrorRate)', async (t) => {
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

  const dir = await mkdtemp(join(tmpdir(), 'obs-rules-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'taskplanner.rules.yaml'), stringify({ groups }));
  await copyFile(resolve(REPO_ROOT, 'test/rules/taskplanner.test.yaml'), join(dir, 'taskplanner.test.yaml'));
  assert.match(await promtool(['check', 'rules', 'taskplanner.rules.yaml'], dir), /SUCCESS: 2 rules found/);
  assert.match(await promtool(['test', 'rules', 'taskplanner.test.yaml'], dir), /SUCCESS/);
});
