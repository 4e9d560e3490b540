/**
 * Recovery timing under `--test-faults`, inside the server: when an injected crash is thrown, and
 * when the first room message through the crashed actor after it is written to a member's socket.
 * A room crash is armed under the room's name and disarmed by the room's next fan-out; a socket
 * actor's crash is armed under its socket and disarmed by the fan-out of the next message that
 * connection sends. Without `--test-faults` the world has no `FaultLog` and nothing is timed.
 * The benchmark (`bench/chat`, recovery) reads the pairs; times are `process.hrtime` nanoseconds,
 * the load generator's clock.
 */
import type { SocketHandle } from '@troupe/uws';
import type { Session } from './session.js';

/** Pairs kept until read; more are dropped (a reader that never reads costs at most this much). */
const KEPT = 100_000;
/** Crashes armed and not yet followed by a delivery; past this the oldest are forgotten. */
const ARMED = 10_000;

export type Crashed = 'room' | 'socket';

/** One recovery: the crash's time, the first delivery's time (ns), and which actor crashed. */
export type Recovery = readonly [crashNs: number, deliveredNs: number, actor: Crashed];

export class FaultLog {
  readonly #armed = new Map<string | SocketHandle<Session>, number>();
  #recoveries: Recovery[] = [];

  /** The actor is about to throw an injected crash: a room (by name) or a socket actor (by its socket). */
  crashed(actor: string | SocketHandle<Session>): void {
    if (this.#armed.size >= ARMED) this.#armed.delete(this.#armed.keys().next().value as string);
    this.#armed.delete(actor);
    this.#armed.set(actor, now());
  }

  /** A room's message from `sender` was just written to its first member. */
  delivered(room: string, sender: SocketHandle<Session>): void {
    if (this.#armed.size === 0) return;
    const t = now();
    this.#take(room, 'room', t);
    this.#take(sender, 'socket', t);
  }

  /** The recoveries since the last call. */
  take(): Recovery[] {
    const out = this.#recoveries;
    this.#recoveries = [];
    return out;
  }

  #take(key: string | SocketHandle<Session>, actor: Crashed, t: number): void {
    const t0 = this.#armed.get(key);
    if (t0 === undefined) return;
    this.#armed.delete(key);
    if (this.#recoveries.length < KEPT) this.#recoveries.push([t0, t, actor]);
  }
}

const now = (): number => Number(process.hrtime.bigint());
