/**
 * `@troupe/uws/testing`: a socket actor unit-tested without a network. The fake socket's handle is a
 * real `SocketHandle` over a fake uWS socket; the actor runs in an ActorSystem on a SimulatedClock,
 * so its heartbeat fires when the test says so. Checked: what the actor writes (text and binary, in
 * order, batched per event-loop turn), closing at either end (code, reason), and backpressure
 * (`bufferedAmount`, the buffer limit, `socket.drain`), each as the server does it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SocketArgs, type SocketEvent, SocketHandle } from '@troupe/uws';
import { createFakeSocket } from '@troupe/uws/testing';
import { ActorSystem, type Behavior, silentLogger, type Timer } from 'troupe';
import { createProbe, SimulatedClock, settle } from 'troupe/testing';

type Session = { readonly name: string };
type Beat = { readonly type: 'beat' };
type Msg = SocketEvent | Beat;
interface State {
  readonly socket: SocketArgs<Session>['socket'];
  readonly heartbeat: Timer;
  /** Frames held back while the peer is slow, sent on drain. */
  readonly held: string[];
}

/** Bytes of unread output past which the actor holds its frames back until the socket drains. */
const SLOW_BYTES = 10;

/**
 * The actor under test: greets, echoes text in upper case and bytes reversed, holds its output
 * back while the peer is slow, beats every second, and closes on 'bye' (1000) or 'kick' (4000).
 */
const shouter: Behavior<Msg, State, SocketArgs<Session>> = {
  init(ctx, { socket }) {
    socket.send(`hello ${socket.session.name}`);
    return { socket, heartbeat: ctx.sendInterval(ctx.self, { type: 'beat' }, 1_000), held: [] };
  },
  receive(state, msg) {
    const { socket } = state;
    const out = (text: string) => {
      if (socket.bufferedAmount > SLOW_BYTES) state.held.push(text);
      else socket.send(text);
    };
    switch (msg.type) {
      case 'beat':
        out('beat');
        return state;
      case 'socket.drain':
        for (const text of state.held.splice(0)) socket.send(text);
        return state;
      case 'socket.message':
        if (msg.isBinary) socket.send((msg.data as Uint8Array).slice().reverse());
        else if (msg.data === 'bye') socket.end(1000, 'bye');
        else if (msg.data === 'kick') socket.end(4000, 'kicked');
        else if (msg.data === 'crash') throw new Error('crash on purpose');
        else if (msg.data === 'sub') socket.subscribe('news');
        else if (msg.data === 'pub') socket.publish('news', 'extra');
        else out(String(msg.data).toUpperCase());
        return state;
    }
  },
  terminate(state, reason) {
    state.socket.send(`terminate ${String(reason)}`); // refused once the socket is closed
  },
};

function setup(options: Parameters<typeof createFakeSocket<Session>>[0] = { session: { name: 'ada' } }) {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock, logger: silentLogger });
  const fake = createFakeSocket<Session>(options);
  const ref = fake.open(system, shouter, { label: 'shouter' });
  return { clock, system, fake, ref };
}

describe('createFakeSocket', () => {
  it('gives the actor a real SocketHandle, with the session and the remote address', () => {
    const fake = createFakeSocket({ session: { name: 'ada' }, remoteAddress: '10.0.0.7' });
    assert.ok(fake.socket instanceof SocketHandle);
    assert.equal(fake.args.socket, fake.socket);
    assert.deepEqual(fake.socket.session, { name: 'ada' });
    assert.equal(fake.socket.remoteAddress, '10.0.0.7');
    assert.equal(fake.socket.closed, false);
    assert.deepEqual(createFakeSocket().socket.session, {});
    assert.equal(createFakeSocket().socket.remoteAddress, '127.0.0.1');
  });

  it('records text and binary frames in the order the actor wrote them, batched until the turn ends', async () => {
    const { system, fake } = setup();
    fake.receive('hi');
    fake.receive(new Uint8Array([1, 2, 3]));
    assert.deepEqual(fake.sent, [], 'nothing is written before the batch is flushed');
    await settle(system);
    assert.deepEqual(fake.sent, [
      { data: 'hello ada', isBinary: false },
      { data: 'HI', isBinary: false },
      { data: new Uint8Array([3, 2, 1]), isBinary: true },
    ]);
    assert.deepEqual(fake.socket.stats, { framesOut: 3, bytesOut: 14, dropped: 0 });
  });

  it('writes the current batch at once with flush()', () => {
    const fake = createFakeSocket();
    assert.equal(fake.socket.send('one'), 'queued');
    fake.socket.send(new Uint8Array([7]), true);
    assert.equal(fake.socket.pendingBytes, 4);
    fake.flush();
    assert.deepEqual(fake.sent, [
      { data: 'one', isBinary: false },
      { data: new Uint8Array([7]), isBinary: true },
    ]);
    assert.equal(fake.socket.pendingBytes, 0);
  });

  it('delivers frames as the server does: text as a string, binary as a copy of the bytes', async () => {
    const clock = new SimulatedClock();
    const system = new ActorSystem({ clock });
    const probe = createProbe<SocketEvent>(system);
    const fake = createFakeSocket();
    fake.open(system, (msg: SocketEvent) => {
      probe.ref.send(msg);
    });
    const bytes = new Uint8Array([104, 105]);
    assert.equal(fake.receive(bytes), true);
    bytes[0] = 0; // the peer's buffer is not the actor's
    fake.receive('hé');
    fake.receive('as bytes', true);
    fake.receive(new Uint8Array([104, 105]), false);
    const got = await probe.drain();
    assert.deepEqual(got, [
      { type: 'socket.message', data: new Uint8Array([104, 105]), isBinary: true },
      { type: 'socket.message', data: 'hé', isBinary: false },
      { type: 'socket.message', data: new Uint8Array(Buffer.from('as bytes')), isBinary: true },
      { type: 'socket.message', data: 'hi', isBinary: false },
    ]);
  });

  it('beats on the simulated clock, and only when the test advances it', async () => {
    const { clock, system, fake } = setup();
    await settle(system);
    clock.advance(999);
    await settle(system);
    assert.deepEqual(
      fake.sent.map((f) => f.data),
      ['hello ada'],
    );
    clock.advance(2_001);
    await settle(system);
    assert.deepEqual(
      fake.sent.map((f) => f.data),
      ['hello ada', 'beat', 'beat', 'beat'],
    );
  });

  it('closes with the code and reason the actor ends it with, and then stops the actor', async () => {
    const { system, fake, ref } = setup();
    fake.receive('kick');
    await settle(system);
    assert.deepEqual(fake.closed, { code: 4000, reason: 'kicked', by: 'end' });
    assert.deepEqual(fake.socket.closeInfo, { code: 4000, reason: 'kicked' });
    assert.equal(fake.socket.closed, true);
    assert.equal(await system.exited(ref), 'shutdown', 'stopped as the server stops it');
    assert.deepEqual(
      fake.sent.map((f) => f.data),
      ['hello ada'],
      'the terminate frame was refused: the socket was closed',
    );
    assert.equal(fake.socket.send('late'), 'closed');
    assert.equal(fake.receive('anyone?'), false, 'a closed connection delivers nothing');
  });

  it('flushes what was queued before the close frame', async () => {
    const { system, fake } = setup();
    fake.receive('last words');
    fake.receive('bye');
    await settle(system);
    assert.deepEqual(
      fake.sent.map((f) => f.data),
      ['hello ada', 'LAST WORDS'],
    );
    assert.deepEqual(fake.closed, { code: 1000, reason: 'bye', by: 'end' });
  });

  it('closes when the peer does: the handle reports the peer close and the actor terminates with shutdown', async () => {
    const { system, fake, ref } = setup();
    await settle(system);
    fake.close(1001, 'tab closed');
    assert.deepEqual(fake.closed, { code: 1001, reason: 'tab closed', by: 'peer' });
    assert.deepEqual(fake.socket.closeInfo, { code: 1001, reason: 'tab closed' });
    assert.equal(await system.exited(ref), 'shutdown');
  });

  it('closes with 1011 when the actor crashes, and with closeCode when it stops cleanly', async () => {
    const crashed = setup();
    crashed.fake.receive('crash');
    await settle(crashed.system);
    assert.deepEqual(crashed.fake.closed, { code: 1011, reason: 'internal error', by: 'end' });

    const stopped = setup({ session: { name: 'bo' }, closeCode: 1012 });
    await stopped.system.stop(stopped.ref, 'shutdown');
    assert.deepEqual(stopped.fake.closed, { code: 1012, reason: 'server shutting down', by: 'end' });
  });

  it('drops the connection without a close frame on terminate()', async () => {
    const { system, fake, ref } = setup();
    fake.socket.terminate();
    assert.deepEqual(fake.closed, { code: 1006, reason: '', by: 'terminate' });
    assert.deepEqual(fake.socket.closeInfo, { code: 1006, reason: 'terminated' });
    assert.equal(await system.exited(ref), 'shutdown');
  });

  it('builds backpressure while the peer does not read, and sends socket.drain when it does', async () => {
    const { clock, system, fake } = setup();
    await settle(system);
    fake.stopReading();
    fake.receive('slow'); // 4 bytes: still under SLOW_BYTES as of the last flush
    fake.receive('down');
    await settle(system);
    assert.equal(fake.socket.bufferedAmount, 8);
    fake.receive('peer!!');
    await settle(system);
    assert.equal(fake.socket.bufferedAmount, 14);
    clock.advance(1_000);
    fake.receive('held');
    await settle(system);
    assert.deepEqual(
      fake.sent.map((f) => f.data),
      ['hello ada', 'SLOW', 'DOWN', 'PEER!!'],
      'the beat and HELD are held back',
    );
    fake.drain();
    assert.equal(fake.socket.bufferedAmount, 0);
    await settle(system);
    assert.deepEqual(fake.sent.map((f) => f.data).slice(4), ['beat', 'HELD']);
  });

  it('closes the socket at the bufferLimit, as the server does for a slow consumer', async () => {
    let exceeded = 0;
    const { system, fake, ref } = setup({
      session: { name: 'ada' },
      bufferLimit: { bytes: 12, reason: 'slow consumer', onExceeded: () => exceeded++ },
    });
    await settle(system);
    fake.stopReading();
    fake.socket.send('0123456789');
    fake.flush();
    assert.equal(fake.socket.closed, false);
    assert.equal(fake.socket.send('abc'), 'closed', 'over the limit: closed, and the frame dropped');
    assert.deepEqual(fake.closed, { code: 1013, reason: 'slow consumer', by: 'end' });
    assert.equal(exceeded, 1);
    assert.equal(fake.socket.bufferedAmount, 0);
    assert.equal(await system.exited(ref), 'shutdown');
  });

  it('records topics and what is published to them', async () => {
    const { system, fake } = setup();
    fake.receive('sub');
    fake.receive('pub');
    await settle(system);
    assert.deepEqual([...fake.topics], ['news']);
    assert.deepEqual(fake.published, [{ topic: 'news', data: 'extra', isBinary: false }]);
    assert.equal(fake.socket.unsubscribe('news'), true);
    assert.equal(fake.socket.unsubscribe('news'), false);
  });

  it('refuses a frame before an actor is open, and a second open', () => {
    const fake = createFakeSocket();
    assert.throws(() => fake.receive('hi'), /fake\.open\(system, behavior\) first/);
    const system = new ActorSystem();
    fake.open(system, () => {});
    assert.throws(() => fake.open(system, () => {}), /open\(\) was called already/);
  });
});
