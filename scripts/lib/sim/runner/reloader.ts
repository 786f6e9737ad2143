/**
 * The prometheus-config-reloader sidecar's job, done by the runner for the pod it belongs to,
 * driven by the sidecar's own arguments (prometheus-operator cmd/prometheus-config-reloader):
 * `--config-file` (the operator's gzipped configuration, from the Secret volume) is unpacked,
 * `$(VAR)` expanded from the sidecar's environment (POD_NAME, SHARD) and written to
 * `--config-envsubst-file`; whenever that output or a file in a `--watched-dir` (the rule
 * ConfigMaps) changes, `--reload-url` is POSTed. It serves `/metrics` and `/healthz` on
 * `--listen-address` like the sidecar, so the chart's `reloader-web` targets are real.
 *
 * Only what the simulated environment lacks is changed in the output
 * (`simulatedEnvironment`): every `kubernetes_sd_configs` entry without an API server gets the
 * runner's kube config, since there is no service-account mount, and ConfigMap/Secret mount
 * paths point under the pod's root directory.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isMap, isSeq, parseDocument, visit } from 'yaml';
import { http } from '../../../../fixtures/core/http.ts';
import type { ContainerLog } from './cri-log.ts';
import { expand } from './env.ts';
import type { PodVolumes } from './volumes.ts';

export interface ReloaderArgs {
  configFile?: string;
  envsubstFile?: string;
  watchedDirs: string[];
  reloadUrl?: string;
  listenAddress?: string;
}

export function parseReloaderArgs(args: readonly string[]): ReloaderArgs {
  const out: ReloaderArgs = { watchedDirs: [] };
  for (const a of args) {
    const [, flag, value] = /^--([\w.-]+)=(.*)$/.exec(a) ?? [];
    if (value === undefined) continue;
    if (flag === 'config-file') out.configFile = value;
    else if (flag === 'config-envsubst-file') out.envsubstFile = value;
    else if (flag === 'watched-dir') out.watchedDirs.push(value);
    else if (flag === 'reload-url') out.reloadUrl = value;
    else if (flag === 'listen-address') out.listenAddress = value;
  }
  return out;
}

/**
 * The generated configuration adapted to the simulated environment: `kubeconfig_file` added to
 * every `kubernetes_sd_configs` entry that names no API server, then mount paths mapped.
 */
export function simulatedEnvironment(configYaml: string, kubeconfig: string, volumes: Pick<PodVolumes, 'mapConfigText'>): string {
  const doc = parseDocument(configYaml);
  visit(doc, {
    Pair(_key, pair) {
      const key = (pair.key as { value?: unknown } | null)?.value;
      if (key !== 'kubernetes_sd_configs' || !isSeq(pair.value)) return;
      for (const sd of pair.value.items) {
        if (isMap(sd) && !sd.has('api_server') && !sd.has('kubeconfig_file')) sd.set('kubeconfig_file', kubeconfig);
      }
    },
  });
  return volumes.mapConfigText(doc.toString({ lineWidth: 0 }));
}

function dirDigest(dirs: string[]): string {
  const h = createHash('sha256');
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isFile()) h.update(name).update(readFileSync(p));
    }
  }
  return h.digest('hex');
}

export interface ReloaderOptions {
  podIP: string;
  args: readonly string[];
  env: Record<string, string>;
  volumes: PodVolumes;
  kubeconfig: string;
  log: ContainerLog;
}

export class ConfigReloader {
  private readonly opts: ReloaderOptions;
  private readonly parsed: ReloaderArgs;
  private server: Server | undefined;
  private lastOutput = '';
  private lastDirs = '';
  private reloadPending = false;
  private retry: NodeJS.Timeout | undefined;
  private reloads = 0;
  private failures = 0;
  private lastSuccess = 0;
  /** The program that reads the output has been started; reloads before that are pointless. */
  private targetStarted = false;

  constructor(opts: ReloaderOptions) {
    this.opts = opts;
    this.parsed = parseReloaderArgs(opts.args);
  }

  /** The output file exists (or there is none to write): the program behind may start. */
  get configReady(): boolean {
    return !this.parsed.envsubstFile || existsSync(this.opts.volumes.mapPath(this.parsed.envsubstFile));
  }

  /** Serves /metrics and /healthz on the sidecar's listen address, bound to the pod's address. */
  async start(): Promise<void> {
    this.refresh();
    const port = Number(/:(\d+)$/.exec(this.parsed.listenAddress ?? '')?.[1] ?? 8080);
    this.server = createServer((req, res) => {
      if (req.url?.startsWith('/metrics')) {
        res.setHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8');
        res.end(this.metrics());
      } else if (req.url?.startsWith('/healthz')) {
        res.end('OK');
      } else {
        res.statusCode = 404;
        res.end('not found');
      }
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, this.opts.podIP, () => resolve());
    });
    this.opts.log.line('stderr', `level=info msg="Starting web server for metrics" listen=${this.opts.podIP}:${port} (obs-sim: config-reloader emulated by the pod runner)`);
  }

  /** The program behind the reload URL runs now; a reload owed since is sent. */
  targetRunning(): void {
    this.targetStarted = true;
    if (this.reloadPending) void this.reload();
  }

  /** Recomputes the output from the mounted files; writes it and reloads when it or a watched file changed. */
  refresh(): void {
    const { configFile, envsubstFile } = this.parsed;
    let changed = false;
    if (configFile && envsubstFile) {
      const src = this.opts.volumes.mapPath(configFile);
      if (existsSync(src)) {
        const raw = readFileSync(src);
        const text = configFile.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
        const output = simulatedEnvironment(expand(text, this.opts.env), this.opts.kubeconfig, this.opts.volumes);
        if (output !== this.lastOutput) {
          const dest = this.opts.volumes.mapPath(envsubstFile);
          mkdirSync(dirname(dest), { recursive: true });
          writeFileSync(dest, output);
          this.lastOutput = output;
          changed = true;
          this.opts.log.line('stderr', `level=info msg="config file written" out=${envsubstFile}`);
        }
      }
    }
    const dirs = dirDigest(this.parsed.watchedDirs.map((d) => this.opts.volumes.mapPath(d)));
    if (dirs !== this.lastDirs) {
      this.lastDirs = dirs;
      changed = true;
    }
    if (changed) {
      this.reloadPending = true;
      if (this.targetStarted) void this.reload();
    }
  }

  private async reload(): Promise<void> {
    const url = this.parsed.reloadUrl;
    if (!url) {
      this.reloadPending = false;
      return;
    }
    clearTimeout(this.retry);
    // The operator points the sidecar at 127.0.0.1 (its --localhost); the program listens on the pod's address.
    const target = url.replace(/\/\/(127\.0\.0\.1|localhost|\[::1\])(?=[:/])/, `//${this.opts.podIP}`);
    try {
      await http({ method: 'POST', url: target, timeoutMs: 30_000 });
      this.reloads++;
      this.lastSuccess = Date.now() / 1000;
      this.reloadPending = false;
      this.opts.log.line('stderr', `level=info msg="Reload triggered" url=${target}`);
    } catch (err) {
      this.failures++;
      this.opts.log.line('stderr', `level=error msg="Failed to trigger reload. Retrying." err=${JSON.stringify((err as Error).message)}`);
      // As the sidecar does: keep trying until the program takes the configuration.
      this.retry = setTimeout(() => void this.reload(), 5_000);
    }
  }

  private metrics(): string {
    return [
      '# HELP reloader_last_reload_successful Whether the last reload attempt was successful',
      '# TYPE reloader_last_reload_successful gauge',
      `reloader_last_reload_successful ${this.reloadPending && this.failures ? 0 : 1}`,
      '# HELP reloader_last_reload_success_timestamp_seconds Timestamp of the last successful reload',
      '# TYPE reloader_last_reload_success_timestamp_seconds gauge',
      `reloader_last_reload_success_timestamp_seconds ${this.lastSuccess}`,
      '# HELP reloader_reloads_total Total number of reload requests',
      '# TYPE reloader_reloads_total counter',
      `reloader_reloads_total ${this.reloads}`,
      '# HELP reloader_reloads_failed_total Number of reload requests that have failed',
      '# TYPE reloader_reloads_failed_total counter',
      `reloader_reloads_failed_total ${this.failures}`,
      '',
    ].join('\n');
  }

  async stop(): Promise<void> {
    clearTimeout(this.retry);
    const s = this.server;
    this.server = undefined;
    if (s) {
      // Prometheus keeps its scrape connections open; close would wait for them.
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}
