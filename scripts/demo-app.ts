/**
 * `PORT=3000 npm run demo-app`: the stand-in TaskPlanner, built first when its sources
 * changed. Runs in this process, so adapter-node's own SIGTERM/SIGINT handling applies.
 * METRICS_ENABLED, METRICS_TOKEN and METRICS_PORT configure the hook (app-hook/README.md).
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { ensureStandinBuilt } from '../app-hook/standin.ts';
import { BUILD_DIR } from '../app-hook/standin-build.ts';

ensureStandinBuilt();
await import(pathToFileURL(join(BUILD_DIR, 'index.js')).href);
