import { expect, test } from '../fixtures/index.ts';

// One alert's life across four tests: serial, so a broken link stops the ones after it, and the
// clock started when the crash loop was seen keeps running from test to test.
test.describe.serial('OBS-06 Critical alerts fire: KubePodCrashLooping for a crash-looping pod', { tag: ['@OBS-06'] }, () => {
  test('the rule is loaded and healthy, and the alert pipeline is alive', async ({ crashLoopAlert }) => {
    await test.step("KubePodCrashLooping is loaded and evaluates without error; its `for` and its group's evaluation interval are read from Prometheus", async () => {
      const { loaded, deadlines } = await crashLoopAlert.rule();
      expect(loaded.rule.health, `KubePodCrashLooping health (last error: ${loaded.rule.lastError ?? 'none'})`).toBe('ok');
      expect(loaded.rule.query, 'the rule reads the CrashLoopBackOff waiting reason from kube-state-metrics').toContain('reason="CrashLoopBackOff"');
      expect(loaded.timing.forSeconds, `the rule's for (deadlines: firing ≤ ${deadlines.firing.because})`).toBeGreaterThan(0);
    });

    await test.step("the alert pipeline is alive and clean: Watchdog, the always-firing alert, is in Alertmanager, and no critical alert fires besides it and the run's own", async () => {
      const watchdog = await crashLoopAlert.watchdog();
      expect(watchdog.map((a) => a.labels.alertname), 'Watchdog alerts in Alertmanager').toContain('Watchdog');
      const others = await crashLoopAlert.otherFiringAlerts();
      expect(others.critical, others.message).toEqual([]);
    });
  });

  test('a crash-looping pod makes KubePodCrashLooping go pending for exactly that pod', async ({ crashLoopAlert }) => {
    await test.step('the pod reaches CrashLoopBackOff (Kubernetes API)', async () => {
      const pod = await crashLoopAlert.crashLoopBackOff();
      expect(pod.status?.containerStatuses?.map((c) => c.state?.waiting?.reason), 'container waiting reasons').toContain('CrashLoopBackOff');
    });

    await test.step('KubePodCrashLooping is pending (or already firing) in Prometheus for that namespace and pod, within the deadline derived from scrape and evaluation intervals', async () => {
      const alert = await crashLoopAlert.pending();
      expect(alert.labels, 'the alert names the crash-looping pod').toMatchObject({ namespace: crashLoopAlert.ref.namespace, pod: crashLoopAlert.ref.pod, reason: 'CrashLoopBackOff' });
    });
  });

  test('KubePodCrashLooping fires and reaches Alertmanager with its labels', async ({ crashLoopAlert }) => {
    test.skip(crashLoopAlert.stopsAtPending, 'ALERT_WAIT_UNTIL=pending: this run stops once the alert is pending');
    test.setTimeout(await crashLoopAlert.timeoutUntil('delivered'));

    await test.step("KubePodCrashLooping fires in Prometheus for that pod, within the deadline derived from the rule's for", async () => {
      const alert = await crashLoopAlert.firing();
      expect(alert.state).toBe('firing');
      expect(alert.labels).toMatchObject({ namespace: crashLoopAlert.ref.namespace, pod: crashLoopAlert.ref.pod, severity: 'warning' });
    });

    await test.step('the firing alert is in Alertmanager with its labels', async () => {
      const alert = await crashLoopAlert.delivered();
      expect(alert.labels, 'labels of the alert in Alertmanager').toMatchObject({
        alertname: 'KubePodCrashLooping',
        namespace: crashLoopAlert.ref.namespace,
        pod: crashLoopAlert.ref.pod,
        severity: 'warning',
      });
    });
  });

  test('KubePodCrashLooping resolves after the pod is removed', async ({ crashLoopAlert }) => {
    test.skip(!crashLoopAlert.checksResolution, 'resolution is checked only in full runs (ALERT_WAIT_UNTIL=firing, ALERT_CHECK_RESOLVE=true)');
    test.setTimeout(await crashLoopAlert.timeoutUntil('resolved'));

    await test.step('the crash-looping pod is removed (Kubernetes API)', () => crashLoopAlert.removePod());

    await test.step("the alert resolves in Prometheus and in Alertmanager within the rule's range plus scrape and evaluation intervals", async () => {
      await crashLoopAlert.resolved();
      expect(await crashLoopAlert.activeAlerts(), 'KubePodCrashLooping alerts still active for the pod').toEqual({ prometheus: [], alertmanager: [] });
    });
  });
});
