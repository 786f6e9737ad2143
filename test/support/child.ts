/**
 * The one way self-tests run a child process (Playwright, promtool, openssl, a script).
 *
 * A child gets a generous limit, never a tight one: the limit exists only so that a hung child
 * cannot hang `npm test`, and how long a child took decides nothing (speed is measured by
 * `npm run bench:fail-fast`). When the limit is reached the child's whole process group is
 * killed (Playwright's workers and browsers with it) and the call throws `ChildTimedOut`,
 * whose message says "timed out after N s" and carries what the child printed, so the failing
 * test shows the cause instead of a later symptom such as a missing report directory.
 * A non-zero exit is not an error here: callers assert on `code` themselves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PLAYWRIGHT_CLI = join(ROOT, 'node_modules/@playwright/test/cli.js');
const SIGNOFF_REPORTER = join(ROOT, 'reporters/signoff-reporter.ts');

/** Default limit for one child, in milliseconds: ten minutes, far above any normal run on a loaded 2-core machine. */
export const CHILD_LIMIT_MS = 600_000;

export interface ChildOptions {
  cwd?: string;
  /** The child's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed. */
  input?: string;
  /** Kill the child after this many milliseconds (default `CHILD_LIMIT_MS`). */
  limitMs?: number;
}

export interface ChildResult {
  /** Exit code; null when a signal ended the child. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A child that was still running at its limit and was killed; the message holds its output. */
export class ChildTimedOut extends Error {
  readonly result: ChildResult;
  constructor(what: string, limitMs: number, result: ChildResult) {
    super(`${what} timed out after ${Math.round(limitMs / 1000)} s and was killed.\n${describeOutput(result)}`);
    this.name = 'ChildTimedOut';
    this.result = result;
  }
}

/** The end of what a child printed, for an assertion message (the last `chars` characters of each stream). */
export function describeOutput(r: Pick<ChildResult, 'stdout' | 'stderr'>, chars = 6_000): string {
  const tail = (s: string) => (s.length > chars ? `…${s.slice(-chars)}` : s) || '(nothing)';
  return `--- stdout ---\n${tail(r.stdout)}\n--- stderr ---\n${tail(r.stderr)}`;
}

const live = new Set<ChildProcess>();
// A child runs in its own process group (so that its own children die with it), which a Ctrl-C
// at the terminal does not reach: the group must not outlive this test file, however it ends.
process.once('exit', () => {
  for (const child of live) killGroup(child);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of live) killGroup(child);
    // Then end as the signal would have ended this process.
    process.kill(process.pid, signal);
  });
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** A child still running: its output so far, a way to signal it, and how it ends. */
export interface RunningChild {
  readonly pid: number | undefined;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` to the child itself (not its group), as a terminal's Ctrl-C reaches the foreground program. */
  signal(signal: NodeJS.Signals): void;
  /** Resolves once the child's stdout matches `pattern`; rejects with its output if it ends first. */
  printed(pattern: RegExp): Promise<void>;
  /** Its end, as `runChild` returns it (and throws). */
  done: Promise<ChildResult>;
}

/**
 * Starts `command args` and returns at once, for a test that acts while the child runs (a
 * signal after it printed something). Same limit and clean-up as `runChild`.
 */
export function startChild(command: string, args: string[], options: ChildOptions = {}): RunningChild {
  const limitMs = options.limitMs ?? CHILD_LIMIT_MS;
  const what = `${command} ${args.join(' ')}`.slice(0, 300);
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  live.add(child);
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  const watchers = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of watchers) w();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // EPIPE when a child exits without reading its input is the child's business, not ours.
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child);
  }, limitMs);
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      live.delete(child);
      reject(new Error(`could not start ${what}: ${err.code ?? ''} ${err.message}`, { cause: err }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      const result = { code, signal, stdout, stderr };
      if (timedOut) reject(new ChildTimedOut(what, limitMs, result));
      else resolve(result);
    });
  });
  return {
    pid: child.pid,
    stdout: () => stdout,
    stderr: () => stderr,
    signal: (sig) => void child.kill(sig),
    printed(pattern) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(stdout)) return;
          watchers.delete(check);
          resolve();
        };
        watchers.add(check);
        check();
        done.then(
          (r) => {
            watchers.delete(check);
            if (!pattern.test(stdout)) reject(new Error(`${what} ended (exit ${r.signal ?? r.code}) without printing ${pattern}\n${describeOutput(r)}`));
          },
          (err: unknown) => {
            watchers.delete(check);
            reject(err instanceof Error ? err : new Error(String(err)));
          },
        );
      });
    },
    done,
  };
}

/**
 * Runs `command args` to its end and returns its exit status and output. Throws `ChildTimedOut`
 * when it runs past `limitMs`, and an Error naming the command when it cannot be started
 * (for instance ENOENT: the program is not installed).
 */
export function runChild(command: string, args: string[], options: ChildOptions = {}): Promise<ChildResult> {
  return startChild(command, args, options).done;
}

/** Like `runChild`, but a non-zero exit throws with the command and its output. */
export async function runChildOk(command: string, args: string[], options: ChildOptions = {}): Promise<ChildResult> {
  const result = await runChild(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.signal ?? result.code}\n${describeOutput(result)}`);
  return result;
}

/** Every variable `.env.example` documents (it lists all the suite reads from the environment). */
const DOCUMENTED = new Set(Array.from(readFileSync(join(ROOT, '.env.example'), 'utf8').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm), (m) => m[1] as string));

/**
 * This process's environment without any of the suite's own variables — those `.env.example`
 * documents and the `OBS_…` ones a runner hands its workers — plus `extra`: a developer's shell
 * (or an earlier run) must not change what a child run selects or reaches.
 */
export function suiteFreeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !DOCUMENTED.has(name) && !name.startsWith('OBS_')));
  return { ...env, ...extra };
}

/** The parts of Playwright's JSON report the self-tests read. */
export interface PlaywrightJsonReport {
  stats: { expected: number; unexpected: number; skipped: number; flaky: number };
  suites: PlaywrightJsonSuite[];
  errors: { message?: string }[];
}
export interface PlaywrightJsonSuite {
  title: string;
  specs: PlaywrightJsonSpec[];
  suites?: PlaywrightJsonSuite[];
}
export interface PlaywrightJsonSpec {
  title: string;
  /** Without the leading "@". */
  tags: string[];
  ok: boolean;
  tests: { projectName: string; status: string; results: { status: string; duration: number; error?: { message?: string } }[] }[];
}

/** Every spec in a JSON report, depth first. */
export function specsOf(suites: PlaywrightJsonSuite[]): PlaywrightJsonSpec[] {
  return suites.flatMap((s) => [...s.specs, ...specsOf(s.suites ?? [])]);
}

export interface PlaywrightRun extends ChildResult {
  /** Playwright's JSON report when `json` was asked for and the run got far enough to write it. */
  report: PlaywrightJsonReport | undefined;
}

/**
 * `playwright test args` as a user runs it (this repository's config unless `-c` is given), with
 * Playwright's own CLI under this Node. With `json: true` the reporters are list, JSON and the
 * sign-off reporter (a `--reporter` replaces the config's; the sign-off reporter must stay, as it
 * hands the run's selection to preflight, `SELECTION_ENV` in fixtures/core/requirements.ts), and
 * the JSON report is returned.
 */
export async function runPlaywright(args: string[], options: ChildOptions & { json?: boolean } = {}): Promise<PlaywrightRun> {
  const dir = options.json ? await mkdtemp(join(tmpdir(), 'obs-pw-json-')) : undefined;
  try {
    const reportFile = dir ? join(dir, 'report.json') : undefined;
    const env = { ...(options.env ?? process.env), ...(reportFile ? { PLAYWRIGHT_JSON_OUTPUT_NAME: reportFile } : {}) };
    const result = await runChild(process.execPath, [PLAYWRIGHT_CLI, 'test', ...(reportFile ? [`--reporter=list,json,${SIGNOFF_REPORTER}`] : []), ...args], { cwd: ROOT, ...options, env });
    const text = reportFile ? await readFile(reportFile, 'utf8').catch(() => undefined) : undefined;
    return { ...result, report: text === undefined ? undefined : (JSON.parse(text) as PlaywrightJsonReport) };
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A new temporary folder `dir` (name starting with `prefix`) holding `suite`, the folder for a
 * synthetic Playwright suite's config and specs; every output of its runs belongs in `dir`,
 * outside `suite`. The sign-off reporter lists the whole suite in a second Playwright while the
 * run goes on, and Playwright's file walk (collectFiles in playwright/lib/runner) fails with
 * ENOENT when a folder under the test root vanishes between its readdir and its visit, which a
 * run's output folders do (seen once on a loaded machine: the list could not be read, and OBS-03
 * read "no test carries this tag"). The caller removes `dir`.
 */
export function syntheticSuiteDirs(prefix: string): { dir: string; suite: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const suite = join(dir, 'suite');
  mkdirSync(suite);
  return { dir, suite };
}
