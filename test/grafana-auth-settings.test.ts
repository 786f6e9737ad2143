/**
 * Production auth settings detected from Grafana's answers (fixtures/grafana/auth-settings.ts,
 * client.ts, session.ts, login-page.ts), each naming the setting in the way and what to set in
 * `.env`. Grafana cannot run here: a replayed Grafana answers as Grafana 13.1 does under each
 * setting, from grafana/grafana:
 * - `[auth.basic] enabled = false`: the Basic client is not registered
 *   (pkg/services/authn/authnimpl/registration.go), so no client accepts the call: 401
 *   `{"message":"Unauthorized","messageId":"auth.unauthorized","statusCode":401}` (authnimpl
 *   errCantAuthenticateReq; body derived from errutil's defaults, not captured);
 * - a wrong password: 401 `{"message":"Invalid username or password","messageId":"password-auth.failed",…}`
 *   (clients/password.go; as public captures show it);
 * - `[auth.anonymous] enabled = true`: the rejected call is served as the anonymous identity;
 *   `/api/user` is for signed-in users only (reqSignedInNoAnonymous, pkg/api/api.go) and answers
 *   401 `{"message":"Unauthorized"}`, while `/api/frontend/settings` answers with
 *   `anonymousEnabled: true` (field of @grafana/runtime 13.1.0 config.ts);
 * - `[auth] disable_login_form = true`: the form client is not registered, `POST /login` answers
 *   400 `{"message":"Bad request","messageId":"auth.client.notConfigured","statusCode":400}`
 *   (authn.ErrClientNotConfigured; derived, not captured), and the login page renders no form,
 *   only LoginServiceButtons links `login/<provider>` (public/app/core/components/Login/
 *   LoginPage.tsx, LoginServiceButtons.tsx); the page's boot data carries `disableLoginForm`;
 * - a page served to an anonymous visitor carries `grafanaBootData.user.isSignedIn: false` and
 *   `settings.anonymousEnabled: true` (CurrentUserDTO / frontend settings in the boot data).
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, beforeEach, describe, it } from 'node:test';
import { resolveSelectors, versionedPages } from '@grafana/e2e-selectors';
import { chromium, type Browser } from '@playwright/test';
import { GrafanaClient } from '../fixtures/grafana/client.ts';
import { GrafanaLoginPage } from '../fixtures/grafana/login-page.ts';
import { requireSignedIn } from '../fixtures/grafana/session.ts';
import { startReplayServer, type RecordedRequest, type ReplayServer, type Reply } from './support/replay-server.ts';

const USER = 'admin';
const PASSWORD = `pw-${randomUUID()}`;
const TOKEN = `glsa_${randomUUID().replace(/-/g, '')}`;
const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));

const settings = { basicEnabled: true, anonymousEnabled: false, disableLoginForm: false, oauth: {} as Record<string, unknown> };

function caller(req: RecordedRequest): 'user' | 'token' | 'wrong-password' | 'bad-token' | 'none' {
  const auth = String(req.headers.authorization ?? '');
  if (auth === `Bearer ${TOKEN}`) return 'token';
  if (auth.startsWith('Bearer ')) return 'bad-token';
  if (auth.startsWith('Basic ') && settings.basicEnabled) return auth === `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` ? 'user' : 'wrong-password';
  return 'none';
}

/** Grafana's answer to an API call nobody accepted, under the current settings; undefined when accepted. */
function refusal(req: RecordedRequest, signedInOnly: boolean): Reply | undefined {
  const who = caller(req);
  if (who === 'user' || who === 'token') return undefined;
  if (who === 'wrong-password' && !settings.anonymousEnabled) return { status: 401, body: { message: 'Invalid username or password', messageId: 'password-auth.failed', statusCode: 401, traceID: '' } };
  if (who === 'bad-token' && !settings.anonymousEnabled) return { status: 401, body: { message: 'Invalid API key', messageId: 'api-key.invalid', statusCode: 401 } };
  if (settings.anonymousEnabled) return signedInOnly ? { status: 401, body: { message: 'Unauthorized' } } : undefined;
  return { status: 401, body: { message: 'Unauthorized', messageId: 'auth.unauthorized', statusCode: 401 } };
}

function bootPage(user: { isSignedIn: boolean; login: string; orgRole: string }, body: string): Reply {
  const boot = { user: { ...user, language: 'en-US' }, settings: { anonymousEnabled: settings.anonymousEnabled, disableLoginForm: settings.disableLoginForm, oauth: settings.oauth, samlEnabled: false, buildInfo: { version: '13.1.0' } } };
  return { headers: { 'content-type': 'text/html' }, body: `<!doctype html><html><head><script>window.grafanaBootData = ${JSON.stringify(boot)};</script></head><body>${body}</body></html>` };
}

const login = resolveSelectors(versionedPages, '13.1.0').Login;
const LOGIN_FORM = `<form><input data-testid="${login.username}" name="user"><input data-testid="${login.password}" name="password" type="password"><button data-testid="${login.submit}" type="submit">Log in</button></form>`;

void describe('Grafana auth settings named from its answers (replayed Grafana 13.1)', () => {
  let grafana: ReplayServer;
  const basic = () => new GrafanaClient(grafana.url, { kind: 'basic', user: USER, password: PASSWORD }, { timeoutMs: 5_000 });
  before(async () => {
    grafana = await startReplayServer({
      'GET /api/user': (req) => refusal(req, true) ?? { body: { id: 1, uid: 'u1', login: caller(req) === 'token' ? 'sa-1-obs-acceptance' : USER, orgId: 1 } },
      'GET /api/frontend/settings': (req) =>
        refusal(req, false) ?? { body: { anonymousEnabled: settings.anonymousEnabled, disableLoginForm: settings.disableLoginForm, oauth: settings.oauth, samlEnabled: false, namespace: 'default', buildInfo: { version: '13.1.0' } } },
      'GET /api/datasources': (req) => refusal(req, false) ?? { body: [] },
      'POST /login': (req) => {
        if (settings.disableLoginForm) return { status: 400, body: { message: 'Bad request', messageId: 'auth.client.notConfigured', statusCode: 400 } };
        const creds = JSON.parse(req.body) as { password?: string };
        if (creds.password !== PASSWORD) return { status: 401, body: { message: 'Invalid username or password', messageId: 'password-auth.failed', statusCode: 401 } };
        return { body: { message: 'Logged in', redirectUrl: '/' }, headers: { 'set-cookie': `grafana_session=${randomUUID().replace(/-/g, '')}; Path=/; HttpOnly; SameSite=Lax` } };
      },
      'GET /login': () => bootPage({ isSignedIn: false, login: '', orgRole: '' }, settings.disableLoginForm ? '<a href="login/generic_oauth" class="css-btn">Sign in with Keycloak</a>' : LOGIN_FORM),
      'GET /explore': () => bootPage({ isSignedIn: false, login: '', orgRole: 'Viewer' }, '<div class="page-body">Explore needs Editor rights</div>'),
    });
  });
  beforeEach(() => Object.assign(settings, { basicEnabled: true, anonymousEnabled: false, disableLoginForm: false, oauth: {} }));
  after(() => grafana?.close());

  void it('good credentials pass the identity check', async () => {
    assert.deepEqual(await basic().verifyCredentials(), { login: USER });
    assert.deepEqual(await new GrafanaClient(grafana.url, { kind: 'token', token: TOKEN }).verifyCredentials(), { login: 'sa-1-obs-acceptance' });
  });

  void it('[auth.basic] enabled = false: named, with GRAFANA_TOKEN as the fix, on the identity check and on any API call', async () => {
    settings.basicEnabled = false;
    await assert.rejects(basic().verifyCredentials(), /Basic auth is off on this Grafana \(\[auth\.basic\] enabled = false; HTTP 401 auth\.unauthorized "Unauthorized"\)\. Fix: set GRAFANA_TOKEN in \.env to a service-account token/);
    await assert.rejects(basic().datasources(), (err: Error) => {
      assert.equal(err.name, 'GrafanaAuthError');
      assert.match(err.message, /^GET http:\/\/127\.0\.0\.1:\d+\/api\/datasources: Grafana did not try the user and password of "admin": Basic auth is off/);
      return true;
    });
  });

  void it('a wrong password is told apart from Basic auth being off', async () => {
    const wrong = new GrafanaClient(grafana.url, { kind: 'basic', user: USER, password: `wrong-${randomUUID()}` }, { timeoutMs: 5_000 });
    await assert.rejects(wrong.verifyCredentials(), /Grafana refused the password of user "admin" \(HTTP 401 password-auth\.failed "Invalid username or password"\)\. Fix: check GRAFANA_USER\/GRAFANA_PASSWORD/);
    await assert.rejects(new GrafanaClient(grafana.url, { kind: 'token', token: `glsa_${randomUUID().replace(/-/g, '')}` }).verifyCredentials(), /Grafana refused GRAFANA_TOKEN \(HTTP 401 api-key\.invalid "Invalid API key"\)/);
  });

  void it('anonymous access hiding refused credentials is named, instead of later failing for lack of rights', async () => {
    settings.basicEnabled = false;
    settings.anonymousEnabled = true;
    await assert.rejects(basic().verifyCredentials(), (err: Error) => {
      assert.match(err.message, /^Grafana treated the suite as an anonymous visitor: anonymous access is on \(\[auth\.anonymous\] enabled = true/);
      assert.match(err.message, /a wrong password, or Basic auth off: \[auth\.basic\] enabled = false/);
      assert.match(err.message, /GET \/api\/user → HTTP 401 "Unauthorized"/);
      assert.match(err.message, /Fix: set GRAFANA_TOKEN in \.env/);
      return true;
    });
  });

  void it('[auth] disable_login_form = true: the API login says so and what to set', async () => {
    settings.disableLoginForm = true;
    await assert.rejects(basic().login(), /Grafana's login form is disabled \(\[auth\] disable_login_form = true; POST \/login → HTTP 400 auth\.client\.notConfigured "Bad request"\), so the suite cannot open a browser session for "admin"\. Fix: set GRAFANA_TOKEN/);
  });

  void describe('in Chromium', { skip: executablePath ? false : 'no Chromium here (set CHROMIUM_PATH)' }, () => {
    let browser: Browser;
    before(async () => {
      browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    });
    after(() => browser?.close());

    void it('the login page check finds the form, or with the form disabled the login service buttons, and says which', async () => {
      const page = await browser.newPage();
      const loginPage = new GrafanaLoginPage(page, '13.1.0');
      await page.goto(`${grafana.url}/login`);
      const form = await loginPage.ways();
      assert.equal(form.describe, 'the login form (user name, password, login button)');
      for (const c of form.controls) assert.equal(await c.locator.isVisible(), true, c.name);

      Object.assign(settings, { disableLoginForm: true, oauth: { generic_oauth: { name: 'Keycloak', icon: 'signin' } } });
      await page.goto(`${grafana.url}/login`);
      const services = await loginPage.ways();
      assert.equal(services.describe, 'no login form ([auth] disable_login_form = true): login service buttons for generic_oauth');
      assert.deepEqual(services.controls.map((c) => c.name), ['"generic_oauth" login button']);
      assert.equal(await services.controls[0]?.locator.isVisible(), true);
      assert.equal(await loginPage.username.count(), 0, 'the old check looked for a user name field that is not there');

      settings.oauth = {};
      await page.goto(`${grafana.url}/login`);
      assert.match((await loginPage.ways()).describe, /no login service \(OAuth, SAML\) configured: the login page offers no way to log in/);
      await page.close();
    });

    void it('a page shown to an anonymous visitor fails with the setting, not as "Explore container missing"', async () => {
      const page = await browser.newPage();
      settings.anonymousEnabled = true;
      await page.goto(`${grafana.url}/explore`);
      await assert.rejects(requireSignedIn(page, 'Explore'), /^GrafanaAuthError: In the browser Grafana shows Explore to an anonymous visitor \(role Viewer; \[auth\.anonymous\] enabled = true\), so it did not take the suite's session\. Look at \[security\] cookie_secure/);
      settings.anonymousEnabled = false;
      await page.goto(`${grafana.url}/login`);
      await assert.rejects(requireSignedIn(page, 'Explore'), /In the browser Grafana sent the browser to \/login instead of Explore: it did not take the suite's session/);
      await page.close();
    });
  });
});
