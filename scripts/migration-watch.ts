/**
 * `npm run migration:watch -- --minutes N [--out DIR]`: watches a Promtail → Alloy switch on
 * the cluster of the kube config (KUBE_CONTEXT). Starts a heartbeat pod on every schedulable
 * node, waits N minutes while an operator switches the agents by manifests/alloy/README.md
 * (printing what it sees every WAIT_PROGRESS_EVERY_SECONDS), then writes report.md,
 * timeline.svg and report.json to DIR (default migration-report/<run id>/) and exits 1 on a gap
 * longer than HEARTBEAT_MAX_GAP_SECONDS or a line shipped twice after Promtail was gone, 0
 * otherwise, 2 on bad arguments or configuration. It deletes what it created at the end and on
 * Ctrl-C / SIGTERM (run namespace, ledger; `npm run sweep` finds anything a kill -9 left).
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../fixtures/core/config.ts';
import { clockTime } from '../fixtures/loki/heartbeat.ts';
import { defaultReportDir, finishWatch, openWatchSession, startWatch, type WatchSession } from './lib/migration.ts';

const USAGE = `Usage: npm run migration:watch -- --minutes N [--out DIR]
  --minutes N  how long to watch (at most 1440), counted from when the heartbeat runs on every node
  --out DIR    where report.md, timeline.svg and report.json go (default migration-report/<run id>/)
Start it before step 1 of manifests/alloy/README.md and give it time past step 3.`;

const log = (line: string) => console.log(line);

let minutes: number;
let out: string | undefined;
try {
  const { values } = parseArgs({ options: { minutes: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', default: false } } });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  minutes = Number(values.minutes);
  if (!values.minutes || !Number.isFinite(minutes) || minutes <= 0 || minutes > 1440) throw new Error(`--minutes must be a number of minutes between 0 and 1440, got ${JSON.stringify(values.minutes ?? null)}`);
  out = values.out;
} catch (err) {
  console.error(`migration:watch: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  process.exit(2);
}

let session: WatchSession | undefined;
try {
  session = await openWatchSession(log);
  const watch = await startWatch(session, log);
  log(`Switch the agents now by manifests/alloy/README.md (step 1: install Alloy, step 3: remove Promtail). The watch ends at ${clockTime(watch.startedMs + minutes * 60_000)}; Ctrl-C stops it and deletes the heartbeat.`);
  await watch.watchFor(minutes * 60_000);
  const { code } = await finishWatch(watch, out ?? defaultReportDir(session.kube.runId), log);
  process.exitCode = code;
} catch (err) {
  console.error(`migration:watch: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = err instanceof ConfigError ? 2 : 1;
} finally {
  await session?.cleanup();
}
