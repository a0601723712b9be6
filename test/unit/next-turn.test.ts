/**
 * The engine schedules batches with nextTurn, which must work where setImmediate does
 * not exist (browsers): there it posts a MessageChannel message.
 */
import { expect } from '../helpers/chai.js';
import { nextTurn } from '../../sdk/util/next-turn.js';

describe('nextTurn', () => {
  const g = globalThis as { setImmediate?: unknown; clearImmediate?: unknown };

  for (const where of ['with setImmediate (Node)', 'without setImmediate (browsers)']) {
    it(`runs the callback after the current turn, in order, and can cancel it — ${where}`, async () => {
      const saved = { set: g.setImmediate, clear: g.clearImmediate };
      if (where.startsWith('without')) {
        g.setImmediate = undefined;
        g.clearImmediate = undefined;
      }
      try {
        const seen: string[] = [];
        const done = new Promise<void>((resolve) => {
          nextTurn(() => seen.push('a'));
          const cancel = nextTurn(() => seen.push('cancelled'));
          nextTurn(() => {
            seen.push('b');
            resolve();
          });
          cancel();
          seen.push('sync');
        });
        await done;
        expect(seen).to.deep.equal(['sync', 'a', 'b']);
      } finally {
        g.setImmediate = saved.set;
        g.clearImmediate = saved.clear;
      }
    });
  }
});
