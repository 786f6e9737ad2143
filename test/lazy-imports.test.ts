/**
 * Every Playwright process of a run imports the fixtures and the reporters: the runner, the
 * sign-off reporter's `--list` child and each worker. Libraries that take long to load and that
 * most of those processes never use are loaded on first use instead (`fixtures/kube/client-node.ts`,
 * the timeline picture's Vega). This checks which packages an import really loads, in a fresh
 * Node process whose module hooks record every file resolved; how long loading takes is not
 * asserted (that is a figure for the README, not a test).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runChildOk, suiteFreeEnv } from './support/child.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'obs-lazy-imports-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Packages that must not load until used: they cost a Playwright process about 1.5 and 0.15 CPU-seconds. */
const LAZY = ['@kubernetes/client-node', 'vega', 'vega-lite'];

/**
 * Runs `body` (an ES module's text, top-level await allowed) in a fresh Node process from the
 * repository root; returns the npm packages it loaded, by name, and what it printed.
 */
async function packagesLoadedBy(name: string, body: string): Promise<{ loaded: string[]; stdout: string }> {
  const file = join(work, `${name}.mjs`);
  writeFileSync(
    file,
    `import { registerHooks } from 'node:module';
const loaded = new Set();
registerHooks({ resolve(specifier, context, next) {
  const r = next(specifier, context);
  const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(r.url);
  if (m) loaded.add(m[1]);
  return r;
} });
process.chdir(${JSON.stringify(ROOT)});
${body}
console.log('loaded:' + JSON.stringify([...loaded].sort()));
`,
  );
  const env = suiteFreeEnv({ OBS_ENV_FILE: join(work, 'none.env'), KUBECONFIG: join(work, 'no-such-kubeconfig') });
  const r = await runChildOk(process.execPath, [file], { cwd: ROOT, env });
  const line = r.stdout.split('\n').find((l) => l.startsWith('loaded:'));
  assert.ok(line, r.stdout + r.stderr);
  return { loaded: JSON.parse(line.slice('loaded:'.length)) as string[], stdout: r.stdout };
}

const url = (path: string) => JSON.stringify(new URL(path, `file://${ROOT}/`).href);

void describe('slow libraries load only when used', () => {
  void it('importing the fixtures, the config and the reporters loads neither client-node nor Vega', async () => {
    const { loaded } = await packagesLoadedBy(
      'imports',
      ['fixtures/index.ts', 'playwright.config.ts', 'reporters/signoff-reporter.ts', 'reporters/inventory.ts', 'fixtures/kube/interrupt-reporter.ts', 'fixtures/loki/migration-report.ts']
        .map((p) => `await import(${url(p)});`)
        .join('\n'),
    );
    // The probe itself works: Playwright and the fixtures' other libraries are seen.
    assert.ok(loaded.includes('@playwright/test') && loaded.includes('zod'), loaded.join(', '));
    assert.deepEqual(LAZY.filter((p) => loaded.includes(p)), []);
  });

  void it('a kube config that does not exist is reported without loading client-node; a real one loads it', async () => {
    const kubeconfig = join(work, 'one.kubeconfig');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:1"}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\nusers:\n- name: u\n  user: {token: t}\n');
    const load = (kube: string) =>
      packagesLoadedBy(
        kube ? 'kubeconfig-present' : 'kubeconfig-missing',
        `const { kubeTarget } = await import(${url('fixtures/kube/connection.ts')});
try { console.log('target:' + JSON.stringify(kubeTarget({ kubeconfig: ${JSON.stringify(kube || join(work, 'no-such-kubeconfig'))} }))); }
catch (err) { console.log('error:' + err.message.split('\\n')[0]); }`,
      );
    const missing = await load('');
    assert.match(missing.stdout, /error:KUBECONFIG names \S+no-such-kubeconfig, which does not exist/);
    assert.ok(!missing.loaded.includes('@kubernetes/client-node'), missing.loaded.join(', '));
    const present = await load(kubeconfig);
    assert.match(present.stdout, /target:\{"context":"x","server":"https:\/\/127\.0\.0\.1:1"/);
    assert.ok(present.loaded.includes('@kubernetes/client-node'), present.loaded.join(', '));
  });
});
