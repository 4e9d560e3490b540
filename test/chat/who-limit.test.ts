/**
 * `who` in a room of more than 1,000 users answers the first 1,000 names, sorted, with
 * `"more":true` (PROTOCOL.md "Every byte queued for a client is bounded"): a tiny request never
 * asks for an answer the size of a room. Real sockets: 1,003 clients join one room.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WHO_LIMIT } from '../../examples/chat/src/users.js';
import { type ChatClient, join, startServer } from './client.js';

describe('who, bounded', () => {
  it('answers the first 1,000 names sorted and more:true in a room of 1,003 users', async (t) => {
    // All from 127.0.0.1: past the default per-address cap of 1,000.
    const srv = await startServer(t, { maxConnectionsPerIp: 2_000 });
    const names = Array.from({ length: WHO_LIMIT + 3 }, (_, i) => `u${String(i).padStart(4, '0')}`);
    const clients = [];
    for (let i = 0; i < names.length; i += 100) {
      const batch = await Promise.all(names.slice(i, i + 100).map((n) => srv.connect(n)));
      await Promise.all(batch.map((c) => join(c, 'big')));
      clients.push(...batch);
    }
    const asker = await srv.connect('asker');
    await join(asker, 'big');
    const answer = await asker.request({ type: 'who', room: 'big' });
    assert.equal(answer.type, 'members');
    assert.equal(answer.more, true);
    const users = answer.users as string[];
    assert.equal(users.length, WHO_LIMIT);
    assert.deepEqual(users, [...names, 'asker'].sort().slice(0, WHO_LIMIT));
    // The names stay in order as users come and go after the first `who` (the room keeps them
    // sorted from then on): one who sorts first joins, the first one leaves (its last connection).
    const early = await srv.connect('a-early');
    await join(early, 'big');
    const first = names[0] as string;
    assert.equal((await (clients[0] as ChatClient).request({ type: 'leave', room: 'big' })).type, 'left');
    const again = await asker.request({ type: 'who', room: 'big' });
    assert.deepEqual(again.users, ['a-early', ...names.filter((n) => n !== first), 'asker'].sort().slice(0, WHO_LIMIT));
    // A room within the limit: every name, and no `more`.
    const small = await asker.request({ type: 'who', room: 'nobody-here' });
    assert.deepEqual(small.users, []);
    assert.equal(small.more, undefined);
  });
});
