/**
 * `node scripts/check-chart-pins.ts`: the first step of `cluster:up`. Reads every pinned chart
 * version (scripts/lib/charts.ts) from its repository's index and exits 1, naming each pin that
 * is not released and how to fix it, before any cluster is created. Exit 0 when all are.
 */
import { CHARTS } from './lib/charts.ts';
import { runPinCheck } from './lib/chart-pins.ts';

process.exitCode = await runPinCheck(CHARTS);
