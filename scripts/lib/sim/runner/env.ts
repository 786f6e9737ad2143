/**
 * A container's environment and arguments as the kubelet resolves them: `env` in order, each
 * value's `$(VAR)` expanded from the variables before it; `valueFrom` field references, Secret and
 * ConfigMap keys; `envFrom`; then `$(VAR)` in command and args (`$$(VAR)` stays literal).
 * https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/
 */
import type * as k8s from '@kubernetes/client-node';
import { podField, type ObjectLookup } from './volumes.ts';

/** Expands `$(NAME)` from `vars`; unknown names and `$$(NAME)` stay as written (Kubernetes' rule). */
export function expand(text: string, vars: Record<string, string>): string {
  return text.replace(/\$(\$)?\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (all, escaped: string | undefined, name: string) => {
    if (escaped) return `$(${name})`;
    return vars[name] ?? all;
  });
}

export interface ResolvedEnv {
  env: Record<string, string>;
  /** References that could not be resolved (missing Secret or key), for the container's waiting message. */
  missing: string[];
}

export function resolveEnv(pod: k8s.V1Pod, c: k8s.V1Container, lookup: ObjectLookup): ResolvedEnv {
  const ns = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = {};
  const missing: string[] = [];
  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = lookup.configMap(ns, from.configMapRef.name ?? '');
      if (!cm && !from.configMapRef.optional) missing.push(`ConfigMap ${ns}/${from.configMapRef.name}`);
      for (const [k, v] of Object.entries(cm?.data ?? {})) env[prefix + k] = v;
    }
    if (from.secretRef) {
      const s = lookup.secret(ns, from.secretRef.name ?? '');
      if (!s && !from.secretRef.optional) missing.push(`Secret ${ns}/${from.secretRef.name}`);
      for (const [k, v] of Object.entries(s?.data ?? {})) env[prefix + k] = Buffer.from(v, 'base64').toString('utf8');
    }
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = expand(e.value, env);
      continue;
    }
    const from = e.valueFrom;
    if (!from) {
      env[e.name] = '';
      continue;
    }
    if (from.fieldRef) {
      const v = podField(pod, from.fieldRef.fieldPath);
      if (v !== undefined) env[e.name] = v;
    } else if (from.configMapKeyRef) {
      const v = lookup.configMap(ns, from.configMapKeyRef.name ?? '')?.data?.[from.configMapKeyRef.key];
      if (v !== undefined) env[e.name] = v;
      else if (!from.configMapKeyRef.optional) missing.push(`key ${from.configMapKeyRef.key} of ConfigMap ${ns}/${from.configMapKeyRef.name}`);
    } else if (from.secretKeyRef) {
      const v = lookup.secret(ns, from.secretKeyRef.name ?? '')?.data?.[from.secretKeyRef.key];
      if (v !== undefined) env[e.name] = Buffer.from(v, 'base64').toString('utf8');
      else if (!from.secretKeyRef.optional) missing.push(`key ${from.secretKeyRef.key} of Secret ${ns}/${from.secretKeyRef.name}`);
    }
    // resourceFieldRef (GOMAXPROCS, GOMEMLIMIT from limits) is left unset: the programs' own defaults apply.
  }
  return { env, missing };
}

/** Command and args with `$(VAR)` expanded from the container's environment. */
export function expandArgs(c: k8s.V1Container, env: Record<string, string>): { command: string[]; args: string[] } {
  return { command: (c.command ?? []).map((a) => expand(a, env)), args: (c.args ?? []).map((a) => expand(a, env)) };
}
