/**
 * What belongs to a connection rather than to the actor that serves it, so that it survives that
 * actor's restarts: the user, the rooms it joined, its encoding, its rate-limit bucket.
 */
import type { SocketEvent } from '@troupe/uws';
import type { ClientRef } from './protocol.js';

type SocketMessage = Extract<SocketEvent, { type: 'socket.message' }>;

export interface Session {
  readonly user: string;
  /**
   * Rooms joined on this connection: none, one (its name: the usual case, and no array), or
   * several (an exact-size array, replaced on join and leave; a Set's table would cost more). Read
   * it with `inRoom`, `roomCount` and `roomList`.
   */
  rooms: string | readonly string[] | undefined;
  /** The client last sent MessagePack: answer in MessagePack. */
  binary: boolean;
  /** Token bucket. */
  tokens: number;
  refilledAt: number;
  /** Times of recent rate_limited answers, for the abuse limit (from the first one). */
  limitedAt: number[] | undefined;
  /** Closed for abuse (1008): frames still queued behind the decision are dropped, not counted. */
  abusive: boolean;
  welcomed: boolean;
  /** Clustered: frames that came before the welcome, handled once it is sent. */
  early: SocketMessage[] | undefined;
  /** Clustered: requests waiting for a room owner elsewhere, by the monitor of that owner. */
  waits: Map<number, ClientRef | undefined> | undefined;
  /** A slow-consumer check is due (survives a restart of the connection's actor). */
  slowCheck: boolean;
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
  return {
    user,
    rooms: undefined,
    binary: false,
    tokens: burst,
    refilledAt: now,
    limitedAt: undefined,
    abusive: false,
    welcomed: false,
    early: undefined,
    waits: undefined,
    slowCheck: false,
    answerBudget: ratio === 0 ? Number.POSITIVE_INFINITY : Math.min(cap, ratio * sentBytes),
  };
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
  const elapsed = now - s.refilledAt;
  if (elapsed > 0) {
    s.tokens = Math.min(burst, s.tokens + (elapsed * rate) / 1000);
    s.refilledAt = now;
  }
  if (s.tokens >= 1) {
    s.tokens -= 1;
    return 0;
  }
  return Math.max(1, Math.ceil(((1 - s.tokens) * 1000) / rate));
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
