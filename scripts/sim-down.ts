/**
 * `npm run sim:down`: removes the simulated cluster obs-sim and everything sim:up made
 * (processes, network namespace, veth, routes, .cache/sim), also after a half-failed sim:up.
 */
import { simDown } from './lib/sim/down.ts';
import { parseFlags } from './lib/run-plan.ts';

const USAGE = `Usage: npm run sim:down
  Removes the simulated cluster obs-sim and everything npm run sim:up made; safe to run again.`;

try {
  const flags = parseFlags(process.argv.slice(2), []);
  if (flags.has('--help')) {
    console.log(USAGE);
  } else {
    const started = Date.now();
    await simDown((line) => console.log(line));
    console.log(`Simulated cluster obs-sim removed in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
