import { test, expect } from '../fixtures/index.ts';
test('one', { tag: ['@OBS-01'] }, () => { expect(1).toBe(1); });
