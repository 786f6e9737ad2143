/**
 * The three ways a run must stop at once, as the preflight self-test asserts them and as
 * `npm run bench:fail-fast` times them: a dead cluster (a kubeconfig whose API server is a
 * closed loopback port), a bad configuration (`PROMETHEUS_URL=not-a-url`) and a dead endpoint
 * (`LOKI_URL` at a closed loopback port, OBS-03 selected, so no cluster is needed).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suiteFreeEnv } from './child.ts';
import { freePort } from './local-stack.ts';

export type FailFastName = 'dead-cluster' | 'bad-config' | 'dead-endpoint';

export interface FailFastScenario {
  name: FailFastName;
  /** Variables for the run, on top of `failFastEnv`. */
  env: Record<string, string>;
  /** Extra `playwright test` arguments. */
  args: string[];
  /** The closed port the run is pointed at (0 for bad-config). */
  port: number;
}

/**
 * The environment of a fail-fast run: none of the suite's variables from this process (no
 * developer settings, no `.env`), reports in `reportDir`, plus `extra`.
 */
export function failFastEnv(reportDir: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  return suiteFreeEnv({ OBS_ENV_FILE: join(reportDir, 'none.env'), OBS_REPORT_DIR: reportDir, CI: '', ...extra });
}

/** Writes a kubeconfig whose only cluster is `https://127.0.0.1:<port>` (no credentials) and returns its path. */
export function closedPortKubeconfig(dir: string, port: number): string {
  const path = join(dir, `closed-${port}.kubeconfig`);
  writeFileSync(
    path,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: closed\n  cluster: {server: "https://127.0.0.1:${port}"}\ncontexts:\n- name: closed\n  context: {cluster: closed, user: nobody}\ncurrent-context: closed\nusers:\n- name: nobody\n  user: {}\n`,
  );
  return path;
}

/** The three scenarios, each with a fresh closed port; kubeconfigs are written into `dir`. */
export async function failFastScenarios(dir: string): Promise<FailFastScenario[]> {
  const [clusterPort, lokiPort] = await Promise.all([freePort(), freePort()]);
  return [
    { name: 'dead-cluster', env: { KUBECONFIG: closedPortKubeconfig(dir, clusterPort) }, args: [], port: clusterPort },
    { name: 'bad-config', env: { PROMETHEUS_URL: 'not-a-url' }, args: [], port: 0 },
    { name: 'dead-endpoint', env: { LOKI_URL: `http://127.0.0.1:${lokiPort}`, KUBECONFIG: join(dir, 'missing.kubeconfig') }, args: ['--grep', '@OBS-03\\b'], port: lokiPort },
  ];
}
