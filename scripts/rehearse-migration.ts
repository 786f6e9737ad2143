/**
 * `npm run migration:rehearse [-- --out DIR] [--dry-run]`: the nightly's rehearsal of the
 * Promtail → Alloy switch on the k3d cluster that `npm run cluster:up -- --rehearse-migration`
 * left with Promtail only. The migration watch runs while this script does what an operator
 * does by manifests/alloy/README.md, each step when the watch has seen what the runbook says
 * to check:
 *   1. the heartbeat is shipped by Promtail on every node;
 *   2. runbook step 1, Alloy installed beside Promtail (Helm, the suite's values);
 *   3. Alloy ships every node's heartbeat, for OVERLAP_S seconds of its lines;
 *   4. runbook step 3, Promtail removed;
 *   5. no Promtail pod left, and Alloy ships OVERLAP_S more seconds on every node;
 * then the watch's report (exit 1 on a gap or a duplicate after Promtail left, or when the
 * switch did not happen). Needs Helm and cluster-admin on the k3d cluster: nightly only; the
 * suite itself never installs or removes an agent.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError } from '../fixtures/core/config.ts';
import { formatSeconds } from '../fixtures/core/duration.ts';
import type { HeartbeatAnalysis } from '../fixtures/loki/heartbeat.ts';
import { sampleAgents, type MigrationWatch } from '../fixtures/loki/migration-watch.ts';
import { formatPlan, rehearsalSteps } from './lib/cluster-plan.ts';
import { defaultReportDir, finishWatch, openWatchSession, startWatch, type WatchSession } from './lib/migration.ts';
import { runPlan } from './lib/run-plan.ts';

/** Seconds of heartbeat each phase must show on every node before the next step. */
const OVERLAP_S = 30;
/** An agent pod may have to pull its image: its first shipped line can take this long after Helm returns. */
const AGENT_START_MS = 180_000;

const USAGE = `Usage: npm run migration:rehearse -- [--out DIR] [--dry-run]
  Rehearses the Promtail -> Alloy switch under the migration watch on the cluster that
  "npm run cluster:up -- --rehearse-migration" built (Promtail only). --dry-run prints the steps.`;

const log = (line: string) => console.log(line);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const { values } = parseArgs({ options: { out: { type: 'string' }, 'dry-run': { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const steps = rehearsalSteps();
if (values['dry-run']) {
  log(`Under the migration watch (heartbeat on every node), once Promtail ships it everywhere:\n${formatPlan([steps.installAlloy])}`);
  log(`Once Alloy has shipped ${OVERLAP_S} s of heartbeat on every node:\n${formatPlan([steps.removePromtail])}`);
  log(`Once no Promtail pod is left and Alloy has shipped ${OVERLAP_S} s more on every node: the report.`);
  process.exit(0);
}

/** For each node, the newest line `agent` shipped, as write time; undefined when it shipped none. */
const newest = (a: HeartbeatAnalysis, agent: string) => new Map(a.nodes.map((n) => [n.node, n.agents.find((x) => x.agent === agent)?.lastMs]));

/** Why not every node has a line of `agent` written at or after `sinceMs` (undefined when all have). */
function shippedSince(a: HeartbeatAnalysis, agent: string, sinceMs: number): string | undefined {
  const short = [...newest(a, agent)].filter(([, last]) => last === undefined || last < sinceMs).map(([node]) => node);
  return short.length ? `${agent} has not shipped a line written after ${new Date(sinceMs).toISOString().slice(11, 19)} UTC on ${short.join(', ')}` : undefined;
}

let session: WatchSession | undefined;
let watch: MigrationWatch | undefined;
try {
  session = await openWatchSession(log);
  const already = (await sampleAgents(session.kube)).nodes.alloy ?? [];
  if (already.length) throw new Error(`Alloy already runs on ${already.join(', ')}: the rehearsal starts where production stands, Promtail only; build the cluster with "npm run cluster:up -- --rehearse-migration" first`);
  watch = await startWatch(session, log);
  const w = watch;
  const budget = session.config.logMaxDelaySeconds * 1000;
  const f = (ms: number) => formatSeconds(ms / 1000);

  await w.until('Promtail to ship the heartbeat of every node', (a) => shippedSince(a, 'promtail', w.startedMs), {
    timeoutMs: budget + AGENT_START_MS,
    derivation: `LOG_MAX_DELAY_SECONDS ${f(budget)} + ${f(AGENT_START_MS)} for a Promtail pod still starting`,
  });

  await runPlan([steps.installAlloy], { dryRun: false, cwd: repoRoot, log });
  const alloyAt = Date.now();
  await w.until(`Alloy to ship ${OVERLAP_S} s of every node's heartbeat beside Promtail (runbook step 2: let the suite prove it)`, (a) => shippedSince(a, 'alloy', alloyAt + OVERLAP_S * 1000), {
    timeoutMs: OVERLAP_S * 1000 + budget + AGENT_START_MS,
    derivation: `${OVERLAP_S} s of overlap + LOG_MAX_DELAY_SECONDS ${f(budget)} + ${f(AGENT_START_MS)} for Alloy's pods to start`,
  });

  await runPlan([steps.removePromtail], { dryRun: false, cwd: repoRoot, log });
  const removedAt = Date.now();
  await w.until(
    `no Promtail pod left, and Alloy shipping ${OVERLAP_S} s more of every node's heartbeat`,
    (a, agents) => (agents.nodes.promtail?.length ? `Promtail still runs on ${agents.nodes.promtail.join(', ')}` : shippedSince(a, 'alloy', removedAt + OVERLAP_S * 1000)),
    { timeoutMs: OVERLAP_S * 1000 + budget + 60_000, derivation: `${OVERLAP_S} s after the removal + LOG_MAX_DELAY_SECONDS ${f(budget)} + 60 s for Promtail's pods to end` },
  );
} catch (err) {
  console.error(`migration:rehearse: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = err instanceof ConfigError ? 2 : 1;
}
try {
  // Also after a failed step: the report says how far the switch got and what the heartbeat saw.
  if (watch && session) {
    const { report, code } = await finishWatch(watch, values.out ?? defaultReportDir(session.kube.runId), log);
    if (code || report.switchProblems.length) process.exitCode = 1;
  }
} catch (err) {
  console.error(`migration:rehearse: the report could not be written: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await session?.cleanup();
}
