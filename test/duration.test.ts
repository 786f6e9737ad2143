/**
 * The one duration parser (fixtures/core/duration.ts) against what each source prints:
 * Prometheus rules and targets, Loki's /config (prometheus/common model.Duration), Go
 * `time.ParseDuration` values, and what a person types for `sweep --older-than`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DurationError, formatSeconds, parseDuration, parseSeconds } from '../fixtures/core/duration.ts';

void describe('parseDuration', () => {
  void it('reads Prometheus durations (rules, targets API, scrape intervals) in seconds', () => {
    assert.equal(parseSeconds('30s'), 30);
    assert.equal(parseSeconds('5m'), 300);
    assert.equal(parseSeconds('1h30m'), 5400);
    assert.deepEqual(['15s', '1m', '1m30s', '500ms'].map((d) => parseSeconds(d)), [15, 60, 90, 0.5]);
  });

  void it('reads Go durations (fractions, micro- and nanoseconds)', () => {
    assert.equal(parseSeconds('1.5m'), 90);
    assert.equal(parseDuration('250us'), 0.25);
    assert.equal(parseDuration('250µs'), 0.25);
    assert.equal(parseDuration('1000000ns'), 1);
  });

  void it('reads Loki durations the way prometheus/common prints them', () => {
    assert.equal(parseDuration('1w'), 604_800_000);
    assert.equal(parseDuration('168h'), 604_800_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('1w1d'), 8 * 86_400_000);
    assert.equal(parseDuration('1y'), 365 * 86_400_000);
    assert.equal(parseDuration('0s'), 0);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('1w '), 604_800_000, 'surrounding whitespace is not part of the value');
  });

  void it('reads what a person types for --older-than', () => {
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1m30s'), 90_000);
  });

  void it('refuses anything else with an error naming the value and its source', () => {
    for (const bad of ['15', 'fifteen', '5 minutes', 'one week', '', '-5m', '5m-', 'abc', '1x', 'm5']) {
      assert.throws(() => parseDuration(bad, 'the test value'), (err: unknown) => err instanceof DurationError && err.value === bad && err.message.startsWith('the test value: ') && err.message.includes(JSON.stringify(bad)), bad);
    }
    assert.throws(() => parseSeconds('15'), /"15" is not a duration/);
  });

  void it('formats durations the way the deadlines print them', () => {
    assert.deepEqual([2.34, 12, 90, 119.4, 120, 1050, 900].map(formatSeconds), ['2.3 s', '12 s', '90 s', '119 s', '2 min', '17 min 30 s', '15 min']);
  });
});
