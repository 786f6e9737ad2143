import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../fixtures/core/config.ts';
import { redact, registerSecret } from '../fixtures/core/redact.ts';

describe('configuration loader', () => {
  it('applies documented defaults to an empty environment', () => {
    const c = loadConfig({});
    assert.deepEqual(c.endpoints.prometheus, { kind: 'cluster', namespace: 'monitoring', service: 'prometheus-operated', port: 9090 });
    assert.equal(c.certMinDays, 14);
    assert.equal(c.alert.waitUntil, 'firing');
    assert.equal(c.alert.checkResolve, true);
    assert.equal(c.markerLines, 5);
  });

  it('uses a URL when given, without its trailing slash', () => {
    const c = loadConfig({ PROMETHEUS_URL: 'http://127.0.0.1:9090/', LOKI_SERVICE: 'logging/loki-stack:3100' });
    assert.deepEqual(c.endpoints.prometheus, { kind: 'url', url: 'http://127.0.0.1:9090' });
    assert.deepEqual(c.endpoints.loki, { kind: 'cluster', namespace: 'logging', service: 'loki-stack', port: 3100 });
  });

  it('names every bad variable with what was expected', () => {
    assert.throws(
      () => loadConfig({ PROMETHEUS_URL: 'not-a-url', CERT_MIN_DAYS: 'ten', ALERT_WAIT_UNTIL: 'soon', LOKI_SERVICE: 'loki:3100' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 4);
        assert.match(err.message, /PROMETHEUS_URL: expected an http\(s\) URL.*"not-a-url"/);
        assert.match(err.message, /CERT_MIN_DAYS: expected a whole number/);
        assert.match(err.message, /ALERT_WAIT_UNTIL: expected pending or firing/);
        assert.match(err.message, /LOKI_SERVICE: expected namespace\/service:port/);
        return true;
      },
    );
  });

  it('never echoes a secret value in its errors', () => {
    const sentinel = `s-${randomUUID()}`;
    assert.throws(() => loadConfig({ GRAFANA_PASSWORD: sentinel }), (err: Error) => {
      assert.match(err.message, /GRAFANA_USER: required when GRAFANA_PASSWORD is set/);
      assert.equal(err.message.includes(sentinel), false);
      return true;
    });
  });

  it('treats empty variables as unset, as .env.example leaves them', () => {
    assert.equal(loadConfig({ PROMETHEUS_URL: '', OBS_RUN_ID: '' }).endpoints.prometheus.kind, 'cluster');
  });
});

describe('redaction', () => {
  it('removes registered secrets and credential-shaped text', () => {
    registerSecret('s3cr3t-value');
    const out = redact('password s3cr3t-value; Authorization: Bearer abc.def; {"token":"xyz"} http://u:pw@host/');
    assert.doesNotMatch(out, /s3cr3t-value|abc\.def|xyz|:pw@/);
  });
});
