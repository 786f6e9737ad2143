/**
 * `npm run bench:fail-fast [-- --runs 5]`
 *
 * How fast a run stops when it cannot work: the three scenarios of the preflight self-test
 * (test/support/fail-fast.ts) — a dead cluster (kubeconfig at a closed loopback port), a bad
 * configuration (PROMETHEUS_URL=not-a-url) and a dead endpoint (LOKI_URL at a closed loopback
 * port, OBS-03 selected) — each run `--runs` times as a user runs it (`playwright test`), one
 * at a time, in an order that rotates every round so drift on a shared machine hits all three
 * alike. Each run is checked to have stopped for the expected reason (a figure for a run that
 * failed otherwise would measure something else); the wall time from start to exit is timed.
 * The self-test asserts where a run stops; this script is where the seconds live.
 * Progress goes to stderr; stdout gets one JSON line: per scenario the median, min and max
 * seconds, the median time the preflight test itself took (Playwright's figure), and the
 * machine's load average when the benchmark started.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeOutput, runPlaywright, specsOf, type PlaywrightRun } from '../test/support/child.ts';
import { failFastEnv, failFastScenarios, type FailFastName, type FailFastScenario } from '../test/support/fail-fast.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const RUNS = Math.max(1, Number(args.runs));
const log = (msg: string) => process.stderr.write(`${msg}\n`);

/** Why a run did not stop as the scenario expects; undefined when it did. */
function wrongStop(s: FailFastScenario, r: PlaywrightRun): string | undefined {
  const out = `${r.stdout}\n${r.stderr}`;
  if (s.name === 'bad-config') return r.code === 2 && /PROMETHEUS_URL: expected an http\(s\) URL/.test(out) ? undefined : 'expected exit 2 naming PROMETHEUS_URL';
  const preflight = specsOf(r.report?.suites ?? []).flatMap((spec) => spec.tests.filter((t) => t.projectName === 'preflight'));
  const statuses = preflight.flatMap((t) => t.results.map((x) => x.status));
  if (r.code === 0 || statuses.join() !== 'failed') return `expected a failed preflight, got exit ${r.code} and preflight ${statuses.join() || 'not run'}`;
  const reason = s.name === 'dead-cluster' ? new RegExp(`Kubernetes API server https://127\\.0\\.0\\.1:${s.port}`) : new RegExp(`loki \\(http://127\\.0\\.0\\.1:${s.port}, needed by OBS-03\\) is not ready`);
  return reason.test(out) ? undefined : `expected the output to match ${reason}`;
}

/** How long the preflight test itself took, by Playwright's count, in seconds. */
function preflightSeconds(r: PlaywrightRun): number | undefined {
  const result = specsOf(r.report?.suites ?? []).flatMap((spec) => spec.tests.filter((t) => t.projectName === 'preflight').flatMap((t) => t.results))[0];
  return result ? result.duration / 1000 : undefined;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const round = (n: number) => Math.round(n * 100) / 100;

const work = await mkdtemp(join(tmpdir(), 'obs-bench-fail-fast-'));
const startedLoad = loadavg().map(round);
const samples = new Map<FailFastName, { seconds: number[]; preflight: number[] }>();
try {
  const scenarios = await failFastScenarios(work);
  for (let round_ = 0; round_ < RUNS; round_++) {
    const order = scenarios.map((_, i) => scenarios[(i + round_) % scenarios.length] as FailFastScenario);
    for (const s of order) {
      const reportDir = join(work, `report-${s.name}-${round_}`);
      const started = performance.now();
      const r = await runPlaywright(['--output', join(work, `out-${s.name}-${round_}`), ...s.args], { json: s.name !== 'bad-config', env: failFastEnv(reportDir, s.env) });
      const seconds = (performance.now() - started) / 1000;
      const wrong = wrongStop(s, r);
      if (wrong) throw new Error(`${s.name} run ${round_ + 1} did not stop as expected: ${wrong}\n${describeOutput(r)}`);
      const entry = samples.get(s.name) ?? { seconds: [], preflight: [] };
      entry.seconds.push(seconds);
      const p = preflightSeconds(r);
      if (p !== undefined) entry.preflight.push(p);
      samples.set(s.name, entry);
      log(`round ${round_ + 1}/${RUNS} ${s.name}: ${seconds.toFixed(2)} s${p === undefined ? '' : ` (preflight test ${p.toFixed(2)} s)`}`);
      await rm(reportDir, { recursive: true, force: true });
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const result: Record<string, unknown> = {
  benchmark: 'fail-fast',
  date: new Date().toISOString(),
  runs: RUNS,
  cpus: cpus().length,
  loadAverageAtStart: startedLoad,
};
for (const [name, { seconds, preflight }] of samples) {
  result[name] = {
    medianSeconds: round(median(seconds)),
    minSeconds: round(Math.min(...seconds)),
    maxSeconds: round(Math.max(...seconds)),
    ...(preflight.length ? { preflightTestMedianSeconds: round(median(preflight)) } : {}),
  };
}
process.stdout.write(`${JSON.stringify(result)}\n`);
