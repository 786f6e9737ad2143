/**
 * The pinned versions of everything the nightly cluster is built from. One place, so the
 * sign-off fingerprint, the plan self-test and a Renovate-style bump all look here.
 *
 * Each pin names where its version was read: a released entry of the repository's index.yaml
 * or the chart's release tag, never a branch (a Chart.yaml on a branch or in a pull request can
 * carry a version that was never released: loki 8.2.0 did). `cluster:up` re-reads every pin from
 * its repository's index before it creates anything (scripts/check-chart-pins.ts), so a pin that
 * is not released stops the run at its first step.
 */

export interface ChartPin {
  /** Helm release name; the suite's defaults (service names, `release` label) derive from it. */
  release: string;
  chart: string;
  /** Helm repository URL, as given to `helm --repo`; its index is `<repo>/index.yaml`. */
  repo: string;
  /** Exact chart version, as listed in the repository index (`entries.<chart>[].version`). */
  version: string;
  /** The application version that chart version deploys (`appVersion` of the same index entry). */
  appVersion: string;
  namespace: string;
}

export const MONITORING_NAMESPACE = 'monitoring';

export const CHARTS = {
  kubePrometheusStack: {
    release: 'kube-prometheus-stack',
    chart: 'kube-prometheus-stack',
    repo: 'https://prometheus-community.github.io/helm-charts',
    // Release tag kube-prometheus-stack-87.12.5 of github.com/prometheus-community/helm-charts
    // (commit 240842e1, 2026-07-10): Chart.yaml version 87.12.5, appVersion v0.92.1 (operator),
    // grafana chart 12.7.2 from grafana-community (index entry: appVersion 13.1.0).
    version: '87.12.5',
    appVersion: 'v0.92.1',
    namespace: MONITORING_NAMESPACE,
  },
  loki: {
    release: 'loki',
    chart: 'loki',
    // The OSS Loki chart moved to grafana-community on 2026-03-16 (grafana/loki#20705);
    // the `loki` chart at grafana.github.io is now Grafana Enterprise Logs.
    repo: 'https://grafana-community.github.io/helm-charts',
    // grafana-community.github.io/helm-charts/index.yaml, entries.loki: 9.0.0, appVersion 3.6.7,
    // created 2026-03-23T10:47:35Z, digest d3a6ad69…; release tag loki-9.0.0. The index goes
    // 8.0.0, 8.1.0–8.1.3, 9.0.0 (8.2.0 was never released). 9.0.0 over 8.1.3: the same Loki, the
    // same values.schema.json and config template; 9.0.0 only removes monitoring.selfMonitoring
    // (Grafana Agent Operator, grafana-community/helm-charts#187), which manifests/loki/values.yaml
    // does not use, and it is the major the later 9.x fixes land on.
    version: '9.0.0',
    appVersion: '3.6.7',
    namespace: MONITORING_NAMESPACE,
  },
  alloy: {
    release: 'alloy',
    chart: 'alloy',
    repo: 'https://grafana.github.io/helm-charts',
    // grafana.github.io/helm-charts/index.yaml, entries.alloy: 1.10.0, appVersion v1.17.0,
    // created 2026-06-12T19:56:37Z; release tag alloy-1.10.0 (chart source: grafana/alloy tag
    // helm-chart/1.10.0).
    version: '1.10.0',
    appVersion: 'v1.17.0',
    namespace: MONITORING_NAMESPACE,
  },
  promtail: {
    release: 'promtail',
    chart: 'promtail',
    repo: 'https://grafana.github.io/helm-charts',
    // grafana.github.io/helm-charts/index.yaml, entries.promtail: 6.17.1, appVersion 3.5.1,
    // created 2025-10-31T19:25:03Z, marked deprecated; release tag promtail-6.17.1. The last
    // chart before Promtail's end of life.
    version: '6.17.1',
    appVersion: '3.5.1',
    namespace: MONITORING_NAMESPACE,
  },
} as const satisfies Record<string, ChartPin>;

/** The k3d cluster: its config file pins the k3s image (Kubernetes version) and the node layout. */
export const CLUSTER = {
  name: 'obs-acceptance',
  config: 'scripts/k3d/cluster.yaml',
  /** k3d names the kubeconfig context `k3d-<name>`; every command names it so no other cluster is touched. */
  context: 'k3d-obs-acceptance',
} as const;
