/**
 * The local binaries the simulated cluster runs, built by `npm run sim:build` (sim/tools,
 * documented in sim/tools/README.md). Nothing is ever downloaded at run time: when a tool
 * is missing, sim:up stops at once and says to build.
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { run } from './exec.ts';
import { REPO_ROOT } from './layout.ts';

/** Where sim:build puts the tools; SIM_TOOLS_BIN overrides it (a directory of executables named as below). */
export const TOOLS_BIN = process.env.SIM_TOOLS_BIN ?? join(REPO_ROOT, '.cache', 'sim-tools', 'bin');

/** prometheus-operator's CRDs (its module's example/prometheus-operator-crd), copied there by sim:build. */
export const CRDS_DIR = process.env.SIM_TOOLS_CRDS ?? join(TOOLS_BIN, '..', 'crds');

/** Executable names, as kwokctl and the pod runner call them. */
export const TOOL_NAMES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
  'kwokctl',
  'kubectl',
  'prometheus',
  'alertmanager',
  'prometheus-operator',
  'kube-state-metrics',
  'node_exporter',
] as const;

export type ToolName = (typeof TOOL_NAMES)[number];

export function toolPath(name: ToolName): string {
  return join(TOOLS_BIN, name);
}

/** The tools that are not there as executables, by name. */
export function missingTools(): ToolName[] {
  return TOOL_NAMES.filter((name) => {
    try {
      accessSync(toolPath(name), constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
}

/**
 * The version a tool prints for `--version` (the first vX.Y.Z or X.Y.Z found), e.g. `v3.13.1`
 * for prometheus. Throws with the output when none is found.
 */
export function toolVersion(name: ToolName): string {
  // kube-state-metrics has a `version` subcommand and no --version flag.
  const res = run([toolPath(name), ...(name === 'kube-state-metrics' ? ['version'] : ['--version'])], { timeoutMs: 30_000 });
  const out = `${res.stdout}\n${res.stderr}`;
  const m = /\bv?(\d+\.\d+\.\d+)\b/.exec(out);
  if (!m) throw new Error(`${toolPath(name)} --version printed no version:\n${out.trim()}`);
  return `v${m[1]}`;
}
