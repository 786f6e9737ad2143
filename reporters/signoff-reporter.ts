/**
 * Playwright reporter that writes `signoff.md` and `signoff.json` next to the HTML report:
 * per requirement OBS-01 … OBS-08 passed / failed / not run, its tests, durations and key
 * figures, and the versions of the stack the run was made against.
 *
 * The selection is the suite Playwright resolved (`onBegin`), whatever filtered it; the
 * reporter hands it to the workers before they start (`SELECTION_ENV`), and compares the run
 * with the suite's full test list to call a run full or partial.
 *
 * List it after the `html` reporter: the HTML reporter empties its folder when it writes.
 * A full run that Playwright calls passed but in which a requirement ran no test is turned
 * into a failed run, because it cannot sign the phase off (`failIncompleteRun: false` to keep
 * Playwright's status).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { FullConfig, FullResult, Reporter, Suite, TestCase, TestError } from '@playwright/test/reporter';
import { PROBLEM_ANNOTATION } from '../fixtures/core/evidence.ts';
import { redact } from '../fixtures/core/redact.ts';
import { loadConfig, type SuiteConfig } from '../fixtures/core/config.ts';
import { needsOf, requirementsOfTests, SELECTION_ENV, selectionToEnv, type RequirementId } from '../fixtures/core/requirements.ts';
import { kubeTarget } from '../fixtures/kube/connection.ts';
import { listFullSuite, titleOf, type FullSuiteListing, type InventoryTest } from './inventory.ts';
import { renderMarkdown } from './signoff-markdown.ts';
import { summarize, type RunContext, type SignoffSummary, type TestRecord } from './signoff-model.ts';

export interface SignoffReporterOptions {
  /** Folder for signoff.md/json; relative to the config file. Default: OBS_REPORT_DIR or playwright-report. */
  outputFolder?: string;
  /** Turn a passed full run that cannot be signed off into a failed one. Default true. */
  failIncompleteRun?: boolean;
  /**
   * Compare the run with the suite's full test list (`playwright test --list` in a child
   * process, beside the run) to find tests a filter left out. Default true; without it a run
   * is never called full.
   */
  listFullSuite?: boolean;
  /**
   * Folder (relative to the config file) in which to keep the full test list between runs,
   * keyed by the content of the config's git work tree (`fullSuiteKey` in inventory.ts). Only
   * for a config whose test list depends on its files alone, never on the environment.
   * Default: none, every run lists the suite.
   */
  fullSuiteListCache?: string;
}

/** expect() messages carry ANSI colours, which do not belong in a markdown table. */
const firstLine = (text: string): string => stripVTControlCharacters(text).split('\n').find((l) => l.trim())?.trim() ?? '';

/** Reads a TestCase the way the sign-off needs it: last attempt decides, durations add up. */
export function toRecord(test: TestCase, rootDir?: string): TestRecord {
  const last = test.results.at(-1);
  const annotations = new Map<string, { type: string; description?: string }>();
  // Runtime annotations live on the result; static ones on the test. Both, once each.
  for (const a of [...test.annotations, ...(last?.annotations ?? [])]) {
    const plain = a.description === undefined ? { type: a.type } : { type: a.type, description: a.description };
    annotations.set(`${a.type}\0${a.description ?? ''}`, plain);
  }
  const error = last?.errors[0]?.message ?? last?.error?.message;
  const problems = [...annotations.values()].filter((a) => a.type === PROBLEM_ANNOTATION && a.description).map((a) => a.description as string);
  const record: TestRecord = {
    title: titleOf(test),
    project: test.parent.project()?.name ?? '',
    location: `${rootDir ? relative(rootDir, test.location.file) : test.location.file}:${test.location.line}`,
    tags: test.tags,
    status: last?.status,
    outcome: test.outcome(),
    durationMs: test.results.reduce((sum, r) => sum + Math.max(0, r.duration), 0),
    retries: Math.max(0, test.results.length - 1),
    annotations: [...annotations.values()],
  };
  if (error) record.error = redact(firstLine(error));
  // Preflight records its problems one by one; any other failure is its message up to the diff.
  if (record.status && record.status !== 'passed' && record.status !== 'skipped') {
    const causes = problems.length ? problems : error ? [causeOf(error)] : [];
    if (causes.length) record.causes = causes.map(redact);
  }
  return record;
}

/** An error message as a cause: without colours, the matcher's diff and the code frame. */
export function causeOf(message: string): string {
  const plain = stripVTControlCharacters(message);
  const cut = plain.search(/\n\s*(expect\(|Expected:|Received:|Call log:|\d+ \|)/);
  return (cut > 0 ? plain.slice(0, cut) : plain).trim().slice(0, 4000);
}

/** Project → every project it depends on, directly or through another (`dependencies` in the config). */
export function projectDependencies(config: Pick<FullConfig, 'projects'> | undefined): Record<string, string[]> {
  const direct = new Map((config?.projects ?? []).map((p) => [p.name, p.dependencies]));
  const out: Record<string, string[]> = {};
  for (const name of direct.keys()) {
    const seen = new Set<string>();
    const visit = (n: string) => {
      for (const d of direct.get(n) ?? []) {
        if (seen.has(d)) continue;
        seen.add(d);
        visit(d);
      }
    };
    visit(name);
    out[name] = [...seen];
  }
  return out;
}

const regexSource = (r: RegExp | RegExp[] | null | undefined): string | undefined => {
  const list = r ? (Array.isArray(r) ? r : [r]) : [];
  const shown = list.map(String).filter((s) => s !== '/.*/');
  return shown.length ? shown.join(' ') : undefined;
};

/**
 * What left tests of the suite out of this run, for the sign-off: the tests of the full list
 * (`inventory`) that the run does not hold, by requirement, and a grep in the config file,
 * which filters the full list as well and so must be named on its own. Tests a filter removed
 * never reach a reporter; only the comparison with the full list shows them.
 */
export function excludedBy(
  config: Pick<FullConfig, 'grep' | 'grepInvert'> | undefined,
  inventory: { tests: InventoryTest[] } | { error: string } | undefined,
  runIds: ReadonlySet<string>,
): { excluded: string[]; leftOut: InventoryTest[] } {
  const excluded: string[] = [];
  const grep = regexSource(config?.grep);
  const grepInvert = regexSource(config?.grepInvert);
  if (grep) excluded.push(`grep in the config: ${grep}`);
  if (grepInvert) excluded.push(`grep-invert in the config: ${grepInvert}`);
  if (!inventory) return { excluded, leftOut: [] };
  if ('error' in inventory) {
    excluded.push(`the suite's full test list could not be read, so tests left out cannot be ruled out (${inventory.error})`);
    return { excluded, leftOut: [] };
  }
  const leftOut = inventory.tests.filter((t) => !runIds.has(t.id));
  if (leftOut.length) {
    const byRequirement = new Map<string, number>();
    for (const t of leftOut) {
      const ids = requirementsOfTests([t]);
      const key = ids.length ? ids.join('+') : 'untagged (preflight, setup, teardown)';
      byRequirement.set(key, (byRequirement.get(key) ?? 0) + 1);
    }
    const parts = [...byRequirement].map(([k, n]) => `${k}: ${n}`).join(', ');
    excluded.push(`${leftOut.length} of the suite's ${inventory.tests.length} tests left out of this run (${parts})`);
  }
  return { excluded, leftOut };
}

/** The command line as a reader would type it: `playwright test …`, secrets redacted. */
export function commandOf(argv: readonly string[]): string | undefined {
  const at = argv.findIndex((a) => /(^|[/\\])(playwright|cli\.js)$/.test(a));
  const words = at >= 0 ? ['playwright', ...argv.slice(at + 1)] : argv.slice(1);
  if (!words.length) return undefined;
  return redact(words.map((w) => (/^[\w@./:=,+-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`)).join(' '));
}

/** The suite's commit, "+ uncommitted changes" when the work tree differs from it; or why it is unknown. */
export function suiteCommit(dir: string): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const head = git('rev-parse', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return `${head}${dirty ? ' + uncommitted changes' : ''}`;
  } catch {
    return process.env.GITHUB_SHA ? `${process.env.GITHUB_SHA} (GITHUB_SHA; not a git work tree here)` : `unknown (${dir} is not a git work tree)`;
  }
}

/**
 * What the runner knows before any test runs of where this run will go: the cluster named by
 * the kube config when the selection needs one (read, not contacted), and the endpoints the
 * selected requirements use as configured.
 */
export function startContext(config: SuiteConfig, selected: RequirementId[]): Omit<RunContext, 'suiteCommit' | 'endTime'> {
  const needs = needsOf(selected, config);
  let kubernetes: RunContext['kubernetes'] = { needed: false };
  if (needs.kubernetes) {
    try {
      kubernetes = { needed: true, ...kubeTarget(config.kube) };
    } catch (err) {
      kubernetes = { needed: true, error: err instanceof Error ? err.message : String(err) };
    }
  }
  const endpoints = needs.components.map((component) => {
    const ep = config.endpoints[component];
    return { component, configured: ep.kind === 'url' ? ep.url : `${ep.namespace}/${ep.service}:${ep.port}` };
  });
  return { kubernetes, endpoints, warnings: config.warnings };
}

/** The line printed at start: which cluster the run acts on, and where that choice came from. */
export function kubernetesLine(k: RunContext['kubernetes']): string | undefined {
  if (!('context' in k)) return undefined;
  const why = k.contextFrom === 'KUBE_CONTEXT' ? 'KUBE_CONTEXT' : "the kube config's current context; KUBE_CONTEXT is not set";
  return `obs-acceptance: Kubernetes context ${k.context} (${why}), API server ${k.server}, kube config ${k.kubeconfig}`;
}

export default class SignoffReporter implements Reporter {
  private readonly options: SignoffReporterOptions;
  private config: FullConfig | undefined;
  private suite: Suite | undefined;
  private listing: FullSuiteListing | undefined;
  private context: Omit<RunContext, 'endTime'> | undefined;
  private readonly errors: string[] = [];
  /** The last summary written, for whoever drives the reporter in-process (self-tests). */
  summary: SignoffSummary | undefined;
  outputFolder: string | undefined;

  constructor(options: SignoffReporterOptions = {}) {
    this.options = options;
  }

  printsToStdio(): boolean {
    return false;
  }

  /**
   * Playwright calls this with the suite it resolved, after every filter and before any worker
   * starts. The requirements of those tests are this run's selection: workers inherit the
   * runner's environment, so preflight and setup read it from `SELECTION_ENV`.
   */
  onBegin(config: FullConfig, suite: Suite): void {
    this.config = config;
    this.suite = suite;
    const selected = requirementsOfTests(suite.allTests());
    process.env[SELECTION_ENV] = selectionToEnv(selected);
    if (isListing()) return;
    if (this.options.listFullSuite !== false) {
      const base = config.configFile ? dirname(config.configFile) : config.rootDir;
      const cacheDir = this.options.fullSuiteListCache === undefined ? undefined : resolve(base, this.options.fullSuiteListCache);
      this.listing = listFullSuite(config, cacheDir ? { cacheDir } : {});
    }
    let suiteConfig: SuiteConfig | undefined;
    try {
      suiteConfig = loadConfig();
    } catch {
      // playwright.config.ts has already said what is wrong with the configuration.
    }
    const start = suiteConfig ? startContext(suiteConfig, selected) : { kubernetes: { needed: false as const }, endpoints: [], warnings: [] };
    this.context = { suiteCommit: suiteCommit(config.configFile ? dirname(config.configFile) : process.cwd()), ...start };
    // A run without KUBE_CONTEXT goes wherever the kube config points: say where, before anything is touched.
    const line = kubernetesLine(start.kubernetes);
    if (line) console.log(line);
  }

  /** A spec that does not load leaves no test behind: without this the page would only say "no test". */
  onError(error: TestError): void {
    const where = error.location ? ` (${relative(this.config?.rootDir ?? process.cwd(), error.location.file)}:${error.location.line})` : '';
    this.errors.push(redact(firstLine(error.message ?? error.value ?? 'unknown error')) + where);
  }

  async onEnd(result: FullResult): Promise<{ status: FullResult['status'] } | undefined> {
    // `--list` runs nothing: there is nothing to sign off, and listing must not fail.
    if (isListing()) return undefined;
    // An interrupted run is not signed off whatever the list says: do not keep the user waiting for it.
    if (result.status === 'interrupted') this.listing?.cancel();
    const inventory = await this.listing?.result;
    return this.finish(result, inventory);
  }

  private finish(result: FullResult, inventory: { tests: InventoryTest[] } | { error: string } | undefined): { status: FullResult['status'] } | undefined {
    const config = this.config;
    const tests = this.suite?.allTests() ?? [];
    const listed = inventory ?? { error: 'the reporter was configured not to list it (listFullSuite: false)' };
    const { excluded, leftOut } = excludedBy(config, listed, new Set(tests.map((t) => t.id)));
    const command = commandOf(config?.argv ?? process.argv);
    const run = {
      status: result.status,
      startTime: result.startTime.toISOString(),
      durationMs: result.duration,
      selected: requirementsOfTests(tests),
      dependencies: projectDependencies(config),
      ...(command ? { command } : {}),
      ...(process.env.OBS_RUN_ID ? { runId: process.env.OBS_RUN_ID } : {}),
      ...(this.errors.length ? { errors: [...this.errors] } : {}),
      ...(excluded.length ? { excluded } : {}),
      ...(this.context ? { context: { ...this.context, endTime: new Date(result.startTime.getTime() + result.duration).toISOString() } } : {}),
    };
    const records = [...tests.map((t) => toRecord(t, config?.rootDir)), ...leftOut.map(leftOutRecord)];
    const summary = summarize(records, run);
    this.summary = summary;

    const base = config?.configFile ? dirname(config.configFile) : process.cwd();
    const folder = resolve(base, this.options.outputFolder ?? process.env.OBS_REPORT_DIR ?? 'playwright-report');
    this.outputFolder = folder;
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'signoff.json'), redact(JSON.stringify(summary, null, 2)) + '\n');
    writeFileSync(join(folder, 'signoff.md'), redact(renderMarkdown(summary)));

    const shown = summary.blockers.slice(0, 10).map((b) => `\n  - ${b}`).join('');
    const more = summary.blockers.length > 10 ? `\n  … ${summary.blockers.length - 10} more` : '';
    console.log(`\nSign-off: ${summary.signedOff ? 'SIGNED OFF' : 'NOT SIGNED OFF'}${shown}${more}\n  ${join(folder, 'signoff.md')}`);

    const incomplete = summary.run.scope === 'full' && !summary.signedOff && result.status === 'passed';
    if (incomplete && this.options.failIncompleteRun !== false) {
      console.log('  The run passed but not every requirement ran: marking it failed.');
      return { status: 'failed' };
    }
    return undefined;
  }
}

/** `playwright test --list` also calls reporters; it runs nothing and has nothing to sign off. */
function isListing(): boolean {
  return process.argv.includes('--list');
}

/** A test of the suite this run did not include, as the sign-off lists it. */
function leftOutRecord(t: InventoryTest): TestRecord {
  return { title: t.title, project: t.project, location: t.location, tags: t.tags, status: undefined, outcome: 'skipped', durationMs: 0, retries: 0, annotations: [], inRun: false };
}
