/**
 * What `npm run migration:watch` and `npm run migration:rehearse` share: the connection to the
 * cluster and to Loki (as the suite makes them: the kube config of KUBE_CONTEXT, Loki by URL or
 * by port-forward to its Service), the run's ledger, cleanup on SIGINT and SIGTERM, and the
 * report written at the end.
 */
import { join } from 'node:path';
import { loadConfig, newRunId, type SuiteConfig } from '../../fixtures/core/config.ts';
import { Endpoints } from '../../fixtures/core/endpoints.ts';
import { configureWaitProgress } from '../../fixtures/core/poll.ts';
import { KubeClient } from '../../fixtures/kube/client.ts';
import { checkKubernetes, loadKubeConfig, type KubeReachable } from '../../fixtures/kube/connection.ts';
import { openPortForward, type Route } from '../../fixtures/kube/route.ts';
import { LokiClient } from '../../fixtures/loki/client.ts';
import { clockTime } from '../../fixtures/loki/heartbeat.ts';
import { writeMigrationReport, type MigrationReport } from '../../fixtures/loki/migration-report.ts';
import { MigrationWatch } from '../../fixtures/loki/migration-watch.ts';

export interface WatchSession {
  config: SuiteConfig;
  target: KubeReachable;
  kube: KubeClient;
  loki: LokiClient;
  lokiEndpoint: string;
  /** Deletes what the run created (its ledger) and closes the port-forward; safe to call twice. */
  cleanup(): Promise<void>;
}

/** Where a watch writes its report unless told: `migration-report/<run id>/` under the working directory. */
export function defaultReportDir(runId: string): string {
  return join('migration-report', runId);
}

/**
 * Validates the configuration, reaches the API server and Loki (in seconds, or says why not),
 * and installs the SIGINT/SIGTERM handler that deletes the run's objects before exiting.
 * @throws ConfigError for a bad variable; Error naming the API server or Loki when either is unreachable.
 */
export async function openWatchSession(log: (line: string) => void): Promise<WatchSession> {
  const config = loadConfig();
  for (const w of config.warnings) log(`warning: ${w}`);
  configureWaitProgress({ afterMs: config.waitProgress.afterMs, everyMs: config.waitProgress.everyMs });
  const runId = config.runId ?? newRunId();
  const target = await checkKubernetes(config.kube, config.preflightTimeoutMs);
  log(`Kubernetes context ${target.context}, API server ${target.server} (${target.version}); run ${runId}`);
  const kc = loadKubeConfig(config.kube);
  const kube = new KubeClient({ kc, runId, namespacePrefix: config.namespacePrefix });
  const routes: Route[] = [];
  const endpoints = new Endpoints(config, async (component, ep) => {
    const route = await openPortForward(kc, component, ep, Math.max(config.preflightTimeoutMs, config.httpTimeoutMs, 15_000));
    routes.push(route);
    return { url: route.url, used: route.endpoint, ...(route.note ? { note: route.note } : {}) };
  });
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      const report = await kube.cleanupRun();
      await Promise.all(routes.map((r) => r.close()));
      if (report.deleted.length || report.failed.length) log(`Deleted ${report.deleted.length} object(s) of run ${runId}${report.failed.length ? `; could not delete ${report.failed.map((f) => `${f.object} (${f.error})`).join(', ')}: run "npm run sweep" later` : ''}`);
    })());
  installSignalCleanup(cleanup, runId, kube.ledger.file, log);
  const lokiEndpoint = endpoints.describe('loki');
  try {
    const loki = new LokiClient(await endpoints.url('loki'), { tenant: config.loki.tenant, timeoutMs: config.httpTimeoutMs });
    const ready = await loki.ready();
    if (!ready.ready) throw new Error(`Loki at ${lokiEndpoint} is not ready (HTTP ${ready.status}: ${ready.body}); the heartbeat could not be read back`);
    return { config, target, kube, loki, lokiEndpoint, cleanup };
  } catch (err) {
    // An open port-forward would keep the process alive after the error.
    await cleanup();
    throw err;
  }
}

/**
 * Ctrl-C or SIGTERM: delete the heartbeat (the run's ledger) and exit 130 / 143. A second
 * signal while that runs exits at once and names the ledger and `npm run sweep`.
 */
function installSignalCleanup(cleanup: () => Promise<void>, runId: string, ledger: string, log: (line: string) => void): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (stopping) {
      log(`${signal} again: exiting without finishing the cleanup; the ledger ${ledger} is kept, "npm run sweep" removes what run ${runId} left`);
      process.exit(code);
    }
    stopping = true;
    log(`${signal}: stopping the watch and deleting the heartbeat of run ${runId}…`);
    cleanup().then(
      () => process.exit(code),
      (err: unknown) => {
        log(`cleanup failed: ${err instanceof Error ? err.message : String(err)}; "npm run sweep" removes what run ${runId} left`);
        process.exit(code);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Starts the heartbeat and says what the operator does next. */
export async function startWatch(s: WatchSession, log: (line: string) => void): Promise<MigrationWatch> {
  log(`Starting a heartbeat pod on every schedulable node in namespace ${s.kube.runNamespace}…`);
  const watch = await MigrationWatch.start({ kube: s.kube, loki: s.loki, lokiEndpoint: s.lokiEndpoint, config: s.config });
  log(`Heartbeat running on ${watch.nodes.length} node(s) since ${clockTime(watch.startedMs)}: ${watch.nodes.join(', ')}; read back with ${watch.query}`);
  return watch;
}

/** Writes the report and prints its verdict; returns the exit code (0 passed, 1 failed). */
export async function finishWatch(watch: MigrationWatch, outDir: string, log: (line: string) => void): Promise<{ report: MigrationReport; code: number }> {
  log('Reading the heartbeat back in full…');
  const report = await watch.finish();
  const paths = await writeMigrationReport(outDir, report);
  log('');
  log(report.verdict.ok ? `PASSED: no gap longer than ${report.maxGapSeconds} s and no line shipped twice after Promtail was gone` : `FAILED: ${report.verdict.problems.length} problem(s)`);
  for (const p of report.verdict.problems) log(`  - ${p}`);
  for (const p of report.switchProblems) log(`  note: ${p}`);
  for (const w of report.verdict.warnings) log(`  note: ${w}`);
  log(`Report: ${paths.markdown}, ${paths.picture}, ${paths.json}`);
  log(`For the suite's OBS-04 test "the switch from Promtail to Alloy lost no line": MIGRATION_REPORT=${paths.json}`);
  return { report, code: report.verdict.ok ? 0 : 1 };
}
