import { describe, expect, it } from 'vitest';
import { openPglite } from '../src/store/index.ts';

describe('the embedded database gives the event loop turns', () => {
  it('a timer fires while a long chain of awaited queries is still running, not after it', async () => {
    const db = await openPglite();
    try {
      // PGlite answers each query as a microtask; without turns, a timer (or a socket read) waits for the whole chain.
      let done = 0;
      let doneWhenTimerFired = -1;
      setTimeout(() => (doneWhenTimerFired = done), 0);
      const queries = 1000;
      for (let i = 0; i < queries; i++) {
        await db.query('select $1::int as n', [i]);
        done += 1;
      }
      expect(doneWhenTimerFired).toBeGreaterThanOrEqual(0);
      expect(doneWhenTimerFired).toBeLessThan(queries);
    } finally {
      await db.close();
    }
  });
});
