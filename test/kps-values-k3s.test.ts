/**
 * The nightly kube-prometheus-stack values must not make alerts fire on k3s. k3s runs the
 * scheduler, controller-manager, proxy and etcd inside its own process without metrics
 * endpoints Prometheus can scrape, so the chart's KubeSchedulerDown, KubeControllerManagerDown
 * (critical), KubeProxyDown and etcd* alerts would fire on every nightly run.
 *
 * Replayed from kube-prometheus-stack 87.12.5 (prometheus-community/helm-charts commit
 * 240842e1d4230d0ec1fa036deda7b52f6fb3d578): each of these rule groups renders only when
 * `defaultRules.create`, the component's `<component>.enabled` and its `defaultRules.rules.<group>`
 * are all true (charts/kube-prometheus-stack/templates/prometheus/rules-1.14/
 * kubernetes-system-scheduler.yaml, kubernetes-system-controller-manager.yaml,
 * kubernetes-system-kube-proxy.yaml, etcd.yaml, kube-scheduler.rules.yaml, line 7 of each), and
 * the keys below are the ones the chart's values.yaml defines under `defaultRules.rules`.
 * Boundary: the chart is not rendered here; what fires on the running cluster is checked by
 * OBS-06's "alert pipeline is alive and clean" step.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

/** Rule groups for components k3s does not expose: the component toggle and the defaultRules key the template checks. */
const K3S_UNSCRAPABLE = [
  { group: 'kubernetes-system-scheduler', alerts: 'KubeSchedulerDown (critical), KubeSchedulerInstanceUnreachable', component: 'kubeScheduler', rule: 'kubeSchedulerAlerting' },
  { group: 'kube-scheduler.rules', alerts: '(recording rules)', component: 'kubeScheduler', rule: 'kubeSchedulerRecording' },
  { group: 'kubernetes-system-controller-manager', alerts: 'KubeControllerManagerDown (critical), KubeControllerManagerInstanceUnreachable', component: 'kubeControllerManager', rule: 'kubeControllerManager' },
  { group: 'kubernetes-system-kube-proxy', alerts: 'KubeProxyDown (critical), KubeProxyInstanceUnreachable', component: 'kubeProxy', rule: 'kubeProxy' },
  { group: 'etcd', alerts: 'etcdMembersDown, etcdInsufficientMembers, etcdNoLeader, …', component: 'kubeEtcd', rule: 'etcd' },
] as const;

/** `defaultRules.rules` keys of kube-prometheus-stack 87.12.5's values.yaml. */
const CHART_RULE_KEYS = new Set([
  'alertmanager', 'etcd', 'configReloaders', 'general', 'k8sContainerCpuUsageSecondsTotal', 'k8sContainerMemoryCache', 'k8sContainerMemoryRss',
  'k8sContainerMemorySwap', 'k8sContainerResource', 'k8sContainerMemoryWorkingSetBytes', 'k8sPodOwner', 'kubeApiserverAvailability',
  'kubeApiserverBurnrate', 'kubeApiserverHistogram', 'kubeApiserverSlos', 'kubeControllerManager', 'kubelet', 'kubeProxy', 'kubePrometheusGeneral',
  'kubePrometheusNodeRecording', 'kubernetesApps', 'kubernetesResources', 'kubernetesStorage', 'kubernetesSystem', 'kubeSchedulerAlerting',
  'kubeSchedulerRecording', 'kubeStateMetrics', 'network', 'node', 'nodeExporterAlerting', 'nodeExporterRecording', 'prometheus', 'prometheusOperator', 'windows',
]);

interface Values {
  defaultRules?: { create?: boolean; rules?: Record<string, boolean> };
  [component: string]: unknown;
}

const values = parse(readFileSync(new URL('../manifests/kube-prometheus-stack/values.yaml', import.meta.url), 'utf8')) as Values;

/** Whether the chart renders the group with these values (the chart's defaults are true). */
function renders(v: Values, g: (typeof K3S_UNSCRAPABLE)[number]): boolean {
  const component = (v[g.component] as { enabled?: boolean } | undefined)?.enabled ?? true;
  return (v.defaultRules?.create ?? true) && component && (v.defaultRules?.rules?.[g.rule] ?? true);
}

void describe('nightly kube-prometheus-stack values on k3s (replayed chart 87.12.5 conditions)', () => {
  void it('render none of the rule groups for components k3s cannot expose', () => {
    const rendered = K3S_UNSCRAPABLE.filter((g) => renders(values, g)).map((g) => `${g.group}: ${g.alerts}`);
    assert.deepEqual(rendered, [], 'these groups would fire on k3s');
  });

  void it("use only defaultRules.rules keys the chart knows (a misspelt key is silently ignored and the chart's true stays)", () => {
    const unknown = Object.keys(values.defaultRules?.rules ?? {}).filter((k) => !CHART_RULE_KEYS.has(k));
    assert.deepEqual(unknown, []);
  });

  void it('the check itself: the chart defaults render every one of those groups', () => {
    assert.deepEqual(K3S_UNSCRAPABLE.filter((g) => !renders({}, g)).map((g) => g.group), []);
  });
});
