import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fingerprintOf, imageTag, splitChartLabel } from '../fixtures/run/fingerprint.ts';

describe('stack fingerprint', () => {
  it('splits helm.sh/chart labels into chart and version', () => {
    assert.deepEqual(splitChartLabel('kube-prometheus-stack-87.12.5'), ['kube-prometheus-stack', '87.12.5']);
    assert.deepEqual(splitChartLabel('prometheus-node-exporter-4.47.0-rc.1'), ['prometheus-node-exporter', '4.47.0-rc.1']);
    assert.equal(splitChartLabel('no-version-here'), undefined);
  });

  it('reads image tags, with registry ports and digests', () => {
    assert.equal(imageTag('docker.io/grafana/alloy:v1.11.2'), 'v1.11.2');
    assert.equal(imageTag('registry:5000/alloy'), 'latest');
    assert.equal(imageTag('grafana/alloy:v1.11.2@sha256:abc'), 'v1.11.2');
  });

  it('collects chart versions and the log agents from workloads', () => {
    const fp = fingerprintOf([
      { metadata: { labels: { 'helm.sh/chart': 'kube-prometheus-stack-87.12.5' } }, spec: { template: { spec: { containers: [{ name: 'kube-prometheus-stack', image: 'quay.io/prometheus-operator/prometheus-operator:v0.86.0' }] } } } },
      { metadata: { labels: { 'helm.sh/chart': 'alloy-1.10.0' } }, spec: { template: { spec: { containers: [{ name: 'alloy', image: 'docker.io/grafana/alloy:v1.11.2' }, { name: 'config-reloader', image: 'x:1' }] } } } },
    ]);
    assert.deepEqual(fp, { 'chart/kube-prometheus-stack': '87.12.5', 'chart/alloy': '1.10.0', alloy: 'v1.11.2' });
  });
});
