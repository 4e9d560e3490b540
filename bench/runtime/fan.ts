/**
 * fan-in and fan-out. fan-in: 1,000 actors each send 10,000 messages to one sink; fan-out: one
 * actor sends 10,000 messages to each of 1,000 actors. Senders work in chunks (a fan-in sender
 * sends 100 messages, then a `go` to itself; the fan-out source sends one message to every
 * receiver, then a `go` to itself), so the scheduler interleaves them as it would real producers
 * and the sink's mailbox stays near 100,000 instead of holding all 10,000,000 at once. The `go`
 * messages are not counted. Figures: delivered messages per second, from the first `go` to the
 * last delivery (higher is better); the target from the issue is >= 8M msg/s for both.
 */
import { ActorSystem, type Context, type Ref } from 'troupe';
import * as baseline from './baseline.js';
import { check, deferred, defineWorkload, ratioAtLeast, type Sample } from './harness.js';

export interface FanParams {
  /** Senders (fan-in) or receivers (fan-out). */
  readonly actors: number;
  /** Messages each sender sends, or each receiver receives. */
  readonly perActor: number;
  /** Fan-in: messages a sender sends per turn before messaging itself to go on. */
  readonly chunk: number;
}

const GO = { type: 'go' } as const;
const MSG = { type: 'msg' } as const;
type Go = typeof GO;
type Msg = typeof MSG;

async function fanInTroupe(p: FanParams): Promise<Sample> {
  const system = new ActorSystem();
  const total = p.actors * p.perActor;
  const done = deferred<void>();
  let received = 0;
  const sink = system.spawn((_msg: Msg) => {
    if (++received === total) done.resolve();
  });
  const senders: Array<Ref<Go>> = [];
  for (let i = 0; i < p.actors; i++) {
    let left = p.perActor;
    senders.push(
      system.spawn((msg: Go, ctx: Context<Go>) => {
        const k = Math.min(left, p.chunk);
        for (let j = 0; j < k; j++) sink.send(MSG);
        left -= k;
        if (left > 0) ctx.self.send(msg);
      }),
    );
  }
  const t0 = performance.now();
  for (const s of senders) s.send(GO);
  await done.promise;
  const s = (performance.now() - t0) / 1000;
  check(received === total, 'fan-in count');
  await system.shutdown();
  return { 'fan-in': total / s };
}

async function fanOutTroupe(p: FanParams): Promise<Sample> {
  const system = new ActorSystem();
  const total = p.actors * p.perActor;
  const done = deferred<void>();
  let received = 0;
  const receivers: Array<Ref<Msg>> = [];
  for (let i = 0; i < p.actors; i++) {
    receivers.push(
      system.spawn((_msg: Msg) => {
        if (++received === total) done.resolve();
      }),
    );
  }
  let rounds = p.perActor;
  const source = system.spawn((msg: Go, ctx: Context<Go>) => {
    for (const r of receivers) r.send(MSG);
    if (--rounds > 0) ctx.self.send(msg);
  });
  const t0 = performance.now();
  source.send(GO);
  await done.promise;
  const s = (performance.now() - t0) / 1000;
  check(received === total, 'fan-out count');
  await system.shutdown();
  return { 'fan-out': total / s };
}

const full: FanParams = { actors: 1_000, perActor: 10_000, chunk: 100 };
const quick: FanParams = { actors: 1_000, perActor: 2_000, chunk: 100 };

export const fanIn = defineWorkload<FanParams>({
  name: 'fan-in',
  about: '1,000 actors each send 10,000 messages to one sink; msg/s',
  figures: [
    { name: 'fan-in', unit: 'msg/s', better: 'higher', decimals: 0, target: ratioAtLeast(0.9, '>= 0.9x baseline') },
  ],
  params: { full, quick },
  troupe: fanInTroupe,
  baseline: baseline.fanIn,
});

export const fanOut = defineWorkload<FanParams>({
  name: 'fan-out',
  about: 'one actor sends 10,000 messages to each of 1,000 actors; msg/s',
  figures: [
    { name: 'fan-out', unit: 'msg/s', better: 'higher', decimals: 0, target: ratioAtLeast(0.9, '>= 0.9x baseline') },
  ],
  params: { full, quick },
  troupe: fanOutTroupe,
  baseline: baseline.fanOut,
});
