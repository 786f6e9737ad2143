/**
 * The Loki Helm values and the Loki datasource agree with each other, with the suite's
 * defaults and with the chart's keys (grafana-community/helm-charts charts/loki/values.yaml:
 * `deploymentMode`, `loki.compactor`, `loki.limits_config`, `chunksCache`, `resultsCache`;
 * Loki's retention keys per grafana/loki docs/sources/operations/storage/retention.md).
 * OBS-03 checks the running Loki; this checks what is deployed.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../fixtures/core/config.ts';
import { parseDuration } from '../fixtures/core/duration.ts';

interface Datasource {
  name: string;
  type: string;
  uid: string;
  access: string;
  url: string;
  isDefault: boolean;
}

const read = async (p: string) => parse(await readFile(p, 'utf8')) as Record<string, unknown>;
const at = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);

void describe('Loki manifests', async () => {
  const values = await read('manifests/loki/values.yaml');
  const suiteDefault = loadConfig({}).endpoints.loki;
  const inCluster = suiteDefault.kind === 'cluster' ? `http://${suiteDefault.service}.${suiteDefault.namespace}.svc.cluster.local:${suiteDefault.port}` : '';

  void it('runs Loki as one binary on the filesystem, without auth, gateway or memcached caches', () => {
    assert.equal(values.deploymentMode, 'SingleBinary');
    assert.equal(at(values, 'loki.auth_enabled'), false);
    assert.equal(at(values, 'loki.storage.type'), 'filesystem');
    assert.equal(at(values, 'loki.commonConfig.replication_factor'), 1);
    assert.equal(at(values, 'singleBinary.replicas'), 1);
    for (const t of ['read', 'write', 'backend']) assert.equal(at(values, `${t}.replicas`), 0, `${t}.replicas`);
    assert.equal(at(values, 'chunksCache.enabled'), false);
    assert.equal(at(values, 'resultsCache.enabled'), false);
    assert.equal(at(values, 'gateway.enabled'), false);
    assert.equal(at(values, 'loki.schemaConfig.configs.0.object_store'), 'filesystem');
  });

  void it('keeps logs for 7 days: retention enabled in the compactor, a delete request store, retention_period 168h', () => {
    assert.equal(at(values, 'loki.compactor.retention_enabled'), true);
    assert.equal(at(values, 'loki.compactor.delete_request_store'), 'filesystem');
    assert.equal(parseDuration(String(at(values, 'loki.limits_config.retention_period'))), 7 * 86_400_000);
  });

  void it('the Service the chart makes for release "loki" is the suite default LOKI_SERVICE', () => {
    assert.deepEqual(suiteDefault, { kind: 'cluster', namespace: 'monitoring', service: 'loki', port: 3100 });
  });

  void it('the datasource has a stable uid, is not the default, points at that Service, and matches the other definition', async () => {
    const docs = parseAllDocuments(await readFile('manifests/loki/datasource.yaml', 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
    assert.equal(docs.length, 1);
    const cm = docs[0] ?? {};
    assert.equal(cm.kind, 'ConfigMap');
    assert.equal(at(cm, 'metadata.labels.grafana_datasource'), '1');
    const file = parse(String((cm.data as Record<string, string> | undefined)?.['loki-datasource.yaml'])) as { datasources: Datasource[] };
    assert.equal(file.datasources.length, 1);
    const ds = file.datasources[0] as Datasource;
    assert.equal(ds.uid, 'loki');
    assert.equal(ds.type, 'loki');
    assert.equal(ds.isDefault, false);
    assert.equal(ds.url, inCluster);
    const kps = await read('manifests/kube-prometheus-stack/values.yaml');
    const others = ((at(kps, 'grafana.additionalDataSources') ?? []) as Datasource[]).filter((d) => d.type === 'loki');
    assert.ok(others.length <= 1, 'kube-prometheus-stack values define Loki more than once');
    for (const o of others) assert.deepEqual({ name: o.name, type: o.type, uid: o.uid, access: o.access, url: o.url, isDefault: o.isDefault }, { name: ds.name, type: ds.type, uid: ds.uid, access: ds.access, url: ds.url, isDefault: ds.isDefault });
  });

  void it('Alloy pushes to that Service', async () => {
    assert.ok((await readFile('manifests/alloy/config.alloy', 'utf8')).includes(`url = "${inCluster}/loki/api/v1/push"`));
  });
});
