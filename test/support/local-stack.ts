/**
 * A real local metrics stack for self-tests: Debian's `prometheus` and
 * `prometheus-alertmanager` on free loopback ports with generated configuration, ready
 * only when their own readiness endpoints say so, and always stopped (the caller's
 * `after`, plus a process-exit hook that kills anything left running).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { http } from '../../fixtures/core/http.ts';
import { waitFor } from '../../fixtures/core/poll.ts';

export interface LocalService {
  url: string;
  port: number;
  /** Everything the process printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export interface LocalPrometheus extends LocalService {
  /** Rewrites the configuration and rule files and asks Prometheus to reload them. */
  reload(options?: Partial<PrometheusOptions>): Promise<void>;
}

export interface PrometheusOptions {
  /** `scrape_configs` entries, as objects. */
  scrapeConfigs?: object[];
  /** Rule files by name (YAML text in Prometheus' rule-file format). */
  ruleFiles?: Record<string, string>;
  alertmanagerUrl?: string;
  scrapeInterval?: string;
  evaluationInterval?: string;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startPrometheus(options: PrometheusOptions = {}): Promise<LocalPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'obs-prom-'));
  let current: PrometheusOptions = options;
  const writeConfig = async () => {
    const ruleNames = Object.keys(current.ruleFiles ?? {});
    for (const [name, text] of Object.entries(current.ruleFiles ?? {})) await writeFile(join(dir, name), text);
    const config = {
      global: {
        scrape_interval: current.scrapeInterval ?? '1s',
        evaluation_interval: current.evaluationInterval ?? '1s',
      },
      rule_files: ruleNames.map((n) => join(dir, n)),
      ...(current.alertmanagerUrl
        ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [new URL(current.alertmanagerUrl).host] }] }] } }
        : {}),
      scrape_configs: current.scrapeConfigs ?? [],
    };
    await writeFile(join(dir, 'prometheus.yml'), stringify(config));
  };
  await writeConfig();
  const port = await freePort();
  const service = await startProcess(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      // Alerts that fire before Alertmanager is discovered are otherwise resent only a minute later.
      '--rules.alert.resend-delay=1s',
      '--log.level=' + (process.env.LOCAL_STACK_LOG_LEVEL ?? 'warn'),
    ],
    port,
    '/-/ready',
    dir,
  );
  return {
    ...service,
    async reload(next = {}) {
      current = { ...current, ...next };
      await writeConfig();
      await http({ method: 'POST', url: `${service.url}/-/reload`, timeoutMs: 5_000 });
    },
  };
}

/** Alertmanager with a default route to a receiver named `default` (no notifications sent). */
export async function startAlertmanager(options: { configYaml?: string } = {}): Promise<LocalService> {
  const dir = await mkdtemp(join(tmpdir(), 'obs-am-'));
  const config =
    options.configYaml ??
    stringify({
      route: { receiver: 'default', group_wait: '0s', group_interval: '1s', repeat_interval: '1h' },
      receivers: [{ name: 'default' }],
    });
  await writeFile(join(dir, 'alertmanager.yml'), config);
  const port = await freePort();
  return startProcess(
    'prometheus-alertmanager',
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // An empty cluster address turns gossip off: no port to collide with, no peers to wait for.
      '--cluster.listen-address=',
      '--log.level=' + (process.env.LOCAL_STACK_LOG_LEVEL ?? 'warn'),
    ],
    port,
    '/-/ready',
    dir,
  );
}

async function startProcess(binary: string, args: string[], port: number, readyPath: string, dir: string): Promise<LocalService> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`;
      running.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      exited = `could not start: ${err.message} (is the Debian package installed?)`;
      running.delete(child);
      resolve();
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      `${binary} on ${url} to be ready`,
      async () => {
        if (exited) throw new Error(`${binary} ${exited}: ${output.slice(-1500)}`);
        return (await http({ url: `${url}${readyPath}`, timeoutMs: 10_000, acceptStatus: [503] })).status;
      },
      (status) => (status === 200 ? undefined : `${readyPath} answered ${status}`),
      { timeoutMs: 120_000, intervalsMs: [100, 200, 500] },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, output: () => output, stop };
}
