import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ChatClient, type Frame, is, join, type Server, startServer } from './client.js';

/** Sends messages one by one, each acked; answers their ids. */
async function say(c: ChatClient, room: string, n: number, tag = 'm'): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++)
    ids.push((await c.request({ type: 'message', room, content: `${tag}${i}` })).id as number);
  return ids;
}

/** Waits until the server no longer lists `user` in `room`. */
async function gone(observer: ChatClient, user: string, room: string): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (((await observer.request({ type: 'who', room })).users as string[]).includes(user)) {
    assert.ok(Date.now() < deadline, `${user} is still listed in ${room}`);
  }
}

/** A room with alice and bob in it, and `n` messages said. */
async function busyRoom(srv: Server, n: number) {
  const alice = await srv.connect('alice');
  const bob = await srv.connect('bob');
  const first = await join(alice, 'lobby');
  await join(bob, 'lobby');
  const ids = await say(alice, 'lobby', n, 'before');
  return { alice, bob, epoch: first.epoch as string, ids };
}

/** The frames after `joined` on a resuming connection, once nothing more can be in flight. */
async function afterJoined(c: ChatClient, joined: Frame): Promise<Frame[]> {
  await c.sync();
  const all = c.all.map((r) => r.frame);
  return all.slice(all.indexOf(joined) + 1).filter((f) => f.type === 'message');
}

describe('chat resume', () => {
  it('replays exactly the missed messages, in order, after joined with recovered: true', async (t) => {
    const srv = await startServer(t);
    const { alice, bob, epoch } = await busyRoom(srv, 2);
    const carol = await srv.connect('carol');
    assert.equal((await join(carol, 'lobby')).id, 2);
    await say(alice, 'lobby', 1);
    const last = await carol.next(is('message'));
    assert.equal(last.id, 3);
    await carol.close();
    await gone(alice, 'carol', 'lobby');

    const missed = [...(await say(alice, 'lobby', 2, 'a')), ...(await say(bob, 'lobby', 2, 'b'))];
    assert.deepEqual(missed, [4, 5, 6, 7]);

    // Back, as a MessagePack client this time: the replay comes in its encoding too.
    const again = await srv.connect('carol', 'msgpack');
    again.send({ type: 'join', room: 'lobby', since: { epoch, id: last.id }, ref: 'resume' }, 'msgpack');
    const joined = await again.next(is('joined'));
    assert.deepEqual(joined, {
      type: 'joined',
      room: 'lobby',
      ref: 'resume',
      members: 3,
      epoch,
      id: 7,
      recovered: true,
    });
    const replay = await afterJoined(again, joined);
    assert.deepEqual(
      replay.map((f) => [f.id, f.from, f.content]),
      [
        [4, 'alice', 'a0'],
        [5, 'alice', 'a1'],
        [6, 'bob', 'b0'],
        [7, 'bob', 'b1'],
      ],
    );
    assert.ok(
      again.all.filter((r) => r.frame.type === 'message').every((r) => r.binary),
      'replayed in MessagePack',
    );

    // Live messages continue right after the replay.
    await say(bob, 'lobby', 1, 'live');
    assert.equal((await again.next(is('message', { content: 'live0' }))).id, 8);
    assert.deepEqual(
      again.received('message').map((f) => f.id),
      [4, 5, 6, 7, 8],
    );
  });

  it('recovers with nothing to replay when the client has seen the last message', async (t) => {
    const srv = await startServer(t);
    const { alice, epoch } = await busyRoom(srv, 3);
    const carol = await srv.connect('carol');
    const joined = await join(carol, 'lobby', { since: { epoch, id: 3 } });
    assert.deepEqual([joined.recovered, joined.id], [true, 3]);
    assert.deepEqual(await afterJoined(carol, joined), []);
    await say(alice, 'lobby', 1);
    assert.equal((await carol.next(is('message'))).id, 4);
  });

  it('answers recovered: false and replays nothing when since is older than the history', async (t) => {
    const srv = await startServer(t, { history: 3 });
    const { alice, epoch } = await busyRoom(srv, 6); // ids 1..6; ids 4..6 are kept
    const tooOld = await srv.connect('carol');
    const j1 = await join(tooOld, 'lobby', { since: { epoch, id: 2 } });
    assert.deepEqual([j1.recovered, j1.epoch, j1.id], [false, epoch, 6]);
    assert.deepEqual(await afterJoined(tooOld, j1), []);

    // The oldest gap the history can still fill.
    const justInTime = await srv.connect('dave');
    const j2 = await join(justInTime, 'lobby', { since: { epoch, id: 3 } });
    assert.equal(j2.recovered, true);
    assert.deepEqual(
      (await afterJoined(justInTime, j2)).map((f) => f.id),
      [4, 5, 6],
    );

    // Not recovered, but a member all the same: live messages flow.
    await say(alice, 'lobby', 1);
    assert.equal((await tooOld.next(is('message'))).id, 7);
  });

  it('answers recovered: false and replays nothing for another epoch or an id the room never had', async (t) => {
    const srv = await startServer(t);
    const { epoch } = await busyRoom(srv, 3);
    const c = await srv.connect('carol');
    const wrongEpoch = await join(c, 'lobby', { since: { epoch: `${epoch}x`, id: 1 } });
    assert.deepEqual([wrongEpoch.recovered, wrongEpoch.epoch, wrongEpoch.id], [false, epoch, 3]);
    assert.deepEqual(await afterJoined(c, wrongEpoch), []);

    const d = await srv.connect('dave');
    const ahead = await join(d, 'lobby', { since: { epoch, id: 99 } });
    assert.equal(ahead.recovered, false);
    assert.deepEqual(await afterJoined(d, ahead), []);

    const fresh = await srv.connect('erin');
    const newRoom = await join(fresh, 'brand-new', { since: { epoch, id: 0 } });
    assert.equal(newRoom.recovered, false, 'a new room has a new epoch');
    assert.notEqual(newRoom.epoch, epoch);
  });
});
