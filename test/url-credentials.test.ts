/**
 * Credentials in an endpoint URL (`https://admin:<password>@host`) are refused with a message
 * that says where they belong, and the password is a secret from the moment the config is
 * read: it appears in no message, and a real `playwright test` run with such a URL leaves it
 * nowhere — console, junit.xml, HTML report, error-context.md.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../fixtures/core/config.ts';
import { redact } from '../fixtures/core/redact.ts';
import { runPlaywright, suiteFreeEnv } from './support/child.ts';
import { texts } from './support/leak-check.ts';
import { freePort } from './support/local-stack.ts';

const sentinel = () => `Sentinel-${randomUUID().replace(/-/g, '')}`;

void describe('credentials in endpoint URLs', () => {
  void it('are refused for every endpoint, naming the variable and where the credentials go, never the password', () => {
    const password = sentinel();
    assert.throws(
      () => loadConfig({ GRAFANA_URL: `https://admin:${password}@grafana.example`, LOKI_URL: `http://loki:${password}@127.0.0.1:3100`, PROMETHEUS_URL: 'http://reader@127.0.0.1:9090' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 3, err.message);
        assert.match(err.message, /GRAFANA_URL: holds credentials \(https:\/\/admin:\[REDACTED\]@grafana\.example\)[^\n]*set GRAFANA_USER and GRAFANA_PASSWORD \(or GRAFANA_TOKEN\)/);
        assert.match(err.message, /LOKI_URL: holds credentials \(http:\/\/loki:\[REDACTED\]@127\.0\.0\.1:3100\)/);
        assert.match(err.message, /PROMETHEUS_URL: holds credentials \(http:\/\/reader@127\.0\.0\.1:9090\)/);
        assert.equal(err.message.includes(password), false);
        return true;
      },
    );
  });

  void it('the password is redacted everywhere once the config was read, also where the URL is otherwise invalid', () => {
    const password = sentinel();
    assert.throws(() => loadConfig({ GRAFANA_URL: `https://admin:${password}@` }), (err: Error) => !err.message.includes(password));
    assert.equal(redact(`GET https://grafana.example/?p=${password}`).includes(password), false);
  });

  void it('a real run with GRAFANA_URL=https://admin:<password>@host stops at start and leaves the password nowhere', async () => {
    const password = sentinel();
    const work = await mkdtemp(join(tmpdir(), 'obs-url-credentials-'));
    try {
      const port = await freePort();
      const env = suiteFreeEnv({
        GRAFANA_URL: `https://admin:${password}@127.0.0.1:${port}`,
        OBS_ENV_FILE: join(work, 'none.env'),
        OBS_REPORT_DIR: join(work, 'playwright-report'),
        CI: '',
      });
      const run = await runPlaywright(['--grep', '@OBS-07\\b', '--output', join(work, 'test-results')], { env });
      const result = { code: run.code, out: `${run.stdout}\n${run.stderr}` };
      assert.equal(result.code, 2, `expected the configuration error exit code; the run printed:\n${result.out.slice(-3000)}`);
      assert.match(result.out, /GRAFANA_URL: holds credentials \(https:\/\/admin:\[REDACTED\]@127\.0\.0\.1:\d+\)/);
      const forms = [password, encodeURIComponent(password), Buffer.from(password).toString('base64').replace(/=+$/, '')];
      const everywhere = [{ where: 'console', text: result.out }, ...(await texts(work).catch(() => []))];
      const leaks = everywhere.filter((t) => forms.some((f) => t.text.includes(f))).map((t) => t.where);
      assert.deepEqual(leaks, [], 'the password in GRAFANA_URL leaked');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
