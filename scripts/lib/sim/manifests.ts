/**
 * The sim's YAML files with `${NAME}` placeholders filled in, as API objects. A placeholder
 * without a value is an error naming the file, so a renamed variable cannot slip through as
 * literal text; `$(VAR)` (Kubernetes' own expansion) and `$labels` (alert templates) are left alone.
 */
import { readFileSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

/** `text` with every `${NAME}` replaced from `vars`; throws listing the names `vars` lacks. */
export function fillPlaceholders(text: string, vars: Record<string, string>, where: string): string {
  const missing = new Set<string>();
  const out = text.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (m, name: string) => {
    const value = vars[name];
    if (value === undefined) {
      missing.add(name);
      return m;
    }
    return value;
  });
  if (missing.size) throw new Error(`${where}: no value for ${[...missing].map((n) => `\${${n}}`).join(', ')}`);
  return out;
}

/** The objects in a YAML file (placeholders filled), skipping empty documents; throws on YAML errors with the file named. */
export function loadObjects(path: string, vars: Record<string, string> = {}): KubernetesObject[] {
  const text = fillPlaceholders(readFileSync(path, 'utf8'), vars, path);
  const docs = parseAllDocuments(text);
  const objects: KubernetesObject[] = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as KubernetesObject | null;
    if (value && typeof value === 'object') objects.push(value);
  }
  return objects;
}
