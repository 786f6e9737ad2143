/**
 * `npm run bench:app-hook [-- --rounds 10 --seconds 3 --connections 10 --warmup 5 --restart-every 5]`
 *
 * What the hook costs TaskPlanner. The same stand-in build runs in three variants:
 * hook off (METRICS_ENABLED=false), hook on, and OpenTelemetry's NodeSDK with its
 * Prometheus exporter (hook off). Each round loads every variant with autocannon for a few
 * seconds, in an order that rotates every round, so drift on this shared machine hits all
 * three alike; every few rounds all three are restarted and warmed up again. Each
 * hook/otel round is compared with the "off" round next to it, and the medians of those
 * paired ratios, with their spread, are reported; the server's CPU time per request
 * (from /proc) is reported too, being far steadier than requests per second.
 * Finally, the time to render /metrics with 100 routes × 5 status codes.
 * Progress goes to stderr; stdout gets one JSON line.
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createMetricsHook } from '../app-hook/src/index.ts';
import { freePort, startStandin, type Standin } from '../app-hook/standin.ts';

interface AutocannonResult {
  duration: number;
  requests: { total: number };
  latency: { p99: number; p50: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (options: { url: string; connections: number; duration: number; requests: { path: string }[] }) => Promise<AutocannonResult>;
// autocannon ships no types; this is the part of its documented API used here.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '5' },
    'restart-every': { type: 'string', default: '5' },
    'render-samples': { type: 'string', default: '50' },
  },
});
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const WARMUP = Number(args.warmup);
const RESTART_EVERY = Math.max(1, Number(args['restart-every']));
const RENDER_SAMPLES = Number(args['render-samples']);
/** What TaskPlanner serves most: the SSR list, a detail page, the JSON API. */
const PATHS = ['/', '/tasks/7', '/api/tasks'];
const VARIANTS = ['off', 'hook', 'otel'] as const;
type Variant = (typeof VARIANTS)[number];

interface Round {
  rps: number;
  p99Ms: number;
  cpuUsPerRequest: number;
}

const log = (msg: string) => process.stderr.write(`${msg}\n`);

async function startVariant(variant: Variant): Promise<Standin> {
  if (variant === 'hook') return startStandin();
  if (variant === 'off') return startStandin({ env: { METRICS_ENABLED: 'false' } });
  return startStandin({
    env: { METRICS_ENABLED: 'false', OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', OTEL_PROMETHEUS_PORT: String(await freePort()) },
    imports: [fileURLToPath(new URL('../app-hook/bench/otel-setup.ts', import.meta.url))],
  });
}

async function round(server: Standin, seconds: number): Promise<Round> {
  const cpuBefore = server.cpuMicros();
  const r = await autocannon({ url: server.url, connections: CONNECTIONS, duration: seconds, requests: PATHS.map((path) => ({ path })) });
  const cpuAfter = server.cpuMicros();
  if (r.errors || r.non2xx || r.requests.total === 0) {
    throw new Error(`load round failed against ${server.url}: ${r.errors} errors, ${r.non2xx} non-2xx, ${r.requests.total} requests\n${server.output().slice(-1000)}`);
  }
  return {
    rps: r.requests.total / r.duration,
    p99Ms: r.latency.p99,
    cpuUsPerRequest: cpuBefore === undefined || cpuAfter === undefined ? NaN : (cpuAfter - cpuBefore) / r.requests.total,
  };
}

interface Spread {
  median: number;
  min: number;
  max: number;
}
function spread(values: number[], digits = 1): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? (sorted[Math.floor(mid)] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  const round = (v: number) => Number(v.toFixed(digits));
  return { median: round(median), min: round(sorted[0] as number), max: round(sorted[sorted.length - 1] as number) };
}

/** /metrics of a hook that has seen 100 routes × 5 status codes, rendered again and again. */
async function renderCost(): Promise<{ routes: number; statusCodes: number; series: number; bytes: number; ms: Spread; p95Ms: number }> {
  const hook = createMetricsHook({ enabled: true });
  const statuses = [200, 301, 404, 500, 503];
  for (let i = 0; i < 100; i++) {
    for (const status of statuses) {
      await hook.handle({
        event: { url: new URL(`http://bench/r${i}`), route: { id: `/section-${i}/[id]` }, request: new Request(`http://bench/r${i}`), isSubRequest: false } as never,
        resolve: () => new Response(null, { status }),
      });
    }
  }
  const text = await hook.registry.metrics();
  const times: number[] = [];
  for (let i = 0; i < RENDER_SAMPLES + 5; i++) {
    const t = performance.now();
    await hook.registry.metrics();
    if (i >= 5) times.push(performance.now() - t);
  }
  const sorted = [...times].sort((a, b) => a - b);
  return {
    routes: 100,
    statusCodes: statuses.length,
    series: text.split('\n').filter((l) => l.startsWith('http_request')).length,
    bytes: text.length,
    ms: spread(times, 2),
    p95Ms: Number((sorted[Math.floor(sorted.length * 0.95)] ?? NaN).toFixed(2)),
  };
}

/**
 * The handle's own CPU cost per request, in this process with a trivial `resolve`: the
 * difference between the hook on and off over the same loop. Free of the load generator,
 * so far steadier than any figure taken over HTTP.
 */
async function handleCost(): Promise<Spread> {
  const on = createMetricsHook({ enabled: true, defaultMetrics: false });
  const off = createMetricsHook({ enabled: false });
  const routes = ['/', '/tasks/[id]', '/api/tasks'];
  const events = routes.map((id) => ({ url: new URL(`http://bench${id}`), route: { id }, request: new Request(`http://bench${id}`), isSubRequest: false }) as never);
  const response = new Response(null);
  const resolve = () => response;
  const loop = async (hook: typeof on, n: number) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) await hook.handle({ event: events[i % events.length] as never, resolve });
    return ((performance.now() - t) * 1000) / n;
  };
  await loop(on, 20_000);
  await loop(off, 20_000);
  const samples: number[] = [];
  for (let i = 0; i < 15; i++) samples.push((await loop(on, 20_000)) - (await loop(off, 20_000)));
  return spread(samples, 2);
}

const results: Record<Variant, Round[]> = { off: [], hook: [], otel: [] };
let servers: Partial<Record<Variant, Standin>> = {};
const stopAll = () => Promise.all(Object.values(servers).map((server) => server.stop()));
try {
  for (let i = 0; i < ROUNDS; i++) {
    // TaskPlanner runs for days, so warm, long-lived processes are what counts; fresh ones
    // every few rounds keep one process's JIT luck from following a variant through the run.
    if (i % RESTART_EVERY === 0) {
      await stopAll();
      servers = {};
      for (const v of VARIANTS) servers[v] = await startVariant(v);
      log(`round ${i + 1}: fresh processes, warming each up for ${WARMUP} s`);
      for (const v of VARIANTS) await round(servers[v] as Standin, WARMUP);
    }
    const order = VARIANTS.map((_, k) => VARIANTS[(i + k) % VARIANTS.length] as Variant);
    for (const v of order) results[v].push(await round(servers[v] as Standin, SECONDS));
    log(`round ${i + 1}/${ROUNDS}: ${VARIANTS.map((v) => `${v} ${Math.round(results[v][i]?.rps ?? 0)} req/s, ${Math.round(results[v][i]?.cpuUsPerRequest ?? 0)} µs CPU/req`).join('; ')}`);
  }
} finally {
  await stopAll();
}

const paired = (v: Variant, pick: (r: Round) => number, invert: boolean) =>
  spread(
    results[v].map((r, i) => {
      const off = results.off[i] as Round;
      // Throughput lost is 1 − v/off; CPU added per request is v/off − 1.
      return 100 * (invert ? 1 - pick(r) / pick(off) : pick(r) / pick(off) - 1);
    }),
  );
const variants = Object.fromEntries(
  VARIANTS.map((v) => [
    v,
    {
      rps: spread(results[v].map((r) => r.rps), 0),
      p99Ms: spread(results[v].map((r) => r.p99Ms), 1),
      cpuUsPerRequest: spread(results[v].map((r) => r.cpuUsPerRequest), 1),
    },
  ]),
);
const overheadPct = {
  hook: { throughput: paired('hook', (r) => r.rps, true), cpuPerRequest: paired('hook', (r) => r.cpuUsPerRequest, false) },
  otel: { throughput: paired('otel', (r) => r.rps, true), cpuPerRequest: paired('otel', (r) => r.cpuUsPerRequest, false) },
};
const render = await renderCost();
const handleUs = await handleCost();
const verdict = {
  throughputOverheadAtMost3Pct: overheadPct.hook.throughput.median <= 3,
  renderUnder10Ms: render.ms.median < 10,
  cheaperThanOtel: overheadPct.hook.cpuPerRequest.median < overheadPct.otel.cpuPerRequest.median,
};
const line = {
  bench: 'app-hook',
  node: process.version,
  cpus: (await import('node:os')).availableParallelism(),
  rounds: ROUNDS,
  secondsPerRound: SECONDS,
  restartEvery: RESTART_EVERY,
  connections: CONNECTIONS,
  paths: PATHS,
  variants,
  overheadPct,
  handleUsPerRequest: handleUs,
  metricsRender: render,
  targets: verdict,
};
process.stdout.write(`${JSON.stringify(line)}\n`);
