/**
 * The progress reporter (reporters/progress-reporter.ts) fed Playwright's reporter events by
 * hand, as two workers interleave them: `▶` lines for tests and `test.step`s, one GitHub
 * Actions group per requirement in execution order, markers always on a line of their own,
 * silence in a terminal. The real run is in test/wait-progress-playwright.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestCase, TestResult, TestStep } from '@playwright/test/reporter';
import ProgressReporter, { listReporterOptions, stdoutIsTerminal } from '../reporters/progress-reporter.ts';

function testCase(title: string, tags: string[], project = 'api'): TestCase {
  return { title, tags, parent: { project: () => ({ name: project }) } } as unknown as TestCase;
}

function step(title: string, category = 'test.step', parent?: TestStep): TestStep {
  return { title, category, parent } as unknown as TestStep;
}

const result = {} as TestResult;

function reporter(options: { steps?: boolean; githubGroups?: boolean } = {}): { r: ProgressReporter; text: () => string } {
  let out = '';
  const r = new ProgressReporter({ steps: true, githubGroups: true, ...options, write: (t) => void (out += t) });
  return { r, text: () => out };
}

void describe('progress reporter', () => {
  void it('prints a line as each test and each test.step begins, with nested steps as a path; hooks and expects are left out', () => {
    const { r, text } = reporter({ githubGroups: false });
    const t = testCase('a crash-looping pod makes KubePodCrashLooping fire', ['@OBS-06']);
    r.onTestBegin(t, result);
    const outer = step('the alert goes firing');
    r.onStepBegin(t, result, outer);
    r.onStepBegin(t, result, step('expect.toPass', 'expect', outer));
    r.onStepBegin(t, result, step('in Prometheus', 'test.step', step('expect.toPass', 'expect', outer)));
    r.onStepBegin(t, result, step('beforeEach hook', 'hook'));
    assert.equal(
      text(),
      '▶ OBS-06 › a crash-looping pod makes KubePodCrashLooping fire [api]\n' +
        '  ▶ OBS-06 › the alert goes firing\n' +
        '  ▶ OBS-06 › the alert goes firing › in Prometheus\n',
    );
  });

  void it('groups by requirement in execution order; a requirement that comes back after another is "continued"; setup goes by project', () => {
    const { r, text } = reporter();
    const setup = testCase('the run namespace exists', [], 'setup');
    const obs06 = testCase('crash loop fires', ['@OBS-06']);
    const obs05 = testCase('marker lines are found', ['@OBS-05']);
    r.onTestBegin(setup, result);
    r.onTestEnd(setup, result);
    r.onTestBegin(obs06, result);
    // The other worker starts OBS-05 while OBS-06 waits; then OBS-06's wait prints.
    r.onTestBegin(obs05, result);
    r.onStdOut('⏳ OBS-06 waiting 20 s for …\n', obs06);
    r.onStdOut('output outside any test stays where it is\n', undefined);
    r.onTestEnd(obs06, result);
    r.onEnd();
    assert.equal(
      text(),
      [
        '::group::setup',
        '▶ setup › the run namespace exists [setup]',
        '::endgroup::',
        '::group::OBS-06 Critical alerts fire',
        '▶ OBS-06 › crash loop fires [api]',
        '::endgroup::',
        '::group::OBS-05 Log queries work',
        '▶ OBS-05 › marker lines are found [api]',
        '::endgroup::',
        // The chunk itself is the list reporter's to print.
        '::group::OBS-06 Critical alerts fire (continued)',
        '::endgroup::',
        '',
      ].join('\n'),
    );
  });

  void it('starts a marker on a new line when the last output of a worker ended mid-line', () => {
    const { r, text } = reporter();
    const obs06 = testCase('crash loop fires', ['@OBS-06']);
    const obs05 = testCase('marker lines are found', ['@OBS-05']);
    r.onTestBegin(obs06, result);
    r.onStdOut(Buffer.from('progress without a newline'), obs06);
    r.onTestBegin(obs05, result);
    assert.match(text(), /\[api\]\n\n::endgroup::\n::group::OBS-05 Log queries work\n/);
  });

  void it('prints nothing in a terminal, where the list reporter shows steps itself', () => {
    const { r, text } = reporter({ steps: false, githubGroups: false });
    const t = testCase('crash loop fires', ['@OBS-06']);
    r.onTestBegin(t, result);
    r.onStepBegin(t, result, step('the alert goes firing'));
    r.onStdOut('x\n', t);
    r.onTestEnd(t, result);
    r.onEnd();
    assert.equal(text(), '');
    assert.equal(r.printsToStdio(), false);
  });

  void it('decides "terminal" as Playwright does, and has the list reporter print steps only there', () => {
    assert.equal(stdoutIsTerminal({}, { isTTY: true }), true);
    assert.equal(stdoutIsTerminal({}, { isTTY: false }), false);
    assert.equal(stdoutIsTerminal({ PLAYWRIGHT_FORCE_TTY: '0' }, { isTTY: true }), false);
    assert.equal(stdoutIsTerminal({ PLAYWRIGHT_FORCE_TTY: 'false' }, { isTTY: true }), false);
    assert.equal(stdoutIsTerminal({ PLAYWRIGHT_FORCE_TTY: '1' }, { isTTY: false }), true);
    assert.equal(stdoutIsTerminal({ PLAYWRIGHT_FORCE_TTY: '120x40' }, { isTTY: false }), true);
    assert.deepEqual(listReporterOptions({ PLAYWRIGHT_FORCE_TTY: '0' }), { printSteps: false });
    assert.deepEqual(listReporterOptions({ PLAYWRIGHT_FORCE_TTY: '1' }), { printSteps: true });
  });
});
