/**
 * Error classes, one per condition. Each has a stable `name` so it can be matched without
 * `instanceof` (across package copies), and carries the facts a caller needs (`reason`,
 * `timeoutMs`, `cause`). Misuse of the API throws `TypeError`/`RangeError` with a teaching message
 * instead; these classes are for outcomes a correct program must be ready for.
 */
import type { ExitReason } from './exit-reason.js';
import { describeReason } from './exit-reason.js';

/** A `call` got no reply within its `timeoutMs`. A late reply is dropped. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(
    readonly timeoutMs: number,
    what = 'call',
  ) {
    super(`${what} timed out after ${timeoutMs} ms`);
  }
}

/** The target of a `call` was dead, or died before it replied. `reason` is its exit reason. */
export class ExitError extends Error {
  override readonly name = 'ExitError';
  constructor(
    readonly actor: string,
    readonly reason: ExitReason,
  ) {
    super(`actor ${actor} exited: ${describeReason(reason)}`, reason instanceof Error ? { cause: reason } : {});
  }
}

/** A bounded mailbox with the `reject` or `drop-newest` policy refused a `call`'s request. */
export class MailboxFullError extends Error {
  override readonly name = 'MailboxFullError';
  constructor(readonly actor: string) {
    super(`the mailbox of ${actor} is full`);
  }
}

/** An actor's `init` threw or rejected; `cause` is what it threw. Seen by `start()`. */
export class InitError extends Error {
  override readonly name = 'InitError';
  constructor(actor: string, cause: unknown) {
    super(`actor ${actor} failed to initialise: ${describeReason(toError(cause))}`, { cause });
  }
}

/**
 * `spawn`/`start` with a `name` that another live actor holds. Use `system.register` (which answers
 * a taken name as a result) or `whereis` first when a taken name is expected.
 */
export class NameTakenError extends Error {
  override readonly name = 'NameTakenError';
  constructor(
    readonly key: unknown,
    readonly holder: { readonly id: number },
  ) {
    super(`the name ${JSON.stringify(key) ?? String(key)} is taken by Ref<${holder.id}>`);
  }
}

/** The system was shut down: it accepts no new actors. */
export class SystemShutdownError extends Error {
  override readonly name = 'SystemShutdownError';
  constructor() {
    super('the actor system has been shut down');
  }
}

/** Turns anything thrown into an Error, keeping the original as `cause`. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : `non-error thrown: ${safeString(thrown)}`, {
    cause: thrown,
  });
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
