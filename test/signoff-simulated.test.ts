/**
 * The sign-off says where it ran when the cluster is simulated: kwok is recognised from the
 * nodes themselves (their `kwok.x-k8s.io/node=fake` annotation, their `kwok-<version>` container
 * runtime; node shapes as the simulated cluster of `npm run sim:up` serves them, read with
 * `kubectl get node -o yaml` on it), never from a context name; a run on it is never signed off,
 * and each selected requirement says what was simulated and what did not run live (Loki and
 * Grafana never run there). Synthetic test records; the preflight that records the simulation
 * runs for real in test/sim/ against the simulated cluster.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { REQUIREMENT_IDS } from '../fixtures/core/requirements.ts';
import { RUN_RECORD_ANNOTATION, type RunRecordEntry } from '../fixtures/core/evidence.ts';
import { simulationOf, SIMULATED_PARTS } from '../fixtures/run/simulation.ts';
import { renderMarkdown } from '../reporters/signoff-markdown.ts';
import { summarize, type RunInfo, type TestRecord } from '../reporters/signoff-model.ts';

/** A node as kwok v0.8.0 registers it in the simulated cluster (annotations, nodeInfo). */
function kwokNode(name: string): k8s.V1Node {
  return {
    metadata: { name, annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' }, labels: { type: 'kwok' } },
    status: { nodeInfo: { containerRuntimeVersion: 'kwok-0.8.0', kubeletVersion: 'v1.36.3', kernelVersion: 'kwok-0.8.0', kubeProxyVersion: 'kwok-0.8.0', architecture: 'amd64', operatingSystem: 'linux', bootID: '', machineID: '', osImage: 'obs-sim (kwok)', systemUUID: '' } },
  };
}
/** A node of a k3d cluster: containerd, no kwok annotation. */
function realNode(name: string): k8s.V1Node {
  return {
    metadata: { name, annotations: { 'k3s.io/node-args': '["agent"]' } },
    status: { nodeInfo: { containerRuntimeVersion: 'containerd://2.0.5-k3s1', kubeletVersion: 'v1.33.4+k3s1', kernelVersion: '6.1.0', kubeProxyVersion: 'v1.33.4+k3s1', architecture: 'amd64', operatingSystem: 'linux', bootID: 'b', machineID: 'm', osImage: 'K3s v1.33.4+k3s1', systemUUID: 's' } },
  };
}

describe('simulationOf: a kwok cluster is told by its nodes', () => {
  it('the simulated cluster of npm run sim:up: every node, both marks named', () => {
    const s = simulationOf([kwokNode('obs-sim-server-0'), kwokNode('obs-sim-agent-1'), kwokNode('obs-sim-agent-0')]);
    assert.deepEqual(s, {
      simulator: 'kwok',
      nodes: 3,
      simulatedNodes: ['obs-sim-agent-0', 'obs-sim-agent-1', 'obs-sim-server-0'],
      evidence: '3 of 3 nodes simulated by kwok (container runtime kwok-0.8.0; kwok.x-k8s.io/node=fake): obs-sim-agent-0, obs-sim-agent-1, obs-sim-server-0',
    });
  });

  it('a k3d cluster, whatever its context is called, is not simulated', () => {
    assert.equal(simulationOf([realNode('k3d-obs-sim-server-0'), realNode('k3d-obs-sim-agent-0')]), undefined);
    assert.equal(simulationOf([]), undefined);
  });

  it('one mark is enough, and a real cluster with one kwok node says which node', () => {
    const byRuntime = realNode('fake-1');
    byRuntime.status = { nodeInfo: { ...byRuntime.status?.nodeInfo, containerRuntimeVersion: 'kwok-0.7.0' } as k8s.V1NodeSystemInfo };
    const byAnnotation = realNode('fake-2');
    byAnnotation.metadata = { ...byAnnotation.metadata, annotations: { 'kwok.x-k8s.io/node': 'fake' } };
    const s = simulationOf([realNode('worker-1'), byRuntime, byAnnotation]);
    assert.deepEqual(s?.simulatedNodes, ['fake-1', 'fake-2']);
    assert.match(s?.evidence ?? '', /^2 of 3 nodes simulated by kwok \(container runtime kwok-0\.7\.0; kwok\.x-k8s\.io\/node=fake\): fake-1, fake-2$/);
  });

  it('the annotation with another value, or a runtime that only contains "kwok", is no mark', () => {
    const other = realNode('n1');
    other.metadata = { ...other.metadata, annotations: { 'kwok.x-k8s.io/node': 'true' } };
    const runtime = realNode('n2');
    runtime.status = { nodeInfo: { ...runtime.status?.nodeInfo, containerRuntimeVersion: 'containerd://kwok-build' } as k8s.V1NodeSystemInfo };
    assert.equal(simulationOf([other, runtime]), undefined);
  });
});

const full: RunInfo = { status: 'passed', startTime: '2026-11-30T10:00:00.000Z', durationMs: 600_000, selected: [...REQUIREMENT_IDS] };
const record = (entry: RunRecordEntry) => ({ type: RUN_RECORD_ANNOTATION, description: JSON.stringify(entry) });
const simulationRecord = record({ kind: 'simulation', ...(simulationOf([kwokNode('obs-sim-server-0'), kwokNode('obs-sim-agent-0')]) as NonNullable<ReturnType<typeof simulationOf>>) });
const kubernetesRecord = record({ kind: 'kubernetes', context: 'obs-sim', server: 'https://10.213.0.2:6443', version: 'v1.36.3', kubeconfig: 'KUBECONFIG=.cache/sim/kubeconfig' });

function rec(title: string, tags: string[], annotations: TestRecord['annotations'] = [], project = 'api'): TestRecord {
  return { title, project, location: 'e2e/x.spec.ts:1', tags, status: 'passed', outcome: 'expected', durationMs: 1000, retries: 0, annotations };
}
const preflight = (...annotations: TestRecord['annotations']) => rec('preflight', [], annotations, 'preflight');
const allPassing = () => REQUIREMENT_IDS.map((id) => rec(`${id} holds`, [`@${id}`]));

describe('the sign-off of a run on a simulated cluster', () => {
  it('a full run in which all eight passed is not signed off when the cluster is simulated, and is without the record', () => {
    const simulated = summarize([preflight(kubernetesRecord, simulationRecord), ...allPassing()], full);
    assert.equal(simulated.signedOff, false);
    assert.equal(simulated.blockers.length, 1);
    assert.match(simulated.blockers[0] ?? '', /^simulated cluster: 2 of 2 nodes simulated by kwok \(.*\): obs-sim-agent-0, obs-sim-server-0; a run there proves the suite against a real API server, not the phase on a real cluster/);
    assert.equal(summarize([preflight(kubernetesRecord), ...allPassing()], full).signedOff, true);
  });

  it('"where it ran" says simulated, by which nodes and marks, next to the context and API server', () => {
    const s = summarize([preflight(kubernetesRecord, simulationRecord), rec('OBS-01 holds', ['@OBS-01'])], { ...full, selected: ['OBS-01'], excluded: ['7 tests left out'] });
    assert.deepEqual(s.environment.kubernetes.simulated, { simulator: 'kwok', nodes: 2, simulatedNodes: ['obs-sim-agent-0', 'obs-sim-server-0'], evidence: s.environment.kubernetes.simulated?.evidence });
    assert.match(s.environment.kubernetes.summary, /^context obs-sim, API server https:\/\/10\.213\.0\.2:6443 \(v1\.36\.3, reached by preflight\).*; a SIMULATED cluster: 2 of 2 nodes simulated by kwok/);
    const md = renderMarkdown(s);
    assert.match(md, /⚠ This run ran on a \*\*simulated cluster\*\*: 2 of 2 nodes simulated by kwok .*Nodes and pods are played by kwok, not a kubelet/);
    assert.match(md, /\| Kubernetes \| .*a SIMULATED cluster/);
  });

  it('each selected requirement says what was simulated and what did not run live; one not selected says nothing', () => {
    const tests = [preflight(kubernetesRecord, simulationRecord), rec('crash loop alert', ['@OBS-06']), rec('loki retention', ['@OBS-03']), rec('dashboards', ['@OBS-02'])].map((t) =>
      t.title === 'dashboards' ? { ...t, inRun: false } : t,
    );
    const s = summarize(tests, { ...full, selected: ['OBS-03', 'OBS-06'] });
    const byId = (id: string) => s.requirements.find((r) => r.id === id);
    assert.deepEqual(byId('OBS-06')?.simulation, SIMULATED_PARTS['OBS-06']);
    assert.match(byId('OBS-06')?.simulation?.simulated[0] ?? '', /the crash loop: the waiting reason CrashLoopBackOff, the restart count, the back-off and the BackOff events are played by kwok/);
    assert.match(byId('OBS-03')?.simulation?.notLive[0] ?? '', /^Loki: the simulated cluster of npm run sim:up runs none/);
    assert.equal(byId('OBS-02')?.simulation, undefined, 'not selected');
    const md = renderMarkdown(s);
    assert.match(md, /### OBS-06: [^\n]*\n\n✅ passed: [^\n]*\n\nOn the simulated cluster:\n- simulated: the crash loop/);
    assert.match(md, /### OBS-03: [^\n]*\n\n✅ passed: [^\n]*\n\nOn the simulated cluster:\n- not live: Loki: /);
  });

  it('every requirement names at least one simulated or not-live part, and Loki and Grafana are never live', () => {
    for (const id of REQUIREMENT_IDS) {
      const parts = SIMULATED_PARTS[id];
      assert.ok(parts.simulated.length + parts.notLive.length > 0, id);
    }
    for (const id of ['OBS-02', 'OBS-05', 'OBS-07'] as const) assert.ok(SIMULATED_PARTS[id].notLive.some((p) => p.startsWith('Grafana')), id);
    for (const id of ['OBS-03', 'OBS-04', 'OBS-05'] as const) assert.ok(SIMULATED_PARTS[id].notLive.some((p) => p.startsWith('Loki')), id);
  });

  it('the fingerprint marks each version a simulated cluster did not read from a running component, and only there', () => {
    const fp = (component: string, version: string) => ({ type: 'obs-fingerprint', description: JSON.stringify({ component, version }) });
    const versions = [fp('kubernetes', 'v1.36.3'), fp('prometheus', '3.13.1'), fp('loki', '3.6.7'), fp('alloy', 'v1.17.0-simulated'), fp('chart/obs-sim-kube-prometheus-stack', '87.12.5')];
    const s = summarize([preflight(kubernetesRecord, simulationRecord, ...versions), rec('OBS-04 holds', ['@OBS-04'])], { ...full, selected: ['OBS-04'] });
    assert.deepEqual(
      s.fingerprint.components.map((c) => [c.component, c.notLive?.replace(/:.*/, '')]),
      [
        ['kubernetes', undefined],
        ['prometheus', undefined],
        ['loki', 'no Loki runs on the simulated cluster'],
        ['alloy', 'no log agent runs on the simulated cluster'],
        ['chart/obs-sim-kube-prometheus-stack', 'no Helm release on the simulated cluster'],
      ],
    );
    assert.match(renderMarkdown(s), /\| loki \| 3\.6\.7 \(not live: no Loki runs on the simulated cluster: the version is whatever answered at LOKI_URL\) \|/);
    const real = summarize([preflight(kubernetesRecord, ...versions), rec('OBS-04 holds', ['@OBS-04'])], { ...full, selected: ['OBS-04'] });
    assert.deepEqual(real.fingerprint.components.filter((c) => c.notLive), []);
    assert.match(renderMarkdown(real), /\| loki \| 3\.6\.7 \| preflight \|/);
  });

  it('a run without a cluster (every endpoint a URL) carries no simulation', () => {
    const s = summarize([preflight(), rec('OBS-08 holds', ['@OBS-08'])], { ...full, selected: ['OBS-08'] });
    assert.equal(s.environment.kubernetes.simulated, undefined);
    assert.equal(s.requirements.find((r) => r.id === 'OBS-08')?.simulation, undefined);
    assert.doesNotMatch(renderMarkdown(s), /simulated/i);
  });
});
