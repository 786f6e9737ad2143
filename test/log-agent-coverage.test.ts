/**
 * OBS-04's coverage judgement (fixtures/loki/log-agents.ts): which schedulable nodes lack a ready
 * agent pod, and when the DaemonSet's controller has settled without a pod on a node, so that no
 * pod is coming and the wait can stop. DaemonSet status fields as the controller fills them
 * (k8s.io/api apps/v1 DaemonSetStatus); objects built here, no cluster.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { coverageProblems, nodesLeftOut } from '../fixtures/loki/log-agents.ts';

const readyNode = (name: string, ready = true): k8s.V1Node => ({ metadata: { name }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
const NODES: k8s.V1Node[] = ['server-0', 'agent-0', 'agent-1'].map((name) => readyNode(name));

function pod(node: string, ready = true): k8s.V1Pod {
  return { metadata: { name: `alloy-${node}` }, spec: { nodeName: node, containers: [] }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } };
}

/** A DaemonSet whose controller saw generation `observed` of spec generation 2 and counts `n` pods everywhere. */
function ds(n: number, counts: Partial<k8s.V1DaemonSetStatus> = {}, observed = 2): k8s.V1DaemonSet {
  return {
    metadata: { name: 'alloy', namespace: 'monitoring', generation: 2 },
    status: { observedGeneration: observed, desiredNumberScheduled: n, currentNumberScheduled: n, updatedNumberScheduled: n, numberReady: n, numberMisscheduled: 0, ...counts },
  };
}

void describe('OBS-04 coverage: a ready agent pod on every schedulable node', () => {
  void it('names each node without a ready pod: none scheduled, or scheduled and not ready', () => {
    assert.deepEqual(coverageProblems(ds(3), NODES.map((n) => pod(n.metadata?.name ?? '')), NODES), []);
    assert.deepEqual(coverageProblems(ds(2), [pod('server-0'), pod('agent-0', false)], NODES), [
      'node agent-0: pod alloy-agent-0 is not ready (Running)',
      "node agent-1: no alloy pod is scheduled there (check the DaemonSet's tolerations, nodeSelector and node affinity)",
    ]);
  });

  void it('a settled controller with no pod on a node has left that node out; the wait may stop', () => {
    assert.deepEqual(nodesLeftOut(ds(2), [pod('server-0'), pod('agent-0')], NODES), ['agent-1']);
    // Every node has its pod: nothing left out.
    assert.deepEqual(nodesLeftOut(ds(3), NODES.map((n) => pod(n.metadata?.name ?? '')), NODES), []);
  });

  void it('while the controller is at work nothing is called left out: old generation, pods not ready, not updated, not yet created', () => {
    const twoPods = [pod('server-0'), pod('agent-0')];
    assert.deepEqual(nodesLeftOut(ds(2, {}, 1), twoPods, NODES), [], 'status of the previous spec');
    assert.deepEqual(nodesLeftOut(ds(3, { currentNumberScheduled: 2, updatedNumberScheduled: 2, numberReady: 2 }), twoPods, NODES), [], 'a third pod is wanted and not created yet');
    assert.deepEqual(nodesLeftOut(ds(2, { numberReady: 1 }), twoPods, NODES), [], 'a pod not ready yet');
    assert.deepEqual(nodesLeftOut(ds(2, { updatedNumberScheduled: 1 }), twoPods, NODES), [], 'a rollout under way');
    assert.deepEqual(nodesLeftOut({ metadata: { name: 'alloy' } }, twoPods, NODES), [], 'no status yet');
  });

  void it('a node whose pod is being deleted is not left out: the controller counts that pod and replaces it there', () => {
    const leaving = { ...pod('agent-1'), metadata: { name: 'alloy-agent-1', deletionTimestamp: new Date() } };
    assert.deepEqual(nodesLeftOut(ds(3), [pod('server-0'), pod('agent-0'), leaving], NODES), []);
  });

  void it('a node that is not Ready (joining, kubelet restarting) is not left out, though the controller skips it for now', () => {
    const nodes = [readyNode('server-0'), readyNode('agent-0'), readyNode('agent-1', false)];
    assert.deepEqual(nodesLeftOut(ds(2), [pod('server-0'), pod('agent-0')], nodes), []);
    assert.deepEqual(nodesLeftOut(ds(2), [pod('server-0'), pod('agent-0')], [...nodes.slice(0, 2), { metadata: { name: 'agent-1' } }]), [], 'no conditions yet');
  });
});
