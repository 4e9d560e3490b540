/**
 * The DM inbox (PROTOCOL.md "DM inbox"), over real sockets: an acknowledged DM is never silently
 * lost. A reader that does not keep up gets what fits under the soft limit, then one
 * `{"type":"gap","inbox":true,"from":N}`, and the rest when it resumes with `inbox` + `since`, in
 * order, once each; a connection that reconnects resumes from its last id; a DM to a user with no
 * connection is `no_such_user` and kept nowhere.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { type ChatClient, startServer } from '../chat/client.js';

const dmIds = (c: ChatClient) => c.received('dm').map((f) => f.id as number);

describe('the DM inbox', () => {
  it('keeps every acknowledged DM for a reader that falls behind: a gap, then resume from it', async (t) => {
    const SOFT = 64 * 1024;
    // An inbox big enough for the whole burst (the byte budget is --history-bytes), and more DMs than
    // loopback's kernel buffers take (several MB), so that uWS's own buffer passes the soft limit.
    const server = await startServer(t, {
      softLimit: SOFT,
      softLimitGraceMs: 60_000,
      rate: 10_000,
      burst: 10_000,
      history: 2_000,
      historyBytes: 64 * 1024 * 1024,
    });
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const welcome = bob.all[0]?.frame as unknown as { inbox: { epoch: string; id: number } };
    assert.equal(welcome.inbox.id, 0);
    const socket = (bob.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const N = 800;
    for (let i = 0; i < N; i++) alice.send({ type: 'dm', to: 'bob', content: `${i} ${'d'.repeat(16_000)}`, ref: i });
    await alice.until(() => (alice.received('ack').length === N ? true : undefined), 'every ack');
    socket.resume();
    const gap = await bob.next((f) => f.type === 'gap', 'the inbox gap');
    assert.equal(gap.inbox, true);
    const from = gap.from as number;
    assert.deepEqual(
      dmIds(bob),
      Array.from({ length: from - 1 }, (_, i) => i + 1),
      'every DM before the gap',
    );
    let at = from - 1;
    let rounds = 1;
    while (at < N) {
      const r = await bob.request({ type: 'inbox', since: { epoch: welcome.inbox.epoch, id: at } });
      assert.equal(r.type, 'inbox');
      assert.equal(r.recovered, true);
      assert.equal(r.id, N);
      // The end (0), or the next gap's first id (which may be N itself).
      const end = await bob.until(
        () => (dmIds(bob).length === N ? 0 : (bob.unread('gap').at(-1)?.from as number | undefined)),
        'the next gap or the end',
      );
      if (end !== 0) await bob.next((f) => f.type === 'gap', 'that gap');
      at = end === 0 ? N : end - 1;
      rounds++;
    }
    t.diagnostic(`${N} DMs of 16 KB to a reader that fell behind: all ${N} arrived, in ${rounds} rounds`);
    assert.deepEqual(
      dmIds(bob),
      Array.from({ length: N }, (_, i) => i + 1),
      'all, in order, once each',
    );
    assert.deepEqual(
      bob.received('dm').map((f) => Number((f.content as string).split(' ')[0])),
      Array.from({ length: N }, (_, i) => i),
    );
  });

  it('lets a connection that reconnects resume the DMs it missed, from the welcome position', async (t) => {
    const server = await startServer(t);
    const alice = await server.connect('alice');
    const bobStays = await server.connect('bob');
    let bob = await server.connect('bob');
    await alice.request({ type: 'dm', to: 'bob', content: 'one', ref: 'a' });
    await bob.until(() => (dmIds(bob).length === 1 ? true : undefined), 'the first');
    const last = dmIds(bob).at(-1) as number;
    const epoch = (bob.all[0]?.frame as unknown as { inbox: { epoch: string } } | undefined)?.inbox.epoch;
    await bob.close();
    // While it is away, two more reach bob's other connection (and the inbox).
    await alice.request({ type: 'dm', to: 'bob', content: 'two', ref: 'b' });
    await alice.request({ type: 'dm', to: 'bob', content: 'three', ref: 'c' });
    await bobStays.until(() => (dmIds(bobStays).length === 3 ? true : undefined), 'all three on the other');
    bob = await server.connect('bob');
    const welcome = bob.all[0]?.frame as unknown as { inbox: { epoch: string; id: number } };
    assert.deepEqual(welcome.inbox, { epoch, id: 3 }, 'the welcome says where the inbox is');
    const r = await bob.request({ type: 'inbox', since: { epoch, id: last } });
    assert.equal(r.recovered, true);
    await bob.until(() => (dmIds(bob).length === 2 ? true : undefined), 'the two it missed');
    assert.deepEqual(
      bob.received('dm').map((f) => f.content),
      ['two', 'three'],
    );
    // Another epoch, or an id no longer kept: recovered false, nothing replayed.
    const other = await bob.request({ type: 'inbox', since: { epoch: 'nope', id: 0 } });
    assert.equal(other.recovered, false);
  });

  it('gives all of a user’s connections one inbox epoch before its first DM, and resumes from it', async (t) => {
    const server = await startServer(t);
    const alice = await server.connect('alice');
    const position = (c: ChatClient) =>
      (c.all[0]?.frame as unknown as { inbox: { epoch: string; id: number } } | undefined)?.inbox;
    const first = await server.connect('bob');
    const second = await server.connect('bob');
    const epoch = position(first)?.epoch;
    assert.equal(typeof epoch, 'string');
    assert.deepEqual(position(second), { epoch, id: 0 }, 'the second connection, welcomed before any DM');
    await first.close();
    // The first DM makes the inbox: it keeps the epoch the connections were welcomed with.
    await alice.request({ type: 'dm', to: 'bob', content: 'one', ref: 'a' });
    await second.until(() => (dmIds(second).length === 1 ? true : undefined), 'the DM on the second');
    const back = await server.connect('bob');
    assert.deepEqual(position(back), { epoch, id: 1 });
    const r = await back.request({ type: 'inbox', since: { epoch, id: 0 } });
    assert.equal(r.recovered, true, 'the first connection’s welcome position still resumes');
    await back.until(() => (dmIds(back).length === 1 ? true : undefined), 'the DM it missed');
    // A user whose every connection went before any DM starts again with another epoch.
    const carol = await server.connect('carol');
    const was = position(carol)?.epoch;
    await carol.close();
    const again = await server.connect('carol');
    assert.notEqual(position(again)?.epoch, was);
    assert.equal(position(again)?.id, 0);
  });

  it('keeps no DM for a user with no connection: no_such_user, and an empty inbox when it comes', async (t) => {
    const server = await startServer(t);
    const alice = await server.connect('alice');
    const refused = await alice.request({ type: 'dm', to: 'ghost', content: 'hello?' });
    assert.equal(refused.code, 'no_such_user');
    const ghost = await server.connect('ghost');
    assert.equal((ghost.all[0]?.frame as unknown as { inbox: { id: number } } | undefined)?.inbox.id, 0);
  });
});
