/**
 * The simulated cluster's pure functions (npm run sim:up, scripts/lib/sim/), each on both sides of
 * its boundary, with no cluster, no network namespace and no tools: what the pod runner adds to a
 * container's arguments (listen addresses, volume paths), how it adapts the configuration the
 * operator generates, the crash-loop back-off it plays, the placeholders of the sim's YAML and the
 * image pattern the kwok Stage hands to the runner. The cluster itself is exercised by
 * `npm run test:sim` (test/sim/).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import { bindListenAddresses, recipeFor, RECIPES, runnerImagesRegex } from '../scripts/lib/sim/images.ts';
import { fillPlaceholders } from '../scripts/lib/sim/manifests.ts';
import { simulatedEnvironment } from '../scripts/lib/sim/runner/reloader.ts';
import { backOffSeconds } from '../scripts/lib/sim/runner/sandbox.ts';
import { PodVolumes } from '../scripts/lib/sim/runner/volumes.ts';

const POD_IP = '10.244.2.1';

describe('bindListenAddresses: a wildcard listen address becomes the pod address, anything else stays', () => {
  it('the empty host, 0.0.0.0, [::] and [] of any --…listen-address flag are replaced', () => {
    assert.deepEqual(
      bindListenAddresses(['--web.listen-address=:9090', '--web.listen-address=0.0.0.0:9093', '--listen-address=[::]:8080', '--web.listen-address=[]:9100'], POD_IP),
      [`--web.listen-address=${POD_IP}:9090`, `--web.listen-address=${POD_IP}:9093`, `--listen-address=${POD_IP}:8080`, `--web.listen-address=${POD_IP}:9100`],
    );
  });

  it('an explicit host (node-exporter on its node address, loopback) is kept', () => {
    const args = ['--web.listen-address=[10.213.1.1]:9100', '--web.listen-address=127.0.0.1:9090', '--web.listen-address=10.244.0.3:3000'];
    assert.deepEqual(bindListenAddresses(args, POD_IP), args);
  });

  it('no port, a named port, no "=", another flag or a bare argument: unchanged', () => {
    const args = ['--cluster.listen-address=', '--web.listen-address=:http', '--web.listen-address', ':9090', '--web.external-url=http://0.0.0.0:9090/', '--listen-address-x=:1'];
    assert.deepEqual(bindListenAddresses(args, POD_IP), args);
  });
});

function podWithMounts(mounts: { name: string; path: string; volume: k8s.V1Volume }[]): k8s.V1Pod {
  return {
    metadata: { name: 'prometheus-kube-prometheus-stack-prometheus-0', namespace: 'monitoring', uid: 'u1' },
    spec: {
      containers: [{ name: 'prometheus', volumeMounts: mounts.map((m) => ({ name: m.name, mountPath: m.path })) }],
      volumes: mounts.map((m) => m.volume),
    },
  };
}

const PROMETHEUS_POD = podWithMounts([
  { name: 'config-out', path: '/etc/prometheus/config_out', volume: { name: 'config-out', emptyDir: {} } },
  { name: 'rules', path: '/etc/prometheus/rules/prometheus-rulefiles-0', volume: { name: 'rules', configMap: { name: 'prometheus-rulefiles-0' } } },
  { name: 'tls', path: '/etc/prometheus/certs', volume: { name: 'tls', secret: { secretName: 'prometheus-tls-assets' } } },
  { name: 'db', path: '/prometheus', volume: { name: 'db', emptyDir: {} } },
]);
const PODDIR = '/sim/pods/monitoring_prometheus-0_u1';
const ROOT = join(PODDIR, 'root');
const noLookup = { configMap: () => undefined, secret: () => undefined };
const volumes = new PodVolumes(PROMETHEUS_POD, PODDIR, noLookup);

describe('PodVolumes.mapArgs: a container path under a mounted volume is found under the pod root', () => {
  it('--flag=/path and a bare /path under any mount (emptyDir too) are mapped', () => {
    assert.deepEqual(volumes.mapArgs(['--config.file=/etc/prometheus/config_out/prometheus.env.yaml', '--storage.tsdb.path=/prometheus', '/etc/prometheus/certs/ca.crt', '-f=/prometheus/x']), [
      `--config.file=${ROOT}/etc/prometheus/config_out/prometheus.env.yaml`,
      `--storage.tsdb.path=${ROOT}/prometheus`,
      `${ROOT}/etc/prometheus/certs/ca.crt`,
      `-f=${ROOT}/prometheus/x`,
    ]);
  });

  it('a path outside every mount, one that only shares a prefix with a mount, a relative path and a value that is not a path stay', () => {
    const args = ['--web.console.templates=/etc/prometheus/consoles', '--config.file=/etc/prometheus/config_outside/x', '/prometheus-data', 'rules/x.yaml', '--web.route-prefix=/'];
    assert.deepEqual(volumes.mapArgs(args), args);
  });
});

describe('PodVolumes.mapConfigText: only ConfigMap, Secret, projected and downward API mounts are mapped inside a generated configuration', () => {
  it('rule file globs and certificate files, quoted or not, after "=", ":" or "["', () => {
    const text = [
      'rule_files:',
      '- /etc/prometheus/rules/prometheus-rulefiles-0/*.yaml',
      'ca_file: "/etc/prometheus/certs/secret_monitoring_ca"',
      "cert_file: '/etc/prometheus/certs/cert'",
      'x=/etc/prometheus/certs',
      'list: [/etc/prometheus/certs/a,/etc/prometheus/certs/b]',
    ].join('\n');
    assert.equal(
      volumes.mapConfigText(text),
      [
        'rule_files:',
        `- ${ROOT}/etc/prometheus/rules/prometheus-rulefiles-0/*.yaml`,
        `ca_file: "${ROOT}/etc/prometheus/certs/secret_monitoring_ca"`,
        `cert_file: '${ROOT}/etc/prometheus/certs/cert'`,
        `x=${ROOT}/etc/prometheus/certs`,
        `list: [${ROOT}/etc/prometheus/certs/a,${ROOT}/etc/prometheus/certs/b]`,
      ].join('\n'),
    );
  });

  it('an emptyDir path (/prometheus is also a URL path), a longer name sharing the prefix and a path inside a URL stay', () => {
    const text = ['metrics_path: /prometheus/metrics', 'a: /etc/prometheus/certs-old/x', 'b: /etc/prometheus/rules/prometheus-rulefiles-00/x', 'url: http://10.244.0.1:8080/etc/prometheus/certs'].join('\n');
    assert.equal(volumes.mapConfigText(text), text);
  });
});

describe('simulatedEnvironment: the operator generated configuration adapted to a cluster without service-account mounts', () => {
  const generated = `global:
  scrape_interval: 30s
rule_files:
- /etc/prometheus/rules/prometheus-rulefiles-0/*.yaml
scrape_configs:
- job_name: serviceMonitor/default/taskplanner/0
  kubernetes_sd_configs:
  - role: endpoints
    namespaces:
      names: [default]
- job_name: elsewhere
  kubernetes_sd_configs:
  - role: pod
    api_server: https://10.0.0.1:6443
  - role: node
    kubeconfig_file: /somewhere/else
alerting:
  alertmanagers:
  - path_prefix: /
    kubernetes_sd_configs:
    - role: endpoints
`;
  const out = parse(simulatedEnvironment(generated, '/sim/kubeconfig.yaml', volumes)) as {
    rule_files: string[];
    scrape_configs: { kubernetes_sd_configs: Record<string, unknown>[] }[];
    alerting: { alertmanagers: { kubernetes_sd_configs: Record<string, unknown>[] }[] };
  };

  it('every kubernetes_sd_configs entry naming no API server gets the runner kube config, alertmanagers included', () => {
    assert.equal(out.scrape_configs[0]?.kubernetes_sd_configs[0]?.kubeconfig_file, '/sim/kubeconfig.yaml');
    assert.deepEqual(out.scrape_configs[0]?.kubernetes_sd_configs[0]?.namespaces, { names: ['default'] });
    assert.equal(out.alerting.alertmanagers[0]?.kubernetes_sd_configs[0]?.kubeconfig_file, '/sim/kubeconfig.yaml');
  });

  it('an entry with its own api_server or kubeconfig_file is left as it is', () => {
    assert.deepEqual(out.scrape_configs[1]?.kubernetes_sd_configs, [
      { role: 'pod', api_server: 'https://10.0.0.1:6443' },
      { role: 'node', kubeconfig_file: '/somewhere/else' },
    ]);
  });

  it('mount paths are mapped after the edit (rule files under the pod root)', () => {
    assert.deepEqual(out.rule_files, [`${ROOT}/etc/prometheus/rules/prometheus-rulefiles-0/*.yaml`]);
  });

  it('a configuration without kubernetes_sd_configs comes back unchanged in content', () => {
    const plain = 'global:\n  scrape_interval: 15s\nscrape_configs:\n- job_name: static\n  static_configs:\n  - targets: [10.244.0.3:3000]\n';
    assert.deepEqual(parse(simulatedEnvironment(plain, '/k', volumes)), parse(plain));
  });
});

describe("backOffSeconds: the kubelet's crash-loop back-off, 10 s doubling to at most 5 min", () => {
  it('10 s after the first exit (and before any), then doubling', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5].map(backOffSeconds), [10, 10, 20, 40, 80, 160]);
  });

  it('capped at 300 s from the sixth exit on (320 s would be next)', () => {
    assert.deepEqual([6, 7, 50].map(backOffSeconds), [300, 300, 300]);
  });
});

describe('fillPlaceholders: ${NAME} filled from the values given, Kubernetes and alert template syntax left alone', () => {
  it('fills every ${NAME}, several times each', () => {
    assert.equal(fillPlaceholders('dir: ${SIM_DIR}/x ${SIM_DIR} re: "${RUNNER_IMAGES}"', { SIM_DIR: '/s', RUNNER_IMAGES: 'a|b' }, 'f.yaml'), 'dir: /s/x /s re: "a|b"');
  });

  it('$(VAR), $labels, {{ $value }} and a lower-case ${name} are not placeholders', () => {
    const text = 'args: [--x=$(POD_NAME)]\ndescription: "{{ $labels.pod }} is {{ $value }}" ${name}';
    assert.equal(fillPlaceholders(text, {}, 'f.yaml'), text);
  });

  it('a placeholder without a value is an error naming the file and every missing name once', () => {
    assert.throws(() => fillPlaceholders('${A} ${B} ${A} ${SET}', { SET: 'x' }, 'sim/kwok/pod-stages.yaml'), {
      message: 'sim/kwok/pod-stages.yaml: no value for ${A}, ${B}',
    });
  });

  it('an empty value is a value', () => {
    assert.equal(fillPlaceholders('[${EMPTY}]', { EMPTY: '' }, 'f.yaml'), '[]');
  });
});

describe('runnerImagesRegex: the one pattern the kwok Stage uses to hand a pod to the runner', () => {
  const re = new RegExp(runnerImagesRegex());
  const known = [
    'quay.io/prometheus/prometheus:v3.13.1',
    'quay.io/prometheus/alertmanager:v0.33.1',
    'quay.io/prometheus-operator/prometheus-operator:v0.92.1',
    'quay.io/prometheus-operator/prometheus-config-reloader:v0.92.1',
    'registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.19.1',
    'quay.io/prometheus/node-exporter:v1.11.1',
    'obs-acceptance/taskplanner-standin:dev',
    'prometheus/prometheus',
    'quay.io/prometheus/prometheus@sha256:0123',
  ];

  it('matches every image a recipe runs, with or without registry, tag or digest, and agrees with recipeFor', () => {
    for (const image of known) {
      assert.ok(re.test(image), `${image} should reach the runner`);
      assert.ok(recipeFor(image), `${image} should have a recipe`);
    }
  });

  it('does not match images kwok plays alone, nor names that only contain a known one', () => {
    for (const image of ['docker.io/library/busybox:1.37.0', 'grafana/alloy:v1.17.0-simulated', 'quay.io/prometheus/prometheus-foo:1', 'quay.io/myprometheus/prometheus:1', 'busybox:does-not-exist']) {
      assert.equal(re.test(image), false, `${image} should be played by kwok`);
      assert.equal(recipeFor(image), undefined);
    }
  });

  it('holds one alternative per recipe and no backslash or quote (it passes through YAML and a jq string)', () => {
    assert.equal(runnerImagesRegex().split('|(^|/)').length, RECIPES.length);
    assert.doesNotMatch(runnerImagesRegex(), /[\\"]/);
  });
});
