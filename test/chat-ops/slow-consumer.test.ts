/**
 * Slow consumers: a client that stops reading while its room is busy. Above the soft limit its room
 * messages are dropped and it gets one `gap` frame (it resumes with join + since and misses nothing);
 * above the hard limit, or over the soft limit for the grace period, it is closed with 1013. Nothing
 * is dropped silently, memory does not grow without bound, and the counts show in /metrics.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { type ChatClient, type Frame, type Server, startServer } from '../chat/client.js';

const CONTENT = 'x'.repeat(16_000);

function pause(c: ChatClient): () => void {
  const raw = (c.ws as unknown as { _socket: Socket })._socket;
  raw.pause();
  return () => raw.resume();
}

async function metric(server: Server, name: string): Promise<number> {
  const body = (await server.http('GET', '/metrics')).body;
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(body);
  return m === null ? Number.NaN : Number(m[1]);
}

/** A slow client (its socket paused) and a fast one, both in lobby. */
async function slowAndFast(
  server: Server,
): Promise<{ slow: ChatClient; fast: ChatClient; resume: () => void; joined: Frame }> {
  const slow = await server.connect('slow');
  const fast = await server.connect('fast');
  const joined = await slow.request({ type: 'join', room: 'lobby' });
  await fast.request({ type: 'join', room: 'lobby' });
  return { slow, fast, resume: pause(slow), joined };
}

/** Floods the room from `fast` until `done()` holds, checking every 20 messages; bounded. */
async function floodUntil(_server: Server, fast: ChatClient, done: () => Promise<boolean>): Promise<number> {
  for (let sent = 0; sent < 6_000; ) {
    for (let i = 0; i < 20; i++, sent++) fast.send({ type: 'message', room: 'lobby', content: CONTENT });
    await fast.sync();
    if (await done()) return sent;
  }
  throw new Error('the slow consumer was never detected');
}

describe('slow consumers', () => {
  it('drops room messages above the soft limit with one gap frame, and a resume with since misses nothing', async (t) => {
    const server = await startServer(t, {
      softLimit: 64 * 1024,
      hardLimit: 256 * 1024 * 1024,
      softLimitGraceMs: 60_000,
      history: 100_000,
      rate: 100_000,
      burst: 100_000,
    });
    const { slow, fast, resume, joined } = await slowAndFast(server);
    await floodUntil(server, fast, async () => (await metric(server, 'chat_gaps_total')) > 0);
    // A few more while it is gapped: dropped for it, kept in history.
    for (let i = 0; i < 10; i++) fast.send({ type: 'message', room: 'lobby', content: 'after the gap' });
    await fast.sync();
    const last = fast.received('message').at(-1)?.id as number;
    resume();
    const gap = await slow.next((f) => f.type === 'gap', 'the gap frame');
    const before = slow.received('message');
    assert.deepEqual(
      before.map((m) => m.id),
      Array.from({ length: before.length }, (_, i) => i + 1),
      'everything before the gap arrived, in order',
    );
    assert.equal(gap.room, 'lobby');
    assert.equal(gap.from, before.length + 1, 'the gap starts right after the last message delivered');
    assert.equal(slow.received('gap').length, 1, 'one gap frame, not one per dropped message');
    await slow.sync();
    assert.equal(slow.received('message').length, before.length, 'nothing after the gap until it resumes');
    await slow.take(before.length, (f) => f.type === 'message', 'the messages before the gap');
    // Resume, from each gap again: a replay queues at most the soft limit (PROTOCOL.md), so the rest
    // comes in rounds, each ending with a gap at the first id it did not send.
    const replay: Frame[] = [];
    let at = before.length;
    for (let round = 0; at < last; round++) {
      slow.send({ type: 'join', room: 'lobby', since: { epoch: joined.epoch, id: at }, ref: `resume-${round}` });
      const rejoined = await slow.next((f) => f.ref === `resume-${round}`, 'joined');
      assert.equal(rejoined.recovered, true);
      const until = await slow.next(
        (f) => f.type === 'gap' || (f.type === 'message' && f.id === last),
        'a gap or the last',
      );
      const got = slow.received('message').slice(before.length + replay.length);
      replay.push(...got);
      if (until.type === 'gap') assert.equal(until.from, at + got.length + 1, 'the gap starts after the last sent');
      at = before.length + replay.length;
    }
    assert.deepEqual(
      replay.map((m) => m.id),
      Array.from({ length: last - before.length }, (_, i) => before.length + 1 + i),
    );
    assert.ok((await metric(server, 'chat_dropped_for_slow_total')) > 0);
    assert.equal(slow.ws.readyState, slow.ws.OPEN);
  });

  it('closes with 1013 a socket whose buffer goes over the hard limit', async (t) => {
    const server = await startServer(t, {
      softLimit: 16 * 1024,
      hardLimit: 128 * 1024,
      softLimitGraceMs: 60_000,
      rate: 100_000,
      burst: 100_000,
    });
    const { slow, fast, resume } = await slowAndFast(server);
    // Past the soft limit the room stops writing room messages to it, and DMs stop with an inbox gap;
    // the answers to its own requests still go out (pongs with long refs here) and fill it.
    await floodUntil(server, fast, async () => {
      for (let i = 0; i < 200; i++) slow.send({ type: 'ping', ref: 'p'.repeat(120) });
      return (await metric(server, 'chat_slow_closed_total')) > 0;
    });
    resume();
    assert.equal((await slow.closedWith()).code, 1013);
    assert.equal(fast.ws.readyState, fast.ws.OPEN, 'the fast client is untouched');
  });

  it('closes with 1013 a socket that stays over the soft limit for the grace period', async (t) => {
    const server = await startServer(t, {
      softLimit: 16 * 1024,
      hardLimit: 256 * 1024 * 1024,
      softLimitGraceMs: 200,
      rate: 100_000,
      burst: 100_000,
    });
    const { slow, fast, resume } = await slowAndFast(server);
    await floodUntil(server, fast, async () => (await metric(server, 'chat_gaps_total')) > 0);
    // No more traffic: only the grace period can close it now.
    for (let i = 0; i < 200 && (await metric(server, 'chat_slow_closed_total')) === 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    resume();
    assert.equal((await slow.closedWith()).code, 1013);
  });

  it('closes with 1013 a client that sends and never reads its answers, once the grace period is over', async (t) => {
    const server = await startServer(t, {
      softLimit: 16 * 1024,
      hardLimit: 256 * 1024 * 1024,
      softLimitGraceMs: 200,
      rate: 1_000_000,
      burst: 1_000_000,
    });
    const c = await server.connect('pinger');
    const resume = pause(c);
    // Pongs pile up in its buffer (the kernel's fill first), and nothing else is written to it;
    // each echoes its ref, of the longest kind allowed.
    const ref = 'r'.repeat(128);
    let rounds = 0;
    for (; rounds < 200 && (await metric(server, 'chat_slow_closed_total')) === 0; rounds++) {
      for (let j = 0; j < 2_000; j++) c.send({ type: 'ping', ref });
      await new Promise((r) => setTimeout(r, 25));
    }
    t.diagnostic(`closed after ${rounds} rounds of 2,000 pings`);
    resume();
    assert.equal((await c.closedWith()).code, 1013);
  });
});
