/**
 * `npm run selftest [-- [--test-name-pattern <regexp>]… [<test file>…]]`
 *
 * The self-tests `test/*.test.ts` (or the files named) under node:test: the files that were
 * short last time one after another in one shared process, each other file in its own process,
 * 8 processes at a time, longest first (why, and how the durations are kept: scripts/lib/
 * selftest-order.ts; they live in node_modules/.cache/obs-acceptance). Files named on the
 * command line each get their own process. Output is node:test's spec reporter; the exit status
 * is 1 when any test failed, as `node --test`'s; 130 after Ctrl-C and 143 after SIGTERM, which stop
 * every test process. node:test's `run()` is used because the command
 * line sorts the files it is given by name (Node 24), which is the order this exists to change.
 */
import { globSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { parseArgs } from 'node:util';
import { loadDurations, planSelftest, saveDurations, SHARED_FILES_ENV } from './lib/selftest-order.ts';

const ROOT = resolve(import.meta.dirname, '..');
const DURATIONS = join(ROOT, 'node_modules/.cache/obs-acceptance/selftest-durations.json');
const SHARED_PROCESS = join(ROOT, 'test/support/shared-process.ts');
const USAGE = `Usage: npm run selftest [-- [--test-name-pattern <regexp>]… [<test file>…]]
  Runs test/*.test.ts (or the files given, each in its own process), longest first.`;

let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: { 'test-name-pattern': { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } } });
} catch (err) {
  console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  process.exit(2);
}
if (parsed.values.help) {
  console.log(USAGE);
  process.exit(0);
}

// npm runs scripts in the repository root; a file is named relative to where npm was started.
const given = parsed.positionals.map((f) => relative(ROOT, resolve(process.env.INIT_CWD ?? process.cwd(), f)));
const jobs = given.length ? given.map((f) => ({ files: [f] })) : planSelftest(globSync('test/*.test.ts', { cwd: ROOT }).sort(), loadDurations(DURATIONS));
const shared = jobs.find((j) => j.files.length > 1)?.files ?? [];
// Read by test/support/shared-process.ts in its child; the suite's own runs drop OBS_ variables.
if (shared.length) process.env[SHARED_FILES_ENV] = JSON.stringify(shared.map((f) => join(ROOT, f)));

// Ctrl-C or a CI job's SIGTERM: node:test's run() sets no handler of its own, and the test
// processes must not outlive this one. Aborting stops them; the run then ends as the signal would.
const abort = new AbortController();
let interrupted: number | undefined;
for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    interrupted = status;
    process.exitCode = status;
    abort.abort();
  });
}

const sharedFiles = new Set(shared);
const measured = new Map<string, number>();
const stream = run({
  files: jobs.map((j) => (j.files.length > 1 ? SHARED_PROCESS : join(ROOT, j.files[0] as string))),
  concurrency: 8,
  cwd: ROOT,
  testNamePatterns: parsed.values['test-name-pattern'],
  signal: abort.signal,
});
// A file's duration: its process's summary, or in the shared process its top-level tests added
// up (there `file` is where a test was declared).
const record = (e: { nesting: number; file?: string; details: { duration_ms: number } }) => {
  const file = e.file && relative(ROOT, e.file);
  if (e.nesting === 0 && file && sharedFiles.has(file)) measured.set(file, (measured.get(file) ?? 0) + e.details.duration_ms);
};
stream.on('test:pass', record);
stream.on('test:fail', record);
// One summary per process, then one for the whole run (no file): its `success` is the exit status.
stream.on('test:summary', (e) => {
  if (!e.file) {
    if (interrupted === undefined) process.exitCode = e.success ? 0 : 1;
  } else if (e.file !== SHARED_PROCESS) {
    measured.set(relative(ROOT, e.file), e.duration_ms);
  }
});
stream.once('end', () => {
  // Only a whole run is recorded: one file alone is not the contention the layout is for.
  if (!given.length && !parsed.values['test-name-pattern'] && interrupted === undefined) void saveDurations(DURATIONS, measured).catch((err: unknown) => console.error(`selftest: durations not saved: ${String(err)}`));
});
stream.compose(spec).pipe(process.stdout);
