import { test as setup } from '../../fixtures/index.ts';

setup('preflight', ({ }, testInfo) => {
  console.log('GREP', String(testInfo.config.grep), String(testInfo.config.grepInvert), testInfo.project.grep);
});
