/**
 * `pipeToSelf`, Akka's way (and Elixir's `Task` + `handle_info`) to use a promise from inside an
 * actor without awaiting it in a handler: the actor goes on taking mail, and the promise's outcome
 * comes back as one more message, made by the caller's function, so state changes stay in handlers.
 */
import { toError } from '../errors.js';
import type { Cell } from './cell.js';

/** How a piped promise ended. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Error };

/**
 * @internal Sends `toMessage(outcome)` to the actor when `promise` settles. The message goes to the actor's
 * ref: after a restart in place it reaches the new incarnation, and after death it is a dead letter.
 * A `toMessage` that throws crashes nobody: the error is logged and nothing is sent.
 */
export function pipeToSelf<T>(cell: Cell, promise: PromiseLike<T>, toMessage: (outcome: Outcome<T>) => unknown): void {
  const deliver = (outcome: Outcome<T>): void => {
    let msg: unknown;
    try {
      msg = toMessage(outcome);
    } catch (e) {
      cell.runtime.logger.error(
        { actor: cell.toString(), err: e },
        `pipeToSelf of ${cell.toString()}: toMessage threw; nothing was sent`,
      );
      return;
    }
    cell.send(msg);
  };
  promise.then(
    (value) => deliver({ ok: true, value }),
    (e: unknown) => deliver({ ok: false, error: toError(e) }),
  );
}
