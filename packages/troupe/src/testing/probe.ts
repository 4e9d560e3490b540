/**
 * A probe: an actor that records every message it receives, for assertions. Every expectation
 * settles the system first and then checks at once; none waits for time to pass. `expectMessage`
 * checks the oldest unread message against a matcher: a predicate, or an object whose fields must be
 * deeply equal to the message's (extra fields in the message are fine). `expectTerminated` checks
 * that an actor has exited and returns why. `within` bounds how much time, on the system's clock, a
 * block of assertions may take (akka-testkit's `within`). On a `SimulatedClock`, an expectation that
 * finds nothing says which timers are pending, since advancing the clock may be what is missing.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Ref } from '../actor/ref.js';
import type { ExitReason } from '../exit-reason.js';
import type { ActorSystem } from '../system/system.js';
import {
  describePending,
  onStall,
  pendingInMsOf,
  SimulatedClock,
  SimulatedTimeError,
} from '../timers/simulated-clock.js';
import { settle } from './settle.js';
import { watchForStalls } from './stall.js';

/** A predicate, or a partial shape the message must match field by field. */
export type Matcher<M> = ((msg: M) => boolean) | Partial<M> | M;

/** A recording actor. */
export interface Probe<M> {
  /** Send here. */
  readonly ref: Ref<M>;
  /** Every message received, oldest first, read or not. */
  readonly received: readonly M[];
  /**
   * Settles the system, then takes the oldest unread message and checks it; throws an
   * AssertionError that shows the message when there is none or it does not match.
   */
  expectMessage(matcher?: Matcher<M>): Promise<M>;
  /** Settles the system and throws if any unread message is waiting. */
  expectNoMessage(): Promise<void>;
  /** Settles and returns all unread messages, marking them read. */
  drain(): Promise<M[]>;
  /**
   * Settles the system, then resolves with `ref`'s exit reason if it has exited (at any time
   * before); throws an AssertionError if it is still alive. The actor may be any actor of the
   * probe's system, watched or not.
   * @example
   * worker.send({ type: 'quit' });
   * assert.equal(await probe.expectTerminated(worker), 'normal');
   */
  expectTerminated(ref: Ref<never>): Promise<ExitReason>;
  /**
   * Runs `fn` (the assertions of a block, usually async) and resolves with what it returns, if it
   * finished within `ms` milliseconds of the system's clock; else rejects with an AssertionError
   * that says how long it took. An error from `fn` passes through unchanged.
   *
   * On a `SimulatedClock`, time moves only when the block advances it, so `within` measures the
   * simulated time the block advanced (`clock.now()` after minus before) and judges when the block
   * ends; it arms no timer (`clock.pending` and `advanceToNext()` see only the system's own). A block
   * that waits for simulated time nobody advances is rejected with a `SimulatedTimeError`. On any
   * other clock, a block still running after `ms` is rejected then (it runs on, unobserved).
   * @example
   * await probe.within(200, async () => {
   *   pinger.send({ type: 'ping', seq: 1, replyTo: probe.ref });
   *   await settle(system);
   *   clock.advanceToNext(); // to whenever the pinger's timer is due: 200 ms at most, or within fails
   *   await probe.expectMessage({ type: 'pong' });
   * });
   */
  within<T>(ms: number, fn: () => T | Promise<T>): Promise<T>;
}

function matches<M>(msg: M, matcher: Matcher<M>): boolean {
  if (typeof matcher === 'function') return (matcher as (m: M) => boolean)(msg);
  if (matcher === null || typeof matcher !== 'object' || msg === null || typeof msg !== 'object') {
    return isDeepStrictEqual(msg, matcher);
  }
  for (const [k, v] of Object.entries(matcher)) {
    if (!isDeepStrictEqual((msg as Record<string, unknown>)[k], v)) return false;
  }
  return true;
}

function show(v: unknown): string {
  if (typeof v === 'function') return `the predicate ${String(v)}`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** How many milliseconds, as the messages print them: at most three decimals. */
function showMs(ms: number): string {
  return String(Math.round(ms * 1000) / 1000);
}

/**
 * What an expectation that found nothing adds on a simulated clock with timers pending: the thing
 * expected may be waiting for one of them.
 */
function simulatedTimeHint(system: ActorSystem): string {
  const clock = system.clock;
  if (!(clock instanceof SimulatedClock) || clock.pending === 0) return '';
  return `; if it is waiting for simulated time, advance the SimulatedClock (${describePending(pendingInMsOf(clock))})`;
}

/**
 * Spawns a probe in `system`.
 * @example
 * const probe = createProbe<Pong>(system);
 * pinger.send({ type: 'ping', replyTo: probe.ref });
 * await probe.expectMessage({ type: 'pong' });
 */
export function createProbe<M>(system: ActorSystem, label = 'probe'): Probe<M> {
  watchForStalls(system);
  const received: M[] = [];
  let read = 0;
  const ref = system.spawn<M>(
    (msg) => {
      received.push(msg);
    },
    { label },
  );
  return {
    ref,
    received,
    async expectMessage(matcher) {
      await settle(system);
      if (read >= received.length) {
        throw new AssertionErrorLike(
          `expected a message${matcher === undefined ? '' : ` matching ${show(matcher)}`}, got none${simulatedTimeHint(system)}`,
        );
      }
      const msg = received[read++] as M;
      if (matcher !== undefined && !matches(msg, matcher)) {
        throw new AssertionErrorLike(`expected a message matching ${show(matcher)}, got ${show(msg)}`);
      }
      return msg;
    },
    async expectNoMessage() {
      await settle(system);
      if (read < received.length) {
        throw new AssertionErrorLike(`expected no message, got ${show(received[read])}`);
      }
    },
    async drain() {
      await settle(system);
      const rest = received.slice(read);
      read = received.length;
      return rest;
    },
    async expectTerminated(target) {
      let exit: { reason: ExitReason } | undefined;
      // Resolves at once for an actor already dead; a live one's waiter is dropped with it.
      void system.exited(target).then((reason) => {
        exit = { reason };
      });
      await settle(system);
      if (exit === undefined) {
        throw new AssertionErrorLike(
          `expected ${String(target)} to terminate, it is still alive${simulatedTimeHint(system)}`,
        );
      }
      return exit.reason;
    },
    within(ms, fn) {
      return within(system, ms, fn);
    },
  };
}

function within<T>(system: ActorSystem, ms: number, fn: () => T | Promise<T>): Promise<T> {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`probe.within(ms, fn): ms must be a finite number of milliseconds >= 0; got ${String(ms)}`);
  }
  if (typeof fn !== 'function') {
    throw new TypeError(`probe.within(ms, fn): fn must be a function (the block of assertions); got ${typeof fn}`);
  }
  const clock = system.clock;
  const start = clock.now();
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let release: () => void;
    const end = (finish: () => void): void => {
      if (done) return;
      done = true;
      release();
      finish();
    };
    if (clock instanceof SimulatedClock) {
      // No deadline timer: it would show in clock.pending and be what advanceToNext() jumps to.
      release = onStall(clock, (pendingInMs, rejectedBefore) => {
        // A call the block awaits, rejected just now, says more than this would.
        if (done || rejectedBefore > 0) return 0;
        end(() => reject(new SimulatedTimeError(pendingInMs, `the block of within(${showMs(ms)} ms)`)));
        return 1;
      });
    } else {
      const timer = clock.setTimeout(
        () =>
          end(() =>
            reject(
              new AssertionErrorLike(
                `expected the block to finish within ${showMs(ms)} ms, it was still running after ${showMs(ms)} ms`,
              ),
            ),
          ),
        ms,
      );
      release = () => clock.clearTimeout(timer);
    }
    let result: T | Promise<T>;
    try {
      result = fn();
    } catch (e) {
      end(() => reject(e));
      return;
    }
    Promise.resolve(result).then(
      (value) => {
        const took = clock.now() - start;
        end(() =>
          took > ms
            ? reject(
                new AssertionErrorLike(
                  `expected the block to finish within ${showMs(ms)} ms, it took ${showMs(took)} ms`,
                ),
              )
            : resolve(value),
        );
      },
      (e: unknown) => end(() => reject(e)),
    );
  });
}

class AssertionErrorLike extends Error {
  override readonly name = 'AssertionError';
  readonly code = 'ERR_ASSERTION';
}
