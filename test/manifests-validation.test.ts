/**
 * Every Kubernetes manifest under manifests/ passes its schema (kubernetes-models, with the
 * Prometheus Operator kinds); an invalid field is reported with file and path; the
 * TaskPlanner manifests fit together and fit the chart's selector rules; the CI RBAC grants
 * exactly what manifests/rbac/README.md documents.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { selectorMatches } from '../fixtures/kube/selectors.ts';
import { formatProblem, loadManifestFile, MANIFESTS_DIR, modelModule, REPO_ROOT, substitute, validateObjects } from '../fixtures/kube/manifests.ts';
import { asServiceMonitor, prometheusSelects, serviceMonitorSelectsService } from '../fixtures/prometheus/service-monitor.ts';

/** YAML files under manifests/ whose documents are Kubernetes objects (Helm values files are not). */
async function manifestFiles(): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (/\.ya?ml$/.test(entry.name)) {
        const docs = parseAllDocuments(await readFile(path, 'utf8')).map((d) => d.toJS() as unknown);
        if (docs.some((d) => d && typeof d === 'object' && 'apiVersion' in d && 'kind' in d)) out.push(relative(REPO_ROOT, path));
      }
    }
  }
  await walk(MANIFESTS_DIR);
  return out.sort();
}

describe('manifests', () => {
  test('every Kubernetes manifest under manifests/ is valid against its schema', async () => {
    const files = await manifestFiles();
    assert.ok(files.includes('manifests/taskplanner/servicemonitor.yaml'), `found: ${files.join(', ')}`);
    for (const file of files) {
      // Placeholders are filled with a valid name so the schema, not the substitution, is checked.
      const text = await readFile(join(REPO_ROOT, file), 'utf8');
      const vars: Record<string, string> = {};
      for (const m of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) vars[m[1] ?? ''] = 'placeholder';
      const problems = await validateObjects(await loadManifestFile(file, vars));
      assert.deepEqual(problems.map(formatProblem), [], file);
    }
  });

  test('an invalid field is reported with file, document, object and field path', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'obs-manifest-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const sm = (await readFile(join(REPO_ROOT, 'manifests/taskplanner/servicemonitor.yaml'), 'utf8')).replace('interval: 15s', 'interval: fifteen');
    const dep = (await readFile(join(REPO_ROOT, 'manifests/taskplanner/deployment.yaml'), 'utf8')).replace('containerPort: 3000', 'containerPort: "three thousand"');
    await writeFile(join(dir, 'servicemonitor.yaml'), sm);
    await writeFile(join(dir, 'deployment.yaml'), dep);
    const smProblems = await validateObjects(await loadManifestFile(join(dir, 'servicemonitor.yaml')));
    assert.equal(smProblems.length, 1);
    assert.match(formatProblem(smProblems[0]!), /servicemonitor\.yaml \(document 1\) ServiceMonitor default\/taskplanner: spec\.endpoints\[0\]\.interval must match pattern/);
    const depProblems = await validateObjects(await loadManifestFile(join(dir, 'deployment.yaml')));
    assert.deepEqual(
      depProblems.map((p) => `${p.document} ${p.object} ${p.path} ${p.message}`),
      ['1 Deployment default/taskplanner spec.template.spec.containers[0].ports[0].containerPort must be integer'],
    );
  });

  test('unknown kinds, missing names and missing placeholders are refused', async () => {
    const problems = await validateObjects([
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_Valid' } },
    ] as k8s.KubernetesObject[]);
    assert.match(problems[0]?.message ?? '', /no schema is known for example\.com\/v1 Widget/);
    assert.equal(problems[1]?.path, 'metadata.name');
    assert.equal(modelModule('monitoring.coreos.com/v1', 'PrometheusRule'), '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule');
    assert.equal(modelModule('v1', '../x'), undefined);
    assert.throws(() => substitute('metadata: {namespace: ${NAMESPACE}, name: ${NAME}}', { NAME: 'x' }, 'manifests/crash.yaml'), /manifests\/crash\.yaml: no value for \$\{NAMESPACE\}/);
  });
});

describe('TaskPlanner manifests fit together and fit the chart', () => {
  test("Deployment pods ↔ Service selector ↔ ServiceMonitor selector and port; the chart's Prometheus selects ServiceMonitor and rules", async () => {
    const [deployment, svc] = (await loadManifestFile('manifests/taskplanner/deployment.yaml')) as [k8s.V1Deployment, k8s.V1Service];
    const sm = asServiceMonitor((await loadManifestFile('manifests/taskplanner/servicemonitor.yaml'))[0], 'manifests/taskplanner/servicemonitor.yaml');
    const [rule] = await loadManifestFile('manifests/taskplanner/prometheusrule.yaml');
    const container = deployment.spec?.template.spec?.containers[0];
    assert.equal(container?.name, 'taskplanner');
    assert.equal(container?.image, 'obs-acceptance/taskplanner-standin:dev');
    assert.deepEqual(container?.ports?.map((p) => [p.name, p.containerPort]), [['http', 3000]]);
    assert.ok(selectorMatches({ matchLabels: svc.spec?.selector ?? {} }, deployment.spec?.template.metadata?.labels), 'Service selects the pods');
    assert.deepEqual(serviceMonitorSelectsService(sm, svc as Parameters<typeof serviceMonitorSelectsService>[1]).reasons, []);
    assert.deepEqual(sm.spec.endpoints, [{ port: 'http', path: '/metrics', interval: '15s', scrapeTimeout: '10s' }]);

    // kube-prometheus-stack with serviceMonitorSelectorNilUsesHelmValues (manifests/kube-prometheus-stack/values.yaml):
    // the Prometheus resource selects `release: <release name>` in the namespaces the values allow.
    const values = parse(await readFile(join(REPO_ROOT, 'manifests/kube-prometheus-stack/values.yaml'), 'utf8')) as {
      prometheus: { prometheusSpec: { serviceMonitorSelectorNilUsesHelmValues: boolean; serviceMonitorNamespaceSelector: object; ruleNamespaceSelector: object } };
    };
    assert.equal(values.prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues, true);
    const chartPrometheus = {
      apiVersion: 'monitoring.coreos.com/v1' as const,
      kind: 'Prometheus' as const,
      metadata: { name: 'kube-prometheus-stack-prometheus', namespace: 'monitoring' },
      spec: {
        serviceMonitorSelector: { matchLabels: { release: 'kube-prometheus-stack' } },
        serviceMonitorNamespaceSelector: values.prometheus.prometheusSpec.serviceMonitorNamespaceSelector,
      },
    };
    assert.deepEqual(prometheusSelects(chartPrometheus, sm, { 'kubernetes.io/metadata.name': 'default' }).reasons, []);
    assert.equal(rule?.metadata?.labels?.release, 'kube-prometheus-stack', 'the PrometheusRule is selected by the chart ruleSelector');
  });
});

describe('CI RBAC', () => {
  /** `group resource verbs` rows from the permissions table in manifests/rbac/README.md. */
  async function documented(): Promise<Set<string>> {
    const readme = await readFile(join(REPO_ROOT, 'manifests/rbac/README.md'), 'utf8');
    const rows = new Set<string>();
    for (const line of readme.split('\n')) {
      const cells = line.split('|').map((c) => c.trim().replace(/`/g, ''));
      // | scope | API group | resource | verbs | used by |
      if (cells.length < 6 || !/^(cluster|monitoring)$/.test(cells[1] ?? '')) continue;
      for (const verb of (cells[4] ?? '').split(',').map((v) => v.trim())) rows.add(`${cells[1]} ${cells[2] === 'core' ? '' : cells[2]} ${cells[3]} ${verb}`);
    }
    return rows;
  }

  test('the ClusterRole and the monitoring Role grant exactly the documented permissions', async () => {
    const granted = new Set<string>();
    for (const file of ['manifests/rbac/clusterrole.yaml', 'manifests/rbac/role-monitoring.yaml']) {
      for (const obj of await loadManifestFile(file)) {
        if (obj.kind !== 'ClusterRole' && obj.kind !== 'Role') continue;
        const scope = obj.kind === 'ClusterRole' ? 'cluster' : (obj.metadata?.namespace ?? '?');
        for (const rule of (obj as k8s.V1ClusterRole).rules ?? []) {
          for (const group of rule.apiGroups ?? []) for (const resource of rule.resources ?? []) for (const verb of rule.verbs) granted.add(`${scope} ${group} ${resource} ${verb}`);
        }
      }
    }
    assert.deepEqual([...granted].sort(), [...(await documented())].sort());
    assert.ok(![...granted].some((g) => g.includes(' secrets ') && g.startsWith('cluster')), 'no Secret is readable cluster-wide');
  });
});
