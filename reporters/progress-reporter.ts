/**
 * Playwright reporter that shows a run as it happens in a log that is not a terminal (CI):
 * `▶ OBS-06 › <test>` when a test begins and `  ▶ OBS-06 › <step>` when a `test.step` begins,
 * and, on GitHub Actions, one collapsible `::group::` per requirement in execution order.
 *
 * It runs beside the list reporter, listed before it, and never replaces it: list keeps the
 * per-test results, the relayed stdout of workers (where waits print their progress lines) and
 * the failure summary at the end. In a log, list writes a line only when a test ends, so a
 * 17-minute test is silent without this reporter. In a terminal list draws its rows in place
 * (it moves the cursor up by the rows it wrote itself), which any second writer would corrupt;
 * there list shows each step as it begins (`printSteps`, see `listReporterOptions`) and this
 * reporter prints nothing.
 *
 * Groups: every line that belongs to a test (its begin, steps, output, result) is preceded by
 * the `::group::` of its requirement when another group is open. With two workers, requirements
 * interleave; a group reopened later is titled "(continued)". Preflight, setup and teardown
 * are grouped by project. GitHub Actions has no nested groups: a group ends where the next begins.
 */
import type { FullConfig, Reporter, Suite, TestCase, TestResult, TestStep } from '@playwright/test/reporter';
import { REQUIREMENT_IDS, REQUIREMENTS, type RequirementId } from '../fixtures/core/requirements.ts';

export interface ProgressReporterOptions {
  /** Print `▶` lines. Default: when stdout is not a terminal (see `stdoutIsTerminal`). */
  steps?: boolean;
  /** Emit `::group::`/`::endgroup::` per requirement. Default: on GitHub Actions (GITHUB_ACTIONS=true) and not a terminal. */
  githubGroups?: boolean;
  /** Where the text goes (self-tests). Default: stdout, the stream the list reporter writes to. */
  write?: (text: string) => void;
}

/**
 * Whether Playwright's terminal reporters draw on a terminal, decided as Playwright does
 * (playwright/lib/runner terminalScreen): stdout is a TTY unless PLAYWRIGHT_FORCE_TTY says
 * `false`/`0`; any other value of PLAYWRIGHT_FORCE_TTY forces a terminal.
 */
export function stdoutIsTerminal(env: NodeJS.ProcessEnv = process.env, stdout: { isTTY?: boolean } = process.stdout): boolean {
  const forced = env.PLAYWRIGHT_FORCE_TTY;
  if (forced === 'false' || forced === '0') return false;
  if (forced) return true;
  return !!stdout.isTTY;
}

/** The list reporter's options that go with this reporter: steps as they begin, in a terminal only. */
export function listReporterOptions(env: NodeJS.ProcessEnv = process.env): { printSteps: boolean } {
  return { printSteps: stdoutIsTerminal(env) };
}

interface Group {
  key: string;
  title: string;
  /** What the `▶` lines start with: `OBS-06`, `setup`. */
  label: string;
}

export default class ProgressReporter implements Reporter {
  private readonly steps: boolean;
  private readonly groups: boolean;
  private readonly out: (text: string) => void;
  private open: string | undefined;
  private readonly opened = new Set<string>();
  /** The last stdout chunk ended mid-line: a marker must start on a line of its own. */
  private midLine = false;

  constructor(options: ProgressReporterOptions = {}) {
    const terminal = stdoutIsTerminal();
    this.steps = options.steps ?? !terminal;
    this.groups = options.githubGroups ?? (process.env.GITHUB_ACTIONS === 'true' && !terminal);
    this.out = options.write ?? ((text) => void process.stdout.write(text));
  }

  printsToStdio(): boolean {
    return this.steps || this.groups;
  }

  onBegin(_config: FullConfig, _suite: Suite): void {
    this.open = undefined;
    this.opened.clear();
  }

  onTestBegin(test: TestCase, _result: TestResult): void {
    const group = this.enter(test);
    if (this.steps) this.write(`▶ ${group.label} › ${test.title} [${projectOf(test)}]`);
  }

  onStepBegin(test: TestCase, _result: TestResult, step: TestStep): void {
    if (step.category !== 'test.step') return;
    const group = this.enter(test);
    if (this.steps) this.write(`  ▶ ${group.label} › ${stepPath(step).join(' › ')}`);
  }

  onStdOut(chunk: string | Buffer, test: TestCase | undefined): void {
    // Output outside a test (a worker starting) stays in whatever group is open.
    if (test) this.enter(test);
    // The list reporter, next in line, writes this chunk as it is.
    const text = chunk.toString();
    if (text.length) this.midLine = !text.endsWith('\n');
  }

  onStdErr(_chunk: string | Buffer, test: TestCase | undefined): void {
    // stderr is another stream; only the group matters here.
    if (test) this.enter(test);
  }

  onTestEnd(test: TestCase, _result: TestResult): void {
    // The list reporter prints the result line right after: inside the test's group.
    this.enter(test);
  }

  onEnd(): void {
    // Before list's summary, which belongs to no requirement.
    this.close();
  }

  /** Opens the test's group unless it is the open one; returns it. */
  private enter(test: TestCase): Group {
    const group = groupOf(test);
    if (!this.groups || this.open === group.key) return group;
    this.close();
    const again = this.opened.has(group.key);
    this.write(`::group::${group.title}${again ? ' (continued)' : ''}`);
    this.open = group.key;
    this.opened.add(group.key);
    return group;
  }

  private close(): void {
    if (!this.groups || this.open === undefined) return;
    this.write('::endgroup::');
    this.open = undefined;
  }

  private write(text: string): void {
    this.out(`${this.midLine ? '\n' : ''}${text}\n`);
    this.midLine = false;
  }
}

/** The requirement a test is tagged with, or its project for preflight, setup and teardown. */
function groupOf(test: TestCase): Group {
  const id = test.tags.map((t) => t.replace(/^@/, '')).find((t): t is RequirementId => (REQUIREMENT_IDS as string[]).includes(t));
  if (id) return { key: id, title: `${id} ${REQUIREMENTS[id].title}`, label: id };
  const project = projectOf(test);
  return { key: `project:${project}`, title: project, label: project };
}

function projectOf(test: TestCase): string {
  return test.parent.project()?.name || 'tests';
}

/** `outer › inner` for nested `test.step`s; hooks and expects between them are left out. */
function stepPath(step: TestStep): string[] {
  const path: string[] = [];
  for (let s: TestStep | undefined = step; s; s = s.parent) if (s.category === 'test.step') path.unshift(s.title);
  return path;
}
