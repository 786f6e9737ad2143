/**
 * The stages of `.ci/run` (.ci/stages.sh): however the script ends, the caller's cleanup runs,
 * the table names each stage and the one that failed, and the script exits with the failing
 * command's status. A real bash runs small scripts that source the file as .ci/run does; before
 * this test the trap ran the cleanup first and then exited with the cleanup's status (0), so a
 * failed CI stage printed FAILED and still passed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeOutput, runChild } from './support/child.ts';

const STAGES = fileURLToPath(new URL('../.ci/stages.sh', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'obs-ci-stages-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs `body` after sourcing .ci/stages.sh under `set -euo pipefail`, with a cleanup that says it ran. */
async function script(name: string, body: string) {
  const file = join(work, `${name}.sh`);
  writeFileSync(file, `set -euo pipefail\nsource ${JSON.stringify(STAGES)}\ncleanup() { echo "cleanup ran"; return 0; }\n${body}\n`);
  const r = await runChild('bash', [file]);
  return { ...r, out: r.stdout + r.stderr, where: describeOutput(r) };
}

void describe('.ci/run stages (.ci/stages.sh, real bash)', () => {
  void it('a failing stage ends the run with its own exit status, after the cleanup, named FAILED in the table', async () => {
    const r = await script('fails', 'stage first true\nstage second bash -c "exit 3"\nstage never true');
    assert.equal(r.code, 3, r.where);
    assert.match(r.out, /== first\n== second\ncleanup ran\n== stage durations \(s\)\n {3}first +\d+\.\d\n {3}second +\d+\.\d {2}FAILED \(exit 3\)\n {3}total +\d+\.\d\n$/, r.where);
    assert.doesNotMatch(r.out, /== never/);
  });

  void it('a cleanup that fails does not hide a failed stage, nor fail a run that passed', async () => {
    const failing = await script('cleanup-fails', 'cleanup() { return 7; }\nstage only false');
    assert.equal(failing.code, 1, failing.where);
    const passing = await script('passes', 'cleanup() { return 7; }\nstage only true');
    assert.equal(passing.code, 0, passing.where);
    assert.doesNotMatch(passing.out, /FAILED/);
  });

  void it('a run whose stages all pass exits 0 with every stage in the table', async () => {
    const r = await script('passes-all', 'stage a true\nstage b true');
    assert.equal(r.code, 0, r.where);
    assert.match(r.out, /cleanup ran\n== stage durations \(s\)\n {3}a +\d+\.\d\n {3}b +\d+\.\d\n {3}total/, r.where);
  });
});
