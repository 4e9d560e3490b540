/**
 * The ceiling every runtime figure is divided by: a minimal hand-written mailbox loop, and the same
 * workloads written on it. An actor is a plain object whose `denque` mailbox is created on its
 * first message; a send pushes to the mailbox and, if the actor is not queued yet, to one run queue
 * of actors with pending mail; a drain loop (started in a microtask by the first send, the way
 * Troupe's scheduler starts) gives each actor up to 300 messages, calls one function per message
 * inside a try/catch, and yields with `setImmediate` after 5 ms, so there is no promise or
 * microtask per message. That is the design the workload spec (bench/README.md) describes as reaching its figures, with
 * nothing else: no links, monitors, exit signals, init, async handlers or bounded mailboxes. The
 * workload functions mirror the Troupe ones in the workload files message for message.
 */
import { createRequire } from 'node:module';
import type { CallParams } from './call.js';
import type { EventsParams } from './events.js';
import type { FanParams } from './fan.js';
import { check, collectGarbage, deferred, type Sample } from './harness.js';
import { type CounterState, type IdleParams, initCounter } from './idle-memory.js';
import type { PingPongParams } from './ping-pong.js';
import type { RegistryParams } from './registry.js';
import type { RestartParams } from './restart.js';
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
  /** Set for a "supervised" actor: called instead of stopping it when its handler throws. */
  onCrash: ((error: unknown) => void) | undefined = undefined;
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
        if (p.onCrash !== undefined) p.onCrash(e);
        else {
          console.error('baseline actor crashed:', e);
          stop(p);
        }
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

/** idle-state-memory: the same, each actor's state built from its args by an init, as Troupe's. */
export async function idleStateMemory(p: IdleParams): Promise<Sample> {
  const keep = new Array<Proc<unknown>>(p.actors);
  const receive = (_msg: unknown, self: Proc<never>): void => {
    const s = self.state as CounterState;
    s.count += s.step;
  };
  collectGarbage();
  const before = process.memoryUsage();
  for (let i = 0; i < p.actors; i++) {
    const proc = spawn(receive);
    proc.state = initCounter({ start: i });
    keep[i] = proc;
  }
  collectGarbage();
  const after = process.memoryUsage();
  check(
    keep.length === p.actors && (keep[p.actors - 1]?.state as CounterState | undefined)?.count === p.actors - 1,
    'state kept',
  );
  return {
    'idle-actor-state-bytes': (after.heapUsed - before.heapUsed) / p.actors,
    'idle-actor-state-rss': (after.rss - before.rss) / p.actors,
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

/**
 * restart: the handler throws on every message; the crash handler "restarts" the actor in place the
 * least a supervisor can: checks a ring-buffer restart window, runs init again, keeps the mailbox.
 */
export async function restart(p: RestartParams): Promise<Sample> {
  const gaps: number[] = [];
  let crashedAt = -1;
  const done = deferred<void>();
  let handled = 0;
  const window = new Float64Array(p.maxRestarts);
  let head = 0;
  let count = 0;
  const proc = spawn<number>((_n, self) => {
    const now = performance.now();
    if (crashedAt >= 0) gaps.push(now - crashedAt);
    if (++handled === p.messages) done.resolve();
    crashedAt = performance.now();
    void self;
    throw p.bare === true ? POISON : new Error('poison');
  });
  proc.onCrash = () => {
    const now = performance.now();
    if (count < p.maxRestarts) window[(head + count++) % p.maxRestarts] = now;
    else if (now - (window[head] as number) <= p.withinMs) throw new Error('restart intensity exceeded');
    else {
      window[head] = now;
      head = (head + 1) % p.maxRestarts;
    }
    proc.state = { incarnation: (proc.state as { incarnation: number } | undefined)?.incarnation ?? 0 };
  };
  const t0 = performance.now();
  for (let i = 0; i < p.messages; i++) send(proc, i);
  await done.promise;
  const s = (performance.now() - t0) / 1000;
  check(handled === p.messages, 'every message handled');
  return restartFigures(p.messages, s, gaps, p.bare === true ? 'restart-bare' : 'restart');
}

const POISON = new Error('poison');

/** Restarts/s and the crash-to-next-message percentiles in µs, under the figure names' `prefix`. */
export function restartFigures(messages: number, seconds: number, gapsMs: number[], prefix: string): Sample {
  gapsMs.sort((a, b) => a - b);
  const q = (f: number) => (gapsMs[Math.min(gapsMs.length - 1, Math.floor(f * gapsMs.length))] as number) * 1000;
  return { [`${prefix}-rate`]: messages / seconds, [`${prefix}-p50`]: q(0.5), [`${prefix}-p99`]: q(0.99) };
}

/** registry-register: a plain Map from name to actor, the least a name registry is. */
export async function registryRegister(p: RegistryParams): Promise<Sample> {
  const procs = Array.from({ length: 1000 }, () => spawn<number>(() => {}));
  const names = new Map<string, Proc<number>>();
  const keys = Array.from({ length: p.names }, (_, i) => `name-${i}`);
  const t0 = performance.now();
  for (let i = 0; i < p.names; i++) {
    const k = keys[i] as string;
    if (names.has(k)) throw new Error('taken');
    names.set(k, procs[i % 1000] as Proc<number>);
  }
  const s = (performance.now() - t0) / 1000;
  check(names.size === p.names, 'every name registered');
  return { 'registry-register': p.names / s };
}

/** events: spawn, one message, stop; the same count reported under both figure names. */
export async function spawnStop(p: EventsParams): Promise<Sample> {
  let left = p.actors;
  const done = deferred<void>();
  const worker = (_: number, self: Proc<number>) => {
    stop(self);
    if (--left === 0) done.resolve();
  };
  const t0 = performance.now();
  for (let i = 0; i < p.actors; i++) send(spawn(worker), i);
  await done.promise;
  const rate = p.actors / ((performance.now() - t0) / 1000);
  return { 'events-off': rate, 'events-on': rate };
}
