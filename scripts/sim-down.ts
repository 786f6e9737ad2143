/**
 * `npm run sim:down`: removes the simulated cluster obs-sim and everything sim:up made
 * (processes, network namespace, veth, routes, .cache/sim), also after a half-failed sim:up.
 */

const USAGE = `Usage: npm run sim:down
  Removes the simulated cluster obs-sim and everything npm run sim:up made; safe to run again.`;

try {
  const args = process.argv.slice(2);
  if (args.some((a) => a === '--help' || a === '-h')) {
    console.log(USAGE);
  } else if (args.length) {
    throw new Error(`Unknown argument ${JSON.stringify(args[0])}\n${USAGE}`);
  } else if (process.getuid?.() !== 0) {
    throw new Error('sim:down needs root (it removes a network namespace): run it as root, e.g. `sudo npm run sim:down`.');
  } else {
    const { simDown } = await import('./lib/sim/down.ts');
    const started = Date.now();
    await simDown((line) => console.log(line));
    console.log(`Simulated cluster obs-sim removed in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
