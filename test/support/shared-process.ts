/**
 * The shared process of `npm run selftest` (scripts/lib/selftest-order.ts says why): node:test
 * runs this as one test file, and it loads each test file named in `SHARED_FILES_ENV` (a JSON
 * array of absolute paths), whose tests then run here one file after another, as
 * `node --test --test-isolation=none` would run them. A file that cannot be loaded becomes one
 * failing test under its own name, and the other files still run.
 */
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
// Nothing imports this module: it is an entry point, and a test file it loads that imported it
// back would wait on this module's own top-level await for ever.
import { SHARED_FILES_ENV } from '../../scripts/lib/selftest-order.ts';

const files = JSON.parse(process.env[SHARED_FILES_ENV] ?? '[]') as string[];
for (const file of files) {
  try {
    await import(pathToFileURL(file).href);
  } catch (err) {
    void test(`${file} could not be loaded`, () => {
      throw err;
    });
  }
}
