/**
 * The messages the runtime itself delivers (OTP's "info" messages): `EXIT` to an actor that traps
 * exits, `DOWN` to a monitoring actor. They arrive in the mailbox in order with ordinary messages but
 * go to the behaviour's `info` handler, never to `receive`, so a message union of your own never has
 * to mention them. `Reply<T>` is the one-shot answer handle that `call` puts in a request.
 */
import type { ExitReason } from '../exit-reason.js';
import { SystemMessage } from '../mailbox/mailbox.js';
import type { Ref } from './ref.js';

/** Identifies one monitor; pass it to `demonitor`. */
export type MonitorRef = number & { readonly __monitor: true };

/** An exit signal turned into a message, because the receiver traps exits. */
export interface ExitMessage {
  readonly type: 'EXIT';
  /** The linked actor that exited, or the one that called `exit(ref, reason)`. */
  readonly from: Ref<never>;
  readonly reason: ExitReason;
}

/** Sent once to the watcher when a monitored actor exits (`noproc` if it was already dead). */
export interface DownMessage {
  readonly type: 'DOWN';
  readonly monitor: MonitorRef;
  readonly actor: Ref<never>;
  readonly reason: ExitReason;
}

/** What a behaviour's `info` handler receives. */
export type InfoMessage = ExitMessage | DownMessage;

/** @internal */
export class ExitInfo extends SystemMessage implements ExitMessage {
  readonly type = 'EXIT' as const;
  constructor(
    readonly from: Ref<never>,
    readonly reason: ExitReason,
  ) {
    super();
  }
}

/** @internal */
export class DownInfo extends SystemMessage implements DownMessage {
  readonly type = 'DOWN' as const;
  constructor(
    readonly monitor: MonitorRef,
    readonly actor: Ref<never>,
    readonly reason: ExitReason,
  ) {
    super();
  }
}

declare const replyType: unique symbol;

/**
 * The reply handle of a request: call it once with the answer. Put `reply: Reply<T>` in a message
 * type and `call(ref, msg)` infers `Promise<T>`. Calling it again, or after the caller timed out, is
 * a no-op. It may be kept and called later (after an `await`, or from another message).
 */
export interface Reply<T> {
  (value: T): void;
  readonly [replyType]?: T;
}

/** The request shapes of a message union: members with a `reply`, without it. */
export type RequestOf<M> = M extends { reply: (value: never) => void } ? Omit<M, 'reply'> : never;

/** The reply type of the member of `M` whose `type` matches request `Q`. */
export type ReplyOf<M, Q> = M extends { type: infer K; reply: Reply<infer R> }
  ? Q extends { type: K }
    ? R
    : never
  : never;
