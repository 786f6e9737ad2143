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
import { FIGURE_ANNOTATION, FINGERPRINT_ANNOTATION, RUN_RECORD_ANNOTATION, type Figure, type RunRecordEntry } from '../fixtures/core/evidence.ts';
import { REQUIREMENTS, REQUIREMENT_IDS, type RequirementId } from '../fixtures/core/requirements.ts';
import { SIMULATED_PARTS, simulatedVersionSource, type SimulatedParts } from '../fixtures/run/simulation.ts';

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
  /** When the run's cluster is simulated (kwok) and the requirement was selected: what its result rests on that was simulated or not live. */
  simulation?: SimulatedParts;
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
  /** What the reporter knows of where the run ran; the tests add what they learnt (run-record annotations). */
  context?: RunContext;
  /**
   * What left tests of the suite out of this run (tests left out, a grep in the config, a full
   * list that could not be read): such a run is partial, whatever it passed.
   */
  excluded?: string[];
}

/** Where and when a run ran, as the runner process knows it (no request made). */
export interface RunContext {
  /** The suite's commit (`git rev-parse HEAD`, "+ uncommitted changes" when the tree differs), or why unknown. */
  suiteCommit: string;
  endTime: string;
  /** The cluster read from the kube config at start, when the selected requirements need one. */
  kubernetes:
    | { needed: false }
    | { needed: true; context: string; server: string; kubeconfig: string; contextFrom: 'KUBE_CONTEXT' | 'current-context' }
    | { needed: true; error: string };
  /** The endpoints the selected requirements use, as configured. */
  endpoints: { component: string; configured: string }[];
  /** Configuration warnings (variables that look like the suite's own but are not). */
  warnings: string[];
}

export interface EndpointRecord {
  component: string;
  configured: string;
  /** What was reached; absent when no test got as far as reaching it. */
  used?: string;
  how?: string;
  substitute: boolean;
}

/** Where the run ran and what it changed, for whoever signs: one place, in signoff.md and signoff.json. */
export interface RunEnvironment {
  suiteCommit: string;
  runId?: string;
  startTime: string;
  endTime?: string;
  kubernetes: {
    used: boolean;
    context?: string;
    /** KUBE_CONTEXT, or the kube config's current context (KUBE_CONTEXT not set). */
    contextFrom?: 'KUBE_CONTEXT' | 'current-context';
    server?: string;
    kubeconfig?: string;
    /** The API server's version, when preflight reached it. */
    version?: string;
    /** Set when preflight found kwok playing the nodes (fixtures/run/simulation.ts): which nodes, by which marks. */
    simulated?: { simulator: string; nodes: number; simulatedNodes: string[]; evidence: string };
    /** One sentence for a reader. */
    summary: string;
  };
  endpoints: EndpointRecord[];
  /** Objects the phase's manifests left in the cluster on purpose, and the test that applied them. */
  changes: { object: string; why: string; by: string }[];
  warnings: string[];
  /** Diagnostics of failed tests that were not gathered, each source and reason once, with how many tests it concerned. */
  diagnosticsNotGathered: { source: string; state: string; reason: string; tests: number }[];
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
    /** `notLive`: on a simulated cluster, why the version was not read from a running component. */
    components: (FingerprintEntry & { recordedBy: string; notLive?: string })[];
    missing: string[];
    /** Components recorded with different versions by different tests. */
    conflicts: { component: string; versions: string[] }[];
  };
  /** Figures from tests that belong to no requirement (setup, preflight). */
  otherFigures: (Figure & { test: string })[];
  /** Tags that look like requirement tags but name none (typos such as @OBS-9). */
  unknownRequirementTags: { tag: string; test: string }[];
  environment: RunEnvironment;
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

const isRunRecord = (v: unknown): v is RunRecordEntry => isObject(v) && typeof v.kind === 'string';

export function runRecordsOf(t: Pick<TestRecord, 'annotations'>): RunRecordEntry[] {
  return t.annotations
    .filter((a) => a.type === RUN_RECORD_ANNOTATION)
    .map((a) => parseJson(a.description, isRunRecord))
    .filter((r): r is RunRecordEntry => r !== undefined);
}

/**
 * The run's environment: the reporter's context (commit, times, the cluster at start, the
 * configured endpoints) merged with what the tests recorded (the API server preflight reached,
 * each endpoint as reached, objects left on purpose, diagnostics not gathered).
 */
export function environmentOf(tests: readonly TestRecord[], run: RunInfo): RunEnvironment {
  const records = tests.filter((t) => t.inRun !== false).flatMap((t) => runRecordsOf(t).map((r) => ({ r, test: t.title })));
  const ctx = run.context;
  const reached = records.map((x) => x.r).find((r): r is Extract<RunRecordEntry, { kind: 'kubernetes' }> => r.kind === 'kubernetes');
  const simulation = records.map((x) => x.r).find((r): r is Extract<RunRecordEntry, { kind: 'simulation' }> => r.kind === 'simulation');
  const atStart = ctx?.kubernetes;
  const target = atStart && 'context' in atStart ? atStart : undefined;
  const kubernetes: RunEnvironment['kubernetes'] = { used: Boolean(reached || atStart?.needed), summary: '' };
  const context = reached?.context ?? target?.context;
  if (context) kubernetes.context = context;
  if (target) kubernetes.contextFrom = target.contextFrom;
  const server = reached?.server ?? target?.server;
  if (server) kubernetes.server = server;
  const kubeconfig = reached?.kubeconfig ?? target?.kubeconfig;
  if (kubeconfig) kubernetes.kubeconfig = kubeconfig;
  if (reached) kubernetes.version = reached.version;
  if (simulation) {
    const { kind: _kind, ...simulated } = simulation;
    kubernetes.simulated = simulated;
  }
  const chosen = target?.contextFrom === 'current-context' ? " (the kube config's current context: KUBE_CONTEXT is not set)" : target ? ' (KUBE_CONTEXT)' : '';
  kubernetes.summary = context
    ? `context ${context}${chosen}, API server ${server ?? '?'}${reached ? ` (${reached.version}, reached by preflight)` : ' (not reached in this run)'}, kube config ${kubeconfig ?? '?'}` +
      (simulation ? `; a SIMULATED cluster: ${simulation.evidence}` : '')
    : atStart && 'error' in atStart
      ? `needed, but the kube config could not be read: ${atStart.error.split('\n')[0] ?? ''}`
      : 'not used: no selected requirement needs the cluster and every endpoint it uses is a URL';

  const endpoints = new Map<string, EndpointRecord>();
  for (const e of ctx?.endpoints ?? []) endpoints.set(e.component, { component: e.component, configured: e.configured, substitute: false });
  for (const { r } of records) {
    if (r.kind !== 'endpoint') continue;
    endpoints.set(r.component, { component: r.component, configured: r.configured, used: r.used, how: r.how, substitute: r.substitute });
  }
  const changes = new Map<string, RunEnvironment['changes'][number]>();
  for (const { r, test } of records) if (r.kind === 'change' && !changes.has(r.object)) changes.set(r.object, { object: r.object, why: r.why, by: test });
  const missing = new Map<string, RunEnvironment['diagnosticsNotGathered'][number]>();
  for (const { r } of records) {
    if (r.kind !== 'diagnostics') continue;
    const key = `${r.source}\0${r.state}\0${r.reason}`;
    const seen = missing.get(key);
    if (seen) seen.tests++;
    else missing.set(key, { source: r.source, state: r.state, reason: r.reason, tests: 1 });
  }
  const env: RunEnvironment = {
    suiteCommit: ctx?.suiteCommit ?? 'unknown',
    startTime: run.startTime,
    kubernetes,
    endpoints: [...endpoints.values()],
    changes: [...changes.values()],
    warnings: ctx?.warnings ?? [],
    diagnosticsNotGathered: [...missing.values()],
  };
  if (run.runId) env.runId = run.runId;
  if (ctx?.endTime) env.endTime = ctx.endTime;
  return env;
}

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

function fingerprint(tests: readonly TestRecord[], simulated: boolean): SignoffSummary['fingerprint'] {
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
  const components = [...seen.values()]
    .map((e) => {
      const notLive = simulated ? simulatedVersionSource(e.first.component) : undefined;
      return notLive ? { ...e.first, notLive } : e.first;
    })
    .sort((a, b) => order(a.component) - order(b.component) || a.component.localeCompare(b.component));
  return {
    components,
    missing: EXPECTED_COMPONENTS.filter((c) => !seen.has(c)),
    conflicts: [...seen.values()].filter((e) => e.versions.size > 1).map((e) => ({ component: e.first.component, versions: [...e.versions] })),
  };
}

/** The sign-off of one run. `tests` are all tests the run collected, run or not. */
export function summarize(tests: readonly TestRecord[], run: RunInfo, now: Date = new Date()): SignoffSummary {
  const environment = environmentOf(tests, run);
  const simulated = environment.kubernetes.simulated;
  const requirements = REQUIREMENT_IDS.map((id) => {
    const own = tests.filter((t) => t.tags.includes(`@${id}`));
    const summary = requirementSummary(id, own, blockersOf(own, tests, run.dependencies));
    return simulated && summary.selected ? { ...summary, simulation: SIMULATED_PARTS[id] } : summary;
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
  if (scope === 'partial' && !allSelected) blockers.unshift(run.selected.length ? `partial run: only ${run.selected.join(', ')} selected` : 'partial run: no test of any requirement selected (did the filter match nothing?)');
  // Whatever passed, a simulated cluster is not the cluster the phase is signed off on.
  if (simulated) {
    blockers.unshift(
      `simulated cluster: ${simulated.evidence}; a run there proves the suite against a real API server, not the phase on a real cluster (each requirement says what was simulated and what did not run live)`,
    );
  }
  for (const e of [...(run.errors ?? [])].reverse()) blockers.unshift(`error outside the tests: ${e}`);
  return {
    schemaVersion: 1,
    generatedAt: now.toISOString(),
    // A spec that failed to load may have held tests of a requirement that now looks complete.
    signedOff: scope === 'full' && requirements.every((r) => r.verdict === 'passed') && !run.errors?.length && !simulated,
    blockers,
    run: { ...run, scope },
    requirements,
    fingerprint: fingerprint(tests, !!simulated),
    otherFigures: tests
      .filter((t) => t.inRun !== false && requirementsOf(t.tags).length === 0)
      .flatMap((t) => figuresOf(t).map((f) => ({ ...f, test: t.title }))),
    environment,
    unknownRequirementTags: tests.flatMap((t) =>
      t.tags.filter((tag) => REQUIREMENT_TAG.test(tag) && !REQUIREMENT_IDS.includes(tag.slice(1) as RequirementId)).map((tag) => ({ tag, test: t.title })),
    ),
  };
}
