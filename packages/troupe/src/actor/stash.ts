/**
 * Stash, as Akka's: an actor that is not ready for some messages yet (it waits for a connection, a
 * lock, a reply) puts them aside with `ctx.stash(msg)` and takes more mail; `ctx.unstashAll()` puts
 * every stashed message back at the front of the mailbox, in the order they were stashed, ahead of
 * the mail that came meanwhile (a stashed EXIT or DOWN message goes to `info` again). The stash is bounded (default 10,000 messages): a stash past its
 * capacity throws, which crashes the actor, as Akka's `StashOverflowException`. Across a restart in
 * place the stash goes back into the mailbox (when the child keeps its mailbox) or to dead letters;
 * when the actor dies it goes to dead letters.
 */
import Denque from 'denque';
import { toQueue } from '../mailbox/mailbox.js';
import type { Cell } from './cell.js';
import { F_INFO } from './flags.js';
import { DownInfo, ExitInfo } from './messages.js';

/** How many messages a stash holds by default. */
export const DEFAULT_STASH_CAPACITY = 10_000;

/** @internal Puts `msg` aside. Throws a RangeError past the stash's capacity. */
export function stash(cell: Cell, msg: unknown, capacity: number = DEFAULT_STASH_CAPACITY): void {
  const ext = cell.ensureExt();
  let s = ext.stash;
  if (s === undefined) s = ext.stash = [];
  if (s.length >= capacity) {
    throw new RangeError(
      `ctx.stash: the stash of ${cell.toString()} is full (${capacity} messages); unstash before stashing more`,
    );
  }
  s.push(msg);
}

/** @internal Puts every stashed message back at the front of the mailbox, oldest first; returns how many. */
export function unstashAll(cell: Cell): number {
  const s = cell.ext?.stash;
  if (s === undefined || s.length === 0) return 0;
  (cell.ext as NonNullable<Cell['ext']>).stash = undefined;
  prepend(cell, s);
  cell.wake();
  return s.length;
}

/** @internal Takes the stash away (a restart or a death decides where it goes). */
export function takeStash(cell: Cell): unknown[] | undefined {
  const s = cell.ext?.stash;
  if (s === undefined || s.length === 0) return undefined;
  (cell.ext as NonNullable<Cell['ext']>).stash = undefined;
  return s;
}

/**
 * @internal Puts messages at the front of an actor's mailbox, keeping their order. A stashed EXIT
 * or DOWN message is counted in again as info, so that it goes to `info` again, not `receive`.
 */
export function prepend(cell: Cell, msgs: readonly unknown[]): void {
  let q = toQueue(cell);
  if (q === undefined) q = cell.queue = new Denque();
  let infos = 0;
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i];
    if (m instanceof ExitInfo || m instanceof DownInfo) infos++;
    q.unshift(m);
  }
  if (infos > 0) {
    const ext = cell.ensureExt();
    ext.infoCount = (ext.infoCount ?? 0) + infos;
    cell.flags |= F_INFO;
  }
}
