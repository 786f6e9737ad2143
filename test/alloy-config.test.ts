/**
 * `manifests/alloy/config.alloy` produces Promtail's label set. Promtail's rules below are
 * the `kubernetes-pods` job of the grafana/helm-charts promtail chart
 * (charts/promtail/values.yaml, `config.snippets.scrapeConfigs` and `config.snippets.common`),
 * copied as data. The test reads Alloy's `discovery.relabel` rules out of config.alloy,
 * requires them to be the same rules, then runs both through one relabel engine (Prometheus
 * semantics: fully anchored RE2 regex, `$1` replacement, an empty result deletes the label)
 * on pods of every kind, follows the file glob to `filename` and the CRI stage
 * (grafana/alloy internal/component/loki/process/stages/extensions.go NewCRI) to `stream`,
 * and compares with the expectation the e2e suite uses (`fixtures/loki/log-agents.ts`).
 * No Alloy binary runs here: this checks the configuration, OBS-04 checks the cluster.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import { FILE_LABELS, PROMTAIL_LABELS, expectedPodLabels, labelProblems } from '../fixtures/loki/log-agents.ts';
import { HEARTBEAT_POD_LABEL, SHIPPER_LABEL, agentOfStream } from '../fixtures/loki/heartbeat.ts';
import { loadManifestFile } from '../fixtures/kube/manifests.ts';

interface Rule {
  source_labels: string[];
  separator: string;
  regex: string;
  replacement: string;
  target_label: string;
  action: string;
}

const PROMTAIL_RULES_YAML = `
- source_labels: [__meta_kubernetes_pod_controller_name]
  regex: ([0-9a-z-.]+?)(-[0-9a-f]{8,10})?
  action: replace
  target_label: __tmp_controller_name
- source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_name, __meta_kubernetes_pod_label_app, __tmp_controller_name, __meta_kubernetes_pod_name]
  regex: ^;*([^;]+)(;.*)?$
  action: replace
  target_label: app
- source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_instance, __meta_kubernetes_pod_label_instance]
  regex: ^;*([^;]+)(;.*)?$
  action: replace
  target_label: instance
- source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_component, __meta_kubernetes_pod_label_component]
  regex: ^;*([^;]+)(;.*)?$
  action: replace
  target_label: component
- action: replace
  source_labels: [__meta_kubernetes_pod_node_name]
  target_label: node_name
- action: replace
  source_labels: [__meta_kubernetes_namespace]
  target_label: namespace
- action: replace
  replacement: $1
  separator: /
  source_labels: [namespace, app]
  target_label: job
- action: replace
  source_labels: [__meta_kubernetes_pod_name]
  target_label: pod
- action: replace
  source_labels: [__meta_kubernetes_pod_container_name]
  target_label: container
- action: replace
  replacement: /var/log/pods/*$1/*.log
  separator: /
  source_labels: [__meta_kubernetes_pod_uid, __meta_kubernetes_pod_container_name]
  target_label: __path__
- action: replace
  replacement: /var/log/pods/*$1/*.log
  regex: true/(.*)
  separator: /
  source_labels: [__meta_kubernetes_pod_annotationpresent_kubernetes_io_config_hash, __meta_kubernetes_pod_annotation_kubernetes_io_config_hash, __meta_kubernetes_pod_container_name]
  target_label: __path__
`;

/**
 * The one rule config.alloy has beyond Promtail's, last: it marks the streams of the migration
 * watch's heartbeat pods (and of no other pod) with shipper="alloy" (fixtures/loki/heartbeat.ts).
 */
const HEARTBEAT_RULE_YAML = `
- source_labels: [__meta_kubernetes_pod_label_obs_acceptance_io_heartbeat]
  regex: "true"
  replacement: alloy
  action: replace
  target_label: shipper
`;

const withDefaults = (r: Partial<Rule>): Rule => ({ source_labels: [], separator: ';', regex: '(.*)', replacement: '$1', action: 'replace', target_label: '', ...r });

function promtailRules(): Rule[] {
  return (parse(PROMTAIL_RULES_YAML) as Array<Partial<Rule>>).map((r) => withDefaults({ ...r, source_labels: (r.source_labels ?? []).map(String) }));
}

/** The end of the block whose `{` is at `open`: braces inside strings and comments do not count. */
function blockEnd(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  throw new Error(`unbalanced braces from offset ${open}`);
}

/** The body of `<component> "<label>" { … }` in Alloy syntax. */
function block(text: string, header: string): string {
  const start = text.indexOf(`${header} {`);
  assert.ok(start >= 0, `config.alloy has no ${header} block`);
  const open = text.indexOf('{', start);
  return text.slice(open + 1, blockEnd(text, open));
}

function alloyRules(config: string): Rule[] {
  const body = block(config, 'discovery.relabel "pods"');
  const rules: Rule[] = [];
  for (const m of body.matchAll(/(?:^|\n)\s*rule\s*\{/g)) {
    const open = (m.index ?? 0) + m[0].length - 1;
    const r: Record<string, unknown> = {};
    for (const a of body.slice(open + 1, blockEnd(body, open)).matchAll(/(\w+)\s*=\s*(\[[^\]]*\]|"(?:[^"\\]|\\.)*")/g)) {
      const raw = a[2] ?? '';
      r[a[1] ?? ''] = raw.startsWith('[') ? [...raw.matchAll(/"(?:[^"\\]|\\.)*"/g)].map((s) => JSON.parse(s[0]) as string) : (JSON.parse(raw) as string);
    }
    rules.push(withDefaults(r));
  }
  return rules;
}

function relabel(input: Record<string, string>, rules: Rule[]): Record<string, string> {
  const labels = { ...input };
  for (const r of rules) {
    assert.equal(r.action, 'replace', 'only replace rules are expected');
    const value = r.source_labels.map((l) => labels[l] ?? '').join(r.separator);
    const m = new RegExp(`^(?:${r.regex})$`).exec(value);
    if (!m) continue;
    const out = r.replacement.replace(/\$\{?(\d+)\}?/g, (_, n: string) => m[Number(n)] ?? '');
    if (out === '') delete labels[r.target_label];
    else labels[r.target_label] = out;
  }
  return labels;
}

const sanitize = (s: string) => s.replace(/[^a-zA-Z0-9_]/g, '_');

/** The `__meta_kubernetes_*` labels discovery.kubernetes (role pod) gives a container. */
function meta(pod: k8s.V1Pod, container: string): Record<string, string> {
  const m: Record<string, string> = {
    __meta_kubernetes_namespace: pod.metadata?.namespace ?? '',
    __meta_kubernetes_pod_name: pod.metadata?.name ?? '',
    __meta_kubernetes_pod_uid: pod.metadata?.uid ?? '',
    __meta_kubernetes_pod_node_name: pod.spec?.nodeName ?? '',
    __meta_kubernetes_pod_container_name: container,
  };
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller);
  if (owner) {
    m.__meta_kubernetes_pod_controller_kind = owner.kind;
    m.__meta_kubernetes_pod_controller_name = owner.name;
  }
  for (const [k, v] of Object.entries(pod.metadata?.labels ?? {})) {
    m[`__meta_kubernetes_pod_label_${sanitize(k)}`] = v;
    m[`__meta_kubernetes_pod_labelpresent_${sanitize(k)}`] = 'true';
  }
  for (const [k, v] of Object.entries(pod.metadata?.annotations ?? {})) {
    m[`__meta_kubernetes_pod_annotation_${sanitize(k)}`] = v;
    m[`__meta_kubernetes_pod_annotationpresent_${sanitize(k)}`] = 'true';
  }
  return m;
}

/** What reaches Loki: relabelled target, glob resolved to the real file, CRI stream label. */
function shipped(pod: k8s.V1Pod, container: string, rules: Rule[], file: string, criLine: string): Record<string, string> {
  const target = relabel(meta(pod, container), rules);
  const glob = target.__path__ ?? '';
  const globRe = new RegExp(`^${glob.split('*').map((p) => p.replace(/[\\.+?()|[\]{}^$]/g, '\\$&')).join('[^/]*')}$`);
  assert.ok(globRe.test(file), `the path glob ${glob} does not find the pod's log file ${file}`);
  const labels = Object.fromEntries(Object.entries(target).filter(([k]) => !k.startsWith('__')));
  const cri = /^(?<time>\S+?) (?<stream>stdout|stderr) (?<flags>\S+?) (?<content>.*)$/s.exec(criLine);
  return { ...labels, filename: file, stream: cri?.groups?.stream ?? '' };
}

const POD = (over: Partial<k8s.V1ObjectMeta>, node = 'k3d-obs-agent-1'): k8s.V1Pod => ({
  metadata: { namespace: 'default', name: 'p', uid: '0a1b2c3d-1111-2222-3333-444455556666', labels: {}, ...over },
  spec: { nodeName: node, containers: [{ name: 'c' }] },
});

const CASES: Array<{ what: string; pod: k8s.V1Pod; container: string; app: string; extra?: Record<string, string> }> = [
  {
    what: 'a Deployment pod labelled app (ReplicaSet hash stripped only when no label)',
    pod: POD({ name: 'taskplanner-7d9f8b6c5d-x2x4z', labels: { app: 'taskplanner', 'pod-template-hash': '7d9f8b6c5d' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'taskplanner-7d9f8b6c5d', uid: 'u', controller: true }] }),
    container: 'taskplanner',
    app: 'taskplanner',
  },
  {
    what: 'a chart pod with app.kubernetes.io name, instance and component',
    pod: POD({ namespace: 'monitoring', name: 'loki-0', labels: { 'app.kubernetes.io/name': 'loki', 'app.kubernetes.io/instance': 'loki', 'app.kubernetes.io/component': 'single-binary', app: 'ignored' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'loki', uid: 'u', controller: true }] }),
    container: 'loki',
    app: 'loki',
    extra: { instance: 'loki', component: 'single-binary' },
  },
  {
    what: 'an unlabelled pod of a ReplicaSet: the controller name without its hash',
    pod: POD({ name: 'web-5f6d7c8b9-abcde', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5f6d7c8b9', uid: 'u', controller: true }] }),
    container: 'nginx',
    app: 'web',
  },
  {
    what: 'a bare pod: the pod name',
    pod: POD({ namespace: 'obs-acc-r1', name: 'obs-marker-main', labels: { 'app.kubernetes.io/name': 'obs-marker' } }),
    container: 'marker',
    app: 'obs-marker',
  },
];

void describe('config.alloy reproduces Promtail kubernetes-pods labels', async () => {
  const config = await readFile('manifests/alloy/config.alloy', 'utf8');
  const values = parse(await readFile('manifests/alloy/values.yaml', 'utf8')) as {
    controller: { type: string };
    alloy: { configMap: { content: string }; mounts: { varlog: boolean } };
  };

  void it('the Helm values run it as a DaemonSet with /var/log mounted and carry config.alloy verbatim', () => {
    assert.equal(values.controller.type, 'daemonset');
    assert.equal(values.alloy.mounts.varlog, true);
    assert.equal(values.alloy.configMap.content.trimEnd(), config.trimEnd(), 'manifests/alloy/values.yaml alloy.configMap.content drifted from config.alloy');
  });

  void it("has exactly Promtail's relabel rules, in Promtail's order, then only the heartbeat's marking rule", () => {
    const heartbeatRule = (parse(HEARTBEAT_RULE_YAML) as Array<Partial<Rule>>).map(withDefaults);
    assert.deepEqual(alloyRules(config), [...promtailRules(), ...heartbeatRule]);
  });

  void it('marks the heartbeat pod of the migration watch shipper="alloy" on top of Promtail\'s labels, and no other pod', async () => {
    const [manifest] = (await loadManifestFile('manifests/heartbeat/heartbeat-pod.yaml', { RUN_ID: 'r1', NAMESPACE: 'obs-acc-r1', HEARTBEAT_TAG: 'n0' })) as k8s.V1Pod[];
    assert.equal(manifest?.metadata?.labels?.[HEARTBEAT_POD_LABEL], 'true');
    const pod: k8s.V1Pod = { ...manifest, metadata: { ...manifest?.metadata, uid: '0a1b2c3d-1111-2222-3333-444455556666' }, spec: { containers: [], ...manifest?.spec, nodeName: 'k3d-obs-agent-1' } };
    const file = `/var/log/pods/obs-acc-r1_obs-heartbeat-n0_${pod.metadata?.uid}/heartbeat/0.log`;
    const line = '2026-11-25T11:40:11.123456789Z stdout F obs-heartbeat run=r1 node=k3d-obs-agent-1 seq=1 ts=1';
    const viaAlloy = shipped(pod, 'heartbeat', alloyRules(config), file, line);
    const viaPromtail = shipped(pod, 'heartbeat', promtailRules(), file, line);
    assert.deepEqual(viaAlloy, { ...viaPromtail, [SHIPPER_LABEL]: 'alloy' });
    assert.equal(viaPromtail.app, 'obs-heartbeat');
    // How the watch reads it back: the marked stream is Alloy's, the unmarked one Promtail's.
    assert.equal(agentOfStream(viaAlloy), 'alloy');
    assert.equal(agentOfStream(viaPromtail), 'promtail');
    // The same label with any other value, or a pod without it, is left alone.
    const other = { ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata?.labels, [HEARTBEAT_POD_LABEL]: 'false' } } };
    assert.equal(SHIPPER_LABEL in shipped(other, 'heartbeat', alloyRules(config), file, line), false);
  });

  void it('wires discovery on its own node, file tailing, the CRI stage and the push to loki:3100', () => {
    const discovery = block(config, 'discovery.kubernetes "pods"');
    assert.match(discovery, /role\s*=\s*"pod"/);
    assert.match(discovery, /field\s*=\s*"spec\.nodeName="\s*\+\s*sys\.env\("HOSTNAME"\)/);
    assert.match(block(config, 'local.file_match "pods"'), /path_targets\s*=\s*discovery\.relabel\.pods\.output/);
    assert.match(block(config, 'loki.source.file "pods"'), /targets\s*=\s*local\.file_match\.pods\.targets[\s\S]*forward_to\s*=\s*\[loki\.process\.pods\.receiver\]/);
    const process = block(config, 'loki.process "pods"');
    assert.match(process, /stage\.cri\s*\{\s*\}/);
    assert.match(process, /forward_to\s*=\s*\[loki\.write\.default\.receiver\]/);
    assert.match(block(config, 'loki.write "default"'), /url\s*=\s*"http:\/\/loki\.monitoring\.svc\.cluster\.local:3100\/loki\/api\/v1\/push"/);
  });

  for (const c of CASES) {
    void it(`gives ${c.what} the same labels as Promtail`, () => {
      const file = `/var/log/pods/${c.pod.metadata?.namespace}_${c.pod.metadata?.name}_${c.pod.metadata?.uid}/${c.container}/0.log`;
      const line = '2026-11-25T11:40:11.123456789Z stdout F hello';
      const viaAlloy = shipped(c.pod, c.container, alloyRules(config), file, line);
      assert.deepEqual(labelProblems({ ...viaAlloy, service_name: c.app }, c.pod, c.container, 'stdout'), []);
      const viaPromtail = shipped(c.pod, c.container, promtailRules(), file, line);
      assert.deepEqual(viaAlloy, viaPromtail);
      const ns = c.pod.metadata?.namespace ?? '';
      assert.deepEqual(viaAlloy, {
        app: c.app,
        namespace: ns,
        job: `${ns}/${c.app}`,
        node_name: 'k3d-obs-agent-1',
        pod: c.pod.metadata?.name,
        container: c.container,
        filename: file,
        stream: 'stdout',
        ...c.extra,
      });
      assert.deepEqual(Object.keys(viaAlloy).filter((k) => !(c.extra && k in c.extra)).sort(), [...PROMTAIL_LABELS, ...FILE_LABELS].sort());
      // The expectation OBS-04 applies on the cluster agrees with the rules.
      assert.deepEqual({ ...expectedPodLabels(c.pod, c.container), stream: 'stdout', filename: file }, viaAlloy);
    });
  }

  void it('a static pod is found under its config hash, as Promtail found it', () => {
    const pod = POD({ namespace: 'kube-system', name: 'kube-apiserver-node1', uid: 'mirror-uid', annotations: { 'kubernetes.io/config.hash': 'abcdef0123' } });
    assert.equal(relabel(meta(pod, 'kube-apiserver'), alloyRules(config)).__path__, '/var/log/pods/*abcdef0123/kube-apiserver/*.log');
  });

  void it('the label judgement of OBS-04 catches a missing, a wrong and an extra label', () => {
    const c = CASES[3] as (typeof CASES)[number];
    const good: Record<string, string> = { ...expectedPodLabels(c.pod, c.container), stream: 'stdout', filename: `/var/log/pods/obs-acc-r1_obs-marker-main_${c.pod.metadata?.uid}/marker/0.log` };
    const { job: _job, ...noJob } = good;
    const problems = labelProblems({ ...noJob, app: 'marker', cluster: 'x', filename: '/var/log/containers/x.log' }, c.pod, c.container, 'stdout');
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(problems.join('\n'), /app="marker" but Promtail's rules give app="obs-marker"[\s\S]*label job is missing[\s\S]*filename="\/var\/log\/containers\/x.log" is not[\s\S]*label cluster="x" is not one Promtail produced/);
  });
});
