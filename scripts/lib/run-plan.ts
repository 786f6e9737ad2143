/**
 * Runs a plan from cluster-plan.ts with zx, or prints it. Output of every command streams
 * through, so a failing `helm --wait` or `kubectl wait` shows its own reason; the failure
 * message then names the step, the command and how to continue.
 */
import { $ } from 'zx';
import { formatPlan, shellQuote, type Step } from './cluster-plan.ts';

export interface RunOptions {
  dryRun: boolean;
  /** Where the plan's relative paths (values files, manifests) are resolved: the repository root. */
  cwd: string;
  log?: (line: string) => void;
}

export class StepFailed extends Error {
  readonly step: Step;
  readonly exitCode: number | null;
  constructor(step: Step, index: number, exitCode: number | null) {
    super(
      `Step ${index + 1} failed (exit ${exitCode ?? 'signal'}): ${step.title}\n` +
        `  command: ${shellQuote(step.argv)}\n` +
        '  Every step is idempotent: fix the cause shown above and run the same command again.',
    );
    this.name = 'StepFailed';
    this.step = step;
    this.exitCode = exitCode;
  }
}

export async function runPlan(steps: readonly Step[], options: RunOptions): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(line));
  if (options.dryRun) {
    log(`Dry run: ${steps.length} step${steps.length === 1 ? '' : 's'}, nothing is executed.\n${formatPlan(steps)}`);
    return;
  }
  const sh = $({ cwd: options.cwd, verbose: false, quiet: false, nothrow: true, stdio: ['ignore', 'inherit', 'inherit'] });
  const probe = $({ cwd: options.cwd, verbose: false, quiet: true, nothrow: true });
  for (const [i, step] of steps.entries()) {
    if (step.only) {
      const probed = await probe`${step.only.argv}`;
      const succeeded = probed.exitCode === 0;
      if (succeeded !== (step.only.when === 'succeeds')) {
        log(`[${i + 1}/${steps.length}] skip: ${step.title} (\`${shellQuote(step.only.argv)}\` ${succeeded ? 'succeeded' : 'failed'})`);
        continue;
      }
    }
    log(`[${i + 1}/${steps.length}] ${step.title}\n  $ ${shellQuote(step.argv)}`);
    const out = await sh`${step.argv}`;
    if (out.exitCode !== 0) throw new StepFailed(step, i, out.exitCode);
  }
}

/** The flags both cluster scripts accept; anything else is refused so a typo does not build the wrong cluster. */
export function parseFlags(argv: readonly string[], allowed: readonly string[]): Set<string> {
  const flags = new Set<string>();
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') flags.add('--help');
    else if (allowed.includes(arg)) flags.add(arg);
    else throw new Error(`Unknown argument ${JSON.stringify(arg)}; accepted: ${[...allowed, '--help'].join(', ')}`);
  }
  return flags;
}
