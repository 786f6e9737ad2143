/**
 * The crash-looping pod of OBS-06 (manifests/crashloop/crashloop-pod.yaml), loaded as the setup
 * project loads it and validated against the Kubernetes schema. Boundary: no cluster here, so
 * the pod's actual crash loop is only seen by the e2e spec.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { CRASHLOOP_MANIFEST, CRASHLOOP_POD } from '../fixtures/alertmanager/alerts.fixture.ts';
import { RUN_LABEL } from '../fixtures/kube/api.ts';
import { loadManifestFile, validateObjects } from '../fixtures/kube/manifests.ts';

void describe('OBS-06 crash-looping pod manifest', () => {
  void it('is one valid Pod in the run namespace, labelled with the run id, whose container exits non-zero at once and is restarted', async () => {
    const objects = await loadManifestFile(CRASHLOOP_MANIFEST, { RUN_ID: 'abcd1234', RUN_NAMESPACE: 'obs-acc-abcd1234', NAMESPACE: 'obs-acc-abcd1234' });
    assert.equal(objects.length, 1);
    assert.deepEqual(await validateObjects(objects), []);
    const pod = objects[0] as V1Pod;
    assert.equal(pod.kind, 'Pod');
    assert.equal(pod.metadata?.name, CRASHLOOP_POD);
    assert.equal(pod.metadata?.namespace, 'obs-acc-abcd1234');
    assert.equal(pod.metadata?.labels?.[RUN_LABEL], 'abcd1234');
    assert.equal(pod.metadata?.labels?.['app.kubernetes.io/name'], 'crashloop');
    assert.equal(pod.spec?.restartPolicy, 'Always', 'the kubelet must keep restarting it, or there is no back-off');
    const [container, ...more] = pod.spec?.containers ?? [];
    assert.equal(more.length, 0);
    assert.match(container?.command?.join(' ') ?? '', /exit 1$/);
    assert.ok(container?.resources?.limits?.memory, 'tiny, bounded resources');
  });

  void it('refuses to load without the run namespace', async () => {
    await assert.rejects(loadManifestFile(CRASHLOOP_MANIFEST, { RUN_ID: 'abcd1234' }), /no value for \$\{NAMESPACE\}/);
  });
});
