/**
 * A probe: an actor that records every message it receives, for assertions. `expectMessage` settles
 * the system, then checks the oldest unread message against a matcher: a predicate, or an object
 * whose fields must be deeply equal to the message's (extra fields in the message are fine).
 */
import { isDeepStrictEqual } from 'node:util';
import type { Ref } from '../actor/ref.js';
import type { ActorSystem } from '../system/system.js';
import { settle } from './settle.js';

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

/**
 * Spawns a probe in `system`.
 * @example
 * const probe = createProbe<Pong>(system);
 * pinger.send({ type: 'ping', replyTo: probe.ref });
 * await probe.expectMessage({ type: 'pong' });
 */
export function createProbe<M>(system: ActorSystem, label = 'probe'): Probe<M> {
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
          `expected a message${matcher === undefined ? '' : ` matching ${show(matcher)}`}, got none`,
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
  };
}

class AssertionErrorLike extends Error {
  override readonly name = 'AssertionError';
  readonly code = 'ERR_ASSERTION';
}
