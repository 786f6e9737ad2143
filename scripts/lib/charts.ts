/**
 * The pinned versions of everything the nightly cluster is built from. One place, so the
 * sign-off fingerprint, the plan self-test and a Renovate-style bump all look here.
 *
 * Sources (checked when pinned):
 * - kube-prometheus-stack 87.12.5: github.com/prometheus-community/helm-charts/releases/tag/kube-prometheus-stack-87.12.5
 * - loki 8.2.0: grafana-community/helm-charts charts/loki/Chart.yaml. The OSS Loki chart moved to
 *   grafana-community on 2026-03-16 (grafana/loki#20705); grafana.github.io now serves the GEL chart.
 * - alloy 1.10.0: github.com/grafana/helm-charts/releases/tag/alloy-1.10.0 (Alloy v1.17.0)
 * - promtail 6.17.1: grafana/helm-charts, the last chart before Promtail's end of life
 */

export interface ChartPin {
  /** Helm release name; the suite's defaults (service names, `release` label) derive from it. */
  release: string;
  chart: string;
  repo: string;
  version: string;
  namespace: string;
}

export const MONITORING_NAMESPACE = 'monitoring';

export const CHARTS = {
  kubePrometheusStack: {
    release: 'kube-prometheus-stack',
    chart: 'kube-prometheus-stack',
    repo: 'https://prometheus-community.github.io/helm-charts',
    version: '87.12.5',
    namespace: MONITORING_NAMESPACE,
  },
  loki: {
    release: 'loki',
    chart: 'loki',
    repo: 'https://grafana-community.github.io/helm-charts',
    version: '8.2.0',
    namespace: MONITORING_NAMESPACE,
  },
  alloy: {
    release: 'alloy',
    chart: 'alloy',
    repo: 'https://grafana.github.io/helm-charts',
    version: '1.10.0',
    namespace: MONITORING_NAMESPACE,
  },
  promtail: {
    release: 'promtail',
    chart: 'promtail',
    repo: 'https://grafana.github.io/helm-charts',
    version: '6.17.1',
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
