/**
 * The layout of `npm run selftest` (scripts/lib/selftest-order.ts): which files share a process
 * and in which order the processes start. The figures are recorded durations; nothing here is
 * timed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadDurations, planSelftest, saveDurations, SHARED_BELOW_MS, SHARED_FILES_ENV } from '../scripts/lib/selftest-order.ts';
import { runChild, startChild } from './support/child.ts';

const dir = mkdtempSync(join(tmpdir(), 'obs-selftest-order-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// Without NODE_TEST_CONTEXT: set, it makes a nested `node --test` report to this runner instead of running.
const { NODE_TEST_CONTEXT: _, ...env } = process.env;

const layout = (jobs: ReturnType<typeof planSelftest>) => jobs.map((j) => j.files.join('+'));

void describe('npm run selftest lays out its files from the last durations', () => {
  void it('with no durations (a fresh clone) every file gets its own process, in the order given', () => {
    assert.deepEqual(layout(planSelftest(['a', 'b', 'c'], {})), ['a', 'b', 'c']);
  });

  void it('starts the longest first; files with no figure start before all of them', () => {
    const jobs = planSelftest(['a', 'b', 'c', 'new'], { a: 4_000, b: 90_000, c: 30_000 });
    assert.deepEqual(layout(jobs), ['new', 'b', 'c', 'a']);
    assert.deepEqual(
      jobs.map((j) => j.ms),
      [undefined, 90_000, 30_000, 4_000],
    );
  });

  void it('files just under the limit share one process, placed by their sum; a file at the limit keeps its own', () => {
    const jobs = planSelftest(['short1', 'long', 'atLimit', 'short2', 'mid'], { short1: SHARED_BELOW_MS - 1, long: 60_000, atLimit: SHARED_BELOW_MS, short2: 2, mid: 5_000 });
    assert.deepEqual(layout(jobs), ['long', 'mid', 'short1+short2', 'atLimit']);
    assert.equal(jobs[2]?.ms, SHARED_BELOW_MS + 1);
  });

  void it('one short file alone keeps its own process (sharing would save nothing)', () => {
    assert.deepEqual(layout(planSelftest(['x', 'y'], { x: 10, y: 9_000 })), ['y', 'x']);
  });

  void it('a missing, broken or foreign durations file costs only the layout', () => {
    assert.deepEqual(loadDurations(join(dir, 'absent.json')), {});
    writeFileSync(join(dir, 'broken.json'), '{');
    assert.deepEqual(loadDurations(join(dir, 'broken.json')), {});
    writeFileSync(join(dir, 'array.json'), '[1,2]');
    assert.deepEqual(loadDurations(join(dir, 'array.json')), {});
    writeFileSync(join(dir, 'mixed.json'), JSON.stringify({ ok: 12, text: '5', negative: -1, nan: null }));
    assert.deepEqual(loadDurations(join(dir, 'mixed.json')), { ok: 12 });
  });

  void it('a new record replaces the old one: a file that is gone leaves it', async () => {
    const path = join(dir, 'cache', 'durations.json');
    await saveDurations(path, new Map([['a', 10.4], ['gone', 20]]));
    await saveDurations(path, new Map([['a', 30.6]]));
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { a: 31 });
    assert.deepEqual(loadDurations(path), { a: 31 });
  });
});

void describe('the shared process (real node:test runs of test/support/shared-process.ts)', () => {
  const shared = join(import.meta.dirname, 'support/shared-process.ts');
  const runShared = (files: string[], args: string[] = []) =>
    runChild(process.execPath, ['--test', '--test-reporter=tap', ...args, shared], { env: { ...env, [SHARED_FILES_ENV]: JSON.stringify(files) } });
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const good = write('good.test.ts', `import { test } from 'node:test';\ntest('good passes', () => {});\n`);
  const bad = write('bad.test.ts', `throw new Error('bad file throws while loading');\n`);
  const failing = write('failing.test.ts', `import { test } from 'node:test';\ntest('failing fails', () => { throw new Error('as it should'); });\n`);
  const exiting = write('exiting.test.ts', `import { test } from 'node:test';\ntest('exiting calls process.exit(0)', () => { process.exit(0); });\n`);
  const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

  void it('runs the tests of every file it is given, and a file that cannot load fails under its own name while the others still run', async () => {
    const r = await runShared([good, bad, failing]);
    const out = r.stdout;
    assert.equal(r.code, 1, out);
    assert.match(out, /^ok \d+ - good passes$/m);
    assert.match(out, new RegExp(`^not ok \\d+ - ${escaped(bad)} could not be loaded$`, 'm'));
    assert.match(out, /bad file throws while loading/);
    assert.match(out, /^not ok \d+ - failing fails$/m);
    assert.match(out, /^# pass 1$/m);
    assert.match(out, /^# fail 2$/m);
  });

  void it('a file that cannot load fails the run even when a name pattern leaves its failing test out', async () => {
    const r = await runShared([good, bad], ['--test-name-pattern=good passes']);
    assert.match(r.stdout, /^ok \d+ - good passes$/m);
    assert.equal(r.code, 1, r.stdout);
  });

  void it('process.exit in a test fails that test instead of ending the process: an earlier failure and later files are still reported', async () => {
    const r = await runShared([failing, exiting, good]);
    const out = r.stdout;
    assert.equal(r.code, 1, out);
    assert.match(out, /^not ok \d+ - failing fails$/m);
    assert.match(out, /^not ok \d+ - exiting calls process\.exit\(0\)$/m);
    assert.match(out, /process\.exit\(0\) in the shared self-test process/);
    assert.match(out, /^ok \d+ - good passes$/m);
  });
});

void describe('npm run selftest itself (real runs of scripts/selftest.ts)', () => {
  const selftest = join(import.meta.dirname, '../scripts/selftest.ts');

  void it('exits 1 naming the failed test when a file named on the command line fails', async () => {
    const failing = join(dir, 'named-failing.test.ts');
    writeFileSync(failing, `import { test } from 'node:test';\ntest('named failing fails', () => { throw new Error('as it should'); });\n`);
    const r = await runChild(process.execPath, [selftest, failing], { env });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /✖ named failing fails/);
  });

  void it('Ctrl-C stops the test processes and exits 130', async () => {
    const pidFile = join(dir, 'hanging.pid');
    const hanging = join(dir, 'hanging.test.ts');
    writeFileSync(
      hanging,
      `import { writeFileSync } from 'node:fs';\nimport { test } from 'node:test';\ntest('hangs until stopped', async () => {\n  writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));\n  console.error('hanging test started');\n  await new Promise(() => setInterval(() => undefined, 1_000));\n});\n`,
    );
    const child = startChild(process.execPath, [selftest, hanging], { env });
    // The test's stderr reaches the reporter as it is written; once it is there, the file's pid is on disk.
    await child.printed(/hanging test started/);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    child.signal('SIGINT');
    const r = await child.done;
    assert.equal(r.code, 130, `${r.stdout}\n${r.stderr}`);
    assert.equal(isRunning(pid), false, 'the test process outlived the runner');
    assert.ok(existsSync(pidFile));
  });
});

/** Whether a process with this pid exists (signal 0 only asks). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
