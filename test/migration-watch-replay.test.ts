/**
 * The migration watch as a whole, against a replayed Kubernetes API server (shapes from
 * test/support/kube-replay.ts) and a replayed Loki (test/support/loki-replay.ts, checked against
 * captures of real Loki): heartbeat pods pinned to each node and recorded in the run's ledger,
 * the agents' pods sampled at each poll, the pods' own last lines read at the end, the report,
 * and everything deleted afterwards; and `npm run migration:watch` stopped with Ctrl-C, which
 * deletes the heartbeat before it exits. Boundary: the API server and Loki are replayed, not
 * run. The same Ctrl-C against the simulated cluster of `npm run sim:up`: migration-watch-sim.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { loadConfig } from '../fixtures/core/config.ts';
import { KubeClient } from '../fixtures/kube/client.ts';
import { Ledger } from '../fixtures/kube/ledger.ts';
import { LokiClient } from '../fixtures/loki/client.ts';
import { formatHeartbeatLine } from '../fixtures/loki/heartbeat.ts';
import { MigrationWatch } from '../fixtures/loki/migration-watch.ts';
import { startChild, suiteFreeEnv } from './support/child.ts';
import { pod, podList, replayKubeConfig, startKubeReplay } from './support/kube-replay.ts';
import { ReplayLoki } from './support/loki-replay.ts';
import { startReplayServer, type RecordedRequest, type Reply, type ReplayServer } from './support/replay-server.ts';

const NODES = ['k3d-obs-agent-0', 'k3d-obs-agent-1'];
const ok: Reply = { body: { kind: 'Status', apiVersion: 'v1', status: 'Success' } };

/** A cluster of two nodes as the watch sees it: nodes, heartbeat pods, the agents' DaemonSets and pods, pod logs. */
class FakeCluster {
  readonly namespace: string;
  /** Agent → nodes where it has a running pod; changed by the test between polls. */
  agents: Record<'promtail' | 'alloy', string[]> = { promtail: [...NODES], alloy: [] };
  /** The heartbeat line each pod's log ends with. */
  lastLine = new Map<string, string>();

  constructor(runId: string) {
    this.namespace = `obs-acc-${runId}`;
  }

  routes(): Record<string, (req: RecordedRequest) => Reply> {
    const ns = this.namespace;
    const heartbeatPod = (i: number) => {
      const p = pod({ name: `obs-heartbeat-n${i}`, namespace: ns, ready: true, labels: { 'app.kubernetes.io/name': 'obs-heartbeat', 'obs-acceptance.io/heartbeat': 'true' } });
      return { ...p, spec: { ...p.spec, nodeName: NODES[i] } } as k8s.V1Pod;
    };
    const echo = (req: RecordedRequest): Reply => ({ body: JSON.parse(req.body) as unknown });
    const daemonSet = (agent: string) => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: agent, namespace: 'monitoring', labels: { 'app.kubernetes.io/name': agent } },
      spec: { selector: { matchLabels: { 'app.kubernetes.io/name': agent } }, template: { spec: { containers: [{ name: agent, image: `docker.io/grafana/${agent}:1` }] } } },
      status: { desiredNumberScheduled: 2, numberReady: 2 },
    });
    return {
      'GET /version': () => ({ body: { major: '1', minor: '36', gitVersion: 'v1.36.1+replay', platform: 'linux/amd64' } }),
      'GET /api/v1/nodes': () => ({ body: { kind: 'NodeList', apiVersion: 'v1', metadata: {}, items: NODES.map((name) => ({ metadata: { name }, spec: {} })) } }),
      [`PATCH /api/v1/namespaces/${ns}`]: echo,
      [`PATCH /api/v1/namespaces/${ns}/pods/obs-heartbeat-n0`]: echo,
      [`PATCH /api/v1/namespaces/${ns}/pods/obs-heartbeat-n1`]: echo,
      [`GET /api/v1/namespaces/${ns}/pods`]: () => ({ body: podList(heartbeatPod(0), heartbeatPod(1)) }),
      [`GET /api/v1/namespaces/${ns}/pods/obs-heartbeat-n0/log`]: () => ({ headers: { 'content-type': 'text/plain' }, body: `${this.lastLine.get(NODES[0] as string) ?? ''}\n` }),
      [`GET /api/v1/namespaces/${ns}/pods/obs-heartbeat-n1/log`]: () => ({ headers: { 'content-type': 'text/plain' }, body: `${this.lastLine.get(NODES[1] as string) ?? ''}\n` }),
      'GET /apis/apps/v1/daemonsets': () => ({ body: { kind: 'DaemonSetList', apiVersion: 'apps/v1', metadata: {}, items: (['promtail', 'alloy'] as const).filter((a) => this.agents[a].length).map(daemonSet) } }),
      'GET /api/v1/namespaces/monitoring/pods': (req) => {
        const agent = /promtail/.test(req.query.get('labelSelector') ?? '') ? 'promtail' : 'alloy';
        return { body: podList(...this.agents[agent].map((node, i) => ({ ...pod({ name: `${agent}-${i}`, namespace: 'monitoring', ready: true }), spec: { containers: [], nodeName: node } }))) };
      },
      [`DELETE /api/v1/namespaces/${ns}/pods/obs-heartbeat-n0`]: () => ok,
      [`DELETE /api/v1/namespaces/${ns}/pods/obs-heartbeat-n1`]: () => ok,
      [`DELETE /api/v1/namespaces/${ns}`]: () => ok,
    };
  }
}

/** A kube config file for the replayed API server, as KUBECONFIG names one. */
async function writeKubeconfig(dir: string, server: string): Promise<string> {
  const file = join(dir, 'config');
  await writeFile(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: replay, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: replay, user: {token: replay-token-not-a-secret}}]',
      'contexts: [{name: replay, context: {cluster: replay, user: replay}}]',
      'current-context: replay',
    ].join('\n'),
  );
  return file;
}

const deletes = (server: ReplayServer) => server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);

async function lokiServer(loki: ReplayLoki): Promise<ReplayServer> {
  return startReplayServer({ '/loki/api/v1/query_range': loki.route(), 'GET /ready': { headers: { 'content-type': 'text/plain' }, body: 'ready\n' } });
}

void describe('the migration watch against a replayed API server and Loki', () => {
  const runId = `mw${process.pid}`;
  const fake = new FakeCluster(runId);
  const loki = new ReplayLoki('3.6.7');
  let kubeServer: ReplayServer;
  let lokiHttp: ReplayServer;
  let dir: string;
  before(async () => {
    kubeServer = await startKubeReplay(fake.routes());
    lokiHttp = await lokiServer(loki);
    dir = await mkdtemp(join(tmpdir(), 'migration-watch-'));
  });
  after(async () => {
    await kubeServer.close();
    await lokiHttp.close();
    await rm(dir, { recursive: true, force: true });
  });

  void it('pins a heartbeat pod to each node, samples the agents, reads the pods\' last lines, reports the gap and deletes everything', async () => {
    const config = loadConfig({ LOG_MAX_DELAY_SECONDS: '2', OBS_RUN_ID: runId });
    const ledger = Ledger.forRun(runId, dir);
    const kube = new KubeClient({ kc: replayKubeConfig(kubeServer.url), runId, namespacePrefix: 'obs-acc', ledger });
    const watch = await MigrationWatch.start({ kube, loki: new LokiClient(lokiHttp.url, { timeoutMs: 30_000 }), lokiEndpoint: lokiHttp.url, config, pollMs: 50 });

    assert.deepEqual(watch.nodes, NODES);
    const applied = kubeServer.requests.filter((r) => r.method === 'PATCH' && r.path.includes('/pods/'));
    assert.deepEqual(
      applied.map((r) => {
        const body = JSON.parse(r.body) as k8s.V1Pod;
        return [body.metadata?.name, body.spec?.nodeName, body.metadata?.labels?.['obs-acceptance.io/run-id']];
      }),
      [['obs-heartbeat-n0', NODES[0], runId], ['obs-heartbeat-n1', NODES[1], runId]],
    );
    assert.deepEqual(ledger.entries().map((e) => `${e.kind}/${e.name}`), [`Namespace/${fake.namespace}`, 'Pod/obs-heartbeat-n0', 'Pod/obs-heartbeat-n1']);

    // 100 lines a node, 0.2 s apart, written in the last 25 s (the polls look back LOG_MAX_DELAY_SECONDS + 30 s);
    // Promtail ships 1–60, Alloy 50–100, except 91–95 on agent-1.
    const base = Date.now() - 25_000;
    const written = (seq: number) => BigInt(base + seq * 200) * 1_000_000n;
    const ship = (node: string, agent: 'promtail' | 'alloy', seqs: number[]) =>
      loki.pushEntries(
        { namespace: fake.namespace, pod: 'p', container: 'heartbeat', app: 'obs-heartbeat', node_name: node, ...(agent === 'alloy' ? { shipper: 'alloy' } : {}) },
        seqs.map((seq) => [written(seq) + 300_000n, formatHeartbeatLine({ runId, node, seq, writtenNs: written(seq) })]),
      );
    const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
    for (const node of NODES) ship(node, 'promtail', range(1, 60));
    fake.agents = { promtail: [...NODES], alloy: [...NODES] };
    ship(NODES[0] as string, 'alloy', range(50, 100));
    ship(NODES[1] as string, 'alloy', [...range(50, 90), ...range(96, 100)]);
    for (const node of NODES) fake.lastLine.set(node, `2026-11-30T09:00:00Z stdout F ${formatHeartbeatLine({ runId, node, seq: 100, writtenNs: written(100) })}`);
    const during = await watch.poll();
    assert.match(watch.describe(during), /k3d-obs-agent-1: 95 lines \(alloy 46, promtail 60\), 5 missing, 11 shipped twice, newest written \d+ s ago; promtail on 2 nodes, alloy on 2 nodes$/);
    fake.agents = { promtail: [], alloy: [...NODES] };
    await watch.poll();

    const report = await watch.finish();
    assert.equal(report.kind, 'obs-acceptance migration watch');
    assert.deepEqual(report.analysis.nodes.map((n) => [n.node, n.expected.toSeq, n.expected.source, n.received]), [[NODES[0], 100, 'pod log', 100], [NODES[1], 100, 'pod log', 95]]);
    assert.deepEqual(report.verdict.gaps.map((g) => g.replace(/ from .*/, '')), [`node ${NODES[1]}: 5 lines missing (seq 91–95), 1.2 s silent`]);
    assert.deepEqual(report.verdict.duplicates, []);
    assert.deepEqual(report.switchProblems, []);
    assert.deepEqual(report.analysis.nodes.map((n) => n.duplicates.map((d) => [d.fromSeq, d.toSeq, d.afterPromtailGone])), [[[50, 60, false]], [[50, 60, false]]]);
    assert.ok(report.reading.polls >= 3, `the end polls too (${report.reading.polls})`);
    const logReads = kubeServer.requests.filter((r) => r.path.endsWith('/log'));
    assert.deepEqual(logReads.map((r) => [r.query.get('container'), r.query.get('tailLines')]), [['heartbeat', '5'], ['heartbeat', '5']]);

    const cleanup = await kube.cleanupRun();
    assert.deepEqual(cleanup.failed, []);
    assert.deepEqual(deletes(kubeServer), [`/api/v1/namespaces/${fake.namespace}/pods/obs-heartbeat-n1`, `/api/v1/namespaces/${fake.namespace}/pods/obs-heartbeat-n0`, `/api/v1/namespaces/${fake.namespace}`]);
    assert.deepEqual(ledger.entries(), []);
  });
});

void describe('npm run migration:watch as a command: Ctrl-C, SIGTERM, an unreachable Loki (replayed API server and Loki)', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  void it(`${signal}: deletes the heartbeat pods and the run namespace, empties the ledger and exits ${code}`, async (t) => {
    const runId = `mw${signal === 'SIGINT' ? 'i' : 't'}${process.pid}`;
    const fake = new FakeCluster(runId);
    const kubeServer = await startKubeReplay(fake.routes());
    const lokiHttp = await lokiServer(new ReplayLoki('3.6.7'));
    const dir = await mkdtemp(join(tmpdir(), 'migration-watch-cli-'));
    const ledgerFile = Ledger.forRun(runId).file;
    t.after(async () => {
      await kubeServer.close();
      await lokiHttp.close();
      await rm(dir, { recursive: true, force: true });
      await rm(ledgerFile, { force: true });
    });
    const kubeconfig = await writeKubeconfig(dir, kubeServer.url);
    const env = suiteFreeEnv({ KUBECONFIG: kubeconfig, OBS_RUN_ID: runId, LOKI_URL: lokiHttp.url, OBS_ENV_FILE: join(dir, 'none.env'), PREFLIGHT_TIMEOUT_MS: '30000' });
    const child = startChild(process.execPath, ['scripts/migration-watch.ts', '--minutes', '30', '--out', join(dir, 'report')], { env });
    await child.printed(/Switch the agents now/);
    assert.ok(existsSync(ledgerFile), 'the ledger holds the heartbeat while the watch runs');
    child.signal(signal);
    const r = await child.done;

    assert.equal(r.code, code, `exit ${r.signal ?? r.code}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`${signal}: stopping the watch and deleting the heartbeat of run ${runId}…`));
    assert.match(r.stdout, new RegExp(`Deleted 3 object\\(s\\) of run ${runId}`));
    assert.deepEqual(deletes(kubeServer), [`/api/v1/namespaces/${fake.namespace}/pods/obs-heartbeat-n1`, `/api/v1/namespaces/${fake.namespace}/pods/obs-heartbeat-n0`, `/api/v1/namespaces/${fake.namespace}`]);
    assert.equal(existsSync(ledgerFile), false, 'nothing left in the ledger');
    assert.equal(existsSync(join(dir, 'report')), false, 'no report from an interrupted watch');
  });
  }

  void it('a Loki that does not answer stops it before anything is created, naming Loki, exit 1', async (t) => {
    const runId = `mwl${process.pid}`;
    const kubeServer = await startKubeReplay(new FakeCluster(runId).routes());
    const closed = await startReplayServer({});
    const lokiUrl = closed.url;
    await closed.close();
    const dir = await mkdtemp(join(tmpdir(), 'migration-watch-cli-'));
    t.after(async () => {
      await kubeServer.close();
      await rm(dir, { recursive: true, force: true });
    });
    const env = suiteFreeEnv({ KUBECONFIG: await writeKubeconfig(dir, kubeServer.url), OBS_RUN_ID: runId, LOKI_URL: lokiUrl, OBS_ENV_FILE: join(dir, 'none.env'), PREFLIGHT_TIMEOUT_MS: '30000' });
    const r = await startChild(process.execPath, ['scripts/migration-watch.ts', '--minutes', '30'], { env }).done;
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`migration:watch: .*${lokiUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.deepEqual(kubeServer.requests.filter((q) => q.method !== 'GET').map((q) => q.path), [], 'nothing created');
  });
});
