/**
 * The chart pin check (`cluster:up`'s first step) against a stand-in chart repository on
 * loopback. No real repository is reachable here; the stand-in serves an index.yaml in Helm's
 * own format (helm/helm pkg/repo/v1/index.go at v4.2.4: `IndexFile` {apiVersion, entries,
 * generated}, `ChartVersion` = chart metadata + urls, created, digest; written by yaml.Marshal,
 * sorted keys, sequence items at their key's indentation), with entries shaped like the real
 * grafana-community index (loki 8.1.3 and 9.0.0, appVersion 3.6.7). Versions are made up where
 * the test needs one that does not exist.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { CHARTS, type ChartPin } from '../scripts/lib/charts.ts';
import { checkChartPins, compareVersions, indexUrl, lookUpChartVersion, nearestVersions, runPinCheck } from '../scripts/lib/chart-pins.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** One entry as Helm writes it: keys sorted, maps two spaces in, a dependency's own `version` deeper. */
const entry = (chart: string, version: string, appVersion: string, created: string, digest: string): string => `  - annotations:
      artifacthub.io/license: Apache-2.0
    apiVersion: v2
    appVersion: ${appVersion}
    created: "${created}"
    dependencies:
    - condition: minio.enabled
      name: minio
      repository: https://charts.min.io/
      version: 5.4.0
    description: Helm chart for Grafana ${chart}
    digest: ${digest}
    name: ${chart}
    type: application
    urls:
    - https://github.com/grafana-community/helm-charts/releases/download/${chart}-${version}/${chart}-${version}.tgz
    version: ${version}
`;

const HELM_INDEX = `apiVersion: v1
entries:
  alloy:
${entry('alloy', '1.10.0', 'v1.17.0', '2026-06-12T19:56:37.876696237Z', 'abc71e8a')}  loki:
${entry('loki', '9.0.0', '3.6.7', '2026-03-23T10:47:35.326025016Z', 'd3a6ad69')}${entry('loki', '8.1.3', '3.6.7', '2026-03-23T10:33:26.189765026Z', 'aa221edf')}${entry('loki', '8.1.2', '3.6.7', '2026-03-22T14:06:55.864017837Z', 'cc2a13e8')}${entry('loki', '6.19.0-weekly.227', 'k227', '2024-10-29T11:58:37Z', '01fa0940')}  tempo:
${entry('tempo', '1.24.0', '2.9.0', '2026-03-01T00:00:00Z', '5e4d992d')}generated: "2026-08-20T20:00:52.222767447Z"
`;

interface Seen { path: string; headers: IncomingHttpHeaders }

void describe('chart pins: every pinned version is released (stand-in chart repository on loopback)', () => {
  let server: Server;
  let base = '';
  let closedPort = 0;
  const seen: Seen[] = [];

  before(async () => {
    const json = JSON.stringify(parse(HELM_INDEX));
    server = createServer((req, res) => {
      seen.push({ path: req.url ?? '', headers: req.headers });
      const send = (body: string) => {
        // As GitHub Pages does: compressed when the client asks for it.
        if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip' }).end(gzipSync(body));
        } else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
      };
      if (req.url === '/stable/index.yaml') send(HELM_INDEX);
      else if (req.url === '/json/index.yaml') send(json);
      else if (req.url === '/html/index.yaml') send('<html><body>Welcome</body></html>');
      else if (req.url === '/hang/index.yaml') return; // never answers
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    closedPort = (spare.address() as AddressInfo).port;
    await new Promise<void>((resolve) => spare.close(() => resolve()));
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const pin = (chart: string, version: string, appVersion: string, repo = `${base}/stable`): ChartPin =>
    ({ release: chart, chart, repo, version, appVersion, namespace: 'monitoring' });

  void it('released versions pass, each read from its index entry, one request per repository, compressed', async () => {
    const before = seen.length;
    const results = await checkChartPins({ loki: pin('loki', '9.0.0', '3.6.7'), alloy: pin('alloy', '1.10.0', 'v1.17.0') }, { retries: 0 });
    assert.deepEqual(results.map((r) => [r.key, r.ok, r.problem]), [['loki', true, undefined], ['alloy', true, undefined]]);
    assert.deepEqual(results[0]?.entry, {
      version: '9.0.0',
      appVersion: '3.6.7',
      urls: ['https://github.com/grafana-community/helm-charts/releases/download/loki-9.0.0/loki-9.0.0.tgz'],
      created: '2026-03-23T10:47:35.326025016Z',
      digest: 'd3a6ad69',
    });
    assert.equal(results[0]?.readBy, 'scan', 'a Helm-written index is scanned, not parsed whole');
    const requests = seen.slice(before);
    assert.deepEqual(requests.map((s) => s.path), ['/stable/index.yaml'], 'pins sharing a repository share one download');
    assert.match(String(requests[0]?.headers['accept-encoding']), /gzip/, 'the index is asked for compressed');
  });

  void it('a made-up version names the bad pin, the versions next to it and the fix; the other pins are still reported', async () => {
    const lines: string[] = [];
    const errors: string[] = [];
    const code = await runPinCheck(
      { loki: pin('loki', '8.2.0', '3.6.7'), alloy: pin('alloy', '1.10.0', 'v1.17.0') },
      { retries: 0, out: (l) => lines.push(l), err: (l) => errors.push(l) },
    );
    assert.equal(code, 1);
    const message = errors.join('\n');
    assert.match(message, /loki 8\.2\.0 is not released/);
    assert.match(message, new RegExp(`${indexUrl(`${base}/stable`).replace(/[.]/g, '\\.')} lists no version 8\\.2\\.0 of chart loki`));
    assert.match(message, /released next to it: 8\.1\.3 \(below\), 9\.0\.0 \(above\); newest: 9\.0\.0/, 'pre-releases are not suggested');
    assert.match(message, /fix: set the version of CHARTS\.loki in scripts\/lib\/charts\.ts to a released version/);
    assert.match(message, /1 of 2 chart pins failed the check; no cluster was created/);
    assert.ok(lines.some((l) => l.startsWith('ok  alloy 1.10.0 (appVersion v1.17.0, added 2026-06-12)')), lines.join('\n'));
  });

  void it('with the right versions the check passes and exits 0', async () => {
    const errors: string[] = [];
    const code = await runPinCheck({ loki: pin('loki', '8.1.3', '3.6.7'), tempo: pin('tempo', '1.24.0', '2.9.0') }, { retries: 0, out: () => undefined, err: (l) => errors.push(l) });
    assert.equal(code, 0, errors.join('\n'));
  });

  void it('a chart the repository does not have, and an appVersion the entry does not deploy, are named', async () => {
    const [missing, drift] = await checkChartPins({ mimir: pin('mimir', '1.0.0', '1'), loki: pin('loki', '9.0.0', '3.6.8') }, { retries: 0 });
    assert.match(missing?.problem ?? '', /chart mimir is not in .*\/stable\/index\.yaml \(CHARTS\.mimir in scripts\/lib\/charts\.ts\); charts there: alloy, loki, tempo/);
    assert.match(drift?.problem ?? '', /loki 9\.0\.0 is released but deploys appVersion 3\.6\.7, not 3\.6\.8/);
  });

  void it('the same index as JSON (Helm reads both) is parsed whole and gives the same verdicts', async () => {
    const repo = `${base}/json`;
    const results = await checkChartPins({ good: pin('loki', '9.0.0', '3.6.7', repo), bad: pin('loki', '8.2.0', '3.6.7', repo) }, { retries: 0 });
    assert.deepEqual(results.map((r) => [r.ok, r.readBy]), [[true, 'parse'], [false, 'parse']]);
    assert.match(results[1]?.problem ?? '', /released next to it: 8\.1\.3 \(below\), 9\.0\.0 \(above\)/);
  });

  void it('an unreachable repository, one that never answers, a 404 and a page that is no index each give a clear error', async () => {
    // Only the silent repository is meant to time out: the others get a limit a loaded machine never reaches.
    const [answering, hanging] = await Promise.all([
      checkChartPins(
        {
          refused: pin('loki', '9.0.0', '3.6.7', `http://127.0.0.1:${closedPort}/charts`),
          gone: pin('loki', '9.0.0', '3.6.7', `${base}/nowhere/`),
          html: pin('loki', '9.0.0', '3.6.7', `${base}/html`),
        },
        { retries: 0, timeoutMs: 60_000 },
      ),
      checkChartPins({ silent: pin('loki', '9.0.0', '3.6.7', `${base}/hang`) }, { retries: 0, timeoutMs: 300 }),
    ]);
    const results = [...answering, ...hanging];
    const [refused, gone, html, silent] = results.map((r) => r.problem ?? '');
    assert.ok(results.every((r) => !r.ok));
    assert.match(refused ?? '', new RegExp(`loki 9\\.0\\.0 not verified: cannot read http://127\\.0\\.0\\.1:${closedPort}/charts/index\\.yaml: .*ECONNREFUSED.*Nothing was created\\. Check that this machine reaches 127\\.0\\.0\\.1:${closedPort}`));
    assert.match(silent ?? '', /cannot read .*\/hang\/index\.yaml: .*no answer within 300 ms/);
    assert.match(gone ?? '', /cannot read .*\/nowhere\/index\.yaml: .*HTTP 404/, 'a trailing slash on the repo URL is dropped, as Helm does');
    assert.match(html ?? '', /\/html\/index\.yaml is not a Helm chart repository index: no apiVersion or no entries/);
  });

  void it('the index scan agrees with a whole parse: first exact match, nested dependency versions ignored', () => {
    const scan = lookUpChartVersion(HELM_INDEX, 'loki', '8.1.3');
    const whole = lookUpChartVersion(JSON.stringify(parse(HELM_INDEX)), 'loki', '8.1.3');
    assert.equal(scan.readBy, 'scan');
    assert.equal(whole.readBy, 'parse');
    assert.deepEqual({ ...scan, readBy: 'parse' }, whole);
    assert.deepEqual(scan.versions, ['9.0.0', '8.1.3', '8.1.2', '6.19.0-weekly.227'], 'the dependency minio 5.4.0 is not a loki version');
    assert.equal(lookUpChartVersion(HELM_INDEX, 'loki', '5.4.0').entry, undefined);
    assert.equal(lookUpChartVersion(HELM_INDEX, 'alloy', '1.10.0').entry?.appVersion, 'v1.17.0', 'the first chart of the index');
    assert.equal(lookUpChartVersion(HELM_INDEX, 'tempo', '1.24.0').entry?.digest, '5e4d992d', 'the last chart of the index');
  });

  void it('version order and suggestions follow semver precedence', () => {
    assert.ok(compareVersions('9.0.0', '8.10.0') > 0);
    assert.ok(compareVersions('8.1.3', '8.1.10') < 0);
    assert.ok(compareVersions('6.19.0-weekly.227', '6.19.0') < 0);
    assert.deepEqual(nearestVersions(['18.11.0', '9.0.0', '8.1.3', '8.0.0'], '8.2.0'), { below: '8.1.3', above: '9.0.0', newest: '18.11.0' });
    assert.deepEqual(nearestVersions(['1.0.0'], '0.1.0'), { below: undefined, above: '1.0.0', newest: '1.0.0' });
  });

  void it("the project's pins: exact versions, each with a comment citing a released index entry or release tag", () => {
    const source = readFileSync(`${root}/scripts/lib/charts.ts`, 'utf8');
    for (const [key, p] of Object.entries(CHARTS)) {
      assert.match(p.version, /^\d+\.\d+\.\d+$/, `${key} is not pinned to an exact version`);
      const block = source.slice(source.indexOf(`  ${key}: {`), source.indexOf(`version: '${p.version}'`, source.indexOf(`  ${key}: {`)));
      assert.match(block, /index\.yaml, entries\.|[Rr]elease tag /, `CHARTS.${key}: its comment must cite where ${p.version} was read`);
      assert.doesNotMatch(block, /\b(branch|main|master)\b/, `CHARTS.${key}: a branch is no source for a released version`);
    }
    assert.notEqual(CHARTS.loki.version, '8.2.0', 'loki 8.2.0 was never released');
  });
});
