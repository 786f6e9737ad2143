/**
 * Mistakes in the setup are named with the file or server and the fix, never in a library's
 * words: an empty kube config ("expected a document, but the input is empty"), one without a
 * current context ("No active cluster!"), `npm run sweep` against a closed port ("Failed to
 * fetch resource metadata … fetch failed"); and a misspelt variable (LOKI_URI) is warned about
 * at start instead of being ignored in silence.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { editDistance, loadConfig, unknownVariableWarnings } from '../fixtures/core/config.ts';
import { loadKubeConfig } from '../fixtures/kube/connection.ts';
import { runChild, runPlaywright } from './support/child.ts';
import { freePort } from './support/local-stack.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'obs-setup-errors-'));
after(() => rmSync(work, { recursive: true, force: true }));

function kubeconfig(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}
const cluster = (server: string, currentContext = 'current-context: here\n') =>
  `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "${server}"}\ncontexts:\n- name: here\n  context: {cluster: c, user: u}\n- name: there\n  context: {cluster: gone, user: u}\n${currentContext}users:\n- name: u\n  user: {}\n`;

void describe('kube config mistakes are named with the file and the fix', () => {
  void it('an empty file', () => {
    const path = kubeconfig('empty', '\n');
    assert.throws(() => loadKubeConfig({ kubeconfig: path, context: undefined }), (err: Error) => {
      assert.match(err.message, new RegExp(`^The kube config ${path} \\(from KUBECONFIG\\) is empty\\.\\n  Fix: start the local cluster with "npm run cluster:up"`));
      assert.doesNotMatch(err.message, /expected a document/);
      return true;
    });
  });

  void it('no kube config at all: names cluster:up (k3d, needs Docker) and, for a machine without Docker, sim:up with its KUBECONFIG and KUBE_CONTEXT', (t) => {
    const saved = { HOME: process.env.HOME, KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST };
    process.env.HOME = join(work, 'home-without-kube');
    delete process.env.KUBERNETES_SERVICE_HOST;
    t.after(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    assert.throws(() => loadKubeConfig({ kubeconfig: undefined, context: undefined }), (err: Error) => {
      assert.match(err.message, /^No kube config: KUBECONFIG is not set, \S*home-without-kube\/\.kube\/config does not exist and this is not a pod in a cluster\./);
      assert.match(err.message, /Fix: start the local cluster with "npm run cluster:up" \(k3d, needs Docker\), or on a machine without Docker the simulated one with "npm run sim:up"/);
      assert.match(err.message, /KUBECONFIG=\.cache\/sim\/kubeconfig and KUBE_CONTEXT=obs-sim/);
      return true;
    });
  });

  void it('a file that is not YAML names the file and keeps the parser\'s position', () => {
    const path = kubeconfig('broken', 'clusters: [oops\n');
    assert.throws(() => loadKubeConfig({ kubeconfig: path, context: undefined }), new RegExp(`The kube config ${path} \\(from KUBECONFIG\\) cannot be read as a kube config: .*\\(\\d+:\\d+\\)\\.\\n  Fix:`));
  });

  void it('no current context: names the contexts there are and KUBE_CONTEXT', () => {
    const path = kubeconfig('no-current', cluster('https://127.0.0.1:6443', ''));
    assert.throws(() => loadKubeConfig({ kubeconfig: path, context: undefined }), (err: Error) => {
      assert.match(err.message, /has no current context \(contexts: here, there\), and KUBE_CONTEXT is not set\.\n {2}Fix: set KUBE_CONTEXT to the context to test, e\.g\. KUBE_CONTEXT=here/);
      assert.doesNotMatch(err.message, /No active cluster/);
      return true;
    });
    assert.equal(loadKubeConfig({ kubeconfig: path, context: 'here' }).getCurrentCluster()?.server, 'https://127.0.0.1:6443');
  });

  void it('a context whose cluster is missing, and a KUBE_CONTEXT that is not there', () => {
    const path = kubeconfig('dangling', cluster('https://127.0.0.1:6443'));
    assert.throws(() => loadKubeConfig({ kubeconfig: path, context: 'there' }), /The context "there" of the kube config .* names a cluster that is not in it \(clusters: c\)/);
    assert.throws(() => loadKubeConfig({ kubeconfig: path, context: 'nowhere' }), /KUBE_CONTEXT is "nowhere", but the kube config .* has only: here, there\.\n {2}Fix: set KUBE_CONTEXT to one of them/);
  });

  void it('npm run sweep against a closed port names the API server and the fix, not "Failed to fetch resource metadata"', async () => {
    const port = await freePort();
    const path = kubeconfig('closed', cluster(`https://127.0.0.1:${port}`));
    const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: path, OBS_ENV_FILE: join(work, 'none.env'), PREFLIGHT_TIMEOUT_MS: '3000' };
    delete env.KUBE_CONTEXT;
    const r = await runChild(process.execPath, [join(root, 'scripts/sweep.ts'), '--dry-run'], { cwd: root, env });
    const out = `${r.stdout}${r.stderr}`;
    assert.equal(r.code, 1, out);
    assert.match(out, new RegExp(`sweep: Kubernetes API server https://127\\.0\\.0\\.1:${port} \\(context here, from KUBECONFIG=${path}\\) is not reachable: .*ECONNREFUSED`));
    assert.match(out, /Fix: start the local cluster with "npm run cluster:up"/);
    assert.doesNotMatch(out, /Failed to fetch resource metadata/);
  });
});

void describe('variables that look like the suite\'s own but are not', () => {
  void it('LOKI_URI, GRAFNA_URL and a same-prefix name are warned about with the likely intended variable; unrelated ones are not', () => {
    const warnings = unknownVariableWarnings({ LOKI_URI: 'http://loki:3100', GRAFNA_URL: 'https://grafana.example', PROMETHEUS_ULR: 'x', KUBE_CONTXT: 'prod', GRAFANA_COLOR: 'red', HOME: '/root', KUBE_EDITOR: 'vi', HTTP_PROXY: 'http://proxy', LOKI_URL: '', OBS_ENV_FILE: '.env' });
    assert.deepEqual(warnings.map((w) => w.split(' ')[0]), ['GRAFANA_COLOR', 'GRAFNA_URL', 'KUBE_CONTXT', 'LOKI_URI', 'PROMETHEUS_ULR']);
    assert.match(warnings.find((w) => w.startsWith('LOKI_URI')) ?? '', /^LOKI_URI is set but is not a variable of this suite, so it is ignored\. Did you mean LOKI_URL\?/);
    assert.match(warnings.find((w) => w.startsWith('GRAFNA_URL')) ?? '', /Did you mean GRAFANA_URL\?/);
    assert.match(warnings.find((w) => w.startsWith('KUBE_CONTXT')) ?? '', /Did you mean KUBE_CONTEXT\?/);
    assert.equal(editDistance('GRAFNA_URL', 'GRAFANA_URL'), 1);
    assert.deepEqual(loadConfig({ LOKI_URI: 'http://loki:3100' }).warnings.length, 1);
  });

  void it('a real run warns at start, in the runner only, before anything else is decided', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, LOKI_URI: 'http://127.0.0.1:3100', OBS_ENV_FILE: join(work, 'none.env') };
    const r = await runPlaywright(['--list', '--grep', '@OBS-03\\b'], { env });
    const out = `${r.stdout}${r.stderr}`;
    assert.equal(r.code, 0, out);
    const lines = out.split('\n').filter((l) => l.includes('LOKI_URI'));
    assert.deepEqual(lines, ['obs-acceptance: warning: LOKI_URI is set but is not a variable of this suite, so it is ignored. Did you mean LOKI_URL? (.env.example lists every variable.)']);
  });
});
