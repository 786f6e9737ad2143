/**
 * How `npm run selftest` lays out its test files on a 2-core machine, from the durations of the
 * previous run: short files together in one process, the rest each in its own, longest first.
 *
 * Why: the self-tests are CPU-bound. A file in its own process pays Node's start-up and loads
 * its imports (zod, yaml, the Kubernetes client…) again: for the ~40 files that take under a
 * few seconds that was 23 CPU-seconds of the run's ~190, against 6.5 when they share one process
 * (measured 2026-11-30). The few long files (real Playwright runs, a wait that must time out,
 * real Prometheus rule evaluations) take ten to fifty times as long as the rest; started in
 * alphabetical order they came last and left the machine idle while the last of them finished.
 * Started first, the short work fills the gaps beside them (longest-processing-time-first
 * scheduling, as Jest's test sequencer does with the previous run's durations).
 *
 * None of this changes what a test asserts: the figures only choose the order and which files
 * share a process. Files with no figure (new files, or all of them on a fresh clone) run in
 * their own process, first.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Per test file (path relative to the repository root), how long its tests took last time, in milliseconds. */
export type FileDurations = Record<string, number>;

/** The variable that names, as a JSON array of absolute paths, the files the shared process (test/support/shared-process.ts) loads. */
export const SHARED_FILES_ENV = 'OBS_SELFTEST_SHARED';

/** Files whose tests took less than this last time share one process (milliseconds). */
export const SHARED_BELOW_MS = 3_000;

/** One process of the run: one file, or several run one after another in the shared process. */
export interface SelftestJob {
  files: string[];
  /** The files' recorded durations added up (ms); undefined when a file has none. */
  ms: number | undefined;
}

/**
 * The processes to start for `files`, in the order to start them: jobs with no recorded
 * duration first (in the order given), then by duration, longest first (equal durations keep
 * the order given). Files recorded under `sharedBelowMs` form one job, placed by their sum.
 * `files` is not changed.
 */
export function planSelftest(files: readonly string[], durations: FileDurations, sharedBelowMs = SHARED_BELOW_MS): SelftestJob[] {
  const known = (f: string): number | undefined => (Object.hasOwn(durations, f) && Number.isFinite(durations[f]) ? durations[f] : undefined);
  const shared = files.filter((f) => (known(f) ?? Infinity) < sharedBelowMs);
  const jobs: SelftestJob[] = files.filter((f) => !shared.includes(f)).map((f) => ({ files: [f], ms: known(f) }));
  // A shared process of one file saves nothing.
  if (shared.length === 1) jobs.push({ files: shared, ms: known(shared[0] as string) });
  else if (shared.length) jobs.push({ files: shared, ms: shared.reduce((sum, f) => sum + (known(f) as number), 0) });
  const unknown = jobs.filter((j) => j.ms === undefined);
  const timed = jobs.filter((j) => j.ms !== undefined).sort((a, b) => (b.ms as number) - (a.ms as number));
  return [...unknown, ...timed];
}

/**
 * The durations recorded at `path` (JSON written by `saveDurations`); an empty record when the
 * file is missing or is not such a record. It is a cache, not a source of truth: a bad one only
 * costs the layout.
 */
export function loadDurations(path: string): FileDurations {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]) && e[1] >= 0));
}

/**
 * Writes `measured` (file relative to the repository root → ms) to `path`, replacing what was
 * there: only a run of every file records, so files that are gone leave the record with it.
 * Creates the folder.
 */
export async function saveDurations(path: string, measured: ReadonlyMap<string, number>): Promise<void> {
  const record: FileDurations = Object.fromEntries([...measured].map(([file, ms]) => [file, Math.round(ms)]));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(record, null, 1)}\n`);
}
