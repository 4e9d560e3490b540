/**
 * What belongs to a connection rather than to the actor that serves it, so that it survives that
 * actor's restarts: the user, the rooms it joined, its encoding, its rate-limit bucket.
 */
import type { SocketEvent } from '@troupe/uws';
import type { ClientRef } from './protocol.js';

type SocketMessage = Extract<SocketEvent, { type: 'socket.message' }>;

const BINARY = 1;
const ABUSIVE = 2;
const WELCOMED = 4;
const SLOW_CHECK = 8;

/** What few connections ever need (made the first time one is set): a rate-limit record, held frames, waits. */
class SessionRare {
  limitedAt: number[] | undefined = undefined;
  early: SocketMessage[] | undefined = undefined;
  waits: Map<number, ClientRef | undefined> | undefined = undefined;
}

/**
 * A connection's session. One per connection, so it is kept small: the yes/no facts in one number,
 * the token bucket in integers (no boxed doubles), and what few connections need in a part made
 * when first set.
 */
export class Session {
  readonly user: string;
  /**
   * Rooms joined on this connection: none, one (its name: the usual case, and no array), or
   * several (an exact-size array, replaced on join and leave; a Set's table would cost more). Read
   * it with `inRoom`, `roomCount` and `roomList`.
   */
  rooms: string | readonly string[] | undefined = undefined;
  /** Token bucket, in thousandths of a token (`takeToken`). */
  milliTokens: number;
  /** When the bucket was last refilled, in whole milliseconds of the system clock. */
  refilledAt: number;
  /**
   * Bytes of answers to its own requests (replays after `since`, `who` names) this connection may
   * still be sent: `--answer-ratio` per byte it sent, the upgrade request included, banked up to the
   * soft limit. What does not fit is a `gap` (resume from there) or `more: true` (PROTOCOL.md). So
   * no request makes the server send more than that many times what the client sent, whatever it
   * repeats (a `join` + `since` on a full room, a `who` in a big room, reconnect and resume again).
   * Room messages, presence and DMs from others are the fan-out a member asked for by joining, and
   * are not counted here.
   */
  answerBudget: number;
  /**
   * The epoch (`newEpochNumber`) of the user's DM inbox while it has none yet, as this connection
   * was welcomed with it; 0 before the welcome. The user's other connections share it (inbox.ts),
   * so it costs a number here and no entry per user elsewhere.
   */
  inboxEpoch = 0;
  #flags = 0;
  #rare: SessionRare | undefined = undefined;

  constructor(user: string, burst: number, now: number, answerBudget: number) {
    this.user = user;
    this.milliTokens = burst * 1000;
    this.refilledAt = Math.floor(now);
    this.answerBudget = answerBudget;
  }

  /** The client last sent MessagePack: answer in MessagePack. */
  get binary(): boolean {
    return (this.#flags & BINARY) !== 0;
  }
  set binary(on: boolean) {
    this.setBit(BINARY, on);
  }
  /** Closed for abuse (1008): frames still queued behind the decision are dropped, not counted. */
  get abusive(): boolean {
    return (this.#flags & ABUSIVE) !== 0;
  }
  set abusive(on: boolean) {
    this.setBit(ABUSIVE, on);
  }
  get welcomed(): boolean {
    return (this.#flags & WELCOMED) !== 0;
  }
  set welcomed(on: boolean) {
    this.setBit(WELCOMED, on);
  }
  /** A slow-consumer check is due (survives a restart of the connection's actor). */
  get slowCheck(): boolean {
    return (this.#flags & SLOW_CHECK) !== 0;
  }
  set slowCheck(on: boolean) {
    this.setBit(SLOW_CHECK, on);
  }
  /** Times of recent rate_limited answers, for the abuse limit (from the first one). */
  get limitedAt(): number[] | undefined {
    return this.#rare?.limitedAt;
  }
  set limitedAt(v: number[] | undefined) {
    if (v !== undefined || this.#rare !== undefined) this.rareNow().limitedAt = v;
  }
  /** Clustered: frames that came before the welcome, handled once it is sent. */
  get early(): SocketMessage[] | undefined {
    return this.#rare?.early;
  }
  set early(v: SocketMessage[] | undefined) {
    if (v !== undefined || this.#rare !== undefined) this.rareNow().early = v;
  }
  /** Clustered: requests waiting for a room owner elsewhere, by the monitor of that owner. */
  get waits(): Map<number, ClientRef | undefined> | undefined {
    return this.#rare?.waits;
  }
  set waits(v: Map<number, ClientRef | undefined> | undefined) {
    if (v !== undefined || this.#rare !== undefined) this.rareNow().waits = v;
  }

  // TypeScript's `private` methods, not `#` ones: a class with `#` methods keeps a brand in every
  // instance (8 bytes, and there is a session per connection).
  private setBit(bit: number, on: boolean): void {
    this.#flags = on ? this.#flags | bit : this.#flags & ~bit;
  }

  private rareNow(): SessionRare {
    let r = this.#rare;
    if (r === undefined) r = this.#rare = new SessionRare();
    return r;
  }
}

/** Credits the connection's answer budget for `bytes` it sent (`ratio` each), up to `cap`. */
export function earnAnswers(s: Session, bytes: number, ratio: number, cap: number): void {
  if (ratio === 0) return;
  s.answerBudget = Math.min(cap, s.answerBudget + ratio * bytes);
}

/**
 * A connection's session. Its answer budget starts at `ratio` per byte of its upgrade request
 * (`sentBytes`), at most `cap`; `ratio` 0 is no limit (the default).
 */
export function newSession(user: string, burst: number, now: number, sentBytes = 0, cap = 0, ratio = 0): Session {
  return new Session(user, burst, now, ratio === 0 ? Number.POSITIVE_INFINITY : Math.min(cap, ratio * sentBytes));
}

/** Whether the connection has joined `room`. */
export function inRoom(s: Session, room: string): boolean {
  const r = s.rooms;
  return r === room || (typeof r === 'object' && r.includes(room));
}

/** How many rooms the connection has joined. */
export function roomCount(s: Session): number {
  const r = s.rooms;
  return r === undefined ? 0 : typeof r === 'string' ? 1 : r.length;
}

/** The rooms the connection has joined, in the order it joined them. */
export function roomList(s: Session): readonly string[] {
  const r = s.rooms;
  return r === undefined ? [] : typeof r === 'string' ? [r] : r;
}

/** Adds `room` to the connection's rooms (a no-op if it is in already). */
export function addRoom(s: Session, room: string): void {
  const r = s.rooms;
  if (r === undefined) s.rooms = room;
  else if (inRoom(s, room)) return;
  // concat sizes the copy exactly; a spread or filter would reserve 17 slots.
  else s.rooms = typeof r === 'string' ? [r, room] : r.concat(room);
}

/** Removes `room` from the connection's rooms; false if it was not in. */
export function removeRoom(s: Session, room: string): boolean {
  const r = s.rooms;
  if (r === room) {
    s.rooms = undefined;
    return true;
  }
  if (typeof r !== 'object') return false;
  const i = r.indexOf(room);
  if (i === -1) return false;
  const rest = r.slice();
  rest.splice(i, 1);
  s.rooms = rest.length === 1 ? rest[0] : rest;
  return true;
}

/**
 * Takes one token. Returns 0 when the frame may pass, else the milliseconds until a token is back.
 */
export function takeToken(s: Session, now: number, rate: number, burst: number): number {
  // Whole milliseconds and thousandths of a token: integers for a whole `rate` (as the command line
  // takes it), which V8 keeps unboxed; a fractional rate keeps its fractions (nothing is lost).
  const ms = Math.floor(now);
  const elapsed = ms - s.refilledAt;
  if (elapsed > 0) {
    s.milliTokens = Math.min(burst * 1000, s.milliTokens + elapsed * rate);
    s.refilledAt = ms;
  }
  if (s.milliTokens >= 1000) {
    s.milliTokens -= 1000;
    return 0;
  }
  return Math.max(1, Math.ceil((1000 - s.milliTokens) / rate));
}

/** Records a rate_limited answer; `true` when there were more than `limit` within `windowMs`: abuse. */
export function recordLimited(s: Session, now: number, limit: number, windowMs: number): boolean {
  s.limitedAt ??= [];
  const times = s.limitedAt;
  times.push(now);
  while (times.length > 0 && now - (times[0] as number) > windowMs) times.shift();
  if (times.length > limit + 1) times.splice(0, times.length - limit - 1);
  return times.length > limit;
}
