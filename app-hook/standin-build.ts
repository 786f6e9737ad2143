/**
 * Builds the stand-in TaskPlanner unless `build/` already comes from the current sources.
 * Run under `flock` by `ensureStandinBuilt`: self-tests run in parallel, and a build that
 * replaced `build/` under a running server would break its lazily loaded route chunks.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const hookDir = fileURLToPath(new URL('.', import.meta.url));
export const APP_DIR = join(hookDir, 'demo-app');
export const BUILD_DIR = join(APP_DIR, 'build');
const STAMP = join(BUILD_DIR, '.source-hash');

/** A hash over everything that goes into the build, so a checkout with new mtimes does not rebuild. */
export function sourceHash(): string {
  const files = [
    ...walk(join(hookDir, 'src')),
    ...walk(join(APP_DIR, 'src')),
    join(APP_DIR, 'svelte.config.ts'),
    join(APP_DIR, 'vite.config.ts'),
    join(APP_DIR, 'package.json'),
  ].sort();
  const hash = createHash('sha256');
  for (const f of files) hash.update(relative(hookDir, f)).update('\0').update(readFileSync(f)).update('\0');
  return hash.digest('hex');
}

export function isBuildCurrent(): boolean {
  return existsSync(STAMP) && readFileSync(STAMP, 'utf8') === sourceHash();
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

async function build(): Promise<void> {
  // SvelteKit finds svelte.config.js in the working directory.
  process.chdir(APP_DIR);
  const { build: viteBuild } = await import('vite');
  await viteBuild({ root: APP_DIR, configFile: join(APP_DIR, 'vite.config.ts') });
  writeFileSync(STAMP, sourceHash());
}

if (import.meta.url === `file://${process.argv[1]}` && !isBuildCurrent()) await build();
