/**
 * A Grafana service-account token (GRAFANA_TOKEN) never reaches a report, trace or log. Same
 * hostile replayed Grafana and scan as test/secret-leak.test.ts, but with a sentinel token: the
 * browser tests send it as an Authorization header, which Playwright traces record verbatim, so
 * playwright.config.ts turns the ui project's trace off when a token is configured.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { startReplayServer, type RecordedRequest, type ReplayServer } from './support/replay-server.ts';

const SENTINEL = `glsa_Sentinel${randomUUID().replace(/-/g, '')}`;
const FORMS = {
  raw: SENTINEL,
  urlEncoded: encodeURIComponent(SENTINEL),
  base64: Buffer.from(SENTINEL).toString('base64'),
};

/** Entries of a zip file (stored or deflated), read from its central directory. */
function unzip(buf: Buffer): Array<{ name: string; data: Buffer }> {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return [];
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out: Array<{ name: string; data: Buffer }> = [];
  for (let n = 0; n < count && buf.readUInt32LE(p) === 0x02014b50; n++) {
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + size);
    out.push({ name, data: method === 8 ? inflateRawSync(raw) : raw });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** Every text a directory holds: files, zip entries (recursively), zips embedded as base64 data URLs. */
async function texts(dir: string): Promise<Array<{ where: string; text: string }>> {
  const found: Array<{ where: string; text: string }> = [];
  const visit = (where: string, data: Buffer, depth: number) => {
    const text = data.toString('latin1');
    found.push({ where, text: data.toString('utf8') });
    if (depth > 3) return;
    if (data.length >= 4 && data.readUInt32LE(0) === 0x04034b50) for (const e of unzip(data)) visit(`${where}!${e.name}`, e.data, depth + 1);
    for (const m of text.matchAll(/data:application\/zip;base64,([A-Za-z0-9+/=]+)/g)) visit(`${where}#embedded-zip`, Buffer.from(m[1] ?? '', 'base64'), depth + 1);
  };
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const data = await readFile(path);
    if (data.length >= 4) visit(path, data, 0);
  }
  return found;
}

function echo(req: RecordedRequest): string {
  const auth = String(req.headers.authorization ?? '');
  const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : '';
  return `proxy trace: authorization: ${auth} (decoded ${decoded}), password=${decoded.split(':')[1] ?? ''}`;
}

void describe('a Playwright run with a sentinel Grafana token against a hostile replayed Grafana', () => {
  let grafana: ReplayServer;
  let work: string;
  let result: { code: number; stdout: string; stderr: string };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'obs-token-leak-'));
    const health = (req: RecordedRequest) => ({ status: 500, body: { status: 'ERROR', message: echo(req) } });
    grafana = await startReplayServer({
      'GET /api/health': { body: { database: 'ok', version: '12.3.0', commit: 'selftest' } },
      'POST /login': (req) =>
        req.body.includes(SENTINEL)
          ? { body: { message: 'Logged in', redirectUrl: '/' }, headers: { 'set-cookie': `grafana_session=${randomUUID().replace(/-/g, '')}; Path=/; HttpOnly; SameSite=Lax` } }
          : { status: 401, body: { message: 'Invalid username or password' } },
      'GET /logout': { status: 302, headers: { location: '/login' } },
      'GET /api/datasources': {
        body: [
          { id: 1, uid: 'prometheus', name: 'Prometheus', type: 'prometheus', url: 'http://prometheus:9090', access: 'proxy', isDefault: true },
          { id: 2, uid: 'alertmanager', name: 'Alertmanager', type: 'alertmanager', url: 'http://alertmanager:9093', access: 'proxy', isDefault: false },
          { id: 3, uid: 'loki', name: 'Loki', type: 'loki', url: 'http://loki:3100', access: 'proxy', isDefault: false },
        ],
      },
      'GET /api/datasources/uid/prometheus/health': health,
      'GET /api/datasources/uid/alertmanager/health': health,
      'GET /api/datasources/uid/loki/health': health,
      // The chart dashboards OBS-02 opens (uids from fixtures/grafana-dashboards.ts KEY_DASHBOARDS).
      'GET /api/dashboards/uid/efa86fd1d0c121a26444b636a3f509a8': (req) => ({ status: 500, headers: { 'content-type': 'text/plain' }, body: echo(req) }),
      'GET /api/dashboards/uid/7d57716318ee0dddbac5a7f451fb7753': (req) => ({ status: 500, headers: { 'content-type': 'text/plain' }, body: echo(req) }),
    });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GRAFANA_URL: grafana.url,
      GRAFANA_TOKEN: SENTINEL,
      OBS_REPORT_DIR: join(work, 'playwright-report'),
      OBS_ENV_FILE: join(work, 'no.env'),
      CI: '',
    };
    for (const k of ['GRAFANA_USER', 'GRAFANA_PASSWORD', 'OBS_GREP', 'OBS_GREP_INVERT', 'OBS_RUN_ID']) delete env[k];
    result = await new Promise((resolve) => {
      execFile(
        'npx',
        ['playwright', 'test', '--grep', '@OBS-02\\b', '--output', join(work, 'test-results'), '--timeout', '30000'],
        { env, timeout: 80_000, maxBuffer: 20 * 1024 * 1024 },
        (err, stdout, stderr) => resolve({ code: typeof err?.code === 'number' ? err.code : err ? 1 : 0, stdout, stderr }),
      );
    });
  });
  after(async () => {
    await grafana?.close();
    if (work && !process.env.KEEP_LEAK_DIR) await rm(work, { recursive: true, force: true });
  });

  void it('the run really used the sentinel: API calls and the browser carried it as a Bearer header', () => {
    const bearer = grafana.requests.filter((r) => r.headers.authorization === `Bearer ${SENTINEL}`);
    assert.ok(bearer.some((r) => r.path.startsWith('/api/')), `no API call carried the sentinel token; the run printed:\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-2000)}`);
    assert.ok(bearer.some((r) => !r.path.startsWith('/api/')), 'no browser request carried the token, so the trace path was not exercised');
  });

  void it('left a report and test results to look at, with the hostile echo in them only redacted', async () => {
    const all = [...(await texts(join(work, 'playwright-report'))), ...(await texts(join(work, 'test-results')))];
    assert.ok(all.some((t) => t.where.endsWith('index.html')), 'no HTML report was written');
    assert.ok(all.some((t) => t.text.includes('proxy trace: authorization')), 'the echoed header never reached the report, so redaction was not exercised');
  });

  void it('holds the sentinel nowhere: not raw, URL-encoded or base64, not in stdout/stderr', async () => {
    const all = [...(await texts(join(work, 'playwright-report'))), ...(await texts(join(work, 'test-results'))), { where: 'stdout', text: result.stdout }, { where: 'stderr', text: result.stderr }];
    const leaks = all.flatMap((t) => Object.entries(FORMS).filter(([, v]) => t.text.includes(v)).map(([form]) => `${form} in ${t.where}`));
    assert.deepEqual(
      leaks,
      [],
      'the sentinel Grafana token leaked into the report (a trace of a browser test holds its Authorization header unless trace is off): some text from a remote answer (or a credential) reached expect() or an attachment without redact() (fixtures/redact.ts); the first file named shows which message',
    );
  });
});
