/**
 * A pod's volumes, made as the kubelet would make them, under the pod's own directory:
 * `volumes/<name>/` holds each volume's files (ConfigMap and Secret keys, downward API fields;
 * an empty directory for emptyDir), and `root/<mountPath>` is a symlink to it (or to the host
 * path of a hostPath volume). A container path `/etc/prometheus/config_out/x` is then found at
 * `<pod>/root/etc/prometheus/config_out/x`, which is what `mapPath` returns.
 *
 * Like the kubelet, `sync` is run again whenever a ConfigMap or Secret changes, and rewrites only
 * the files whose content changed. Service-account tokens are not made: programs here reach the
 * API server with a kube config instead (images.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';

/** Read access to the ConfigMaps and Secrets the runner watches. */
export interface ObjectLookup {
  configMap(namespace: string, name: string): k8s.V1ConfigMap | undefined;
  secret(namespace: string, name: string): k8s.V1Secret | undefined;
}

export interface SyncResult {
  /** Required ConfigMaps or Secrets that do not exist (yet): `Secret monitoring/x`. */
  missing: string[];
  /** Whether any file changed. */
  changed: boolean;
}

type Files = Map<string, Buffer>;

function keyFiles(data: Record<string, Buffer>, items: { key: string; path: string }[] | undefined): Files {
  const files: Files = new Map();
  if (items?.length) {
    for (const it of items) if (data[it.key] !== undefined) files.set(it.path, data[it.key] as Buffer);
  } else {
    for (const [k, v] of Object.entries(data)) files.set(k, v);
  }
  return files;
}

function configMapData(cm: k8s.V1ConfigMap): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(cm.data ?? {})) out[k] = Buffer.from(v, 'utf8');
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}

function secretData(s: k8s.V1Secret): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64');
  for (const [k, v] of Object.entries(s.stringData ?? {})) out[k] = Buffer.from(v, 'utf8');
  return out;
}

/** A downward API field of the pod, as the kubelet writes it into a file or an env var. */
export function podField(pod: k8s.V1Pod, fieldPath: string): string | undefined {
  const labelOrAnnotation = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (labelOrAnnotation) {
    const map = labelOrAnnotation[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[labelOrAnnotation[2] as string];
  }
  const asLines = (m: Record<string, string> | undefined) =>
    Object.entries(m ?? {})
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('\n');
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata?.name;
    case 'metadata.namespace':
      return pod.metadata?.namespace;
    case 'metadata.uid':
      return pod.metadata?.uid;
    case 'metadata.labels':
      return asLines(pod.metadata?.labels);
    case 'metadata.annotations':
      return asLines(pod.metadata?.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName;
    case 'status.hostIP':
      return pod.status?.hostIP;
    case 'status.podIP':
      return pod.status?.podIP;
    case 'status.hostIPs':
      return (pod.status?.hostIPs ?? []).map((i) => i.ip).join(',');
    case 'status.podIPs':
      return (pod.status?.podIPs ?? []).map((i) => i.ip).join(',');
    default:
      return undefined;
  }
}

export class PodVolumes {
  readonly root: string;
  private readonly volumesDir: string;
  private readonly pod: k8s.V1Pod;
  private readonly lookup: ObjectLookup;
  /** mountPath → kind of volume, over every container and init container of the pod. */
  private readonly mounts: { path: string; configLike: boolean }[];

  constructor(pod: k8s.V1Pod, podDir: string, lookup: ObjectLookup) {
    this.pod = pod;
    this.lookup = lookup;
    this.root = join(podDir, 'root');
    this.volumesDir = join(podDir, 'volumes');
    const byName = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
    const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].flatMap((c) => c.volumeMounts ?? []);
    const seen = new Map<string, boolean>();
    for (const m of all) {
      const v = byName.get(m.name);
      seen.set(m.mountPath.replace(/\/+$/, ''), !!(v?.configMap || v?.secret || v?.projected || v?.downwardAPI));
    }
    // Longest first, so /etc/prometheus/rules/x wins over a mount at /etc/prometheus.
    this.mounts = [...seen].map(([path, configLike]) => ({ path, configLike })).sort((a, b) => b.path.length - a.path.length);
  }

  /** Where a container path lives on this machine: under the pod root when a volume is mounted there, else unchanged. */
  mapPath(path: string): string {
    for (const m of this.mounts) if (path === m.path || path.startsWith(`${m.path}/`)) return join(this.root, path);
    return path;
  }

  /** `--flag=/abs/path` and bare `/abs/path` arguments with their volume paths mapped. */
  mapArgs(args: readonly string[]): string[] {
    return args.map((a) => {
      const flag = /^(--?[\w.-]+=)(\/.*)$/.exec(a);
      if (flag) return `${flag[1]}${this.mapPath(flag[2] as string)}`;
      return a.startsWith('/') ? this.mapPath(a) : a;
    });
  }

  /**
   * Paths of ConfigMap/Secret/projected mounts inside a generated configuration (rule file
   * globs, certificate files) mapped under the pod root. Only those mounts, because an emptyDir
   * at `/prometheus` would otherwise match URL paths.
   */
  mapConfigText(text: string): string {
    let out = text;
    for (const m of this.mounts.filter((x) => x.configLike)) {
      const re = new RegExp(`(^|[\\s"'=:,\\[])${m.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=[/\\s"',\\]]|$)`, 'gm');
      out = out.replace(re, (_all, before: string) => `${before}${join(this.root, m.path)}`);
    }
    return out;
  }

  /** Makes or refreshes every volume and mount; reports required sources that are missing. */
  sync(): SyncResult {
    const result: SyncResult = { missing: [], changed: false };
    const ns = this.pod.metadata?.namespace ?? 'default';
    for (const v of this.pod.spec?.volumes ?? []) {
      const dir = join(this.volumesDir, v.name);
      let files: Files | undefined;
      if (v.configMap) {
        const cm = this.lookup.configMap(ns, v.configMap.name ?? '');
        if (!cm && !v.configMap.optional) result.missing.push(`ConfigMap ${ns}/${v.configMap.name}`);
        files = cm ? keyFiles(configMapData(cm), v.configMap.items) : new Map();
      } else if (v.secret) {
        const s = this.lookup.secret(ns, v.secret.secretName ?? '');
        if (!s && !v.secret.optional) result.missing.push(`Secret ${ns}/${v.secret.secretName}`);
        files = s ? keyFiles(secretData(s), v.secret.items) : new Map();
      } else if (v.downwardAPI) {
        files = this.downward(v.downwardAPI.items);
      } else if (v.projected) {
        files = new Map();
        for (const src of v.projected.sources ?? []) {
          let part: Files = new Map();
          if (src.configMap) {
            const cm = this.lookup.configMap(ns, src.configMap.name ?? '');
            if (!cm && !src.configMap.optional) result.missing.push(`ConfigMap ${ns}/${src.configMap.name}`);
            if (cm) part = keyFiles(configMapData(cm), src.configMap.items);
          } else if (src.secret) {
            const s = this.lookup.secret(ns, src.secret.name ?? '');
            if (!s && !src.secret.optional) result.missing.push(`Secret ${ns}/${src.secret.name}`);
            if (s) part = keyFiles(secretData(s), src.secret.items);
          } else if (src.downwardAPI) {
            part = this.downward(src.downwardAPI.items);
          }
          for (const [k, b] of part) files.set(k, b);
        }
      }
      if (files) {
        if (this.writeFiles(dir, files)) result.changed = true;
      } else if (!v.hostPath) {
        // emptyDir, persistentVolumeClaim and the rest: a directory the pod's containers share.
        mkdirSync(dir, { recursive: true });
      }
    }
    this.linkMounts();
    return result;
  }

  private downward(items: k8s.V1DownwardAPIVolumeFile[] | undefined): Files {
    const files: Files = new Map();
    for (const it of items ?? []) {
      const value = it.fieldRef ? podField(this.pod, it.fieldRef.fieldPath) : undefined;
      if (value !== undefined) files.set(it.path, Buffer.from(value, 'utf8'));
    }
    return files;
  }

  /** Writes `files` into `dir` (only what changed, via rename) and removes files no longer there. */
  private writeFiles(dir: string, files: Files): boolean {
    let changed = false;
    mkdirSync(dir, { recursive: true });
    for (const [rel, content] of files) {
      const path = join(dir, rel);
      const old = existsSync(path) ? readFileSync(path) : undefined;
      if (old && hash(old) === hash(content)) continue;
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(`${path}.tmp`, content);
      renameSync(`${path}.tmp`, path);
      changed = true;
    }
    for (const rel of listFiles(dir)) {
      if (!files.has(rel)) {
        rmSync(join(dir, rel), { force: true });
        changed = true;
      }
    }
    return changed;
  }

  private linkMounts(): void {
    const byName = new Map((this.pod.spec?.volumes ?? []).map((v) => [v.name, v]));
    for (const c of [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])]) {
      for (const m of c.volumeMounts ?? []) {
        const v = byName.get(m.name);
        if (!v) continue;
        const base = v.hostPath ? v.hostPath.path : join(this.volumesDir, v.name);
        const target = m.subPath ? join(base, m.subPath) : base;
        // As the kubelet does, a subPath of a directory volume (the operator mounts its emptyDir
        // at /prometheus with subPath prometheus-db) is made when missing.
        if (m.subPath && !v.hostPath && !existsSync(target) && !(v.configMap || v.secret || v.projected || v.downwardAPI)) mkdirSync(target, { recursive: true });
        const link = join(this.root, m.mountPath);
        mkdirSync(dirname(link), { recursive: true });
        let current: string | undefined;
        try {
          current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : '(not a link)';
        } catch {
          current = undefined;
        }
        if (current === target) continue;
        if (current !== undefined) rmSync(link, { recursive: true, force: true });
        symlinkSync(target, link);
      }
    }
  }
}

function hash(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function listFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(join(dir, e.name), rel));
    else if (!e.name.endsWith('.tmp')) out.push(rel);
  }
  return out;
}
