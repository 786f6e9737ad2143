/**
 * The sign-off as data: from plain test records (what the reporter reads off Playwright's
 * TestCase/TestResult) to a per-requirement verdict, the key figures and the stack's
 * fingerprint. Pure, so the self-tests feed it synthetic runs without a browser or a cluster.
 *
 * Contracts with the suite:
 * - a test belongs to requirement OBS-0N when it carries the tag `@OBS-0N` (TestCase.tags);
 * - key figures are annotations of type `obs-figure`, JSON `{name, value, unit?}` (fixtures/core/evidence.ts);
 * - the stack's versions are annotations of type `obs-fingerprint`, JSON `{component, version}`,
 *   recorded by any test (preflight does); component names match EXPECTED_COMPONENTS ignoring case.
 */
import { FIGURE_ANNOTATION, FINGERPRINT_ANNOTATION, type Figure } from '../fixtures/core/evidence.ts';
import { REQUIREMENTS, REQUIREMENT_IDS, type RequirementId } from '../fixtures/core/requirements.ts';

export { FINGERPRINT_ANNOTATION };

export interface FingerprintEntry {
  component: string;
  version: string;
}

/**
 * What the sign-off expects to be recorded (compared ignoring case): the Kubernetes gitVersion,
 * each component's own version, the Alloy image tag, and charts as `chart/<name>` with the
 * chart version from the release's `helm.sh/chart` label.
 */
export const EXPECTED_COMPONENTS = [
  'kubernetes',
  'prometheus',
  'alertmanager',
  'loki',
  'grafana',
  'alloy',
  'chart/kube-prometheus-stack',
  'chart/loki',
  'chart/alloy',
] as const;

export type TestStatus = 'passed' | 'failed' | 'timedOut' | 'interrupted' | 'skipped';

/** One test as the reporter saw it (last attempt decides; durations add up over retries). */
export interface TestRecord {
  title: string;
  project: string;
  location: string;
  tags: string[];
  /** Status of the last attempt; undefined when the test never started. */
  status: TestStatus | undefined;
  /** Playwright's outcome(): 'expected' also covers a test.fail() that failed as declared. */
  outcome: 'skipped' | 'expected' | 'unexpected' | 'flaky';
  durationMs: number;
  retries: number;
  /** First line of the first error, already redacted. */
  error?: string;
  annotations: { type: string; description?: string }[];
  /**
   * False for a test of the suite that this run left out (a `--grep`, file argument,
   * `--project`, `--last-failed`, … removed it); such a test is listed, never run.
   */
  inRun?: boolean;
  /**
   * For a failed test: what it found wrong, verbatim and redacted (preflight's problems, or the
   * error message), named on every requirement its failure kept from running.
   */
  causes?: string[];
}

export type Verdict = 'passed' | 'failed' | 'not run';

/** A failed test of a project the requirement's tests depend on (preflight, setup), and why it failed. */
export interface BlockedBy {
  test: string;
  project: string;
  causes: string[];
}

export interface TestSummary {
  title: string;
  project: string;
  location: string;
  verdict: Verdict;
  /** Playwright's status of the last attempt; 'not started', or 'left out' when this run did not include it. */
  status: TestStatus | 'not started' | 'left out';
  durationMs: number;
  retries: number;
  error?: string;
  figures: Figure[];
}

export interface RequirementSummary {
  id: RequirementId;
  title: string;
  verdict: Verdict;
  /** Whether any of its tests was in this run (the selection Playwright resolved). */
  selected: boolean;
  /** Why the verdict, in one sentence. */
  reason: string;
  /** notRun counts the tests of the run that did not run; leftOut those the run did not include. */
  counts: { passed: number; failed: number; notRun: number; leftOut: number };
  durationMs: number;
  tests: TestSummary[];
  figures: (Figure & { test: string })[];
  /** When its tests did not run because preflight or setup failed: that test and its causes. */
  blockedBy?: BlockedBy[];
}

export interface RunInfo {
  /** Playwright's FullResult.status. */
  status: 'passed' | 'failed' | 'timedout' | 'interrupted';
  startTime: string;
  durationMs: number;
  runId?: string;
  /** The command line, for the reader (the selection is taken from the tests Playwright resolved, not from it). */
  command?: string;
  /** Requirements with at least one test in this run (the selection Playwright resolved). */
  selected: RequirementId[];
  /**
   * Project name → the projects it depends on, directly or not (`dependencies` in the config):
   * a failed test there keeps this project's tests from running.
   */
  dependencies?: Record<string, string[]>;
  /** Errors outside any test (a spec that does not load, a failing global setup), first line each. */
  errors?: string[];
  /**
   * What left tests of the suite out of this run (tests left out, a grep in the config, a full
   * list that could not be read): such a run is partial, whatever it passed.
   */
  excluded?: string[];
}

export interface SignoffSummary {
  schemaVersion: 1;
  generatedAt: string;
  signedOff: boolean;
  /** Every reason the phase is not signed off; empty when it is. */
  blockers: string[];
  run: RunInfo & { scope: 'full' | 'partial' };
  requirements: RequirementSummary[];
  fingerprint: {
    components: (FingerprintEntry & { recordedBy: string })[];
    missing: string[];
    /** Components recorded with different versions by different tests. */
    conflicts: { component: string; versions: string[] }[];
  };
  /** Figures from tests that belong to no requirement (setup, preflight). */
  otherFigures: (Figure & { test: string })[];
  /** Tags that look like requirement tags but name none (typos such as @OBS-9). */
  unknownRequirementTags: { tag: string; test: string }[];
}

export function testVerdict(t: Pick<TestRecord, 'status' | 'outcome'>): Verdict {
  if (t.status === undefined || t.status === 'skipped' || t.outcome === 'skipped') return 'not run';
  if (t.status === 'interrupted' || t.status === 'timedOut') return 'failed';
  return t.outcome === 'expected' || t.outcome === 'flaky' ? 'passed' : 'failed';
}

function parseJson<T>(text: string | undefined, valid: (v: unknown) => v is T): T | undefined {
  if (!text) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return valid(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

const isFigure = (v: unknown): v is Figure =>
  isObject(v) &&
  typeof v.name === 'string' &&
  (typeof v.value === 'number' || typeof v.value === 'string') &&
  (v.unit === undefined || typeof v.unit === 'string');

const isFingerprint = (v: unknown): v is FingerprintEntry =>
  isObject(v) && typeof v.component === 'string' && typeof v.version === 'string' && v.component !== '';

export function figuresOf(t: Pick<TestRecord, 'annotations'>): Figure[] {
  return t.annotations
    .filter((a) => a.type === FIGURE_ANNOTATION)
    .map((a) => parseJson(a.description, isFigure))
    .filter((f): f is Figure => f !== undefined);
}

export function fingerprintsOf(t: Pick<TestRecord, 'annotations'>): FingerprintEntry[] {
  return t.annotations
    .filter((a) => a.type === FINGERPRINT_ANNOTATION)
    .map((a) => parseJson(a.description, isFingerprint))
    .filter((f): f is FingerprintEntry => f !== undefined);
}

const REQUIREMENT_TAG = /^@OBS-\d+$/;

export function requirementsOf(tags: readonly string[]): RequirementId[] {
  return REQUIREMENT_IDS.filter((id) => tags.includes(`@${id}`));
}

function summarizeTest(t: TestRecord): TestSummary {
  const s: TestSummary = {
    title: t.title,
    project: t.project,
    location: t.location,
    verdict: t.inRun === false ? 'not run' : testVerdict(t),
    status: t.inRun === false ? 'left out' : (t.status ?? 'not started'),
    durationMs: t.durationMs,
    retries: t.retries,
    figures: figuresOf(t),
  };
  if (t.error !== undefined) s.error = t.error;
  return s;
}

function requirementSummary(id: RequirementId, tests: TestRecord[], blockedBy: BlockedBy[]): RequirementSummary {
  const summaries = tests.map(summarizeTest);
  const inRun = summaries.filter((s) => s.status !== 'left out');
  const selected = inRun.length > 0;
  const counts = {
    passed: summaries.filter((s) => s.verdict === 'passed').length,
    failed: summaries.filter((s) => s.verdict === 'failed').length,
    notRun: inRun.filter((s) => s.verdict === 'not run').length,
    leftOut: summaries.length - inRun.length,
  };
  const ran = counts.passed + counts.failed;
  let verdict: Verdict;
  let reason: string;
  if (counts.failed > 0) {
    verdict = 'failed';
    reason = ran === 1 ? 'its one test that ran failed' : `${counts.failed} of the ${ran} tests that ran failed`;
  } else if (counts.passed > 0 && counts.notRun === 0 && counts.leftOut === 0) {
    verdict = 'passed';
    reason = ran === 1 ? 'its one test that ran passed' : `all ${ran} tests that ran passed`;
  } else if (counts.passed > 0) {
    // A skipped or left-out test is a criterion nobody checked (OBS-06 with
    // ALERT_WAIT_UNTIL=pending never sees the alert fire; `--project api` drops the browser
    // tests): the passed ones do not show the requirement holds.
    verdict = 'not run';
    const missing = [
      ...(counts.notRun ? [`${counts.notRun} did not run (skipped or stopped before)`] : []),
      ...(counts.leftOut ? [`${counts.leftOut} ${counts.leftOut === 1 ? 'was' : 'were'} left out of this run`] : []),
    ];
    reason = `only ${counts.passed} of its ${tests.length} tests ran and passed; ${missing.join(' and ')}, so it is not shown in full`;
  } else if (blockedBy.length) {
    verdict = 'not run';
    const first = blockedBy[0] as BlockedBy;
    reason = `blocked: ${first.project} failed ("${first.test}")${blockedBy.length > 1 ? ` and ${blockedBy.length - 1} more` : ''}: ${firstLineOf(first.causes[0] ?? 'no cause recorded')}`;
  } else {
    verdict = 'not run';
    reason = !selected && tests.length > 0
      ? 'not selected by this run'
      : tests.length === 0
        ? 'no test carries this tag'
        : `none of its ${tests.length} test${tests.length === 1 ? '' : 's'} ran (skipped or stopped before)`;
  }
  return {
    id,
    title: REQUIREMENTS[id].title,
    verdict,
    selected,
    reason,
    counts,
    durationMs: tests.reduce((sum, t) => sum + t.durationMs, 0),
    tests: summaries,
    figures: summaries.flatMap((s) => s.figures.map((f) => ({ ...f, test: s.title }))),
    ...(blockedBy.length && verdict === 'not run' ? { blockedBy } : {}),
  };
}

const firstLineOf = (text: string): string => text.split('\n').find((l) => l.trim())?.trim() ?? '';

/**
 * The failed tests that kept `tests` from running: failed tests of the projects the not-run
 * tests' projects depend on (Playwright skips every dependent of a failed project).
 */
export function blockersOf(tests: readonly TestRecord[], all: readonly TestRecord[], dependencies: Record<string, string[]> | undefined): BlockedBy[] {
  if (!dependencies) return [];
  const notRun = tests.filter((t) => t.inRun !== false && testVerdict(t) === 'not run');
  const upstream = new Set(notRun.flatMap((t) => dependencies[t.project] ?? []));
  return all
    .filter((t) => t.inRun !== false && upstream.has(t.project) && testVerdict(t) === 'failed')
    .map((t) => ({ test: t.title, project: t.project, causes: t.causes?.length ? t.causes : [t.error ?? 'no error message recorded'] }));
}

function fingerprint(tests: readonly TestRecord[]): SignoffSummary['fingerprint'] {
  // Keyed by lower-case name: preflight records `prometheus`, a reader may write `Prometheus`.
  const seen = new Map<string, { versions: Set<string>; first: FingerprintEntry & { recordedBy: string } }>();
  for (const t of tests) {
    for (const f of fingerprintsOf(t)) {
      const key = f.component.toLowerCase();
      const entry = seen.get(key);
      if (entry) entry.versions.add(f.version);
      else seen.set(key, { versions: new Set([f.version]), first: { ...f, recordedBy: t.title } });
    }
  }
  const order = (c: string) => {
    const i = (EXPECTED_COMPONENTS as readonly string[]).indexOf(c.toLowerCase());
    return i === -1 ? EXPECTED_COMPONENTS.length : i;
  };
  const components = [...seen.values()].map((e) => e.first).sort((a, b) => order(a.component) - order(b.component) || a.component.localeCompare(b.component));
  return {
    components,
    missing: EXPECTED_COMPONENTS.filter((c) => !seen.has(c)),
    conflicts: [...seen.values()].filter((e) => e.versions.size > 1).map((e) => ({ component: e.first.component, versions: [...e.versions] })),
  };
}

/** The sign-off of one run. `tests` are all tests the run collected, run or not. */
export function summarize(tests: readonly TestRecord[], run: RunInfo, now: Date = new Date()): SignoffSummary {
  const requirements = REQUIREMENT_IDS.map((id) => {
    const own = tests.filter((t) => t.tags.includes(`@${id}`));
    return requirementSummary(id, own, blockersOf(own, tests, run.dependencies));
  });
  const allSelected = REQUIREMENT_IDS.every((id) => run.selected.includes(id));
  // Full means nothing of the suite was left out; a requirement without any test is then a
  // blocker of its own ("no test carries this tag"), not a narrower selection.
  const scope = run.excluded?.length ? 'partial' : 'full';
  // In a partial run the requirements it did not select are said once, in the "partial run" line.
  const blockers = requirements
    .filter((r) => r.verdict !== 'passed' && (scope === 'full' || r.selected))
    .map((r) => `${r.id} ${r.verdict}: ${r.reason}`);
  if (run.excluded?.length) blockers.unshift(`filtered run: ${run.excluded.join('; ')}`);
  if (scope === 'partial' && !allSelected) blockers.unshift(`partial run: only ${run.selected.join(', ') || 'no requirement'} selected`);
  for (const e of [...(run.errors ?? [])].reverse()) blockers.unshift(`error outside the tests: ${e}`);
  return {
    schemaVersion: 1,
    generatedAt: now.toISOString(),
    // A spec that failed to load may have held tests of a requirement that now looks complete.
    signedOff: scope === 'full' && requirements.every((r) => r.verdict === 'passed') && !run.errors?.length,
    blockers,
    run: { ...run, scope },
    requirements,
    fingerprint: fingerprint(tests),
    otherFigures: tests
      .filter((t) => t.inRun !== false && requirementsOf(t.tags).length === 0)
      .flatMap((t) => figuresOf(t).map((f) => ({ ...f, test: t.title }))),
    unknownRequirementTags: tests.flatMap((t) =>
      t.tags.filter((tag) => REQUIREMENT_TAG.test(tag) && !REQUIREMENT_IDS.includes(tag.slice(1) as RequirementId)).map((tag) => ({ tag, test: t.title })),
    ),
  };
}
