import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../fixtures/core/config.ts';
import { cliGrepFromArgv, needsOf, selectedRequirements } from '../fixtures/core/requirements.ts';

describe('requirement selection', () => {
  it('selects exactly one requirement with a word-bounded tag', () => {
    assert.deepEqual(selectedRequirements(/@OBS-05\b/, undefined), ['OBS-05']);
    assert.deepEqual(selectedRequirements(/@OBS-0[13]\b/, undefined), ['OBS-01', 'OBS-03']);
    assert.equal(selectedRequirements(undefined, undefined).length, 8);
    assert.deepEqual(selectedRequirements(undefined, /@OBS-0[2-8]/), ['OBS-01']);
  });

  it('reads --grep and --grep-invert in both spellings', () => {
    assert.deepEqual(cliGrepFromArgv(['node', 'pw', 'test', '--grep', '@OBS-05\\b', '--grep-invert=@ui']), { grep: '@OBS-05\\b', grepInvert: '@ui' });
    assert.deepEqual(cliGrepFromArgv(['test', '-g', 'x']), { grep: 'x' });
  });

  it('needs no Kubernetes for URL-only requirements', () => {
    const c = loadConfig({ LOKI_URL: 'http://127.0.0.1:3100', GRAFANA_URL: 'https://grafana.example', PROMETHEUS_URL: 'http://p', TASKPLANNER_URL: 'http://t' });
    assert.equal(needsOf(['OBS-03'], c).kubernetes, false);
    assert.equal(needsOf(['OBS-07'], c).kubernetes, false);
    assert.equal(needsOf(['OBS-08'], c).kubernetes, false);
    // OBS-02 drives the UI: without credentials in the environment they come from the Secret.
    assert.equal(needsOf(['OBS-02'], c).kubernetes, true);
    assert.equal(needsOf(['OBS-02'], { ...c, grafana: { ...c.grafana, user: 'admin', password: 'x' } }).kubernetes, false);
    assert.equal(needsOf(['OBS-06'], c).kubernetes, true);
  });
});
