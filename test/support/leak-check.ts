/**
 * The machinery of the secret-leak checks: a hostile replayed Grafana that echoes whatever
 * credential it receives back in its answers (as a misbehaving proxy or datasource error might;
 * response shapes from grafana/grafana docs/sources/developers/http_api/ — health,
 * data_source.md, dashboard.md, the login form's `POST /login`), a real `npx playwright test
 * --grep "@OBS-02\\b"` run against it, and a scan of everything the run left behind: files, zip
 * entries (traces) and the zip the HTML report embeds as base64.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { KEY_DASHBOARDS } from '../../fixtures/grafana/dashboards.ts';
import { escapeRegex } from '../../fixtures/core/regex.ts';
import { describeOutput, runPlaywright, suiteFreeEnv, type ChildResult } from './child.ts';
import { startReplayServer, type RecordedRequest, type ReplayServer } from './replay-server.ts';

/** Entries of a zip file (stored or deflated), read from its central directory. */
export function unzip(buf: Buffer): Array<{ name: string; data: Buffer }> {
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
export async function texts(dir: string): Promise<Array<{ where: string; text: string }>> {
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

/**
 * The dashboard whose OBS-02 browser test the leak runs keep (the other two are left out by
 * title); the replayed Grafana answers its uid with the hostile echo.
 */
export const LEAK_DASHBOARD = KEY_DASHBOARDS[0] as (typeof KEY_DASHBOARDS)[number];

function echo(req: RecordedRequest): string {
  const auth = String(req.headers.authorization ?? '');
  const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : '';
  return `proxy trace: authorization: ${auth} (decoded ${decoded}), password=${decoded.split(':')[1] ?? ''}`;
}

/** The marker before the base64-only echo: what follows it in a report must be `[REDACTED]`. */
export const BASE64_ECHO = 'credential echoed as base64:';

/**
 * An echo of the credential in base64 alone, nothing raw beside it: redaction that forgot the
 * base64 form would leak here and nowhere else.
 */
function echoBase64Only(req: RecordedRequest): string {
  const auth = String(req.headers.authorization ?? '');
  const credential = auth.startsWith('Basic ') ? (Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')[1] ?? '') : auth.replace(/^Bearer /, '');
  return `${BASE64_ECHO} ${Buffer.from(credential).toString('base64')}`;
}

/** Every sentinel form found in the run's report, test results and output. */
export async function leaksOf(run: LeakRun, forms: Record<string, string>): Promise<string[]> {
  const all = [...(await runTexts(run)), { where: 'stdout', text: run.result.stdout }, { where: 'stderr', text: run.result.stderr }];
  return all.flatMap((t) => Object.entries(forms).filter(([, v]) => t.text.includes(v)).map(([form]) => `${form} in ${t.where}`));
}

export async function runTexts(run: LeakRun): Promise<Array<{ where: string; text: string }>> {
  for (const dir of ['playwright-report', 'test-results']) {
    if (!existsSync(join(run.work, dir))) throw new Error(`the Playwright run left no ${dir}/ (exit ${run.result.code ?? run.result.signal})\n${describeOutput(run.result)}`);
  }
  return [...(await texts(join(run.work, 'playwright-report'))), ...(await texts(join(run.work, 'test-results')))];
}

export interface LeakRun {
  grafana: ReplayServer;
  work: string;
  result: ChildResult;
  close(): Promise<void>;
}

/**
 * Runs the OBS-02 tests against the hostile Grafana with the given credential variables;
 * the run's own outcome does not matter, only what it left behind.
 */
export async function runAgainstHostileGrafana(sentinel: string, credentials: Record<string, string>, extraArgs: string[] = []): Promise<LeakRun> {
  const work = await mkdtemp(join(tmpdir(), 'obs-secret-leak-'));
  const health = (req: RecordedRequest) => ({ status: 500, body: { status: 'ERROR', message: echo(req) } });
  const grafana = await startReplayServer({
    'GET /api/health': { body: { database: 'ok', version: '12.3.0', commit: 'selftest' } },
    'POST /login': (req) =>
      req.body.includes(sentinel)
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
    'GET /api/datasources/uid/loki/health': (req) => ({ status: 500, body: { status: 'ERROR', message: echoBase64Only(req) } }),
    // The one dashboard test the run keeps (LEAK_DASHBOARD) asks for its dashboard here, and gets the echo.
    [`GET /api/dashboards/uid/${LEAK_DASHBOARD.uid}`]: (req) => ({ status: 500, headers: { 'content-type': 'text/plain' }, body: echo(req) }),
  });
  const env = suiteFreeEnv({ GRAFANA_URL: grafana.url, ...credentials, OBS_REPORT_DIR: join(work, 'playwright-report'), OBS_ENV_FILE: join(work, 'no.env'), CI: '' });
  // Playwright's per-test limit is generous: a UI test that times out on a loaded machine would end
  // before the hostile dashboard echo was requested, and the check would prove less than it says.
  // One dashboard test of the three: they are one test body over a list of dashboards, and each
  // failed browser test costs a new worker and a new Chromium (about 2.5 CPU-s on this machine).
  const others = KEY_DASHBOARDS.filter((d) => d !== LEAK_DASHBOARD).map((d) => escapeRegex(d.title));
  const args = ['--grep', '@OBS-02\\b', '--grep-invert', `dashboard "(${others.join('|')})"`, '--output', join(work, 'test-results'), '--timeout', '180000', ...extraArgs];
  const result = await runPlaywright(args, { env }).catch(async (err: unknown) => {
    await grafana.close();
    throw err;
  });
  return {
    grafana,
    work,
    result,
    close: async () => {
      await grafana.close();
      if (!process.env.KEEP_LEAK_DIR) await rm(work, { recursive: true, force: true });
    },
  };
}
