/**
 * CA_FILE reaches the suite's HTTP client even where the machine already sets
 * NODE_EXTRA_CA_CERTS (this one points it at Debian's bundle): the two are joined, and a real
 * Node process given the joined file trusts a server signed by the private CA, while one given
 * only the machine's bundle refuses it. Certificates are made here by openssl.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bundleHolds, extraCaCertsFile } from '../fixtures/core/ca-bundle.ts';
import { runChild } from './support/child.ts';

const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const dir = mkdtempSync(join(tmpdir(), 'ca-bundle-'));
const caFile = join(dir, 'private-ca.pem');
const machine = join(dir, 'machine-bundle.pem');
let server: Server;
let url = '';

before(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', caFile,
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'pipe' });
  // A machine-wide bundle without the private CA: Debian's where present, else one unrelated certificate.
  writeFileSync(machine, existsSync(SYSTEM_BUNDLE) ? readFileSync(SYSTEM_BUNDLE, 'utf8') : '');
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(caFile) }, (_req, res) => res.end('trusted'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://localhost:${(server.address() as AddressInfo).port}/`;
});

after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What a fresh Node process with NODE_EXTRA_CA_CERTS=`extra` gets from the private-CA server. */
async function fetchWith(extra: string): Promise<string> {
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: extra };
  const script = `fetch(${JSON.stringify(url)}).then(async (r) => console.log(await r.text()), (e) => console.log('refused: ' + (e.cause?.code ?? e.message)))`;
  const child = await runChild(process.execPath, ['-e', script], { env });
  return child.stdout.trim();
}

void describe('CA_FILE joined into NODE_EXTRA_CA_CERTS', () => {
  void it('with the machine bundle alone a fresh Node refuses the private CA; with the joined file it trusts it', async () => {
    assert.match(await fetchWith(machine), /^refused: /);
    const joined = extraCaCertsFile(caFile, machine, join(dir, 'cache'));
    assert.notEqual(joined, machine);
    assert.equal(await fetchWith(joined), 'trusted');
    assert.ok(bundleHolds(joined, caFile));
    assert.ok(readFileSync(joined, 'utf8').startsWith(readFileSync(machine, 'utf8').trimEnd()), 'the machine bundle is kept, not replaced');
  });

  void it('CA_FILE alone when nothing is set; the current file when it already holds CA_FILE; the same joined file twice', () => {
    assert.equal(extraCaCertsFile(caFile, undefined, join(dir, 'cache')), caFile);
    assert.equal(extraCaCertsFile(caFile, caFile, join(dir, 'cache')), caFile);
    const joined = extraCaCertsFile(caFile, machine, join(dir, 'cache'));
    assert.equal(extraCaCertsFile(caFile, joined, join(dir, 'cache')), joined, 'a bundle that holds CA_FILE is used as it is');
    assert.equal(extraCaCertsFile(caFile, machine, join(dir, 'cache')), joined, 'named by content: no new file per run');
    assert.equal(bundleHolds(machine, caFile), false);
    assert.equal(bundleHolds(undefined, caFile), false);
  });

  void it('a CA_FILE that cannot be read or holds no certificate is named', () => {
    assert.throws(() => extraCaCertsFile(join(dir, 'missing.pem'), undefined, dir), /CA_FILE=.*missing\.pem cannot be read/);
    writeFileSync(join(dir, 'empty.pem'), 'not a certificate\n');
    assert.throws(() => extraCaCertsFile(join(dir, 'empty.pem'), undefined, dir), /CA_FILE=.*empty\.pem holds no PEM certificate/);
  });
});
