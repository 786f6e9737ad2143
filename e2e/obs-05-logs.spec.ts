import { test, expect } from '../fixtures/index.ts';
test('five api', { tag: ['@OBS-05'] }, () => { expect(1).toBe(1); });
test('five ui', { tag: ['@OBS-05', '@ui'] }, () => { expect(1).toBe(1); });
