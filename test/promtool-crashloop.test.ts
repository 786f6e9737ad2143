/**
 * KubePodCrashLooping as kube-prometheus-stack renders it (test/rules/kube-pod-crashlooping.yaml),
 * unit-tested by promtool: kubernetes-mixin's own case, a crash loop flapping at
 * kube-state-metrics' cadence, one alert per pod, resolution after removal
 * (test/rules/kube-pod-crashlooping.test.yaml). Two further checks keep the tests honest: the
 * same tests must fail against the expression without `max_over_time` (so the flapping case
 * really exercises why upstream uses it), and the `for` our nightly values set through
 * `customRules` must fire exactly then.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseSeconds } from '../fixtures/core/duration.ts';
import { promtool } from './support/promtool.ts';

const RULES = new URL('rules/kube-pod-crashlooping.yaml', import.meta.url);
const TESTS = new URL('rules/kube-pod-crashlooping.test.yaml', import.meta.url);
const NIGHTLY_VALUES = new URL('../manifests/kube-prometheus-stack/values.yaml', import.meta.url);

interface RuleFile {
  groups: { name: string; rules: { alert: string; expr: string; for?: string; labels?: Record<string, string> }[] }[];
}

async function ruleFile(): Promise<RuleFile> {
  return parse(await readFile(RULES, 'utf8')) as RuleFile;
}

/** A scratch directory holding `kube-pod-crashlooping.yaml` (possibly altered) and the promtool tests. */
async function scratch(rules: RuleFile, t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'obs-crashloop-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'kube-pod-crashlooping.yaml'), stringify(rules));
  await copyFile(TESTS, join(dir, 'kube-pod-crashlooping.test.yaml'));
  return dir;
}

void describe('KubePodCrashLooping rule unit tests (promtool)', () => {
  void it('is the rule the chart renders: max_over_time over 5m of the CrashLoopBackOff reason, for 15m, severity warning', async () => {
    const rule = (await ruleFile()).groups[0]?.rules[0];
    assert.equal(rule?.alert, 'KubePodCrashLooping');
    assert.equal(
      rule.expr,
      'max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics", namespace=~".*"}[5m]) >= 1',
    );
    assert.equal(rule.for, '15m');
    assert.deepEqual(rule.labels, { severity: 'warning' });
    const check = await promtool(['check', 'rules', RULES.pathname], tmpdir());
    assert.ok(check.ok, check.output);
    assert.match(check.output, /SUCCESS: 1 rules found/);
  });

  void it('passes the mixin case, flapping at kube-state-metrics cadence, one alert per pod, resolution after removal, short loops', async () => {
    // The committed files, from the repository root, as the README tells a reviewer to run them.
    const result = await promtool(['test', 'rules', 'test/rules/kube-pod-crashlooping.test.yaml'], fileURLToPath(new URL('..', import.meta.url)));
    assert.ok(result.ok, result.output);
    assert.match(result.output, /SUCCESS/);
  });

  void it('fails the flapping cases when the expression drops max_over_time (why upstream uses it)', async (t) => {
    const naive = await ruleFile();
    const rule = naive.groups[0]?.rules[0];
    assert.ok(rule);
    rule.expr = rule.expr.replace(/^max_over_time\((.*)\[5m\]\)/, '$1');
    assert.doesNotMatch(rule.expr, /max_over_time|\[5m\]/);
    const dir = await scratch(naive, t);
    const result = await promtool(['test', 'rules', 'kube-pod-crashlooping.test.yaml'], dir);
    assert.equal(result.ok, false, `promtool should fail without max_over_time:\n${result.output}`);
    assert.match(result.output, /name: upstream mixin case - flapping series fires at 15m and clears/);
    assert.match(result.output, /name: crash loop at kube-state-metrics cadence, flapping every 3\.5 minutes, fires at 15m/);
  });

  void it('fires exactly at the for our nightly values set through customRules.KubePodCrashLooping.for', async (t) => {
    const values = parse(await readFile(NIGHTLY_VALUES, 'utf8')) as { customRules?: { KubePodCrashLooping?: { for?: string } } };
    // The chart renders `{{ dig "KubePodCrashLooping" "for" "15m" .Values.customRules }}`.
    const forText = values.customRules?.KubePodCrashLooping?.for ?? '15m';
    const forSeconds = parseSeconds(forText, 'customRules.KubePodCrashLooping.for');
    assert.equal(forSeconds % 30, 0, `customRules.KubePodCrashLooping.for (${forText}) is a whole number of 30 s evaluations`);
    const rules = await ruleFile();
    const rule = rules.groups[0]?.rules[0];
    assert.ok(rule);
    rule.for = forText;
    const dir = await scratch(rules, t);
    const samples = forSeconds / 30 + 4;
    const series = 'kube_pod_container_status_waiting_reason{namespace="obs-acc-nightly",pod="crashloop",container="crash",reason="CrashLoopBackOff",job="kube-state-metrics"}';
    await writeFile(
      join(dir, 'nightly.test.yaml'),
      stringify({
        rule_files: ['kube-pod-crashlooping.yaml'],
        evaluation_interval: '30s',
        tests: [
          {
            name: `nightly for ${forText}`,
            interval: '30s',
            input_series: [{ series, values: `1x${samples}` }],
            alert_rule_test: [
              { eval_time: `${forSeconds - 30}s`, alertname: 'KubePodCrashLooping' },
              {
                eval_time: `${forSeconds}s`,
                alertname: 'KubePodCrashLooping',
                exp_alerts: [
                  {
                    exp_labels: { severity: 'warning', namespace: 'obs-acc-nightly', pod: 'crashloop', container: 'crash', reason: 'CrashLoopBackOff', job: 'kube-state-metrics' },
                    exp_annotations: {
                      description: 'Pod obs-acc-nightly/crashloop (crash) is in waiting state (reason: "CrashLoopBackOff").',
                      runbook_url: 'https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping',
                      summary: 'Pod is crash looping.',
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    const result = await promtool(['test', 'rules', 'nightly.test.yaml'], dir);
    assert.ok(result.ok, result.output);
  });
});
