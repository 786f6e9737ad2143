/**
 * The cluster plan, checked without a cluster: `cluster:up -- --dry-run` prints every command
 * in order and runs none (no Docker, k3d, Helm or kubectl here), charts are pinned, the values
 * files we own exist and parse, and the steps come in the order the stack needs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CHARTS, CLUSTER } from '../scripts/lib/charts.ts';
import { checkTls } from '../fixtures/grafana/tls-check.ts';
import { clusterDownPlan, clusterUpPlan, formatPlan, PIN_CHECK_SCRIPT, PLAN_FILES, rehearsalSteps, shellQuote, type Step } from '../scripts/lib/cluster-plan.ts';
import { FRONT_DOOR, frontDoorSteps } from '../scripts/lib/front-door.ts';
import { parseFlags, runPlan, StepFailed } from '../scripts/lib/run-plan.ts';
import { describeOutput, runChild, runChildOk } from './support/child.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const readYaml = (path: string): unknown => parse(readFileSync(`${root}/${path}`, 'utf8'));
const HOME = '/home/runner';
const plain = clusterUpPlan({ rehearseMigration: false, tlsFrontDoor: false, root, home: HOME });
const rehearsal = clusterUpPlan({ rehearseMigration: true, tlsFrontDoor: false, root, home: HOME });
const withFrontDoor = clusterUpPlan({ rehearseMigration: false, tlsFrontDoor: true, root, home: HOME });

const position = (plan: Step[], what: string, pred: (argv: string[]) => boolean): number => {
  const i = plan.findIndex((s) => pred(s.argv));
  assert.notEqual(i, -1, `the plan has no step that ${what}:\n${formatPlan(plan)}`);
  return i;
};
const helmRelease = (release: string) => (argv: string[]) => argv[0] === 'helm' && argv[1] === 'upgrade' && argv[3] === release;
const has = (...words: string[]) => (argv: string[]) => words.every((w) => argv.includes(w));

/** Scripts run with only Node on the PATH: any docker/k3d/helm/kubectl call would fail. */
const scriptOptions = { cwd: root, env: { PATH: '/nonexistent', HOME: process.env.HOME ?? '/tmp' } };
const runScript = (script: string, args: string[]) => runChild(process.execPath, [script, ...args], scriptOptions);
/** The script's stdout; a non-zero exit throws with its output. */
const scriptOutput = async (script: string, args: string[]) => (await runChildOk(process.execPath, [script, ...args], scriptOptions)).stdout;

void describe('cluster plan (dry run, no cluster)', () => {
  void it('cluster:up --dry-run prints the whole plan, in order, and runs nothing', async () => {
    const out = await scriptOutput('scripts/cluster-up.ts', ['--dry-run']);
    assert.match(out, new RegExp(`Dry run: ${plain.length} steps, nothing is executed`));
    let from = 0;
    for (const step of plain) {
      const at = out.indexOf(shellQuote(step.argv), from);
      assert.ok(at >= from, `missing or out of order in the printed plan: ${shellQuote(step.argv)}\n${out}`);
      from = at;
    }
  });

  void it('cluster:up --dry-run --rehearse-migration prints the Promtail install; cluster:down --dry-run the delete', async () => {
    assert.match(await scriptOutput('scripts/cluster-up.ts', ['--dry-run', '--rehearse-migration']), /helm upgrade --install promtail promtail/);
    const down = await scriptOutput('scripts/cluster-down.ts', ['--dry-run']);
    assert.match(down, new RegExp(`k3d cluster delete ${CLUSTER.name}`));
    const downPlan = clusterDownPlan();
    assert.equal(downPlan.at(-1)?.argv.join(' '), `k3d cluster delete ${CLUSTER.name}`);
    assert.ok(downPlan.slice(0, -1).some((st) => has('docker', 'rm', FRONT_DOOR.container)(st.argv)), 'cluster:down also removes the front door');
    assert.match(await scriptOutput('scripts/cluster-up.ts', ['--dry-run', '--tls-front-door']), /docker run --detach --name obs-grafana-front-door/);
  });

  void it('an unknown flag stops the script instead of building something else', async () => {
    assert.throws(() => parseFlags(['--dryrun'], ['--dry-run']), /Unknown argument "--dryrun"/);
    const r = await runScript('scripts/cluster-up.ts', ['--rehearse']);
    assert.equal(r.code, 1, describeOutput(r));
    assert.match(r.stderr, /Unknown argument "--rehearse"/);
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

  void it('the first step checks every chart pin against its repository, before Docker, k3d or Helm is touched', async () => {
    for (const plan of [plain, rehearsal, withFrontDoor]) {
      assert.deepEqual(plan[0]?.argv, ['node', PIN_CHECK_SCRIPT], formatPlan(plan));
      assert.equal(plan[0]?.only, undefined, 'the pin check is never skipped');
    }
    // The check reads CHARTS itself, so Promtail's pin is checked also when no rehearsal installs it.
    assert.match(readFileSync(`${root}/${PIN_CHECK_SCRIPT}`, 'utf8'), /runPinCheck\(CHARTS\)/);
    const out = await scriptOutput('scripts/cluster-up.ts', ['--dry-run']);
    assert.match(out, /^ 1\. Every pinned chart version is released in its repository\n {5}node scripts\/check-chart-pins\.ts$/m);
  });

  void it('every command names the k3d context, so no other cluster is ever touched', () => {
    for (const s of [...plain, ...rehearsal, ...withFrontDoor]) {
      if (s.argv[0] === 'kubectl' && s.argv[1] !== 'version') assert.deepEqual(s.argv.slice(1, 3), ['--context', CLUSTER.context], shellQuote(s.argv));
      if (s.argv[0] === 'helm' && s.argv[1] !== 'version') assert.equal(s.argv[s.argv.indexOf('--kube-context') + 1], CLUSTER.context, shellQuote(s.argv));
    }
  });

  void it('the files the plan reads: ours exist, the others are named by the plan', () => {
    for (const f of PLAN_FILES.own) assert.ok(existsSync(`${root}/${f}`), `${f} is missing`);
    const printed = formatPlan([...rehearsal, ...withFrontDoor]);
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
    // The chart's default is `prom-operator`; only an empty value makes the grafana chart generate one.
    assert.equal(v.grafana?.adminPassword, '', 'the Grafana admin password must be generated, not the chart default');
    const promtail = readYaml('manifests/promtail/values.yaml') as { config: { clients: { url: string }[] } };
    assert.match(promtail.config.clients[0]?.url ?? '', /^http:\/\/loki\.monitoring\.svc\.cluster\.local:3100\/loki\/api\/v1\/push$/);
  });

  void it('order: cluster, Prometheus stack, dashboards, Loki, Alloy (or Promtail for the rehearsal), image, TaskPlanner, final wait', () => {
    for (const plan of [plain, rehearsal]) {
      const create = position(plan, 'creates the cluster', has('k3d', 'cluster', 'create'));
      const kps = position(plan, 'installs kube-prometheus-stack', helmRelease(CHARTS.kubePrometheusStack.release));
      const dashboards = position(plan, 'applies the dashboards', has('apply', 'manifests/grafana/'));
      const loki = position(plan, 'installs Loki', helmRelease(CHARTS.loki.release));
      const shipper = position(plan, 'installs a log agent', (argv) => helmRelease(plan === plain ? CHARTS.alloy.release : CHARTS.promtail.release)(argv));
      const build = position(plan, 'builds the image', has('docker', 'build'));
      const load = position(plan, 'imports the image', has('k3d', 'image', 'import'));
      const app = position(plan, 'applies TaskPlanner', has('apply', 'manifests/taskplanner/'));
      const rolled = position(plan, 'waits for TaskPlanner', has('rollout', 'status'));
      // CRDs (ServiceMonitor, PrometheusRule) come with kube-prometheus-stack; logs need Loki before a shipper.
      assert.ok(create < kps && kps < dashboards && kps < loki && loki < shipper && shipper < build && build < load && load < app && app < rolled);
      assert.ok(kps < app, 'TaskPlanner\'s ServiceMonitor needs the CRDs');
      assert.equal(position(plan, 'waits for every pod', has('wait', '--for=condition=Ready', 'pods')), plan.length - 1);
      assert.equal(plan[create]?.only?.when, 'fails', 'creating the cluster must be skipped when it exists');
    }
    // The rehearsal starts where production stands: Promtail only; Alloy comes under the watch.
    assert.equal(rehearsal.findIndex((s) => helmRelease('alloy')(s.argv)), -1, 'no Alloy install in the rehearsal\'s cluster:up');
    const staleAlloy = rehearsal[position(rehearsal, 'removes an earlier run\'s Alloy', has('helm', 'uninstall', 'alloy'))];
    assert.equal(staleAlloy?.only?.when, 'succeeds');
    assert.equal(plain.findIndex((s) => helmRelease('promtail')(s.argv)), -1, 'Promtail only in the rehearsal');
    const cleanup = plain[position(plain, 'removes a rehearsal\'s Promtail', has('helm', 'uninstall', 'promtail'))];
    assert.equal(cleanup?.only?.when, 'succeeds');
  });

  void it('applies the CI account (RBAC and admission policy, manifests/rbac/) once the stack made monitoring, server-side, before the final wait (issue 19)', () => {
    for (const plan of [plain, rehearsal, withFrontDoor]) {
      const kps = position(plan, 'installs kube-prometheus-stack', helmRelease(CHARTS.kubePrometheusStack.release));
      const rbac = position(plan, 'applies the CI account', has('apply', '--server-side', 'manifests/rbac/'));
      const ready = position(plan, 'waits for every pod', has('wait', '--for=condition=Ready', 'pods'));
      assert.ok(kps < rbac && rbac < ready, formatPlan(plan));
    }
  });

  void it('the rehearsal\'s switch: runbook step 1 installs Alloy exactly as cluster:up does, step 3 removes Promtail unguarded', () => {
    const { installAlloy, removePromtail } = rehearsalSteps();
    const plainAlloy = plain[position(plain, 'installs Alloy', helmRelease(CHARTS.alloy.release))];
    assert.deepEqual(installAlloy.argv, plainAlloy?.argv);
    assert.deepEqual(removePromtail.argv, ['helm', 'uninstall', CHARTS.promtail.release, '--kube-context', CLUSTER.context, '--namespace', CHARTS.promtail.namespace, '--wait']);
    assert.equal(removePromtail.only, undefined, 'the rehearsal must fail loudly when there is no Promtail to remove');
  });

  void it('the TLS front door only on request, after the stack is ready, pinned, and wired to the NodePort k3d publishes', () => {
    assert.equal(plain.some((st) => st.argv.includes(FRONT_DOOR.container)), false);
    const start = position(withFrontDoor, 'starts the front door', has('docker', 'run', FRONT_DOOR.container));
    const ready = position(withFrontDoor, 'waits for every pod', has('wait', '--for=condition=Ready', 'pods'));
    const probe = position(withFrontDoor, 'waits for Grafana through the front door', has('curl', `${FRONT_DOOR.url}/api/health`));
    const trust = position(withFrontDoor, 'trusts the CA for Chromium', has('certutil', '-A'));
    assert.ok(ready < start && start < probe && probe < trust);
    assert.match(FRONT_DOOR.image, /^caddy:\d+\.\d+\.\d+$/);
    assert.ok(withFrontDoor[start]?.argv.includes(`${join(root, FRONT_DOOR.caddyfile)}:/etc/caddy/Caddyfile:ro`));
    assert.ok(withFrontDoor.filter((st) => st.argv.some((a) => a.includes('.pki'))).every((st) => st.argv.some((a) => a.includes(`${HOME}/.pki/nssdb`))));

    const caddyfile = readFileSync(`${root}/${FRONT_DOOR.caddyfile}`, 'utf8');
    const cluster = readFileSync(`${root}/${CLUSTER.config}`, 'utf8');
    const service = readYaml(FRONT_DOOR.service) as { spec: { type: string; selector: Record<string, string>; ports: { nodePort: number; targetPort: number }[] } };
    const nodePort = service.spec.ports[0]?.nodePort;
    assert.equal(service.spec.type, 'NodePort');
    assert.deepEqual(service.spec.selector, { 'app.kubernetes.io/name': 'grafana', 'app.kubernetes.io/instance': CHARTS.kubePrometheusStack.release });
    assert.ok(cluster.includes(`127.0.0.1:${nodePort}:${nodePort}`), 'k3d publishes the NodePort on loopback');
    assert.ok(caddyfile.includes(`reverse_proxy 127.0.0.1:${nodePort}`), 'Caddy proxies to the published NodePort');
    assert.ok(caddyfile.includes(`${FRONT_DOOR.url} {`), 'Caddy serves the URL the suite is given');
    assert.ok(caddyfile.includes(`redir ${FRONT_DOOR.url}{uri} permanent`), 'plain HTTP redirects to it');
  });

  void it("the front door's openssl steps, run for real, give a chain the suite's own TLS check accepts", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'front-door-'));
    const certSteps = frontDoorSteps(dir, dir).filter((st) => ['mkdir', 'openssl', 'chmod'].includes(st.argv[0] ?? '') && !st.argv.some((a) => a.includes('.pki')));
    for (const st of certSteps) await runChildOk(st.argv[0] ?? '', st.argv.slice(1), { cwd: dir });
    const tls = join(dir, FRONT_DOOR.tlsDir);
    const server = createServer({ key: readFileSync(join(tls, 'grafana.key')), cert: readFileSync(join(tls, 'grafana.pem')) }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://localhost:${(server.address() as AddressInfo).port}`;
      const report = await checkTls(url, { minDays: 14, caFile: join(dir, FRONT_DOOR.caFile), timeoutMs: 5000 });
      assert.equal(report.verdict, 'ok', report.message);
      assert.equal(report.daysLeft, 30);
      const untrusted = await checkTls(url, { minDays: 14, timeoutMs: 5000 });
      assert.notEqual(untrusted.verdict, 'ok', 'without CA_FILE the certificate must not be trusted');
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it('runPlan runs the steps in order with zx, honours the guards and stops at the first failure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-plan-'));
    const log: string[] = [];
    const file = join(dir, 'out.txt');
    const append = (word: string): string[] => ['sh', '-c', `echo ${word} >> ${file}`];
    const plan: Step[] = [
      { title: 'first', argv: append('one') },
      { title: 'skipped: probe succeeds', argv: append('never'), only: { argv: ['true'], when: 'fails' } },
      { title: 'guarded and run', argv: append('two'), only: { argv: ['test', '-s', file], when: 'succeeds' } },
      { title: 'fails', argv: ['sh', '-c', 'exit 3'] },
      { title: 'after the failure', argv: append('three') },
    ];
    try {
      await assert.rejects(runPlan(plan, { dryRun: false, cwd: dir, log: (l) => log.push(l) }), (e: unknown) => e instanceof StepFailed && e.exitCode === 3 && /Step 4 failed \(exit 3\): fails/.test(e.message));
      assert.equal(readFileSync(file, 'utf8'), 'one\ntwo\n');
      assert.ok(log.some((l) => l.startsWith('[2/5] skip: skipped: probe succeeds')));
      const dry: string[] = [];
      await runPlan(plan, { dryRun: true, cwd: dir, log: (l) => dry.push(l) });
      assert.equal(readFileSync(file, 'utf8'), 'one\ntwo\n', 'a dry run executes nothing');
      assert.match(dry.join('\n'), /Dry run: 5 steps/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
