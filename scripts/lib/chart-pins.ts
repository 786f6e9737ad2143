/**
 * Checks, before anything is built, that every pinned chart version is released in its Helm
 * repository: the same lookup `helm upgrade --install <chart> --repo <repo> --version <v>` makes,
 * done up front so a bad pin stops `cluster:up` in seconds instead of after the cluster and the
 * charts before it were installed.
 *
 * The index format is Helm's (helm/helm pkg/repo/v1/index.go at v4.2.4): `IndexFile` has
 * `apiVersion`, `generated` and `entries` (chart name → list of `ChartVersion`); a `ChartVersion`
 * is the chart's metadata (`name`, `version`, `appVersion`, …) plus `urls`, `created` and
 * `digest`. Helm writes it with `yaml.Marshal` (`IndexFile.WriteFile`), so keys are sorted, maps
 * are indented by two spaces and sequence items sit at their key's indentation; `loadIndex`
 * reads JSON as well. `IndexFile.Get` takes an exact `version` string match first.
 *
 * Cost: one GET of `<repo>/index.yaml` per repository (pins sharing a repository share it),
 * sent with fetch's default `accept-encoding` so static hosts such as GitHub Pages send it
 * compressed (Helm's own index files compress about 15:1). Parsing a whole index with `yaml` takes
 * about 1 s per MB on the 2-core CI machine (2.2 MB: 2.2 s, 4 MB: 4.4 s), far too slow for
 * prometheus-community's index of tens of MB, so a Helm-written index is scanned as text for the
 * chart's entries and only the pinned entry is parsed; an index in any other layout (JSON, another
 * writer's indentation) is parsed whole.
 */
import { parse } from 'yaml';
import { http } from '../../fixtures/core/http.ts';
import { escapeRegex } from '../../fixtures/core/regex.ts';
import type { ChartPin } from './charts.ts';

/** The fields of one released chart version the check reports (Helm's `ChartVersion`). */
export interface IndexEntry {
  version: string;
  appVersion: string | undefined;
  urls: string[];
  /** RFC 3339 time the version was added to the index. */
  created: string | undefined;
  digest: string | undefined;
}

/** What an index says about one chart. */
export interface ChartLookup {
  /** False when the index has no entries for the chart at all. */
  chartFound: boolean;
  /** Every version of the chart, in index order (Helm sorts newest first). */
  versions: string[];
  /** The entry whose version is exactly the one asked for; undefined when it is not released. */
  entry: IndexEntry | undefined;
  /** Charts the index does have, for the message when `chartFound` is false (at most 20). */
  charts: string[];
  /** `scan`: only the matching entry was parsed; `parse`: the whole index was parsed. */
  readBy: 'scan' | 'parse';
}

/** Text that is not a Helm chart repository index. */
export class IndexFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndexFormatError';
  }
}

const unquote = (s: string): string => s.replace(/^(["'])(.*)\1$/, '$2');
/** A scalar from a parsed index as text; undefined for anything else. */
const scalar = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : v instanceof Date ? v.toISOString() : undefined;

/**
 * Looks a chart version up in the text of a repository index (YAML as Helm writes it, or JSON).
 * Inputs: the index text, the chart name, the exact version. Output: see `ChartLookup`.
 * Throws `IndexFormatError` when the text is not a Helm index (no `apiVersion` or `entries`).
 */
export function lookUpChartVersion(indexText: string, chart: string, version: string): ChartLookup {
  // A Helm-written YAML index: `entries:` at column 0, its first chart name two spaces in.
  const helmLayout = /^apiVersion:/m.test(indexText) && /^entries:[ \t]*\r?\n {2}[^\s#-][^\n]*:[ \t]*\r?$/m.test(indexText);
  if (helmLayout) {
    const scanned = scanIndex(indexText, chart, version);
    if (scanned) return scanned;
  }
  return parseIndex(indexText, chart, version);
}

/** The fast path; undefined when the text does not have the layout it relies on. */
function scanIndex(text: string, chart: string, version: string): ChartLookup | undefined {
  // yaml.Marshal quotes a key only when it would read as something else (`"on":`).
  const name = escapeRegex(chart);
  const header = new RegExp(`^ {2}(?:${name}|"${name}"|'${name}'):[ \\t]*\\r?$`, 'm').exec(text);
  if (!header) {
    const charts = [...text.matchAll(/^ {2}([^\s#:-][^:\n]*):[ \t]*\r?$/gm)].map((m) => m[1] ?? '').slice(0, 20);
    return { chartFound: false, versions: [], entry: undefined, charts, readBy: 'scan' };
  }
  const start = header.index + header[0].length;
  // The chart's list ends at the next line indented less than its items (another chart, or a top-level key).
  const end = /^(?:\S| {2}[^\s-])/gm;
  end.lastIndex = start;
  const block = text.slice(start, end.exec(text)?.index ?? text.length);
  // An entry's own `version` sits at four spaces (or on its `  - ` line); a dependency's is deeper.
  const found = [...block.matchAll(/^(?: {2}- | {4})version:[ \t]*(\S+)[ \t]*\r?$/gm)].map((m) => ({ version: unquote(m[1] ?? ''), at: m.index }));
  if (found.length === 0) return undefined;
  const hit = found.find((f) => f.version === version);
  let entry: IndexEntry | undefined;
  if (hit) {
    const itemStart = block.lastIndexOf('\n  - ', hit.at) + 1;
    const next = block.indexOf('\n  - ', hit.at);
    entry = toEntry(parse(block.slice(itemStart, next === -1 ? block.length : next + 1)), version);
  }
  return { chartFound: true, versions: found.map((f) => f.version), entry, charts: [], readBy: 'scan' };
}

/** The general path: the whole index through JSON.parse (as Helm's jsonOrYamlUnmarshal) or yaml. */
function parseIndex(text: string, chart: string, version: string): ChartLookup {
  let doc: unknown;
  try {
    doc = text.trimStart().startsWith('{') ? JSON.parse(text) : parse(text);
  } catch (error) {
    throw new IndexFormatError(`not a Helm chart repository index: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  const index = doc as { apiVersion?: unknown; entries?: unknown } | null;
  if (!index || typeof index !== 'object' || !index.apiVersion || !index.entries || typeof index.entries !== 'object') {
    throw new IndexFormatError('not a Helm chart repository index: no apiVersion or no entries');
  }
  const entries = index.entries as Record<string, unknown>;
  const list = entries[chart];
  if (!Array.isArray(list)) return { chartFound: false, versions: [], entry: undefined, charts: Object.keys(entries).slice(0, 20), readBy: 'parse' };
  const items = list.filter((e): e is Record<string, unknown> => !!e && typeof e === 'object');
  const versions = items.map((e) => scalar(e.version) ?? '');
  const i = versions.indexOf(version);
  return { chartFound: true, versions, entry: i === -1 ? undefined : toEntry([items[i]], version), charts: [], readBy: 'parse' };
}

function toEntry(parsed: unknown, version: string): IndexEntry {
  const e = (Array.isArray(parsed) ? parsed[0] : parsed) as Record<string, unknown> | undefined;
  return {
    // The version as the index spells it: YAML would read an unquoted `1.10` as the number 1.1.
    version,
    appVersion: scalar(e?.appVersion),
    urls: Array.isArray(e?.urls) ? e.urls.flatMap((u) => scalar(u) ?? []) : [],
    created: scalar(e?.created),
    digest: scalar(e?.digest),
  };
}

/** Semver precedence, enough for suggestions: numeric x.y.z, a pre-release below its release. */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([^+]+))?/.exec(v);
    return m ? { n: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] } : undefined;
  };
  const x = split(a);
  const y = split(b);
  if (!x || !y) return a.localeCompare(b);
  for (let i = 0; i < 3; i++) if ((x.n[i] ?? 0) !== (y.n[i] ?? 0)) return (x.n[i] ?? 0) - (y.n[i] ?? 0);
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre.localeCompare(y.pre);
}

/** Released (non pre-release) versions next to `version`: the nearest below, above, and the newest. */
export function nearestVersions(versions: readonly string[], version: string): { below?: string; above?: string; newest?: string } {
  const released = versions.filter((v) => /^v?\d+\.\d+\.\d+$/.test(v)).sort(compareVersions);
  return {
    below: released.filter((v) => compareVersions(v, version) < 0).at(-1),
    above: released.find((v) => compareVersions(v, version) > 0),
    newest: released.at(-1),
  };
}

export interface PinCheckOptions {
  /** Per attempt, for the whole answer including its body (ms). Default 15 000. */
  timeoutMs?: number;
  /** Extra attempts after a transport error or 502/503/504. Default 1. */
  retries?: number;
  /** Where the pins are defined, for the fix in messages. Default scripts/lib/charts.ts. */
  source?: string;
}

/** How one repository index was read. */
export interface IndexRead {
  url: string;
  /** Characters of the (decompressed) index text; undefined when it could not be read. */
  chars: number | undefined;
  elapsedMs: number;
  /** Why it could not be read or understood; undefined when it was. */
  error: string | undefined;
}

export interface PinResult {
  /** The pin's key in the record checked (e.g. `loki` for CHARTS.loki). */
  key: string;
  pin: ChartPin;
  index: IndexRead;
  ok: boolean;
  entry: IndexEntry | undefined;
  /** What is wrong and how to fix it; undefined when ok. */
  problem: string | undefined;
  readBy: 'scan' | 'parse' | undefined;
}

/** `<repo>/index.yaml`, as Helm builds it (a trailing slash on the repository URL is dropped). */
export function indexUrl(repo: string): string {
  return `${repo.replace(/\/+$/, '')}/index.yaml`;
}

/**
 * Checks every pin against its repository's index. Inputs: pins by key (CHARTS), options.
 * Output: one result per pin, in the record's order; never throws for an unreachable or
 * malformed repository, which becomes the problem of each pin it serves. Each index is fetched
 * once, all repositories concurrently, each bounded by `timeoutMs` × (1 + `retries`).
 */
export async function checkChartPins(pins: Readonly<Record<string, ChartPin>>, options: PinCheckOptions = {}): Promise<PinResult[]> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const source = options.source ?? 'scripts/lib/charts.ts';
  const urls = [...new Set(Object.values(pins).map((p) => indexUrl(p.repo)))];
  const reads = new Map(await Promise.all(urls.map(async (url) => [url, await readIndex(url, timeoutMs, options.retries ?? 1)] as const)));

  return Object.entries(pins).map(([key, pin]): PinResult => {
    const url = indexUrl(pin.repo);
    const read = reads.get(url) ?? { info: { url, chars: undefined, elapsedMs: 0, error: 'not read' }, text: undefined };
    const result = (problem: string | undefined, entry?: IndexEntry, readBy?: 'scan' | 'parse'): PinResult => ({ key, pin, index: read.info, ok: problem === undefined, entry, problem, readBy });
    const name = `${pin.chart} ${pin.version}`;
    if (read.text === undefined) {
      return result(
        `${name} not verified: cannot read ${url}: ${read.info.error}. Nothing was created. ` +
          `Check that this machine reaches ${new URL(url).host}, then run the same command again.`,
      );
    }
    let lookup: ChartLookup;
    try {
      lookup = lookUpChartVersion(read.text, pin.chart, pin.version);
    } catch (error) {
      return result(`${name} not verified: ${url} is ${error instanceof Error ? error.message : String(error)}. Is ${pin.repo} the chart's Helm repository?`);
    }
    const where = `CHARTS.${key} in ${source}`;
    if (!lookup.chartFound) {
      return result(
        `chart ${pin.chart} is not in ${url} (${where}); charts there: ${lookup.charts.join(', ') || 'none'}. ` +
          `Fix the repo or chart name of the pin.`,
        undefined,
        lookup.readBy,
      );
    }
    if (!lookup.entry) {
      const near = nearestVersions(lookup.versions, pin.version);
      const around = [near.below && `${near.below} (below)`, near.above && `${near.above} (above)`].filter(Boolean).join(', ');
      return result(
        `${name} is not released: ${url} lists no version ${pin.version} of chart ${pin.chart}, so ` +
          `\`helm upgrade --install --version ${pin.version}\` would stop with "chart version not found".\n` +
          `    released next to it: ${around || 'none'}; newest: ${near.newest ?? 'none'}\n` +
          `    fix: set the version of ${where} to a released version whose values fit the chart's values file in manifests/, ` +
          `its appVersion from the same index entry, and cite that entry (or the release tag) in the pin's comment.`,
        undefined,
        lookup.readBy,
      );
    }
    if (lookup.entry.appVersion !== pin.appVersion) {
      return result(
        `${name} is released but deploys appVersion ${lookup.entry.appVersion ?? '(none)'}, not ${pin.appVersion} as ${where} says. ` +
          `Correct the appVersion there (and anything that relies on it), or pin the chart version that deploys ${pin.appVersion}.`,
        lookup.entry,
        lookup.readBy,
      );
    }
    return result(undefined, lookup.entry, lookup.readBy);
  });
}

async function readIndex(url: string, timeoutMs: number, retries: number): Promise<{ info: IndexRead; text: string | undefined }> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  try {
    const res = await http({ url, timeoutMs, retries, headers: { accept: 'application/x-yaml, text/yaml, application/json;q=0.9, */*;q=0.5' } });
    return { info: { url, chars: res.text.length, elapsedMs: elapsed(), error: undefined }, text: res.text };
  } catch (error) {
    // The helper's timeout also aborts a body still arriving; that surfaces as a bare TimeoutError.
    const message =
      error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
        ? `the answer did not complete within ${timeoutMs} ms`
        : error instanceof Error
          ? error.message.replace(/^GET \S+ → /, '')
          : String(error);
    return { info: { url, chars: undefined, elapsedMs: elapsed(), error: message }, text: undefined };
  }
}

/**
 * The check as `cluster:up`'s first step runs it. Inputs: pins, options, where to write (stdout
 * lines for verified pins, stderr for problems). Output: the process exit code, 0 when every pin
 * is released with the appVersion it claims, 1 otherwise.
 */
export async function runPinCheck(
  pins: Readonly<Record<string, ChartPin>>,
  options: PinCheckOptions & { out?: (line: string) => void; err?: (line: string) => void } = {},
): Promise<number> {
  const out = options.out ?? ((l: string) => console.log(l));
  const err = options.err ?? ((l: string) => console.error(l));
  const results = await checkChartPins(pins, options);
  const seen = new Set<string>();
  for (const r of results) {
    if (seen.has(r.index.url) || r.index.chars === undefined) continue;
    seen.add(r.index.url);
    out(`read ${r.index.url}: ${(r.index.chars / 1e6).toFixed(1)} MB in ${(r.index.elapsedMs / 1000).toFixed(1)} s`);
  }
  for (const r of results.filter((x) => x.ok)) {
    out(`ok  ${r.pin.chart} ${r.pin.version} (appVersion ${r.entry?.appVersion ?? '?'}, added ${r.entry?.created?.slice(0, 10) ?? '?'}) in ${r.index.url}`);
  }
  const bad = results.filter((x) => !x.ok);
  for (const r of bad) err(`BAD ${r.problem ?? ''}`);
  if (bad.length > 0) err(`${bad.length} of ${results.length} chart pins failed the check; no cluster was created.`);
  return bad.length === 0 ? 0 : 1;
}
