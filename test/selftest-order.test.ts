/**
 * The layout of `npm run selftest` (scripts/lib/selftest-order.ts): which files share a process
 * and in which order the processes start. The figures are recorded durations; nothing here is
 * timed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadDurations, planSelftest, saveDurations, SHARED_BELOW_MS, SHARED_FILES_ENV } from '../scripts/lib/selftest-order.ts';
import { runChild } from './support/child.ts';

const dir = mkdtempSync(join(tmpdir(), 'obs-selftest-order-'));
after(() => rmSync(dir, { recursive: true, force: true }));

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
  void it('runs the tests of every file it is given, and a file that cannot load fails under its own name while the others still run', async () => {
    const good = join(dir, 'good.test.ts');
    const bad = join(dir, 'bad.test.ts');
    const failing = join(dir, 'failing.test.ts');
    writeFileSync(good, `import { test } from 'node:test';\ntest('good passes', () => {});\n`);
    writeFileSync(bad, `throw new Error('bad file throws while loading');\n`);
    writeFileSync(failing, `import { test } from 'node:test';\ntest('failing fails', () => { throw new Error('as it should'); });\n`);
    const shared = join(import.meta.dirname, 'support/shared-process.ts');
    // Without NODE_TEST_CONTEXT: set, it makes a nested `node --test` report to this runner instead of running.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const r = await runChild(process.execPath, ['--test', '--test-reporter=tap', shared], { env: { ...env, [SHARED_FILES_ENV]: JSON.stringify([good, bad, failing]) } });
    const out = r.stdout;
    assert.equal(r.code, 1, out);
    assert.match(out, /^ok \d+ - good passes$/m);
    assert.match(out, new RegExp(`^not ok \\d+ - ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} could not be loaded$`, 'm'));
    assert.match(out, /bad file throws while loading/);
    assert.match(out, /^not ok \d+ - failing fails$/m);
    assert.match(out, /^# pass 1$/m);
    assert.match(out, /^# fail 2$/m);
  });
});
