/**
 * Starts the stand-in TaskPlanner (the adapter-node build of `demo-app/`) as a child
 * process, for the self-tests, the benchmark and `npm run demo-app`. Ready means it printed
 * adapter-node's "Listening on" line; no polling, no sleeping.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_DIR, isBuildCurrent } from './standin-build.ts';

export interface Standin {
  url: string;
  port: number;
  pid: number;
  /** stdout and stderr so far, for failure messages. */
  output(): string;
  /** The child's CPU time so far in µs, read from /proc; undefined where there is no /proc. */
  cpuMicros(): number | undefined;
  stop(): Promise<void>;
}

export interface StandinOptions {
  /** Default: a free port. */
  port?: number;
  /** Added to the environment (METRICS_ENABLED, METRICS_TOKEN, METRICS_PORT …). */
  env?: Record<string, string>;
  /** Modules preloaded with `--import`, e.g. an OpenTelemetry setup. */
  imports?: string[];
  startTimeoutMs?: number;
}

const running = new Set<ChildProcess>();
// A test that fails before its `after` ran must not leave a server holding a port.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Builds `demo-app/` if its build is missing or stale; safe to call from parallel processes. */
export function ensureStandinBuilt(): void {
  if (isBuildCurrent()) return;
  const script = fileURLToPath(new URL('standin-build.ts', import.meta.url));
  execFileSync('flock', ['/tmp/obs-acceptance-standin-build.lock', process.execPath, script], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startStandin(options: StandinOptions = {}): Promise<Standin> {
  ensureStandinBuilt();
  const port = options.port ?? (await freePort());
  const args = [...(options.imports ?? []).flatMap((m) => ['--import', m]), join(BUILD_DIR, 'index.js')];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );

  // Generous: it prints "Listening on" within a second or two, but a loaded 2-core machine can take far longer.
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not print "Listening on" within ${timeoutMs} ms`), timeoutMs);
    const onData = () => {
      if (output.includes('Listening on')) done();
    };
    const onExit = (code: number | null) => fail(`exited with code ${code} before listening`);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
    };
    function done() {
      cleanup();
      resolve();
    }
    function fail(why: string) {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`The stand-in TaskPlanner on port ${port} ${why}.\n  output: ${output.trim() || '(none)'}`));
    }
    child.stdout.on('data', onData);
    child.once('exit', onExit);
    onData();
  });

  const pid = child.pid ?? 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid,
    output: () => output,
    cpuMicros: () => procCpuMicros(pid),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      // adapter-node waits for keep-alive sockets of clients that are gone; nothing here needs that grace.
      const killer = setTimeout(() => child.kill('SIGKILL'), 500);
      await exited;
      clearTimeout(killer);
    },
  };
}

/**
 * On-CPU time of every thread of a process (main thread, libuv pool, GC helpers), from
 * /proc/<pid>/task/<tid>/schedstat in ns: far finer than /proc/<pid>/stat's 10 ms ticks.
 */
function procCpuMicros(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    return ns / 1000;
  } catch {
    return undefined;
  }
}
