/**
 * The browser session's end (fixtures/grafana/session.ts) against a replayed Grafana that
 * implements Grafana's session token life (Grafana cannot run here). The state machine and
 * bodies follow grafana/grafana:
 * - pkg/services/auth/authimpl/auth_token.go: a token row has a current and a previous hashed
 *   value; rotation keeps the row id, moves current to previous; the previous value is still
 *   found but flagged for urgent rotation;
 * - pkg/services/authn/clients/session.go + authn/error.go: a cookie that needs rotation is not
 *   authenticated, 401 `{"message":"Unauthorized","messageId":"session.token.rotate","statusCode":401}`;
 * - pkg/api/user_token.go: `POST /api/user/auth-tokens/rotate` (works on a cookie needing
 *   rotation, 200 `{}` + Set-Cookie), `GET /api/user/auth-tokens` (`isActive` for the caller's own
 *   token), `POST /api/user/revoke-auth-token` (200 "User auth token revoked", 404 "User auth
 *   token not found");
 * - pkg/api/login.go Logout + the authn service: revokes only an authenticated session and answers
 *   `302 /login` with cleared cookies either way;
 * - `POST /login` answers `{"message":"Logged in","redirectUrl":"/"}` (authn HandleLoginResponse).
 * The bodies of an unknown cookie (401 `auth.unauthorized`) and of `GET /api/user/auth-tokens`
 * are derived from the code (errutil defaults, dtos.UserToken), not captured from a server.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { GrafanaClient } from '../fixtures/grafana/client.ts';
import { endSession, openSession } from '../fixtures/grafana/session.ts';
import { startReplayServer, type RecordedRequest, type ReplayServer, type Reply } from './support/replay-server.ts';

const USER = 'admin';
const PASSWORD = `pw-${randomUUID()}`;

interface Row {
  id: number;
  current: string;
  prev?: string;
  /** Set when the rotation interval has passed (or the previous value was used). */
  needsRotation: boolean;
}

/** Grafana's token store and the endpoints around it; switches imitate settings and faults. */
class TokenGrafana {
  rows = new Map<number, Row>();
  basicEnabled = true;
  /** A Grafana (or proxy) whose revocation endpoints do nothing. */
  revocationBroken = false;
  /** The session cookie is not accepted back (e.g. cookie_secure over http). */
  refuseCookies = false;
  private nextId = 7;

  private cookieOf(req: RecordedRequest): string | undefined {
    return /(?:^|;\s*)grafana_session=([^;]+)/.exec(String(req.headers.cookie ?? ''))?.[1];
  }
  private find(value: string | undefined): { row: Row; isPrev: boolean } | undefined {
    for (const row of this.rows.values()) {
      if (row.current === value) return { row, isPrev: false };
      if (row.prev === value) return { row, isPrev: true };
    }
    return undefined;
  }
  private basic(req: RecordedRequest): boolean {
    return this.basicEnabled && req.headers.authorization === `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  }
  private newValue(): string {
    return randomUUID().replace(/-/g, '');
  }
  private setCookies(value: string): Record<string, string[]> {
    return { 'set-cookie': [`grafana_session=${value}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax`, `grafana_session_expiry=${Math.floor(Date.now() / 1000) + 600}; Path=/; Max-Age=2592000; SameSite=Lax`] };
  }

  /** Who the request is: `user`, a session row, or why not. */
  private who(req: RecordedRequest): { kind: 'basic' } | { kind: 'session'; row: Row } | { kind: 'refused'; messageId: string } {
    if (req.headers.authorization) return this.basic(req) ? { kind: 'basic' } : { kind: 'refused', messageId: 'auth.unauthorized' };
    const found = this.find(this.cookieOf(req));
    if (!found || this.refuseCookies) return { kind: 'refused', messageId: 'auth.unauthorized' };
    if (found.isPrev || found.row.needsRotation) {
      found.row.needsRotation = true;
      return { kind: 'refused', messageId: 'session.token.rotate' };
    }
    return { kind: 'session', row: found.row };
  }

  /** Ten minutes pass: every session needs rotating. */
  age(): void {
    for (const row of this.rows.values()) row.needsRotation = true;
  }

  /** The browser's own rotation (what Grafana's frontend does on 401 session.token.rotate). */
  rotate(value: string): string {
    const found = this.find(value);
    if (!found) throw new Error('unknown cookie');
    found.row.prev = found.row.current;
    found.row.current = this.newValue();
    found.row.needsRotation = false;
    return found.row.current;
  }

  routes(): Record<string, (req: RecordedRequest) => Reply> {
    const unauthorized = (messageId: string): Reply => ({ status: 401, body: { message: 'Unauthorized', messageId, statusCode: 401 } });
    return {
      'POST /login': (req) => {
        const creds = JSON.parse(req.body) as { user?: string; password?: string };
        if (creds.user !== USER || creds.password !== PASSWORD) return { status: 401, body: { message: 'Invalid username or password', messageId: 'password-auth.failed', statusCode: 401 } };
        const row = { id: this.nextId++, current: this.newValue(), needsRotation: false };
        this.rows.set(row.id, row);
        return { body: { message: 'Logged in', redirectUrl: '/' }, headers: this.setCookies(row.current) };
      },
      'GET /api/user': (req) => {
        const who = this.who(req);
        if (who.kind === 'refused') return unauthorized(who.messageId);
        return { body: { id: 1, uid: 'u-admin', login: USER, email: 'admin@localhost', orgId: 1, isGrafanaAdmin: true } };
      },
      'GET /api/user/auth-tokens': (req) => {
        const who = this.who(req);
        if (who.kind === 'refused') return unauthorized(who.messageId);
        const own = who.kind === 'session' ? who.row.id : undefined;
        return { body: [...this.rows.values()].map((r) => ({ id: r.id, isActive: r.id === own, clientIp: '127.0.0.1', device: 'Other', browser: 'HeadlessChrome', authModule: '', createdAt: '2026-11-30T07:40:00Z', seenAt: '2026-11-30T07:41:00Z' })) };
      },
      'POST /api/user/revoke-auth-token': (req) => {
        const who = this.who(req);
        if (who.kind === 'refused') return unauthorized(who.messageId);
        const { authTokenId } = JSON.parse(req.body) as { authTokenId: number };
        if (who.kind === 'session' && who.row.id === authTokenId) return { status: 400, body: { message: 'Cannot revoke active user auth token' } };
        if (this.revocationBroken) return { status: 500, body: { message: 'Failed to revoke user auth token' } };
        if (!this.rows.delete(authTokenId)) return { status: 404, body: { message: 'User auth token not found' } };
        return { body: { message: 'User auth token revoked' } };
      },
      'POST /api/user/auth-tokens/rotate': (req) => {
        const value = this.cookieOf(req);
        if (!this.find(value)) return unauthorized('auth.unauthorized');
        return { body: {}, headers: this.setCookies(this.rotate(value as string)) };
      },
      'GET /logout': (req) => {
        const who = this.who(req);
        if (who.kind === 'session' && !this.revocationBroken) this.rows.delete(who.row.id);
        return { status: 302, headers: { location: '/login', 'set-cookie': ['grafana_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax', 'grafana_session_expiry=; Path=/; Max-Age=0; SameSite=Lax'] } };
      },
    };
  }
}

void describe('Grafana browser session: revoking what the browser last held (replayed Grafana token store)', () => {
  let state: TokenGrafana;
  let grafana: ReplayServer;
  let client: GrafanaClient;
  before(async () => {
    grafana = await startReplayServer();
    client = new GrafanaClient(grafana.url, { kind: 'basic', user: USER, password: PASSWORD }, { timeoutMs: 5_000 });
  });
  beforeEach(() => {
    state = new TokenGrafana();
    for (const [key, route] of Object.entries(state.routes())) grafana.route(key, route);
  });
  after(() => grafana?.close());

  void it('after login the session is checked and its token id recorded', async () => {
    const session = await openSession(client);
    assert.equal(session.login, USER);
    assert.equal(session.cookieName, 'grafana_session');
    assert.equal(session.tokenId, 7);
  });

  void it('the browser rotated and its cookie went stale again: /logout with the login cookie revoked nothing; revoking by id ends it, verified', async () => {
    const session = await openSession(client);
    const loginValue = session.cookies[0]?.value as string;
    state.age();
    const browserValue = state.rotate(loginValue);
    state.age();

    // What the suite did before: /logout with the login cookie (now the previous token). Same 302, nothing revoked.
    await client.logout(session.cookies);
    assert.equal(state.rows.size, 1, 'the stale-cookie logout left the token in place');

    session.lastValues = [browserValue];
    const report = await endSession(client, session);
    assert.equal(report.revoked, true, report.problems.join('; '));
    assert.equal(state.rows.size, 0);
    assert.match(report.steps[0] ?? '', /^POST \/api\/user\/revoke-auth-token \{"authTokenId":7\} → HTTP 200 "User auth token revoked"$/);
    assert.ok(report.steps.includes('token 7 is gone from GET /api/user/auth-tokens'), report.steps.join('\n'));
    assert.equal(report.steps.filter((s) => s.startsWith('GET /api/user with ') && s.endsWith('auth.unauthorized: refused')).length, 2, 'both cookies verified refused');
  });

  void it('with Basic auth off the browser’s last cookie is rotated and logged out, verified', async () => {
    const session = await openSession(client);
    state.age();
    session.lastValues = [state.rotate(session.cookies[0]?.value as string)];
    state.age();
    state.basicEnabled = false;
    const report = await endSession(client, session);
    assert.equal(report.revoked, true, report.problems.join('; '));
    assert.equal(state.rows.size, 0);
    assert.match(report.steps.join('\n'), /revoking token 7 by id failed: .*Basic auth is off on this Grafana \(\[auth\.basic\] enabled = false/);
    assert.match(report.steps.join('\n'), /POST \/api\/user\/auth-tokens\/rotate with the browser's last cookie → HTTP 200 \(new cookie\)\nGET \/logout with the rotated cookie → HTTP 302/);
  });

  void it('a revocation that did not happen is reported with why, not swallowed', async () => {
    const session = await openSession(client);
    session.lastValues = [session.cookies[0]?.value as string];
    state.revocationBroken = true;
    const report = await endSession(client, session);
    assert.equal(report.revoked, false);
    assert.equal(state.rows.size, 1);
    assert.ok(report.problems.some((p) => /^GET \/api\/user with the login cookie answers 401 session\.token\.rotate: the token still exists|still answers 200 as "admin"/.test(p)), report.problems.join('\n'));
    assert.ok(report.problems.includes('token 7 is still in GET /api/user/auth-tokens'), report.problems.join('\n'));
  });

  void it('a session cookie Grafana does not take back fails at once, naming the settings to look at', async () => {
    state.refuseCookies = true;
    await assert.rejects(openSession(client), /accepted the login of "admin" but refuses the session cookie it set \(GET \/api\/user → HTTP 401 auth\.unauthorized "Unauthorized"\)\. Look at \[security\] cookie_secure/);
  });
});
