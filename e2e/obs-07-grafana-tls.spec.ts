/**
 * OBS-07 Grafana is reachable over TLS: the certificate chain is valid for the host name
 * against the system's trust store (plus CA_FILE), it does not expire within CERT_MIN_DAYS,
 * `/api/health` answers over HTTPS, plain HTTP redirects to HTTPS where it answers at all,
 * and the login page renders. With GRAFANA_URL set this needs no cluster and no credentials.
 */
import { expect, test } from '../fixtures/index.ts';

test.describe('OBS-07 Grafana is reachable over TLS', () => {
  test('the certificate is trusted, valid for the host name and not about to expire', { tag: ['@OBS-07'] }, async ({ grafanaFrontDoor, config, evidence }) => {
    await test.step('Grafana is configured by an https:// URL', () => {
      expect(grafanaFrontDoor.url, 'set GRAFANA_URL to the HTTPS address people use, e.g. https://grafana.kube2.tricnet.de').toMatch(/^https:\/\//);
    });

    const tls = await test.step('a TLS handshake verifies the chain against the system trust store and the host name', async () => {
      const report = await grafanaFrontDoor.tls();
      await evidence.attach('TLS handshake', report);
      evidence.figure('certificate days left', report.daysLeft ?? 'n/a', 'days');
      expect(['ok', 'expiring-soon'], `TLS handshake with ${report.host}:${report.port}: ${report.message}`).toContain(report.verdict);
      return report;
    });

    await test.step(`the certificate does not expire within ${config.certMinDays} days (CERT_MIN_DAYS)`, () => {
      expect(tls.verdict, tls.message).toBe('ok');
    });
  });

  test('/api/health answers over HTTPS and plain HTTP redirects to HTTPS where it answers', { tag: ['@OBS-07'] }, async ({ grafanaFrontDoor, evidence }) => {
    await test.step('/api/health answers over HTTPS with a healthy database', async () => {
      const health = await grafanaFrontDoor.health();
      await evidence.attach('grafana /api/health over HTTPS', health);
      expect(health.database, `${grafanaFrontDoor.url}/api/health should report database "ok"`).toBe('ok');
    });

    await test.step('plain HTTP redirects to HTTPS on the same host, or does not answer at all', async () => {
      const plain = await grafanaFrontDoor.plainHttp();
      await evidence.attach('plain HTTP', plain);
      evidence.figure('plain HTTP', plain.verdict);
      expect(plain.ok, plain.message).toBe(true);
    });
  });

  test('the login page renders in a browser', { tag: ['@OBS-07', '@ui'] }, async ({ grafanaLoginPage: login, evidence }) => {
    await test.step('a logged-out browser opens the login page over HTTPS', () => login.goto());

    await test.step('it shows the way to log in: the user name and password fields and the login button (the login service buttons where Grafana disables the form)', async () => {
      const ways = await login.ways();
      await evidence.attach('what the login page offers', ways.describe);
      expect(ways.controls.length, `the login page offers no way to log in: ${ways.describe}`).toBeGreaterThan(0);
      for (const control of ways.controls) await expect(control.locator, `${control.name} on /login (${ways.describe})`).toBeVisible();
      await expect(login.page, 'the browser stays on HTTPS').toHaveURL(/^https:\/\//);
      await evidence.screenshot('Grafana login page', await login.page.screenshot());
    });
  });
});
