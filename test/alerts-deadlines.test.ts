/**
 * The deadline arithmetic of OBS-06 and the small parsers it stands on. Pure functions, no
 * services: the numbers here are the ones a reviewer redoes by hand.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlertTimeline, alertDeadlines, isForPod } from '../fixtures/alertmanager/alert-lifecycle.ts';
import { jobOf, rangeSecondsOf } from '../fixtures/prometheus/promql.ts';

void describe('OBS-06 deadline arithmetic', () => {
  void it('gives the hand-checkable deadlines for the production rule: for 15m, evaluation and scrape 30s, range 5m, slack 30s', () => {
    const d = alertDeadlines({ forSeconds: 900, evaluationSeconds: 30, scrapeSeconds: 30, rangeSeconds: 300 }, 30);
    // pending   = scrape 30 + evaluation 30 + slack 30                 =   90 s
    // firing    = pending 90 + for 900 + evaluation 30 + slack 30      = 1050 s (17 min 30 s)
    // delivered = firing 1050 + evaluation 30 + slack 30               = 1110 s (18 min 30 s)
    // resolved  = range 300 + scrape 30 + evaluation 30 + slack 30     =  390 s (6 min 30 s), after removal
    assert.equal(d.pending.seconds, 90);
    assert.equal(d.firing.seconds, 1050);
    assert.equal(d.delivered.seconds, 1110);
    assert.equal(d.resolved.seconds, 390);
    assert.equal(d.pending.because, '90 s = scrape 30 s + evaluation 30 s + slack 30 s');
    assert.equal(d.firing.because, '17 min 30 s = pending 90 s + for 15 min + evaluation 30 s + slack 30 s');
    assert.equal(d.delivered.because, '18 min 30 s = firing 17 min 30 s + evaluation 30 s + slack 30 s');
    assert.equal(d.resolved.because, '6 min 30 s = range 5 min + scrape 30 s + evaluation 30 s + slack 30 s');
  });

  void it('follows a shortened for (the nightly customRules value) and a different scrape interval', () => {
    const d = alertDeadlines({ forSeconds: 120, evaluationSeconds: 30, scrapeSeconds: 15, rangeSeconds: 300 }, 30);
    assert.deepEqual([d.pending.seconds, d.firing.seconds, d.delivered.seconds, d.resolved.seconds], [75, 255, 315, 375]);
  });

  void it('defaults the slack to 30 s', () => {
    assert.equal(alertDeadlines({ forSeconds: 0, evaluationSeconds: 60, scrapeSeconds: 60, rangeSeconds: 0 }).pending.seconds, 150);
  });
});

void describe('OBS-06 parsing what Prometheus reports', () => {
  void it('reads the range and the job from the rule query as Prometheus returns it', () => {
    const upstream = 'max_over_time(kube_pod_container_status_waiting_reason{job="kube-state-metrics",namespace=~".*",reason="CrashLoopBackOff"}[5m]) >= 1';
    assert.equal(rangeSecondsOf(upstream), 300);
    assert.equal(jobOf(upstream), 'kube-state-metrics');
    assert.equal(rangeSecondsOf('increase(x[10m]) > 0 and y[5m:30s]'), 600);
    assert.equal(rangeSecondsOf('vector(1)'), 0);
    assert.equal(jobOf('vector(1)'), undefined);
    assert.equal(jobOf('a{job="x"} and b{job="y"}'), undefined, 'two jobs name no single scrape interval');
  });

  void it('matches an alert to a pod only when namespace and pod both match', () => {
    const ref = { namespace: 'obs-acc-abc', pod: 'crashloop' };
    assert.equal(isForPod({ namespace: 'obs-acc-abc', pod: 'crashloop', container: 'crash' }, ref), true);
    assert.equal(isForPod({ namespace: 'obs-acc-xyz', pod: 'crashloop' }, ref), false);
    assert.equal(isForPod({ namespace: 'obs-acc-abc', pod: 'crashloop-2' }, ref), false);
    assert.equal(isForPod({ pod: 'crashloop' }, ref), false);
  });
});

void describe('OBS-06 timeline', () => {
  void it('counts each step from its anchor and marks it ok or LATE against its deadline', () => {
    const t = new AlertTimeline();
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
    t.anchor('crash loop seen', t0);
    t.record('pending', 'crash loop seen', 90, 'activeAt x', t0 + 42_000);
    t.record('firing', 'crash loop seen', 1050, undefined, t0 + 1_100_000);
    t.anchor('pod removed', t0 + 1_200_000);
    t.record('resolved', 'pod removed', 390, undefined, t0 + 1_500_000);
    assert.deepEqual(
      t.entries.map((e) => [e.step, e.actualSeconds, e.withinDeadline]),
      [
        ['pending', 42, true],
        ['firing', 1100, false],
        ['resolved', 300, true],
      ],
    );
    const table = t.table().split('\n');
    assert.match(table[0] ?? '', /^time \(UTC\)\s+step\s+counted from\s+expected\s+actual/);
    assert.match(table[1] ?? '', /^12:00:42\s+pending\s+crash loop seen\s+≤ 90 s\s+42 s\s+ok\s+activeAt x$/);
    assert.match(table[2] ?? '', /firing\s+crash loop seen\s+≤ 17 min 30 s\s+18 min 20 s\s+LATE/);
    assert.throws(() => t.record('x', 'never set', 1), /no anchor "never set"/);
  });
});
