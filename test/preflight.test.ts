/**
 * The suite's fail-fast promises, checked by running `playwright test` itself.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from './support/local-stack.ts';

const work = mkdtempSync(join(tmpdir(), 'obs-preflight-'));

function playwright(env: Record<string, string>, args: string[] = []): { code: number | null; out: string; ms: number } {
  const started = Date.now();
  const r = spawnSync('npx', ['playwright', 'test', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, OBS_ENV_FILE: join(work, 'none.env'), OBS_REPORT_DIR: join(work, `report-${started}`), ...env },
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}`, ms: Date.now() - started };
}

describe('preflight (real playwright runs)', () => {
  it('stops within 20 s naming the API server when the cluster is not reachable', async () => {
    const port = await freePort();
    const kubeconfig = join(work, 'closed.kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: closed\n  cluster: {server: "https://127.0.0.1:${port}"}\ncontexts:\n- name: closed\n  context: {cluster: closed, user: nobody}\ncurrent-context: closed\nusers:\n- name: nobody\n  user: {}\n`,
    );
    const r = playwright({ KUBECONFIG: kubeconfig }, ['--output', join(work, 'out1')]);
    assert.notEqual(r.code, 0, r.out);
    assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
    assert.match(r.out, new RegExp(`Kubernetes API server https://127\\.0\\.0\\.1:${port}`));
    assert.match(r.out, /npm run cluster:up|point KUBECONFIG/);
  });

  it('stops within 10 s naming the bad variable', () => {
    const r = playwright({ PROMETHEUS_URL: 'not-a-url' });
    assert.equal(r.code, 2, r.out);
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
    assert.match(r.out, /PROMETHEUS_URL: expected an http\(s\) URL/);
  });

  it('needs no cluster for a URL-only requirement and names the component that does not answer', async () => {
    const port = await freePort();
    const r = playwright({ LOKI_URL: `http://127.0.0.1:${port}`, KUBECONFIG: join(work, 'missing.kubeconfig') }, ['--grep', '@OBS-03\\b', '--output', join(work, 'out3')]);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`loki \\(http://127\\.0\\.0\\.1:${port}, needed by OBS-03\\) is not ready: GET http://127\\.0\\.0\\.1:${port}/ready → ECONNREFUSED`));
    assert.doesNotMatch(r.out, /Kubernetes API server/);
  });
});
