/**
 * What sim:up needs from the machine before it touches anything: root, iproute2, the sim
 * tools. Kept free of heavy imports (client-node, Playwright's expect) so that a run that cannot
 * start says why within a second or two.
 */
import { run } from './exec.ts';
import { missingTools, TOOLS_BIN } from './tools.ts';

/** Why sim:up cannot start here, as sentences with the fix; empty when it can. */
export function preconditionProblems(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('sim:up needs root (it creates a network namespace, a veth pair and routes): run it as root, e.g. `sudo npm run sim:up`.');
  if (run(['ip', '-V']).code !== 0) problems.push('The `ip` command (iproute2) is missing: `apt-get install iproute2`.');
  const missing = missingTools();
  if (missing.length) problems.push(`The sim tools are not built (missing in ${TOOLS_BIN}: ${missing.join(', ')}): run \`npm run sim:build\` first.`);
  return problems;
}
