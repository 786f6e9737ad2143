/**
 * `npm run sim:up`: a simulated cluster shaped like the nightly's k3d cluster — real
 * kube-apiserver, controller-manager, scheduler and etcd; kwok playing three nodes and their
 * pods; the real prometheus-operator, Prometheus, Alertmanager, kube-state-metrics,
 * node-exporter and the stand-in TaskPlanner behind their pods — inside the network namespace
 * obs-sim. Needs root and the sim tools (`npm run sim:build`). Prints the .env lines to use.
 * How it is built: scripts/lib/sim/up.ts; what is real and what is simulated: sim/README.md.
 */
import { preconditionProblems } from './lib/sim/preconditions.ts';

const USAGE = `Usage: npm run sim:up
  Starts (or completes) the simulated cluster obs-sim; idempotent. Remove it with npm run sim:down.`;

try {
  const args = process.argv.slice(2);
  const problems = preconditionProblems();
  if (args.some((a) => a === '--help' || a === '-h')) {
    console.log(USAGE);
  } else if (args.length) {
    throw new Error(`Unknown argument ${JSON.stringify(args[0])}\n${USAGE}`);
  } else if (problems.length) {
    // Checked before the heavy imports below, so a run that cannot start says so at once.
    throw new Error(`sim:up cannot start:\n- ${problems.join('\n- ')}`);
  } else {
    const { envLines, simUp } = await import('./lib/sim/up.ts');
    const result = await simUp((line) => console.log(line));
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(`\nSimulated cluster obs-sim is ready in ${seconds(result.elapsedMs)} (${result.steps.map((s) => `${s.step} ${seconds(s.ms)}`).join(', ')}).`);
    console.log(`\nFor the suite, put in .env (or the environment):\n${envLines().map((l) => `  ${l}`).join('\n')}`);
    console.log(`Prometheus, Alertmanager and TaskPlanner are then reached by port-forward through the API server (the .env.example defaults).`);
    console.log(`From this machine they also answer directly: Prometheus ${result.prometheusUrl}, Alertmanager ${result.alertmanagerUrl}.`);
    console.log(`Next: npx playwright test --grep "@OBS-0[168]\\b"`);
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
