/**
 * The load generator's side of examples/chat/PROTOCOL.md: the client frames it sends (JSON text or MessagePack
 * binary), the `content` it sends (the load-test convention: the monotonic send time in ns, a space,
 * then padding; the padding starts with a tag `<kind><sender>.<seq> ` so receivers can check DMs
 * and probes), and a decoder for server frames with a fast path for the two that make up the load.
 *
 * The fast path reads a JSON `message` or `dm` frame without JSON.parse and without making a string:
 * it checks the `{"type":"message"` prefix, finds `"content":"` with a short scan, reads the
 * tag and checks that the content is exactly `payloadBytes` long (our content never needs escaping),
 * and for messages reads the `"id":N}` at the end. Anything else (other frames, another key order,
 * MessagePack) goes through the slow path: JSON.parse or msgpackr's unpack and the same checks.
 */
import { Packr, unpack } from 'msgpackr';

/** What a content tag says the message was. */
export const TAG_ROOM = 0x72; // 'r': a room message of the load
export const TAG_DM = 0x64; // 'd': a DM of the load
export const TAG_PROBE = 0x70; // 'p': a room message sent right after a crash (recovery)

/** Frame kinds the decoder tells apart. */
export const KIND_OTHER = 0;
export const KIND_MESSAGE = 1;
export const KIND_DM = 2;

export type Encoding = 'json' | 'msgpack';

const packr = new Packr({ useRecords: false });
const PAD = 'x'.repeat(64 * 1024);

/** `content` of `bytes` bytes: `<sendNs> <tag><sender>.<seq> xxxx...`. */
export function makeContent(sendNs: bigint, tag: number, sender: number, seq: number, bytes: number): string {
  const head = `${sendNs} ${String.fromCharCode(tag)}${sender}.${seq} `;
  return bytes > head.length ? head + PAD.slice(0, bytes - head.length) : head;
}

/** A client frame, encoded for the wire. */
export type ClientPayload = string | Uint8Array;

function encode(frame: Record<string, unknown>, encoding: Encoding): ClientPayload {
  return encoding === 'json' ? JSON.stringify(frame) : packr.pack(frame);
}

export function joinFrame(
  room: string,
  ref: number,
  encoding: Encoding,
  since?: { epoch: string; id: number },
): ClientPayload {
  return encode(since === undefined ? { type: 'join', room, ref } : { type: 'join', room, since, ref }, encoding);
}

export function messageFrame(room: string, content: string, ref: number, encoding: Encoding): ClientPayload {
  if (encoding === 'json') return `{"type":"message","room":"${room}","content":"${content}","ref":${ref}}`;
  return packr.pack({ type: 'message', room, content, ref });
}

/** The chat's `--test-faults` crash: of the sender's own socket actor, or with `room` of that room's. */
export function crashFrame(room: string | undefined, encoding: Encoding): ClientPayload {
  if (encoding === 'json') return room === undefined ? '{"type":"_crash"}' : `{"type":"_crash","room":"${room}"}`;
  return packr.pack(room === undefined ? { type: '_crash' } : { type: '_crash', room });
}

export function dmFrame(to: string, content: string, ref: number, encoding: Encoding): ClientPayload {
  if (encoding === 'json') return `{"type":"dm","to":"${to}","content":"${content}","ref":${ref}}`;
  return packr.pack({ type: 'dm', to, content, ref });
}

/**
 * What the decoder found in one server frame. One scratch instance is reused for every frame: read
 * it before decoding the next.
 */
export interface Decoded {
  kind: number;
  /** `id` of a message frame (-1 when absent or not an integer). */
  id: number;
  /** From the content tag; `tag` is 0 when the content does not follow the convention. */
  sendNs: number;
  tag: number;
  sender: number;
  seq: number;
  /** The content is exactly the expected length. */
  contentOk: boolean;
  /** The parsed frame, for the slow path and frames other than message and dm. */
  frame: Record<string, unknown> | undefined;
}

export function newDecoded(): Decoded {
  return { kind: KIND_OTHER, id: -1, sendNs: 0, tag: 0, sender: -1, seq: -1, contentOk: false, frame: undefined };
}

const TYPE_PREFIX = Buffer.from('{"type":"');
const MESSAGE_REST = Buffer.from('message"');
const DM_REST = Buffer.from('dm"');
const CONTENT_KEY = Buffer.from('"content":"');
const ID_KEY = Buffer.from('"id":');

function matchAt(buf: Buffer, at: number, end: number, needle: Buffer): boolean {
  if (at + needle.length > end) return false;
  for (let i = 0; i < needle.length; i++) if (buf[at + i] !== needle[i]) return false;
  return true;
}

/** Reads decimal digits at buf[at..end): the value and where they stop (-1 digits if none). */
let digitsEnd = 0;
function readDigits(buf: Buffer, at: number, end: number): number {
  let i = at;
  let v = 0;
  while (i < end) {
    const c = buf[i] as number;
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + (c - 0x30);
    i++;
  }
  digitsEnd = i;
  return i === at ? -1 : v;
}

/** Reads `<digits> <tag><digits>.<digits>` at buf[at]; fills d; false if it is not there. */
function readTag(buf: Buffer, at: number, end: number, d: Decoded): boolean {
  const ns = readDigits(buf, at, end);
  let i = digitsEnd;
  if (ns < 0 || i + 2 >= end || buf[i] !== 0x20) return false;
  const tag = buf[i + 1] as number;
  const sender = readDigits(buf, i + 2, end);
  i = digitsEnd;
  if (sender < 0 || buf[i] !== 0x2e) return false;
  const seq = readDigits(buf, i + 1, end);
  if (seq < 0) return false;
  d.sendNs = ns;
  d.tag = tag;
  d.sender = sender;
  d.seq = seq;
  return true;
}

/** The same, from a content string (slow path). */
function readTagString(content: string, d: Decoded): void {
  const m = /^(\d+) ([a-z])(\d+)\.(\d+)/.exec(content);
  if (m === null) return;
  d.sendNs = Number(m[1]);
  d.tag = (m[2] as string).charCodeAt(0);
  d.sender = Number(m[3]);
  d.seq = Number(m[4]);
}

function reset(d: Decoded): void {
  d.kind = KIND_OTHER;
  d.id = -1;
  d.sendNs = 0;
  d.tag = 0;
  d.sender = -1;
  d.seq = -1;
  d.contentOk = false;
  d.frame = undefined;
}

/**
 * Decodes a server frame (payload bytes [start, end) of buf) into `d`. `payloadBytes` is the
 * content length the load sends. Returns false when the frame is not valid JSON/MessagePack or not
 * an object.
 */
export function decodeServerFrame(
  buf: Buffer,
  start: number,
  end: number,
  binary: boolean,
  payloadBytes: number,
  d: Decoded,
): boolean {
  reset(d);
  if (!binary && matchAt(buf, start, end, TYPE_PREFIX)) {
    const t = start + TYPE_PREFIX.length;
    const kind = matchAt(buf, t, end, MESSAGE_REST) ? KIND_MESSAGE : matchAt(buf, t, end, DM_REST) ? KIND_DM : 0;
    if (kind !== 0 && fastPath(buf, t, end, kind, payloadBytes, d)) return true;
    reset(d);
  }
  let frame: unknown;
  try {
    frame = binary ? unpack(buf.subarray(start, end)) : JSON.parse(buf.toString('utf8', start, end));
  } catch {
    return false;
  }
  if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) return false;
  const f = frame as Record<string, unknown>;
  d.frame = f;
  if (f.type === 'message' || f.type === 'dm') {
    d.kind = f.type === 'message' ? KIND_MESSAGE : KIND_DM;
    if (typeof f.content === 'string') {
      readTagString(f.content, d);
      d.contentOk = Buffer.byteLength(f.content) === payloadBytes;
    }
    if (d.kind === KIND_MESSAGE) d.id = Number.isSafeInteger(f.id) ? (f.id as number) : -1;
  }
  return true;
}

/** Where `"content":"` starts at or after `from`, or -1; a JS scan (the key is within ~60 bytes). */
function findContent(buf: Buffer, from: number, end: number): number {
  const last = end - CONTENT_KEY.length;
  for (let i = from; i <= last; i++) {
    // `"c` then the rest: names cannot contain quotes, so the first `"c` after the type is the key.
    if (buf[i] === 0x22 && buf[i + 1] === 0x63 && matchAt(buf, i, end, CONTENT_KEY)) return i;
  }
  return -1;
}

function fastPath(buf: Buffer, t: number, end: number, kind: number, payloadBytes: number, d: Decoded): boolean {
  const at = findContent(buf, t, end);
  if (at === -1) return false;
  const c = at + CONTENT_KEY.length;
  if (!readTag(buf, c, end, d)) return false;
  // Our content is ASCII without quotes or backslashes: it ends exactly payloadBytes later.
  d.contentOk = c + payloadBytes < end && buf[c + payloadBytes] === 0x22;
  d.kind = kind;
  if (kind === KIND_MESSAGE) {
    // `...,"id":58}`: read the digits backwards from the closing brace.
    let i = end - 1;
    if (buf[i] !== 0x7d) return false;
    let id = 0;
    let mul = 1;
    for (i--; i > c; i--) {
      const digit = (buf[i] as number) - 0x30;
      if (digit < 0 || digit > 9) break;
      id += digit * mul;
      mul *= 10;
    }
    if (mul === 1 || !matchAt(buf, i - ID_KEY.length + 1, end, ID_KEY)) return false;
    d.id = id;
  }
  return true;
}
