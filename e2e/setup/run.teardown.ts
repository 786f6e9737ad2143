import { test as teardown } from '../../fixtures/index.ts';
teardown('cleanup', () => { console.log('TEARDOWN'); });
