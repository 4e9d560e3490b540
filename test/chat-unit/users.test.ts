/**
 * A room's user counts (examples/chat/src/users.ts): users counted in and out by connection, and
 * their names kept in order for `who` once asked, through any mix of comings and goings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { namesWithin, UserCounts, WHO_LIMIT } from '../../examples/chat/src/users.js';

describe('UserCounts', () => {
  it('counts connections per user: a user is new with its first and gone with its last', () => {
    const u = new UserCounts();
    assert.equal(u.add('bob'), true);
    assert.equal(u.add('bob'), false);
    assert.equal(u.remove('bob'), false);
    assert.equal(u.has('bob'), true);
    assert.equal(u.remove('bob'), true);
    assert.equal(u.has('bob'), false);
    assert.equal(u.remove('nobody'), false, 'a user never counted does not leave');
    assert.equal(u.set('carol', 2), false);
    assert.equal(u.set('carol', 0), true);
    assert.equal(u.size, 0);
  });

  it('keeps the sorted names in step with every change once they were asked for, without sorting again', () => {
    const u = new UserCounts();
    // A fixed pseudo-random walk: joins, second connections, leaves, recounts and a clear.
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const names = Array.from({ length: 60 }, (_, i) => `u${(i * 37) % 60}-${String.fromCharCode(65 + (i % 26))}`);
    const sorted = u.sorted();
    for (let step = 0; step < 2_000; step++) {
      const name = names[rand(names.length)] as string;
      const op = rand(10);
      if (op < 5) u.add(name);
      else if (op < 8) u.remove(name);
      else if (op < 9) u.set(name, rand(3));
      else u.delete(name);
      if (step === 1_000) u.clear();
      const now = u.sorted();
      if (step < 1_000) assert.equal(now, sorted, 'the same array, kept in order, not made again');
      assert.deepEqual(now, [...u.keys()].sort(), `step ${step}`);
    }
  });

  it('answers who with the first names within a byte budget, and more when some are left out', () => {
    const names = Array.from({ length: WHO_LIMIT + 5 }, (_, i) => `user${String(i).padStart(5, '0')}`);
    const [all] = namesWithin('r', names.slice(0, 3), 100_000);
    assert.deepEqual(all, { type: 'members', room: 'r', users: names.slice(0, 3) });
    const [capped] = namesWithin('r', names, 1_000_000);
    assert.equal(capped.users.length, WHO_LIMIT);
    assert.equal(capped.more, true);
    // Each name costs its length and 3 (quotes, comma); the frame 64 and the room's name.
    const [cut, bytes] = namesWithin('r', names, 65 + 12 * 10);
    assert.deepEqual(cut.users, names.slice(0, 10));
    assert.equal(cut.more, true);
    assert.equal(bytes, 65 + 12 * 10);
    assert.deepEqual(namesWithin('r', names, 0)[0], { type: 'members', room: 'r', users: [], more: true });
  });
});
