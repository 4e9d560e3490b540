/**
 * The chat wire protocol (`examples/chat/PROTOCOL.md`, version 1): the frames, their validation, and the
 * error codes. `parseClientFrame` turns anything a client sends into either a typed request or a
 * protocol error; it never throws, whatever the bytes.
 */
import { unpack } from 'msgpackr';

/** User and room names: 1 to 64 of `[A-Za-z0-9_.-]`. */
export const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export function isName(v: unknown): v is string {
  return typeof v === 'string' && NAME.test(v);
}

/** A client's optional correlation id, echoed in answers. */
export type ClientRef = string | number;

/** Where a client resumes a room from. */
export interface Since {
  readonly epoch: string;
  readonly id: number;
}

/** A validated client request. */
export type ClientFrame =
  | { readonly type: 'join'; readonly room: string; readonly since?: Since; readonly ref?: ClientRef }
  | { readonly type: 'leave'; readonly room: string; readonly ref?: ClientRef }
  | { readonly type: 'message'; readonly room: string; readonly content: string; readonly ref?: ClientRef }
  | { readonly type: 'dm'; readonly to: string; readonly content: string; readonly ref?: ClientRef }
  | { readonly type: 'who'; readonly room: string; readonly ref?: ClientRef }
  | { readonly type: 'ping'; readonly ref?: ClientRef }
  | { readonly type: 'inbox'; readonly since: Since; readonly ref?: ClientRef }
  /** `--test-faults` only: crash this connection's actor, or with `room` that room's (faults.ts). */
  | { readonly type: '_crash'; readonly room?: string; readonly ref?: ClientRef };

/** The error codes of PROTOCOL.md. */
export type ErrorCode =
  | 'bad_request'
  | 'not_member'
  | 'no_such_user'
  | 'too_many_rooms'
  | 'invalid_name'
  | 'rate_limited'
  | 'payload_too_large'
  | 'internal'
  | 'unavailable'
  | 'server_full';

/** What the parser found wrong. */
export interface ProtocolError {
  readonly code: ErrorCode;
  readonly reason: string;
  readonly ref?: ClientRef;
}

/** Frames the server sends. */
export type ServerFrame =
  | { type: 'welcome'; user: string; inbox: { epoch: string; id: number } }
  | {
      type: 'joined';
      room: string;
      ref?: ClientRef;
      members: number;
      epoch: string;
      id: number;
      recovered?: boolean;
    }
  | { type: 'left'; room: string; ref?: ClientRef }
  | { type: 'message'; room: string; from: string; content: string; ts: number; id: number }
  | { type: 'ack'; ref: ClientRef; id?: number }
  | { type: 'dm'; from: string; content: string; ts: number; id: number }
  | { type: 'inbox'; ref?: ClientRef; epoch: string; id: number; recovered: boolean }
  | { type: 'members'; room: string; ref?: ClientRef; users: string[]; more?: true }
  | { type: 'pong'; ref?: ClientRef }
  | { type: 'presence'; room: string; joins: string[]; leaves: string[] }
  | { type: 'gap'; room: string; from: number }
  | { type: 'gap'; inbox: true; from: number }
  | { type: 'error'; code: ErrorCode; reason: string; ref?: ClientRef; retry_ms?: number };

export type Parsed =
  | { readonly ok: true; readonly frame: ClientFrame }
  | { readonly ok: false; readonly error: ProtocolError };

const TYPES = new Set(['join', 'leave', 'message', 'dm', 'who', 'ping', 'inbox']);

/** A `since` field, validated; undefined if it is not `{ epoch: string, id: integer >= 0 }`. */
function sinceOf(v: unknown): Since | undefined {
  const s = v as Record<string, unknown> | null;
  if (
    s === null ||
    typeof s !== 'object' ||
    typeof s.epoch !== 'string' ||
    s.epoch.length > 64 ||
    typeof s.id !== 'number' ||
    !Number.isSafeInteger(s.id) ||
    s.id < 0
  ) {
    return undefined;
  }
  return { epoch: s.epoch, id: s.id };
}

function bad(reason: string, ref?: ClientRef): Parsed {
  return {
    ok: false,
    error: ref === undefined ? { code: 'bad_request', reason } : { code: 'bad_request', reason, ref },
  };
}

function invalidName(field: string, ref?: ClientRef): Parsed {
  const reason = `${field} must be 1 to 64 characters of A-Z a-z 0-9 _ . -`;
  return {
    ok: false,
    error: ref === undefined ? { code: 'invalid_name', reason } : { code: 'invalid_name', reason, ref },
  };
}

function isRef(v: unknown): v is ClientRef {
  return (typeof v === 'string' && v.length <= 128) || (typeof v === 'number' && Number.isFinite(v));
}

/**
 * The valid `ref` of a frame, for an answer given without validating the frame (`rate_limited`):
 * PROTOCOL.md echoes a ref on every answer.
 */
export function readRef(data: string | Uint8Array, isBinary: boolean): { ref?: ClientRef } {
  const d = decode(data, isBinary);
  if (!d.ok || d.value === null || typeof d.value !== 'object') return {};
  const ref = (d.value as { ref?: unknown }).ref;
  return isRef(ref) ? { ref } : {};
}

/** Decodes a frame's bytes: JSON for text, MessagePack for binary. */
export function decode(data: string | Uint8Array, isBinary: boolean): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: isBinary ? unpack(data as Uint8Array) : JSON.parse(data as string) };
  } catch {
    return { ok: false };
  }
}

/** Validates a decoded frame by PROTOCOL.md. `maxContent` is in bytes; `faults`: `_crash` is a type. */
export function validate(v: unknown, maxContent: number, faults = false): Parsed {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return bad('a frame must be an object');
  const o = v as Record<string, unknown>;
  let ref: ClientRef | undefined;
  if (o.ref !== undefined) {
    if (!isRef(o.ref)) return bad('ref must be a string of at most 128 characters or a finite number');
    ref = o.ref;
  }
  const type = o.type;
  if (faults && type === '_crash') {
    if (o.room === undefined) return { ok: true, frame: withRef({ type: '_crash' }, ref) };
    if (!isName(o.room)) return invalidName('room', ref);
    return { ok: true, frame: withRef({ type: '_crash', room: o.room }, ref) };
  }
  if (typeof type !== 'string' || !TYPES.has(type)) {
    return bad(`unknown type ${typeof type === 'string' ? JSON.stringify(type.slice(0, 32)) : typeof type}`, ref);
  }
  switch (type) {
    case 'ping':
      return { ok: true, frame: withRef({ type: 'ping' }, ref) };
    case 'join':
    case 'leave':
    case 'who': {
      if (typeof o.room !== 'string') return bad('room must be a string', ref);
      if (!isName(o.room)) return invalidName('room', ref);
      if (type !== 'join') return { ok: true, frame: withRef({ type, room: o.room }, ref) };
      if (o.since === undefined) return { ok: true, frame: withRef({ type: 'join', room: o.room }, ref) };
      const since = sinceOf(o.since);
      if (since === undefined) return bad('since must be { epoch: string, id: integer >= 0 }', ref);
      return { ok: true, frame: withRef({ type: 'join', room: o.room, since }, ref) };
    }
    case 'inbox': {
      const since = sinceOf(o.since);
      if (since === undefined) return bad('since must be { epoch: string, id: integer >= 0 }', ref);
      return { ok: true, frame: withRef({ type: 'inbox', since }, ref) };
    }
    case 'message': {
      if (typeof o.room !== 'string') return bad('room must be a string', ref);
      if (!isName(o.room)) return invalidName('room', ref);
      if (typeof o.content !== 'string') return bad('content must be a string', ref);
      const tooLarge = tooLong(o.content, maxContent, ref);
      if (tooLarge) return tooLarge;
      return { ok: true, frame: withRef({ type: 'message', room: o.room, content: o.content }, ref) };
    }
    case 'dm': {
      if (typeof o.to !== 'string') return bad('to must be a string', ref);
      if (!isName(o.to)) return invalidName('to', ref);
      if (typeof o.content !== 'string') return bad('content must be a string', ref);
      const tooLarge = tooLong(o.content, maxContent, ref);
      if (tooLarge) return tooLarge;
      return { ok: true, frame: withRef({ type: 'dm', to: o.to, content: o.content }, ref) };
    }
  }
  return bad('unknown type', ref);
}

/** Adds a client's ref, if any, to a frame or message just made (in place: no copy). */
export function withRef<T extends object>(frame: T, ref: ClientRef | undefined): T {
  if (ref !== undefined) (frame as { ref?: ClientRef }).ref = ref;
  return frame;
}

function tooLong(content: string, maxContent: number, ref: ClientRef | undefined): Parsed | undefined {
  // A UTF-16 length bounds the UTF-8 length from both sides: count bytes only when it matters.
  if (content.length * 3 <= maxContent) return undefined;
  if (content.length <= maxContent && Buffer.byteLength(content, 'utf8') <= maxContent) return undefined;
  const reason = `content is longer than ${maxContent} bytes`;
  return {
    ok: false,
    error: ref === undefined ? { code: 'payload_too_large', reason } : { code: 'payload_too_large', reason, ref },
  };
}

/** Decode and validate in one step. */
export function parseClientFrame(
  data: string | Uint8Array,
  isBinary: boolean,
  maxContent: number,
  faults = false,
): Parsed {
  const d = decode(data, isBinary);
  if (!d.ok) return bad(isBinary ? 'not MessagePack' : 'not JSON');
  return validate(d.value, maxContent, faults);
}

/** The `ref` of a frame that failed before validation, if one can be read safely. */
export function errorFrame(error: ProtocolError, retryMs?: number): ServerFrame {
  const f: ServerFrame = { type: 'error', code: error.code, reason: error.reason };
  if (error.ref !== undefined) f.ref = error.ref;
  if (retryMs !== undefined) f.retry_ms = retryMs;
  return f;
}
