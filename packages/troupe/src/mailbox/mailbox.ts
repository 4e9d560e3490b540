/**
 * The default mailbox: a FIFO of messages in two parts, a `first` slot and a `denque` made only
 * when a second message waits. Most actors hold one message at a time, or none, and then no queue
 * is ever allocated. The two fields live on the actor's own record (the `Mailbox` shape), not in an
 * object of their own: an idle actor costs one object, and the benchmark counts every word.
 *
 * `SystemMessage` marks what the runtime itself puts in a mailbox (EXIT and DOWN messages, a
 * supervisor's notices, hot upgrades): such messages pass a bounded mailbox's limit and are never
 * counted as dead letters.
 */
import Denque from 'denque';

/** The empty `first` slot (private to the runtime, so no message can be it). */
const NONE: unique symbol = Symbol('troupe.empty');
/** @internal `NONE` for other modules; this module reads its local binding (see flags.ts). */
export const EMPTY: typeof NONE = NONE;

/** @internal The mailbox's fields, on the record that owns them. */
export interface Mailbox {
  /** The oldest message, or NONE; older than everything in `queue`. */
  first: unknown;
  queue: Denque<unknown> | undefined;
}

/** @internal Base of the messages the runtime sends its own actors. */
export class SystemMessage {}

/** @internal Appends a message: into the `first` slot while no queue exists, else onto the queue. */
export function append(mb: Mailbox, msg: unknown): void {
  const q = mb.queue;
  if (q !== undefined) q.push(msg);
  else if (mb.first === NONE) mb.first = msg;
  else {
    const queue = new Denque<unknown>();
    queue.push(msg);
    mb.queue = queue;
  }
}

/** @internal Takes the oldest message, or returns NONE. */
export function take(mb: Mailbox): unknown {
  const f = mb.first;
  if (f !== NONE) {
    mb.first = NONE;
    return f;
  }
  const q = mb.queue;
  return q === undefined || q.length === 0 ? NONE : q.shift();
}

/** @internal Whether a message waits. */
export function hasMail(mb: Mailbox): boolean {
  return mb.first !== NONE || (mb.queue !== undefined && mb.queue.length > 0);
}

/** @internal Messages waiting. */
export function mailboxSize(mb: Mailbox): number {
  return (mb.first === NONE ? 0 : 1) + (mb.queue?.length ?? 0);
}

/** @internal Moves the `first` slot into the queue, for code that walks the whole mailbox. */
export function toQueue(mb: Mailbox): Denque<unknown> | undefined {
  const f = mb.first;
  if (f === NONE) return mb.queue;
  mb.first = NONE;
  let q = mb.queue;
  if (q === undefined) q = mb.queue = new Denque();
  q.unshift(f);
  return q;
}

/** @internal Empties the mailbox and returns what it held, oldest first (undefined if nothing). */
export function takeAll(mb: Mailbox): Denque<unknown> | undefined {
  const q = toQueue(mb);
  mb.queue = undefined;
  return q !== undefined && q.length > 0 ? q : undefined;
}

/** @internal Removes and returns the oldest message that is not a SystemMessage, or NONE. */
export function evictOldest(mb: Mailbox): unknown {
  const q = toQueue(mb);
  if (q === undefined) return NONE;
  for (let i = 0; i < q.length; i++) {
    const m = q.peekAt(i);
    if (m instanceof SystemMessage) continue;
    q.removeOne(i);
    return m;
  }
  return NONE;
}
