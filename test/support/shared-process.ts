/**
 * The shared process of `npm run selftest` (scripts/lib/selftest-order.ts says why): node:test
 * runs this as one test file, and it loads each test file named in `SHARED_FILES_ENV` (a JSON
 * array of absolute paths), whose tests then run here one file after another, as
 * `node --test --test-isolation=none` would run them.
 *
 * Sharing must not hide a failure that a process of its own would show:
 * - a file that cannot be loaded becomes one failing test under its own name, the process
 *   exits 1 even when a name pattern filters that test out, and the other files still run;
 * - `process.exit` throws here instead of ending the process, which would drop the reports of
 *   every file not yet finished (a test that calls it fails, naming why).
 */
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
// Nothing imports this module: it is an entry point, and a test file it loads that imported it
// back would wait on this module's own top-level await for ever.
import { SHARED_FILES_ENV } from '../../scripts/lib/selftest-order.ts';

process.exit = (code?: string | number | null): never => {
  throw new Error(`process.exit(${code ?? ''}) in the shared self-test process (test/support/shared-process.ts) would end every file in it; a test asserts instead`);
};

const files = JSON.parse(process.env[SHARED_FILES_ENV] ?? '[]') as string[];
for (const file of files) {
  try {
    await import(pathToFileURL(file).href);
  } catch (err) {
    process.exitCode = 1;
    void test(`${file} could not be loaded`, () => {
      throw err;
    });
  }
}
