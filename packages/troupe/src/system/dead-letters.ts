/**
 * Dead letters: messages that could not be delivered (the actor was dead, its bounded mailbox was
 * full, the message crashed it, or a restart dropped it). The system counts them and hands each to
 * its listeners; with no listener a dead letter costs a counter increment.
 */

import type { Ref } from '../actor/ref.js';
import type { DeadLetterReason } from '../actor/runtime.js';
import type { ExitReason } from '../exit-reason.js';
import type { Logger } from '../logger.js';

/** A message that could not be delivered. */
export interface DeadLetter {
  readonly to: Ref<never>;
  readonly message: unknown;
  readonly reason: DeadLetterReason;
  /** For `crashed`: why the actor exited. */
  readonly error?: ExitReason;
}

/** @internal */
export class DeadLetters {
  count = 0;
  #listeners: Array<(dl: DeadLetter) => void> = [];

  constructor(private readonly logger: Logger) {}

  /** Adds a listener; returns a function that removes it. */
  listen(listener: (dl: DeadLetter) => void): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  record(to: Ref<unknown>, message: unknown, reason: DeadLetterReason, error?: ExitReason): void {
    this.count++;
    const ls = this.#listeners;
    if (ls.length === 0) return;
    const dl: DeadLetter =
      error === undefined
        ? { to: to as Ref<never>, message, reason }
        : { to: to as Ref<never>, message, reason, error };
    for (const l of ls) {
      try {
        l(dl);
      } catch (e) {
        this.logger.error({ err: e }, 'dead-letter listener threw');
      }
    }
  }
}
