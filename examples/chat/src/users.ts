import type { Ref } from 'troupe';
import { type ClientRef, withRef } from './protocol.js';
import type { ConnMsg } from './world.js';

/**
 * A room's users and how many connections (or relays) hold each, with their names in order for
 * `who` once one asks: the sorted list is made at the first `who` and kept in order from then on
 * (a binary search and a splice per user who comes or goes), so a `who` costs the names it answers,
 * not a sort of the whole room. Rooms nobody asks `who` of never hold it.
 */
export class UserCounts {
  readonly #counts = new Map<string, number>();
  #sorted: string[] | undefined;

  /** Distinct users. */
  get size(): number {
    return this.#counts.size;
  }

  has(user: string): boolean {
    return this.#counts.has(user);
  }

  keys(): IterableIterator<string> {
    return this.#counts.keys();
  }

  /** One more holder of `user`; true if it is the first. */
  add(user: string): boolean {
    const n = (this.#counts.get(user) ?? 0) + 1;
    this.#counts.set(user, n);
    if (n === 1 && this.#sorted !== undefined) this.#sorted.splice(place(this.#sorted, user), 0, user);
    return n === 1;
  }

  /** One fewer holder of `user`; true if that was the last (the user is gone). */
  remove(user: string): boolean {
    const n = (this.#counts.get(user) ?? 1) - 1;
    if (n > 0) {
      this.#counts.set(user, n);
      return false;
    }
    return this.delete(user);
  }

  /** Sets how many hold `user` (0: gone); true if the user was here and is not any more. */
  set(user: string, n: number): boolean {
    if (n <= 0) return this.delete(user);
    if (!this.#counts.has(user) && this.#sorted !== undefined) this.#sorted.splice(place(this.#sorted, user), 0, user);
    this.#counts.set(user, n);
    return false;
  }

  /** Takes `user` out whatever its count; true if it was here. */
  delete(user: string): boolean {
    if (!this.#counts.delete(user)) return false;
    const sorted = this.#sorted;
    if (sorted !== undefined) {
      const i = place(sorted, user);
      if (sorted[i] === user) sorted.splice(i, 1);
    }
    return true;
  }

  clear(): void {
    this.#counts.clear();
    this.#sorted = undefined;
  }

  /** The users' names in code-unit order (`Array.prototype.sort`'s), kept from now on. Read, never change, it. */
  sorted(): readonly string[] {
    this.#sorted ??= [...this.#counts.keys()].sort();
    return this.#sorted;
  }
}

/** Where `user` is, or goes, in `sorted` (the first index whose name is not below it). */
function place(sorted: readonly string[], user: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < user) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The most names a `who` answers with (PROTOCOL.md): a bounded answer to a tiny request. */
export const WHO_LIMIT = 1_000;

/** A `members` frame (before its `ref`). */
export interface MembersFrame {
  readonly type: 'members';
  readonly room: string;
  readonly users: string[];
  readonly more?: true;
}

/**
 * The first names of `sorted` that a `members` frame of `room` can carry within `budget` bytes, at
 * most WHO_LIMIT of them (`more` when some are left out), and the frame's bytes.
 */
export function namesWithin(room: string, sorted: readonly string[], budget: number): [MembersFrame, number] {
  let n = 0;
  // The frame itself: its type, room, ref and more, and its WebSocket header.
  let bytes = 64 + room.length;
  const max = Math.min(sorted.length, WHO_LIMIT);
  while (n < max) {
    // A name costs its quotes and comma too.
    const cost = (sorted[n] as string).length + 3;
    if (bytes + cost > budget) break;
    bytes += cost;
    n++;
  }
  const users = sorted.slice(0, n);
  return [n < sorted.length ? { type: 'members', room, users, more: true } : { type: 'members', room, users }, bytes];
}

/**
 * A connection's `who`, to the room (clustered: its owner): the names within `budget` bytes (the
 * asker's answer budget) go back to `conn` as a `frame` with `token`.
 */
export interface WhoRequest {
  readonly type: 'who';
  readonly conn: Ref<ConnMsg>;
  readonly token: number;
  readonly budget: number;
  readonly ref?: ClientRef;
}

/** A room's (or owner's) answer to a `who`: the names the asker's budget pays for, in order, to its connection. */
export function whoAnswer(room: string, users: UserCounts, msg: WhoRequest): void {
  const [frame] = namesWithin(room, users.sorted(), msg.budget);
  msg.conn.send({ type: 'frame', frame: withRef(frame, msg.ref), token: msg.token });
}
