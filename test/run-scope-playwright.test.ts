/**
 * The suite's own playwright.config.ts, run for real the way a new user would run it: what
 * preflight checks and what the sign-off says follow the tests Playwright selected, however
 * they were selected. No cluster: every endpoint is a URL on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { SignoffSummary } from '../reporters/signoff-model.ts';
import { freePort } from './support/local-stack.ts';
import { startReplayServer } from './support/replay-server.ts';

const work = mkdtempSync(join(tmpdir(), 'obs-run-scope-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Variables of the suite (and of an earlier run) that must not leak into these runs from the shell. */
const SUITE_VARIABLES = /^(OBS_|KUBE|PROMETHEUS_|ALERTMANAGER_|LOKI_|GRAFANA_|TASKPLANNER_|CA_FILE|CERT_MIN_DAYS|ALERT_|MARKER_LINES|LOG_MAX|HTTP_TIMEOUT|PREFLIGHT_)/;

export interface SuiteRun {
  code: number | null;
  out: string;
  summary: SignoffSummary;
  md: string;
  reportDir: string;
}

/** `npx playwright test <args>` of the suite itself, in a clean environment plus `env`. */
export function runSuite(name: string, args: string[], env: Record<string, string>): Promise<SuiteRun> {
  const reportDir = join(work, name, 'report');
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SUITE_VARIABLES.test(k)));
  const full = {
    ...clean,
    OBS_ENV_FILE: join(work, 'none.env'),
    OBS_REPORT_DIR: reportDir,
    KUBECONFIG: join(work, 'no-kubeconfig'),
    PREFLIGHT_TIMEOUT_MS: '3000',
    CI: '',
    FORCE_COLOR: '0',
    ...env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['playwright', 'test', '--output', join(work, name, 'results'), ...args], { env: full });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        const summary = JSON.parse(readFileSync(join(reportDir, 'signoff.json'), 'utf8')) as SignoffSummary;
        resolve({ code, out, summary, md: readFileSync(join(reportDir, 'signoff.md'), 'utf8'), reportDir });
      } catch (err) {
        reject(new Error(`no sign-off written (${String(err)}); the run printed:\n${out.slice(-4000)}`));
      }
    });
  });
}

void describe('the suite selects from what Playwright resolved (real runs of playwright.config.ts)', () => {
  void it('a spec file argument preflights OBS-07 alone (no cluster asked for) and signs off a partial run', async () => {
    const port = await freePort();
    const r = await runSuite('file-arg', ['e2e/obs-07-grafana-tls.spec.ts'], { GRAFANA_URL: `https://127.0.0.1:${port}` });
    assert.notEqual(r.code, 0, r.out);
    // Preflight's one problem is OBS-07's Grafana; before, argv held no --grep and all eight were checked.
    assert.match(r.out, new RegExp(`Preflight failed for OBS-07:\\n\\s*- grafana \\(https://127\\.0\\.0\\.1:${port}, needed by OBS-07\\) is not ready[^\\n]*\\n[^\\n]*Fix:[^\\n]*\\n\\n`));
    assert.deepEqual(r.summary.run.selected, ['OBS-07']);
    assert.equal(r.summary.run.scope, 'partial');
    assert.match(r.summary.blockers.join('\n'), /partial run: only OBS-07 selected/);

    // The cause is on the requirement it blocked, verbatim: not just "none of its tests ran".
    const obs07 = r.summary.requirements.find((x) => x.id === 'OBS-07');
    assert.equal(obs07?.verdict, 'not run');
    assert.equal(obs07?.blockedBy?.[0]?.project, 'preflight');
    assert.match(obs07?.blockedBy?.[0]?.causes[0] ?? '', new RegExp(`^grafana \\(https://127\\.0\\.0\\.1:${port}, needed by OBS-07\\) is not ready: [^\\n]+\\n  Fix: `));
    assert.match(r.md, /\| \*\*OBS-07\*\* [^\n]*\| ⚪ not run \(blocked by preflight\) \|/);
    assert.match(r.md, new RegExp(`\`\`\`text\\ngrafana \\(https://127\\.0\\.0\\.1:${port}, needed by OBS-07\\) is not ready`));
  });

  void it('OBS-07 against a healthy Grafana over plain HTTP: preflight refuses it with the fix, no HTTPS test passes', async () => {
    // Replayed Grafana: /api/health as in grafana/grafana docs/sources/developers/http_api/other.md.
    const grafana = await startReplayServer({ 'GET /api/health': { body: { commit: 'selftest', database: 'ok', version: '12.3.0' } } });
    try {
      const r = await runSuite('plain-http', ['--grep', '@OBS-07\\b', '--project', 'api'], { GRAFANA_URL: grafana.url });
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, /OBS-07 checks grafana over HTTPS, but GRAFANA_URL is http:\/\/127\.0\.0\.1:\d+ \(plain HTTP\)[^\n]*\n\s*Fix: set GRAFANA_URL to the https:\/\//);
      const obs07 = r.summary.requirements.find((x) => x.id === 'OBS-07');
      assert.equal(obs07?.counts.passed, 0, `before, "/api/health answers over HTTPS" passed over plain HTTP:\n${r.out.slice(-3000)}`);
      assert.match(obs07?.blockedBy?.[0]?.causes.join('\n') ?? '', /GRAFANA_URL is http:/);
    } finally {
      await grafana.close();
    }
  });
});
