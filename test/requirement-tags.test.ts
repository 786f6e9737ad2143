/**
 * Every requirement is selectable on its own: `npx playwright test --grep "@OBS-0N\b"` lists
 * that requirement's spec tests (API and, where it has them, UI) and nothing of another,
 * plus only the preflight/setup/teardown projects. Checked with Playwright's own listing.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { REQUIREMENT_IDS } from '../fixtures/core/requirements.ts';
import { describeOutput, runPlaywright } from './support/child.ts';

interface Listed {
  project: string;
  title: string;
  tags: string[];
}

async function list(args: string[]): Promise<Listed[]> {
  const run = await runPlaywright(['--list', '--reporter=json', ...args], { env: { ...process.env, OBS_ENV_FILE: '/nonexistent.env' } });
  if (run.code !== 0) throw new Error(`playwright test --list ${args.join(' ')} exited with ${run.code}\n${describeOutput(run)}`);
  const json = run.stdout;
  interface Suite {
    specs?: { title: string; tags: string[]; tests: { projectName: string }[] }[];
    suites?: Suite[];
  }
  const out: Listed[] = [];
  const walk = (s: Suite) => {
    for (const spec of s.specs ?? []) for (const t of spec.tests) out.push({ project: t.projectName, title: spec.title, tags: spec.tags.map((x) => `@${x}`) });
    for (const child of s.suites ?? []) walk(child);
  };
  for (const s of (JSON.parse(json) as { suites: Suite[] }).suites) walk(s);
  return out;
}

const SUPPORT_PROJECTS = new Set(['preflight', 'setup', 'teardown']);

describe('requirement tags', () => {
  let specTests: Listed[];
  let grep05: Listed[];
  // Both listings at once: each is a Playwright start-up.
  before(async () => {
    const [all, listed] = await Promise.all([list([]), list(['--grep', '@OBS-05\\b'])]);
    specTests = all.filter((t) => !SUPPORT_PROJECTS.has(t.project));
    grep05 = listed;
  });

  it('every spec test carries exactly one @OBS-0N tag', () => {
    const wrong = specTests.filter((t) => t.tags.filter((tag) => /^@OBS-0\d$/.test(tag)).length !== 1);
    assert.deepEqual(wrong, []);
  });

  it('every requirement has at least one spec test', () => {
    const missing = REQUIREMENT_IDS.filter((id) => !specTests.some((t) => t.tags.includes(`@${id}`)));
    assert.deepEqual(missing, []);
  });

  it('--grep "@OBS-05\\b" lists exactly the OBS-05 API and UI tests, plus preflight, setup and teardown', () => {
    const listed = grep05;
    const specs = listed.filter((t) => !SUPPORT_PROJECTS.has(t.project));
    assert.deepEqual(
      specs.map((t) => t.project).sort(),
      ['api', 'ui'],
      `listed: ${specs.map((t) => `[${t.project}] ${t.title}`).join('; ')}`,
    );
    assert.ok(specs.every((t) => t.tags.includes('@OBS-05')));
    assert.deepEqual(
      specs.map((t) => t.title).sort(),
      specTests.filter((t) => t.tags.includes('@OBS-05')).map((t) => t.title).sort(),
    );
    assert.ok(listed.some((t) => t.project === 'preflight'), 'preflight runs with any selection');
  });
});
