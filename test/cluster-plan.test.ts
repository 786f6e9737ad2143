/**
 * The cluster plan, checked without a cluster: `cluster:up -- --dry-run` prints every command
 * in order and runs none (no Docker, k3d, Helm or kubectl here), charts are pinned, the values
 * files we own exist and parse, and the steps come in the order the stack needs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CHARTS, CLUSTER } from '../scripts/lib/charts.ts';
import { clusterDownPlan, clusterUpPlan, formatPlan, PLAN_FILES, shellQuote, type Step } from '../scripts/lib/cluster-plan.ts';
import { parseFlags } from '../scripts/lib/run-plan.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const readYaml = (path: string): unknown => parse(readFileSync(`${root}/${path}`, 'utf8'));
const plain = clusterUpPlan({ rehearseMigration: false });
const rehearsal = clusterUpPlan({ rehearseMigration: true });

const position = (plan: Step[], what: string, pred: (argv: string[]) => boolean): number => {
  const i = plan.findIndex((s) => pred(s.argv));
  assert.notEqual(i, -1, `the plan has no step that ${what}:\n${formatPlan(plan)}`);
  return i;
};
const helmRelease = (release: string) => (argv: string[]) => argv[0] === 'helm' && argv[1] === 'upgrade' && argv[3] === release;
const has = (...words: string[]) => (argv: string[]) => words.every((w) => argv.includes(w));

/** Runs a script with only Node on the PATH: any docker/k3d/helm/kubectl call would fail. */
function runScript(script: string, args: string[]): string {
  return execFileSync(process.execPath, [script, ...args], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: '/nonexistent', HOME: process.env.HOME ?? '/tmp' },
  });
}

void describe('cluster plan (dry run, no cluster)', () => {
  void it('cluster:up --dry-run prints the whole plan, in order, and runs nothing', () => {
    const out = runScript('scripts/cluster-up.ts', ['--dry-run']);
    assert.match(out, new RegExp(`Dry run: ${plain.length} steps, nothing is executed`));
    let from = 0;
    for (const step of plain) {
      const at = out.indexOf(shellQuote(step.argv), from);
      assert.ok(at >= from, `missing or out of order in the printed plan: ${shellQuote(step.argv)}\n${out}`);
      from = at;
    }
  });

  void it('cluster:up --dry-run --rehearse-migration prints the Promtail install; cluster:down --dry-run the delete', () => {
    assert.match(runScript('scripts/cluster-up.ts', ['--dry-run', '--rehearse-migration']), /helm upgrade --install promtail promtail/);
    const down = runScript('scripts/cluster-down.ts', ['--dry-run']);
    assert.match(down, new RegExp(`k3d cluster delete ${CLUSTER.name}`));
    assert.equal(clusterDownPlan().length, 1);
  });

  void it('an unknown flag stops the script instead of building something else', () => {
    assert.throws(() => parseFlags(['--dryrun'], ['--dry-run']), /Unknown argument "--dryrun"/);
    assert.throws(
      () => runScript('scripts/cluster-up.ts', ['--rehearse']),
      (e: { status?: number; stderr?: string }) => e.status === 1 && /Unknown argument "--rehearse"/.test(e.stderr ?? ''),
    );
  });

  void it('every chart is installed at its pinned version from its repository', () => {
    for (const pin of Object.values(CHARTS)) {
      assert.match(pin.version, /^\d+\.\d+\.\d+$/, `${pin.chart} is not pinned to an exact version`);
      const plan = pin.release === 'promtail' ? rehearsal : plain;
      const step = plan[position(plan, `installs ${pin.release}`, helmRelease(pin.release))];
      const argv = step?.argv ?? [];
      assert.equal(argv[argv.indexOf('--version') + 1], pin.version);
      assert.equal(argv[argv.indexOf('--repo') + 1], pin.repo);
      assert.ok(argv.includes('--wait'), `${pin.release} is installed without --wait`);
    }
    assert.equal(CHARTS.loki.repo, 'https://grafana-community.github.io/helm-charts', 'the OSS Loki chart lives in grafana-community since 2026-03-16');
  });

  void it('every command names the k3d context, so no other cluster is ever touched', () => {
    for (const s of [...plain, ...rehearsal]) {
      if (s.argv[0] === 'kubectl' && s.argv[1] !== 'version') assert.deepEqual(s.argv.slice(1, 3), ['--context', CLUSTER.context], shellQuote(s.argv));
      if (s.argv[0] === 'helm' && s.argv[1] !== 'version') assert.equal(s.argv[s.argv.indexOf('--kube-context') + 1], CLUSTER.context, shellQuote(s.argv));
    }
  });

  void it('the files the plan reads: ours exist, the others are named by the plan', () => {
    for (const f of PLAN_FILES.own) assert.ok(existsSync(`${root}/${f}`), `${f} is missing`);
    const printed = formatPlan(rehearsal);
    for (const f of [...PLAN_FILES.own, ...PLAN_FILES.others]) assert.ok(printed.includes(f), `the plan never reads ${f}`);
    const valuesArgs = rehearsal.flatMap((s) => s.argv.flatMap((a, i) => (s.argv[i - 1] === '--values' ? [a] : [])));
    for (const f of valuesArgs) assert.ok((PLAN_FILES.own as readonly string[]).includes(f) || (PLAN_FILES.others as readonly string[]).includes(f), `${f} is not listed in PLAN_FILES`);
  });

  void it('the k3d config: one server, two agents, Traefik off, a pinned k3s image', () => {
    const config = readYaml(CLUSTER.config) as {
      apiVersion: string; kind: string; metadata: { name: string }; servers: number; agents: number; image: string;
      options: { k3s: { extraArgs: { arg: string; nodeFilters: string[] }[] } };
    };
    assert.equal(config.apiVersion, 'k3d.io/v1alpha5');
    assert.equal(config.kind, 'Simple');
    assert.equal(config.metadata.name, CLUSTER.name);
    assert.equal(config.servers, 1);
    assert.equal(config.agents, 2);
    assert.match(config.image, /^rancher\/k3s:v\d+\.\d+\.\d+-k3s\d+$/);
    assert.ok(config.options.k3s.extraArgs.some((a) => a.arg === '--disable=traefik' && a.nodeFilters.includes('server:*')));
  });

  void it('kube-prometheus-stack values: k3s targets off, selection as production, KubePodCrashLooping shortened', () => {
    const v = readYaml('manifests/kube-prometheus-stack/values.yaml') as Record<string, Record<string, unknown>>;
    for (const k of ['kubeControllerManager', 'kubeScheduler', 'kubeProxy', 'kubeEtcd']) assert.deepEqual(v[k], { enabled: false }, k);
    const spec = (v.prometheus?.prometheusSpec ?? {}) as Record<string, unknown>;
    assert.equal(spec.serviceMonitorSelectorNilUsesHelmValues, true);
    assert.equal(spec.ruleSelectorNilUsesHelmValues, true);
    assert.deepEqual(spec.serviceMonitorNamespaceSelector, {});
    assert.deepEqual(spec.ruleNamespaceSelector, {});
    assert.deepEqual(v.customRules, { KubePodCrashLooping: { for: '2m' } });
    assert.match(readFileSync(`${root}/manifests/kube-prometheus-stack/values.yaml`, 'utf8'), /for: 15m/, 'the real `for` is documented next to the override');
    assert.deepEqual(v['prometheus-node-exporter'], { hostRootFsMount: { enabled: false } });
    const promtail = readYaml('manifests/promtail/values.yaml') as { config: { clients: { url: string }[] } };
    assert.match(promtail.config.clients[0]?.url ?? '', /^http:\/\/loki\.monitoring\.svc\.cluster\.local:3100\/loki\/api\/v1\/push$/);
  });

  void it('order: cluster, Prometheus stack, dashboards, Loki, (Promtail,) Alloy, image, TaskPlanner, final wait', () => {
    for (const plan of [plain, rehearsal]) {
      const create = position(plan, 'creates the cluster', has('k3d', 'cluster', 'create'));
      const kps = position(plan, 'installs kube-prometheus-stack', helmRelease(CHARTS.kubePrometheusStack.release));
      const dashboards = position(plan, 'applies the dashboards', has('apply', 'manifests/grafana/'));
      const loki = position(plan, 'installs Loki', helmRelease(CHARTS.loki.release));
      const alloy = position(plan, 'installs Alloy', helmRelease(CHARTS.alloy.release));
      const build = position(plan, 'builds the image', has('docker', 'build'));
      const load = position(plan, 'imports the image', has('k3d', 'image', 'import'));
      const app = position(plan, 'applies TaskPlanner', has('apply', 'manifests/taskplanner/'));
      const rolled = position(plan, 'waits for TaskPlanner', has('rollout', 'status'));
      // CRDs (ServiceMonitor, PrometheusRule) come with kube-prometheus-stack; logs need Loki before a shipper.
      assert.ok(create < kps && kps < dashboards && kps < loki && loki < alloy && alloy < build && build < load && load < app && app < rolled);
      assert.ok(kps < app, 'TaskPlanner\'s ServiceMonitor needs the CRDs');
      assert.equal(position(plan, 'waits for every pod', has('wait', '--for=condition=Ready', 'pods')), plan.length - 1);
      assert.equal(plan[create]?.only?.when, 'fails', 'creating the cluster must be skipped when it exists');
    }
    const promtail = position(rehearsal, 'installs Promtail', helmRelease('promtail'));
    assert.ok(promtail < position(rehearsal, 'installs Alloy', helmRelease('alloy')), 'the rehearsal installs Promtail first');
    assert.equal(plain.findIndex((s) => helmRelease('promtail')(s.argv)), -1, 'Promtail only in the rehearsal');
    const cleanup = plain[position(plain, 'removes a rehearsal\'s Promtail', has('helm', 'uninstall', 'promtail'))];
    assert.equal(cleanup?.only?.when, 'succeeds');
  });
});
