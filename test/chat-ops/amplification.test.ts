/**
 * Amplification: no request a client repeats makes the server send it more than `--answer-ratio`
 * (100) times the bytes it sent (PROTOCOL.md "Every byte queued for a client is bounded"). Bytes are
 * counted on the client's TCP socket, both ways, upgrade included: a `join` + `since` on a full room
 * over and over, reconnecting to do it again, and `who` in a room of 1,200 users. Each of them used
 * to be sent the whole history or every name each time (x9,399 for the first: 52 MB for 5.6 KB).
 * Replays cut by the budget end in a `gap`, as under the soft limit, and resuming gets the rest.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { type ChatClient, join, type Server, startServer } from '../chat/client.js';

const RATIO = 100;
/** What the server sends that no request asked for: the HTTP 101 answer and the welcome. */
const UNASKED = 400;

function tcp(c: ChatClient): Socket {
  return (c.ws as unknown as { _socket: Socket })._socket;
}

/** Bytes a client sent and received on its TCP socket so far (its upgrade and the server's 101 too). */
function bytes(c: ChatClient): { sent: number; got: number } {
  const s = tcp(c);
  return { sent: s.bytesWritten, got: s.bytesRead };
}

async function fullRoom(server: Server, room: string, n: number, size: number): Promise<string> {
  const filler = await server.connect('filler');
  const joined = await join(filler, room);
  for (let i = 0; i < n; i++) filler.send({ type: 'message', room, content: `${i} ${'h'.repeat(size)}` });
  await filler.syncRoom(room);
  return joined.epoch as string;
}

describe('amplification', () => {
  const options = { history: 500, rate: 10_000, burst: 10_000, maxConnectionsPerIp: 5_000 };

  it('a join + since repeated on a full room is sent at most 100x what it sends', async (t) => {
    const server = await startServer(t, options);
    const epoch = await fullRoom(server, 'full', 500, 2_000);
    const a = await server.connect('attacker');
    for (let i = 0; i < 50; i++) {
      await a.request({ type: 'join', room: 'full', since: { epoch, id: 0 } });
      await a.request({ type: 'leave', room: 'full' });
    }
    await a.sync();
    const { sent, got } = bytes(a);
    t.diagnostic(`join + since x50 on a 1 MB room: sent ${sent} B, got ${got} B, x${(got / sent).toFixed(1)}`);
    assert.ok(got <= RATIO * sent + UNASKED, `got ${got} B for ${sent} B sent (x${(got / sent).toFixed(0)})`);
    // What the budget cut was announced: a gap per cut replay.
    assert.ok(a.received('gap').length > 0);
  });

  it('so is a client that reconnects to resume again', async (t) => {
    const server = await startServer(t, options);
    const epoch = await fullRoom(server, 'full', 500, 2_000);
    let sent = 0;
    let got = 0;
    for (let i = 0; i < 20; i++) {
      const a = await server.connect('attacker');
      await a.request({ type: 'join', room: 'full', since: { epoch, id: 0 } });
      await a.sync();
      const b = bytes(a);
      sent += b.sent;
      got += b.got;
      await a.close();
    }
    t.diagnostic(`connect + join + since x20: sent ${sent} B, got ${got} B, x${(got / sent).toFixed(1)}`);
    assert.ok(got <= RATIO * sent + 20 * UNASKED, `got ${got} B for ${sent} B sent (x${(got / sent).toFixed(0)})`);
  });

  it('a who repeated in a room of 1,200 users is sent at most 100x what it sends', async (t) => {
    const server = await startServer(t, options);
    const members: ChatClient[] = [];
    for (let i = 0; i < 1_200; i++) {
      const c = await server.connect(`user${String(i).padStart(4, '0')}`);
      c.send({ type: 'join', room: 'big' });
      members.push(c);
    }
    await (members.at(-1) as ChatClient).syncRoom('big');
    const asker = await server.connect('asker');
    const first = await asker.request({ type: 'who', room: 'big' });
    let more = 0;
    for (let i = 0; i < 50; i++) {
      const w = await asker.request({ type: 'who', room: 'big' });
      assert.equal(w.type, 'members');
      if (w.more === true) more++;
    }
    const { sent, got } = bytes(asker);
    t.diagnostic(`who x51 in a room of 1,200: sent ${sent} B, got ${got} B, x${(got / sent).toFixed(1)}`);
    assert.ok(got <= RATIO * sent + UNASKED, `got ${got} B for ${sent} B sent (x${(got / sent).toFixed(0)})`);
    // Cut answers say so: the first names, sorted, and more:true.
    assert.equal(more, 50);
    const names = first.users as string[];
    assert.deepEqual(names, [...names].sort());
    assert.equal(names[0], 'user0000');
  });

  it('a replay cut by the budget resumes from its gap to the end, in order, once each', async (t) => {
    const server = await startServer(t, options);
    const epoch = await fullRoom(server, 'full', 300, 2_000);
    const reader = await server.connect('reader');
    let at = 0;
    let rounds = 0;
    for (;;) {
      rounds++;
      const r = await reader.request({ type: 'join', room: 'full', since: { epoch, id: at } });
      assert.equal(r.recovered, true);
      await reader.sync();
      const gap = reader.unread('gap').at(-1);
      if (gap === undefined) break;
      await reader.next((f) => f.type === 'gap', 'the gap');
      at = (gap.from as number) - 1;
    }
    const ids = reader.received('message').map((f) => f.id as number);
    t.diagnostic(`300 messages of 2 KB resumed in ${rounds} rounds`);
    assert.deepEqual(
      ids,
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
  });
});
