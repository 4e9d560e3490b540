/**
 * ping-pong: two actors pass one message back and forth, 2,000,000 sends in all, so there is never
 * more than one message in flight and every message costs a full schedule-run-reschedule cycle.
 * The figure is messages per second (higher is better); the target from the issue is >= 10M msg/s.
 */
import { ActorSystem, type Ref } from 'troupe';
import * as baseline from './baseline.js';
import { check, deferred, defineWorkload, ratioAtLeast, type Sample } from './harness.js';

export interface PingPongParams {
  /** Sends in all, both directions together. */
  readonly messages: number;
}

const BALL = { type: 'ball' } as const;
type Ball = typeof BALL;

async function troupe(p: PingPongParams): Promise<Sample> {
  const system = new ActorSystem();
  const done = deferred<void>();
  let received = 0;
  const player =
    (other: () => Ref<Ball>) =>
    (msg: Ball): void => {
      if (++received === p.messages) done.resolve();
      else other().send(msg);
    };
  const a: Ref<Ball> = system.spawn(player(() => b));
  const b: Ref<Ball> = system.spawn(player(() => a));
  const t0 = performance.now();
  a.send(BALL);
  await done.promise;
  const s = (performance.now() - t0) / 1000;
  check(received === p.messages, 'ping-pong count');
  await system.shutdown();
  return { 'ping-pong': p.messages / s };
}

export const pingPong = defineWorkload<PingPongParams>({
  name: 'ping-pong',
  about: 'two actors exchange 2,000,000 messages one at a time; msg/s',
  figures: [
    { name: 'ping-pong', unit: 'msg/s', better: 'higher', decimals: 0, target: ratioAtLeast(0.9, '>= 0.9x baseline') },
  ],
  params: { full: { messages: 2_000_000 }, quick: { messages: 1_000_000 } },
  troupe,
  baseline: baseline.pingPong,
});
