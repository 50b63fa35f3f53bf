import assert from 'node:assert/strict';
import { nextBackoff } from '../../src/retry/backoff.js';

describe('retry backoff', () => {
  const policy = { initialMs: 1000, maxMs: 30_000 };

  it('doubles from the initial delay and stops at the cap', () => {
    const top = (n: number) => nextBackoff(policy, n, () => 1);
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 50].map(top), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('keeps at least half of the delay when jittering', () => {
    assert.equal(nextBackoff(policy, 2, () => 0), 2000);
    assert.equal(nextBackoff(policy, 2, () => 0.5), 3000);
  });
});
