/**
 * Playwright reporter that writes `signoff.md` and `signoff.json` next to the HTML report:
 * per requirement OBS-01 … OBS-08 passed / failed / not run, its tests, durations and key
 * figures, and the versions of the stack the run was made against.
 *
 * List it after the `html` reporter: the HTML reporter empties its folder when it writes.
 * A full run that Playwright calls passed but in which a requirement ran no test is turned
 * into a failed run, because it cannot sign the phase off (`failIncompleteRun: false` to keep
 * Playwright's status).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { FullConfig, FullResult, Reporter, Suite, TestCase, TestError } from '@playwright/test/reporter';
import { redact } from '../fixtures/core/redact.ts';
import { cliGrepFromArgv, selectedRequirements, type RequirementId } from '../fixtures/core/requirements.ts';
import { renderMarkdown } from './signoff-markdown.ts';
import { summarize, type SignoffSummary, type TestRecord } from './signoff-model.ts';

export interface SignoffReporterOptions {
  /** Folder for signoff.md/json; relative to the config file. Default: OBS_REPORT_DIR or playwright-report. */
  outputFolder?: string;
  /** Turn a passed full run that cannot be signed off into a failed one. Default true. */
  failIncompleteRun?: boolean;
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
  const record: TestRecord = {
    // titlePath is [root, project, file, ...describes, title]: keep what a reader calls the test.
    title: test.titlePath().slice(3).filter(Boolean).join(' › ') || test.title,
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
  return record;
}

const regexSource = (r: RegExp | RegExp[] | null | undefined): string | undefined => {
  const list = r ? (Array.isArray(r) ? r : [r]) : [];
  const shown = list.map(String).filter((s) => s !== '/.*/');
  return shown.length ? shown.join(' ') : undefined;
};

/**
 * What this run selects. FullConfig.grep holds only the config file's grep; the CLI's
 * `--grep`/`--grep-invert` filter separately, so they are read from the runner's argv
 * (or OBS_GREP, which playwright.config.ts sets from it). Both filters apply.
 */
export function runSelection(config: Pick<FullConfig, 'grep' | 'grepInvert'> | undefined, argv: string[], env: NodeJS.ProcessEnv): {
  selected: RequirementId[];
  grep?: string;
  grepInvert?: string;
} {
  const cli = cliGrepFromArgv(argv);
  const grep = cli.grep ?? (env.OBS_GREP || undefined);
  const grepInvert = cli.grepInvert ?? (env.OBS_GREP_INVERT || undefined);
  const byConfig = selectedRequirements(config?.grep, config?.grepInvert);
  const byCli = selectedRequirements(grep ? new RegExp(grep) : undefined, grepInvert ? new RegExp(grepInvert) : undefined);
  const shownGrep = [regexSource(config?.grep), grep].filter(Boolean).join(' ');
  const shownInvert = [regexSource(config?.grepInvert), grepInvert].filter(Boolean).join(' ');
  return {
    selected: byConfig.filter((id) => byCli.includes(id)),
    ...(shownGrep ? { grep: shownGrep } : {}),
    ...(shownInvert ? { grepInvert: shownInvert } : {}),
  };
}

/**
 * Filters that leave tests out of this run: a grep, a grep-invert (`--grep-invert @ui` drops
 * the browser tests of OBS-02, -05 and -07 without deselecting any requirement) and projects
 * of the config that did not run (`--project api`). Tests a filter removed never reach the
 * reporter, so only the filter itself can say the run is not a full sign-off.
 */
export function excludedBy(selection: { grep?: string; grepInvert?: string }, config: Pick<FullConfig, 'projects'> | undefined, suite: Pick<Suite, 'suites'> | undefined): string[] {
  const out: string[] = [];
  if (selection.grep) out.push(`--grep ${selection.grep}`);
  if (selection.grepInvert) out.push(`--grep-invert ${selection.grepInvert}`);
  const ran = new Set((suite?.suites ?? []).map((s) => s.project()?.name));
  const notRun = (config?.projects ?? []).map((p) => p.name).filter((name) => !ran.has(name));
  if (suite && notRun.length) out.push(`project${notRun.length === 1 ? '' : 's'} not in the run: ${notRun.join(', ')}`);
  return out;
}

export default class SignoffReporter implements Reporter {
  private readonly options: SignoffReporterOptions;
  private config: FullConfig | undefined;
  private suite: Suite | undefined;
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

  onBegin(config: FullConfig, suite: Suite): void {
    this.config = config;
    this.suite = suite;
  }

  /** A spec that does not load leaves no test behind: without this the page would only say "no test". */
  onError(error: TestError): void {
    const where = error.location ? ` (${relative(this.config?.rootDir ?? process.cwd(), error.location.file)}:${error.location.line})` : '';
    this.errors.push(redact(firstLine(error.message ?? error.value ?? 'unknown error')) + where);
  }

  onEnd(result: FullResult): Promise<{ status: FullResult['status'] } | undefined> {
    return Promise.resolve(this.finish(result));
  }

  private finish(result: FullResult): { status: FullResult['status'] } | undefined {
    // `--list` runs nothing: there is nothing to sign off, and listing must not fail.
    if (process.argv.includes('--list')) return undefined;
    const config = this.config;
    const tests = this.suite?.allTests() ?? [];
    const selection = runSelection(config, process.argv, process.env);
    const excluded = excludedBy(selection, config, this.suite);
    const run = {
      status: result.status,
      startTime: result.startTime.toISOString(),
      durationMs: result.duration,
      ...selection,
      ...(process.env.OBS_RUN_ID ? { runId: process.env.OBS_RUN_ID } : {}),
      ...(this.errors.length ? { errors: [...this.errors] } : {}),
      ...(excluded.length ? { excluded } : {}),
    };
    const summary = summarize(tests.map((t) => toRecord(t, config?.rootDir)), run);
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
