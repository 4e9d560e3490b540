/**
 * The ceiling every runtime figure is divided by: a minimal hand-written mailbox loop, and the same
 * workloads written on it. An actor is a plain object whose `denque` mailbox is created on its
 * first message; a send pushes to the mailbox and, if the actor is not queued yet, to one run queue
 * of actors with pending mail; a drain loop (started in a microtask by the first send, the way
 * Troupe's scheduler starts) gives each actor up to 300 messages, calls one function per message
 * inside a try/catch, and yields with `setImmediate` after 5 ms, so there is no promise or
 * microtask per message. That is the design WORKLOAD.md describes as reaching its figures, with
 * nothing else: no links, monitors, exit signals, init, async handlers or bounded mailboxes. The
 * workload functions mirror the Troupe ones in the workload files message for message.
 */
import { createRequire } from 'node:module';
import type { CallParams } from './call.js';
import type { FanParams } from './fan.js';
import { check, collectGarbage, deferred, type Sample } from './harness.js';
import type { IdleParams } from './idle-memory.js';
import type { PingPongParams } from './ping-pong.js';
import type { SkynetParams } from './skynet.js';

interface Queue<T> {
  readonly length: number;
  push(item: T): number;
  shift(): T | undefined;
}

// The very copy of denque that troupe loads (resolved from troupe's own folder), so both
// competitors use the same queue code and the ratio measures the loop around it, nothing else.
const Denque = createRequire(import.meta.resolve('troupe'))('denque') as new <T>() => Queue<T>;

/** Messages per actor per turn, and milliseconds of work before yielding: Troupe's defaults. */
const BUDGET = 300;
const SLICE_MS = 5;
const CHECK_EVERY = 64;

/**
 * A baseline actor: a handler, its state, a mailbox made on first use, two flags. `M` is what it
 * accepts: like Troupe's `Ref<in M>`, a `Proc<A | B>` may stand where a `Proc<A>` is expected.
 */
export class Proc<in M> {
  mailbox: Queue<unknown> | undefined = undefined;
  queued = false;
  dead = false;
  state: unknown = undefined;
  readonly handler: (msg: unknown, self: Proc<never>) => void;
  constructor(handler: (msg: M, self: Proc<M>) => void) {
    this.handler = handler as (msg: unknown, self: Proc<never>) => void;
  }
}

const runQueue = new Denque<Proc<never>>();
let draining = false;

export function spawn<M>(handler: (msg: M, self: Proc<M>) => void): Proc<M> {
  return new Proc(handler);
}

export function send<M>(to: Proc<M>, msg: NoInfer<M>): boolean {
  if (to.dead) return false;
  let mb = to.mailbox;
  if (mb === undefined) mb = to.mailbox = new Denque<unknown>();
  mb.push(msg);
  if (!to.queued) {
    to.queued = true;
    runQueue.push(to);
    if (!draining) {
      draining = true;
      queueMicrotask(drain);
    }
  }
  return true;
}

/** The actor takes no more messages; queued ones are dropped. */
export function stop<M>(p: Proc<M>): void {
  p.dead = true;
  p.mailbox = undefined;
}

function drain(): void {
  const start = performance.now();
  let count = 0;
  while (runQueue.length > 0) {
    const p = runQueue.shift() as Proc<never>;
    const mb = p.mailbox as Queue<unknown>;
    let n = 0;
    while (n < BUDGET && mb.length > 0 && !p.dead) {
      const msg = mb.shift();
      n++;
      try {
        p.handler(msg, p);
      } catch (e) {
        console.error('baseline actor crashed:', e);
        stop(p);
      }
    }
    // Still queued while it ran, so its own sends did not queue it twice.
    if (!p.dead && mb.length > 0) runQueue.push(p);
    else p.queued = false;
    count += n;
    if (count >= CHECK_EVERY) {
      count = 0;
      if (performance.now() - start >= SLICE_MS && runQueue.length > 0) {
        setImmediate(drain);
        return;
      }
    }
  }
  draining = false;
}

// ---- the workloads, on this loop -----------------------------------------------------------------

type Sum = { readonly type: 'sum'; readonly n: number };
type Start = { readonly type: 'start'; readonly num: number; readonly size: number; readonly parent: Proc<Sum> };
interface NodeState {
  sum: number;
  left: number;
  parent: Proc<Sum>;
}

export async function skynet(p: SkynetParams): Promise<Sample> {
  const { arity } = p;
  const node = (msg: Start | Sum, self: Proc<Start | Sum>): void => {
    if (msg.type === 'start') {
      if (msg.size === 1) {
        send(msg.parent, { type: 'sum', n: msg.num });
        stop(self);
        return;
      }
      const size = msg.size / arity;
      for (let i = 0; i < arity; i++) send(spawn(node), { type: 'start', num: msg.num + i * size, size, parent: self });
      self.state = { sum: 0, left: arity, parent: msg.parent } satisfies NodeState;
    } else {
      const s = self.state as NodeState;
      s.sum += msg.n;
      if (--s.left === 0) {
        send(s.parent, { type: 'sum', n: s.sum });
        stop(self);
      }
    }
  };
  const done = deferred<number>();
  const t0 = performance.now();
  const sink = spawn((msg: Sum) => done.resolve(msg.n));
  send(spawn(node), { type: 'start', num: 0, size: p.leaves, parent: sink });
  const total = await done.promise;
  const ms = performance.now() - t0;
  check(total === (p.leaves * (p.leaves - 1)) / 2, `skynet sum ${total}`);
  return { skynet: ms };
}

const BALL = { type: 'ball' } as const;

export async function pingPong(p: PingPongParams): Promise<Sample> {
  const done = deferred<void>();
  let received = 0;
  const player =
    (other: () => Proc<typeof BALL>) =>
    (msg: typeof BALL): void => {
      if (++received === p.messages) done.resolve();
      else send(other(), msg);
    };
  const a: Proc<typeof BALL> = spawn(player(() => b));
  const b: Proc<typeof BALL> = spawn(player(() => a));
  const t0 = performance.now();
  send(a, BALL);
  await done.promise;
  const s = (performance.now() - t0) / 1000;
  check(received === p.messages, 'ping-pong count');
  return { 'ping-pong': p.messages / s };
}

const GO = { type: 'go' } as const;
const MSG = { type: 'msg' } as const;

export async function fanIn(p: FanParams): Promise<Sample> {
  const total = p.actors * p.perActor;
  const done = deferred<void>();
  let received = 0;
  const sink = spawn((_msg: typeof MSG) => {
    if (++received === total) done.resolve();
  });
  const senders: Array<Proc<typeof GO>> = [];
  for (let i = 0; i < p.actors; i++) {
    let left = p.perActor;
    senders.push(
      spawn((msg: typeof GO, self) => {
        const k = Math.min(left, p.chunk);
        for (let j = 0; j < k; j++) send(sink, MSG);
        left -= k;
        if (left > 0) send(self, msg);
      }),
    );
  }
  const t0 = performance.now();
  for (const s of senders) send(s, GO);
  await done.promise;
  const s = (performance.now() - t0) / 1000;
  check(received === total, 'fan-in count');
  return { 'fan-in': total / s };
}

export async function fanOut(p: FanParams): Promise<Sample> {
  const total = p.actors * p.perActor;
  const done = deferred<void>();
  let received = 0;
  const receivers: Array<Proc<typeof MSG>> = [];
  for (let i = 0; i < p.actors; i++) {
    receivers.push(
      spawn((_msg: typeof MSG) => {
        if (++received === total) done.resolve();
      }),
    );
  }
  let rounds = p.perActor;
  const source = spawn((msg: typeof GO, self) => {
    for (const r of receivers) send(r, MSG);
    if (--rounds > 0) send(self, msg);
  });
  const t0 = performance.now();
  send(source, GO);
  await done.promise;
  const s = (performance.now() - t0) / 1000;
  check(received === total, 'fan-out count');
  return { 'fan-out': total / s };
}

export async function idleMemory(p: IdleParams): Promise<Sample> {
  const keep = new Array<Proc<unknown>>(p.actors);
  const idle = (_msg: unknown): void => {};
  collectGarbage();
  const before = process.memoryUsage();
  for (let i = 0; i < p.actors; i++) keep[i] = spawn(idle);
  collectGarbage();
  const after = process.memoryUsage();
  check(keep.length === p.actors && keep[p.actors - 1] !== undefined, 'idle actors kept');
  return {
    'idle-actor-bytes': (after.heapUsed - before.heapUsed) / p.actors,
    'idle-actor-rss': (after.rss - before.rss) / p.actors,
  };
}

type Get = { readonly type: 'get'; readonly reply: (n: number) => void };

export async function call(p: CallParams): Promise<Sample> {
  const server = spawn((msg: Get) => msg.reply(1));
  const done = deferred<number>();
  // The client is an actor too; its handler's promise is not awaited by this loop (it has no
  // async handlers), which is fine here: the client gets exactly one message.
  const client = spawn((_msg: typeof GO) => {
    void (async () => {
      let sum = 0;
      for (let i = 0; i < p.calls; i++) {
        sum += await new Promise<number>((resolve) => send(server, { type: 'get', reply: resolve }));
      }
      done.resolve(sum);
    })();
  });
  const t0 = performance.now();
  send(client, GO);
  const sum = await done.promise;
  const s = (performance.now() - t0) / 1000;
  check(sum === p.calls, 'call replies');
  return { call: p.calls / s };
}
