/**
 * A socket actor unit-tested without a network: `createFakeSocket` from `@troupe/uws/testing` gives
 * it a real `SocketHandle` over a fake connection that records what it writes, and `open` starts it
 * as the server would. The peer's side sends frames, stops reading (backpressure) and closes. In a
 * node:test file, `main` is the body of an `it(...)`.
 * Run: `node --conditions=source --import tsx examples/snippets/fake-socket.ts`.
 */
import type { SocketArgs, SocketEvent } from '@troupe/uws';
import { createFakeSocket } from '@troupe/uws/testing';
import { ActorSystem, type Behavior } from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

type Session = { readonly name: string };

// Greets, echoes text in upper case, and says 'busy' instead while the peer is slow to read.
const shouter: Behavior<SocketEvent, SocketArgs<Session>, SocketArgs<Session>> = {
  init(_ctx, args) {
    args.socket.send(`hello ${args.socket.session.name}`);
    return args;
  },
  receive(state, msg) {
    const { socket } = state;
    if (msg.type === 'socket.drain') socket.send('caught up');
    else if (msg.data === 'bye') socket.end(4000, 'see you');
    else socket.send(socket.bufferedAmount > 1_000 ? 'busy' : String(msg.data).toUpperCase());
    return state;
  },
};

export async function main(): Promise<{ sent: unknown[]; buffered: number; closed: unknown; reason: unknown }> {
  const system = new ActorSystem({ clock: new SimulatedClock() });
  const fake = createFakeSocket<Session>({ session: { name: 'ada' } });
  const ref = fake.open(system, shouter); // spawned with { socket: fake.socket }, as the server does

  fake.receive('hi'); // a text frame from the peer
  await settle(system); // the actor's frames are written at the end of the event-loop turn
  fake.stopReading(); // the peer stops reading: what is written stays in uWS's buffer
  fake.receive('x'.repeat(2_000));
  await settle(system);
  fake.receive('more');
  await settle(system);
  const buffered = fake.socket.bufferedAmount; // 2,004: the long echo and 'busy', unread
  fake.drain(); // the peer reads everything: the actor gets { type: 'socket.drain', bufferedAmount: 0 }
  fake.receive('bye');
  await settle(system);

  const sent = fake.sent.map((f) => (f.isBinary ? f.data : String(f.data).slice(0, 12)));
  const closed = fake.closed; // { code: 4000, reason: 'see you', by: 'end' }
  const reason = await system.exited(ref); // 'shutdown': the closed connection stopped its actor
  await system.shutdown();
  return { sent, buffered, closed, reason };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
