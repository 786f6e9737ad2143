import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../fixtures/core/config.ts';
import { needsOf, requirementsOfTests, selectionOfThisRun, SELECTION_ENV } from '../fixtures/core/requirements.ts';

describe('requirement selection', () => {
  it('the requirements of a set of tests are their @OBS-0N tags, in requirement order', () => {
    assert.deepEqual(requirementsOfTests([{ tags: ['@OBS-07'] }, { tags: ['@OBS-07', '@ui'] }, { tags: ['@OBS-03'] }, { tags: [] }]), ['OBS-03', 'OBS-07']);
    assert.deepEqual(requirementsOfTests([{ tags: ['@OBS-9', '@obs-01'] }]), []);
  });

  it('reads the selection the sign-off reporter handed to the workers; without it every requirement counts', () => {
    assert.deepEqual(selectionOfThisRun({ [SELECTION_ENV]: 'OBS-07' }), { requirements: ['OBS-07'], known: true });
    assert.deepEqual(selectionOfThisRun({ [SELECTION_ENV]: '' }), { requirements: [], known: true });
    assert.deepEqual(selectionOfThisRun({}).known, false);
    assert.equal(selectionOfThisRun({}).requirements.length, 8);
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
