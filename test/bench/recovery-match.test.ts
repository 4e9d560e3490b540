import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchCrashes } from '../../bench/chat/recovery.js';

const MS = 1_000_000;

describe("recovery: pairing crashes with the server's timing", () => {
  it('times the measured window in the server and leaves the warm-up crashes to their own figures', () => {
    // Warm-up crashes at 1 and 2 ms, the measured window's at 10 and 20 ms (its first sent at 9.9 ms).
    const t = matchCrashes(
      [
        [9.9 * MS, 11.5 * MS],
        [19.9 * MS, 21 * MS],
      ],
      {
        recoveries: [
          [1 * MS, 4 * MS, 'room'],
          [2 * MS, 5 * MS, 'socket'],
          [10 * MS, 10.5 * MS, 'room'],
          [20 * MS, 20.25 * MS, 'socket'],
        ],
      },
      9.9 * MS,
    );
    // In the server: the measured crashes only (0.5 and 0.25 ms), each under its own actor.
    assert.equal(t.inproc.count, 2);
    assert.deepEqual(t.inprocMs, [0.5, 0.25]);
    assert.equal(t.inprocRoom.count, 1);
    assert.equal(t.inprocSocket.count, 1);
    // The warm-up's 3 ms recoveries are not in them, but in the warm-up figures.
    assert.equal(t.warmupRoom.count, 1);
    assert.equal(t.warmupSocket.count, 1);
    assert.ok(t.warmupRoom.quantile(0.99) >= 2_900);
    // End to end: each logged crash pairs with the first crash thrown after its send, not a warm-up one.
    assert.equal(t.unmatched, 0);
    assert.deepEqual(t.endToEndMs, [1.5, 1]);
    // Crash and probe sent -> first delivery: 1.6 and 1.1 ms.
    assert.equal(t.probe.count, 2);
    assert.ok(t.probe.max >= 1_590 && t.probe.max <= 1_610);
  });

  it('counts a logged crash the server never timed, and pairs the next one with its own throw', () => {
    // The crash sent at 10 ms was never thrown (or its probe never written); the next one was.
    const t = matchCrashes(
      [
        [10 * MS, 0],
        [20 * MS, 21 * MS],
      ],
      { recoveries: [[20.2 * MS, 20.5 * MS, 'socket']] },
      10 * MS,
    );
    assert.equal(t.unmatched, 1);
    assert.deepEqual(t.endToEndMs, [0.8]);
    assert.equal(t.inprocSocket.count, 1);
  });
});
