/**
 * Error classes, one per condition. Each has a stable `name` so it can be matched without
 * `instanceof` (across package copies), and carries the facts a caller needs (`reason`,
 * `timeoutMs`, `cause`). Misuse of the API throws `TypeError`/`RangeError` with a teaching message
 * instead; these classes are for outcomes a correct program must be ready for. The one misuse with a
 * class of its own is `CallingSelfError`: it usually crashes the actor that made it, and its name in
 * that actor's exit reason says why, as OTP's `calling_self` does.
 *
 * The errors of a `call` name the call: `call { type: 'get' } to Ref<3 counter> timed out after
 * 5000 ms`, with the facts as fields (`actor`, `target`, `requestType`).
 */
import type { ExitReason } from './exit-reason.js';
import { describeReason } from './exit-reason.js';

/** Which call an error is about, as {@link TimeoutError}, {@link ExitError} and {@link CallingSelfError} say. */
export interface CallDetails {
  /** The target's ref as text: `Ref<3 counter>`. */
  readonly actor: string;
  /**
   * The target as the message names it: its name in the system registry (`'counter'`) if it had
   * one when it was called, else `actor`.
   */
  readonly target: string;
  /** The request's `type` field; `undefined` for a request without one. */
  readonly requestType: unknown;
}

/**
 * A `call` got no reply within its `timeoutMs` (or a `sendWait` found no room in time). A late reply
 * is dropped. For a call, the message names it: `call { type: 'get' } to Ref<3 counter> timed out
 * after 5000 ms`.
 */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  /** The target's ref as text (`Ref<3 counter>`); `undefined` for `sendWait`. */
  readonly actor: string | undefined;
  /** The target as the message names it (see {@link CallDetails}); `undefined` for `sendWait`. */
  readonly target: string | undefined;
  /** The request's `type`; `undefined` for `sendWait` or a request without one. */
  readonly requestType: unknown;
  constructor(
    readonly timeoutMs: number,
    what = 'call',
    call?: CallDetails,
  ) {
    super(`${call === undefined ? what : describeCall(call)} timed out after ${timeoutMs} ms`);
    this.actor = call?.actor;
    this.target = call?.target;
    this.requestType = call?.requestType;
  }
}

/**
 * The target of a `call` was dead, or died before it replied. `reason` is its exit reason (and the
 * `cause`, when it is an `Error`). The message names the call: `call { type: 'get' } to Ref<3
 * counter> failed: the actor exited: Error: boom`.
 */
export class ExitError extends Error {
  override readonly name = 'ExitError';
  /** The target as the message names it (see {@link CallDetails}); `actor` when no call is known. */
  readonly target: string;
  /** The request's `type`; `undefined` for a request without one, or when no call is known. */
  readonly requestType: unknown;
  constructor(
    readonly actor: string,
    readonly reason: ExitReason,
    call?: CallDetails,
  ) {
    super(
      call === undefined
        ? `actor ${actor} exited: ${describeReason(reason)}`
        : `${describeCall(call)} failed: the actor exited: ${describeReason(reason)}`,
      reason instanceof Error ? { cause: reason } : {},
    );
    this.target = call?.target ?? actor;
    this.requestType = call?.requestType;
  }
}

/**
 * An actor called itself from its own handler, `init` or `terminate` (OTP's `calling_self`). The
 * request would wait in the mailbox behind the very message being handled, so no reply could come
 * before the timeout: the call rejects at once instead. Awaited in the handler, it crashes the
 * actor with this error as the exit reason.
 */
export class CallingSelfError extends Error {
  override readonly name = 'CallingSelfError';
  /** The actor's ref as text (`Ref<3 counter>`). */
  readonly actor: string;
  /** The actor as the message names it (see {@link CallDetails}). */
  readonly target: string;
  /** The request's `type`; `undefined` for a request without one. */
  readonly requestType: unknown;
  constructor(call: CallDetails) {
    super(
      `${describeCall(call)}, made by that actor itself from its own handler: an actor cannot call itself ` +
        "(OTP's calling_self), because the request would wait in its mailbox behind the message being handled " +
        'and could only time out. Run the code directly, or ctx.self.send a message to handle after this one',
    );
    this.actor = call.actor;
    this.target = call.target;
    this.requestType = call.requestType;
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

/** `call { type: 'get' } to Ref<3 counter>`: a call, as its errors name it. */
function describeCall(call: CallDetails): string {
  const t = call.requestType;
  if (t === undefined) return `call to ${call.target}`;
  return `call { type: ${typeof t === 'string' ? quote(t) : safeString(t)} } to ${call.target}`;
}

/** @internal How a call's errors name a registered name: `'counter'`, `Key(counter)`, `["user",42]`. */
export function describeName(name: unknown): string {
  if (typeof name === 'string') return quote(name);
  if (
    typeof name === 'object' &&
    name !== null &&
    !Array.isArray(name) &&
    name.toString !== Object.prototype.toString
  ) {
    return String(name);
  }
  return safeString(name);
}

/** A string in single quotes, as the manual writes them; JSON when it has quotes or controls of its own. */
function quote(s: string): string {
  const short = s.length > 60 ? `${s.slice(0, 57)}...` : s;
  const json = JSON.stringify(short);
  return json === `"${short}"` && !short.includes("'") ? `'${short}'` : json;
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
