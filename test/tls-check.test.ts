/**
 * The TLS checker against real local HTTPS servers, with certificates made here by openssl:
 * a private CA, and leaves that are valid, expired, expiring soon, for the wrong host name,
 * or issued by a CA nobody trusts. Each must give its own verdict and message.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkPlainHttp, checkTls } from '../fixtures/grafana/tls-check.ts';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'tls-check-'));
const servers: Server[] = [];

function openssl(args: string[], env: Record<string, string> = {}): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', env: { ...process.env, ...env } });
}

function makeCa(name: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-days', '30', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  writeFileSync(join(dir, `${name}.cnf`), [
    '[ca]', 'default_ca = own', '[own]', `dir = ${dir}`, `database = ${dir}/${name}.index`, `new_certs_dir = ${dir}`, `serial = ${dir}/${name}.serial`,
    'default_md = sha256', 'policy = any', 'unique_subject = no', '[any]', 'commonName = supplied',
    '[leaf]', 'basicConstraints = CA:FALSE', 'keyUsage = digitalSignature', 'extendedKeyUsage = serverAuth', 'subjectAltName = $ENV::SAN', '',
  ].join('\n'));
  writeFileSync(join(dir, `${name}.index`), '');
  writeFileSync(join(dir, `${name}.serial`), '1000\n');
}

/** A leaf signed by `ca`, valid from `start` to `end`, for the names in `san`. */
function makeLeaf(name: string, ca: string, start: Date, end: Date, san: string): { key: string; cert: string } {
  const stamp = (d: Date) => d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  openssl(['ca', '-batch', '-notext', '-config', `${ca}.cnf`, '-cert', `${ca}.pem`, '-keyfile', `${ca}.key`, '-in', `${name}.csr`, '-out', `${name}.pem`,
    '-extensions', 'leaf', '-startdate', stamp(start), '-enddate', stamp(end)], { SAN: san });
  return { key: readFileSync(join(dir, `${name}.key`), 'utf8'), cert: readFileSync(join(dir, `${name}.pem`), 'utf8') };
}

async function serve(pair: { key: string; cert: string }): Promise<string> {
  const server = createHttpsServer(pair, (_req, res) => res.end('ok'));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `https://localhost:${(server.address() as AddressInfo).port}/`;
}

async function servePlain(handler: Parameters<typeof createHttpServer>[1]): Promise<number> {
  const server = createHttpServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const urls: Record<'valid' | 'expired' | 'soon' | 'wrongHost' | 'untrusted', string> = { valid: '', expired: '', soon: '', wrongHost: '', untrusted: '' };
let caPem = '';

before(async () => {
  makeCa('private-ca');
  makeCa('rogue-ca');
  caPem = readFileSync(join(dir, 'private-ca.pem'), 'utf8');
  const now = Date.now();
  const san = 'DNS:localhost,IP:127.0.0.1';
  urls.valid = await serve(makeLeaf('valid', 'private-ca', new Date(now - DAY), new Date(now + 90 * DAY), san));
  urls.expired = await serve(makeLeaf('expired', 'private-ca', new Date(now - 60 * DAY), new Date(now - 3 * DAY), san));
  urls.soon = await serve(makeLeaf('soon', 'private-ca', new Date(now - DAY), new Date(now + 5 * DAY), san));
  urls.wrongHost = await serve(makeLeaf('wrong-host', 'private-ca', new Date(now - DAY), new Date(now + 90 * DAY), 'DNS:grafana.other.example'));
  urls.untrusted = await serve(makeLeaf('untrusted', 'rogue-ca', new Date(now - DAY), new Date(now + 90 * DAY), san));
});

after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

void describe('checkTls against local HTTPS servers with certificates made in the test', () => {
  void test('a valid certificate from the CA given by setting passes and reports the days left', async () => {
    writeFileSync(join(dir, 'ca-file.pem'), caPem);
    const r = await checkTls(urls.valid, { minDays: 14, caFile: join(dir, 'ca-file.pem') });
    assert.equal(r.verdict, 'ok', r.message);
    assert.equal(r.ok, true);
    assert.ok(r.daysLeft !== undefined && r.daysLeft > 88 && r.daysLeft <= 90, `daysLeft ${r.daysLeft}`);
    assert.match(r.message, /trusted, valid for "localhost" and has (89\.\d|90) days left/);
    assert.match(r.trustStore, /system store \(\d+ CAs\) \+ .*ca-file\.pem/);
    assert.equal(r.chain[0]?.subject, 'CN=valid');
  });

  void test('the same certificate without the private CA is untrusted: the system store alone does not know it', async () => {
    const r = await checkTls(urls.valid, { minDays: 14 });
    assert.equal(r.verdict, 'untrusted');
    assert.equal(r.ok, false);
    assert.match(r.message, /does not chain to a trusted CA .*set CA_FILE/);
  });

  void test('an expired certificate is reported as expired, with how long ago', async () => {
    const r = await checkTls(urls.expired, { minDays: 14, extraCa: [caPem] });
    assert.equal(r.verdict, 'expired');
    assert.equal(r.authorizationError, 'CERT_HAS_EXPIRED');
    assert.ok(r.daysLeft !== undefined && r.daysLeft < -2.9 && r.daysLeft > -3.1, `daysLeft ${r.daysLeft}`);
    assert.match(r.message, /expired 3 days ago/);
  });

  void test('a certificate expiring within CERT_MIN_DAYS is reported as expiring soon; a lower minimum lets it pass', async () => {
    const r = await checkTls(urls.soon, { minDays: 14, extraCa: [caPem] });
    assert.equal(r.verdict, 'expiring-soon');
    assert.match(r.message, /expires in 5 days, fewer than the 14 required \(CERT_MIN_DAYS\)/);
    assert.equal((await checkTls(urls.soon, { minDays: 3, extraCa: [caPem] })).verdict, 'ok');
  });

  void test('days left at CERT_MIN_DAYS pass; one day fewer is expiring soon; one day more passes', async () => {
    const validTo = Date.parse((await checkTls(urls.valid, { minDays: 14, extraCa: [caPem] })).chain[0]?.validTo ?? '');
    assert.ok(Number.isFinite(validTo), 'the leaf has an end date');
    const verdictWith = async (daysLeft: number) => {
      const r = await checkTls(urls.valid, { minDays: 14, extraCa: [caPem], now: new Date(validTo - daysLeft * DAY) });
      assert.equal(r.daysLeft, daysLeft);
      return r.verdict;
    };
    assert.equal(await verdictWith(14), 'ok');
    assert.equal(await verdictWith(13), 'expiring-soon');
    assert.equal(await verdictWith(15), 'ok');
  });

  void test('a certificate for another host name is reported as a host name mismatch, with the names it has', async () => {
    const r = await checkTls(urls.wrongHost, { minDays: 14, extraCa: [caPem] });
    assert.equal(r.verdict, 'hostname-mismatch');
    assert.equal(r.authorizationError, undefined, 'the chain itself is fine');
    assert.match(r.message, /not valid for "localhost" .*DNS:grafana\.other\.example/);
  });

  void test('a certificate from an issuer nobody trusts is untrusted even when another private CA is given', async () => {
    const r = await checkTls(urls.untrusted, { minDays: 14, extraCa: [caPem] });
    assert.equal(r.verdict, 'untrusted');
    assert.match(r.authorizationError ?? '', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
    assert.match(r.message, /issued by "CN=rogue-ca"/);
  });

  void test('no server is unreachable, not a certificate verdict', async () => {
    const port = await servePlain(() => undefined);
    servers.pop()?.close();
    const r = await checkTls(`https://localhost:${port}/`, { minDays: 14, timeoutMs: 2_000 });
    assert.equal(r.verdict, 'unreachable');
    assert.match(r.message, /No TLS handshake with localhost:\d+: ECONNREFUSED/);
  });

  void test('an http:// URL is refused: the check is about HTTPS', async () => {
    await assert.rejects(checkTls('http://localhost/', { minDays: 14 }), /needs an https:\/\/ URL/);
  });
});

void describe('checkPlainHttp against local plain HTTP servers', () => {
  void test('a redirect to https on the same host passes', async () => {
    const port = await servePlain((_req, res) => res.writeHead(301, { location: 'https://localhost/login' }).end());
    const r = await checkPlainHttp('https://localhost/', { timeoutMs: 2_000, port });
    assert.equal(r.verdict, 'redirects-to-https');
    assert.equal(r.ok, true);
  });

  void test('content served over plain HTTP fails with what to fix', async () => {
    const port = await servePlain((_req, res) => res.end('<html>Grafana</html>'));
    const r = await checkPlainHttp('https://localhost/', { timeoutMs: 2_000, port });
    assert.equal(r.verdict, 'serves-plain-http');
    assert.equal(r.ok, false);
    assert.match(r.message, /answers HTTP 200 over plain HTTP .*redirect port 80/);
  });

  void test('a redirect to another host fails', async () => {
    const port = await servePlain((_req, res) => res.writeHead(302, { location: 'https://evil.example/' }).end());
    const r = await checkPlainHttp('https://localhost/', { timeoutMs: 2_000, port });
    assert.equal(r.verdict, 'redirects-elsewhere');
    assert.equal(r.ok, false);
  });

  void test('no listener on the plain port passes: plain HTTP is simply not offered', async () => {
    const port = await servePlain(() => undefined);
    servers.pop()?.close();
    const r = await checkPlainHttp('https://localhost/', { timeoutMs: 2_000, port });
    assert.equal(r.verdict, 'no-answer');
    assert.equal(r.ok, true);
  });
});
