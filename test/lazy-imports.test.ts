/**
 * Every Playwright process of a run imports the fixtures and the reporters: the runner, the
 * sign-off reporter's `--list` child and each worker. Libraries that take long to load and that
 * most of those processes never use are loaded on first use instead (`fixtures/kube/client-node.ts`,
 * the timeline picture's Vega). This checks which packages are loaded after each step, in one
 * fresh Node process whose module hooks record every file resolved; how long loading takes is
 * not asserted (that is a figure for the README, not a test).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runChildOk, suiteFreeEnv } from './support/child.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'obs-lazy-imports-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Packages that must not load until used: inside Playwright they cost a process about 1.5 and 0.15 CPU-seconds. */
const LAZY = ['@kubernetes/client-node', 'vega', 'vega-lite'];
const IMPORTED = ['fixtures/index.ts', 'playwright.config.ts', 'reporters/signoff-reporter.ts', 'reporters/inventory.ts', 'fixtures/kube/interrupt-reporter.ts', 'fixtures/loki/migration-report.ts'];
const url = (path: string) => JSON.stringify(new URL(path, `file://${ROOT}/`).href);

interface Step {
  /** npm packages loaded so far, by name. */
  loaded: string[];
  /** What the step printed (kubeTarget's answer or error). */
  said?: string;
}

void describe('slow libraries load only when used', () => {
  const steps = new Map<string, Step>();
  const step = (name: string): Step => steps.get(name) ?? assert.fail(`no step ${name}: ${JSON.stringify([...steps.keys()])}`);

  before(async () => {
    const kubeconfig = join(work, 'one.kubeconfig');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:1"}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\nusers:\n- name: u\n  user: {token: t}\n');
    const probe = join(work, 'probe.mjs');
    writeFileSync(
      probe,
      `import { registerHooks } from 'node:module';
const loaded = new Set();
registerHooks({ resolve(specifier, context, next) {
  const r = next(specifier, context);
  const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(r.url);
  if (m) loaded.add(m[1]);
  return r;
} });
const report = (name, said) => console.log('step:' + JSON.stringify({ name, loaded: [...loaded].sort(), said }));
${IMPORTED.map((p) => `await import(${url(p)});`).join('\n')}
report('imports');
const { kubeTarget } = await import(${url('fixtures/kube/connection.ts')});
const target = (kubeconfig) => { try { return JSON.stringify(kubeTarget({ kubeconfig })); } catch (err) { return err.message.split('\\n')[0]; } };
report('kube config missing', target(${JSON.stringify(join(work, 'no-such-kubeconfig'))}));
report('kube config present', target(${JSON.stringify(kubeconfig)}));
`,
    );
    const r = await runChildOk(process.execPath, [probe], { cwd: ROOT, env: suiteFreeEnv({ OBS_ENV_FILE: join(work, 'none.env') }) });
    for (const line of r.stdout.split('\n').filter((l) => l.startsWith('step:'))) {
      const { name, ...s } = JSON.parse(line.slice('step:'.length)) as Step & { name: string };
      steps.set(name, s);
    }
  });

  void it('importing the fixtures, the config and the reporters loads neither client-node nor Vega', () => {
    const { loaded } = step('imports');
    // The probe itself works: Playwright and the fixtures' other libraries are seen.
    assert.ok(loaded.includes('@playwright/test') && loaded.includes('zod'), loaded.join(', '));
    assert.deepEqual(LAZY.filter((p) => loaded.includes(p)), []);
  });

  void it('a kube config that does not exist is reported without loading client-node; a real one loads it', () => {
    const missing = step('kube config missing');
    assert.match(missing.said ?? '', /^KUBECONFIG names \S+no-such-kubeconfig, which does not exist/);
    assert.ok(!missing.loaded.includes('@kubernetes/client-node'), missing.loaded.join(', '));
    const present = step('kube config present');
    assert.match(present.said ?? '', /^\{"context":"x","server":"https:\/\/127\.0\.0\.1:1"/);
    assert.ok(present.loaded.includes('@kubernetes/client-node'), present.loaded.join(', '));
  });
});
