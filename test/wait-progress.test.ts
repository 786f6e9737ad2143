/**
 * Progress lines of the one waiting helper (fixtures/core/poll.ts): a wait that lasts says
 * what it waits for, until when and why, and what it saw last; a quick wait says nothing.
 * Cadences are made small through the per-wait `progress` option; nothing here measures time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StopWaiting, WaitTimeout, waitFor } from '../fixtures/core/poll.ts';
import { registerSecret } from '../fixtures/core/redact.ts';
import { targetDeadlineDerivation, targetDeadlineMs } from '../fixtures/prometheus/scrape-chain.ts';
import type { ServiceMonitor } from '../fixtures/prometheus/service-monitor.ts';

function sink(): { lines: string[]; write: (line: string) => void } {
  const lines: string[] = [];
  return { lines, write: (line) => void lines.push(line) };
}

void describe('waitFor progress lines', () => {
  void it('a wait that times out prints, while it waits, what it waits for, the deadline with its derivation and the last state seen', async () => {
    const out = sink();
    let seen = 0;
    await assert.rejects(
      waitFor('5 marker lines in Loki ({namespace="obs-acc-x"})', () => Promise.resolve(Math.min(++seen, 3)), (n) => (n === 5 ? undefined : `${n} of 5 marker lines seen`), {
        timeoutMs: 1_500,
        intervalsMs: [100],
        derivation: '1.5 s = marker lines 0.5 s + LOG_MAX_DELAY_SECONDS 1 s',
        progress: { afterMs: 50, everyMs: 200, write: out.write },
      }),
      (err: unknown) => err instanceof WaitTimeout && /\n {2}deadline: 1\.5 s = marker lines 0\.5 s \+ LOG_MAX_DELAY_SECONDS 1 s/.test(err.message),
    );
    const waiting = out.lines.filter((l) => l.startsWith('⏳ '));
    assert.ok(waiting.length >= 1, `at least one line while waiting, got:\n${out.lines.join('\n')}`);
    const first = waiting[0] as string;
    assert.match(first, /^⏳ waiting \d+\.\d s for 5 marker lines in Loki \(\{namespace="obs-acc-x"\}\)\n/);
    assert.match(first, /\n {3}deadline \d\d:\d\d:\d\d UTC \([\d.]+ s left; 1\.5 s = marker lines 0\.5 s \+ LOG_MAX_DELAY_SECONDS 1 s\)\n/);
    assert.match(first, /\n {3}(last seen [\d.]+ s ago: [123] of 5 marker lines seen|no attempt finished yet \(first attempt began \d\d:\d\d:\d\d UTC\))$/);
    const last = out.lines.at(-1) as string;
    assert.match(last, /^✗ gave up waiting for 5 marker lines in Loki .* after [\d.]+ s, at its deadline\n {3}deadline \d\d:\d\d:\d\d UTC \(1\.5 s = /);
    assert.match(last, /last seen [\d.]+ s ago: 3 of 5 marker lines seen$/);
  });

  void it('a wait that ends before the quiet spell is over prints nothing', async () => {
    const out = sink();
    let n = 0;
    const { value } = await waitFor('the answer', () => Promise.resolve(++n), (v) => (v >= 2 ? undefined : 'not yet'), {
      timeoutMs: 30_000,
      intervalsMs: [10],
      progress: { afterMs: 60_000, everyMs: 60_000, write: out.write },
    });
    assert.equal(value, 2);
    assert.deepEqual(out.lines, []);
  });

  void it('a wait that printed says when it is done, and a stopped wait says why it stopped', async () => {
    const done = sink();
    let n = 0;
    await waitFor('the third answer', () => Promise.resolve(++n), (v) => (v >= 3 ? undefined : `${v} answers so far`), {
      timeoutMs: 30_000,
      intervalsMs: [100],
      // 0: due at once, so every failed attempt prints; no timer decides the outcome.
      progress: { afterMs: 0, everyMs: 0, write: done.write },
    });
    assert.ok(done.lines.filter((l) => l.startsWith('⏳ waiting')).length >= 2, done.lines.join('\n'));
    assert.match(done.lines.at(-1) as string, /^✓ done waiting for the third answer after [\d.]+ s$/);

    const stopped = sink();
    let m = 0;
    await assert.rejects(
      waitFor(
        'pod obs-acc-x/marker to be Ready',
        () => (++m === 3 ? Promise.reject(new StopWaiting('marker container is ImagePullBackOff')) : Promise.resolve(m)),
        () => 'ContainerCreating',
        { timeoutMs: 30_000, intervalsMs: [100], progress: { afterMs: 0, everyMs: 0, write: stopped.write } },
      ),
      StopWaiting,
    );
    assert.match(stopped.lines.at(-1) as string, /^■ stopped waiting for pod obs-acc-x\/marker to be Ready after [\d.]+ s: marker container is ImagePullBackOff$/);
  });

  void it('progress lines pass through redaction', async () => {
    const secret = `pw-${crypto.randomUUID()}`;
    registerSecret(secret);
    const out = sink();
    await assert.rejects(
      waitFor(`Grafana to accept ${secret}`, () => Promise.resolve(`login refused for ${secret}`), (v) => v, {
        timeoutMs: 300,
        intervalsMs: [50],
        progress: { afterMs: 0, everyMs: 0, write: out.write },
      }),
      WaitTimeout,
    );
    assert.ok(out.lines.length >= 2, out.lines.join('\n'));
    assert.ok(out.lines.every((l) => !l.includes(secret) && l.includes('[REDACTED]')), out.lines.join('\n'));
  });

  void it('without a derivation the deadline says how long and from when', async () => {
    const out = sink();
    await assert.rejects(
      waitFor('nothing', () => Promise.resolve(0), () => 'never', { timeoutMs: 300, intervalsMs: [50], progress: { afterMs: 0, everyMs: 0, write: out.write } }),
      (err: unknown) => err instanceof WaitTimeout && !err.message.includes('deadline:'),
    );
    assert.match(out.lines[0] as string, /\n {3}deadline \d\d:\d\d:\d\d UTC \([\d.]+ s left; 0\.3 s from \d\d:\d\d:\d\d UTC\)\n/);
  });

  void it('a derived deadline spells out the same sum it waits for (OBS-01 target deadline)', () => {
    const sm = (interval?: string): ServiceMonitor => ({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'taskplanner', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'taskplanner' } }, endpoints: [{ port: 'http', ...(interval ? { interval } : {}) }] },
    });
    assert.equal(targetDeadlineMs(sm('1m')), 270_000);
    assert.equal(targetDeadlineDerivation(sm('1m')), "4 min 30 s = 2 min 30 s for the operator, the kubelet's Secret sync and Prometheus' reload + 2 × scrape interval 60 s (the ServiceMonitor's endpoints[0].interval)");
    assert.equal(targetDeadlineMs(sm()), 210_000);
    assert.match(targetDeadlineDerivation(sm()), /^3 min 30 s = 2 min 30 s .* \+ 2 × scrape interval 30 s \(the chart's global scrape_interval: the ServiceMonitor sets none\)$/);
  });
});
