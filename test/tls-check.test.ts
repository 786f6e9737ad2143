/**
 * The TLS checker against real local HTTPS servers, with certificates made here by openssl:
 * a private CA, and leaves that are valid, expired, expiring soon, for the wrong host name,
 * or issued by a CA nobody trusts; a root → intermediate → leaf chain served in full or as the
 * leaf alone (with and without an issuer URL, served by a local HTTP server), an expired
 * intermediate, a self-signed leaf. Each must give its own verdict, name the certificate at
 * fault by position, subject and validity, and say the fix.
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
import { loadConfig } from '../fixtures/core/config.ts';
import { Endpoints } from '../fixtures/core/endpoints.ts';
import { needsOf } from '../fixtures/core/requirements.ts';
import { checkPlainHttp, checkTls } from '../fixtures/grafana/tls-check.ts';
import { runPreflight } from '../fixtures/run/preflight.ts';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'tls-check-'));
const servers: Server[] = [];

function openssl(args: string[], env: Record<string, string> = {}): void {
  // The CA config reads both variables whichever section is used.
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', env: { ...process.env, SAN: 'DNS:unused', AIA: 'http://unused/', ...env } });
}

const stamp = (d: Date) => d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
const pem = (name: string) => readFileSync(join(dir, `${name}.pem`), 'utf8');

/** What `openssl ca` needs to sign with the CA `name`: leaves (with or without an issuer URL) and intermediates. */
function caConfig(name: string): void {
  writeFileSync(join(dir, `${name}.cnf`), [
    '[ca]', 'default_ca = own', '[own]', `dir = ${dir}`, `database = ${dir}/${name}.index`, `new_certs_dir = ${dir}`, `serial = ${dir}/${name}.serial`,
    'default_md = sha256', 'policy = any', 'unique_subject = no', '[any]', 'commonName = supplied',
    '[leaf]', 'basicConstraints = CA:FALSE', 'keyUsage = digitalSignature', 'extendedKeyUsage = serverAuth', 'subjectAltName = $ENV::SAN',
    '[leaf_aia]', 'basicConstraints = CA:FALSE', 'keyUsage = digitalSignature', 'extendedKeyUsage = serverAuth', 'subjectAltName = $ENV::SAN',
    'authorityInfoAccess = caIssuers;URI:$ENV::AIA',
    '[intermediate]', 'basicConstraints = critical,CA:TRUE,pathlen:0', 'keyUsage = critical,keyCertSign,cRLSign', '',
  ].join('\n'));
  writeFileSync(join(dir, `${name}.index`), '');
  writeFileSync(join(dir, `${name}.serial`), '1000\n');
}

/** A self-signed root; ten years, so that the leaves below it are what expires first. */
function makeCa(name: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-days', '3650', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  caConfig(name);
}

/** An intermediate CA signed by `parent`, valid from `start` to `end`, itself able to sign leaves. */
function makeIntermediate(name: string, parent: string, start: Date, end: Date): void {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  openssl(['ca', '-batch', '-notext', '-config', `${parent}.cnf`, '-cert', `${parent}.pem`, '-keyfile', `${parent}.key`, '-in', `${name}.csr`, '-out', `${name}.pem`,
    '-extensions', 'intermediate', '-startdate', stamp(start), '-enddate', stamp(end)]);
  caConfig(name);
}

/** A leaf signed by `ca`, valid from `start` to `end`, for the names in `san`; `aia`: the issuer URL it carries. */
function makeLeaf(name: string, ca: string, start: Date, end: Date, san: string, aia?: string): { key: string; cert: string } {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  openssl(['ca', '-batch', '-notext', '-config', `${ca}.cnf`, '-cert', `${ca}.pem`, '-keyfile', `${ca}.key`, '-in', `${name}.csr`, '-out', `${name}.pem`,
    '-extensions', aia ? 'leaf_aia' : 'leaf', '-startdate', stamp(start), '-enddate', stamp(end)], { SAN: san, ...(aia ? { AIA: aia } : {}) });
  return { key: readFileSync(join(dir, `${name}.key`), 'utf8'), cert: pem(name) };
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
/** root → intermediate → leaf, served in different ways. */
const chain = { full: '', leafOnly: '', leafOnlyNoUrl: '', expiredIntermediate: '', selfSigned: '', boundary: '', rootPem: '', intermediatePem: '', boundaryMade: new Date() };

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

  makeCa('chain-root');
  makeIntermediate('chain-int', 'chain-root', new Date(now - DAY), new Date(now + 365 * DAY));
  chain.rootPem = pem('chain-root');
  chain.intermediatePem = pem('chain-int');
  // The issuer URL a public CA puts into its leaves, served here by a local HTTP server (DER, as CAs serve it).
  execFileSync('openssl', ['x509', '-in', 'chain-int.pem', '-outform', 'DER', '-out', 'chain-int.der'], { cwd: dir });
  const der = readFileSync(join(dir, 'chain-int.der'));
  const aiaPort = await servePlain((_req, res) => res.writeHead(200, { 'content-type': 'application/pkix-cert' }).end(der));
  const leaf = makeLeaf('chain-leaf', 'chain-int', new Date(now - DAY), new Date(now + 90 * DAY), san, `http://127.0.0.1:${aiaPort}/chain-int.der`);
  chain.full = await serve({ key: leaf.key, cert: leaf.cert + chain.intermediatePem });
  chain.leafOnly = await serve(leaf);
  chain.leafOnlyNoUrl = await serve(makeLeaf('chain-leaf-no-url', 'chain-int', new Date(now - DAY), new Date(now + 90 * DAY), san));
  makeIntermediate('old-int', 'chain-root', new Date(now - 400 * DAY), new Date(now - 2 * DAY));
  const underOld = makeLeaf('under-old-int', 'old-int', new Date(now - DAY), new Date(now + 90 * DAY), san);
  chain.expiredIntermediate = await serve({ key: underOld.key, cert: underOld.cert + pem('old-int') });
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'self-signed.key', '-out', 'self-signed.pem',
    '-days', '90', '-subj', '/CN=self-signed', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
  chain.selfSigned = await serve({ key: readFileSync(join(dir, 'self-signed.key'), 'utf8'), cert: pem('self-signed') });
  // Exactly 10 days from a whole second, the precision of a certificate's dates.
  chain.boundaryMade = new Date(Math.floor(now / 1000) * 1000);
  const boundary = makeLeaf('boundary', 'chain-int', new Date(now - DAY), new Date(chain.boundaryMade.getTime() + 10 * DAY), san);
  chain.boundary = await serve({ key: boundary.key, cert: boundary.cert + chain.intermediatePem });
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
    assert.match(r.message, /leaf certificate "CN=valid" \(valid \S+ to \S+\) is issued by "CN=private-ca", which the server did not send .*not a root in the system store/);
    assert.match(r.message, /Fix: .*if it is your private root, set CA_FILE to its PEM/);
  });

  void test('an expired certificate is reported as expired, with how long ago', async () => {
    const r = await checkTls(urls.expired, { minDays: 14, extraCa: [caPem] });
    assert.equal(r.verdict, 'expired');
    assert.equal(r.authorizationError, 'CERT_HAS_EXPIRED');
    assert.ok(r.daysLeft !== undefined && r.daysLeft < -2.9 && r.daysLeft > -3.1, `daysLeft ${r.daysLeft}`);
    assert.match(r.message, /The leaf certificate "CN=expired" \(valid \S+ to \S+\) expired 3 days ago/);
    assert.match(r.message, /Fix: renew the leaf/);
    assert.equal(r.fault?.position, 'leaf');
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
    assert.match(r.message, /The leaf certificate "CN=wrong-host" \(valid \S+ to \S+\) is not valid for "localhost" .*DNS:grafana\.other\.example/);
    assert.match(r.message, /Fix: serve a certificate whose subjectAltName includes localhost/);
    assert.equal(r.fault?.subject, 'CN=wrong-host');
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

void describe('checkTls judges the chain the server sends: root → intermediate → leaf made in the test', () => {
  const caFile = (name: string, ...pems: string[]) => {
    const file = join(dir, name);
    writeFileSync(file, pems.join(''));
    return file;
  };

  void test('the full chain (leaf + intermediate) with only the root in CA_FILE passes, each certificate named by position and source', async () => {
    const r = await checkTls(chain.full, { minDays: 14, caFile: caFile('root-only.pem', chain.rootPem) });
    assert.equal(r.verdict, 'ok', r.message);
    assert.equal(r.sentCount, 2);
    assert.deepEqual(
      r.chain.map((c) => [c.position, c.subject, c.source]),
      [
        ['leaf', 'CN=chain-leaf', 'server'],
        ['intermediate', 'CN=chain-int', 'server'],
        ['root', 'CN=chain-root', 'trust store'],
      ],
    );
    assert.equal(r.fix, undefined);
  });

  void test('the leaf alone, with root and intermediate in CA_FILE, is an incomplete chain: CA_FILE must not hide what the server fails to send', async () => {
    const r = await checkTls(chain.leafOnly, { minDays: 14, caFile: caFile('root-and-int.pem', chain.rootPem, chain.intermediatePem) });
    assert.equal(r.verdict, 'incomplete-chain', r.message);
    assert.equal(r.ok, false);
    assert.equal(r.sentCount, 1);
    assert.equal(r.authorizationError, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.deepEqual([r.fault?.position, r.fault?.subject, r.fault?.source], ['intermediate', 'CN=chain-int', 'trust store']);
    assert.match(r.message, /The server sends 1 certificate\(s\) \(leaf "CN=chain-leaf"\) but not the intermediate certificate "CN=chain-int" \(valid \S+ to \S+\) that links the chain to the root "CN=chain-root"/);
    assert.match(r.message, /Fix: serve the full chain: leaf → "CN=chain-int"/);
    assert.doesNotMatch(r.message, /set CA_FILE/);
  });

  void test('the leaf alone, with only the root trusted, is an incomplete chain found through the issuer URL in the leaf, not "set CA_FILE"', async () => {
    const r = await checkTls(chain.leafOnly, { minDays: 14, caFile: caFile('root-only.pem', chain.rootPem) });
    assert.equal(r.verdict, 'incomplete-chain', r.message);
    assert.deepEqual([r.fault?.position, r.fault?.subject, r.fault?.source], ['intermediate', 'CN=chain-int', 'issuer URL']);
    assert.match(r.message, /downloaded from the issuer URL in the certificate/);
    assert.match(r.fix ?? '', /^serve the full chain: leaf → "CN=chain-int"/);
    assert.doesNotMatch(r.message, /set CA_FILE/);
  });

  void test('the leaf alone without an issuer URL: the message names the missing issuer and both fixes, intermediate first', async () => {
    const r = await checkTls(chain.leafOnlyNoUrl, { minDays: 14, caFile: caFile('root-only.pem', chain.rootPem) });
    assert.equal(r.verdict, 'untrusted', r.message);
    assert.deepEqual([r.fault?.position, r.fault?.subject], ['leaf', 'CN=chain-leaf-no-url']);
    assert.match(r.message, /is issued by "CN=chain-int", which the server did not send/);
    assert.match(r.message, /Fix: if "CN=chain-int" is an intermediate CA, serve the full chain \(leaf → "CN=chain-int"\); if it is your private root, set CA_FILE/);
  });

  void test('an expired intermediate in the full chain is named as the intermediate at fault, with its dates', async () => {
    const r = await checkTls(chain.expiredIntermediate, { minDays: 14, caFile: caFile('root-only.pem', chain.rootPem) });
    assert.equal(r.verdict, 'expired', r.message);
    assert.equal(r.authorizationError, 'CERT_HAS_EXPIRED');
    assert.deepEqual([r.fault?.position, r.fault?.subject, r.fault?.source], ['intermediate', 'CN=old-int', 'server']);
    assert.match(r.message, /The intermediate certificate "CN=old-int" \(valid \S+ to \S+\) expired 2 days ago/);
    assert.match(r.message, /Fix: serve the CA's current intermediate in place of "CN=old-int"/);
    assert.ok(r.daysLeft !== undefined && r.daysLeft < 0, `daysLeft ${r.daysLeft} counts the first certificate to expire`);
  });

  void test('a self-signed leaf is untrusted and named as such, with the fix', async () => {
    const r = await checkTls(chain.selfSigned, { minDays: 14, caFile: caFile('root-only.pem', chain.rootPem) });
    assert.equal(r.verdict, 'untrusted', r.message);
    assert.equal(r.authorizationError, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.deepEqual([r.fault?.position, r.fault?.subject], ['leaf', 'CN=self-signed']);
    assert.match(r.message, /The leaf certificate "CN=self-signed" \(valid \S+ to \S+\) is self-signed/);
    assert.match(r.message, /Fix: serve a certificate issued by a CA/);
  });

  void test('CERT_MIN_DAYS boundary: 10 days left passes a minimum of 9 and of 10, fails 11 naming the leaf', async () => {
    const options = { caFile: caFile('root-only.pem', chain.rootPem), now: chain.boundaryMade };
    const at = async (minDays: number) => checkTls(chain.boundary, { ...options, minDays });
    const [nine, ten, eleven] = [await at(9), await at(10), await at(11)];
    assert.equal(nine.verdict, 'ok', nine.message);
    assert.equal(ten.verdict, 'ok', ten.message);
    assert.equal(ten.daysLeft, 10);
    assert.equal(eleven.verdict, 'expiring-soon', eleven.message);
    assert.deepEqual([eleven.fault?.position, eleven.fault?.subject], ['leaf', 'CN=boundary']);
    assert.match(eleven.message, /The leaf certificate "CN=boundary" \(valid \S+ to \S+\) expires in 10 days, fewer than the 11 required \(CERT_MIN_DAYS\)/);
  });

  void test('CA_FILE without a certificate is named, not passed on as an empty trust', async () => {
    await assert.rejects(checkTls(chain.full, { minDays: 14, caFile: caFile('empty.pem', 'not a certificate\n') }), /CA_FILE .*empty\.pem holds no PEM certificate/);
  });
});

void describe('preflight names the certificate at fault instead of a bare OpenSSL code', () => {
  // The self-test process has no NODE_EXTRA_CA_CERTS, so fetch refuses the private root as a run without CA_FILE would.
  const preflight = async (url: string, caFile?: string) => {
    const file = join(dir, 'preflight-ca.pem');
    if (caFile) writeFileSync(file, caFile);
    const config = loadConfig({ GRAFANA_URL: url.replace(/\/$/, ''), ...(caFile ? { CA_FILE: file } : {}), PREFLIGHT_TIMEOUT_MS: '10000' });
    return runPreflight(config, needsOf(['OBS-07'], config), new Endpoints(config), { selectionKnown: true });
  };

  void test('the leaf served without its intermediate: preflight says "serve the full chain", naming the intermediate and its dates', async () => {
    const r = await preflight(chain.leafOnly, chain.rootPem);
    assert.equal(r.problems.length, 1, r.problems.join('\n'));
    const problem = r.problems[0] ?? '';
    assert.match(problem, /^grafana \(https:\/\/localhost:\d+, needed by OBS-07\) fails TLS verification \(.*UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    assert.match(problem, /but not the intermediate certificate "CN=chain-int" \(valid \S+ to \S+\)/);
    assert.match(problem, /Fix: serve the full chain: leaf → "CN=chain-int"/);
    assert.doesNotMatch(problem, /set GRAFANA_URL, or GRAFANA_SERVICE/);
  });

  void test('an expired leaf: preflight names the leaf, its dates and the renewal', async () => {
    const r = await preflight(urls.expired, caPem);
    const problem = r.problems[0] ?? '';
    assert.match(problem, /fails TLS verification \(.*CERT_HAS_EXPIRED.*\): The leaf certificate "CN=expired" \(valid \S+ to \S+\) expired 3 days ago/);
    assert.match(problem, /Fix: renew the leaf/);
  });

  void test('a chain the TLS check trusts but fetch does not (CA_FILE not in NODE_EXTRA_CA_CERTS): preflight says so and how to hand it over', async () => {
    const r = await preflight(chain.full, chain.rootPem);
    const problem = r.problems[0] ?? '';
    assert.match(problem, /is not ready: .*UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
    assert.match(problem, /The TLS check against the system store .* passes/);
    assert.match(problem, /Fix: NODE_EXTRA_CA_CERTS \(\S+\) does not hold CA_FILE's certificates in this process: run through "npx playwright test", whose config joins them, or start the process with NODE_EXTRA_CA_CERTS=\S+preflight-ca\.pem/);
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
